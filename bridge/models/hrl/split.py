"""The held-out split of HRL's training pairs (when ``fit`` gets no ``views_val``)."""

from __future__ import annotations

import math

import numpy as np

from boltz.errors import DataError

__all__ = ["stratified_split"]


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
