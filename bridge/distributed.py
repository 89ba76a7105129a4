"""Data-parallel training of the bridge models with ``torch.distributed`` (DDP).

When a default process group is initialised (e.g. under ``torchrun``),
:meth:`bridge.models._torch_model.TorchMultiViewModel.fit` and
:func:`~bridge.models._training.train_loop` train data-parallel:

* the network is wrapped in :class:`torch.nn.parallel.DistributedDataParallel`
  (gloo on the CPU, NCCL when the model lives on a CUDA device), which averages the
  gradients of all ranks before every Adam step;
* every rank holds the whole training set and draws the *same* epoch permutation
  and global minibatches a single process draws (same seed, same stream, see
  :class:`BatchShardSampler`), and takes a contiguous share of every global batch;
* each rank's batch-mean loss is weighted by ``n_rank * world / B`` (its share of the
  global batch ``B``) so that DDP's average of the gradients is the gradient of the
  global batch mean, also when a batch does not split evenly;
* per-row random draws of the loss (the input-dropping masks of
  :class:`~bridge.models.bimodal_ae.BimodalAE` / ``JointAE``: one uniform number per
  row) are taken from the rows' own positions of the single-process stream, so
  training reproduces the single-process run to floating-point tolerance;
* validation runs on every rank on the whole validation set and rank 0's score is
  broadcast, so early stopping stops every rank at the same epoch;
* only rank 0 logs (the other ranks log warnings only), shows progress bars and
  writes checkpoints (:meth:`~bridge.models._torch_model.TorchMultiViewModel.save`
  returns without writing on the other ranks).

Launch with ``torchrun``::

    torchrun --nproc_per_node=2 train.py        # gloo on CPU, NCCL on GPU

    # train.py
    import torch, bridge.distributed as bd
    from bridge.models.bimodal_ae import BimodalAE
    torch.set_num_threads(1)                     # one core per process
    bd.init()                                    # reads torchrun's environment
    model = BimodalAE(batch_size=100, random_state=0).fit(views)  # global batch 100
    model.save("bimodal.pt")                     # written by rank 0 only

Which models can be split is declared per class (:func:`objective_mode`):
``"mean"`` -- the training objective is a mean of per-row terms (BimodalAE, CorrAE,
JointAE, CrossModalAE, and SDML, whose per-view networks are then trained one after
the other, each data-parallel); ``"gather"`` -- a statistic of the whole batch
computed on rows gathered from all ranks with :func:`gather_rows` (which keeps
gradients): DCCA and DCCAE, whose correlation is that of the global batch's network
outputs (and DCCAE's reconstruction term the mean of the gathered per-row errors);
and ``"refuse"`` -- DRUMN (its adaptive weights are normalised over the batch; it
raises a :class:`~boltz.errors.ConfigError` naming the model).  Code that calls
:func:`~bridge.models._training.train_loop` itself must pass ``distributed="mean"``
or ``"gather"``; without it ``train_loop`` refuses to run under an initialised process
group rather than silently optimise another objective.  DM2C has its own adversarial
loop and shards it itself: each rank encodes and decodes its share of every global batch,
the codes are gathered (:func:`gather_sized`), the critics and generators see the whole
batch on every rank, and the gradients are averaged (:func:`average_gradients`).
Inside :func:`replicated` every rank trains the whole model on its own (no DDP).
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DistributedSampler

from boltz.errors import ConfigError

from .batches import batch_sizes, minibatches

logger = logging.getLogger(__name__)

__all__ = [
    "KNOWN_OBJECTIVES",
    "MODES",
    "BatchShardSampler",
    "DataParallelStep",
    "Shard",
    "average_gradients",
    "broadcast_parameters",
    "draw_as_single",
    "gather_rows",
    "gather_sized",
    "init",
    "is_active",
    "is_writer",
    "objective_mode",
    "quiet_logs",
    "rank",
    "refusal",
    "replicated",
    "shard_sizes",
    "world_size",
]

#: How the training objective of a model class splits over ranks, by qualified class
#: name (subclasses inherit; a class attribute ``_ddp_objective`` overrides the table).
KNOWN_OBJECTIVES: dict[str, str] = {
    "bridge.models.bimodal_ae.BimodalAE": "mean",
    "bridge.models.corr_ae.CorrAE": "mean",
    "bridge.models.flickr_ae.JointAE": "mean",
    "bridge.models.flickr_ae.CrossModalAE": "mean",
    "bridge.models.dcca.DCCA": "gather",  # and DCCAE, a subclass
    "bridge.models.sdml.SDML": "mean",
    "bridge.models.drumn.DRUMN": "refuse",
    "bridge.models.dm2c.DM2C": "gather",  # its own loop: shards, gathered codes
}
_REASONS: dict[str, str] = {
    "bridge.models.drumn.DRUMN": (
        "its objective normalises the adaptive sample weights over the minibatch and "
        "takes the correlation of the weighted, partly missing batch, which is not "
        "written with gathered rows yet"
    ),
}
MODES = ("mean", "gather")

_DISABLED: contextvars.ContextVar[bool] = contextvars.ContextVar("bridge_ddp_off", default=False)
_GATHER: contextvars.ContextVar[tuple[tuple[int, ...], Any] | None] = contextvars.ContextVar(
    "bridge_ddp_gather", default=None
)


# ----------------------------------------------------------------------------- process group


def init(backend: str | None = None, **kwargs: Any) -> None:
    """Initialise the default process group from torchrun's environment (idempotent).

    Parameters
    ----------
    backend : {"gloo", "nccl"}, optional
        Default "nccl" when CUDA is available, "gloo" otherwise.  With NCCL the
        current CUDA device is set to ``LOCAL_RANK`` (one GPU per process), so
        ``device="auto"`` / ``"cuda"`` models of each rank live on its own GPU.
    **kwargs
        Passed to :func:`torch.distributed.init_process_group` (``init_method``,
        ``rank``, ``world_size``, ``timeout``...).
    """
    if dist.is_initialized():
        return
    if backend is None:
        backend = "nccl" if torch.cuda.is_available() else "gloo"
    if backend == "nccl" and "LOCAL_RANK" in os.environ:
        torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))
    dist.init_process_group(backend=backend, **kwargs)


def _initialised() -> bool:
    return dist.is_available() and dist.is_initialized()


def is_active() -> bool:
    """True when training is data-parallel: a process group exists and we are not inside
    :func:`replicated`."""
    return _initialised() and not _DISABLED.get()


def rank() -> int:
    """This process's rank (0 without an initialised process group)."""
    return dist.get_rank() if _initialised() else 0


def world_size() -> int:
    """Number of processes (1 without an initialised process group)."""
    return dist.get_world_size() if _initialised() else 1


def is_writer() -> bool:
    """True unless a process group is initialised and this is not rank 0.

    Checkpoints and logs come from rank 0 only (also inside :func:`replicated`, where
    every rank computes the same model).
    """
    return rank() == 0


@contextlib.contextmanager
def replicated() -> Iterator[None]:
    """Within this block the bridge models train without DDP even under a process group:
    every rank trains the whole model on its own (same seed, same result on the CPU).

    For the models that cannot be split (DCCA, DCCAE), or to fit a small model without
    the per-step communication.
    """
    token = _DISABLED.set(True)
    try:
        yield
    finally:
        _DISABLED.reset(token)


@contextlib.contextmanager
def quiet_logs() -> Iterator[None]:
    """On ranks other than 0, raise the ``bridge`` logger to WARNING for the block."""
    root = logging.getLogger("bridge")
    old = root.level
    if rank() != 0:
        root.setLevel(logging.WARNING)
    try:
        yield
    finally:
        root.setLevel(old)


def objective_mode(cls: type) -> str | None:
    """How the training objective of model class ``cls`` splits over ranks.

    The first class along the MRO that sets a (non-None) class attribute
    ``_ddp_objective`` or appears in :data:`KNOWN_OBJECTIVES` decides.

    Returns
    -------
    {"mean", "gather", "refuse"} or None
        None: nothing is known about the objective (treated like "refuse").
    """
    for c in cls.__mro__:
        own = c.__dict__.get("_ddp_objective")
        if own is not None:
            return own
        name = f"{c.__module__}.{c.__qualname__}"
        if name in KNOWN_OBJECTIVES:
            return KNOWN_OBJECTIVES[name]
    return None


def refusal(cls: type) -> str:
    """The error message of a model class that cannot be trained data-parallel."""
    reason = "its objective is not declared to be a mean over the rows of a batch"
    for c in cls.__mro__:
        name = f"{c.__module__}.{c.__qualname__}"
        if name in _REASONS:
            reason = _REASONS[name]
            break
    supported = sorted(k.rsplit(".", 1)[1] for k, v in KNOWN_OBJECTIVES.items() if v in MODES)
    return (
        f"{cls.__name__} cannot be trained data-parallel (DistributedDataParallel): {reason}. "
        f"Models that can: {', '.join(supported)}. Fit {cls.__name__} inside "
        "`with bridge.distributed.replicated():` (every rank trains the whole model) or in a "
        "single process; a subclass whose loss gathers its batch outputs with "
        "bridge.distributed.gather_rows can declare _ddp_objective = 'gather'."
    )


# ----------------------------------------------------------------------------- sharding


def shard_sizes(n: int, world: int) -> list[int]:
    """Rows of each rank in a global batch of ``n`` rows: contiguous, ``np.array_split``
    sizes (the first ``n % world`` ranks one row more)."""
    q, r = divmod(int(n), int(world))
    return [q + (i < r) for i in range(world)]


class Shard(NamedTuple):
    """This rank's part of one global minibatch."""

    #: Row indices (into the training set) of this rank, shape (sizes[rank],).
    index: torch.Tensor
    #: Position of this rank's first row inside the global batch.
    offset: int
    #: Rows of every rank; ``sum(sizes)`` is the global batch size.
    sizes: tuple[int, ...]


class BatchShardSampler(DistributedSampler):
    """A :class:`~torch.utils.data.DistributedSampler` over the training rows whose epochs
    are the single-process minibatches.

    ``set_epoch`` draws the epoch's permutation and global batches from ``generator``
    with :func:`bridge.batches.minibatches` -- exactly the draw a single
    process makes, so every rank (all seeded alike) holds the same global batches as
    single-process training with the same ``batch_size``.  Each global batch is cut into
    ``world`` contiguous shards (:func:`shard_sizes`); iterating yields this rank's rows,
    batch after batch.

    Unlike the base class there is no padding and nothing is dropped: a global batch is
    the single-process batch (a last batch smaller than ``batch_size`` is merged into the
    one before it), shards of one batch differ by at most one row, and the trainer weighs
    each rank's mean loss by its share.  Also unlike the base class, the permutation is
    not seeded by ``seed + epoch`` but continues the trainer's generator stream, so
    ``set_epoch`` must be called once per epoch, in order, on every rank.

    Parameters
    ----------
    n_rows : int
        Training rows.
    batch_size : int
        Global batch size ``B`` (the single-process ``batch_size``).
    generator : torch.Generator
        The trainer's stream, seeded identically on every rank.
    num_replicas, rank : int, optional
        Default: the process group's world size and this process's rank.

    Raises
    ------
    ConfigError
        A global batch would leave a rank without rows (``min(n_rows, batch_size)`` is
        smaller than the world size).
    """

    def __init__(
        self,
        n_rows: int,
        batch_size: int,
        generator: torch.Generator,
        num_replicas: int | None = None,
        rank: int | None = None,
    ) -> None:
        super().__init__(
            range(int(n_rows)),
            num_replicas=num_replicas,
            rank=rank,
            shuffle=True,
            seed=int(generator.initial_seed()),
            drop_last=False,
        )
        self.n_rows = int(n_rows)
        self.batch_size = int(batch_size)
        self.generator = generator
        smallest = min(self.n_rows, self.batch_size)
        if smallest < self.num_replicas:
            raise ConfigError(
                f"data-parallel training over {self.num_replicas} processes needs minibatches "
                f"of at least {self.num_replicas} rows; the smallest has {smallest} "
                f"(n_rows={self.n_rows}, batch_size={self.batch_size}). Raise batch_size or "
                "use fewer processes."
            )
        self._shards: list[Shard] | None = None

    def set_epoch(self, epoch: int) -> None:
        """Draw epoch ``epoch``'s global batches from the generator (once per epoch)."""
        super().set_epoch(epoch)
        shards = []
        for idx in minibatches(self.n_rows, self.batch_size, self.generator):
            sizes = tuple(shard_sizes(len(idx), self.num_replicas))
            off = sum(sizes[: self.rank])
            shards.append(Shard(idx[off : off + sizes[self.rank]], off, sizes))
        self._shards = shards

    def shards(self) -> list[Shard]:
        """This rank's shard of every global batch of the current epoch."""
        if self._shards is None:
            raise RuntimeError("call set_epoch(epoch) before iterating a BatchShardSampler.")
        return self._shards

    def __iter__(self) -> Iterator[int]:
        for s in self.shards():
            yield from s.index.tolist()

    def __len__(self) -> int:
        return sum(
            shard_sizes(b, self.num_replicas)[self.rank]
            for b in batch_sizes(self.n_rows, self.batch_size)
        )


class _AllGather(torch.autograd.Function):
    """``all_gather`` of equal-shape tensors, stacked to (world, ...), with a backward.

    Every rank's loss depends on every rank's rows, so the gradient of this rank's input
    is the sum over ranks of the gradients of its slot: an ``all_reduce`` (gloo has no
    reduce-scatter), of which each rank keeps its own slot.
    """

    @staticmethod
    def forward(ctx: Any, t: torch.Tensor, group: Any) -> torch.Tensor:
        ctx.group = group
        ctx.rank = dist.get_rank(group)
        parts = [torch.empty_like(t) for _ in range(dist.get_world_size(group))]
        dist.all_gather(parts, t, group=group)
        return torch.stack(parts)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        grad = grad.contiguous().clone()
        dist.all_reduce(grad, group=ctx.group)
        return grad[ctx.rank], None


def gather_rows(t: torch.Tensor) -> torch.Tensor:
    """The rows of ``t`` from every rank, in global-batch order, with gradients.

    Inside a data-parallel training step of a ``"gather"`` objective, ``t`` holds this
    rank's rows of the global batch (any trailing shape); the result holds the whole
    global batch, and its backward sends every rank's gradient of this rank's rows back
    here (summed).  Shards of unequal size are padded for the collective and cut back.
    Anywhere else (a single process, validation, inference) ``t`` is returned
    unchanged, so a loss written with it is the same code in both.
    """
    cur = _GATHER.get()
    if cur is None:
        return t
    sizes, group = cur
    return _gather(t, sizes, group)


def _gather(t: torch.Tensor, sizes: tuple[int, ...], group: Any) -> torch.Tensor:
    """All-gather rows of unequal counts (padded for the collective, cut back after)."""
    m = max(sizes)
    if m == 0:
        return t
    if t.shape[0] < m:
        pad = t.new_zeros((m - t.shape[0], *t.shape[1:]))
        t = torch.cat([t, pad])
    parts = _AllGather.apply(t.contiguous(), group)
    return torch.cat([p[:s] for p, s in zip(parts, sizes)])


def gather_sized(t: torch.Tensor, sizes: tuple[int, ...]) -> torch.Tensor:
    """:func:`gather_rows` with the rows of every rank given (``sizes[r]`` rows of rank r).

    For loops that shard a batch themselves (:class:`~bridge.models.dm2c.DM2C`, whose two
    views have different row counts on every rank).  Needs an initialised process group.
    """
    return _gather(t, sizes, None)


def average_gradients(params: Any) -> None:
    """All-reduce the ``.grad`` of ``params`` to their mean over ranks, in place.

    Parameters without a gradient are skipped the same way on every rank (their
    gradients are all None or all set: every rank runs the same graph).
    """
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])
    dev = flat.device
    if dist.get_backend() != "nccl":
        flat = flat.cpu()
    dist.all_reduce(flat)
    flat = (flat / dist.get_world_size()).to(dev)
    start = 0
    for g in grads:
        g.copy_(flat[start : start + g.numel()].view_as(g))
        start += g.numel()


def broadcast_parameters(module: nn.Module) -> None:
    """Copy rank 0's parameters and buffers to every rank (in place)."""
    for t in [*module.parameters(), *module.buffers()]:
        if dist.get_backend() == "nccl" or t.device.type == "cpu":
            dist.broadcast(t.data, src=0)
        else:
            tmp = t.data.cpu()
            dist.broadcast(tmp, src=0)
            t.data.copy_(tmp)


def draw_as_single(
    generator: torch.Generator, offset: int, n: int, total: int, call: Callable[[], Any]
) -> tuple[Any, str]:
    """Run ``call()`` (a loss on rows ``offset : offset + n`` of a global batch of ``total``
    rows) so that its per-row uniform draws from ``generator`` are the ones a single
    process draws for those rows, ``torch.rand(total)[offset : offset + n]``.

    Before the call the stream skips the ``offset`` draws of the ranks before this one;
    after it, the generator state is compared with a probe.  No draw: the skip is undone.
    One uniform float per row: the draws of the ranks after this one are skipped too.
    Either way every rank ends where the single process ends.  Any other pattern cannot
    be matched: the stream is set to the state after ``total`` uniform draws (the same on
    every rank, so shuffles stay in step) and the pattern is reported as ``"other"``.

    Returns
    -------
    out
        What ``call()`` returned.
    pattern : {"none", "rows", "other"}
    """
    g = generator
    s0 = g.get_state()
    if offset:
        torch.rand(offset, generator=g)
    out = call()
    s1 = g.get_state()
    probe = torch.Generator()
    probe.set_state(s0)
    if offset:
        torch.rand(offset, generator=probe)
    if torch.equal(s1, probe.get_state()):  # the loss drew nothing
        g.set_state(s0)
        return out, "none"
    torch.rand(n, generator=probe)
    if torch.equal(s1, probe.get_state()):  # one uniform per row
        if total - offset - n:
            torch.rand(total - offset - n, generator=g)
        return out, "rows"
    g.set_state(s0)
    torch.rand(total, generator=g)
    return out, "other"


# ----------------------------------------------------------------------------- one step


class _Objective(nn.Module):
    """The module and its loss as one ``nn.Module``, so DDP's forward runs the loss."""

    def __init__(self, module: nn.Module, loss_fn: Callable) -> None:
        super().__init__()
        self.module = module
        self._loss_fn = loss_fn

    def forward(self, batch: dict[str, torch.Tensor], generator: torch.Generator) -> torch.Tensor:
        return self._loss_fn(batch, generator)


class DataParallelStep:
    """What :func:`~bridge.models._training.train_loop` does differently under DDP.

    Parameters
    ----------
    module : nn.Module
        The network (its parameters are synchronised from rank 0 on construction).
    loss_fn : callable
        ``loss_fn(batch, generator) -> scalar`` as for ``train_loop``.
    n_rows, batch_size : int
        Training rows and global batch size.
    generator : torch.Generator
        The trainer's stream (permutations and per-row random draws).
    mode : {"mean", "gather"}
        ``"mean"``: ``loss_fn`` returns the mean over the rows it is given of per-row
        terms; ``"gather"``: ``loss_fn`` gathers what it needs with :func:`gather_rows`
        and returns the objective of the whole global batch.
    desc : str
        Name in messages.
    """

    def __init__(
        self,
        module: nn.Module,
        loss_fn: Callable,
        n_rows: int,
        batch_size: int,
        generator: torch.Generator,
        mode: str,
        desc: str = "train",
    ) -> None:
        if mode not in MODES:
            raise ConfigError(f"distributed must be one of {MODES} or False; got {mode!r}.")
        from torch.nn.parallel import DistributedDataParallel

        self.mode = mode
        self.desc = desc
        self.generator = generator
        self.rank = dist.get_rank()
        self.world = dist.get_world_size()
        self.sampler = BatchShardSampler(n_rows, batch_size, generator)
        dev = next(module.parameters()).device
        self.device = dev
        self.collective_device = dev if dist.get_backend() == "nccl" else torch.device("cpu")
        self.ddp = DistributedDataParallel(
            _Objective(module, loss_fn),
            device_ids=[dev] if dev.type == "cuda" else None,
        )
        self._warned = False

    def epoch(self, epoch: int) -> list[Shard]:
        """This rank's shards of epoch ``epoch``'s global batches."""
        self.sampler.set_epoch(epoch)
        return self.sampler.shards()

    def loss(
        self,
        shard: Shard,
        data: Mapping[str, torch.Tensor],
        penalty: Callable[[], torch.Tensor] | None,
    ) -> tuple[torch.Tensor, torch.Tensor, int]:
        """Forward one shard.

        Returns
        -------
        local : Tensor
            This rank's objective to ``backward`` (its mean loss weighted by its share,
            plus the penalty), whose DDP-averaged gradient is the global batch gradient.
        value : Tensor
            The global batch objective (equal on every rank; for the history and the
            finiteness check).
        rows : int
            The global batch size.
        """
        idx = shard.index
        batch = {k: v[idx.to(v.device)] for k, v in data.items()}
        B = sum(shard.sizes)
        n = len(idx)
        token = _GATHER.set((shard.sizes, None)) if self.mode == "gather" else None
        try:
            data_term = self._draw_as_single(shard, lambda: self.ddp(batch, self.generator))
        finally:
            if token is not None:
                _GATHER.reset(token)
        pen = penalty() if penalty is not None else None
        if self.mode == "mean":
            local = data_term * (n * self.world / B)
            part = (data_term.detach() * n).reshape(1).to(self.collective_device, torch.float64)
            dist.all_reduce(part)
            value = (part / B).to(data_term.device, data_term.dtype).reshape(())
        else:
            local = data_term
            value = data_term.detach()
        if pen is not None:
            local = local + pen
            value = value + pen.detach()
        return local, value, B

    def _draw_as_single(self, shard: Shard, call: Callable[[], torch.Tensor]) -> torch.Tensor:
        out, pattern = draw_as_single(
            self.generator, shard.offset, len(shard.index), sum(shard.sizes), call
        )
        if pattern == "other" and not self._warned:
            logger.warning(
                "%s: the loss draws random numbers in a pattern other than one uniform per "
                "row; data-parallel training equals single-process training in "
                "distribution only (not to floating-point tolerance).",
                self.desc,
            )
            self._warned = True
        return out

    def broadcast(self, value: float) -> float:
        """Rank 0's ``value`` on every rank (early stopping decides identically)."""
        t = torch.tensor([float(value)], dtype=torch.float64, device=self.collective_device)
        dist.broadcast(t, src=0)
        return float(t.item())
