"""The torch stages of an HRL fit: seeding, identity (for ``reuse``) and training.

Steps 2 and 3 of :mod:`bridge.models.hrl`: the joint autoencoders, the feed-forward
nets and the stacked bimodal autoencoders.  Every stage is trained by
:func:`train_stage`, seeded from ``(random_state, stage, level)`` alone
(:func:`stage_seed`), so a stage copied from another model by :func:`reuse_stage` is
bitwise the stage a fresh fit would train.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import nn

from ...base import MultiViewModel  # annotations: the HRL (model.py imports this module)
from .._training import train_loop
from .._validation import check_hidden, progress_enabled
from .networks import BimodalLayer, FeedForward, JointAutoencoder, to_numpy

__all__ = [
    "StageLabels",
    "fit_baes",
    "fit_ff",
    "fit_joint_ae",
    "reuse_stage",
    "stage_keys",
    "stage_seed",
]

logger = logging.getLogger(__name__)

#: The stage numbers that enter the seeds.
_STAGES = {"stage1": 1, "joint_ae": 2, "ff": 3, "bae": 4, "split": 5}


class StageLabels(NamedTuple):
    """The class labels of the supervised stages (:func:`fit_ff`, :func:`fit_baes`)."""

    #: Class indices of the training pairs, shape (n_train,), int64.
    train: torch.Tensor
    #: Class indices of the validation pairs, shape (n_val,).
    val: np.ndarray
    #: Number of classes (the width of the softmax layers).
    n_classes: int


def stage_seed(seed: int, stage: str, *extra: int) -> int:
    """An int seed for one stage, derived from ``(seed, stage, *extra)`` only."""
    ss = np.random.SeedSequence([int(seed), _STAGES[stage], *map(int, extra)])
    return int(ss.generate_state(1, np.uint32)[0] & 0x7FFFFFFF)


def stage_keys(model: MultiViewModel, data_key: Mapping[str, Any]) -> dict[str, str | None]:
    """The identity of each torch stage ``model`` trains (None for those it has not).

    A stage's key holds everything that stage and the ones below it depend on: the
    data, the seed and training settings (``data_key``), ``mutual_from`` and the
    hyperparameters of the stages up to it.  :func:`reuse_stage` copies a stage of
    another fitted model when the keys are equal.
    """
    v = model._variant
    keys: dict[str, str | None] = {"joint_ae": None, "ff": None, "bae": None}
    up: dict[str, Any] = {"data": data_key}
    if model.mutual_from != "self":
        up["mutual_from"] = model.mutual_from
    if v.joint_ae:
        up = {**up, "ae": [v.ae_key, int(model.joint_ae_hidden)]}
        keys["joint_ae"] = json.dumps(up, sort_keys=True)
    else:
        up = {**up, "input": v.name}
    if v.ff:
        up = {
            **up,
            "ff": [list(map(int, check_hidden(model.ff_hidden))), model.activation, model.dropout],
        }
        if model._input_skip:
            up["input_skip"] = True
        keys["ff"] = json.dumps(up, sort_keys=True)
    if v.bae:
        up = {**up, "bae": [int(model.n_bae_max), float(model.label_weight)]}
        keys["bae"] = json.dumps(up, sort_keys=True)
    return keys


def reuse_stage(
    model: MultiViewModel,
    stage: str,
    keys: Mapping[str, Any],
    reuse: MultiViewModel | None,
    train: Callable[[], Any],
) -> Any:
    """Copy the stage from ``reuse`` when its key matches, else ``train()``.

    Returns what ``train()`` returns: ``(module, history)``, for ``"bae"``
    ``((layers, validation MAPs), histories)``.
    """
    if reuse is not None and reuse.stage_keys_.get(stage) == keys[stage]:
        logger.info("HRL %s: reusing the trained %s stage", model.variant, stage)
        if stage == "bae":
            hist = {k: v for k, v in reuse.history_.items() if k.startswith("bae.")}
            return (copy.deepcopy(reuse.baes_), list(reuse.bae_val_map_)), copy.deepcopy(hist)
        module = reuse.joint_ae_ if stage == "joint_ae" else reuse.ff_
        return copy.deepcopy(module), copy.deepcopy(reuse.history_[stage])
    return train()


def train_stage(
    model: MultiViewModel,
    stage: str,
    seed: int,
    build: Callable[[], nn.Module],
    loss: Callable[[nn.Module, dict], torch.Tensor],
    data: dict,
    validate: Callable[[nn.Module], float] | None,
    maximize: bool,
    desc: str,
    level: int = 0,
) -> tuple[nn.Module, list]:
    """Build and train one stage with :func:`train_loop`, seeded from ``(seed, stage,
    level)`` only (the caller's torch RNG is left as it was).

    Parameters
    ----------
    model : MultiViewModel
        Gives the training settings, the device and ``progress``.
    stage : {"joint_ae", "ff", "bae"}
    seed : int
        The model's resolved ``random_state``.
    build : callable
        ``build() -> nn.Module`` (random init, under the stage's seed).
    loss : callable
        ``loss(module, batch) -> scalar``; ``batch`` holds rows of ``data``.
    data : dict[str, Tensor]
        Training tensors, same number of rows.
    validate : callable or None
        ``validate(module) -> float`` for early stopping.
    maximize : bool
        Whether a larger validation score is better.
    desc : str
        Progress-bar and log label.
    level : int, default 0
        BAE level (enters the seed).

    Returns
    -------
    module : nn.Module
        At its best validation epoch.
    history : list
        Per-epoch ``loss``/``val``.
    """
    kw = model._train_kw()
    s = stage_seed(seed, stage, level)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(s)
        module = build().to(model._device)
        gen = torch.Generator().manual_seed(s)
        hist, best = train_loop(
            module,
            lambda b, g: loss(module, b),
            data,
            epochs=kw["epochs"],
            batch_size=kw["batch_size"],
            learning_rate=kw["learning_rate"],
            weight_decay=kw["weight_decay"],
            generator=gen,
            validate=(lambda: validate(module)) if validate is not None else None,
            maximize=maximize,
            patience=kw["patience"],
            progress=progress_enabled(model.progress),
            desc=desc,
        )
    logger.info("HRL %s %s: best epoch %d of %d", model.variant, desc, best, len(hist))
    return module, hist


def fit_joint_ae(
    model: MultiViewModel,
    X_tr: dict,
    X_va: dict,
    parts: Mapping[str, list[int]],
    names: Sequence[str],
    seed: int,
) -> tuple[nn.ModuleDict, list]:
    """Step 2a: one :class:`JointAutoencoder` per view, early stopping on the validation
    loss.

    ``X_tr`` / ``X_va`` hold per view the concatenated ``[F_v, M_v]`` tensors, whose
    widths are ``parts[v]``.  Returns ``(modules, history)``.
    """

    def build() -> nn.ModuleDict:
        return nn.ModuleDict(
            {k: JointAutoencoder(parts[k], int(model.joint_ae_hidden)) for k in names}
        )

    def loss(m: nn.ModuleDict, b: dict) -> torch.Tensor:
        return sum(m[k].loss(b[k]) for k in names)

    def validate(m: nn.ModuleDict) -> float:
        return float(loss(m, X_va))

    return train_stage(
        model, "joint_ae", seed, build, loss, dict(X_tr), validate, False, "joint AE"
    )


def fit_ff(
    model: MultiViewModel, X_tr: dict, X_va: dict, labels: StageLabels, seed: int
) -> tuple[nn.ModuleDict, list]:
    """Step 2b: one :class:`FeedForward` net per view with a softmax layer on the labels,
    early stopping on the cross-modal MAP of the class posteriors.

    ``X_tr`` / ``X_va`` hold the nets' inputs per view, in the views' order.
    Returns ``(modules, history)``.
    """
    from ...metrics import cross_modal_map

    names = list(X_tr)
    yt, yv, n_classes = labels
    hidden = check_hidden(model.ff_hidden, "ff_hidden")

    def build() -> nn.ModuleDict:
        m = nn.ModuleDict(
            {
                k: FeedForward(
                    int(X_tr[k].shape[1]),
                    hidden,
                    n_classes,
                    model.activation,
                    float(model.dropout),
                )
                for k in names
            }
        )
        with torch.no_grad():
            for k in names:
                m[k].set_stats(X_tr[k])
        return m

    def loss(m: nn.ModuleDict, b: dict) -> torch.Tensor:
        y = b["__y"].to(model._device)
        return sum(nn.functional.cross_entropy(m[k].classifier(m[k](b[k])), y) for k in names)

    def validate(m: nn.ModuleDict) -> float:
        # the same score for every variant (the stage is shared through ``reuse``):
        # cross-modal MAP of the class posteriors, centred on their validation mean
        emb = {k: to_numpy(torch.softmax(m[k].classifier(m[k](X_va[k])), 1)) for k in names}
        emb = {k: v - v.mean(0) for k, v in emb.items()}
        return cross_modal_map(emb, yv)["average"]

    data = {**X_tr, "__y": yt}
    return train_stage(model, "ff", seed, build, loss, data, validate, True, "feed-forward")


def fit_baes(
    model: MultiViewModel, X_tr: dict, X_va: dict, labels: StageLabels, seed: int
) -> tuple[tuple[nn.ModuleList, list[float]], dict[str, list]]:
    """Step 3: up to ``n_bae_max`` :class:`BimodalLayer` levels, trained bottom-up; the
    number kept maximises the validation cross-modal MAP of the one-view codes.
    The views and their order are those of ``X_tr``.

    Returns ``((kept levels, validation MAP per trained level), {"bae.<l>": history})``.
    """
    from ...metrics import cross_modal_map

    names = list(X_tr)
    yt, yv, n_classes = labels
    lw = float(model.label_weight)
    layers: list[BimodalLayer] = []
    val_maps: list[float] = []
    hist: dict[str, list] = {}
    A_tr, A_va = dict(X_tr), dict(X_va)
    a, b = names
    for level in range(int(model.n_bae_max)):
        widths = {k: int(A_tr[k].shape[1]) for k in names}
        code = int(round(sum(widths.values()) / len(widths) / 2))
        if code < 1:
            break

        def build(widths: dict = widths, code: int = code, A_tr: dict = A_tr) -> BimodalLayer:
            layer = BimodalLayer(widths, code, n_classes)
            with torch.no_grad():
                layer.set_stats(A_tr)
            return layer

        def loss(m: BimodalLayer, batch: dict) -> torch.Tensor:
            y = batch["__y"].to(model._device)
            targets = {k: m.standardize(k, batch[k]) for k in names}
            total = batch[a].new_zeros(())
            for given in (names, [a], [b]):
                z = m.code({k: batch[k] for k in given})
                rec = sum((m.dec[k](z) - targets[k]).pow(2).mean(1).mean() for k in names)
                total = total + rec + lw * nn.functional.cross_entropy(m.classifier(z), y)
            return total / 3

        def validate(m: BimodalLayer, A_tr: dict = A_tr, A_va: dict = A_va) -> float:
            emb = {k: m.code({k: A_va[k]}) for k in names}
            if model.center:
                emb = {k: v - m.code({k: A_tr[k]}).mean(0) for k, v in emb.items()}
            return cross_modal_map({k: to_numpy(v) for k, v in emb.items()}, yv)["average"]

        data = {**A_tr, "__y": yt}
        layer, h = train_stage(
            model, "bae", seed, build, loss, data, validate, True, f"BAE {level + 1}", level
        )
        with torch.no_grad():
            score = validate(layer)
            A_tr = {k: layer.code({k: A_tr[k]}) for k in names}
            A_va = {k: layer.code({k: A_va[k]}) for k in names}
        layers.append(layer)
        val_maps.append(float(score))
        hist[f"bae.{level + 1}"] = h
    n_keep = int(np.argmax(val_maps)) + 1
    logger.info(
        "HRL %s: validation MAP per BAE level %s -> n = %d", model.variant, val_maps, n_keep
    )
    return (nn.ModuleList(layers[:n_keep]), val_maps), hist
