"""Greedy pretraining of an RBM stack or a multimodal DBN described by a TOML file.

A thin program over the library: :mod:`boltz.config` parses and validates the config
(its docstring is the schema: ``[data]``, ``[defaults]`` merged into every layer,
``[[layers]]`` or ``[pathways.NAME]`` + ``[joint]``) and :mod:`boltz.pretraining`
trains it, resumably.  Shipped examples: ``recipes/configs/digits.toml`` (embedded
data, used by the tests) and ``recipes/configs/wikipedia.toml`` (deepnet's multimodal
DBN scaled to SIFT-128 + 2,000 words).

Outputs in --out: one resumable checkpoint per pathway (``pathway-NAME.npz``,
rewritten after every epoch of every layer; a single stack is the pathway ``dbn``)
and ``joint.npz``; the final model ``model.npz`` (``boltz.load``); ``curves.png``
(reconstruction error per epoch of every layer); ``metrics.json`` with the flat
keys ``NAME.layerI.recon_error`` (last epoch, monitor subset) for every layer,
``joint.recon_error`` and ``wall_seconds``.  Rerunning the same command after an
interruption resumes at the unfinished layer and epoch (bitwise the same result);
a checkpoint written with a different config is refused.  ``--smoke`` trains at most
16 hidden units and 2 epochs per layer on the first 200 rows.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import boltz
from boltz import config
from boltz.pretraining import EpochCallback, pretrain, recon_errors

from ._common import base_parser, finish, run_cli, save_figure, setup, start_figure

log = logging.getLogger("recipes.pretrain")

__all__ = ["SMOKE_ROWS", "main", "plot_curves", "run"]

#: Training rows of a ``--smoke`` run.
SMOKE_ROWS = 200


def run(
    spec: Mapping[str, Any],
    views: Mapping[str, Any],
    out: str | Path,
    *,
    seed: int = 0,
    smoke: bool = False,
    progress: Any = "auto",
    callbacks: Sequence[EpochCallback] = (),
) -> tuple[Any, dict[str, float]]:
    """Pretrain the model of a parsed config, save it and draw its curves (resumable).

    Parameters
    ----------
    spec : dict
        :func:`boltz.config.parse_config` output.
    views : dict of str -> array
        :func:`boltz.config.load_views` output.
    out : path-like
        Folder for the checkpoints, ``model.npz`` and ``curves.png``.
    seed : int
        One seed; the pathways and the joint layer get independent streams.
    smoke : bool
        At most 16 hidden units and 2 epochs per layer (:func:`boltz.config.shrink`).
    progress : "auto" or bool
    callbacks : list of callables
        ``cb(pathway, layer, epoch, record)`` after every epoch of every layer; raising
        stops the run, which the same call then resumes.

    Returns
    -------
    model : boltz.DBN or boltz.MultimodalDBN
    metrics : dict
        :func:`boltz.pretraining.recon_errors` of the model.
    """
    out = Path(out)
    if smoke:
        spec = config.shrink(spec)
    model = pretrain(spec, views, out, seed=seed, progress=progress, callbacks=callbacks)
    plot_curves(model, out / "curves.png")
    return model, recon_errors(model)


def plot_curves(model: boltz.DBN | boltz.MultimodalDBN, path: Path) -> None:
    """Reconstruction error per epoch of every layer (log scale)."""
    multimodal = isinstance(model, boltz.MultimodalDBN)
    pathways = model.pathways_ if multimodal else {"dbn": model}
    plt = start_figure()
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    for name, dbn in pathways.items():
        for i, r in enumerate(dbn.layers_):
            ax.plot([h["recon_error"] for h in r.history_], label=f"{name} layer {i}")
    if multimodal:
        ax.plot([h["recon_error"] for h in model.joint_.history_], color="k", label="joint")
    ax.set_xlabel("epoch")
    ax.set_ylabel("reconstruction error (monitor rows)")
    ax.set_yscale("log")
    ax.legend(fontsize=7)
    save_figure(fig, path)


def main(
    argv: list[str] | None = None, *, callbacks: Sequence[EpochCallback] = ()
) -> dict[str, Any]:
    """Command line entry point; returns the metrics written to ``metrics.json``.

    ``callbacks`` (for tests and notebooks): ``cb(pathway, layer, epoch, record)``
    after every epoch of every layer; raising stops the run, and rerunning the
    same command resumes it.
    """
    p = base_parser("pretrain", __doc__, "runs/pretrain")
    p.add_argument("config", help="TOML file (e.g. recipes/configs/digits.toml)")
    args = p.parse_args(argv)
    spec = config.load_config(args.config)
    out = setup(args)
    rows = SMOKE_ROWS if args.smoke else None
    views = config.load_views(spec["data"], args.data, max_rows=rows)
    model, metrics = run(
        spec,
        views,
        out,
        seed=args.seed,
        smoke=args.smoke,
        progress=args.progress_flag,
        callbacks=callbacks,
    )
    finish(args, out, metrics)
    if not args.quiet:
        print(f"{type(model).__name__} written to {out / 'model.npz'}")
        for k, v in metrics.items():
            print(f"  {k:28s} {v:.4g}")
    return metrics


if __name__ == "__main__":
    run_cli(main, "recipes.pretrain")
