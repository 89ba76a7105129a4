"""HRL (bridge.models.hrl.model) on synthetic paired views with class structure, tiny sizes."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from boltz.errors import ConfigError, DataError, DataTypeError, NotFittedError
from bridge.metrics import cross_modal_map
from bridge.models.hrl import HRL, HRLStage1

from .tiny import TINY


def test_fit_transform_shapes_and_single_views(data, fitted):
    Vt, _ = data["test"]
    Z = fitted.transform(Vt)
    assert set(Z) == {"image", "text"}
    for z in Z.values():
        assert z.shape == (100, fitted.n_components_) and z.dtype == np.float32
        assert np.isfinite(z).all()
    # each view alone gives the same embedding as in the pair (nothing leaks across)
    for k in ("image", "text"):
        alone = fitted.transform({k: Vt[k]})
        assert list(alone) == [k]
        np.testing.assert_array_equal(alone[k], Z[k])
    # BAE widths halve: 24 -> 12 -> 6
    assert fitted.n_components_ == 24 // 2**fitted.n_bae_


def test_retrieval_far_above_chance(data, fitted):
    Vt, yt = data["test"]
    m = cross_modal_map(fitted.transform(Vt), yt)
    # chance is about 1 / N_CLASSES = 0.25
    assert m["i2t"] > 0.6 and m["t2i"] > 0.6, m


def test_n_bae_chosen_on_validation(data, fitted):
    assert len(fitted.bae_val_map_) == 2
    assert fitted.n_bae_ == int(np.argmax(fitted.bae_val_map_)) + 1
    assert len(fitted.baes_) == fitted.n_bae_
    assert {"joint_ae", "ff", "bae.1", "bae.2"} <= set(fitted.history_)
    # the recorded validation score of the kept level is the MAP of its embedding on
    # the validation pairs
    Vv, yv = data["val"]
    got = cross_modal_map(fitted.transform(Vv), yv)["average"]
    assert got == pytest.approx(fitted.bae_val_map_[fitted.n_bae_ - 1], abs=1e-5)


def test_same_seed_same_embeddings_and_seed_matters(data):
    (V, y), (Vv, yv), (Vt, _) = data["train"], data["val"], data["test"]
    kw = dict(
        visible={"image": "gaussian", "text": "softmax"},
        friendly_hidden=(16, 8),
        mutual_hidden=(16, 8),
        joint_hidden=16,
        rbm_epochs=2,
        joint_ae_hidden=16,
        ff_hidden=(16,),
        n_bae_max=1,
        epochs=3,
    )
    a = HRL(**kw, random_state=5).fit(V, y, Vv, yv).transform(Vt)
    b = HRL(**kw, random_state=5).fit(V, y, Vv, yv).transform(Vt)
    c = HRL(**kw, random_state=6).fit(V, y, Vv, yv).transform(Vt)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert not np.array_equal(a["image"], c["image"])


def test_save_load_round_trip(tmp_path, data, fitted):
    Vt, _ = data["test"]
    path = fitted.save(tmp_path / "hrl")
    assert (path / "hrl.npz").exists() and (path / "stage1" / "mdbn.npz").exists()
    assert (path / "stage1" / "srbm.image.npz").exists()
    loaded = HRL.load(path)
    a, b = fitted.transform(Vt), loaded.transform(Vt)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert loaded.n_bae_ == fitted.n_bae_ and loaded.get_params()["variant"] == "hrl"
    st = HRLStage1.load(path / "stage1")
    np.testing.assert_array_equal(
        st.features(Vt)["mutual"]["text"], fitted.stage1_.features(Vt)["mutual"]["text"]
    )
    (path / "hrl.npz").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="not a checkpoint"):
        HRL.load(path)


def test_clone_shares_the_fitted_stage1(data, stage1, fitted):
    from sklearn.base import clone

    (V, y), (Vv, yv), (Vt, _) = data["train"], data["val"], data["test"]
    c = clone(fitted)
    assert c.stage1 is stage1 and not hasattr(c, "baes_")
    c.fit(V, y, Vv, yv)
    np.testing.assert_array_equal(c.transform(Vt)["text"], fitted.transform(Vt)["text"])


def test_sparse_counts_equal_dense(data, fitted):
    Vt, _ = data["test"]
    dense = fitted.transform({"text": Vt["text"]})["text"]
    csr = fitted.transform({"text": sp.csr_matrix(Vt["text"])})["text"]
    # the same numbers up to float32 rounding (sparse and dense products sum differently)
    np.testing.assert_allclose(csr, dense, rtol=1e-3, atol=1e-3)


def test_without_validation_views_holds_out_a_stratified_share(data, stage1):
    V, y = data["train"]
    m = HRL(stage1=stage1, **{**TINY, "epochs": 2}, validation_fraction=0.2).fit(V, y)
    assert m.n_bae_ >= 1 and len(m.history_["ff"]) <= 2


def test_bad_input_is_a_clear_error(data, fitted, stage1):
    (V, y), (Vt, _) = data["train"], data["test"]
    with pytest.raises(DataError, match="unknown view"):
        fitted.transform({"audio": Vt["image"]})
    with pytest.raises(DataError, match="same number of rows"):
        fitted.transform({"image": Vt["image"], "text": Vt["text"][:-1]})
    with pytest.raises(DataError, match="labels"):
        HRL(stage1=stage1, **TINY).fit(V, y[:-1])
    with pytest.raises(DataError, match="supervised"):
        HRL(stage1=stage1, **TINY).fit(V)
    bad = {k: x.copy() for k, x in V.items()}
    bad["image"][3, 2] = np.nan
    with pytest.raises(DataError, match="NaN"):
        HRL(stage1=stage1, **TINY).fit(bad, y)
    with pytest.raises(DataError, match="NaN"):
        fitted.transform({"image": bad["image"]})
    with pytest.raises(DataError, match="features"):
        fitted.transform({"image": Vt["image"][:, :-1]})
    with pytest.raises(DataTypeError, match="sparse"):
        fitted.transform({"image": sp.csr_matrix(Vt["image"])})
    with pytest.raises(ConfigError, match="variant"):
        HRL(variant="nope", stage1=stage1).fit(V, y)
    with pytest.raises(ConfigError, match="visible"):
        HRL(visible={"image": "poisson", "text": "softmax"}).fit(V, y)
    with pytest.raises(DataError, match="exactly two views"):
        HRL(stage1=stage1).fit({"image": V["image"]}, y)
    with pytest.raises(NotFittedError):
        HRL().transform(Vt)
