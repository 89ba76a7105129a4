"""Resumable greedy pretraining of the model a config describes (:mod:`boltz.config`).

Every pathway DBN is trained layer by layer, then the joint RBM on the pathways' top
layers.  Each part has its own checkpoint in the output folder, rewritten after every
epoch of every layer: ``pathway-NAME.npz`` (a single stack is the pathway ``dbn``) and
``joint.npz``; the finished model is ``model.npz`` (``boltz.load``).  Calling
:func:`pretrain` again after an interruption resumes at the unfinished layer and epoch
with bitwise the same result; a checkpoint written with a different config or seed is
refused.

>>> from boltz import config, pretraining                       # doctest: +SKIP
>>> spec = config.load_config("recipes/configs/digits.toml")     # doctest: +SKIP
>>> views = config.load_views(spec["data"])                      # doctest: +SKIP
>>> model = pretraining.pretrain(spec, views, "runs/pretrain")   # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .checkpoint import load
from .config import RUNTIME_KEYS, build_joint, build_pathway, check_views, seeds
from .dbn import DBN
from .errors import ConfigError
from .multimodal import MultimodalDBN
from .rbm import RBM

log = logging.getLogger(__name__)

__all__ = ["EpochCallback", "fit_joint", "fit_pathway", "pretrain", "recon_errors"]

#: ``cb(pathway, layer, epoch, record)`` after every epoch of every layer; the joint
#: layer reports as pathway ``"joint"``, layer 0.  Raising stops the run (resumable).
EpochCallback = Callable[[str, int, int, dict], None]


def _model_params(est: Any) -> dict[str, Any]:
    """The hyperparameters that make two runs the same model.  ``device`` is left out:
    checkpoints are loaded on the CPU (``device="cpu"``) and compared with a fresh
    ``device="auto"`` RBM; where the numbers are computed does not change the config."""
    skip = RUNTIME_KEYS | {"device"}
    return {k: v for k, v in est.get_params(deep=False).items() if k not in skip}


def _check_resumable(path: Path, saved: Any, fresh: Any) -> None:
    if isinstance(fresh, DBN):
        same = (
            isinstance(saved, DBN)
            and saved.random_state == fresh.random_state
            and len(saved.layers) == len(fresh.layers)
            and all(
                _model_params(a) == _model_params(b) for a, b in zip(saved.layers, fresh.layers)
            )
        )
    else:
        same = isinstance(saved, RBM) and _model_params(saved) == _model_params(fresh)
    if not same:
        raise ConfigError(
            f"{path} was written by a run with a different config or seed; use another "
            "output folder or delete it to start that part again"
        )


def _epoch_logger(name: str, layer: int, epochs: int) -> Callable[[int, dict], None]:
    def report(epoch: int, rec: dict) -> None:
        last = epoch + 1 >= epochs
        level = logging.INFO if last or (epoch + 1) % 10 == 0 else logging.DEBUG
        log.log(
            level,
            "%s layer %d: epoch %d/%d, reconstruction error %.4g",
            name,
            layer,
            epoch + 1,
            epochs,
            rec.get("recon_error", float("nan")),
        )

    return report


def _progress(dbn: DBN) -> str:
    done = [r for r in getattr(dbn, "layers_", []) if r._is_fitted()]
    if not done:
        return "no layer started"
    return f"layer {len(done) - 1} at epoch {done[-1].epoch_}"


def fit_pathway(
    name: str,
    layers: Sequence[Mapping[str, Any]],
    X: Any,
    path: Path,
    *,
    seed: int,
    progress: Any = "auto",
    callbacks: Sequence[EpochCallback] = (),
) -> DBN:
    """Fit (or resume from ``path``) one pathway DBN, checkpointing every epoch.

    Parameters
    ----------
    name : str
        Pathway name (for logs and callbacks).
    layers : list of dict
        ``boltz.RBM`` keywords per layer, bottom first.
    X : array-like or CSR, shape (n_samples, n_features)
    path : Path
        The pathway checkpoint: loaded with ``warm_start=True`` when it exists.
    seed : int
        ``random_state`` of the DBN (spawns the layer seeds).
    progress : "auto" or bool
    callbacks : list of callables
        ``cb(name, layer, epoch, record)`` after every epoch.

    Returns
    -------
    boltz.DBN
        Fitted, with no callbacks and no checkpoint path.
    """
    fresh = build_pathway(layers, seed, progress)

    def hook(dbn: Any, layer: int, epoch: int, rec: dict) -> None:
        _epoch_logger(name, layer, dbn.layers[layer].epochs)(epoch, rec)
        for cb in callbacks:
            cb(name, layer, epoch, rec)

    if path.exists():
        dbn = load(path, device="cpu")
        _check_resumable(path, dbn, fresh)
        log.info("pathway %s: resuming from %s (%s)", name, path, _progress(dbn))
        for r in [*dbn.layers, *dbn.layers_]:
            r.set_params(progress=progress)
        dbn.set_params(warm_start=True)
    else:
        dbn = fresh
        log.info("pathway %s: %s", name, " -> ".join(str(kw["n_hidden"]) for kw in layers))
    dbn.set_params(checkpoint=path, callbacks=[hook])
    try:
        dbn.fit(X)
    finally:
        dbn.set_params(callbacks=None)
    dbn.set_params(checkpoint=None, warm_start=False)  # the saved model carries no run paths
    return dbn


def fit_joint(
    kwargs: Mapping[str, Any],
    pathways: dict[str, DBN],
    views: Mapping[str, Any],
    path: Path,
    *,
    seed: int,
    progress: Any = "auto",
    callbacks: Sequence[EpochCallback] = (),
) -> MultimodalDBN:
    """Fit (or resume from ``path``) the joint RBM on fitted pathways.

    Uses :meth:`boltz.MultimodalDBN.fit_joint`, the route for pathways that were
    fitted (and checkpointed) one by one.

    Parameters
    ----------
    kwargs : dict
        ``boltz.RBM`` keywords of the joint layer.
    pathways : dict of str -> fitted boltz.DBN
    views : dict of str -> array
        Training data of each pathway, keyed by pathway name.
    path : Path
        The joint checkpoint (written every epoch; resumed when it exists).
    seed, progress, callbacks
        As in :func:`fit_pathway`; callbacks see pathway ``"joint"``, layer 0.

    Returns
    -------
    boltz.MultimodalDBN
    """
    fresh = build_joint(kwargs, seed, progress)
    report = _epoch_logger("joint", 0, fresh.epochs)

    def hook(rbm: Any, epoch: int, rec: dict) -> None:
        report(epoch, rec)
        for cb in callbacks:
            cb("joint", 0, epoch, rec)

    if path.exists():
        joint = load(path, device="cpu")
        _check_resumable(path, joint, fresh)
        log.info("joint: resuming from %s at epoch %d", path, joint.epoch_)
        joint.set_params(warm_start=True, progress=progress)
    else:
        joint = fresh
        log.info("joint: %d hidden units", joint.n_hidden)
    joint.set_params(checkpoint=path, callbacks=[hook])
    mdbn = MultimodalDBN(pathways=pathways, joint=fresh)
    try:
        mdbn.fit_joint(views, pathways=pathways, joint=joint)
    finally:
        joint.set_params(callbacks=None)
    joint.set_params(checkpoint=None, warm_start=False)
    return mdbn


def pretrain(
    spec: Mapping[str, Any],
    views: Mapping[str, Any],
    out: str | Path,
    *,
    seed: int = 0,
    progress: Any = "auto",
    callbacks: Sequence[EpochCallback] = (),
) -> DBN | MultimodalDBN:
    """Pretrain the model of a parsed config and save it as ``out/model.npz`` (resumable).

    Parameters
    ----------
    spec : dict
        :func:`boltz.config.parse_config` output (:func:`boltz.config.shrink` for
        a quick run).
    views : dict of str -> array
        :func:`boltz.config.load_views` output.
    out : path-like
        Folder for the checkpoints and ``model.npz``.
    seed : int
        One seed; the pathways and the joint layer get independent streams
        (:func:`boltz.config.seeds`).
    progress : "auto" or bool
    callbacks : list of callables
        ``cb(pathway, layer, epoch, record)`` after every epoch of every layer
        (the joint layer reports as ``"joint"``, layer 0); raising stops the run,
        which the same call then resumes.

    Returns
    -------
    boltz.DBN (a single stack) or boltz.MultimodalDBN

    Raises
    ------
    ConfigError
        A pathway names a view that ``views`` lacks, or a checkpoint in ``out``
        was written with another config or seed.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    check_views(spec, views)
    s = seeds(spec, seed)
    fitted: dict[str, DBN] = {}
    for name, pw in spec["pathways"].items():
        fitted[name] = fit_pathway(
            name,
            pw["layers"],
            views[pw["view"]],
            out / f"pathway-{name}.npz",
            seed=s[name],
            progress=progress,
            callbacks=callbacks,
        )
    if spec["joint"] is None:
        model: DBN | MultimodalDBN = fitted["dbn"]
    else:
        model = fit_joint(
            spec["joint"],
            fitted,
            {n: views[pw["view"]] for n, pw in spec["pathways"].items()},
            out / "joint.npz",
            seed=s["joint"],
            progress=progress,
            callbacks=callbacks,
        )
    model.save(out / "model.npz")
    return model


def recon_errors(model: DBN | MultimodalDBN) -> dict[str, float]:
    """Last-epoch reconstruction error (monitor rows) of every layer of a pretrained model.

    Returns
    -------
    dict of str -> float
        ``NAME.layerI.recon_error`` per pathway layer (a DBN is the pathway ``dbn``)
        and, for a multimodal DBN, ``joint.recon_error``.
    """
    pathways = {"dbn": model} if isinstance(model, DBN) else model.pathways_
    out = {
        f"{name}.layer{i}.recon_error": float(r.history_[-1]["recon_error"])
        for name, dbn in pathways.items()
        for i, r in enumerate(dbn.layers_)
    }
    if isinstance(model, MultimodalDBN):
        out["joint.recon_error"] = float(model.joint_.history_[-1]["recon_error"])
    return out
