"""``C = alpha * A @ B + beta * C`` and ``y += alpha * x`` through NumPy's own BLAS, via ctypes.

NumPy does not expose GEMM's ``beta``; SciPy does, but SciPy bundles a second
OpenBLAS whose thread pool fights NumPy's on small machines (measured: 4x slower
CD-1 on 2 cores when the two alternate).  This module finds the CBLAS ``sgemm`` /
``dgemm`` symbols of the OpenBLAS that NumPy loaded, so the fused momentum
update and every other product share one thread pool.  ``axpy`` is there because
OpenBLAS threads it: ``W += velocity`` (a memory-bound V x H pass every update)
takes half the time of NumPy's single-threaded add on two cores.  When the
symbols cannot be found (another NumPy build), :data:`available` is False and
callers fall back.
"""

from __future__ import annotations

import ctypes
import glob
import logging
import os

import numpy as np

logger = logging.getLogger(__name__)

__all__ = ["available", "axpy", "gemm"]

_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112


def _load() -> tuple[object, object, type, object, object] | None:
    libdir = os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs")
    candidates = sorted(glob.glob(os.path.join(libdir, "*openblas*")))
    names = [
        ("scipy_cblas_", "64_", ctypes.c_int64),
        ("cblas_", "64_", ctypes.c_int64),
        ("scipy_cblas_", "", ctypes.c_int),
        ("cblas_", "", ctypes.c_int),
    ]
    for path in candidates:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix, int_t in names:
            s, d, sa, da = (
                getattr(lib, f"{prefix}{f}{suffix}", None)
                for f in ("sgemm", "dgemm", "saxpy", "daxpy")
            )
            if s is None or d is None or sa is None or da is None:
                continue
            for fn, real in ((sa, ctypes.c_float), (da, ctypes.c_double)):
                fn.restype = None
                fn.argtypes = [int_t, real, ctypes.c_void_p, int_t, ctypes.c_void_p, int_t]
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
            return s, d, int_t, sa, da
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


def axpy(alpha: float, x: np.ndarray, y: np.ndarray) -> bool:
    """In place ``y += alpha * x`` (threaded BLAS); returns False when it cannot run.

    Both arrays must be C-contiguous, of one shape and of one dtype (float32 or
    float64), and must not overlap.
    """
    if _FUNCS is None or y.dtype not in (np.float32, np.float64) or x.dtype != y.dtype:
        return False
    if x.shape != y.shape or not (x.flags.c_contiguous and y.flags.c_contiguous):
        return False
    if not y.flags.writeable or np.may_share_memory(x, y):
        return False
    fn = _FUNCS[3] if y.dtype == np.float32 else _FUNCS[4]
    fn(y.size, alpha, x.ctypes.data, 1, y.ctypes.data, 1)
    return True
