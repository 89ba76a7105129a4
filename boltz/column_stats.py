"""Column statistics of training data in one streaming pass: means and standardisation.

:func:`column_statistics` reads the data block by block (so out-of-core data is
read once) and returns the column means and, for Gaussian visibles, the
per-column scale that :class:`boltz.layer.Standardizer` divides by.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .backend import is_sparse
from .validation import iter_chunks

__all__ = ["column_statistics"]


def column_statistics(X: Any, gaussian: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """Column means and, with ``gaussian``, the standard deviations of ``X``.

    The variance is computed without cancellation or overflow, block by block
    (one pass, so out-of-core data is read once): each block's mean and sum of
    squared deviations come from a two-pass computation in float64, blocks are
    merged with Chan et al.'s update, and the squares are taken in units of the
    largest deviation seen so far (a per-column scale), so finite inputs up to
    ~1e308 give finite scales.  A column whose spread is below 1e-8, or below
    float64 rounding of its offset (1e-12 |mean|), counts as constant (scale 1).

    Parameters
    ----------
    X : array-like or sparse matrix, shape (n, d)
        Dense, memmap, row-indexable dataset or (not ``gaussian``) CSR.
    gaussian : bool
        Also compute the scales.

    Returns
    -------
    mean : ndarray, shape (d,), float64
    scale : ndarray, shape (d,), float64, or None
        None unless ``gaussian``; constant columns get 1.
    """
    n, d = X.shape
    mean = np.zeros(d)
    m2 = np.zeros(d)  # sum of squared deviations, in units of ref**2
    ref = np.zeros(d)  # per-column scale of the deviations
    seen = 0
    for block in iter_chunks(X):
        if is_sparse(block):
            b_n = block.shape[0]
            b_mean = np.asarray(block.sum(axis=0), dtype=np.float64).ravel() / b_n
        else:
            b = np.asarray(block, dtype=np.float64)
            b_n = b.shape[0]
            b_mean = b.mean(axis=0)
        total = seen + b_n
        delta = b_mean - mean
        mean = mean + delta * (b_n / total)
        if gaussian:
            dev = b - b_mean
            b_ref = np.max(np.abs(dev), axis=0)
            new_ref = np.maximum(np.maximum(ref, b_ref), np.abs(delta))
            safe = np.where(new_ref > 0, new_ref, 1.0)
            b_m2 = np.einsum("ij,ij->j", dev / safe, dev / safe)
            m2 = m2 * (ref / safe) ** 2 + b_m2 + (delta / safe) ** 2 * (seen * b_n / total)
            ref = new_ref
        seen = total
    if not gaussian:
        return mean, None
    scale = ref * np.sqrt(m2 / n)
    const = (scale < 1e-8) | (scale <= 1e-12 * np.abs(mean)) | ~np.isfinite(scale)
    scale[const] = 1.0
    return mean, scale
