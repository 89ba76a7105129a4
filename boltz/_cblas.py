"""``C = alpha * A @ B + beta * C`` through NumPy's own BLAS, via ctypes.

NumPy does not expose GEMM's ``beta``; SciPy does, but SciPy bundles a second
OpenBLAS whose thread pool fights NumPy's on small machines (measured: 4x slower
CD-1 on 2 cores when the two alternate).  This module finds the CBLAS ``sgemm`` /
``dgemm`` symbols of the OpenBLAS that NumPy loaded, so the fused momentum
update and every other product share one thread pool.  When the symbols cannot
be found (another NumPy build), :data:`available` is False and callers fall back.
"""

from __future__ import annotations

import ctypes
import glob
import logging
import os

import numpy as np

logger = logging.getLogger(__name__)

__all__ = ["available", "gemm"]

_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112


def _load() -> tuple[object, object, type] | None:
    libdir = os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs")
    candidates = sorted(glob.glob(os.path.join(libdir, "*openblas*")))
    names = [
        ("scipy_cblas_sgemm64_", "scipy_cblas_dgemm64_", ctypes.c_int64),
        ("cblas_sgemm64_", "cblas_dgemm64_", ctypes.c_int64),
        ("scipy_cblas_sgemm", "scipy_cblas_dgemm", ctypes.c_int),
        ("cblas_sgemm", "cblas_dgemm", ctypes.c_int),
    ]
    for path in candidates:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for s_name, d_name, int_t in names:
            s = getattr(lib, s_name, None)
            d = getattr(lib, d_name, None)
            if s is None or d is None:
                continue
            for fn, real in ((s, ctypes.c_float), (d, ctypes.c_double)):
                fn.restype = None
                fn.argtypes = [
                    ctypes.c_int,
                    ctypes.c_int,
                    ctypes.c_int,
                    int_t,
                    int_t,
                    int_t,
                    real,
                    ctypes.c_void_p,
                    int_t,
                    ctypes.c_void_p,
                    int_t,
                    real,
                    ctypes.c_void_p,
                    int_t,
                ]
            return s, d, int_t
    return None


_FUNCS = _load()
available = _FUNCS is not None
if not available:  # pragma: no cover - depends on the NumPy build
    logger.debug("NumPy's CBLAS gemm not found; the fused update falls back to SciPy/NumPy.")


def _operand(X: np.ndarray) -> tuple[int, int] | None:
    """(transpose flag, leading dimension) of ``X`` for a row-major call, or None."""
    if X.flags.c_contiguous:
        return _NO_TRANS, max(1, X.shape[1])
    if X.flags.f_contiguous:
        return _TRANS, max(1, X.shape[0])
    return None


def gemm(alpha: float, A: np.ndarray, B: np.ndarray, beta: float, C: np.ndarray) -> bool:
    """In place ``C = alpha * A @ B + beta * C``; returns False when it cannot run.

    ``A`` (m, k) and ``B`` (k, n) may be C- or F-contiguous views (e.g. ``v.T``);
    ``C`` (m, n) must be C-contiguous; all of one dtype, float32 or float64.
    """
    if _FUNCS is None or not C.flags.c_contiguous or C.dtype not in (np.float32, np.float64):
        return False
    if A.dtype != C.dtype or B.dtype != C.dtype:
        return False
    a = _operand(A)
    b = _operand(B)
    if a is None or b is None:
        return False
    m, k = A.shape
    n = B.shape[1]
    fn = _FUNCS[0] if C.dtype == np.float32 else _FUNCS[1]
    fn(
        _ROW_MAJOR,
        a[0],
        b[0],
        m,
        n,
        k,
        alpha,
        A.ctypes.data,
        a[1],
        B.ctypes.data,
        b[1],
        beta,
        C.ctypes.data,
        max(1, n),
    )
    return True
