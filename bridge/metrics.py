"""Retrieval and clustering metrics for cross-modal experiments.

Every recipe reports its numbers through this module, so the conventions are
fixed here once.  Only NumPy, SciPy and scikit-learn are imported (no torch).

Retrieval
---------
Each query (a row of ``queries``) ranks every database item (a row of
``database``):

* ``metric="cosine"``: by cosine similarity, highest first.  A zero vector has
  similarity 0 with everything.
* ``metric="euclidean"``: by squared Euclidean distance, smallest first (the same
  order as the distance; the square root is not taken, so no distinct distances
  are merged by rounding).

**Ties** in the score are broken by database index, lowest first (a stable sort
of the negated similarity, or of the distance), so the ranking -- and the MAP of
data with exact ties such as duplicate items or binary codes -- is reproducible.
The papers' evaluation scripts use NumPy's default quicksort, whose tie order is
unspecified; results agree with them whenever scores are distinct.  Scores are
float64 and computed by BLAS matrix products, one block of queries at a time, so
the memory used is bounded (a few arrays of ``_BLOCK_ELEMENTS`` entries) whatever
the number of queries.

**Relevance**: a database item is relevant to a query when they have the same
label (1-D labels: class ids of any type), or, for multi-label 2-D 0/1 indicator
matrices of shape (n, n_labels), when they share at least one label.  A (n, 1)
column is read as class ids (this is how ``scipy.io.loadmat`` returns them).

**Average precision at k** of one query, with ``rel(r)`` = 1 if the item at rank
``r`` is relevant and ``P(r)`` the precision of the top ``r``::

    AP@k = (1 / N) * sum_{r <= k} P(r) * rel(r)

``normalize`` chooses ``N``:

* ``"retrieved"`` (default): ``N = R_k``, the number of relevant items *within the
  top k*.  This is the cross-modal retrieval convention used for the DCCA,
  Corr-AE, DRUMN and HRL comparisons and in the evaluation code published with
  later papers of that line (``fx_calc_map_label`` in the ACMR/DSCMR code bases,
  which the tests reproduce).  It measures how early the retrieved relevant items
  come, not how many are found: a ranking with a single relevant item at rank 1
  scores 1 whatever ``k``.
* ``"relevant"``: ``N = min(k, R)`` with ``R`` the number of relevant items in the
  whole database.  This is the information-retrieval / recommender definition
  (TREC-style AP truncated at k; ``apk`` of the Kaggle ``ml_metrics`` package)
  and penalises relevant items that fall outside the top k.

Both agree when ``k`` is None (all ranks): then ``N = R``, the classic AP.  A query
with no relevant item (in the top k for "retrieved", in the database for
"relevant") contributes AP = 0 and still counts in the mean.  (Some published
multi-label scripts skip such queries instead; drop them beforehand to
reproduce those numbers.)  ``k`` larger than the database is clamped to its size.

Clustering
----------
:func:`clustering_accuracy` (best one-to-one cluster-to-class map, Hungarian
algorithm), :func:`nmi`, :func:`ari`, :func:`purity`, :func:`pairwise_f_score`
and :func:`clustering_report` compare predicted cluster ids with true classes;
labels can be any integers or strings and the two label sets need not have the
same size.

Examples
--------
>>> import numpy as np
>>> from bridge.metrics import mean_average_precision
>>> q = np.array([[1.0, 0.0]])
>>> db = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]])
>>> mean_average_precision(q, db, [0], [0, 1, 0])  # relevance [1, 0, 1]
0.8333333333333333
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from boltz.errors import ConfigError, DataError, DataTypeError

__all__ = [
    "all_modal_map",
    "ari",
    "average_precisions",
    "clustering_accuracy",
    "clustering_report",
    "cross_modal_map",
    "mean_average_precision",
    "nmi",
    "pairwise_f_score",
    "precision_at_k",
    "precision_recall_curve",
    "purity",
]

METRICS = ("cosine", "euclidean")
NORMALIZATIONS = ("retrieved", "relevant")
NMI_AVERAGES = ("arithmetic", "geometric", "min", "max")

#: Score-matrix entries per query block (float64: 16 MiB per temporary array).
_BLOCK_ELEMENTS = 1 << 21

# --------------------------------------------------------------------------- validation


def _to_array(x: Any, name: str, expected: str) -> np.ndarray:
    if sp.issparse(x):
        x = x.toarray()
    try:
        return np.asarray(x)
    except (TypeError, ValueError, RuntimeError) as e:
        raise DataTypeError(
            f"{name}: expected {expected}; got a {type(x).__name__} that NumPy cannot convert "
            f"({e}). Pass a NumPy array (torch tensors: x.detach().cpu().numpy())."
        ) from e


def _embeddings(x: Any, name: str) -> np.ndarray:
    """``x`` as a finite float64 array of shape (n_samples, n_features), or a clear error."""
    expected = "a 2-D real array of shape (n_samples, n_features)"
    arr = _to_array(x, name, expected)
    if arr.dtype.kind not in "biuf":
        raise DataTypeError(
            f"{name}: expected {expected} of bool, int or float dtype; got dtype {arr.dtype}."
        )
    if arr.ndim != 2:
        hint = (
            " Reshape one vector with x[None, :] (one item) or x[:, None] (one feature)."
            if arr.ndim == 1
            else ""
        )
        raise DataError(
            f"{name}: expected {expected}; got a {arr.ndim}-D array of shape {arr.shape}.{hint}"
        )
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise DataError(
            f"{name}: expected at least one row and one column; got an empty array of "
            f"shape {arr.shape}."
        )
    arr = arr.astype(np.float64, copy=False)
    bad = ~np.isfinite(arr)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise DataError(
            f"{name}: expected finite values; got {int(bad.sum())} NaN/inf entries (the first "
            f"at [{r}, {c}] is {arr[r, c]}). Remove or impute them."
        )
    return arr


def _labels(y: Any, name: str, n: int, of: str) -> np.ndarray:
    """Class ids, shape (n,), or a boolean multi-label matrix, shape (n, n_labels)."""
    expected = "1-D class ids (n,) or a 2-D 0/1 multi-label matrix (n, n_labels)"
    arr = _to_array(y, name, expected)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim not in (1, 2):
        raise DataError(
            f"{name}: expected {expected}; got a {arr.ndim}-D array of shape {arr.shape}."
        )
    if arr.shape[0] != n:
        raise DataError(
            f"{name}: expected {n} labels, one per row of {of}; got {arr.shape[0]} "
            f"(shape {arr.shape})."
        )
    if arr.dtype.kind == "c":
        raise DataTypeError(f"{name}: expected real or string labels; got dtype {arr.dtype}.")
    if arr.ndim == 1:
        if arr.dtype.kind == "f" and not np.isfinite(arr).all():
            raise DataError(f"{name}: expected finite labels; got NaN or inf.")
        return arr
    if arr.shape[1] == 0:
        raise DataError(
            f"{name}: a multi-label matrix needs at least one column; got shape {arr.shape}."
        )
    if arr.dtype.kind not in "biuf":
        raise DataTypeError(
            f"{name}: a 2-D label matrix must be a numeric 0/1 indicator matrix; got dtype "
            f"{arr.dtype}. Pass class ids as a 1-D array."
        )
    if not np.isin(arr, (0, 1)).all():
        odd = arr[~np.isin(arr, (0, 1))][:3]
        raise DataError(
            f"{name}: a 2-D label matrix must hold only 0 and 1 (multi-label indicators); got "
            f"values such as {odd.tolist()}. Pass class ids as a 1-D array."
        )
    return arr != 0


def _metric(metric: Any) -> str:
    if metric not in METRICS:
        raise ConfigError(f"metric must be one of {METRICS}; got {metric!r}.")
    return metric


def _normalize(normalize: Any) -> str:
    if normalize not in NORMALIZATIONS:
        raise ConfigError(f"normalize must be one of {NORMALIZATIONS}; got {normalize!r}.")
    return normalize


def _int_at_least(value: Any, name: str, lo: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < lo:
        raise ConfigError(f"{name} must be an integer >= {lo}; got {value!r}.")
    return int(value)


def _k(k: Any, n: int) -> int:
    """``k`` clamped to the ``n`` rankable database items (``None``: all of them)."""
    if k is None:
        return n
    return min(_int_at_least(k, "k", 1), n)


def _retrieval_inputs(
    queries: ArrayLike,
    database: ArrayLike,
    query_labels: ArrayLike,
    database_labels: ArrayLike,
    metric: Any,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]:
    metric = _metric(metric)
    Q = _embeddings(queries, "queries")
    D = _embeddings(database, "database")
    if Q.shape[1] != D.shape[1]:
        raise DataError(
            "queries and database: expected the same number of features (columns); got "
            f"{Q.shape[1]} and {D.shape[1]} (shapes {Q.shape} and {D.shape})."
        )
    lq = _labels(query_labels, "query_labels", Q.shape[0], "queries")
    ld = _labels(database_labels, "database_labels", D.shape[0], "database")
    _check_label_kinds(lq, ld)
    return Q, D, lq, ld, metric


def _check_label_kinds(lq: np.ndarray, ld: np.ndarray) -> None:
    if lq.ndim != ld.ndim:
        raise DataError(
            "query_labels and database_labels: expected both class ids (1-D) or both multi-label "
            f"matrices (2-D); got shapes {lq.shape} and {ld.shape}."
        )
    if lq.ndim == 2 and lq.shape[1] != ld.shape[1]:
        raise DataError(
            "query_labels and database_labels: multi-label matrices need the same number of "
            f"labels (columns); got {lq.shape[1]} and {ld.shape[1]}."
        )
    if lq.ndim == 1:
        numeric = [a.dtype.kind in "biuf" for a in (lq, ld)]
        strings = [a.dtype.kind in "US" for a in (lq, ld)]
        if (numeric[0] and strings[1]) or (strings[0] and numeric[1]):
            raise DataTypeError(
                "query_labels and database_labels: expected labels of one kind; got dtypes "
                f"{lq.dtype} and {ld.dtype} (numbers never equal strings)."
            )


def _encode(name: str, *arrays: np.ndarray) -> tuple[list[np.ndarray], int]:
    """Joint integer codes of 1-D label arrays (equal labels, equal codes)."""
    try:
        uniq, inv = np.unique(np.concatenate(arrays), return_inverse=True)
    except TypeError as e:
        raise DataTypeError(
            f"{name}: expected labels that can be compared and sorted (numbers or strings); "
            f"got values that cannot ({e})."
        ) from e
    inv = inv.reshape(-1)
    cuts = np.cumsum([len(a) for a in arrays])[:-1]
    return np.split(inv, cuts), len(uniq)


# --------------------------------------------------------------------------- ranking


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


# --------------------------------------------------------------------------- retrieval API


def average_precisions(
    queries: ArrayLike,
    database: ArrayLike,
    query_labels: ArrayLike,
    database_labels: ArrayLike,
    k: int | None = None,
    metric: str = "cosine",
    *,
    normalize: str = "retrieved",
) -> np.ndarray:
    """Average precision at ``k`` of every query (see the module docstring for the conventions).

    Parameters
    ----------
    queries : array-like, shape (n_queries, n_features)
        Query embeddings (one modality).
    database : array-like, shape (n_database, n_features)
        Embeddings to retrieve from (usually the other modality).
    query_labels : array-like, shape (n_queries,) or (n_queries, n_labels)
        Class ids (any type), or a 0/1 multi-label matrix.
    database_labels : array-like, shape (n_database,) or (n_database, n_labels)
        Same kind as ``query_labels``.
    k : int >= 1 or None, default None
        Ranks scored; None (and any ``k > n_database``) means the whole database.
    metric : {"cosine", "euclidean"}, default "cosine"
        Ranking by cosine similarity (descending) or Euclidean distance (ascending).
    normalize : {"retrieved", "relevant"}, default "retrieved"
        Divide by the relevant items found in the top ``k`` (cross-modal retrieval code)
        or by ``min(k, relevant items in the database)`` (IR / recommender definition).

    Returns
    -------
    ndarray of float64, shape (n_queries,)
        Each query's AP, in [0, 1]; 0 for a query with nothing relevant to average over.

    Raises
    ------
    boltz.errors.DataError
        Mismatched shapes, non-finite values, empty or 1-D embeddings.
    boltz.errors.DataTypeError
        Non-numeric embeddings, labels of incompatible types.
    boltz.errors.ConfigError
        Unknown ``metric`` / ``normalize``, ``k`` not an integer >= 1.
    """
    Q, D, lq, ld, metric = _retrieval_inputs(
        queries, database, query_labels, database_labels, metric
    )
    return _average_precisions(Q, D, lq, ld, k, metric, _normalize(normalize))


def mean_average_precision(
    queries: ArrayLike,
    database: ArrayLike,
    query_labels: ArrayLike,
    database_labels: ArrayLike,
    k: int | None = None,
    metric: str = "cosine",
    *,
    normalize: str = "retrieved",
) -> float:
    """Mean over queries of :func:`average_precisions` (MAP@k; all ranks when ``k`` is None).

    Parameters
    ----------
    queries : array-like, shape (n_queries, n_features)
    database : array-like, shape (n_database, n_features)
    query_labels : array-like, shape (n_queries,) or (n_queries, n_labels)
    database_labels : array-like, shape (n_database,) or (n_database, n_labels)
    k : int >= 1 or None, default None
    metric : {"cosine", "euclidean"}, default "cosine"
    normalize : {"retrieved", "relevant"}, default "retrieved"
        See :func:`average_precisions`.

    Returns
    -------
    float
        MAP in [0, 1].  Queries with no relevant item count as 0.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.array([[1.0, 0.1], [0.0, 1.0]])
    >>> txt = np.array([[0.9, 0.0], [0.2, 1.0]])
    >>> mean_average_precision(img, txt, [0, 1], [0, 1])
    1.0
    """
    return float(
        np.mean(
            average_precisions(
                queries, database, query_labels, database_labels, k, metric, normalize=normalize
            )
        )
    )


def precision_at_k(
    queries: ArrayLike,
    database: ArrayLike,
    query_labels: ArrayLike,
    database_labels: ArrayLike,
    k: int,
    metric: str = "cosine",
) -> float:
    """Mean over queries of the fraction of relevant items among the top ``k``.

    Parameters
    ----------
    queries : array-like, shape (n_queries, n_features)
    database : array-like, shape (n_database, n_features)
    query_labels : array-like, shape (n_queries,) or (n_queries, n_labels)
    database_labels : array-like, shape (n_database,) or (n_database, n_labels)
    k : int >= 1
        Clamped to ``n_database`` (then the denominator is ``n_database``).
    metric : {"cosine", "euclidean"}, default "cosine"

    Returns
    -------
    float
        P@k in [0, 1], same ranking and tie-breaking as :func:`mean_average_precision`.
    """
    Q, D, lq, ld, metric = _retrieval_inputs(
        queries, database, query_labels, database_labels, metric
    )
    if k is None:
        raise ConfigError("k must be an integer >= 1; got None.")
    k = _k(k, D.shape[0])
    hits = [rel.sum(axis=1) for rel, _ in _ranked(Q, D, lq, ld, k, metric)]
    return float(np.mean(np.concatenate(hits)) / k)


def precision_recall_curve(
    queries: ArrayLike,
    database: ArrayLike,
    query_labels: ArrayLike,
    database_labels: ArrayLike,
    metric: str = "cosine",
    n_points: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Precision-recall curve averaged over queries, as the cross-modal papers plot it.

    Parameters
    ----------
    queries : array-like, shape (n_queries, n_features)
    database : array-like, shape (n_database, n_features)
    query_labels : array-like, shape (n_queries,) or (n_queries, n_labels)
    database_labels : array-like, shape (n_database,) or (n_database, n_labels)
    metric : {"cosine", "euclidean"}, default "cosine"
    n_points : int >= 2 or None, default None
        None: one point per rank.  Otherwise the curve at ``n_points`` recall levels
        ``numpy.linspace(0, 1, n_points)`` (11 gives the classic 11-point curve).

    Returns
    -------
    precision, recall : ndarray of float64
        With ``n_points=None``, shape (n_database,): entry ``r - 1`` is the mean over
        queries of the precision and of the recall of the top ``r`` items.
        Otherwise shape (n_points,): ``recall`` is the fixed levels and ``precision``
        the mean over queries of the *interpolated* precision at each level, the
        largest precision at any rank whose recall is >= the level (the
        TREC / PASCAL VOC interpolation; it makes each query's curve non-increasing).

    Notes
    -----
    Queries with no relevant item in the database have no defined recall and are left
    out of the average (unlike MAP, where they count as 0); if no query has a relevant
    item a :class:`~boltz.errors.DataError` is raised.  Ties are broken as in
    :func:`mean_average_precision`.
    """
    Q, D, lq, ld, metric = _retrieval_inputs(
        queries, database, query_labels, database_labels, metric
    )
    if n_points is not None:
        n_points = _int_at_least(n_points, "n_points", 2)
        levels = np.linspace(0.0, 1.0, n_points)
        total_p = np.zeros(n_points)
    n_db = D.shape[0]
    ranks = np.arange(1, n_db + 1, dtype=np.float64)
    sum_p = np.zeros(n_db)
    sum_r = np.zeros(n_db)
    count = 0
    for rel, n_rel in _ranked(Q, D, lq, ld, n_db, metric):
        keep = n_rel > 0
        cum = np.cumsum(rel[keep], axis=1)
        prec = cum / ranks
        rec = cum / n_rel[keep, None]
        count += int(keep.sum())
        if n_points is None:
            sum_p += prec.sum(axis=0)
            sum_r += rec.sum(axis=0)
        else:
            best = np.maximum.accumulate(prec[:, ::-1], axis=1)[:, ::-1]
            for i in range(len(rec)):  # recall ends at exactly 1.0: every level is reached
                total_p += best[i, np.searchsorted(rec[i], levels, side="left")]
    if count == 0:
        raise DataError(
            "query_labels/database_labels: no query has a relevant database item, so recall "
            "is undefined for every query."
        )
    if n_points is None:
        return sum_p / count, sum_r / count
    return total_p / count, levels


# --------------------------------------------------------------------------- multi-view helpers


def _views(views: Any, name: str) -> dict[str, Any]:
    if not isinstance(views, Mapping):
        raise DataTypeError(
            f"{name}: expected a dict of view name -> embeddings; got {type(views).__name__}."
        )
    for key in views:
        if not isinstance(key, str):
            raise DataTypeError(f"{name}: view names must be strings; got {key!r}.")
    return dict(views)


def _view_labels(labels: Any, names: list[str], name: str) -> dict[str, Any]:
    """One label array per view: ``labels`` shared by all (paired views) or a dict."""
    if isinstance(labels, Mapping):
        missing = [v for v in names if v not in labels]
        if missing:
            raise DataError(
                f"{name}: expected labels for views {names}; missing {missing} "
                f"(got keys {list(labels)})."
            )
        return {v: labels[v] for v in names}
    return dict.fromkeys(names, labels)


def cross_modal_map(
    embeddings: Mapping[str, ArrayLike],
    labels: ArrayLike | Mapping[str, ArrayLike],
    k: int | None = None,
    metric: str = "cosine",
    *,
    normalize: str = "retrieved",
    database: Mapping[str, ArrayLike] | None = None,
    database_labels: ArrayLike | Mapping[str, ArrayLike] | None = None,
) -> dict[str, float]:
    """MAP in both directions between two views (e.g. image -> text and text -> image).

    Parameters
    ----------
    embeddings : dict of str -> array-like, exactly two entries, shapes (n_a, d), (n_b, d)
        The two views, e.g. ``{"image": Zi, "text": Zt}``.  Each view's rows query the
        other view's rows.
    labels : array-like, shape (n,) or (n, n_labels), or dict of str -> array-like
        Shared labels of paired views, or one label array per view name.
    k, metric, normalize
        As in :func:`mean_average_precision`.
    database, database_labels : dict, optional
        Separate retrieval sets (same view names) for protocols with a query set and a
        retrieval set; by default each view retrieves from the other view of
        ``embeddings``.

    Returns
    -------
    dict of str -> float
        ``"a->b"`` and ``"b->a"`` for the two names in the dict's order, and ``"average"``
        (their mean).  When the names are ``"image"`` and ``"text"`` the shorthands
        ``"i2t"`` (= ``"image->text"``) and ``"t2i"`` are added.

    Examples
    --------
    >>> import numpy as np
    >>> Z = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> cross_modal_map({"image": Z, "text": Z}, [0, 1])["i2t"]
    1.0
    """
    views = _views(embeddings, "embeddings")
    if len(views) != 2:
        raise DataError(
            f"embeddings: expected exactly two views; got {len(views)} ({list(views)})."
        )
    names = list(views)
    q_labels = _view_labels(labels, names, "labels")
    if database is None:
        if database_labels is not None:
            raise ConfigError("database_labels is given but database is not; pass both or neither.")
        db, db_labels = views, q_labels
    else:
        db = _views(database, "database")
        missing = [v for v in names if v not in db]
        if missing:
            raise DataError(f"database: expected views {names}; missing {missing}.")
        if database_labels is None:
            raise ConfigError("database is given but database_labels is not; pass both.")
        db_labels = _view_labels(database_labels, names, "database_labels")
    out: dict[str, float] = {}
    for a, b in (names, names[::-1]):
        out[f"{a}->{b}"] = mean_average_precision(
            views[a], db[b], q_labels[a], db_labels[b], k, metric, normalize=normalize
        )
    out["average"] = (out[f"{names[0]}->{names[1]}"] + out[f"{names[1]}->{names[0]}"]) / 2
    if set(names) == {"image", "text"}:
        out["i2t"] = out["image->text"]
        out["t2i"] = out["text->image"]
    return out


def all_modal_map(
    query_emb: ArrayLike | None,
    query_labels: ArrayLike | None,
    views: Mapping[str, ArrayLike],
    labels: ArrayLike | Mapping[str, ArrayLike],
    k: int | None = None,
    metric: str = "cosine",
    *,
    normalize: str = "retrieved",
    query_view: str | None = None,
) -> float:
    """MAP of queries against the union of all views ("image -> all", "text -> all" in HRL).

    The database is every row of every view, stacked in the dict's order.  Nothing is
    excluded for being paired with the query: the other view's row of the same pair is
    relevant like any item of the query's class.  Only the query itself is left out,
    when ``query_view`` says the queries are the rows of one of the views: query ``i``
    then does not retrieve row ``i`` of that view.

    Parameters
    ----------
    query_emb : array-like, shape (n_queries, d), or None
        Query embeddings.  None: the rows of ``views[query_view]``.
    query_labels : array-like, shape (n_queries,) or (n_queries, n_labels), or None
        None: the labels of ``query_view``.
    views : dict of str -> array-like, shapes (n_v, d)
        The database views, e.g. ``{"image": Zi, "text": Zt}`` (one or more).
    labels : array-like or dict of str -> array-like
        Shared labels (paired views of equal length) or one label array per view.
    k, metric, normalize
        As in :func:`mean_average_precision`; ``k`` counts database items of all views.
    query_view : str, optional
        Name of the view the queries are rows of (row ``i`` of ``query_emb`` is row ``i``
        of ``views[query_view]``); enables the exclusion of the query itself.

    Returns
    -------
    float
        MAP in [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> Zi = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> Zt = np.array([[0.9, 0.1], [0.1, 0.9]])
    >>> all_modal_map(None, None, {"image": Zi, "text": Zt}, [0, 1], query_view="image")
    1.0
    """
    views = _views(views, "views")
    if not views:
        raise DataError("views: expected at least one view; got an empty dict.")
    names = list(views)
    raw_labels = _view_labels(labels, names, "labels")
    metric = _metric(metric)
    normalize = _normalize(normalize)
    embs = {v: _embeddings(views[v], f"views[{v!r}]") for v in names}
    dims = {v: e.shape[1] for v, e in embs.items()}
    if len(set(dims.values())) != 1:
        raise DataError(f"views: expected one embedding size for all views; got {dims}.")
    lab = {
        v: _labels(raw_labels[v], f"labels[{v!r}]", embs[v].shape[0], f"views[{v!r}]")
        for v in names
    }
    first = lab[names[0]]
    for v in names[1:]:
        _check_label_kinds(first, lab[v])
    offset = None
    if query_view is not None:
        if query_view not in views:
            raise ConfigError(f"query_view must be one of the views {names}; got {query_view!r}.")
        offset = sum(embs[v].shape[0] for v in names[: names.index(query_view)])
        if query_emb is None:
            query_emb = embs[query_view]
        if query_labels is None:
            query_labels = lab[query_view]
    elif query_emb is None or query_labels is None:
        raise ConfigError("query_emb and query_labels may be None only when query_view is given.")
    Q = _embeddings(query_emb, "query_emb")
    if Q.shape[1] != dims[names[0]]:
        raise DataError(
            f"query_emb and views: expected the same number of features; got {Q.shape[1]} "
            f"and {dims[names[0]]}."
        )
    if query_view is not None and Q.shape[0] != embs[query_view].shape[0]:
        raise DataError(
            f"query_emb: with query_view={query_view!r} expected one query per row of that "
            f"view ({embs[query_view].shape[0]}); got {Q.shape[0]}."
        )
    lq = _labels(query_labels, "query_labels", Q.shape[0], "query_emb")
    _check_label_kinds(lq, first)
    D = np.concatenate([embs[v] for v in names])
    ld = np.concatenate([lab[v] for v in names])
    return float(np.mean(_average_precisions(Q, D, lq, ld, k, metric, normalize, offset)))


# --------------------------------------------------------------------------- clustering


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
