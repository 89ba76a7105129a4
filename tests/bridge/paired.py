"""Synthetic paired views split by rows into a training part and a held-out part."""

from __future__ import annotations

from typing import Any

import numpy as np

from bridge.synthetic import make_paired_views


def split_pairs(
    views: dict[str, np.ndarray], n: int
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The first ``n`` rows of every view, and the rest."""
    return {k: v[:n] for k, v in views.items()}, {k: v[n:] for k, v in views.items()}


def paired_split(n_train: int, n_rest: int, **kw: Any) -> tuple[Any, Any, Any, Any]:
    """``make_paired_views(n_train + n_rest, **kw)`` split after row ``n_train``:
    ``(train views, train labels, held-out views, held-out labels)`` (labels None
    without ``n_classes``)."""
    views, y = make_paired_views(n_train + n_rest, **kw)
    train, rest = split_pairs(views, n_train)
    if y is None:
        return train, None, rest, None
    return train, y[:n_train], rest, y[n_train:]
