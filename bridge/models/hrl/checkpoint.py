"""The checkpoint format of :class:`~bridge.models.hrl.HRL`: a directory.

``directory/stage1/`` holds the boltz models of step 1 (:meth:`HRLStage1.save`),
``directory/hrl.npz`` (a boltz checkpoint container: no pickle, every byte checked on
load) the torch ``state_dict`` of every stage under ``state.<stage>.``, the mean
training embedding of each view under ``embedding_mean.<view>``, and as JSON the
hyperparameters, the module widths (``spec``), the classes, the training history and
the SHA-256 of ``stage1/stage1.npz``.  The directory is written whole or not at all
(:func:`boltz.atomic.atomic_directory`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn

from boltz.atomic import atomic_directory
from boltz.checkpoint import need
from boltz.container import files_manifest, verify_files, write_container
from boltz.errors import CheckpointError, ConfigError

from ...base import MultiViewModel  # annotations: the HRL (model.py imports this module)
from .._checkpoint import (
    build_checked,
    header,
    need_views,
    read_index,
    restore_checked,
    state_arrays,
    sub_tensors,
)
from .._validation import check_hidden, resolve_device
from .networks import BimodalLayer, FeedForward, JointAutoencoder
from .stage1 import HRLStage1

__all__ = ["load_hrl", "save_hrl"]


def hrl_file(name: str) -> bool:
    """Whether a directory entry may belong to a saved HRL (old layout included)."""
    return name in ("hrl.npz", "hrl.pt", "stage1")


def save_hrl(model: MultiViewModel, directory: str | os.PathLike) -> Path:
    """Write the fitted ``model`` into ``directory`` (the layout of :meth:`HRL.save`)."""
    model._check_fitted()
    d = Path(directory)
    params = {k: v for k, v in model.get_params(deep=False).items() if k not in ("stage1", "reuse")}
    spec = {
        "joint_ae": None
        if model.joint_ae_ is None
        else {k: [m.parts, int(m.encoder.out_features)] for k, m in model.joint_ae_.items()},
        "ff": None
        if model.ff_ is None
        else {k: int(m.body[0].in_features) for k, m in model.ff_.items()},
        "baes": [
            [{k: int(layer.enc[k].in_features) for k in layer.names}, int(layer.bias.shape[0])]
            for layer in model.baes_
        ],
    }
    arrays: dict[str, np.ndarray] = {}
    for prefix, mod in (("joint_ae", model.joint_ae_), ("ff", model.ff_), ("baes", model.baes_)):
        if mod is not None:
            arrays.update(state_arrays(f"state.{prefix}.", mod))
    for k, v in model.embedding_mean_.items():
        arrays[f"embedding_mean.{k}"] = np.asarray(v)
    with atomic_directory(d, hrl_file) as tmp:
        (tmp / "stage1").mkdir()
        model.stage1_._write_into(tmp / "stage1")
        meta = {
            **header("HRL"),
            "params": json.loads(json.dumps(params, default=list)),
            "view_names": list(model.view_names_),
            "n_features_in": model.n_features_in_,
            "units": model.units_,
            "classes": model.classes_.tolist(),
            "spec": spec,
            "bae_val_map": model.bae_val_map_,
            "history": model.history_,
            "n_components": model.n_components_,
            "files": files_manifest(tmp, ["stage1/stage1.npz"]),
        }
        write_container(tmp / "hrl.npz", meta, arrays)
    return d


def load_hrl(
    cls: type[MultiViewModel], directory: str | os.PathLike, device: str = "cpu"
) -> MultiViewModel:
    """Read a model written by :func:`save_hrl` (see :meth:`HRL.load`)."""
    d, meta, arrays, where = read_index(directory, "hrl.npz", "hrl.pt", "HRL")
    verify_files(d, meta.get("files"), ["stage1/stage1.npz"], where)
    return restore_checked(lambda: _restore(cls, d, meta, arrays, device, where), "HRL", where)


def _restore(
    cls: type[MultiViewModel],
    d: Path,
    meta: Mapping[str, Any],
    arrays: Mapping[str, np.ndarray],
    device: str,
    where: str,
) -> MultiViewModel:
    """Rebuild the model from a verified index (other errors become CheckpointError)."""
    params = dict(need(meta, "params", dict))
    for k in ("friendly_hidden", "mutual_hidden", "ff_hidden"):
        if isinstance(params.get(k), list):
            params[k] = tuple(params[k])
    params["device"] = device
    # checkpoints written before input_skip existed hold the paper's architecture
    params.setdefault("input_skip", False)
    try:
        model = cls(**params)
        model._check_params()
    except (TypeError, ConfigError) as e:
        raise CheckpointError(f"{where}: the saved hyperparameters are invalid: {e}") from e
    model._device = resolve_device(device)
    names, n_in = need_views(meta, where)
    stage1 = HRLStage1.load(d / "stage1", device="cpu")
    if set(stage1.view_names_) != set(names) or stage1.n_features_in_ != n_in:
        raise CheckpointError(f"{where}: stage1/ was fitted on other views or widths.")
    units = need(meta, "units", dict)
    if units != stage1.units_:
        raise CheckpointError(f"{where}: units {units!r} differ from stage1's.")
    classes = np.asarray(need(meta, "classes", list))
    if classes.ndim != 1 or len(classes) < 2:
        raise CheckpointError(f"{where}: classes must be a list of 2 or more labels.")
    n_classes = len(classes)
    spec = need(meta, "spec", dict)
    hidden = check_hidden(params["ff_hidden"])
    stages: dict[str, Any] = {}
    if spec["joint_ae"] is not None:
        stages["joint_ae"] = lambda: nn.ModuleDict(
            {k: JointAutoencoder(p, h) for k, (p, h) in spec["joint_ae"].items()}
        )
    if spec["ff"] is not None:
        stages["ff"] = lambda: nn.ModuleDict(
            {
                k: FeedForward(w, hidden, n_classes, params["activation"], params["dropout"])
                for k, w in spec["ff"].items()
            }
        )
    stages["baes"] = lambda: nn.ModuleList(BimodalLayer(w, c, n_classes) for w, c in spec["baes"])
    known = {f"embedding_mean.{k}" for k in names}
    built: dict[str, Any] = {}
    for prefix, build in stages.items():
        state = sub_tensors(arrays, f"state.{prefix}.")
        known |= {f"state.{prefix}.{k}" for k in state}
        built[prefix] = build_checked(build, state, f"{where} ({prefix})")
        built[prefix].to(model._device).eval()
    extra = sorted(set(arrays) - known)
    if extra or not known <= set(arrays):
        raise CheckpointError(f"{where}: unexpected or missing arrays {extra[:3]}.")
    n_components = need(meta, "n_components", int)
    emb = {k: arrays[f"embedding_mean.{k}"] for k in names}
    if any(v.shape != (n_components,) for v in emb.values()):
        raise CheckpointError(f"{where}: embedding means do not have n_components entries.")
    model.stage1_ = stage1
    model.view_names_ = names
    model.n_features_in_ = n_in
    model.units_ = dict(units)
    model.classes_ = classes
    model.joint_ae_ = built.get("joint_ae")
    model.ff_ = built.get("ff")
    model.n_bae_ = len(built["baes"])
    model.bae_val_map_ = list(need(meta, "bae_val_map", list))
    model.history_ = need(meta, "history", dict)
    model.stage_keys_ = {"joint_ae": None, "ff": None, "bae": None}
    model.n_components_ = n_components
    model.embedding_mean_ = emb
    model.baes_ = built["baes"]
    return model
