"""Checkpoints of boltz models: the container of :mod:`boltz.container` plus a registry.

A checkpoint is one ``.npz`` file: numeric arrays under dotted names and a JSON
metadata entry ``__meta__`` holding the format version, the class, units,
configuration, epoch, optimiser counters, RNG states and training history, with a
SHA-256 manifest over every array and over the metadata itself.  Files are
written atomically (:mod:`boltz.atomic`) and read without pickle, every size and
header validated before anything is allocated (:mod:`boltz.container`); the
content is then validated by the class that owns it.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from .container import (
    CONTENT_ERRORS,
    FORMAT,
    FORMAT_VERSION,
    check_writable,
    read_container,
    write_container,
)
from .errors import CheckpointError

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "check_writable",
    "load",
    "read_checkpoint",
    "write_checkpoint",
]


def write_checkpoint(
    path: str | os.PathLike,
    meta: dict[str, Any],
    arrays: dict[str, Any],
    *,
    check_finite: bool = True,
) -> Path:
    """Atomically write ``meta`` (JSON-able) and ``arrays`` (numeric) to ``path``.

    A ``.npz`` suffix is added when missing.  On any failure (disk full, NaN in
    the arrays, ...) the previous file at ``path`` is left untouched.
    """
    p = Path(path)
    if p.suffix != ".npz":
        p = p.with_name(p.name + ".npz")
    return write_container(p, meta, arrays, check_finite=check_finite)


def read_checkpoint(path: str | os.PathLike) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read and verify a checkpoint; returns ``(meta, arrays)``.

    Raises
    ------
    FileNotFoundError, PermissionError
        When ``path`` does not exist or cannot be read (the system's errors).
    CheckpointError
        For a truncated, corrupted or foreign file, a pickled/object entry, a
        failed SHA-256 check, NaN / inf, or a newer format version.
    """
    return read_container(path)


# --------------------------------------------------------------------- validation helpers
def need(
    meta: dict[str, Any], key: str, typ: type | tuple[type, ...], where: str = "metadata"
) -> Any:
    """``meta[key]`` checked for type, else CheckpointError naming the key."""
    if not isinstance(meta, dict) or key not in meta:
        raise CheckpointError(f"checkpoint {where} lacks the key {key!r}.")
    v = meta[key]
    ok = isinstance(v, typ) and not (isinstance(v, bool) and typ in (int, (int,), float))
    if not ok:
        names = typ.__name__ if isinstance(typ, type) else "/".join(t.__name__ for t in typ)
        raise CheckpointError(
            f"checkpoint {where} key {key!r} should be {names}; got {type(v).__name__}."
        )
    return v


def need_array(
    arrays: dict[str, np.ndarray], key: str, shape: tuple[int, ...], finite: bool = True
) -> np.ndarray:
    """``arrays[key]`` checked for presence, float dtype, shape and finiteness."""
    if key not in arrays:
        raise CheckpointError(f"checkpoint lacks the array {key!r}.")
    a = arrays[key]
    if a.dtype.kind != "f":
        raise CheckpointError(f"checkpoint array {key!r} has dtype {a.dtype}; expected float.")
    if tuple(a.shape) != tuple(shape):
        raise CheckpointError(
            f"checkpoint array {key!r} has shape {a.shape}; expected {tuple(shape)}."
        )
    if finite and a.size and not np.isfinite(a).all():
        raise CheckpointError(f"checkpoint array {key!r} contains NaN or inf.")
    return a


def check_no_extra(arrays: dict[str, np.ndarray], allowed: set[str]) -> None:
    extra = sorted(set(arrays) - allowed)
    if extra:
        raise CheckpointError(f"checkpoint holds unexpected arrays {extra[:5]}.")


def rng_state_to_json(gen: Any) -> Any:
    """The state of a NumPy Generator as JSON-able data (None for other generators)."""
    if isinstance(gen, np.random.Generator):
        return gen.bit_generator.state
    return None


def rng_from_json(state: Any) -> np.random.Generator:
    """Rebuild a NumPy PCG64 Generator from :func:`rng_state_to_json` output."""
    if not isinstance(state, dict) or state.get("bit_generator") != "PCG64":
        raise CheckpointError("checkpoint RNG state must be a PCG64 state dict.")
    bg = np.random.PCG64()
    try:
        bg.state = state
    except (TypeError, ValueError, KeyError) as e:
        raise CheckpointError(f"checkpoint RNG state is invalid: {e}") from e
    return np.random.Generator(bg)


def clean_json(x: Any) -> Any:
    """Make config/history values JSON-safe (NumPy scalars -> Python, nan kept)."""
    if isinstance(x, dict):
        return {str(k): clean_json(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [clean_json(v) for v in x]
    if isinstance(x, (np.floating,)):
        return float(x)
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, float) and not math.isfinite(x):
        return x
    if isinstance(x, (str, int, float, bool)) or x is None:
        return x
    return repr(x)


_REGISTRY: dict[str, Any] = {}


def register(name: str):
    """Class decorator: make ``load`` able to rebuild checkpoints of this class."""

    def deco(cls):
        _REGISTRY[name] = cls
        return cls

    return deco


def load(path: str | os.PathLike, device: str = "auto") -> Any:
    """Load any boltz checkpoint (RBM, DBN, MultimodalDBN).

    Parameters
    ----------
    path : path-like
    device : {"auto", "cpu", "gpu"}
        Where to put the parameters (``"cuda"`` is accepted for ``"gpu"``).

    Raises
    ------
    CheckpointError
        Truncated, corrupted, foreign or newer-format file, or invalid content.
    """
    meta, arrays = read_checkpoint(path)
    cls_name = meta.get("class")
    if meta.get("library") == "bridge.models" and isinstance(cls_name, str):
        raise CheckpointError(
            f"{str(path)!r} holds a bridge.models {cls_name}; load it with "
            f"bridge.models.{cls_name}.load(path)."
        )
    if not isinstance(cls_name, str) or cls_name not in _REGISTRY:
        raise CheckpointError(
            f"checkpoint class {cls_name!r} is unknown; expected one of {sorted(_REGISTRY)}."
        )
    try:
        return _REGISTRY[cls_name].from_checkpoint_state(meta, arrays, device=device)
    except CheckpointError:
        raise
    except CONTENT_ERRORS as e:
        raise CheckpointError(f"checkpoint content is invalid: {type(e).__name__}: {e}") from e
