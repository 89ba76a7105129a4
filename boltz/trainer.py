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
from .monitor import diagnostics
from .optim import SGD
from .progress import progress_enabled

logger = logging.getLogger(__name__)

__all__ = ["Trainer", "iter_batches", "make_progress", "monitor_rows"]

#: Default monitoring may cost at most this share of the training work of an epoch.
MONITOR_BUDGET = 0.05
#: GEMM-equivalents per monitored row: ``v W`` and ``P(h|v) W^T``, plus the
#: elementwise work (softplus, sigmoid, the sampled pseudo-likelihood), measured
#: at about two more (``docs/rbm.md``, "Monitoring").
MONITOR_GEMMS = 4.0
#: Below this many flops a monitoring pass is too cheap to matter and is not cut.
MONITOR_FLOOR = 1e8
#: The budget never cuts a monitor subset below this many rows.
MONITOR_MIN_ROWS = 16
#: Visibles per row of the sampled pseudo-likelihood.
MONITOR_PL_VISIBLES = 2


def make_progress(total: int, desc: str, progress: Any) -> Any:
    """A tqdm bar on stderr; ``progress="auto"`` (or None) shows it only on a terminal."""
    from tqdm.auto import tqdm

    disable = not progress_enabled(progress)
    return tqdm(total=total, desc=desc, disable=disable, leave=False, file=sys.stderr)


def take_rows(X: Any, idx: np.ndarray) -> Any:
    """Rows ``idx`` (sorted) of an array, sparse matrix, memmap or any row-indexable dataset."""
    if isinstance(X, np.ndarray) or is_sparse(X):
        return X[idx]
    try:
        return np.asarray(X[idx])
    except (TypeError, IndexError, ValueError):  # datasets without fancy indexing
        return np.stack([np.asarray(X[int(i)]) for i in idx])


def monitor_rows(
    n: int,
    n_val: int,
    n_train: int,
    monitor_size: int,
    shape: tuple[int, int],
    k: int = 1,
    budget: float | None = MONITOR_BUDGET,
) -> tuple[int, int]:
    """Rows of the training and validation sets the per-epoch diagnostics use.

    At most ``monitor_size`` of each.  With a ``budget`` (the default monitoring),
    the two subsets together cost at most ``budget`` of the epoch's training work:
    a CD-k step costs ``3 + 2k`` GEMMs per row and a monitored row about
    :data:`MONITOR_GEMMS` (4), so ``m_train + m_val <= budget (3 + 2k) n / 4``, split
    evenly, never below :data:`MONITOR_MIN_ROWS` each; monitoring passes under
    :data:`MONITOR_FLOOR` flops are not cut.  The rule depends on sizes only, so
    which rows are monitored is deterministic (resumes and reruns match).

    Parameters
    ----------
    n, n_val : int
        Rows of the training and validation sets (``n_val = 0``: none).
    n_train : int
        Rows trained per epoch (``n``).
    monitor_size : int
    shape : (V, H)
    k : int
        Gibbs steps per update.
    budget : float or None
        None: no cut (full diagnostics).

    Returns
    -------
    (m_train, m_val) : tuple of int
    """
    m, mv = min(n, monitor_size), min(n_val, monitor_size)
    if budget is None or m + mv == 0:
        return m, mv
    V, H = shape
    if 2.0 * (m + mv) * V * H * MONITOR_GEMMS <= MONITOR_FLOOR:
        return m, mv
    cap = budget * (3 + 2 * k) * n_train / MONITOR_GEMMS
    each = max(MONITOR_MIN_ROWS, int(cap / (2 if mv else 1)))
    return min(m, each), min(mv, each)


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
        Rows of the training (and validation) set used for per-epoch diagnostics
        (at most; see :func:`monitor_rows`).
    monitor : {"auto", "full"}
        "auto": subsets cut to :data:`MONITOR_BUDGET` of the training work and the
        sampled pseudo-likelihood (``pseudo_likelihood_sampled``); "full": all
        ``monitor_size`` rows and the exact pseudo-likelihood (O(rows V H)).
    monitor_seed : numpy.random.SeedSequence or None
        Seed of the host stream that draws the sampled pseudo-likelihood's visibles
        (one stream per epoch, spawned from it: training randomness is untouched).
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
        monitor: str = "auto",
        monitor_seed: np.random.SeedSequence | None = None,
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
        self.monitor = monitor
        self.monitor_seed = monitor_seed or np.random.SeedSequence()
        self._monitor_cache: dict[tuple[str, int, int], tuple[np.ndarray, Any]] = {}
        self.ais_every = int(ais_every)
        self.ais_fn = ais_fn
        self.progress = progress
        self.desc = desc

    @property
    def backend(self) -> Backend:
        return self.model.backend

    def _monitor_batch(self, which: str, X: Any, m: int) -> tuple[np.ndarray, Any]:
        """The ``m`` evenly spaced monitor rows of ``X`` and their device batch.

        Moved to the device once per fit and reused every epoch.
        """
        key = (which, id(X), m)
        hit = self._monitor_cache.get(key)
        if hit is None:
            n = X.shape[0]
            rows = np.unique(np.linspace(0, n - 1, m).astype(np.int64))
            hit = (rows, self.preprocess(take_rows(X, rows)))
            self._monitor_cache = {k: v for k, v in self._monitor_cache.items() if k[0] != which}
            self._monitor_cache[key] = hit
        return hit

    def _epoch_rng(self, epoch: int) -> np.random.Generator:
        s = self.monitor_seed
        return np.random.Generator(
            np.random.PCG64(np.random.SeedSequence(s.entropy, spawn_key=(*s.spawn_key, epoch)))
        )

    def evaluate(self, X: Any, X_val: Any, epoch: int) -> dict[str, float]:
        """Diagnostics on fixed monitor subsets (the training streams are not touched)."""
        rec: dict[str, float] = {"epoch": float(epoch)}
        if self.monitor_size <= 0:
            return rec
        full = self.monitor == "full"
        m, mv = monitor_rows(
            X.shape[0],
            0 if X_val is None else X_val.shape[0],
            X.shape[0],
            self.monitor_size,
            (self.model.n_visible, self.model.n_hidden),
            k=getattr(self.estimator, "k", 1),
            budget=None if full else MONITOR_BUDGET,
        )
        pl = "exact" if full else "sampled"
        rng = self._epoch_rng(epoch)
        rows, vb = self._monitor_batch("train", X, m)
        rec.update(diagnostics(self.model, vb, pl, MONITOR_PL_VISIBLES, rng))
        if X_val is not None:
            vrows, vv = self._monitor_batch("val", X_val, mv)
            d = diagnostics(self.model, vv, None)
            rec["free_energy_val"] = d["free_energy"]
            rec["free_energy_gap"] = rec["free_energy_val"] - rec["free_energy"]
            rec["recon_error_val"] = d["recon_error"]
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
        local_chains = None  # this process's share of the PCD chains (data-parallel)
        if red is not None:
            rng = SlicedGenerator(self.sample_rng, red.rank)
            if self.estimator.persistent:
                total = self.estimator.n_chains or self.batch_size
                sizes = [len(p) for p in np.array_split(np.arange(total), red.world)]
                local_chains = sizes[red.rank]
                rng.set_split(sizes, key="chains")
        for idx in iter_batches(n, self.batch_size, order):
            if red is not None:
                idx, sizes = red.split(idx)
                rng.set_split(sizes)
            v0 = self.preprocess(take_rows(X, idx))
            if local_chains is not None and self.estimator.chains is None:
                self.estimator.init_chains(self.model, v0, rng, local_chains)
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
