"""bridge.to_torch / bridge.unroll: the exported modules compute what boltz computes.

Every test fits a small boltz model (seeded, a few epochs at a learning rate that
moves the weights well away from their initial values) and compares boltz's own
output with the exported module's on the same inputs.  "Power" checks make sure
each term of the computation matters at the tolerance used (a module that drops
it would fail).  Measured differences are printed (``pytest -rP``) and quoted in
docs/bridge.md.
"""

from __future__ import annotations

import copy
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp

torch = pytest.importorskip("torch")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import boltz  # noqa: E402
import bridge  # noqa: E402
from boltz.dbn import DBN  # noqa: E402
from boltz.errors import ConfigError, DataError, DataTypeError, NotFittedError  # noqa: E402
from boltz.layer import down_pass  # noqa: E402
from boltz.multimodal import MultimodalDBN  # noqa: E402
from bridge.export import (  # noqa: E402
    DBNEncoder,
    RBMLayer,
    UnrolledAutoencoder,
    as_tensor,
    rbm_layer,
    resolve_dtype,
    to_torch,
    unroll,
)
from bridge.multimodal_export import JointLayer, MultimodalEncoder  # noqa: E402

TOL32 = 1e-5  # fp32: the bound
TOL64 = 1e-12  # fp64 model exported in fp64
POWER = 1e-3  # a dropped term must move the output at least this much

N = 160


def report(what: str, diff: float, kind: str = "max |diff|") -> None:
    print(f"{kind} {what}: {diff:.3g}")


def maxdiff(a, b) -> float:
    a = a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)
    return float(np.max(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, np.float64))))


# ----------------------------------------------------------------------------- data


@pytest.fixture(scope="module")
def data():
    """Three views of the same N items (3 clusters): binary, real-valued, word counts."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, N)
    protos = rng.random((3, 12)) > 0.5
    flips = rng.random((N, 12)) < 0.1
    Xb = (protos[labels] ^ flips).astype(np.float32)
    centers = rng.normal(size=(3, 10)) * 2.0
    scale = np.linspace(0.5, 5.0, 10)
    Xg = ((centers[labels] + 0.5 * rng.normal(size=(N, 10))) * scale + 10.0).astype(np.float32)
    topics = rng.dirichlet(np.full(20, 0.3), size=3)
    lengths = rng.integers(1, 60, N)
    lengths[0] = 0  # an empty document
    Xc = np.stack([rng.multinomial(d, topics[c]) for d, c in zip(lengths, labels)])
    return {"bernoulli": Xb, "gaussian": Xg, "counts": Xc.astype(np.float32)}


KW = dict(progress=False, monitor_size=0, random_state=0)


# kind -> (the bottom RBM's parameters, the data view it is fitted to)
VISIBLE = {
    "bernoulli": (dict(visible="bernoulli", learning_rate=0.1), "bernoulli"),
    "gaussian": (dict(visible="gaussian", learning_rate=0.01), "gaussian"),
    "gaussian_sigma": (
        dict(visible="gaussian", learn_sigma=True, learning_rate=0.01),
        "gaussian",
    ),
    "softmax": (dict(visible="softmax", learning_rate=0.01), "counts"),
}


def fit_rbm(kind: str, data, dtype: str = "float32", **kw):
    params, key = VISIBLE[kind]
    rbm = boltz.RBM(8, epochs=15, dtype=dtype, **params, **KW, **kw)
    return rbm.fit(data[key]), data[key]


def fit_dbn(kind: str, data, dtype: str = "float32"):
    params, key = VISIBLE[kind]
    # 3 updates per epoch on 160 rows: 50 epochs so that the upper layer learns
    kw = dict(progress=False, monitor_size=0, epochs=50, dtype=dtype)
    layers = [boltz.RBM(10, **params, **kw), boltz.RBM(6, learning_rate=0.1, **kw)]
    return DBN(layers, random_state=0).fit(data[key]), data[key]


UNITS = ["bernoulli", "gaussian", "gaussian_sigma", "softmax"]


@pytest.fixture(scope="module")
def rbms(data):
    return {k: fit_rbm(k, data) for k in UNITS}


@pytest.fixture(scope="module")
def dbns(data):
    return {k: fit_dbn(k, data) for k in UNITS}


# ----------------------------------------------------------------------------- RBM


@pytest.mark.parametrize("kind", UNITS)
def test_rbm_forward_equals_transform(rbms, kind):
    rbm, X = rbms[kind]
    m = to_torch(rbm)
    assert isinstance(m, RBMLayer) and m.unit == rbm.unit_.name
    with torch.no_grad():
        out = m(torch.as_tensor(X))
    assert out.dtype == torch.float32 and out.shape == (N, 8)
    d = maxdiff(out, rbm.transform(X))
    report(f"RBM {kind} fp32", d)
    assert d <= TOL32


def _without(layer: RBMLayer, what: str) -> RBMLayer:
    """A copy of ``layer`` that leaves out one term of the computation."""
    w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    mean = None if layer.input_mean is None else layer.input_mean.numpy()
    scale = None if layer.input_scale is None else layer.input_scale.numpy()
    ls = None if layer.log_sigma is None else layer.log_sigma.detach().numpy()
    unit = layer.unit
    if what == "length":
        unit = "bernoulli"  # hidden bias not multiplied by the document length
    elif what == "standardisation":
        mean, scale = None, None
    elif what == "sigma":
        ls = None
    return RBMLayer(w, b, unit=unit, mean=mean, scale=scale, log_sigma=ls)


@pytest.mark.parametrize(
    "kind, term",
    [("softmax", "length"), ("gaussian", "standardisation"), ("gaussian_sigma", "sigma")],
)
def test_each_unit_term_matters(rbms, kind, term):
    # the comparison above would catch an exporter that forgot this term
    rbm, X = rbms[kind]
    with torch.no_grad():
        wrong = _without(to_torch(rbm), term)(torch.as_tensor(X))
    d = maxdiff(wrong, rbm.transform(X))
    report(f"RBM {kind} without {term} (power)", d)
    assert d > POWER


def test_learned_sigma_is_learned(rbms):
    rbm, _ = rbms["gaussian_sigma"]
    m = to_torch(rbm)
    assert np.ptp(m.log_sigma.detach().numpy()) > 0.05  # not all at the initial 0
    np.testing.assert_allclose(np.exp(m.log_sigma.detach().numpy()), rbm.sigma_, rtol=1e-6)


@pytest.mark.filterwarnings("ignore:Sparse CSR tensor support is in beta")
def test_softmax_csr_input(data):
    X = sp.csr_matrix(data["counts"])
    rbm = boltz.RBM(8, "softmax", epochs=15, learning_rate=0.01, **KW).fit(X)
    ref = rbm.transform(X)
    m = to_torch(rbm)
    sparse = as_tensor(X)
    assert sparse.layout == torch.sparse_coo
    with torch.no_grad():
        outs = {
            "dense": m(torch.as_tensor(X.toarray())),
            "coo": m(sparse),
            "csr": m(sparse.to_sparse_csr()),
            "int64": m(torch.as_tensor(X.toarray().astype(np.int64))),
        }
    for name, out in outs.items():
        d = maxdiff(out, ref)
        report(f"RBM softmax CSR->{name}", d)
        assert d <= TOL32, name
    # gradients flow through the sparse product too
    m(sparse).sum().backward()
    assert m.weight.grad is not None and m.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("kind", UNITS)
def test_rbm_float64(data, kind):
    rbm, X = fit_rbm(kind, data, dtype="float64")
    m = to_torch(rbm, dtype=torch.float64)
    assert m.weight.dtype == torch.float64
    with torch.no_grad():
        out = m(torch.as_tensor(X, dtype=torch.float64))
    assert out.dtype == torch.float64
    d = maxdiff(out, rbm.transform(X))
    report(f"RBM {kind} fp64", d)
    assert d <= TOL64


def test_dtype_argument(rbms):
    rbm, X = rbms["gaussian"]
    m = to_torch(rbm, dtype="float64")
    assert all(t.dtype == torch.float64 for t in m.state_dict().values())
    with torch.no_grad():
        out = m(torch.as_tensor(X))  # float32 input is cast to the module's dtype
    assert out.dtype == torch.float64
    assert maxdiff(out, rbm.transform(X)) <= TOL32  # boltz computed in float32
    for bad in (torch.float16, "float16", np.float32, "double"):
        with pytest.raises(ConfigError, match="dtype"):
            to_torch(rbm, dtype=bad)
    assert resolve_dtype("float32") is torch.float32


def test_errors(rbms, data):
    with pytest.raises(TypeError, match="to_torch expects"):
        to_torch(object())
    with pytest.raises(NotFittedError):
        to_torch(boltz.RBM(4))
    with pytest.raises(NotFittedError):
        to_torch(DBN([boltz.RBM(4)]))
    with pytest.raises(NotFittedError):
        unroll(DBN([boltz.RBM(4)]))
    with pytest.raises(TypeError, match="DBN"):
        unroll(rbms["bernoulli"][0])
    m = to_torch(rbms["bernoulli"][0])
    with pytest.raises(DataError, match=r"\(n, 12\)"):
        m(torch.zeros(3, 5))
    with pytest.raises(DataTypeError, match="as_tensor"):
        m(np.zeros((3, 12)))
    assert isinstance(DataError("x"), ValueError) and isinstance(DataTypeError("x"), TypeError)


def test_lazy_public_names():
    assert bridge.to_torch is to_torch and bridge.unroll is unroll


@pytest.mark.parametrize("kind", UNITS)
def test_rbm_fine_tuning(rbms, kind):
    rbm, X = rbms[kind]
    m = to_torch(rbm)
    x = torch.as_tensor(X)
    names = {n for n, _ in m.named_parameters()}
    expected = {"weight", "bias"} | ({"log_sigma"} if kind == "gaussian_sigma" else set())
    assert names == expected  # the standardisation is a buffer, not trained
    before = m(x).detach().clone()
    opt = torch.optim.SGD(m.parameters(), lr=0.5)
    loss = (m(x) - 1.0).pow(2).mean()
    loss.backward()
    for n, p in m.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0, n
    opt.step()
    with torch.no_grad():
        after = m(x)
        assert (after - before).abs().max() > 1e-4
        assert (after - 1.0).pow(2).mean() < loss
    if kind == "gaussian":
        np.testing.assert_allclose(m.input_mean.numpy(), rbm.mean_, rtol=1e-6)


# ----------------------------------------------------------------------------- DBN


@pytest.mark.parametrize("kind", UNITS)
def test_rbm_layer_from_the_fitted_layer(rbms, kind):
    """An exporter can take the RBM or the FittedLayer it composes (``rbm.layer_``)."""
    rbm, _ = rbms[kind]
    a, b = rbm_layer(rbm).state_dict(), rbm_layer(rbm.layer_).state_dict()
    assert list(a) == list(b)
    for k in a:
        assert torch.equal(a[k], b[k]), k


@pytest.mark.parametrize("kind", UNITS)
def test_dbn_forward_equals_transform(dbns, kind):
    dbn, X = dbns[kind]
    m = to_torch(dbn)
    assert isinstance(m, DBNEncoder) and len(m) == 2
    x = torch.as_tensor(X)
    with torch.no_grad():
        top, first = m(x), m(x, layer=0)
    d = max(maxdiff(top, dbn.transform(X)), maxdiff(first, dbn.transform(X, layer=0)))
    report(f"DBN {kind} fp32", d)
    assert d <= TOL32
    assert maxdiff(m(x, layer=-2), first) == 0.0
    with pytest.raises(ConfigError, match="layer"):
        m(x, layer=2)
    assert set(m.state_dict()) >= {"0.weight", "0.bias", "1.weight", "1.bias"}


def test_dbn_float64(data):
    dbn, X = fit_dbn("gaussian_sigma", data, dtype="float64")
    with torch.no_grad():
        out = to_torch(dbn, torch.float64)(torch.as_tensor(X, dtype=torch.float64))
    d = maxdiff(out, dbn.transform(X))
    report("DBN gaussian_sigma fp64", d)
    assert out.dtype == torch.float64 and d <= TOL64


# ----------------------------------------------------------------------------- unroll


def boltz_down(dbn: DBN, code: np.ndarray, length: np.ndarray | None = None) -> np.ndarray:
    """boltz's own deterministic down-pass from the top hidden layer, in data units."""
    layers = dbn.fitted_layers_
    first = layers[0]
    be = layers[-1].backend
    ln = None
    if first.unit.has_length:
        ln = first.backend.asarray(np.ones(len(code)) if length is None else length)
    out, obe = down_pass(layers, be.asarray(code), be, len(layers) - 1, ln)
    return first.unstandardize(np.asarray(obe.to_host(out)))


@pytest.mark.parametrize("kind", UNITS)
def test_unroll(dbns, kind):
    dbn, X = dbns[kind]
    ae = unroll(dbn)
    assert isinstance(ae, UnrolledAutoencoder) and ae.output_unit == dbn.layers_[0].unit_.name
    x = torch.as_tensor(X)
    codes = np.random.default_rng(1).random((25, 6))
    with torch.no_grad():
        enc = ae.encode(x)
        dec = ae.decode(torch.as_tensor(codes, dtype=torch.float32))
        rec = ae(x)
    d_enc = maxdiff(enc, dbn.transform(X))
    d_dec = maxdiff(dec, boltz_down(dbn, codes))
    ref = dbn.reconstruct(X)
    if kind == "softmax":
        length = X.sum(axis=1)
        with torch.no_grad():
            rec_counts = ae.decode(enc, length=torch.as_tensor(length))
        d_rec = maxdiff(rec_counts, ref)
        np.testing.assert_allclose(rec.sum(1).numpy(), 1.0, rtol=1e-5)
        assert maxdiff(rec * torch.as_tensor(length)[:, None], ref) <= TOL32 * max(length.max(), 1)
    else:
        d_rec = maxdiff(rec, ref)
    # Gaussian reconstructions are in data units (up to ~30 here): compare relatively
    scale = max(1.0, float(np.abs(ref).max()))
    report(f"unroll {kind} encode", d_enc)
    report(f"unroll {kind} decode (data units; |reconstruction| <= {scale:.3g})", d_dec)
    report(f"unroll {kind} reconstruct (data units; |reconstruction| <= {scale:.3g})", d_rec)
    assert d_enc <= TOL32 and d_dec <= TOL32 * scale and d_rec <= TOL32 * scale
    # the decoder is not the identity map of something trivial
    assert np.ptp(boltz_down(dbn, codes), axis=0).max() > POWER


def test_unroll_state_dict_and_fine_tuning(dbns):
    dbn, X = dbns["gaussian_sigma"]
    ae = unroll(dbn)
    keys = set(ae.state_dict())
    assert {"encoder.0.weight", "encoder.0.log_sigma", "encoder.0.input_mean"} <= keys
    assert {"decoder.0.weight", "decoder.1.weight", "output_mean", "output_scale"} <= keys
    # untied: the decoder's weights are copies (sigma-scaled at the bottom), not views
    sig = np.exp(ae.encoder[0].log_sigma.detach().numpy())
    np.testing.assert_allclose(
        ae.decoder[1].weight.detach().numpy(),
        ae.encoder[0].weight.detach().numpy().T * sig[:, None],
        rtol=1e-6,
    )
    x = torch.as_tensor(X)
    xs = (x - ae.output_mean) / ae.output_scale
    before = ae(x).detach().clone()
    opt = torch.optim.SGD(ae.parameters(), lr=0.05)
    loss = ((ae(x) - x) / ae.output_scale).pow(2).mean()
    loss.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in ae.parameters())
    opt.step()
    with torch.no_grad():
        assert (ae(x) - before).abs().max() > 1e-4
        assert ((ae(x) - x) / ae.output_scale).pow(2).mean() < loss
        assert xs.shape == x.shape


# ----------------------------------------------------------------------------- multimodal


@pytest.fixture(scope="module")
def mdbn(data):
    kw = dict(progress=False, monitor_size=0, epochs=15)
    image = DBN(
        [
            boltz.RBM(10, "gaussian", learning_rate=0.01, **kw),
            boltz.RBM(8, learning_rate=0.1, **kw),
        ],
        random_state=1,
    )
    text = DBN([boltz.RBM(9, "softmax", learning_rate=0.01, **kw)], random_state=2)
    tags = DBN([boltz.RBM(7, learning_rate=0.1, **kw)], random_state=3)
    m = MultimodalDBN(
        {"image": image, "text": text, "tags": tags},
        joint=boltz.RBM(12, learning_rate=0.1, random_state=0, **kw),
    )
    views = {"image": data["gaussian"], "text": data["counts"], "tags": data["bernoulli"]}
    return m.fit(views), views


SUBSETS = [
    ("image",),
    ("text",),
    ("tags",),
    ("image", "text"),
    ("image", "tags"),
    ("text", "tags"),
    ("image", "text", "tags"),
]


def tensors(views: dict, names, rows=slice(None), dtype=torch.float32) -> dict:
    return {n: torch.as_tensor(views[n][rows], dtype=dtype) for n in names}


@pytest.mark.parametrize("names", SUBSETS, ids="+".join)
def test_multimodal_forward_equals_transform(mdbn, names):
    model, views = mdbn
    enc = to_torch(model)
    assert isinstance(enc, MultimodalEncoder) and enc.views == ["image", "text", "tags"]
    given = {n: views[n] for n in names}
    worst = 0.0
    for init in ("zeros", "bias"):
        for steps in (0, 1, 3, 10):
            ref, ref_tops = model.transform(given, steps=steps, init=init, return_pathways=True)
            with torch.no_grad():
                out, tops = enc(tensors(views, names), steps=steps, init=init, return_pathways=True)
            assert out.shape == (N, 12) and set(tops) == set(ref_tops)
            worst = max(worst, maxdiff(out, ref), *(maxdiff(tops[k], ref_tops[k]) for k in tops))
    with torch.no_grad():  # the defaults are transform's: meanfield, inference_steps, bias
        worst = max(worst, maxdiff(enc(tensors(views, names)), model.transform(given)))
    report(f"MultimodalDBN given {'+'.join(names)} (steps 0-10, both inits)", worst)
    assert worst <= TOL32


def test_multimodal_iteration_matters(mdbn):
    # steps and init change the answer by far more than the tolerance, so the
    # comparison above checks the iteration, not just the up-pass
    model, views = mdbn
    given = {"image": views["image"]}
    a = model.transform(given, steps=1, init="zeros")
    b = model.transform(given, steps=2, init="zeros")
    c = model.transform(given, steps=1, init="bias")
    report("steps 1 vs 2 (power)", maxdiff(a, b))
    report("init zeros vs bias (power)", maxdiff(a, c))
    assert maxdiff(a, b) > POWER and maxdiff(a, c) > POWER
    _, tops = model.transform(given, steps=1, return_pathways=True)
    assert np.ptp(tops["text"]) > POWER  # the inferred top depends on the image


def test_multimodal_pathways_and_state_dict(mdbn):
    model, views = mdbn
    enc = to_torch(model)
    with torch.no_grad():
        for n in enc.views:
            d = maxdiff(
                enc.pathway(n, torch.as_tensor(views[n])), model.pathway_transform(n, views[n])
            )
            assert d <= TOL32, n
    keys = set(enc.state_dict())
    assert {
        "pathways.image.0.weight",
        "pathways.image.0.input_mean",
        "pathways.image.1.weight",
        "pathways.text.0.bias",
        "pathways.tags.0.weight",
        "joint.weight_image",
        "joint.weight_text",
        "joint.weight_tags",
        "joint.visible_bias_text",
        "joint.bias",
    } <= keys
    jw = model.joint_.weights_
    np.testing.assert_array_equal(enc.joint.weight("text").detach().numpy(), jw[8:17].T)
    # a state dict round-trips into a fresh export
    other = to_torch(model)
    with torch.no_grad():
        for p in other.parameters():
            p.add_(1.0)
    other.load_state_dict(enc.state_dict())
    with torch.no_grad():
        x = tensors(views, ["tags"])
        assert torch.equal(other(x), enc(x))


def test_multimodal_generate_meanfield_from_tops(strong):
    # mdbn.generate(method="meanfield") == the unrolled target pathway's decoder applied
    # to the inferred top that return_pathways gives
    model, views = strong
    model = copy.deepcopy(model)
    params = model.pathways_["text"].layers_[0].model_.params
    params["weights"] = params["weights"] * 5.0  # so that the words depend on the top
    enc = to_torch(model)
    dec = unroll(model.pathways_["text"])
    given = {"image": views["image"][:20]}
    with torch.no_grad():
        _, tops = enc({"image": torch.as_tensor(given["image"])}, steps=3, return_pathways=True)
        words = dec.decode(tops["text"])
    ref = model.generate("text", given=given, steps=3, method="meanfield")
    d = maxdiff(words, ref)
    report("MultimodalDBN generate text (meanfield) via unroll(...).decode", d)
    with torch.no_grad():  # power: the inferred top matters
        off = maxdiff(dec.decode(torch.zeros_like(tops["text"])), ref)
    report("generated text from a zero top instead (power)", off)
    assert d <= TOL32 and off > POWER


def test_multimodal_dtype_and_sparse(mdbn):
    model, views = mdbn
    enc = to_torch(model, dtype=torch.float64)
    assert all(t.dtype == torch.float64 for t in enc.state_dict().values())
    given = {"image": views["image"], "text": views["text"]}
    x = {"image": torch.as_tensor(views["image"]), "text": as_tensor(sp.csr_matrix(views["text"]))}
    with torch.no_grad():
        out = enc(x, steps=3)
    assert out.dtype == torch.float64
    assert maxdiff(out, model.transform(given, steps=3)) <= TOL32


def test_multimodal_errors(mdbn):
    model, views = mdbn
    enc = to_torch(model)
    with pytest.raises(DataError, match="unknown view"):
        enc({"audio": torch.zeros(2, 3)})
    with pytest.raises(DataError, match="no view"):
        enc({})
    with pytest.raises(DataError, match="same number of rows"):
        enc(
            {
                "image": torch.as_tensor(views["image"][:3]),
                "tags": torch.as_tensor(views["tags"][:4]),
            }
        )
    with pytest.raises(DataTypeError, match="dict"):
        enc(torch.zeros(2, 10))
    with pytest.raises(DataTypeError, match=r"torch\.Tensor"):
        enc({"image": views["image"]})
    with pytest.raises(ConfigError, match="steps"):
        enc(tensors(views, ["tags"]), steps=-1)
    with pytest.raises(ConfigError, match="init"):
        enc(tensors(views, ["tags"]), init="random")
    with pytest.raises(ConfigError, match="pathway"):
        enc.pathway("audio", torch.zeros(2, 3))
    with pytest.raises(NotFittedError):
        to_torch(MultimodalDBN({"a": DBN([boltz.RBM(2)]), "b": DBN([boltz.RBM(2)])}, boltz.RBM(2)))
    with pytest.raises(TypeError):
        MultimodalEncoder.from_boltz(model.joint_)


def test_multimodal_fine_tuning(mdbn):
    model, views = mdbn
    enc = to_torch(model)
    x = tensors(views, ["image"])  # text and tags missing: inferred through the joint layer
    before = enc(x).detach().clone()
    loss = enc(x, steps=3).pow(2).mean()
    loss.backward()
    grads = {n: p.grad for n, p in enc.named_parameters()}
    for n in ("joint.weight_image", "joint.weight_text", "joint.weight_tags", "joint.bias"):
        assert grads[n] is not None and grads[n].abs().sum() > 0, n
    assert grads["joint.visible_bias_text"].abs().sum() > 0  # the missing tops' biases
    assert grads["pathways.image.0.weight"].abs().sum() > 0
    assert grads["pathways.text.0.weight"] is None  # the text pathway was not used
    torch.optim.SGD(enc.parameters(), lr=1.0).step()
    with torch.no_grad():
        assert (enc(x) - before).abs().max() > 1e-4


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    names=st.sampled_from(SUBSETS),
    steps=st.integers(0, 4),
    start=st.integers(0, N - 1),
    n=st.integers(1, 20),
    dtype=st.sampled_from([torch.float32, torch.float64]),
)
def test_multimodal_property(mdbn, names, steps, start, n, dtype):
    model, views = mdbn
    enc = _cached_export(model, dtype)
    rows = slice(start, min(N, start + n))
    k = rows.stop - rows.start
    with torch.no_grad():
        out, tops = enc(tensors(views, names, rows), steps=steps, return_pathways=True)
    assert out.shape == (k, 12) and out.dtype == dtype
    assert {n_: t.shape for n_, t in tops.items()} == {
        "image": (k, 8),
        "text": (k, 9),
        "tags": (k, 7),
    }
    assert torch.all((out > 0) & (out < 1))
    ref = model.transform({n_: views[n_][rows] for n_ in names}, steps=steps)
    assert maxdiff(out, ref) <= TOL32


@pytest.fixture(scope="module")
def strong(mdbn):
    """The multimodal DBN with fixed, strong joint weights: Gibbs and mean-field differ.

    Independent of how far the fixture's training went (the learned weights are small).
    """
    model, views = mdbn
    m = copy.deepcopy(model)
    w = m.joint_.model_.params["weights"]
    w[...] = np.random.default_rng(5).normal(scale=0.8, size=w.shape).astype(w.dtype)
    return m, views


@pytest.mark.parametrize("steps, init", [(3, "zeros"), (1, "bias")])
def test_multimodal_gibbs_in_distribution(strong, steps, init):
    # Gibbs draws from different streams in boltz and torch: compare the chain
    # averages within their Monte Carlo error (standard error from torch's chains)
    model, views = strong
    enc = to_torch(model)
    R, rows = 2000, slice(0, 6)
    given = {"image": views["image"][rows]}
    ref, ref_tops = model.transform(
        given,
        missing="gibbs",
        steps=steps,
        n_samples=R,
        init=init,
        random_state=0,
        return_pathways=True,
    )
    x = {"image": torch.as_tensor(given["image"])}
    with torch.no_grad():
        out, tops = enc(x, steps, init, True, missing="gibbs", n_samples=R, generator=0)
        chains, chain_tops = enc(
            {"image": x["image"].repeat_interleave(R, 0)},
            steps,
            init,
            True,
            missing="gibbs",
            generator=1,
        )
    worst = 0.0
    pairs = [(out, ref, chains)] + [(tops[k], ref_tops[k], chain_tops[k]) for k in ("text", "tags")]
    for got, want, per in pairs:
        se = per.reshape(6, R, -1).std(dim=1).numpy() * np.sqrt(2.0 / R)
        z = np.abs(got.numpy() - want) / np.maximum(se, 1e-6)
        worst = max(worst, float(z.max()))
    report(f"Gibbs steps={steps} init={init}", worst, kind="max |torch - boltz| / s.e.")
    assert worst < 5.0
    # power: the mean-field answer is many standard errors away from Gibbs here
    mf = model.transform(given, steps=steps, init=init)
    se = chains.reshape(6, R, -1).std(dim=1).numpy() * np.sqrt(2.0 / R)
    z_mf = float((np.abs(mf - ref) / np.maximum(se, 1e-6)).max())
    report(f"mean-field vs Gibbs steps={steps} init={init} (power)", z_mf, kind="max z")
    assert z_mf > 8.0
    assert torch.equal(out, enc(x, steps, init, missing="gibbs", n_samples=R, generator=0))


def test_multimodal_gibbs_generator(mdbn):
    model, views = mdbn
    enc = to_torch(model)
    x = tensors(views, ["text"], slice(0, 5))
    kw = dict(missing="gibbs", n_samples=3, steps=2)
    with torch.no_grad():
        a = enc(x, generator=7, **kw)
        b = enc(x, generator=torch.Generator().manual_seed(7), **kw)
        c = enc(x, generator=8, **kw)
    assert torch.equal(a, b) and not torch.equal(a, c)
    with pytest.raises(ConfigError, match="missing"):
        enc(x, missing="exact")
    with pytest.raises(ConfigError, match="n_samples"):
        enc(x, missing="gibbs", n_samples=0)
    with pytest.raises(ConfigError, match="generator"):
        enc(x, missing="gibbs", generator="seed")
    # gradients still reach the parameters through the final P(h | g, m)
    enc(x, **kw).sum().backward()
    assert enc.joint.weight("image").grad.abs().sum() > 0


_EXPORTS: dict = {}


def _cached_export(model, dtype):
    key = (id(model), dtype)
    if key not in _EXPORTS:
        _EXPORTS[key] = to_torch(model, dtype)
    return _EXPORTS[key]


def test_joint_layer_checks():
    with pytest.raises(ConfigError):
        JointLayer({"a": np.zeros((2, 3))}, {"b": np.zeros(3)}, np.zeros(2))


# ----------------------------------------------------------------------------- imports


def test_importing_boltz_does_not_import_torch():
    code = (
        "import sys, boltz, boltz.dbn, boltz.multimodal, boltz.rbm, boltz.datasets, bridge;"
        "assert 'torch' not in sys.modules, 'torch imported by boltz/bridge';"
        "assert 'cupy' not in sys.modules, 'cupy imported';"
        "import bridge.export;"
        "assert 'torch' in sys.modules"  # the check can see torch when it is imported
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_multimodal_with_a_passthrough_view_equals_transform():
    from boltz.passthrough import Passthrough
    from bridge.multimodal_export import PassthroughEncoder

    rng = np.random.default_rng(4)
    A = (rng.random((60, 9)) < 0.4).astype(float)
    B = (rng.random((60, 5)) < 0.3).astype(float)
    kw = dict(epochs=3, progress=False, random_state=0)
    model = boltz.MultimodalDBN(
        {"a": boltz.DBN([boltz.RBM(6, **kw)]), "b": Passthrough()},
        joint=boltz.RBM(7, **kw),
        finetune_epochs=2,
        random_state=0,
    ).fit({"a": A, "b": B})
    enc = to_torch(model)
    assert isinstance(enc.pathways["b"], PassthroughEncoder)
    for views in ({"a": A}, {"b": B}, {"a": A, "b": B}):
        with torch.no_grad():
            out = enc({k: torch.as_tensor(v, dtype=torch.float32) for k, v in views.items()})
        assert maxdiff(out, model.transform(views)) <= TOL32
