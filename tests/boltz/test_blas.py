"""The ctypes BLAS calls of the hot path (boltz._cblas) against NumPy, and their fallbacks."""

import numpy as np
import pytest

from boltz import _cblas
from boltz.backend import get_backend

pytestmark = pytest.mark.skipif(not _cblas.available, reason="NumPy's CBLAS symbols not found")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("tb", [False, True])
def test_gemm_matches_numpy(dtype, ta, tb):
    rng = np.random.default_rng(0)
    A = rng.standard_normal((7, 5) if not ta else (5, 7)).astype(dtype)
    B = rng.standard_normal((5, 3) if not tb else (3, 5)).astype(dtype)
    A_, B_ = (A.T if ta else A), (B.T if tb else B)
    C = rng.standard_normal((7, 3)).astype(dtype)
    expect = 0.25 * A_ @ B_ + 0.5 * C
    assert _cblas.gemm(0.25, A_, B_, 0.5, C)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(C, expect, rtol=tol, atol=tol)


def test_gemm_refuses_what_it_cannot_do():
    A = np.ones((4, 4), np.float32)
    assert not _cblas.gemm(1.0, A, A, 0.0, np.ones((4, 4), np.float64))  # mixed dtypes
    assert not _cblas.gemm(1.0, A[:, ::2].T, A[:, ::2], 0.0, np.ones((2, 2), np.float32))
    assert not _cblas.gemm(1.0, A, A, 0.0, np.ones((4, 8), np.float32)[:, ::2])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_axpy_matches_numpy_and_backend_uses_it(dtype):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((300, 200)).astype(dtype)
    y = rng.standard_normal((300, 200)).astype(dtype)
    expect = y + dtype(-0.3) * x
    y2 = y.copy()
    assert _cblas.axpy(-0.3, x, y)
    tol = 1e-6 if dtype == np.float32 else 1e-15
    np.testing.assert_allclose(y, expect, rtol=tol, atol=tol)
    be = get_backend("cpu", dtype)
    out = be.axpy(x, y2, -0.3)  # a != 1: multiply then add, as NumPy rounds it
    assert out is y2
    np.testing.assert_array_equal(y2, expect)
    y3, y4 = y2.copy(), y2.copy()
    be.axpy(x, y3, 1.0)  # a == 1: the BLAS kernel, bitwise equal to y += x
    y4 += x
    np.testing.assert_array_equal(y3, y4)


def test_axpy_refuses_overlap_views_and_mixed_dtypes():
    x = np.ones((10, 10), np.float32)
    assert not _cblas.axpy(1.0, x, x)
    assert not _cblas.axpy(1.0, x.T, np.ones((10, 10), np.float32))
    assert not _cblas.axpy(1.0, x, np.ones((10, 10), np.float64))
    assert not _cblas.axpy(1.0, x, np.ones((5, 20), np.float32))
    y = np.zeros((10, 10), np.float32)
    be = get_backend("cpu")
    be.axpy(x.T, y, 2.0)  # falls back to NumPy for a transposed view
    np.testing.assert_array_equal(y, 2.0)
