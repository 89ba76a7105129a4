"""Feature transforms of the cross-modal experiments (NumPy only, no torch).

Both take their statistics from reference rows (the training split), so that validation
and test rows are mapped with the training statistics and never leak into them.

* :func:`zscore` -- per-column standardisation (image features, topic proportions).
* :func:`bow_features` -- word counts as in ``docs/models_ae.md``: log1p, L2-normalised
  rows, centred, divided by one global standard deviation (no per-word scaling).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = ["bow_features", "zscore"]


def zscore(X: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """``X`` standardised with the mean and std of ``ref`` (constant columns kept at 0).

    Parameters
    ----------
    X : ndarray of shape (n, d)
    ref : ndarray of shape (m, d)
        The training rows the statistics come from.

    Returns
    -------
    ndarray of shape (n, d)

    Examples
    --------
    >>> import numpy as np
    >>> zscore(np.array([[1.0, 5.0], [3.0, 5.0]]), np.array([[1.0, 5.0], [3.0, 5.0]]))
    array([[-1.,  0.],
           [ 1.,  0.]])
    """
    sd = ref.std(axis=0)
    sd[sd < 1e-12] = 1.0
    return (X - ref.mean(axis=0)) / sd


def _unit_log_rows(counts: Any) -> np.ndarray:
    """``log1p(counts)`` with every row scaled to unit L2 norm (empty rows stay 0)."""
    x = np.log1p(np.asarray(counts.toarray() if sp.issparse(counts) else counts, np.float64))
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def bow_features(counts: Any, ref: Any) -> np.ndarray:
    """Word counts as features: log1p, L2-normalised rows, centred by the reference rows'
    mean, divided by one global std (no per-word scaling).

    Parameters
    ----------
    counts : array-like or scipy.sparse matrix, shape (n, n_words)
        Word counts to transform.
    ref : array-like or scipy.sparse matrix, shape (m, n_words)
        Training counts: the mean and the single scale come from them.

    Returns
    -------
    ndarray of float64, shape (n, n_words)
    """
    a, r = _unit_log_rows(counts), _unit_log_rows(ref)
    return (a - r.mean(axis=0)) / r.std()
