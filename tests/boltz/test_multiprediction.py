"""Multi-prediction training of the joint layer: exact gradients, and it learns the link."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import boltz
from boltz.dbn import DBN
from boltz.multimodal import MultimodalDBN
from boltz.multiprediction import MultiPredictionTrainer, ViewDecoder, rows_to_targets
from boltz.passthrough import Passthrough


def _rbm(n, **kw):
    kw.setdefault("epochs", 2)
    return boltz.RBM(n, dtype="float64", progress=False, random_state=0, batch_size=16, **kw)


def _gb_model(**kw):
    """A Gaussian and a Bernoulli pathway (views "g", "b") and a 5-unit joint layer."""
    return MultimodalDBN(
        {"g": DBN([_rbm(4, visible="gaussian")]), "b": DBN([_rbm(4)])}, joint=_rbm(5), **kw
    )


def _views(n=40, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 2))
    return {
        "g": z @ rng.normal(size=(2, 5)) + 0.1 * rng.normal(size=(n, 5)),
        "b": (rng.random((n, 6)) < 1 / (1 + np.exp(-z @ rng.normal(size=(2, 6))))).astype(float),
        "s": sp.csr_matrix(rng.poisson(2.0, size=(n, 7)).astype(float)),
    }


@pytest.mark.parametrize("missing", ["g", "b", "s", "p"])
def test_gradient_matches_finite_differences(missing):
    X = _views()
    X["p"] = X["b"][:, ::-1].copy()
    m = MultimodalDBN(
        {
            "g": DBN([_rbm(4, visible="gaussian")]),
            "b": DBN([_rbm(4), _rbm(3)]),
            "s": DBN([_rbm(3, visible="softmax")]),
            "p": Passthrough(dtype="float64"),
        },
        joint=_rbm(5),
        joint_training="likelihood",
    ).fit(X)
    jm = m._joint_model()
    be = jm.backend
    dec = {v: ViewDecoder([r.model_ for r in m.pathways_[v].layers_], be) for v in m.views_}
    tr = MultiPredictionTrainer(jm, dec, steps=3, learning_rate=1e-3, batch_size=8, rng=None)
    tops = be.asarray(m._tops(X))
    if missing == "p":
        target, weight = be.asarray(X["p"]), be.xp.ones(X["p"].shape[0])
    else:
        target, weight = rows_to_targets(m.pathways_[missing].layers_[0], X[missing], be)
    group = next(g for g in jm.groups if g.name == missing)
    vm, vs, hs = tr._forward(tops, group)
    _, dz = dec[missing].loss_and_preact_grad(vm, target, weight)
    grads = tr._gradients(vs, hs, dz, group)
    rng = np.random.default_rng(1)
    eps = 1e-6
    for name in ("weights", "visible_bias", "hidden_bias"):
        p = jm.params[name]
        flat = p.reshape(-1)
        for i in rng.choice(flat.size, size=min(12, flat.size), replace=False):
            old = flat[i]
            flat[i] = old + eps
            up = tr.batch_loss(tops, target, weight, group, train=False)
            flat[i] = old - eps
            down = tr.batch_loss(tops, target, weight, group, train=False)
            flat[i] = old
            num = (up - down) / (2 * eps)
            assert grads[name].reshape(-1)[i] == pytest.approx(num, rel=1e-4, abs=1e-7), name


def test_multiprediction_carries_one_view_into_the_other():
    # two noisy copies of the same binary pattern: the likelihood-trained joint layer
    # leaves the inferred copy near its mean; multi-prediction must beat the mean clearly
    rng = np.random.default_rng(0)
    proto = (rng.random((8, 20)) < 0.5).astype(float)
    k = rng.integers(0, 8, 600)
    flip = lambda a: np.abs(a - (rng.random(a.shape) < 0.05))  # noqa: E731
    A, B = flip(proto[k]), flip(proto[k])
    tr, te = slice(0, 500), slice(500, 600)

    def model(training):
        kw = dict(epochs=20, batch_size=20, progress=False, learning_rate=0.05)
        return MultimodalDBN(
            {
                "a": DBN([boltz.RBM(16, random_state=0, **kw)]),
                "b": DBN([boltz.RBM(16, random_state=1, **kw)]),
            },
            joint=boltz.RBM(32, random_state=2, **kw),
            joint_training=training,
            finetune_epochs=30,
            finetune_learning_rate=0.003,
            random_state=0,
        ).fit({"a": A[tr], "b": B[tr]})

    err = {}
    for t in ("likelihood", "multiprediction"):
        gen = model(t).generate("b", given={"a": A[te]})
        err[t] = float(np.mean((gen - B[te]) ** 2))
    mean_err = float(np.mean((B[tr].mean(0) - B[te]) ** 2))
    assert err["multiprediction"] < 0.5 * mean_err
    assert err["multiprediction"] < err["likelihood"]


def test_history_checkpoint_and_validation():
    X = _views(60)
    m = _gb_model(finetune_epochs=4, random_state=0).fit({"g": X["g"], "b": X["b"]})
    h = m.finetune_history_
    assert len(h) == 4 and all("loss_val" in r for r in h)
    assert sum(r.get("best", 0) for r in h) >= 1
    assert np.isfinite([r["loss"] for r in h]).all()


def test_multiprediction_is_deterministic_and_saved(tmp_path):
    X = _views(50)
    views = {"g": X["g"], "b": X["b"]}

    def fit():
        return _gb_model(finetune_epochs=3, random_state=3).fit(views)

    a, b = fit(), fit()
    np.testing.assert_array_equal(a.joint_.weights_, b.joint_.weights_)
    path = a.save(tmp_path / "m.npz")
    c = boltz.load(path)
    assert c.joint_training == "multiprediction" and c.inference_steps == 5
    assert c.finetune_history_ == a.finetune_history_
    np.testing.assert_allclose(
        c.generate("b", given={"g": X["g"]}), a.generate("b", given={"g": X["g"]})
    )


def test_bad_settings_are_config_errors():
    base = dict(pathways={"g": DBN([_rbm(4)]), "b": DBN([_rbm(4)])}, joint=_rbm(5))
    for kw, match in [
        (dict(joint_training="ml"), "joint_training"),
        (dict(inference_steps=0), "inference_steps"),
        (dict(finetune_learning_rate=0.0), "finetune_learning_rate"),
        (dict(validation_fraction=1.0), "validation_fraction"),
        (dict(finetune_average=1.0), "finetune_average"),
        (dict(finetune_average=-0.1), "finetune_average"),
    ]:
        with pytest.raises(boltz.errors.ConfigError, match=match):
            MultimodalDBN(**base, **kw).fit({"g": np.zeros((4, 3)), "b": np.zeros((4, 3))})


def _trainer_run(average, with_val, capture):
    """Multi-prediction on a fixed pretrained model; Adam's iterates go to ``capture``."""
    X = _views(60)
    m = _gb_model(joint_training="likelihood").fit({"g": X["g"], "b": X["b"]})
    jm = m._joint_model()
    be = jm.backend
    dec = {v: ViewDecoder([r.model_ for r in m.pathways_[v].layers_], be) for v in m.views_}
    tr = MultiPredictionTrainer(
        jm,
        dec,
        steps=2,
        learning_rate=0.01,
        batch_size=16,
        rng=np.random.default_rng(0),
        average=average,
    )
    adam = tr._adam

    def recording_adam(grads):
        adam(grads)
        capture.append({k: v.copy() for k, v in jm.params.items()})

    tr._adam = recording_adam
    Z = m._tops(X)

    def tops(idx):
        return be.asarray(Z[idx])

    def target(idx, view):
        return rows_to_targets(m.pathways_[view].layers_[0], X[view][idx], be)

    start = {k: v.copy() for k, v in jm.params.items()}
    val = (tops, target, 20) if with_val else None
    tr.fit(tops, target, 40, 3, val=val, progress=False)
    return start, jm.params


def test_polyak_average_is_the_moving_average_of_adams_iterates():
    d = 0.9
    plain, averaged = [], []
    _, last = _trainer_run(0.0, False, plain)
    start, out = _trainer_run(d, False, averaged)
    assert len(plain) == len(averaged) == 9  # 3 epochs x 3 batches
    for a, b in zip(plain, averaged, strict=True):  # averaging never feeds back
        for k in a:
            np.testing.assert_array_equal(a[k], b[k])
    for k in start:
        ema = start[k].copy()
        for it in plain:
            ema = d * ema + (1 - d) * it[k]
        np.testing.assert_allclose(out[k], ema, rtol=1e-12, atol=1e-14)
        np.testing.assert_array_equal(last[k], plain[-1][k])


def test_polyak_average_with_validation_keeps_the_trajectory():
    plain, averaged = [], []
    _trainer_run(0.0, True, plain)
    _trainer_run(0.9, True, averaged)
    for a, b in zip(plain, averaged, strict=True):  # scoring the average restores Adam's state
        for k in a:
            np.testing.assert_array_equal(a[k], b[k])
    with pytest.raises(ValueError, match="average"):
        _trainer_run(1.0, False, [])


def test_polyak_average_is_saved(tmp_path):
    X = _views(50)
    m = _gb_model(finetune_epochs=2, finetune_average=0.95, random_state=0).fit(
        {"g": X["g"], "b": X["b"]}
    )
    c = boltz.load(m.save(tmp_path / "m.npz"))
    assert c.finetune_average == 0.95
    np.testing.assert_array_equal(c.joint_.weights_, m.joint_.weights_)
