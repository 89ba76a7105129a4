"""Scoring generated tags and the simple baselines a tag generator must beat.

A tag generator gives, for every query item (an image), a score per word of the
vocabulary (e.g. the word probabilities of :meth:`boltz.MultimodalDBN.generate`).
Two protocols are measured here:

* the **image-annotation protocol** of the literature (Duygulu et al. 2002;
  Lavrenko et al. 2003): every item is annotated with its ``n_words = 5``
  best-scoring words; for each word, precision = correct / times predicted and
  recall = correct / times in the ground truth, averaged over the words that occur
  in the ground truth (a word never predicted has precision 0); ``n_plus`` is the
  number of those words with recall > 0 and ``f1`` the harmonic mean of the two
  means;
* **precision@k per item**: the fraction of an item's ``k`` best words that occur
  in its ground truth.

The baselines use the training pairs only: word frequency (the same words for
every item), similarity-weighted nearest-neighbour label transfer, and one
logistic regression per word.

Annotation with 5 words per item rewards naming *rare* words when the item calls for
them, which ranking by probability does not: the frequent words fill every list.
:func:`frequency_adjusted` divides the scores by the tags' training frequency raised to
an exponent (0: the probabilities; 1: the ratio P(tag | item) / P(tag)), and
:func:`choose_frequency_exponent` picks the exponent on held-out training items.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from .errors import ConfigError, DataError

__all__ = [
    "FREQUENCY_EXPONENTS",
    "AnnotationScores",
    "annotation_scores",
    "choose_frequency_exponent",
    "frequency_adjusted",
    "frequency_scores",
    "knn_label_transfer",
    "logistic_scores",
    "precision_at_k",
    "tag_frequency",
    "top_k",
]

FREQUENCY_EXPONENTS: tuple[float, ...] = tuple(round(0.1 * i, 1) for i in range(11))
"""The exponents :func:`choose_frequency_exponent` tries by default (0, 0.1, ..., 1)."""


def _dense(Y: Any, name: str) -> np.ndarray:
    a = Y.toarray() if sp.issparse(Y) else np.asarray(Y)
    if a.ndim != 2:
        raise DataError(f"{name} must be a 2-D array (n_items, n_words); got shape {a.shape}.")
    return a


def _check_pair(scores: Any, Y: Any) -> tuple[np.ndarray, np.ndarray]:
    s = _dense(scores, "scores").astype(np.float64, copy=False)
    y = _dense(Y, "Y_true") > 0
    if s.shape != y.shape:
        raise DataError(
            f"scores has shape {s.shape} but Y_true has shape {y.shape}; give one score per "
            "(item, word) of the ground truth."
        )
    if not np.all(np.isfinite(s) | (s == -np.inf)):
        raise DataError("scores must be finite (or -inf for words that can never be chosen).")
    return s, y


def top_k(scores: Any, k: int) -> np.ndarray:
    """Column indices of the ``k`` best scores of every row, best first.

    Parameters
    ----------
    scores : array-like, shape (n, V)
    k : int
        Words per row (at most V).

    Returns
    -------
    ndarray of int, shape (n, min(k, V))
        Ties are broken by column order.
    """
    s = _dense(scores, "scores")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ConfigError(f"k must be an integer >= 1; got {k!r}.")
    return np.argsort(-s, axis=1, kind="stable")[:, : min(int(k), s.shape[1])]


@dataclass(frozen=True)
class AnnotationScores:
    """The image-annotation protocol's numbers (see the module docstring).

    Attributes
    ----------
    precision, recall, f1 : float
        Mean per-word precision and recall over the words present in the ground
        truth, and their harmonic mean.
    n_plus : int
        Words present in the ground truth with recall > 0.
    n_words_present : int
        Words present in the ground truth (the averages run over these).
    n_distinct_predicted : int
        Words predicted for at least one item.
    precision_per_item : float
        Mean over items of (correct words among the ``n_words``) / ``n_words``.
    n_words : int
        Words annotated per item.
    """

    precision: float
    recall: float
    f1: float
    n_plus: int
    n_words_present: int
    n_distinct_predicted: int
    precision_per_item: float
    n_words: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def annotation_scores(scores: Any, Y_true: Any, n_words: int = 5) -> AnnotationScores:
    """Annotate every item with its ``n_words`` best words and score the annotation.

    Parameters
    ----------
    scores : array-like, shape (n_items, V)
        Higher is better; only the order within a row matters.
    Y_true : array-like or sparse, shape (n_items, V)
        Ground truth (non-zero = the word annotates the item).
    n_words : int, default 5
        Words per item (the literature's protocol uses 5).

    Returns
    -------
    AnnotationScores
    """
    s, y = _check_pair(scores, Y_true)
    top = top_k(s, n_words)
    pred = np.zeros_like(y)
    np.put_along_axis(pred, top, True, axis=1)
    correct = (pred & y).sum(axis=0)
    n_pred = pred.sum(axis=0)
    n_true = y.sum(axis=0)
    present = n_true > 0
    if not present.any():
        raise DataError("Y_true has no positive entry; nothing to score against.")
    prec = np.where(n_pred > 0, correct / np.maximum(n_pred, 1), 0.0)[present].mean()
    rec = (correct / np.maximum(n_true, 1))[present].mean()
    f1 = 2 * prec * rec / (prec + rec) if prec + rec > 0 else 0.0
    return AnnotationScores(
        precision=float(prec),
        recall=float(rec),
        f1=float(f1),
        n_plus=int(((correct > 0) & present).sum()),
        n_words_present=int(present.sum()),
        n_distinct_predicted=int((n_pred > 0).sum()),
        precision_per_item=float((pred & y).sum(axis=1).mean() / top.shape[1]),
        n_words=int(top.shape[1]),
    )


def precision_at_k(scores: Any, Y_true: Any, k: int = 10) -> float:
    """Mean over items of the fraction of the ``k`` best words present in the item.

    Parameters
    ----------
    scores : array-like, shape (n_items, V)
    Y_true : array-like or sparse, shape (n_items, V)
        Non-zero = present (e.g. word counts of the held-out text).
    k : int, default 10

    Returns
    -------
    float
    """
    s, y = _check_pair(scores, Y_true)
    top = top_k(s, k)
    return float(np.take_along_axis(y, top, axis=1).mean())


def frequency_scores(Y_train: Any, n_items: int) -> np.ndarray:
    """The same scores for every item: how many training items each word occurs in.

    Parameters
    ----------
    Y_train : array-like or sparse, shape (n_train, V)
    n_items : int
        Rows of the returned matrix.

    Returns
    -------
    ndarray, shape (n_items, V)
        The document frequency of every word (the best constant annotation).
    """
    df = np.asarray((_sparse_or_dense(Y_train) > 0).sum(axis=0), dtype=np.float64).ravel()
    return np.broadcast_to(df, (int(n_items), df.size)).copy()


def tag_frequency(Y_train: Any) -> np.ndarray:
    """The smoothed share of training items each tag occurs in, ``(count + 1) / (n + 2)``.

    Parameters
    ----------
    Y_train : array-like or sparse, shape (n_train, V)
        Non-zero = the tag occurs.

    Returns
    -------
    ndarray, shape (V,)
        In (0, 1); never 0, so it can divide.
    """
    Y = _sparse_or_dense(Y_train)
    if Y.ndim != 2 or Y.shape[0] == 0:
        raise DataError(f"Y_train must be a non-empty 2-D array; got shape {Y.shape}.")
    count = np.asarray((Y > 0).sum(axis=0), dtype=np.float64).ravel()
    return (count + 1.0) / (Y.shape[0] + 2.0)


def frequency_adjusted(scores: Any, frequency: Any, exponent: float) -> np.ndarray:
    """``scores / frequency ** exponent``: demote words for being frequent.

    Parameters
    ----------
    scores : array-like, shape (n_items, V)
        Non-negative (probabilities, similarity-weighted votes).
    frequency : array-like, shape (V,)
        Positive, e.g. :func:`tag_frequency`.
    exponent : float
        0 returns the scores; 1 the ratio to the prior when ``scores`` are
        probabilities.

    Returns
    -------
    ndarray, shape (n_items, V)
    """
    s = _dense(scores, "scores").astype(np.float64)
    f = np.asarray(frequency, dtype=np.float64).ravel()
    if f.shape != (s.shape[1],) or not np.all(f > 0):
        raise DataError(
            f"frequency must hold one positive value per word ({s.shape[1]}); got shape {f.shape}."
        )
    e = float(exponent)
    if not np.isfinite(e) or e < 0:
        raise ConfigError(f"exponent must be a finite number >= 0; got {exponent!r}.")
    return s if e == 0 else s / f**e


def choose_frequency_exponent(
    scores: Any,
    Y_true: Any,
    frequency: Any,
    n_words: int = 5,
    exponents: Any = FREQUENCY_EXPONENTS,
) -> tuple[float, dict[float, float]]:
    """The exponent of :func:`frequency_adjusted` with the best annotation F1.

    Parameters
    ----------
    scores : array-like, shape (n_items, V)
        Scores of held-out items (never the test items).
    Y_true : array-like or sparse, shape (n_items, V)
        Their tags.
    frequency : array-like, shape (V,)
    n_words : int, default 5
    exponents : sequence of float, default :data:`FREQUENCY_EXPONENTS`

    Returns
    -------
    exponent : float
        The smallest of the best.
    f1 : dict of float -> float
        Annotation F1 for every exponent tried.
    """
    grid = [float(e) for e in exponents]
    if not grid:
        raise ConfigError("exponents must not be empty.")
    f1 = {
        e: annotation_scores(frequency_adjusted(scores, frequency, e), Y_true, n_words).f1
        for e in grid
    }
    best = max(f1.values())
    return min(e for e, v in f1.items() if v == best), f1


def _sparse_or_dense(Y: Any) -> Any:
    return Y if sp.issparse(Y) else np.asarray(Y)


def _similarity(Xq: np.ndarray, Xt: np.ndarray, metric: str) -> np.ndarray:
    if metric == "jaccard":
        bq, bt = (Xq > 0).astype(np.float64), (Xt > 0).astype(np.float64)
        inter = bq @ bt.T
        union = bq.sum(1)[:, None] + bt.sum(1)[None, :] - inter
        return inter / np.maximum(union, 1.0)
    nq = np.linalg.norm(Xq, axis=1, keepdims=True)
    nt = np.linalg.norm(Xt, axis=1, keepdims=True)
    return (Xq / np.maximum(nq, 1e-12)) @ (Xt / np.maximum(nt, 1e-12)).T


def knn_label_transfer(
    X_train: Any,
    Y_train: Any,
    X_query: Any,
    k: int = 10,
    metric: str = "auto",
    batch_size: int = 1024,
    exclude_self: bool = False,
) -> np.ndarray:
    """Nearest-neighbour label transfer: the neighbours' words weighted by similarity.

    Parameters
    ----------
    X_train : array-like or sparse, shape (n_train, D)
    Y_train : array-like or sparse, shape (n_train, V)
    X_query : array-like or sparse, shape (n_query, D)
    k : int, default 10
        Neighbours per query.
    metric : {"auto", "jaccard", "cosine"}, default "auto"
        Jaccard on binary features (Corel5k's blob sets), cosine otherwise
        ("auto" picks by the training features).
    batch_size : int, default 1024
        Queries per block (memory is batch_size x n_train).
    exclude_self : bool, default False
        The queries are the training items themselves (same rows, same order) and
        none is its own neighbour: leave-one-out scores of the training items.

    Returns
    -------
    ndarray, shape (n_query, V)
        ``sum_{j in kNN(q)} sim(q, j) * Y_train[j]``.
    """
    Xt = _dense(X_train, "X_train").astype(np.float64)
    Xq = _dense(X_query, "X_query").astype(np.float64)
    Yt = _dense(Y_train, "Y_train").astype(np.float64)
    if Xt.shape[1] != Xq.shape[1]:
        raise DataError(f"X_query has {Xq.shape[1]} features but X_train has {Xt.shape[1]}.")
    if Xt.shape[0] != Yt.shape[0]:
        raise DataError(f"X_train has {Xt.shape[0]} rows but Y_train has {Yt.shape[0]}.")
    if exclude_self and Xq.shape[0] != Xt.shape[0]:
        raise DataError(
            f"exclude_self=True needs the training items as queries; got {Xq.shape[0]} "
            f"queries for {Xt.shape[0]} training items."
        )
    if metric == "auto":
        metric = "jaccard" if np.isin(Xt, (0.0, 1.0)).all() else "cosine"
    if metric not in ("jaccard", "cosine"):
        raise ConfigError(f"metric must be 'auto', 'jaccard' or 'cosine'; got {metric!r}.")
    k = min(int(k), Xt.shape[0] - (1 if exclude_self else 0))
    out = np.empty((Xq.shape[0], Yt.shape[1]))
    for s in range(0, Xq.shape[0], batch_size):
        sim = _similarity(Xq[s : s + batch_size], Xt, metric)
        if exclude_self:
            b = sim.shape[0]
            sim[np.arange(b), s + np.arange(b)] = -np.inf
        nn = np.argsort(-sim, axis=1, kind="stable")[:, :k]
        w = np.take_along_axis(sim, nn, axis=1)
        out[s : s + batch_size] = np.einsum("qk,qkv->qv", w, Yt[nn])
    return out


def logistic_scores(
    X_train: Any, Y_train: Any, X_query: Any, C: float = 1.0, max_iter: int = 500
) -> np.ndarray:
    """One logistic regression per word on standardised features (decision values).

    Parameters
    ----------
    X_train : array-like or sparse, shape (n_train, D)
    Y_train : array-like or sparse, shape (n_train, V)
        Non-zero = the word annotates the item.
    X_query : array-like or sparse, shape (n_query, D)
    C : float, default 1.0
        Inverse L2 strength (scikit-learn's convention).
    max_iter : int, default 500

    Returns
    -------
    ndarray, shape (n_query, V)
        Decision values; ``-inf`` for a word no training item has, the log-odds of
        its frequency for a word every training item has.
    """
    from scipy.optimize import minimize
    from sklearn.preprocessing import StandardScaler

    Xt = _dense(X_train, "X_train").astype(np.float64)
    Xq = _dense(X_query, "X_query").astype(np.float64)
    Yt = (_dense(Y_train, "Y_train") > 0).astype(np.float64)
    scaler = StandardScaler().fit(Xt)
    Xt, Xq = scaler.transform(Xt), scaler.transform(Xq)
    n, d = Xt.shape
    n_pos = Yt.sum(axis=0)
    fit = (n_pos > 0) & (n_pos < n)
    out = np.empty((Xq.shape[0], Yt.shape[1]))
    out[:, n_pos == 0] = -np.inf
    out[:, n_pos == n] = np.log(n + 1.0)
    if fit.any():
        # The words' problems are independent (no shared parameter), so one L-BFGS run
        # over all of them minimises each word's objective -- scikit-learn's
        # C * sum(log loss) + ||w||^2 / 2, intercept unpenalised -- at matrix speed.
        Y = Yt[:, fit]
        k = Y.shape[1]
        prior = np.log(n_pos[fit] / (n - n_pos[fit]))

        def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
            W, b = theta[: d * k].reshape(d, k), theta[d * k :]
            Z = Xt @ W + b
            loss = np.logaddexp(0.0, Z) - Y * Z
            G = (1.0 / (1.0 + np.exp(-Z)) - Y) * C
            f = C * loss.sum() + 0.5 * float((W * W).sum())
            return f, np.concatenate([(Xt.T @ G + W).ravel(), G.sum(axis=0)])

        theta0 = np.concatenate([np.zeros(d * k), prior])
        res = minimize(
            objective,
            theta0,
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": int(max_iter), "gtol": 1e-6},
        )
        W, b = res.x[: d * k].reshape(d, k), res.x[d * k :]
        out[:, fit] = Xq @ W + b
    return out
