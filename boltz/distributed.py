"""Data-parallel CD/PCD across processes with ``torch.distributed`` (an existing engine).

Each process holds the full parameters, takes its share of every global batch
(same shuffle on every process), computes its phase statistics, and the
statistics are summed with ``all_reduce`` before the update, so every process
applies the same update — the one a single process would apply to the global
batch.  Host arrays are handed to torch with zero-copy ``torch.from_numpy``;
CuPy arrays through DLPack.  Launch with ``torchrun``::

    torchrun --nproc-per-node 2 train.py      # gloo on CPU, NCCL on GPU

    # train.py
    import boltz, boltz.distributed as bd
    bd.init()                                 # reads torchrun's environment
    with bd.data_parallel():
        rbm = boltz.RBM(n_hidden=1024, epochs=10, random_state=0).fit(X)
    if bd.rank() == 0:
        rbm.save("rbm.npz")

The sampling stream is replicated: every process draws the random numbers of
the *whole* global batch from the same seed and uses its rows, so a data-parallel
run reproduces the single-process run up to floating-point summation order
(Bernoulli and Gaussian visibles; replicated-softmax word draws are per word and
only equal in distribution).  ``import boltz`` does not import torch; this module
does, on first use.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

__all__ = ["Reducer", "SlicedGenerator", "current", "data_parallel", "init", "rank", "world_size"]

_CURRENT: contextvars.ContextVar[Reducer | None] = contextvars.ContextVar(
    "boltz_data_parallel", default=None
)


def _dist():
    import torch.distributed as dist

    return dist


def init(backend: str | None = None, **kwargs: Any) -> None:
    """Initialise the default process group from torchrun's environment (idempotent).

    ``backend`` defaults to "nccl" when CUDA is available and "gloo" otherwise.
    """
    dist = _dist()
    if dist.is_initialized():
        return
    if backend is None:
        import torch

        backend = "nccl" if torch.cuda.is_available() else "gloo"
    dist.init_process_group(backend=backend, **kwargs)


def rank() -> int:
    """This process's rank (0 without an initialised process group)."""
    dist = _dist()
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def world_size() -> int:
    """Number of processes (1 without an initialised process group)."""
    dist = _dist()
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def _as_tensor(a: Any) -> Any:
    import torch

    if isinstance(a, np.ndarray):
        return torch.from_numpy(a)  # zero copy
    return torch.from_dlpack(a)  # CuPy (zero copy)


class Reducer:
    """Sums arrays over all processes of a torch.distributed group, in place."""

    def __init__(self, group: Any = None) -> None:
        dist = _dist()
        if not dist.is_initialized():
            raise RuntimeError(
                "data_parallel needs an initialised torch.distributed process group: call "
                "boltz.distributed.init() in every process (e.g. under torchrun) first."
            )
        self.group = group
        self.rank = dist.get_rank(group)
        self.world = dist.get_world_size(group)

    def sum_(self, arrays: list[Any]) -> None:
        dist = _dist()
        for a in arrays:
            if not (isinstance(a, np.ndarray) and a.flags.c_contiguous) and not hasattr(
                a, "__dlpack__"
            ):
                raise TypeError("all-reduce needs contiguous arrays")
            dist.all_reduce(_as_tensor(a), group=self.group)

    def total(self, n: int) -> int:
        import torch

        t = torch.tensor([n], dtype=torch.int64)
        _dist().all_reduce(t, group=self.group)
        return int(t.item())

    def split(self, idx: np.ndarray) -> tuple[np.ndarray, list[int]]:
        """This process's rows of a global batch and every process's row count."""
        parts = np.array_split(idx, self.world)
        return parts[self.rank], [len(p) for p in parts]


class SlicedGenerator:
    """A replicated random stream: draws for the whole global batch, returns this rank's rows.

    ``set_split(sizes)`` declares the per-process row counts of the current
    global batch; a draw whose first dimension equals this process's count is
    drawn for all rows and sliced, any other draw (e.g. PCD chains of another
    size, registered with ``set_split(..., key="chains")``) likewise by its own
    split, and draws of unknown size fall through unchanged.
    """

    def __init__(self, gen: Any, rank: int) -> None:
        self.gen = gen
        self.rank = rank
        self._splits: dict[str, list[int]] = {}

    def set_split(self, sizes: list[int], key: str = "batch") -> None:
        self._splits[key] = list(sizes)

    def _global(self, shape: tuple[int, ...]) -> tuple[int, int] | None:
        for sizes in self._splits.values():
            if len(shape) >= 1 and shape[0] == sizes[self.rank]:
                return sum(sizes), sum(sizes[: self.rank])
        return None

    def _draw(self, name: str, shape: Any, **kw: Any) -> Any:
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        g = self._global(shape)
        fn = getattr(self.gen, name)
        if g is None:
            return fn(shape, **kw)
        total, off = g
        out = kw.pop("out", None)
        full = fn((total, *shape[1:]), **kw)
        part = full[off : off + shape[0]]
        if out is not None:
            out[...] = part
            return out
        return part

    def random(self, size: Any = None, dtype: Any = np.float64, out: Any = None) -> Any:
        return self._draw("random", size, dtype=dtype, out=out)

    def standard_normal(self, size: Any = None, dtype: Any = np.float64) -> Any:
        return self._draw("standard_normal", size, dtype=dtype)

    @property
    def bit_generator(self) -> Any:  # checkpoints store the replicated stream's state
        return self.gen.bit_generator


def current() -> Reducer | None:
    """The active data-parallel reducer, or None."""
    return _CURRENT.get()


@contextlib.contextmanager
def data_parallel(group: Any = None):
    """Within this block, RBM/DBN/MultimodalDBN training is data-parallel over ``group``.

    Only rank 0 writes checkpoints; the other ranks log at WARNING level only.
    """
    red = Reducer(group)
    token = _CURRENT.set(red)
    root = logging.getLogger("boltz")
    old = root.level
    if red.rank != 0:
        root.setLevel(logging.WARNING)
    try:
        yield red
    finally:
        _CURRENT.reset(token)
        root.setLevel(old)


def is_writer() -> bool:
    """True unless data-parallel with a rank other than 0 (only rank 0 writes files)."""
    red = current()
    return red is None or red.rank == 0
