"""The ``boltz`` command line: recipes, checkpoint inspection and sampling.

Exit codes: 0 success, 1 failure (one-line reason on stderr; ``--debug`` shows
the traceback), 2 usage error.  ``-q``/``-v`` map to logging levels; progress
bars go to stderr.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
from typing import Any

import numpy as np

__all__ = ["main"]

RECIPES = {
    "pretrain": ("recipes.pretrain", "greedy pretraining of RBM stacks / multimodal DBN from TOML"),
    "tags": ("recipes.tags", "tags generated from features: Wikipedia, Corel5k or your own .npz"),
    "hrl": ("recipes.hrl", "the HRL reproduction with its ablations"),
    "compare": ("recipes.compare", "every cross-modal method on one split"),
    "drumn": ("recipes.drumn", "DRUMN on Wikipedia: complete, incomplete and anomalous data"),
    "sdml": ("recipes.sdml", "SDML on Wikipedia and UCI multiple features (a view added later)"),
    "dm2c": ("recipes.dm2c", "DM2C mixed-modal clustering on Wikipedia"),
    "demo": ("recipes.demo", "the README's main job on embedded data"),
    "rbm-digits": ("recipes.rbm_digits", "Bernoulli RBM on scikit-learn digits vs sklearn"),
    "rbm-wikipedia": ("recipes.rbm_wikipedia", "Gaussian and replicated-softmax RBMs on Wikipedia"),
}


def _summarise_history(history: list[dict[str, Any]]) -> dict[str, Any]:
    if not history:
        return {}
    last = history[-1]
    return {"epochs": len(history), "last": {k: round(float(v), 5) for k, v in last.items()}}


def _bridge_info(meta: dict[str, Any], arrays: dict[str, Any]) -> dict[str, Any]:
    """What a ``bridge.models`` checkpoint (a torch model in boltz's container) holds."""
    history = meta.get("history", [])
    if isinstance(history, dict):  # one history per view (SDML) or per stage (HRL)
        history = {k: _summarise_history(v) for k, v in history.items() if isinstance(v, list)}
    else:
        history = _summarise_history(history)
    return {
        "class": meta.get("class"),
        "format_version": meta.get("format_version"),
        "library_version": f"{meta.get('library_version')} (bridge.models)",
        "epoch": meta.get("best_epoch"),
        "unit": None,
        "config": {
            "params": meta.get("params"),
            "views": meta.get("n_features_in"),
            "monitor": meta.get("monitor"),
        },
        "arrays": {k: [list(v.shape), str(v.dtype)] for k, v in sorted(arrays.items())},
        "history": history,
    }


def _info_paths(path: str) -> list[str]:
    """A checkpoint file, or every checkpoint in a model directory (e.g. ``HRL.save``)."""
    from pathlib import Path

    from boltz.atomic import is_temporary

    p = Path(path)
    if not p.is_dir():
        return [path]
    found = sorted(
        str(f)
        for f in p.rglob("*")
        if f.suffix in (".npz", ".pt") and not any(is_temporary(q.name) for q in f.parents)
    )
    if not found:
        raise FileNotFoundError(f"{path} is a directory without .npz or .pt checkpoints")
    return found


def cmd_info(args: argparse.Namespace) -> int:
    paths = _info_paths(args.checkpoint)
    if len(paths) > 1:
        for i, path in enumerate(paths):
            print(("\n" if i else "") + f"== {path}")
            cmd_info(argparse.Namespace(checkpoint=path, json=args.json))
        return 0
    from boltz.checkpoint import read_checkpoint

    meta, arrays = read_checkpoint(paths[0])
    if meta.get("library") == "bridge.models":
        return _print_info(_bridge_info(meta, arrays), args.json)
    out = {
        "class": meta.get("class"),
        "format_version": meta.get("format_version"),
        "library_version": meta.get("library_version"),
        "epoch": meta.get("epoch"),
        "unit": meta.get("unit"),
        "config": meta.get("config"),
        "arrays": {k: [list(v.shape), str(v.dtype)] for k, v in sorted(arrays.items())},
        "history": _summarise_history(meta.get("history", [])),
    }
    return _print_info(out, args.json)


def _print_info(out: dict[str, Any], as_json: bool) -> int:
    if as_json:
        print(json.dumps(out, indent=2, default=str))
        return 0
    print(
        f"class:    {out['class']} (format {out['format_version']}, boltz {out['library_version']})"
    )
    if out["unit"]:
        print(f"unit:     {out['unit']}")
    if out["epoch"] is not None:
        print(f"epoch:    {out['epoch']}")
    print("arrays:")
    for k, (shape, dt) in out["arrays"].items():
        print(f"  {k:40s} {tuple(shape)} {dt}")
    hist = out["history"]
    if hist and "epochs" in hist:
        print(f"history:  {hist['epochs']} epochs; last: {hist['last']}")
    elif hist:
        for k, h in hist.items():
            if h:
                print(f"history:  {k}: {h['epochs']} epochs; last: {h['last']}")
    if out["config"]:
        print("config:   " + json.dumps(out["config"], sort_keys=True))
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    from boltz import load

    model = load(args.checkpoint, device="cpu")
    name = type(model).__name__
    rng = np.random.default_rng(args.seed)
    if name != "RBM":
        if not hasattr(model, "sample"):
            raise ValueError(f"boltz sample supports RBM and DBN checkpoints; got {name}.")
        samples = model.sample(args.n, steps=args.steps)
    else:
        V = model.n_features_in_
        if model.unit_.name == "bernoulli":
            start = (rng.random((args.n, V)) < model.data_mean_).astype(np.float32)
        elif model.unit_.name == "gaussian":
            start = (rng.standard_normal((args.n, V)) * model.scale_ + model.mean_).astype(
                np.float32
            )
        else:
            raise ValueError("sampling a replicated-softmax RBM needs documents; use the API.")
        samples = model.gibbs(start, steps=args.steps)
    np.save(args.out.replace(".png", ".npy"), samples)
    side = round(float(np.sqrt(samples.shape[1])))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(samples)
    ncol = min(10, n)
    nrow = int(np.ceil(n / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(ncol * 0.8, nrow * 0.8), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, s in zip(axes.ravel(), samples):
        if side * side == samples.shape[1]:
            ax.imshow(s.reshape(side, side), cmap="gray_r", interpolation="nearest")
        else:
            ax.plot(s, lw=0.5)
    fig.savefig(args.out, dpi=100, bbox_inches="tight")
    plt.close(fig)
    logging.getLogger("recipes.cli").info("wrote %s (%d samples)", args.out, n)
    return 0


def _positive_int(text: str) -> int:
    """argparse type: an integer >= 1 (a usage error otherwise)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1; got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1; got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    from boltz._version import __version__

    p = argparse.ArgumentParser(
        prog="boltz", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--version", action="version", version=f"boltz {__version__}")
    p.add_argument("--debug", action="store_true", help="show tracebacks on failure")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, helptext) in RECIPES.items():
        sp = sub.add_parser(name, help=helptext, add_help=False)
        sp.add_argument("recipe_args", nargs=argparse.REMAINDER)
    pi = sub.add_parser("info", help="what a checkpoint holds")
    pi.add_argument("checkpoint")
    pi.add_argument("--json", action="store_true", help="machine-readable output")
    ps = sub.add_parser("sample", help="Gibbs samples from an RBM/DBN checkpoint as PNG")
    ps.add_argument("checkpoint")
    ps.add_argument("--n", type=_positive_int, default=20, help="number of samples (default 20)")
    ps.add_argument("--steps", type=_positive_int, default=1000, help="Gibbs steps (default 1000)")
    ps.add_argument("--seed", type=int, default=0)
    ps.add_argument("--out", default="samples.png", help="PNG path (default samples.png)")
    for sp in (pi, ps):
        sp.add_argument("-q", "--quiet", action="store_true")
        sp.add_argument("-v", "--verbose", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    if debug:
        argv.remove("--debug")
    parser = build_parser()
    if not argv:
        parser.print_help(sys.stderr)
        return 2
    if argv[0] in RECIPES:
        mod = importlib.import_module(RECIPES[argv[0]][0])
        try:
            mod.main(argv[1:])
            return 0
        except SystemExit as e:
            return int(e.code or 0)
        except KeyboardInterrupt:
            print("boltz: interrupted", file=sys.stderr)
            return 130
        except Exception as e:
            if debug:
                raise
            print(f"boltz {argv[0]}: error: {type(e).__name__}: {e}", file=sys.stderr)
            return 1
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0)
    level = (
        logging.WARNING
        if getattr(args, "quiet", False)
        else (logging.DEBUG if getattr(args, "verbose", False) else logging.INFO)
    )
    logging.basicConfig(level=level, stream=sys.stderr, format="%(name)s: %(message)s")
    try:
        return {"info": cmd_info, "sample": cmd_sample}[args.command](args)
    except Exception as e:
        if debug:
            raise
        print(f"boltz {args.command}: error: {type(e).__name__}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
