"""DCCA / DCCAE: the objective against an independent NumPy computation, its gradient,
retrieval on synthetic pairs, the final linear CCA, determinism and validation."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sla
import torch

from boltz.errors import ConfigError, DataError
from bridge.models.dcca import DCCA, DCCAE, total_correlation

from .paired import paired_split

N_TRAIN, N_TEST = 600, 200
CHANCE = 1 / N_TEST


@pytest.fixture(scope="module")
def data():
    train, _, test, _ = paired_split(
        N_TRAIN, N_TEST, dims=(30, 20), latent=5, noise=0.3, random_state=1
    )
    return train, test


def rank1(Q: np.ndarray, D: np.ndarray) -> float:
    Q = Q / np.linalg.norm(Q, axis=1, keepdims=True)
    D = D / np.linalg.norm(D, axis=1, keepdims=True)
    return float(np.mean(np.argmax(Q @ D.T, axis=1) == np.arange(len(Q))))


def numpy_canonical_correlations(H1, H2, r1, r2):
    """Singular values of T = S11^-1/2 S12 S22^-1/2 by the definition (eigh inverse roots)."""
    m = len(H1)
    H1, H2 = H1 - H1.mean(0), H2 - H2.mean(0)
    S11 = H1.T @ H1 / (m - 1) + r1 * np.eye(H1.shape[1])
    S22 = H2.T @ H2 / (m - 1) + r2 * np.eye(H2.shape[1])
    S12 = H1.T @ H2 / (m - 1)

    def inv_sqrt(S):
        w, V = np.linalg.eigh(S)
        return V @ np.diag(w**-0.5) @ V.T

    T = inv_sqrt(S11) @ S12 @ inv_sqrt(S22)
    sv = np.linalg.svd(T, compute_uv=False)
    # and, independently, sqrt of the eigenvalues of S11^-1 S12 S22^-1 S21
    ev = np.sort(np.real(sla.eigvals(np.linalg.solve(S11, S12) @ np.linalg.solve(S22, S12.T))))
    np.testing.assert_allclose(np.sqrt(np.clip(ev[::-1][: len(sv)], 0, None)), sv, atol=1e-8)
    return sv


@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(80, 3))
    H1 = np.c_[z, rng.normal(size=(80, 2))] @ rng.normal(size=(5, 5)) + 0.5 * rng.normal(
        size=(80, 5)
    )
    H2 = np.c_[z[:, :2] ** 2, z[:, 2:], rng.normal(size=(80, 1))] + 0.3 * rng.normal(size=(80, 4))
    return H1, H2


@pytest.mark.parametrize("reg", [(1e-4, 1e-4), (0.1, 0.5)])
@pytest.mark.parametrize("k", [None, 2])
def test_total_correlation_equals_numpy(batch, reg, k):
    H1, H2 = batch
    sv = numpy_canonical_correlations(H1, H2, *reg)
    want = sv.sum() if k is None else np.sort(sv)[::-1][:k].sum()
    got = total_correlation(torch.as_tensor(H1), torch.as_tensor(H2), reg=reg, k=k)
    assert got.dtype == torch.float64
    assert abs(float(got) - want) < 1e-5
    # float32 agrees to float32 precision
    got32 = total_correlation(
        torch.as_tensor(H1, dtype=torch.float32), torch.as_tensor(H2, dtype=torch.float32), reg, k
    )
    assert abs(float(got32) - want) < 1e-3


def test_total_correlation_of_linear_images_is_the_dimension():
    H = torch.randn(200, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    A = torch.randn(4, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    assert abs(float(total_correlation(H, H @ A + 3.0, reg=0.0)) - 4.0) < 1e-8


def test_total_correlation_gradient(batch):
    H1, H2 = batch
    h1 = torch.as_tensor(H1[:30, :3]).requires_grad_()
    h2 = torch.as_tensor(H2[:30, :3]).requires_grad_()
    assert torch.autograd.gradcheck(
        lambda a, b: total_correlation(a, b, reg=1e-2), (h1, h2), eps=1e-6, atol=1e-5
    )


def test_total_correlation_stable_with_duplicate_outputs():
    """Repeated output columns (singular covariance, equal correlations) stay finite."""
    g = torch.Generator().manual_seed(0)
    z = torch.randn(100, 2, generator=g)
    H1 = torch.cat([z, z], dim=1).requires_grad_()
    H2 = torch.cat([z, z, z[:, :1]], dim=1).requires_grad_()
    c = total_correlation(H1, H2, reg=1e-4)
    c.backward()
    assert torch.isfinite(c) and torch.isfinite(H1.grad).all() and torch.isfinite(H2.grad).all()


# ----------------------------------------------------------------------------- models

FAST = dict(hidden=(32,), epochs=40, batch_size=200, learning_rate=3e-3, progress=False)


@pytest.fixture(scope="module")
def dcca(data):
    train, _ = data
    return DCCA(n_components=5, n_outputs=8, **FAST).fit(train)


@pytest.mark.parametrize("cls", [DCCA, DCCAE])
def test_retrieves_partner(cls, dcca, data):
    train, test = data
    m = dcca if cls is DCCA else DCCAE(n_components=5, n_outputs=8, **FAST).fit(train)
    e = m.transform(test)
    assert e["view0"].shape == (N_TEST, 5)
    assert rank1(e["view0"], e["view1"]) > 10 * CHANCE
    assert rank1(e["view1"], e["view0"]) > 10 * CHANCE


def test_final_cca_on_network_outputs(dcca, data):
    train, _ = data
    corr = dcca.correlations_
    assert corr.shape == (5,) and np.all(np.diff(corr) <= 1e-12) and 0.5 < corr[0] <= 1
    # the transform is the CCA of the outputs: training embeddings are uncorrelated
    # within a view and correlated by correlations_ across views
    e = dcca.transform(train)
    C = np.corrcoef(e["view0"].T, e["view1"].T)
    np.testing.assert_allclose(np.diag(C[:5, 5:]), corr, atol=1e-3)
    np.testing.assert_allclose(C[:5, :5], np.eye(5), atol=1e-3)
    # training raised the total correlation well above its value after the first epoch
    assert -dcca.history_[-1]["loss"] > 1.5 * -dcca.history_[0]["loss"]


def test_one_view_and_determinism(dcca, data):
    train, test = data
    only = dcca.transform({"view1": test["view1"]})
    assert list(only) == ["view1"]
    np.testing.assert_array_equal(only["view1"], dcca.transform(test)["view1"])
    kw = dict(n_components=3, hidden=(16,), epochs=3, batch_size=100, progress=False)
    a = DCCAE(random_state=5, **kw).fit(train).transform(test)
    b = DCCAE(random_state=5, **kw).fit(train).transform(test)
    assert np.array_equal(a["view0"], b["view0"]) and np.array_equal(a["view1"], b["view1"])


def test_dccae_reconstructs(data):
    train, test = data
    m = DCCAE(n_components=5, n_outputs=8, recon_weight=0.1, **FAST).fit(train)
    rec = m.reconstruct(test)
    for k, X in test.items():
        err = np.mean((rec[k] - X) ** 2)
        assert err < 0.7 * np.mean((X - X.mean(0)) ** 2)
    assert len(m.module_.decoders) == 2
    assert len(DCCA(n_components=2, epochs=1, hidden=(4,)).fit(train).module_.decoders) == 0


def test_early_stopping_map(data):
    train, test = data
    y = np.arange(N_TEST) % 4
    m = DCCA(n_components=3, patience=2, **{**FAST, "epochs": 4}).fit(
        train, views_val=test, y_val=y
    )
    assert m.monitor_ == "map" and all(0 <= h["val"] <= 1 for h in m.history_)


def test_checkpoint_roundtrip(dcca, data, tmp_path):
    _, test = data
    dcca.save(tmp_path / "d.pt")
    back = DCCA.load(tmp_path / "d.pt")
    np.testing.assert_array_equal(back.correlations_, dcca.correlations_)
    np.testing.assert_array_equal(back.transform(test)["view0"], dcca.transform(test)["view0"])


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"n_components": 5, "n_outputs": 3}, "n_outputs"),
        ({"n_components": 3, "top_k": 4}, "top_k"),
        ({"reg": 0.0}, "reg"),
        ({"n_components": 10, "batch_size": 10}, "batch_size"),
        ({"recon_weight": -1.0}, "recon_weight"),
    ],
)
def test_bad_parameters(kw, match, data):
    train, _ = data
    with pytest.raises(ConfigError, match=match):
        DCCAE(epochs=1, hidden=(4,), **kw).fit(train)


def test_too_few_samples(data):
    train, _ = data
    small = {k: v[:6] for k, v in train.items()}
    with pytest.raises(ConfigError, match="more training pairs"):
        DCCA(n_components=8, epochs=1, hidden=(4,)).fit(small)
    with pytest.raises(DataError, match="exactly 2"):
        DCCA().fit({"a": train["view0"], "b": train["view1"], "c": train["view0"]})
