"""The training loop: epochs, reshuffling, batches, monitoring, progress, checkpoints.

The trainer owns no math: it asks the gradient estimator for phases and the
optimiser for an update, and it is shared by every RBM layer (single RBMs,
DBN layers and the joint layer of a multimodal DBN).
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .backend import Backend, is_sparse
from .distributed import SlicedGenerator, current
from .divergence import check_epoch
from .gradients import CD
from .model import RBMModel
from .monitor import pseudo_log_likelihood, reconstruction_error
from .optim import SGD

logger = logging.getLogger(__name__)

__all__ = ["Trainer", "iter_batches", "make_progress"]


def make_progress(total: int, desc: str, progress: Any) -> Any:
    """A tqdm bar on stderr; ``progress="auto"`` shows it only on a terminal."""
    from tqdm.auto import tqdm

    if progress == "auto":
        disable = not sys.stderr.isatty()
    else:
        disable = not bool(progress)
    return tqdm(total=total, desc=desc, disable=disable, leave=False, file=sys.stderr)


def take_rows(X: Any, idx: np.ndarray) -> Any:
    """Rows ``idx`` (sorted) of an array, sparse matrix, memmap or any row-indexable dataset."""
    if isinstance(X, np.ndarray) or is_sparse(X):
        return X[idx]
    try:
        return np.asarray(X[idx])
    except (TypeError, IndexError, ValueError):  # datasets without fancy indexing
        return np.stack([np.asarray(X[int(i)]) for i in idx])


def iter_batches(n: int, batch_size: int, order: np.ndarray | None = None):
    """Yield sorted index arrays of consecutive ``batch_size`` slices of ``order``."""
    order = np.arange(n) if order is None else order
    for s in range(0, n, batch_size):
        yield np.sort(order[s : s + batch_size])


class Trainer:
    """Runs epochs of CD/PCD updates on one :class:`RBMModel`.

    Parameters
    ----------
    model, estimator, optimizer
        The layer, its gradient estimator and optimiser.
    batch_size : int
    shuffle_rng : numpy.random.Generator
        Host stream for the per-epoch permutation.
    sample_rng : generator
        Device stream for Gibbs sampling.
    preprocess : callable
        Host rows -> device batch (dtype, standardisation).
    monitor_size : int
        Rows of the training (and validation) set used for per-epoch diagnostics.
    ais_every : int
        Compute an AIS log-likelihood every this many epochs (0: never).
    ais_fn : callable or None
        ``ais_fn(rows) -> float`` mean log-likelihood, used when ``ais_every``.
    """

    def __init__(
        self,
        model: RBMModel,
        estimator: CD,
        optimizer: SGD,
        batch_size: int,
        shuffle_rng: np.random.Generator,
        sample_rng: Any,
        preprocess: Callable[[Any], Any],
        monitor_size: int = 256,
        ais_every: int = 0,
        ais_fn: Callable[[Any], float] | None = None,
        progress: Any = "auto",
        desc: str = "RBM",
    ) -> None:
        self.model = model
        self.estimator = estimator
        self.optimizer = optimizer
        self.batch_size = int(batch_size)
        self.shuffle_rng = shuffle_rng
        self.sample_rng = sample_rng
        self.preprocess = preprocess
        self.monitor_size = int(monitor_size)
        self.ais_every = int(ais_every)
        self.ais_fn = ais_fn
        self.progress = progress
        self.desc = desc

    @property
    def backend(self) -> Backend:
        return self.model.backend

    def _monitor_rows(self, n: int) -> np.ndarray:
        m = min(n, self.monitor_size)
        return np.unique(np.linspace(0, n - 1, m).astype(np.int64)) if m > 0 else np.arange(0)

    def evaluate(self, X: Any, X_val: Any, epoch: int) -> dict[str, float]:
        """Diagnostics on fixed monitor subsets (no randomness is consumed)."""
        rec: dict[str, float] = {"epoch": float(epoch)}
        if self.monitor_size <= 0:
            return rec
        rows = self._monitor_rows(X.shape[0])
        vb = self.preprocess(take_rows(X, rows))
        rec["recon_error"] = reconstruction_error(self.model, vb)
        rec["free_energy"] = float(self.model.free_energy(vb).mean())
        if all(g.unit.name == "bernoulli" for g in self.model.groups):
            # O(rows·V·H): on at most 64 monitor rows
            rec["pseudo_likelihood"] = pseudo_log_likelihood(self.model, vb[:64])
        if X_val is not None:
            vrows = self._monitor_rows(X_val.shape[0])
            vv = self.preprocess(take_rows(X_val, vrows))
            rec["free_energy_val"] = float(self.model.free_energy(vv).mean())
            rec["free_energy_gap"] = rec["free_energy_val"] - rec["free_energy"]
            rec["recon_error_val"] = reconstruction_error(self.model, vv)
        if self.ais_every and self.ais_fn is not None and (epoch + 1) % self.ais_every == 0:
            rec["ais_log_likelihood"] = float(self.ais_fn(take_rows(X, rows)))
            if X_val is not None:
                rec["ais_log_likelihood_val"] = float(self.ais_fn(take_rows(X_val, vrows)))
        return rec

    def run_epoch(self, X: Any, epoch: int, bar: Any = None) -> None:
        """One pass over ``X`` in a fresh random order.

        Under :func:`boltz.distributed.data_parallel` every process takes its share
        of each global batch and the statistics are all-reduced before the update.
        """
        n = X.shape[0]
        order = self.shuffle_rng.permutation(n)
        red = current()
        rng = self.sample_rng
        if red is not None:
            rng = SlicedGenerator(self.sample_rng, red.rank)
            if self.estimator.persistent:
                total = getattr(self.estimator, "n_chains_global", None) or self.estimator.n_chains
                total = total or self.batch_size
                self.estimator.n_chains_global = total
                sizes = [len(p) for p in np.array_split(np.arange(total), red.world)]
                self.estimator.n_chains = sizes[red.rank]
                rng.set_split(sizes, key="chains")
        for idx in iter_batches(n, self.batch_size, order):
            if red is not None:
                idx, sizes = red.split(idx)
                rng.set_split(sizes)
            v0 = self.preprocess(take_rows(X, idx))
            phases = self.estimator.phases(self.model, v0, rng)
            self.optimizer.step(self.model, phases, epoch, reducer=red)
            if bar is not None:
                bar.update(len(idx))

    def fit(
        self,
        X: Any,
        X_val: Any,
        start_epoch: int,
        end_epoch: int,
        history: list[dict[str, float]],
        on_epoch_end: Sequence[Callable[[int, dict[str, float]], None]] = (),
    ) -> None:
        """Train epochs ``start_epoch .. end_epoch - 1``, appending to ``history``."""
        n = X.shape[0]
        total = max(0, end_epoch - start_epoch) * n
        with make_progress(total, self.desc, self.progress) as bar:
            for epoch in range(start_epoch, end_epoch):
                t0 = time.perf_counter()
                self.run_epoch(X, epoch, bar)
                rec = self.evaluate(X, X_val, epoch)
                rec["seconds"] = time.perf_counter() - t0
                history.append(rec)
                msg = " ".join(f"{k}={v:.4g}" for k, v in rec.items() if k != "epoch")
                logger.info("%s epoch %d/%d %s", self.desc, epoch + 1, end_epoch, msg)
                bar.set_postfix({k: f"{v:.3g}" for k, v in rec.items() if k in ("recon_error",)})
                check_epoch(self.model, rec, history, epoch, self.optimizer.learning_rate)
                for cb in on_epoch_end:
                    cb(epoch, rec)
