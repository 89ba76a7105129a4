"""Tiny HRL settings and synthetic paired views with class structure."""

from __future__ import annotations

from typing import Any

import numpy as np

from bridge.synthetic import make_paired_views

N_CLASSES = 4
TINY_STAGE1 = dict(
    friendly_hidden=(24, 16),
    mutual_hidden=(24, 16),
    joint_hidden=24,
    epochs=10,
    batch_size=32,
    learning_rate={"gaussian": 0.01, "softmax": 0.003},
)
TINY = dict(
    joint_ae_hidden=24, ff_hidden=(24, 24), n_bae_max=2, epochs=8, patience=4, batch_size=16
)


def make_data() -> dict[str, tuple[dict[str, Any], np.ndarray]]:
    """``{"train" | "val" | "test": (views, y)}``: 240 / 60 / 100 pairs, an image view
    of 16 real features and a text view of 24 word counts, 4 classes."""
    views, y = make_paired_views(
        400, dims=(16, 24), n_classes=N_CLASSES, noise=0.5, random_state=3, names=("image", "text")
    )
    rng = np.random.default_rng(0)
    # the text view as word counts (replicated-softmax pathway)
    views["text"] = rng.poisson(np.exp(np.clip(views["text"], -3, 3) / 2)).astype(np.float64)
    parts = {"train": slice(0, 240), "val": slice(240, 300), "test": slice(300, 400)}
    return {k: ({v: x[s] for v, x in views.items()}, y[s]) for k, s in parts.items()}
