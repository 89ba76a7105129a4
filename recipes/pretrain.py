"""Greedy pretraining of an RBM stack or a multimodal DBN described by a TOML file.

The model is data: a config names the dataset and lists, per pathway, the layers
with their own RBM hyperparameters (every keyword of ``boltz.RBM``), then the
joint layer — it reads like a paper's architecture table.  Shipped examples:
``recipes/configs/digits.toml`` (embedded data) and ``recipes/configs/wikipedia.toml``
(deepnet's multimodal DBN scaled to SIFT-128 + 2000 words).

Schema::

    [data]      dataset = "digits-halves" | "wikipedia";  words = 2000 (wikipedia);
                view = NAME (single stack only)
    [[layers]]  one table per layer of a single DBN ...             (single stack)
    [pathways.NAME]  view = VIEW; [[pathways.NAME.layers]] ...      (multimodal)
    [joint]     RBM keywords of the joint layer                     (multimodal)

Outputs in --out: one resumable checkpoint per pathway (``pathway-NAME.npz``; a
single stack is the pathway ``dbn``) and ``joint.npz``, the final model
(``model.npz``, load with ``boltz.load``), ``curves.png`` and ``metrics.json``
(``NAME.layerI.recon_error`` for every layer, ``joint.recon_error``, ``wall_seconds``).
Rerunning after an interruption resumes at the unfinished layer.
"""

from __future__ import annotations

import difflib
import inspect
import logging
import tomllib
from pathlib import Path
from typing import Any

import numpy as np

import boltz
from boltz.errors import ConfigError

from ._common import base_parser, finish, setup, start_figure

log = logging.getLogger("recipes.pretrain")

_EXCLUDED = {"callbacks", "checkpoint", "checkpoint_every", "warm_start", "progress"}
_RBM_KEYS = {
    name: p.default
    for name, p in inspect.signature(boltz.RBM.__init__).parameters.items()
    if name != "self" and name not in _EXCLUDED
}
_FLOAT_KEYS = {k for k, v in _RBM_KEYS.items() if isinstance(v, float)} | {
    "lr_decay",
    "sparsity_target",
}
_INT_KEYS = {k for k, v in _RBM_KEYS.items() if isinstance(v, int) and not isinstance(v, bool)} | {
    "n_chains",
    "random_state",
}
_BOOL_KEYS = {k for k, v in _RBM_KEYS.items() if isinstance(v, bool)}
_STR_KEYS = {"visible", "device", "dtype"}

# test hook: called after every epoch of every layer as hook(pathway, layer, epoch)
_on_epoch: Any = None


def _unknown(key: str, allowed: set[str], where: str) -> ConfigError:
    close = difflib.get_close_matches(key, sorted(allowed), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else f"; allowed: {sorted(allowed)}"
    return ConfigError(f"{where}: unknown key {key!r}{hint}")


def _check_type(where: str, value: Any, want: str) -> None:
    ok = {
        "int": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, (int, float)) and not isinstance(value, bool),
        "bool": isinstance(value, bool),
        "str": isinstance(value, str),
        "table": isinstance(value, dict),
        "array of tables": isinstance(value, list) and all(isinstance(v, dict) for v in value),
    }[want]
    if not ok:
        raise ConfigError(f"{where}: expected {want}, got {type(value).__name__} ({value!r})")


def rbm_kwargs(table: dict[str, Any], where: str) -> dict[str, Any]:
    """Validated ``boltz.RBM`` keywords from one layer table."""
    _check_type(where, table, "table")
    out = {}
    for key, value in table.items():
        path = f"{where}.{key}"
        if key not in _RBM_KEYS:
            raise _unknown(key, set(_RBM_KEYS), where)
        want = (
            "bool"
            if key in _BOOL_KEYS
            else "int"
            if key in _INT_KEYS
            else "float"
            if key in _FLOAT_KEYS
            else "str"
        )
        _check_type(path, value, want)
        out[key] = float(value) if want == "float" else value
    if "n_hidden" not in out:
        raise ConfigError(f"{where}: missing key 'n_hidden' (int)")
    return out


def parse_config(cfg: dict[str, Any]) -> dict[str, Any]:
    """Validate a parsed TOML config; returns a normalised spec.

    Raises
    ------
    ConfigError
        Naming the dotted key, what was expected and what came.
    """
    allowed = {"data", "layers", "pathways", "joint"}
    for key in cfg:
        if key not in allowed:
            raise _unknown(key, allowed, "config")
    if "data" not in cfg:
        raise ConfigError('config: missing section [data] (dataset = "digits-halves" | ...)')
    data = cfg["data"]
    _check_type("data", data, "table")
    for key in data:
        if key not in {"dataset", "words", "view"}:
            raise _unknown(key, {"dataset", "words", "view"}, "data")
    if data.get("dataset") not in ("digits-halves", "wikipedia"):
        raise ConfigError(
            f'data.dataset: expected "digits-halves" or "wikipedia", got {data.get("dataset")!r}'
        )
    if "words" in data:
        _check_type("data.words", data["words"], "int")
    spec: dict[str, Any] = {"data": data, "pathways": {}}
    if "layers" in cfg:
        if "pathways" in cfg or "joint" in cfg:
            raise ConfigError(
                "config: give either [[layers]] (one stack) or [pathways.*] + "
                "[joint] (multimodal), not both"
            )
        _check_type("layers", cfg["layers"], "array of tables")
        if "view" not in data:
            raise ConfigError("data.view: a single stack needs the view to train on")
        spec["pathways"]["dbn"] = {
            "view": data["view"],
            "layers": [rbm_kwargs(t, f"layers[{i}]") for i, t in enumerate(cfg["layers"])],
        }
        spec["joint"] = None
        return spec
    if "pathways" not in cfg or "joint" not in cfg:
        raise ConfigError("config: missing [[layers]], or [pathways.NAME] sections and [joint]")
    _check_type("pathways", cfg["pathways"], "table")
    if len(cfg["pathways"]) < 2:
        raise ConfigError("pathways: a multimodal DBN needs at least two pathways")
    for name, p in cfg["pathways"].items():
        where = f"pathways.{name}"
        _check_type(where, p, "table")
        for key in p:
            if key not in {"view", "layers"}:
                raise _unknown(key, {"view", "layers"}, where)
        if "layers" not in p:
            raise ConfigError(f"{where}: missing [[{where}.layers]]")
        _check_type(f"{where}.layers", p["layers"], "array of tables")
        view = p.get("view", name)
        _check_type(f"{where}.view", view, "str")
        spec["pathways"][name] = {
            "view": view,
            "layers": [rbm_kwargs(t, f"{where}.layers[{i}]") for i, t in enumerate(p["layers"])],
        }
    spec["joint"] = rbm_kwargs(cfg["joint"], "joint")
    return spec


def load_views(data: dict[str, Any], root: Any, smoke: bool) -> dict[str, Any]:
    """The training views named by ``[data]``."""
    if data["dataset"] == "digits-halves":
        from sklearn.datasets import load_digits

        from .demo import halves

        X = (load_digits().data / 16.0).astype(np.float32)
        left, right = halves(X)
        views = {"left": left, "right": right}
    else:
        from boltz.datasets import load_wikipedia_bow

        d = load_wikipedia_bow(root, n_words=int(data.get("words", 2000)))
        views = {"image": d.image_train, "text": d.counts_train}
    if smoke:
        views = {k: v[:200] for k, v in views.items()}
    return views


def _rbm(kw: dict[str, Any], smoke: bool, progress: Any) -> boltz.RBM:
    kw = dict(kw)
    if smoke:
        kw["epochs"] = min(int(kw.get("epochs", 10)), 2)
        kw["n_hidden"] = min(int(kw["n_hidden"]), 16)
    return boltz.RBM(progress=progress, **kw)


def _fit_pathway(
    name: str, spec: dict, X: Any, out: Path, seed: int, smoke: bool, progress: Any
) -> boltz.DBN:
    path = out / f"pathway-{name}.npz"

    def hook(dbn: Any, layer: int, epoch: int, rec: dict) -> None:
        if _on_epoch is not None:
            _on_epoch(name, layer, epoch)

    if path.exists():
        dbn = boltz.load(path, device="cpu")
        log.info("pathway %s: resuming from %s", name, path)
        dbn.set_params(warm_start=True, callbacks=[hook], checkpoint=path)
    else:
        layers = [_rbm(kw, smoke, progress) for kw in spec["layers"]]
        dbn = boltz.DBN(layers, checkpoint=path, callbacks=[hook], random_state=seed)
    dbn.fit(X)
    dbn.set_params(callbacks=None)
    return dbn


def plot_curves(pathways: dict[str, Any], joint: Any, path: Path) -> None:
    plt = start_figure()
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    for name, dbn in pathways.items():
        for i, r in enumerate(dbn.layers_):
            ax.plot([h["recon_error"] for h in r.history_], label=f"{name} layer {i}")
    if joint is not None:
        ax.plot([h["recon_error"] for h in joint.history_], color="k", label="joint")
    ax.set_xlabel("epoch")
    ax.set_ylabel("reconstruction error (monitor subset)")
    ax.set_yscale("log")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = base_parser("pretrain", __doc__, "runs/pretrain")
    p.add_argument("config", help="TOML file (e.g. recipes/configs/digits.toml)")
    args = p.parse_args(argv)
    try:
        with open(args.config, "rb") as f:
            cfg = tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{args.config}: not valid TOML: {e}") from e
    spec = parse_config(cfg)
    out = setup(args)
    views = load_views(spec["data"], args.data, args.smoke)
    for name, pw in spec["pathways"].items():
        if pw["view"] not in views:
            raise ConfigError(
                f"pathways.{name}.view: unknown view {pw['view']!r}; the "
                f"dataset has {sorted(views)}"
            )
    fitted = {}
    for i, (name, pw) in enumerate(spec["pathways"].items()):
        fitted[name] = _fit_pathway(
            name, pw, views[pw["view"]], out, args.seed + 10 * i, args.smoke, args.progress_flag
        )
    metrics: dict[str, Any] = {}
    for name, dbn in fitted.items():
        for i, r in enumerate(dbn.layers_):
            metrics[f"{name}.layer{i}.recon_error"] = r.history_[-1]["recon_error"]
    joint = None
    if spec["joint"] is not None:
        jpath = out / "joint.npz"
        if jpath.exists():
            joint = boltz.load(jpath, device="cpu").set_params(warm_start=True, checkpoint=jpath)
        else:
            joint = _rbm(
                {"random_state": args.seed + 999, **spec["joint"]}, args.smoke, args.progress_flag
            ).set_params(checkpoint=jpath)
        mdbn = boltz.MultimodalDBN(pathways=fitted, joint=joint)
        mdbn.fit_joint(
            {n: views[spec["pathways"][n]["view"]] for n in fitted}, pathways=fitted, joint=joint
        )
        joint = mdbn.joint_
        metrics["joint.recon_error"] = joint.history_[-1]["recon_error"]
        mdbn.save(out / "model.npz")
    else:
        fitted["dbn"].save(out / "model.npz")
    plot_curves(fitted, joint, out / "curves.png")
    finish(args, out, metrics)
    return metrics


if __name__ == "__main__":
    main()
