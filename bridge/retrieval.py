"""Retrieval metrics: average precision, MAP, precision at k, precision-recall curves
and the cross-modal / all-modal MAP of multi-view embeddings.

The conventions (ranking, ties, relevance, the two normalisations of AP@k) are
those of :mod:`bridge.metrics`, which re-exports every function here.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike

from boltz.errors import ConfigError, DataError

from .metric_inputs import (
    _check_label_kinds,
    _embeddings,
    _int_at_least,
    _k,
    _labels,
    _metric,
    _normalize,
    _retrieval_inputs,
    _view_labels,
    _views,
)
from .ranking import _average_precisions, _ranked

__all__ = [
    "all_modal_map",
    "average_precisions",
    "cross_modal_map",
    "mean_average_precision",
    "precision_at_k",
    "precision_recall_curve",
]


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
    """Average precision at ``k`` of every query (conventions: :mod:`bridge.metrics`).

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
    queries, database, query_labels, database_labels, k, metric, normalize
        As in :func:`average_precisions`.

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
    queries, database, query_labels, database_labels : array-like
        As in :func:`average_precisions`.
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
    queries, database, query_labels, database_labels : array-like
        As in :func:`average_precisions`.
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
