"""Ranking of a database for blocks of queries, and the average precision of the ranks.

Scores are float64 and computed by BLAS matrix products one block of queries at a
time (at most :data:`_BLOCK_ELEMENTS` score entries per block), ties broken by
database index (see :mod:`bridge.metrics` for the conventions).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from boltz.errors import DataError

from .metric_inputs import _encode, _k

__all__ = []

#: Score-matrix entries per query block (float64: 16 MiB per temporary array).
_BLOCK_ELEMENTS = 1 << 21


def _pow2_rescale(X: np.ndarray) -> np.ndarray:
    """Rows scaled by powers of two to max |x| in [0.5, 1): exact, and no overflow in dots."""
    _, e = np.frexp(np.abs(X).max(axis=1))
    return np.ldexp(X, -e[:, None])


class _Scorer:
    """Sort keys (ascending = better) of query blocks against a fixed database."""

    def __init__(self, database: np.ndarray, metric: str) -> None:
        self.metric = metric
        if metric == "cosine":
            self.db = _pow2_rescale(database)
            norm = np.sqrt(np.einsum("ij,ij->i", self.db, self.db))
            self.db_norm = np.where(norm > 0, norm, 1.0)
        else:
            # Translation leaves distances unchanged; an integer shift keeps integer data exact
            # and removes most of the cancellation in |q|^2 + |d|^2 - 2 q.d.
            self.shift = np.round(database.mean(axis=0))
            self.db = database - self.shift
            self.db_sq = np.einsum("ij,ij->i", self.db, self.db)
            self.db_sq_max = self.db_sq.max()

    def keys(self, Q: np.ndarray) -> np.ndarray:
        """Shape (n_block, n_database), float64."""
        if self.metric == "cosine":
            Q = _pow2_rescale(Q)
            q_norm = np.sqrt(np.einsum("ij,ij->i", Q, Q))
            s = Q @ self.db.T
            s /= np.where(q_norm > 0, q_norm, 1.0)[:, None]
            s /= self.db_norm[None, :]
            return np.negative(s, out=s)
        Q = Q - self.shift
        q_sq = np.einsum("ij,ij->i", Q, Q)
        if not np.isfinite(2.0 * (q_sq.max() + self.db_sq_max)):
            raise DataError(
                "queries/database: values too large for squared Euclidean distances in "
                "float64; rescale the embeddings."
            )
        s = Q @ self.db.T
        s *= -2.0
        s += q_sq[:, None]
        s += self.db_sq[None, :]
        return s


def _stable_top_k(keys: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` smallest keys per row, ties by index: shape (n_rows, k).

    A fast unstable selection (argpartition or quicksort) is kept for the rows whose
    first ``k + 1`` sorted keys are all distinct -- their top ``k`` is then unique; rows
    with a tie there are redone with a stable sort.
    """
    n = keys.shape[1]
    m = min(k + 1, n)
    if 4 * k >= n:
        cand = np.argsort(keys, axis=1)[:, :m]
    else:
        cand = np.argpartition(keys, m - 1, axis=1)[:, :m]
        cand = np.take_along_axis(
            cand, np.argsort(np.take_along_axis(keys, cand, axis=1), axis=1), axis=1
        )
    vals = np.take_along_axis(keys, cand, axis=1)
    top = cand[:, :k]
    tied = (vals[:, 1:] == vals[:, :-1]).any(axis=1)
    if tied.any():
        top[tied] = np.argsort(keys[tied], axis=1, kind="stable")[:, :k]
    return top


def _ranked(
    Q: np.ndarray,
    D: np.ndarray,
    lq: np.ndarray,
    ld: np.ndarray,
    k: int,
    metric: str,
    exclude_offset: int | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Relevance of each query's top ``k``, block by block.

    Yields
    ------
    rel : ndarray of bool, shape (n_block, k)
        Relevance of the best ``k`` database items in rank order.
    n_relevant : ndarray of int, shape (n_block,)
        Relevant items in the whole database.

    With ``exclude_offset``, query ``i`` does not see database item
    ``exclude_offset + i`` (then ``k <= n_database - 1``).
    """
    n_q, n_db = Q.shape[0], D.shape[0]
    multi = lq.ndim == 2
    if multi:
        Lq, Ld = lq.astype(np.float64), ld.astype(np.float64)
    else:
        (cq, cd), n_codes = _encode("query_labels/database_labels", lq, ld)
        counts = np.bincount(cd, minlength=n_codes)
    scorer = _Scorer(D, metric)
    step = max(1, _BLOCK_ELEMENTS // n_db)
    for start in range(0, n_q, step):
        rows = slice(start, min(start + step, n_q))
        keys = scorer.keys(Q[rows])
        m = keys.shape[0]
        if exclude_offset is not None:
            ex = exclude_offset + np.arange(rows.start, rows.stop)
            keys[np.arange(m), ex] = np.inf  # every other key is finite: ranked strictly last
        top = _stable_top_k(keys, k)
        del keys
        if multi:
            R = (Lq[rows] @ Ld.T) > 0
            if exclude_offset is not None:
                R[np.arange(m), ex] = False
            yield np.take_along_axis(R, top, axis=1), R.sum(axis=1)
        else:
            c = cq[rows]
            n_rel = counts[c]
            if exclude_offset is not None:
                n_rel = n_rel - (cd[ex] == c)
            yield cd[top] == c[:, None], n_rel


def _ap_block(rel: np.ndarray, n_rel: np.ndarray, k: int, normalize: str) -> np.ndarray:
    """AP of each row of ``rel`` (b, k): sum of ``j / rank`` of the j-th relevant hit, / N."""
    b = rel.shape[0]
    rows, cols = np.nonzero(rel)  # row-major: each row's hits in rank order
    hits = np.bincount(rows, minlength=b)
    first = np.cumsum(hits) - hits
    j = np.arange(1, len(rows) + 1) - first[rows]
    num = np.bincount(rows, weights=j / (cols + 1.0), minlength=b)
    denom = hits if normalize == "retrieved" else np.minimum(n_rel, k)
    return np.divide(num, denom, out=np.zeros(b), where=denom > 0)


def _average_precisions(
    Q: np.ndarray,
    D: np.ndarray,
    lq: np.ndarray,
    ld: np.ndarray,
    k: Any,
    metric: str,
    normalize: str,
    exclude_offset: int | None = None,
) -> np.ndarray:
    n_rankable = D.shape[0] - (exclude_offset is not None)
    if n_rankable < 1:
        raise DataError(
            "database: expected at least one item besides the query itself; got a database "
            "holding only the query."
        )
    k = _k(k, n_rankable)
    out = [
        _ap_block(rel, n_rel, k, normalize)
        for rel, n_rel in _ranked(Q, D, lq, ld, k, metric, exclude_offset)
    ]
    return np.concatenate(out)
