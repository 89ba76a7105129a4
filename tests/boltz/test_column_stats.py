"""boltz.column_stats: streaming column means and standard deviations."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from boltz.column_stats import column_statistics


@pytest.mark.parametrize("offset", [0.0, 1e6])
def test_matches_numpy_mean_and_std(offset):
    X = offset + np.random.default_rng(0).normal(size=(300, 5)) * np.arange(1, 6)
    mean, scale = column_statistics(X, gaussian=True)
    np.testing.assert_allclose(mean, X.mean(0), rtol=1e-13)
    np.testing.assert_allclose(scale, X.std(0), rtol=1e-9)


def test_means_only_without_gaussian_and_sparse_input():
    X = np.random.default_rng(1).poisson(0.5, (40, 6)).astype(np.float32)
    mean, scale = column_statistics(sp.csr_matrix(X), gaussian=False)
    assert scale is None
    np.testing.assert_allclose(mean, X.mean(0, dtype=np.float64), rtol=1e-12)


def test_constant_columns_get_scale_one():
    X = np.random.default_rng(2).normal(size=(30, 3))
    X[:, 0] = 3.0
    X[:, 2] = -1e10
    _, scale = column_statistics(X, gaussian=True)
    assert scale[0] == 1.0 and scale[2] == 1.0 and scale[1] != 1.0
