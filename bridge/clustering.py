"""Clustering metrics: predicted cluster ids against true classes.

:func:`clustering_accuracy` (best one-to-one cluster-to-class map, Hungarian
algorithm), :func:`nmi`, :func:`ari`, :func:`purity`, :func:`pairwise_f_score` and
:func:`clustering_report`; labels can be any integers or strings and the two label
sets need not have the same size.  Re-exported by :mod:`bridge.metrics`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from boltz.errors import ConfigError, DataError, DataTypeError

from .metric_inputs import _encode, _to_array

__all__ = [
    "NMI_AVERAGES",
    "ari",
    "clustering_accuracy",
    "clustering_report",
    "nmi",
    "pairwise_f_score",
    "purity",
]

NMI_AVERAGES = ("arithmetic", "geometric", "min", "max")


def _cluster_labels(y_true: ArrayLike, y_pred: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes (0..n_classes-1, 0..n_clusters-1) of the two label vectors."""
    out = []
    for y, name in ((y_true, "y_true"), (y_pred, "y_pred")):
        arr = _to_array(y, name, "a 1-D array of labels")
        if arr.ndim == 2 and arr.shape[1] == 1:
            arr = arr[:, 0]
        if arr.ndim != 1:
            raise DataError(f"{name}: expected a 1-D array of labels; got shape {arr.shape}.")
        if arr.size == 0:
            raise DataError(f"{name}: expected at least one label; got an empty array.")
        if arr.dtype.kind == "c":
            raise DataTypeError(f"{name}: expected real or string labels; got dtype {arr.dtype}.")
        if arr.dtype.kind == "f" and not np.isfinite(arr).all():
            raise DataError(f"{name}: expected finite labels; got NaN or inf.")
        out.append(arr)
    if len(out[0]) != len(out[1]):
        raise DataError(
            f"y_true and y_pred: expected the same number of labels; got {len(out[0])} and "
            f"{len(out[1])}."
        )
    return _encode("y_true", out[0])[0][0], _encode("y_pred", out[1])[0][0]


def _contingency_cells(ct: np.ndarray, cp: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Non-zero cells (class, cluster, count) of the contingency table."""
    n_p = int(cp.max()) + 1
    cells, counts = np.unique(ct.astype(np.int64) * n_p + cp, return_counts=True)
    return cells // n_p, cells % n_p, counts


def clustering_accuracy(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Clustering accuracy: the best one-to-one map from clusters to classes.

    Parameters
    ----------
    y_true : array-like, shape (n_samples,)
        Class labels (any integers or strings).
    y_pred : array-like, shape (n_samples,)
        Cluster ids (any integers or strings).

    Returns
    -------
    float
        ``max over one-to-one maps m of mean(m(y_pred) == y_true)``, found with the
        Hungarian algorithm (:func:`scipy.optimize.linear_sum_assignment`) on the
        contingency table.  When there are more clusters than classes, the clusters left
        without a class count as errors (use :func:`purity` for a many-to-one map); with
        fewer clusters, some classes are never predicted.

    Notes
    -----
    Builds the dense (n_classes, n_clusters) table.
    """
    ct, cp = _cluster_labels(y_true, y_pred)
    table = np.zeros((int(ct.max()) + 1, int(cp.max()) + 1))
    r, c, counts = _contingency_cells(ct, cp)
    table[r, c] = counts
    rows, cols = linear_sum_assignment(table, maximize=True)
    return float(table[rows, cols].sum() / len(ct))


def nmi(y_true: ArrayLike, y_pred: ArrayLike, *, average_method: str = "arithmetic") -> float:
    """Normalized mutual information (:func:`sklearn.metrics.normalized_mutual_info_score`).

    Parameters
    ----------
    y_true, y_pred : array-like, shape (n_samples,)
    average_method : {"arithmetic", "geometric", "min", "max"}, default "arithmetic"
        The mean of the two entropies that divides ``I(y_true; y_pred)``:
        ``"arithmetic"`` ``(H_t + H_p) / 2`` (scikit-learn's default since 0.22),
        ``"geometric"`` ``sqrt(H_t H_p)`` (Strehl & Ghosh 2002; scikit-learn's default
        before 0.22, used by older clustering papers).  Check which one a paper used
        before comparing numbers.

    Returns
    -------
    float
        In [0, 1]; 1 for identical partitions up to relabelling.
    """
    if average_method not in NMI_AVERAGES:
        raise ConfigError(f"average_method must be one of {NMI_AVERAGES}; got {average_method!r}.")
    ct, cp = _cluster_labels(y_true, y_pred)
    return float(normalized_mutual_info_score(ct, cp, average_method=average_method))


def ari(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Adjusted Rand index (:func:`sklearn.metrics.adjusted_rand_score`).

    Parameters
    ----------
    y_true, y_pred : array-like, shape (n_samples,)
        Class labels and cluster ids; the index is symmetric in the two.

    Returns
    -------
    float
        1 for identical partitions, about 0 for independent ones, can be negative.
        (No averaging is involved: the index is over all pairs of samples.)
    """
    ct, cp = _cluster_labels(y_true, y_pred)
    return float(adjusted_rand_score(ct, cp))


def purity(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Purity: each cluster assigned its majority class (many-to-one).

    Parameters
    ----------
    y_true, y_pred : array-like, shape (n_samples,)
        Class labels and cluster ids; not symmetric (swapping them scores the classes
        against the clusters).

    Returns
    -------
    float
        ``(1/n) sum_clusters max_class |cluster & class|``, in (0, 1]; 1 when every
        cluster is pure (hence also for all-singleton clusters).
    """
    ct, cp = _cluster_labels(y_true, y_pred)
    _, c, counts = _contingency_cells(ct, cp)
    best = np.zeros(int(cp.max()) + 1, dtype=np.int64)
    np.maximum.at(best, c, counts)
    return float(best.sum() / len(ct))


def pairwise_f_score(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Pairwise F-measure of a clustering (as in DM2C).

    Over all unordered pairs of samples, a pair is *predicted* positive when both are in
    one cluster and *truly* positive when both are in one class.  Precision = true
    positives / predicted positives, recall = true positives / true positives + false
    negatives, F = 2 P R / (P + R).  Computed from the contingency table with
    ``n_ij (n_ij - 1) / 2`` pair counts, in O(n log n) time without enumerating pairs.

    Parameters
    ----------
    y_true, y_pred : array-like, shape (n_samples,)
        Class labels and cluster ids; swapping them swaps precision and recall (and
        leaves F unchanged).

    Returns
    -------
    float
        In [0, 1].  0 when no pair is both predicted and truly positive; 1 when neither
        partition puts any two samples together (both all-singletons, or one sample).
    """
    ct, cp = _cluster_labels(y_true, y_pred)
    _, _, counts = _contingency_cells(ct, cp)

    def pairs(x: np.ndarray) -> int:
        x = x.astype(np.int64)
        return int(np.sum(x * (x - 1) // 2))

    tp = pairs(counts)
    predicted = pairs(np.bincount(cp))
    actual = pairs(np.bincount(ct))
    if predicted == 0 and actual == 0:
        return 1.0
    if tp == 0:
        return 0.0
    precision, recall = tp / predicted, tp / actual
    return float(2 * precision * recall / (precision + recall))


def clustering_report(y_true: ArrayLike, y_pred: ArrayLike) -> dict[str, float]:
    """All clustering scores at once.

    Parameters
    ----------
    y_true, y_pred : array-like, shape (n_samples,)

    Returns
    -------
    dict of str -> float
        ``acc`` (:func:`clustering_accuracy`), ``nmi`` (:func:`nmi`, arithmetic mean),
        ``ari`` (:func:`ari`), ``f_score`` (:func:`pairwise_f_score`) and ``purity``
        (:func:`purity`).
    """
    return {
        "acc": clustering_accuracy(y_true, y_pred),
        "nmi": nmi(y_true, y_pred),
        "ari": ari(y_true, y_pred),
        "f_score": pairwise_f_score(y_true, y_pred),
        "purity": purity(y_true, y_pred),
    }
