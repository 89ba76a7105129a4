"""The validation pairs of an HRL fit: given, or a stratified share held out of the
training pairs (when ``fit`` gets no ``views_val``)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from boltz.errors import DataError

__all__ = ["hold_out", "stratified_split"]


def stratified_split(y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(train, held_out)``: ``fraction`` of every class held out (at least one).

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Class labels (or their indices).
    fraction : float in (0, 1)
        Share of each class held out, rounded half up; a class of one sample stays whole
        in the training part.
    seed : int
        Seeds the permutation within each class.

    Returns
    -------
    train, held_out : ndarray of int
        Sorted row indices, disjoint, covering ``range(n_samples)``.

    Raises
    ------
    DataError
        No class has two samples, so nothing can be held out.
    """
    rng = np.random.default_rng(seed)
    held = []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        k = max(1, int(math.floor(fraction * len(idx) + 0.5))) if len(idx) > 1 else 0
        held.extend(rng.permutation(idx)[:k].tolist())
    held_arr = np.sort(np.asarray(held, dtype=int))
    if held_arr.size == 0:
        raise DataError("too few samples per class to hold out a validation set; pass views_val.")
    mask = np.ones(len(y), dtype=bool)
    mask[held_arr] = False
    return np.flatnonzero(mask), held_arr


def hold_out(
    V: Mapping[str, Any],
    Y: np.ndarray,
    V_val: Mapping[str, Any] | None,
    Y_val: np.ndarray | None,
    fraction: float,
    seed: int,
) -> tuple[np.ndarray, dict[str, Any], np.ndarray, dict[str, Any], np.ndarray]:
    """The classes, and the training and validation pairs with class indices.

    Parameters
    ----------
    V : dict[str, ndarray or CSR], (n_samples, n_features_v)
        Validated training views.
    Y : ndarray of shape (n_samples,)
        Their labels.
    V_val, Y_val : dict and ndarray, or None
        Validation pairs; None: ``fraction`` of each class of ``V`` is held out
        (:func:`stratified_split` seeded with ``seed``).
    fraction : float in (0, 1)
    seed : int

    Returns
    -------
    classes : ndarray of shape (n_classes,)
        The sorted labels of ``Y``.
    V, y_idx, V_val, yv_idx
        Training views and class indices, validation views and class indices.

    Raises
    ------
    DataError
        Fewer than two classes, or validation labels not seen in ``Y``.
    """
    classes = np.unique(Y)
    if len(classes) < 2:
        raise DataError(f"y must hold at least two classes; got {classes.tolist()}.")
    y_idx = np.searchsorted(classes, Y)
    if V_val is None:
        tr, va = stratified_split(y_idx, fraction, seed)
        V_val = {k: X[va] for k, X in V.items()}
        V = {k: X[tr] for k, X in V.items()}
        return classes, V, y_idx[tr], V_val, y_idx[va]
    unknown = ~np.isin(Y_val, classes)
    if unknown.any():
        raise DataError(
            f"y_val has labels not seen in y: {np.unique(Y_val[unknown]).tolist()[:5]}."
        )
    return classes, dict(V), y_idx, dict(V_val), np.searchsorted(classes, Y_val)
