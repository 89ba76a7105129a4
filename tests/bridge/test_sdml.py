"""SDML: the fixed column-orthogonal P, retrieval on synthetic labelled views, training
modalities independently (add_view leaves the other networks bitwise unchanged, serial
= parallel), determinism, checkpoints and validation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from joblib import parallel_config
from sklearn.base import clone

from boltz.errors import ConfigError, DataError, NotFittedError
from bridge.metrics import mean_average_precision
from bridge.models.sdml import SDML, column_orthogonal, sdml_loss

from .paired import paired_split

N_TRAIN, N_TEST = 360, 160
FAST = dict(hidden=(32,), code=16, epochs=20, batch_size=60, learning_rate=2e-3, progress=False)


@pytest.fixture(scope="module")
def data():
    return paired_split(
        N_TRAIN, N_TEST, dims=(20, 15, 10), latent=4, n_classes=4, class_sep=4.0, random_state=0
    )


def two(views):
    return {k: views[k] for k in ("view0", "view1")}


@pytest.fixture(scope="module")
def fitted(data):
    tr, ytr, _, _ = data
    return SDML(**FAST).fit(two(tr), ytr)


# ----------------------------------------------------------------------------- P


@pytest.mark.parametrize("shape", [(5, 5), (16, 4), (512, 10)])
def test_column_orthogonal_has_orthonormal_columns(shape):
    P = column_orthogonal(*shape, random_state=3)
    assert P.shape == shape
    np.testing.assert_allclose(P.T @ P, np.eye(shape[1]), atol=1e-12)
    np.testing.assert_array_equal(P, column_orthogonal(*shape, random_state=3))
    assert not np.allclose(P, column_orthogonal(*shape, random_state=4))


def test_column_orthogonal_rejects_more_columns_than_rows():
    with pytest.raises(ConfigError, match="n_cols <= n_rows"):
        column_orthogonal(3, 4)


def test_model_P_is_column_orthogonal_and_seeded(fitted, data):
    P = fitted.P_
    assert P.shape == (FAST["code"], 4)
    np.testing.assert_allclose(P.T @ P, np.eye(4), atol=1e-12)
    tr, ytr, _, _ = data
    other = SDML(**{**FAST, "epochs": 1}, random_state=1).fit(two(tr), ytr)
    assert not np.allclose(other.P_, P)
    same = SDML(**{**FAST, "epochs": 1}).fit(two(tr), ytr)
    np.testing.assert_array_equal(same.P_, P)


def test_sdml_loss_is_the_paper_objective():
    g = torch.Generator().manual_seed(0)
    x, xh, h = (torch.randn(5, d, generator=g, dtype=torch.float64) for d in (3, 3, 4))
    P = torch.as_tensor(column_orthogonal(4, 2))
    y = torch.nn.functional.one_hot(torch.tensor([0, 1, 1, 0, 1]), 2).double()
    sup = ((h @ P - y) ** 2).sum(1)
    want = (0.3 * ((xh - x) ** 2).sum(1) + 0.7 * sup).mean()
    assert abs(float(sdml_loss(x, xh, h, y, P, 0.3)) - float(want)) < 1e-12
    want_mean = (0.3 * ((xh - x) ** 2).mean(1) + 0.7 * sup).mean()
    assert abs(float(sdml_loss(x, xh, h, y, P, 0.3, "mean")) - float(want_mean)) < 1e-12


# ----------------------------------------------------------------------------- learning


def test_retrieval_far_above_chance(fitted, data):
    _, _, te, yte = data
    Z = fitted.transform(two(te))
    assert Z["view0"].shape == (N_TEST, FAST["code"]) and Z["view0"].dtype == np.float32
    chance = max(np.bincount(yte)) / N_TEST  # MAP of a random ranking is about this
    for a, b in (("view0", "view1"), ("view1", "view0")):
        assert mean_average_precision(Z[a], Z[b], yte, yte) > 2 * chance


def test_codes_are_unit_norm_unless_normalize_is_off(fitted, data):
    tr, ytr, te, _ = data
    for Z in fitted.transform(two(te)).values():
        np.testing.assert_allclose(np.linalg.norm(Z, axis=1), 1.0, rtol=1e-5)
    raw = SDML(**{**FAST, "epochs": 3}, normalize=False).fit(two(tr), ytr)
    norms = np.linalg.norm(raw.transform(two(te))["view0"], axis=1)
    assert np.abs(norms - 1.0).max() > 0.05
    with pytest.raises(ConfigError, match="normalize"):
        SDML(normalize="yes").fit(two(tr), ytr)


def test_add_view_leaves_the_fitted_networks_bitwise_unchanged(fitted, data):
    tr, ytr, te, yte = data
    m = clone(fitted).fit(two(tr), ytr)
    before = m.transform(two(te))
    state = {k: v.clone() for k, v in m.module_.state_dict().items()}
    assert m.add_view("view2", tr["view2"], ytr) is m
    assert m.view_names_ == ("view0", "view1", "view2")
    after = m.transform(te)
    for k in ("view0", "view1"):
        np.testing.assert_array_equal(before[k], after[k])
    for k, v in state.items():
        assert torch.equal(v, m.module_.state_dict()[k])
    # the new modality lands in the same common space
    chance = max(np.bincount(yte)) / N_TEST
    assert mean_average_precision(after["view2"], after["view1"], yte, yte) > chance + 0.15


def test_add_view_equals_training_all_views_at_once(data):
    tr, ytr, te, _ = data
    joint = SDML(**FAST).fit(tr, ytr)
    step = SDML(**FAST).fit(two(tr), ytr).add_view("view2", tr["view2"], ytr)
    a, b = joint.transform(te), step.transform(te)
    for k in tr:
        np.testing.assert_array_equal(a[k], b[k])


def test_parallel_training_equals_serial(fitted, data):
    tr, ytr, te, _ = data
    with parallel_config(backend="threading"):
        par = SDML(**FAST, n_jobs=2).fit(two(tr), ytr)
    a, b = fitted.transform(two(te)), par.transform(two(te))
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


def test_deterministic_and_seed_dependent(fitted, data):
    tr, ytr, te, _ = data
    again = SDML(**FAST).fit(two(tr), ytr).transform(two(te))
    ref = fitted.transform(two(te))
    for k in ref:
        np.testing.assert_array_equal(ref[k], again[k])
    other = SDML(**FAST, random_state=5).fit(two(tr), ytr).transform(two(te))
    assert not np.allclose(ref["view0"], other["view0"])


def test_caller_data_unchanged_and_history(data):
    tr, ytr, _, _ = data
    copy = {k: v.copy() for k, v in tr.items()}
    m = SDML(**{**FAST, "epochs": 3}).fit(two(tr), ytr)
    for k in tr:
        np.testing.assert_array_equal(tr[k], copy[k])
    assert set(m.history_) == {"view0", "view1"}
    assert len(m.history_["view0"]) == 3 and m.best_epoch_["view0"] == 3


def test_validation_early_stopping_per_view(data):
    tr, ytr, te, yte = data
    m = SDML(**{**FAST, "epochs": 15, "patience": 2}).fit(
        two(tr), ytr, views_val=two(te), y_val=yte
    )
    for k in ("view0", "view1"):
        vals = [h["val"] for h in m.history_[k]]
        assert m.best_epoch_[k] == int(np.argmin(vals)) + 1


def test_save_load_roundtrip_then_add_view(fitted, data, tmp_path):
    tr, ytr, te, _ = data
    path = tmp_path / "sdml.pt"
    fitted.save(path)
    loaded = SDML.load(path)
    a, b = fitted.transform(two(te)), loaded.transform(two(te))
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    np.testing.assert_array_equal(loaded.P_, fitted.P_)
    np.testing.assert_array_equal(loaded.classes_, fitted.classes_)
    # a loaded model adds a view exactly as the original would have
    x = clone(fitted).fit(two(tr), ytr).add_view("view2", tr["view2"], ytr).transform(te)
    y = loaded.add_view("view2", tr["view2"], ytr).transform(te)
    np.testing.assert_array_equal(x["view2"], y["view2"])


def test_string_and_multilabel_targets(data):
    tr, ytr, te, _ = data
    names = np.array(["a", "b", "c", "d"])[ytr]
    m = SDML(**{**FAST, "epochs": 2}).fit(two(tr), names)
    assert m.classes_.tolist() == ["a", "b", "c", "d"]
    Y = np.eye(4, dtype=int)[ytr]
    Y[::7, 0] = 1  # some samples with two labels
    mm = SDML(**{**FAST, "epochs": 2}).fit(two(tr), Y)
    assert mm.classes_ is None and mm.P_.shape == (FAST["code"], 4)
    mm.add_view("view2", tr["view2"], Y)
    assert mm.transform({"view2": te["view2"]})["view2"].shape == (N_TEST, FAST["code"])


# ----------------------------------------------------------------------------- errors


def test_errors(fitted, data):
    tr, ytr, te, _ = data
    with pytest.raises(DataError, match="supervised"):
        SDML(**FAST).fit(two(tr))
    with pytest.raises(ConfigError, match="code=2"):
        SDML(**{**FAST, "code": 2}).fit(two(tr), ytr)
    with pytest.raises(ConfigError, match="lam"):
        SDML(lam=1.5).fit(two(tr), ytr)
    with pytest.raises(ConfigError, match="recon"):
        SDML(recon="l1").fit(two(tr), ytr)
    with pytest.raises(ConfigError, match="n_jobs"):
        SDML(n_jobs=0).fit(two(tr), ytr)
    with pytest.raises(ConfigError, match="hidden"):
        SDML(hidden={"view0": (8,)}, code=8, epochs=1).fit(two(tr), ytr)
    with pytest.raises(DataError, match=r"without '\.'"):
        SDML(**FAST).fit({"a.b": tr["view0"]}, ytr)
    with pytest.raises(DataError, match="y_val"):
        SDML(**FAST).fit(two(tr), ytr, views_val=two(te))
    with pytest.raises(DataError, match="already fitted"):
        clone(fitted).fit(two(tr), ytr).add_view("view0", tr["view0"], ytr)
    with pytest.raises(DataError, match="not seen at fit"):
        clone(fitted).fit(two(tr), ytr).add_view("view2", tr["view2"], ytr + 10)
    with pytest.raises(DataError, match="labels"):
        fitted.add_view("view9", tr["view2"], ytr[:10])
    with pytest.raises(NotFittedError):
        SDML().add_view("view2", tr["view2"], ytr)
    with pytest.raises(NotFittedError):
        SDML().transform(two(te))
    with pytest.raises(DataError, match="unknown view"):
        fitted.transform({"nope": te["view0"]})
    with pytest.raises(DataError, match="features"):
        fitted.transform({"view0": te["view1"]})
