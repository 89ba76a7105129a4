"""The minibatch order of the bridge models' training.

:func:`minibatches` is the one draw of an epoch's batches: the single-process loop
(:func:`bridge.models._training.train_loop`, DM2C's adversarial loop) uses it directly, and
the data-parallel sampler (:class:`bridge.distributed.BatchShardSampler`) draws the same
batches with it and shards them, so both see the same global batches.
"""

from __future__ import annotations

import torch

__all__ = ["batch_sizes", "minibatches"]


def minibatches(n: int, batch_size: int, generator: torch.Generator) -> list[torch.Tensor]:
    """A fresh random order of ``range(n)`` cut into batches of ``batch_size`` rows.

    A last batch smaller than ``batch_size`` is merged into the one before it, so every
    batch has at least ``min(n, batch_size)`` rows (the DCCA covariances need many).
    """
    perm = torch.randperm(n, generator=generator)
    sizes = batch_sizes(n, batch_size)
    bounds = [i * batch_size for i in range(len(sizes))] + [n]
    return [perm[bounds[i] : bounds[i + 1]] for i in range(len(sizes))]


def batch_sizes(n: int, batch_size: int) -> list[int]:
    """Rows of each batch of :func:`minibatches`: ``batch_size`` each, the remainder in the
    last one (``max(1, n // batch_size)`` batches)."""
    n_batches = max(1, n // batch_size)
    return [batch_size] * (n_batches - 1) + [n - (n_batches - 1) * batch_size]
