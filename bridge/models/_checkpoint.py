"""Checkpoints of the torch models: boltz's container with a torch ``state_dict`` inside.

Private to :mod:`bridge.models`.  A ``bridge.models`` checkpoint is a
:mod:`boltz.container` file (the ``.npz`` every boltz model is saved in: SHA-256
over every array and the metadata, sizes validated before allocation, no pickle)
whose metadata says ``"library": "bridge.models"`` and names the class; the
module's ``state_dict`` is stored as arrays ``state.<key>``.  Loading builds the
network first on PyTorch's ``meta`` device (no memory) to check every tensor's
name and shape against the file, and only then allocates it.

The previous format (``torch.save`` archives, "bridge.models/1") is refused with a
:class:`~boltz.errors.CheckpointError` that says so: it had no integrity check.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from boltz._version import __version__
from boltz.checkpoint import need
from boltz.container import CONTENT_ERRORS, check_version, read_container
from boltz.errors import CheckpointError

__all__ = [
    "LIBRARY",
    "build_checked",
    "check_header",
    "check_widths",
    "header",
    "need_views",
    "read_index",
    "state_arrays",
    "sub_tensors",
]

LIBRARY = "bridge.models"
BRIDGE_FORMAT = 2


def header(cls_name: str) -> dict[str, Any]:
    """The metadata entries that identify a ``bridge.models`` checkpoint of ``cls_name``."""
    return {
        "library": LIBRARY,
        "bridge_format": BRIDGE_FORMAT,
        "class": cls_name,
        "library_version": __version__,
    }


def check_header(meta: Mapping[str, Any], cls_name: str, where: str) -> None:
    """Raise CheckpointError unless ``meta`` is a ``bridge.models`` checkpoint of ``cls_name``."""
    cls = meta.get("class")
    if meta.get("library") != LIBRARY:
        hint = (
            f"; it holds a boltz {cls}: load it with boltz.load"
            if isinstance(cls, str) and cls in ("RBM", "DBN", "MultimodalDBN")
            else ""
        )
        raise CheckpointError(f"{where} is not a bridge.models checkpoint{hint}.")
    check_version(meta, "bridge_format", BRIDGE_FORMAT, where)
    if cls != cls_name:
        raise CheckpointError(
            f"{where} holds a {cls!r}, not a {cls_name}"
            + (f"; load it with {cls}.load." if isinstance(cls, str) else ".")
        )


def read_index(
    directory: str | os.PathLike, index: str, legacy: str, cls_name: str
) -> tuple[Path, dict[str, Any], dict[str, np.ndarray], str]:
    """Read the index file of a checkpoint directory (``HRL``, ``HRLStage1``).

    Returns ``(directory, meta, arrays, where)``.  A directory of the old layout (its
    ``legacy`` file and no ``index``) is refused with a CheckpointError that says so.
    """
    d = Path(directory)
    where = repr(str(d))
    if not (d / index).exists() and (d / legacy).exists():
        raise CheckpointError(
            f"{where} holds a {cls_name} of the old layout ({legacy}, no checksums); fit the "
            "model again and save it."
        )
    meta, arrays = read_container(d / index)
    check_header(meta, cls_name, where)
    return d, meta, arrays, where


def state_arrays(prefix: str, module: nn.Module) -> dict[str, np.ndarray]:
    """``module.state_dict()`` as host arrays named ``prefix + key``."""
    return {prefix + k: v.detach().cpu().numpy() for k, v in module.state_dict().items()}


def sub_tensors(arrays: Mapping[str, np.ndarray], prefix: str) -> dict[str, torch.Tensor]:
    """The arrays named ``prefix + key`` as a ``state_dict`` ``{key: tensor}``."""
    return {
        k[len(prefix) :]: torch.from_numpy(v) for k, v in arrays.items() if k.startswith(prefix)
    }


def build_checked(
    build: Callable[[], nn.Module], state: Mapping[str, torch.Tensor], where: str
) -> nn.Module:
    """The module ``build()`` makes, holding ``state``, checked before it is allocated.

    ``build`` runs first on the ``meta`` device (shapes only, no memory): its
    ``state_dict`` keys and shapes must be exactly those of ``state``, else
    CheckpointError -- so a file that declares a huge network without the weights
    to fill it costs nothing.  Then the real module is built and loaded.
    """
    try:
        with torch.device("meta"):
            probe = build()
        want = {k: tuple(v.shape) for k, v in probe.state_dict().items()}
    except CheckpointError:
        raise
    except Exception as e:  # a damaged spec: KeyError, TypeError, ValueError, ...
        raise CheckpointError(
            f"{where}: the saved network spec is invalid ({type(e).__name__}: {e})"
        ) from e
    # the container stores 0-d arrays (e.g. BatchNorm's num_batches_tracked) as (1,)
    state = {
        k: v.reshape(()) if want.get(k) == () and tuple(v.shape) == (1,) else v
        for k, v in state.items()
    }
    got = {k: tuple(v.shape) for k, v in state.items()}
    if want != got:
        missing = sorted(set(want) - set(got))[:3]
        extra = sorted(set(got) - set(want))[:3]
        wrong = [
            f"{k}: {got[k]} vs {want[k]}" for k in sorted(set(want) & set(got)) if got[k] != want[k]
        ]
        raise CheckpointError(
            f"{where}: the weights do not fit the saved spec (missing {missing}, unexpected "
            f"{extra}, shapes {wrong[:3]})."
        )
    module = build()
    module.load_state_dict(dict(state), strict=True)
    return module


def restore_checked(
    restore: Callable[[], Any], what: str, where: str, *, self_check: bool = True
) -> Any:
    """The model ``restore()`` rebuilds, after its ``_self_check()`` (unless
    ``self_check=False``).

    A CheckpointError passes through; a content error (:data:`boltz.container.CONTENT_ERRORS`)
    or a RuntimeError (a torch shape mismatch, ...) of either step becomes a
    CheckpointError naming ``where`` and ``what`` (the kind of checkpoint).
    """
    try:
        model = restore()
        if self_check:
            model._self_check()
    except CheckpointError:
        raise
    except (*CONTENT_ERRORS, RuntimeError) as e:
        raise CheckpointError(
            f"{where}: a damaged or inconsistent {what} checkpoint ({type(e).__name__}: {e})"
        ) from e
    return model


def need_views(meta: Mapping[str, Any], where: str) -> tuple[tuple[str, ...], dict[str, int]]:
    """``view_names`` and ``n_features_in`` of the metadata, checked for type and agreement."""
    names = need(meta, "view_names", list)
    n_in = need(meta, "n_features_in", dict)
    if (
        not names
        or not all(isinstance(k, str) and k for k in names)
        or len(set(names)) < len(names)
    ):
        raise CheckpointError(f"{where}: view_names must be distinct non-empty strings.")
    if set(names) != set(n_in):
        raise CheckpointError(
            f"{where}: view names {names} do not match the feature counts saved for {sorted(n_in)}."
        )
    for k, n in n_in.items():
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise CheckpointError(f"{where}: n_features_in[{k!r}] must be an int >= 1; got {n!r}.")
    return tuple(names), {k: int(n_in[k]) for k in names}


def check_widths(n_in: Mapping[str, int], arrays: Mapping[str, np.ndarray], where: str) -> None:
    """Every input width must be a dimension of some saved array.

    A network consumes ``d`` features through a weight, a standardisation or a
    projection of width ``d``; a width found in no array cannot be real (and a
    width like 10**12 would make the first probe allocate without bound).
    """
    dims = {int(s) for a in arrays.values() for s in a.shape}
    bad = {k: n for k, n in n_in.items() if n not in dims}
    if bad:
        raise CheckpointError(f"{where}: n_features_in {bad} matches no saved array.")
