"""bridge.features: the experiments' feature transforms use training statistics only."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from bridge.features import bow_features, zscore


def test_zscore_standardises_with_the_reference_rows():
    rng = np.random.default_rng(0)
    X = rng.normal(3.0, 2.0, size=(50, 4))
    X[:, 2] = 1.0  # a constant column stays finite (0)
    Z = zscore(X, X)
    np.testing.assert_allclose(Z.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(Z[:, [0, 1, 3]].std(0), 1)
    assert (Z[:, 2] == 0).all()
    other = rng.normal(size=(7, 4))
    np.testing.assert_allclose(
        zscore(other, X)[:, 0], (other[:, 0] - X[:, 0].mean()) / X[:, 0].std()
    )
    assert np.array_equal(zscore(X[:5], X), Z[:5])


def test_bow_features_log_unit_rows_centred_one_scale():
    rng = np.random.default_rng(0)
    C = rng.poisson(1.0, size=(30, 20)).astype(float)
    C[3] = 0  # an empty document stays finite (0 before centring)
    B = bow_features(C, C)
    assert np.isfinite(B).all()
    np.testing.assert_allclose(B.mean(0), 0, atol=1e-12)
    L = np.log1p(C)
    rows = L / np.maximum(np.linalg.norm(L, axis=1, keepdims=True), 1e-12)
    np.testing.assert_allclose(B, (rows - rows.mean(0)) / rows.std())
    # new rows do not change the mapping of the reference rows
    assert np.array_equal(bow_features(C[:5], C), B[:5])
    other = rng.poisson(3.0, (5, 20)).astype(float)
    assert bow_features(other, C).shape == (5, 20)


def test_bow_features_take_sparse_counts():
    rng = np.random.default_rng(1)
    C = rng.poisson(0.5, size=(25, 15)).astype(float)
    assert np.array_equal(bow_features(sp.csr_matrix(C), sp.csr_matrix(C)), bow_features(C, C))
