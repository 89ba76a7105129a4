"""bridge.ensemble.SeedEnsemble: members, the averaged cosine, checkpoints, errors."""

from __future__ import annotations

import numpy as np
import pytest

from boltz.errors import CheckpointError, ConfigError, NotFittedError
from bridge.ensemble import SeedEnsemble
from bridge.models.dcca import DCCA
from bridge.synthetic import make_paired_views


@pytest.fixture(scope="module")
def views():
    return make_paired_views(300, dims=(12, 8), latent=3, random_state=0)[0]


@pytest.fixture(scope="module")
def dcca():
    return DCCA(n_components=3, hidden=(16,), epochs=2, batch_size=100)


@pytest.fixture(scope="module")
def ens(views, dcca):
    return SeedEnsemble(dcca, n_models=3, random_state=5).fit(views)


def _cos(A, B):
    A = A / np.linalg.norm(A, axis=1, keepdims=True)
    B = B / np.linalg.norm(B, axis=1, keepdims=True)
    return A @ B.T


def test_members_are_the_estimator_fitted_with_consecutive_seeds(views, dcca, ens):
    assert [m.random_state for m in ens.estimators_] == [5, 6, 7]
    alone = DCCA(**{**dcca.get_params(), "random_state": 6}).fit(views)
    np.testing.assert_array_equal(
        alone.transform(views)["view0"], ens.estimators_[1].transform(views)["view0"]
    )
    assert dcca.random_state != 6 and not hasattr(dcca, "view_names_")  # not fitted in place


def test_cosine_of_the_ensemble_is_the_mean_member_cosine(views, ens):
    Z = ens.transform(views)
    assert Z["view0"].shape == (300, ens.n_components_) == (300, 9)
    assert Z["view0"].dtype == np.float32
    parts = [m.transform(views) for m in ens.estimators_]
    mean = np.mean([_cos(p["view0"], p["view1"]) for p in parts], axis=0)
    np.testing.assert_allclose(Z["view0"] @ Z["view1"].T, mean, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(Z["view1"], axis=1), 1.0, atol=1e-5)


def test_save_load_round_trip(tmp_path, views, ens):
    path = ens.save(tmp_path / "ens")
    assert sorted(p.name for p in path.iterdir()) == [
        "ensemble.npz",
        "member0",
        "member1",
        "member2",
    ]
    loaded = SeedEnsemble.load(path)
    assert loaded.n_models == 3 and loaded.random_state == 5
    for k, z in loaded.transform(views).items():
        np.testing.assert_array_equal(z, ens.transform(views)[k])
    ens.save(path)  # saving again over its own files is allowed
    (path / "member1").write_bytes(b"garbage")
    with pytest.raises(ValueError):
        SeedEnsemble.load(path)


def test_foreign_member_class_is_refused(tmp_path, ens):
    from boltz.checkpoint import write_checkpoint

    path = ens.save(tmp_path / "ens")
    meta = {"class": "os:system", "members": ["member0"], "n_models": 1, "random_state": 0}
    write_checkpoint(path / "ensemble.npz", meta, {})
    with pytest.raises(CheckpointError, match="not a bridge model"):
        SeedEnsemble.load(path)


def test_errors(views, dcca):
    with pytest.raises(NotFittedError):
        SeedEnsemble(dcca).transform(views)
    with pytest.raises(ConfigError, match="n_models"):
        SeedEnsemble(dcca, n_models=0).fit(views)
    with pytest.raises(ConfigError, match="estimator"):
        SeedEnsemble(object()).fit(views)
    with pytest.raises(ConfigError, match="random_state"):
        SeedEnsemble(dcca, random_state=-1).fit(views)


def test_average_cosine_refuses_nothing_and_mismatched_views():
    from boltz.errors import DataError
    from bridge.ensemble import average_cosine

    with pytest.raises(DataError, match="at least one"):
        average_cosine([])
    with pytest.raises(DataError, match="same views"):
        average_cosine([{"a": np.ones((2, 2))}, {"b": np.ones((2, 2))}])
    Z = average_cosine([{"a": np.zeros((1, 3))}])
    np.testing.assert_array_equal(Z["a"], np.zeros((1, 3), np.float32))
