"""Shared plumbing of the recipes: arguments, logging, output folder, JSON, figures."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from boltz.atomic import atomic_file

__all__ = ["base_parser", "finish", "run_cli", "save_json", "setup", "start_figure"]


def base_parser(prog: str, description: str, default_out: str) -> argparse.ArgumentParser:
    """Parser with the options every recipe has: --data, --out, --seed, --smoke, -q/-v."""
    p = argparse.ArgumentParser(
        prog=f"python -m recipes.{prog}",
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--data", default=None, help="data root (default: $BOLTZ_DATA or ../shared/data)"
    )
    p.add_argument("--out", default=default_out, help=f"output folder (default: {default_out})")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.add_argument(
        "--smoke",
        action="store_true",
        help="tiny sizes and few epochs: finishes in seconds (used by tests)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    p.add_argument(
        "--progress",
        choices=["auto", "on", "off"],
        default="auto",
        help="progress bars on stderr (default: only on a terminal)",
    )
    return p


def setup(args: argparse.Namespace) -> Path:
    """Configure logging and create the output folder (fails early if unwritable)."""
    level = logging.WARNING if args.quiet else logging.DEBUG if args.verbose else logging.INFO
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
        force=True,
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if not os.access(out, os.W_OK):
        raise PermissionError(f"output folder {str(out)!r} is not writable")
    args.progress_flag = {"auto": "auto", "on": True, "off": False}[args.progress]
    args.t0 = time.perf_counter()
    return out


def save_json(path: Path, obj: Any) -> None:
    """Write JSON atomically (NumPy scalars converted)."""

    def conv(x: Any) -> Any:
        if isinstance(x, np.generic):
            return x.item()
        if isinstance(x, np.ndarray):
            return x.tolist()
        raise TypeError(f"not JSON-serialisable: {type(x).__name__}")

    text = json.dumps(obj, indent=2, sort_keys=True, default=conv) + "\n"
    with atomic_file(Path(path)) as f:
        f.write(text.encode("utf-8"))


def start_figure():
    """matplotlib with the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path: str | Path, dpi: int = 110, tight: bool = False) -> None:
    """Lay out ``fig``, write it to ``path`` and close it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : path-like
    dpi : int
    tight : bool
        Crop to the drawn area (``bbox_inches="tight"``) instead of ``tight_layout``,
        for figures whose size the contents set (tables, image grids, colour bars).
    """
    import matplotlib.pyplot as plt

    if tight:
        fig.savefig(path, dpi=dpi, bbox_inches="tight")
    else:
        fig.tight_layout()
        fig.savefig(path, dpi=dpi)
    plt.close(fig)


def finish(
    args: argparse.Namespace,
    out: Path,
    metrics: dict[str, Any],
    log: logging.Logger | None = None,
) -> None:
    """Write metrics.json and log the wall time.

    With ``log``, every metric is first logged to it as ``name = value``.
    """
    if log is not None:
        for k, v in metrics.items():
            log.info("%s = %s", k, v)
    metrics = dict(metrics)
    metrics["wall_seconds"] = round(time.perf_counter() - args.t0, 2)
    save_json(out / "metrics.json", metrics)
    logging.getLogger("recipes").info(
        "wrote %s (%.1f s)", out / "metrics.json", metrics["wall_seconds"]
    )


def run_cli(main: Callable[[list[str] | None], Any], name: str) -> NoReturn:
    """``python -m recipes.NAME``: run ``main`` and exit with a meaningful status.

    0 on success; 2 for a usage error (argparse); 130 when interrupted; 1 for any
    other failure, reported as one line ``NAME: error: Type: message`` on stderr --
    the traceback only with ``--debug`` (or ``BOLTZ_DEBUG=1``).
    """
    argv = sys.argv[1:]
    debug = "--debug" in argv or os.environ.get("BOLTZ_DEBUG") == "1"
    argv = [a for a in argv if a != "--debug"]
    try:
        main(argv)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        print(f"{name}: interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as e:
        if debug:
            raise
        print(f"{name}: error: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
    sys.exit(0)
