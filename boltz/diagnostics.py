"""Diagnostics of trained stacks: are the hidden units used, and what do the codes carry?

The questions an RBM practitioner asks of every layer, as numbers:

* how many hidden units are **weakly driven** (their probability hardly changes from
  one item to the next: standard deviation over the data below ``0.05``), and how
  many are **saturated** (probability above 0.99 or below 0.01 for nearly every item);
* the mean activation;
* a **linear probe**: cross-validated accuracy of a logistic regression from the
  layer's code to labels, when labels are given (information the layer kept);
* for a multimodal DBN, how much a generated view **depends on the given one**: the
  change of the generation when the given rows are shuffled among the items.

Used by ``recipes.tags`` and ``recipes.demo``; see ``docs/multimodal.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .errors import DataError

__all__ = ["LayerStats", "code_stats", "dbn_report", "dependence_on_given", "mdbn_report"]

WEAK = 0.05  # std of P(h=1|v) over the data below which a unit is "weakly driven"


@dataclass(frozen=True)
class LayerStats:
    """Use of one layer's hidden units on a data set.

    Attributes
    ----------
    name : str
    n_units : int
    mean_activation : float
        Mean of ``P(h=1|v)`` over items and units.
    weakly_driven : float
        Share of units whose probability has a standard deviation over the items
        below 0.05.
    saturated : float
        Share of units above 0.99 or below 0.01 for at least 99 % of the items.
    probe_accuracy : float or None
        5-fold cross-validated accuracy of a logistic regression on the standardised
        code (None without labels).
    """

    name: str
    n_units: int
    mean_activation: float
    weakly_driven: float
    saturated: float
    probe_accuracy: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _probe(H: np.ndarray, y: Any, folds: int = 5, seed: int = 0) -> float:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    y = np.asarray(y)
    if y.shape[0] != H.shape[0]:
        raise DataError(f"y has {y.shape[0]} labels for {H.shape[0]} items.")
    counts = np.unique(y, return_counts=True)[1]
    k = int(min(folds, counts.min()))
    if k < 2 or counts.size < 2:
        raise DataError("a linear probe needs at least two classes with two items each.")
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    cv = StratifiedKFold(k, shuffle=True, random_state=seed)
    return float(cross_val_score(clf, H, y, cv=cv).mean())


def code_stats(name: str, H: Any, y: Any = None) -> LayerStats:
    """Statistics of one code matrix ``H`` (n_items, n_units) of probabilities.

    Parameters
    ----------
    name : str
    H : array-like, shape (n_items, n_units)
    y : array-like, shape (n_items,), optional
        Labels for the linear probe.
    """
    H = np.asarray(H, dtype=np.float64)
    if H.ndim != 2 or H.shape[0] < 2:
        raise DataError(f"codes must be a 2-D array with at least 2 rows; got shape {H.shape}.")
    extreme = ((H > 0.99) | (H < 0.01)).mean(axis=0) >= 0.99
    return LayerStats(
        name=name,
        n_units=int(H.shape[1]),
        mean_activation=float(H.mean()),
        weakly_driven=float((H.std(axis=0) < WEAK).mean()),
        saturated=float(extreme.mean()),
        probe_accuracy=None if y is None else _probe(H, y),
    )


def dbn_report(dbn: Any, X: Any, y: Any = None, prefix: str = "") -> list[LayerStats]:
    """:func:`code_stats` of every hidden layer of a fitted :class:`boltz.DBN`.

    Parameters
    ----------
    dbn : boltz.DBN
    X : array-like, shape (n_items, n_features)
    y : array-like, optional
        Labels for the linear probes.
    prefix : str
        Prepended to the layer names (``"layer 0"``, ``"layer 1"``...).
    """
    return [
        code_stats(f"{prefix}layer {i}", dbn.transform(X, layer=i), y)
        for i in range(len(dbn.layers_))
    ]


def mdbn_report(mdbn: Any, X: Mapping[str, Any], y: Any = None) -> list[LayerStats]:
    """Every pathway layer, then the joint layer given all views and given each view alone.

    Parameters
    ----------
    mdbn : boltz.MultimodalDBN
    X : dict of str -> array-like
        Every view, the same items.
    y : array-like, optional
        Labels for the linear probes.
    """
    out: list[LayerStats] = []
    for v in mdbn.views_:
        out += dbn_report(mdbn.pathways_[v], X[v], y, prefix=f"{v} ")
    out.append(code_stats("joint (all views)", mdbn.transform(dict(X)), y))
    for v in mdbn.views_:
        out.append(code_stats(f"joint ({v} only)", mdbn.transform({v: X[v]}), y))
    return out


def dependence_on_given(
    mdbn: Any, target: str, given: Mapping[str, Any], random_state: Any = 0, **kw: Any
) -> dict[str, float]:
    """How much the generated ``target`` depends on the ``given`` rows.

    The target is generated from the given rows, then from the same rows shuffled
    among the items (each item gets another item's input).  A generator that ignores
    its input gives the same distribution for both.

    Parameters
    ----------
    mdbn : boltz.MultimodalDBN
    target : str
    given : dict of str -> array-like
    random_state : int
        Seed of the permutation.
    **kw
        Passed to :meth:`boltz.MultimodalDBN.generate`.

    Returns
    -------
    dict
        ``spread``: mean over columns of the standard deviation of the generation
        over items; ``shuffle_change``: mean absolute change per entry between the
        generation from the real and from the shuffled rows, divided by the mean
        absolute deviation of the generation from its column means (0 = the input
        is ignored, about 1.4 = an input-specific generation of independent items).
    """
    gen = mdbn.generate(target, given=given, **kw)
    n = gen.shape[0]
    perm = np.random.default_rng(random_state).permutation(n)
    shuffled = {k: _rows(v, perm) for k, v in given.items()}
    gen_s = mdbn.generate(target, given=shuffled, **kw)
    spread = float(gen.std(axis=0).mean())
    dev = float(np.abs(gen - gen.mean(axis=0)).mean())
    change = float(np.abs(gen - gen_s).mean())
    return {"spread": spread, "shuffle_change": change / dev if dev > 0 else 0.0}


def _rows(X: Any, idx: np.ndarray) -> Any:
    return X[idx] if hasattr(X, "shape") else np.asarray(X)[idx]
