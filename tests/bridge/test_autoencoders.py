"""BimodalAE and CorrAE: retrieval on synthetic pairs, determinism, one-view transform,
pretrained initialisation from a boltz DBN, checkpoints and input validation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.base import clone

import boltz
from boltz.errors import CheckpointError, ConfigError, DataError, NotFittedError
from bridge.models.bimodal_ae import BimodalAE
from bridge.models.corr_ae import CorrAE

from .paired import paired_split

N_TRAIN, N_TEST = 600, 200
CHANCE = 1 / N_TEST


@pytest.fixture(scope="module")
def data():
    train, y_train, test, y_test = paired_split(
        N_TRAIN, N_TEST, dims=(30, 20), latent=5, noise=0.3, n_classes=4, random_state=0
    )
    return train, test, y_train, y_test


def rank1(Q: np.ndarray, D: np.ndarray) -> float:
    """Fraction of queries whose cosine nearest neighbour in D is their own partner."""
    Q = Q / np.linalg.norm(Q, axis=1, keepdims=True)
    D = D / np.linalg.norm(D, axis=1, keepdims=True)
    return float(np.mean(np.argmax(Q @ D.T, axis=1) == np.arange(len(Q))))


FAST = dict(hidden=(32,), epochs=40, batch_size=50, learning_rate=3e-3, progress=False)


@pytest.fixture(scope="module")
def bimodal(data):
    train, *_ = data
    return BimodalAE(n_components=16, **FAST).fit(train)


# ----------------------------------------------------------------------------- retrieval


def test_bimodal_retrieves_partner_from_one_view(bimodal, data):
    _, test, *_ = data
    e = bimodal.transform(test)
    assert e["view0"].shape == (N_TEST, 16)
    assert rank1(e["view0"], e["view1"]) > 10 * CHANCE
    assert rank1(e["view1"], e["view0"]) > 10 * CHANCE


@pytest.mark.parametrize("variant", ["corr", "cross", "full"])
def test_corr_ae_variants_retrieve_partner(variant, data):
    train, test, *_ = data
    m = CorrAE(n_components=16, variant=variant, alpha=0.5, **FAST).fit(train)
    e = m.transform(test)
    assert rank1(e["view0"], e["view1"]) > 10 * CHANCE
    assert rank1(e["view1"], e["view0"]) > 10 * CHANCE
    # the variant decides which decoders exist: (source code, reconstructed view)
    pairs = {"corr": [(0, 0), (1, 1)], "cross": [(0, 1), (1, 0)], "full": 4}[variant]
    if variant == "full":
        assert len(m.module_.decoders) == pairs
    else:
        assert m.module_.pairs == pairs
        for j, (_, t) in enumerate(m.module_.pairs):
            assert m.module_.decoders[j].layers[-1].out_features == (30, 20)[t]


def test_corr_loss_alpha_tradeoff(data):
    """alpha weighs the code distance: larger alpha -> codes of partners closer."""
    train, test, *_ = data
    dist = []
    for alpha in (0.0, 0.8):
        e = CorrAE(n_components=8, alpha=alpha, **FAST).fit(train).transform(test)
        dist.append(np.mean(np.sum((e["view0"] - e["view1"]) ** 2, axis=1)))
    assert dist[1] < 0.5 * dist[0]


# ----------------------------------------------------------------------------- determinism


def test_same_seed_same_embeddings(data):
    train, test, *_ = data
    kw = dict(n_components=8, hidden=(16,), epochs=3, batch_size=64, progress=False)
    a = BimodalAE(random_state=3, **kw).fit(train).transform(test)
    b = BimodalAE(random_state=3, **kw).fit(train).transform(test)
    c = BimodalAE(random_state=4, **kw).fit(train).transform(test)
    assert np.array_equal(a["view0"], b["view0"]) and np.array_equal(a["view1"], b["view1"])
    assert not np.allclose(a["view0"], c["view0"])
    d = CorrAE(random_state=3, variant="full", **kw).fit(train).transform(test)
    e = CorrAE(random_state=3, variant="full", **kw).fit(train).transform(test)
    assert np.array_equal(d["view1"], e["view1"])


def test_global_torch_rng_untouched(data):
    train, *_ = data
    torch.manual_seed(123)
    state = torch.random.get_rng_state()
    BimodalAE(n_components=4, hidden=(8,), epochs=1, progress=False).fit(train)
    assert torch.equal(state, torch.random.get_rng_state())


# ----------------------------------------------------------------------------- transform


def test_one_view_transform_equals_that_view_of_both(bimodal, data):
    _, test, *_ = data
    both = bimodal.transform(test)
    only = bimodal.transform({"view1": test["view1"]})
    assert list(only) == ["view1"]
    np.testing.assert_allclose(only["view1"], both["view1"], rtol=1e-6, atol=1e-6)
    assert only["view1"].dtype == np.float32


def test_center_subtracts_training_code_means(bimodal, data):
    train, test, *_ = data
    e = bimodal.transform(train)
    for k in e:  # centered on the training pairs
        np.testing.assert_allclose(e[k].mean(0), 0.0, atol=1e-5)
    raw = clone(bimodal).set_params(center=False).fit(train).transform(test)
    assert raw["view0"].min() > 0 and raw["view0"].max() < 1  # sigmoid codes
    np.testing.assert_allclose(
        bimodal.transform(test)["view0"] + bimodal.embedding_mean_["view0"], raw["view0"], atol=1e-6
    )


def test_joint_code_and_cross_modal_reconstruction(bimodal, data):
    _, test, *_ = data
    z = bimodal.transform_joint(test)
    assert z.shape == (N_TEST, 16)
    assert not np.allclose(z, bimodal.transform(test)["view0"])
    rec = bimodal.reconstruct({"view0": test["view0"]})  # view1 generated from view0
    assert rec["view1"].shape == test["view1"].shape
    err = np.mean((rec["view1"] - test["view1"]) ** 2)
    baseline = np.mean((test["view1"] - test["view1"].mean(0)) ** 2)
    assert err < 0.5 * baseline


def test_input_dropping_uses_the_view_mean(data):
    train, *_ = data
    m = BimodalAE(n_components=4, hidden=(8,), epochs=1, progress=False).fit(train)
    # standardised views: the fill value of a missing view is 0 (its training mean)
    for i in range(2):
        np.testing.assert_allclose(m.module_.fill(i).numpy(), 0.0, atol=1e-5)


# ----------------------------------------------------------------------------- early stopping


def test_early_stopping_on_validation_loss_and_map(data):
    train, test, ytr, yte = data
    m = BimodalAE(n_components=8, patience=2, **{**FAST, "epochs": 6}).fit(train, views_val=test)
    assert m.monitor_ == "loss" and all("val" in h for h in m.history_)
    vals = [h["val"] for h in m.history_]
    assert m.best_epoch_ == int(np.argmin(vals)) + 1
    m = CorrAE(n_components=8, **{**FAST, "epochs": 3}).fit(train, ytr, test, yte)
    assert m.monitor_ == "map"
    vals = [h["val"] for h in m.history_]
    assert 0 < max(vals) <= 1 and m.best_epoch_ == int(np.argmax(vals)) + 1


# ----------------------------------------------------------------------------- pretrained


@pytest.fixture(scope="module")
def dbn(data):
    train, *_ = data
    layers = [
        boltz.RBM(12, visible="gaussian", epochs=2, batch_size=50, device="cpu", progress=False),
        boltz.RBM(8, epochs=2, batch_size=50, device="cpu", progress=False),
    ]
    return boltz.DBN(layers, random_state=0).fit(train["view0"].astype(np.float32))


def test_pretrained_dbn_initialises_encoder_and_decoder(dbn, data):
    train, test, *_ = data
    # one epoch at a negligible step size: the weights are the DBN's
    m = BimodalAE(
        n_components=4,
        hidden=(8,),
        pretrained={"view0": dbn},
        epochs=1,
        learning_rate=1e-9,
        progress=False,
    ).fit(train)
    enc = m.module_.encoders[0]
    for i, rbm in enumerate(dbn.layers_):
        np.testing.assert_allclose(enc[i].weight.detach().numpy(), rbm.weights_.T, atol=1e-5)
    dec = m.module_.decoders[0]
    np.testing.assert_allclose(
        dec.layers[-1].weight.detach().numpy(), dbn.layers_[0].weights_, atol=1e-5
    )
    assert m.preprocess_["view0"]["mean"] is None  # raw: the DBN standardises itself
    assert m.preprocess_["view1"]["mean"] is not None
    # the unrolled encoder computes what the DBN computes
    x = torch.as_tensor(test["view0"][:5], dtype=torch.float32)
    with torch.no_grad():
        np.testing.assert_allclose(
            enc(x).numpy(), dbn.transform(test["view0"][:5].astype(np.float32)), atol=1e-5
        )


def test_pretrained_corr_ae_trains(dbn, data):
    train, test, *_ = data
    m = CorrAE(n_components=4, variant="cross", pretrained={"view0": dbn}, **FAST).fit(train)
    e = m.transform(test)
    assert np.isfinite(e["view0"]).all() and e["view0"].shape == (N_TEST, 4)


# ----------------------------------------------------------------------------- checkpoints


def test_checkpoint_roundtrip(bimodal, data, tmp_path):
    _, test, *_ = data
    path = tmp_path / "bae.pt"
    bimodal.save(path)
    back = BimodalAE.load(path)
    assert back.get_params() == bimodal.get_params()
    a, b = bimodal.transform(test), back.transform(test)
    np.testing.assert_array_equal(a["view0"], b["view0"])
    np.testing.assert_array_equal(a["view1"], b["view1"])
    with pytest.raises(CheckpointError, match="BimodalAE"):
        CorrAE.load(path)
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError):
        BimodalAE.load(tmp_path / "junk.pt")


def test_checkpoint_of_pretrained_model_loads_without_the_dbn(dbn, data, tmp_path):
    train, test, *_ = data
    m = CorrAE(n_components=4, pretrained={"view0": dbn}, **{**FAST, "epochs": 2}).fit(train)
    m.save(tmp_path / "c.pt")
    back = CorrAE.load(tmp_path / "c.pt")
    assert back.pretrained is None
    np.testing.assert_array_equal(m.transform(test)["view0"], back.transform(test)["view0"])


def test_clone_keeps_params():
    m = CorrAE(n_components=7, variant="cross", alpha=0.3)
    assert clone(m).get_params() == m.get_params()


# ----------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "cls, kw, match",
    [
        (BimodalAE, {"n_components": 0}, "n_components"),
        (BimodalAE, {"drop_rate": 1.0}, "drop_rate"),
        (BimodalAE, {"activation": "swish"}, "activation"),
        (BimodalAE, {"hidden": ()}, "hidden"),
        (BimodalAE, {"pretrained": {"view0": "dbn"}}, "fitted boltz.DBN"),
        (BimodalAE, {"monitor": "auc"}, "monitor"),
        (BimodalAE, {"learning_rate": 0}, "learning_rate"),
        (BimodalAE, {"device": "tpu"}, "device"),
        (CorrAE, {"variant": "half"}, "variant"),
        (CorrAE, {"alpha": 1.0}, "alpha"),
        (CorrAE, {"hidden": {"view0": (8,)}}, "view1"),
    ],
)
def test_bad_parameters(cls, kw, match, data):
    train, *_ = data
    with pytest.raises(ConfigError, match=match):
        cls(epochs=1, progress=False, **kw).fit(train)


def test_bad_views(bimodal, data):
    train, test, *_ = data
    with pytest.raises(NotFittedError):
        BimodalAE().transform(test)
    with pytest.raises(DataError, match="exactly 2"):
        BimodalAE(epochs=1).fit({"a": train["view0"]})
    with pytest.raises(DataError, match="unknown view"):
        bimodal.transform({"image": test["view0"]})
    with pytest.raises(DataError, match="features"):
        bimodal.transform({"view0": test["view0"][:, :5]})
    bad = test["view1"].copy()
    bad[0, 0] = np.nan
    with pytest.raises(DataError, match="NaN"):
        bimodal.transform({"view1": bad})
    with pytest.raises(ConfigError, match="monitor='map'"):
        CorrAE(epochs=1, monitor="map").fit(train, views_val=test)
    with pytest.raises(DataError, match="pretrained"):
        dbn_like = type("D", (), {"layers_": [1], "n_features_in_": 3})()
        BimodalAE(epochs=1, pretrained={"view0": dbn_like}).fit(train)
