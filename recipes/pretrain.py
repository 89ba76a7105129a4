"""Greedy pretraining of an RBM stack or a multimodal DBN described by a TOML file.

The model is data: a config names the dataset and lists, per pathway, the layers
with their own RBM hyperparameters (every keyword of ``boltz.RBM``), then the
joint layer, so it reads like a paper's architecture table.  Shipped examples:
``recipes/configs/digits.toml`` (embedded data, used by the tests) and
``recipes/configs/wikipedia.toml`` (deepnet's multimodal DBN scaled to SIFT-128 +
2,000 words).

Schema (every key is checked; errors name the dotted key and the expected type)::

    [data]                           required
    dataset    = "digits-halves" | "wikipedia"
    words      = 2000                wikipedia: vocabulary size
    doc_length = 100                 wikipedia: rescale every document to this many
                                     words (deepnet's adaptive prior); default: raw counts
    view       = "left"              single stack only: the view it is trained on

    [[layers]]                       single stack (a DBN): one table per layer,
    n_hidden = 128 ...               bottom first; keys are boltz.RBM keywords

    [pathways.NAME]                  multimodal DBN: two or more pathways
    view = "image"                   default: NAME (digits-halves: left, right;
                                     wikipedia: image, text)
    [[pathways.NAME.layers]]         one table per layer, boltz.RBM keywords
    [joint]                          the joint RBM, boltz.RBM keywords

Layer keys: n_hidden (required), visible, learn_sigma, k, persistent, n_chains,
learning_rate, lr_decay, momentum, final_momentum, momentum_epochs, weight_decay,
sparsity_target, sparsity_decay, sparsity_cost, batch_size, epochs, init_scale,
monitor_size, ais_every, device, dtype, random_state.  The run-time keywords
(callbacks, checkpoint, checkpoint_every, warm_start, progress) are set by the recipe.

Outputs in --out: one resumable checkpoint per pathway (``pathway-NAME.npz``,
rewritten after every epoch of every layer; a single stack is the pathway ``dbn``)
and ``joint.npz``; the final model ``model.npz`` (``boltz.load``); ``curves.png``
(reconstruction error per epoch of every layer); ``metrics.json`` with the flat
keys ``NAME.layerI.recon_error`` (last epoch, monitor subset) for every layer,
``joint.recon_error`` and ``wall_seconds``.  Rerunning the same command after an
interruption resumes at the unfinished layer and epoch (bitwise the same result);
a checkpoint written with a different config is refused.
"""

from __future__ import annotations

import difflib
import inspect
import logging
import tomllib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

import boltz
from boltz.errors import ConfigError

from ._common import base_parser, finish, run_cli, setup, start_figure

log = logging.getLogger("recipes.pretrain")

__all__ = [
    "LAYER_KEYS",
    "RUNTIME_KEYS",
    "load_config",
    "load_views",
    "main",
    "parse_config",
    "rescale_documents",
    "run",
]

#: RBM keywords the recipe sets itself (not allowed in a config).
RUNTIME_KEYS = frozenset({"callbacks", "checkpoint", "checkpoint_every", "warm_start", "progress"})
#: Keys whose default is not of their config type (None, or learning_rate's "auto":
#: leave the key out of a layer table for the per-unit default).
_NONE_DEFAULTS = {
    "n_chains": "int",
    "lr_decay": "float",
    "sparsity_target": "float",
    "learning_rate": "float",
}


def _toml_type(name: str, default: Any) -> str:
    if name in _NONE_DEFAULTS:
        return _NONE_DEFAULTS[name]
    if name == "random_state":
        return "int"
    if isinstance(default, bool):
        return "bool"
    if isinstance(default, int):
        return "int"
    if isinstance(default, float):
        return "float"
    return "str"


#: Every allowed layer key with its TOML type.
LAYER_KEYS: dict[str, str] = {
    name: _toml_type(name, p.default)
    for name, p in inspect.signature(boltz.RBM.__init__).parameters.items()
    if name != "self" and name not in RUNTIME_KEYS
}
_DATASETS = ("digits-halves", "wikipedia")
_DATA_KEYS = {"dataset": "str", "words": "int", "doc_length": "int", "view": "str"}
_TOP_KEYS = ("data", "layers", "pathways", "joint")

#: ``cb(pathway, layer, epoch, record)`` after every epoch of every layer; the joint
#: layer reports as pathway ``"joint"``, layer 0.  Raising stops the run (resumable).
EpochCallback = Callable[[str, int, int, dict], None]


# --------------------------------------------------------------------- config
def _unknown(where: str, key: str, allowed: Sequence[str]) -> ConfigError:
    path = f"{where}.{key}" if where else key
    close = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}?" if close else f"allowed: {', '.join(sorted(allowed))}"
    return ConfigError(f"{path}: unknown key; {hint}")


def _check_type(path: str, value: Any, want: str) -> None:
    ok = {
        "int": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, (int, float)) and not isinstance(value, bool),
        "bool": isinstance(value, bool),
        "str": isinstance(value, str),
        "table": isinstance(value, dict),
        "array of tables": isinstance(value, list) and all(isinstance(v, dict) for v in value),
    }[want]
    if not ok:
        shown = repr(value) if not isinstance(value, (dict, list)) else type(value).__name__
        raise ConfigError(f"{path}: expected {want}, got {_kind(value)} ({shown})")


def _kind(value: Any) -> str:
    return {
        bool: "bool",
        int: "int",
        float: "float",
        str: "str",
        dict: "table",
        list: "array",
    }.get(type(value), type(value).__name__)


def layer_kwargs(table: Any, where: str) -> dict[str, Any]:
    """Validated ``boltz.RBM`` keywords of one layer table.

    Parameters
    ----------
    table : dict
        The parsed TOML table.
    where : str
        Its dotted path, e.g. ``"pathways.image.layers[1]"`` (used in errors).

    Returns
    -------
    dict
        Keyword arguments for ``boltz.RBM`` (floats as float).

    Raises
    ------
    ConfigError
        Unknown key (with a close-match suggestion), wrong type, missing
        ``n_hidden``, or a value ``boltz.RBM`` rejects.
    """
    _check_type(where, table, "table")
    out: dict[str, Any] = {}
    for key, value in table.items():
        if key in RUNTIME_KEYS:
            raise ConfigError(
                f"{where}.{key}: set by the recipe (per-pathway checkpoints, --progress), "
                "not in a config; remove it"
            )
        if key not in LAYER_KEYS:
            raise _unknown(where, key, list(LAYER_KEYS))
        want = LAYER_KEYS[key]
        _check_type(f"{where}.{key}", value, want)
        out[key] = float(value) if want == "float" else value
    if "n_hidden" not in out:
        raise ConfigError(f"{where}.n_hidden: missing (expected int, the number of hidden units)")
    try:
        boltz.RBM(**out)._validate_params()
    except ConfigError as e:
        raise ConfigError(f"{where}: {e}") from None
    return out


def parse_config(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a parsed TOML config and normalise it.

    Parameters
    ----------
    cfg : dict
        ``tomllib.load`` output.

    Returns
    -------
    dict
        ``{"data": {...}, "pathways": {name: {"view": str, "layers": [kwargs...]}},
        "joint": kwargs or None}``; a single stack is the one pathway ``"dbn"``
        with ``joint=None``.

    Raises
    ------
    ConfigError
        Naming the dotted key, what was expected and what came.
    """
    for key in cfg:
        if key not in _TOP_KEYS:
            raise _unknown("", key, _TOP_KEYS)
    if "data" not in cfg:
        raise ConfigError(
            "missing section [data] (expected a table with dataset = "
            f"{' | '.join(map(repr, _DATASETS))})"
        )
    data = cfg["data"]
    _check_type("data", data, "table")
    for key, value in data.items():
        if key not in _DATA_KEYS:
            raise _unknown("data", key, list(_DATA_KEYS))
        _check_type(f"data.{key}", value, _DATA_KEYS[key])
    if "dataset" not in data:
        raise ConfigError("data.dataset: missing (expected str: 'digits-halves' or 'wikipedia')")
    if data["dataset"] not in _DATASETS:
        close = difflib.get_close_matches(data["dataset"], _DATASETS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(
            f"data.dataset: expected one of {list(_DATASETS)}, got {data['dataset']!r}{hint}"
        )
    for key in ("words", "doc_length"):
        if key in data:
            if data["dataset"] != "wikipedia":
                raise ConfigError(f"data.{key}: only for dataset = 'wikipedia'")
            if data[key] < 1:
                raise ConfigError(f"data.{key}: expected an int >= 1, got {data[key]!r}")
    spec: dict[str, Any] = {"data": dict(data), "pathways": {}}

    if "layers" in cfg:
        if "pathways" in cfg or "joint" in cfg:
            raise ConfigError(
                "layers: give either [[layers]] (one stack) or [pathways.NAME] sections with "
                "[joint] (a multimodal DBN), not both"
            )
        _check_type("layers", cfg["layers"], "array of tables")
        if not cfg["layers"]:
            raise ConfigError("layers: expected at least one [[layers]] table")
        if "view" not in data:
            raise ConfigError("data.view: missing (expected str: the view the stack is trained on)")
        spec["pathways"]["dbn"] = {
            "view": data["view"],
            "layers": [layer_kwargs(t, f"layers[{i}]") for i, t in enumerate(cfg["layers"])],
        }
        spec["joint"] = None
        return spec

    if "view" in data:
        raise ConfigError("data.view: only for a single stack; a pathway names its own view")
    if "pathways" not in cfg:
        raise ConfigError(
            "missing section [[layers]] (one stack) or [pathways.NAME] sections with [joint] "
            "(a multimodal DBN)"
        )
    pathways = cfg["pathways"]
    _check_type("pathways", pathways, "table")
    if len(pathways) < 2:
        raise ConfigError(
            f"pathways: a multimodal DBN needs at least two [pathways.NAME]; got {len(pathways)}"
        )
    if "joint" not in cfg:
        raise ConfigError("missing section [joint] (expected a table with n_hidden = int)")
    for name, p in pathways.items():
        where = f"pathways.{name}"
        if "." in name or name == "joint" or not name:
            raise ConfigError(
                f"{where}: a pathway name must be non-empty, without '.', not 'joint'"
            )
        _check_type(where, p, "table")
        for key in p:
            if key not in ("view", "layers"):
                raise _unknown(where, key, ["view", "layers"])
        view = p.get("view", name)
        _check_type(f"{where}.view", view, "str")
        if "layers" not in p:
            raise ConfigError(f"{where}.layers: missing (expected [[{where}.layers]] tables)")
        _check_type(f"{where}.layers", p["layers"], "array of tables")
        if not p["layers"]:
            raise ConfigError(f"{where}.layers: expected at least one [[{where}.layers]] table")
        layers = [layer_kwargs(t, f"{where}.layers[{i}]") for i, t in enumerate(p["layers"])]
        for i, kw in enumerate(layers[1:], start=1):
            if kw.get("visible", "bernoulli") != "bernoulli":
                raise ConfigError(
                    f"{where}.layers[{i}].visible: expected 'bernoulli' (an upper layer models "
                    f"the hidden probabilities below), got {kw['visible']!r}"
                )
        spec["pathways"][name] = {"view": view, "layers": layers}
    spec["joint"] = layer_kwargs(cfg["joint"], "joint")
    if spec["joint"].get("visible", "bernoulli") != "bernoulli":
        raise ConfigError(
            f"joint.visible: expected 'bernoulli' (it models the pathways' top layers), "
            f"got {spec['joint']['visible']!r}"
        )
    return spec


def load_config(path: str | Path) -> dict[str, Any]:
    """Read and validate a TOML config file (see the module docstring).

    Returns
    -------
    dict
        :func:`parse_config` output.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such config file")
    try:
        with open(path, "rb") as f:
            cfg = tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None
    try:
        return parse_config(cfg)
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}") from None


# --------------------------------------------------------------------- data
def rescale_documents(counts: Any, length: int) -> sp.csr_matrix:
    """Rescale every document to ``length`` words, keeping integer counts.

    deepnet's "adaptive prior" for replicated-softmax inputs: ``v * length / D``.
    Counts stay integers (largest-remainder rounding) so the result is a valid
    replicated-softmax input whose document length is exactly ``length``; empty
    documents stay empty.

    Parameters
    ----------
    counts : array-like or CSR, shape (n_docs, n_words)
        Word counts.
    length : int
        Words per rescaled document.

    Returns
    -------
    scipy.sparse.csr_matrix, shape (n_docs, n_words), float32
    """
    C = sp.csr_matrix(counts, dtype=np.float64)
    out = C.copy()
    for i in range(C.shape[0]):
        lo, hi = C.indptr[i], C.indptr[i + 1]
        v = C.data[lo:hi]
        total = v.sum()
        if total <= 0:
            continue
        x = v * (length / total)
        f = np.floor(x)
        short = int(round(length - f.sum()))
        order = np.argsort(-(x - f), kind="stable")
        f[order[:short]] += 1
        out.data[lo:hi] = f
    out.eliminate_zeros()
    return out.astype(np.float32)


def load_views(data: Mapping[str, Any], root: Any = None, smoke: bool = False) -> dict[str, Any]:
    """The training views named by a config's ``[data]`` table.

    Parameters
    ----------
    data : dict
        The ``[data]`` table.
    root : path-like, optional
        Data root for ``wikipedia`` (default: ``$BOLTZ_DATA`` or ``../shared/data``).
    smoke : bool
        Keep the first 200 rows.

    Returns
    -------
    dict of str -> array
        digits-halves: ``left``, ``right`` (1797 x 32 each, in [0, 1]);
        wikipedia: ``image`` (2173 x 128 SIFT, float64), ``text`` (2173 x words CSR counts).
    """
    if data["dataset"] == "digits-halves":
        from sklearn.datasets import load_digits

        from .demo import halves

        X = (load_digits().data / 16.0).astype(np.float32)
        left, right = halves(X)
        views: dict[str, Any] = {"left": left, "right": right}
    else:
        from boltz.datasets import load_wikipedia_bow

        d = load_wikipedia_bow(root, n_words=int(data.get("words", 2000)))
        text = d.counts_train
        if "doc_length" in data:
            text = rescale_documents(text, int(data["doc_length"]))
        views = {"image": d.image_train, "text": text}
    if smoke:
        views = {k: v[:200] for k, v in views.items()}
    return views


# --------------------------------------------------------------------- training
def _rbm(kw: Mapping[str, Any], smoke: bool, progress: Any) -> boltz.RBM:
    kw = dict(kw)
    if smoke:
        kw["epochs"] = min(int(kw.get("epochs", 10)), 2)
        kw["n_hidden"] = min(int(kw["n_hidden"]), 16)
    return boltz.RBM(progress=progress, **kw)


def _model_params(est: Any) -> dict[str, Any]:
    """The hyperparameters that make two runs the same model.  ``device`` is left out:
    checkpoints are loaded on the CPU (``device="cpu"``) and compared with a fresh
    ``device="auto"`` RBM; where the numbers are computed does not change the config."""
    skip = RUNTIME_KEYS | {"device"}
    return {k: v for k, v in est.get_params(deep=False).items() if k not in skip}


def _check_resumable(path: Path, saved: Any, fresh: Any) -> None:
    if isinstance(fresh, boltz.DBN):
        same = (
            isinstance(saved, boltz.DBN)
            and saved.random_state == fresh.random_state
            and len(saved.layers) == len(fresh.layers)
            and all(
                _model_params(a) == _model_params(b) for a, b in zip(saved.layers, fresh.layers)
            )
        )
    else:
        same = isinstance(saved, boltz.RBM) and _model_params(saved) == _model_params(fresh)
    if not same:
        raise ConfigError(
            f"{path} was written by a run with a different config or seed; use another --out "
            "or delete it to start that part again"
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


def fit_pathway(
    name: str,
    layers: Sequence[Mapping[str, Any]],
    X: Any,
    path: Path,
    *,
    seed: int,
    smoke: bool = False,
    progress: Any = "auto",
    callbacks: Sequence[EpochCallback] = (),
) -> boltz.DBN:
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
    smoke : bool
        At most 16 hidden units and 2 epochs per layer.
    progress : "auto" or bool
    callbacks : list of callables
        ``cb(name, layer, epoch, record)`` after every epoch.

    Returns
    -------
    boltz.DBN
        Fitted, with ``callbacks=None``.
    """
    fresh = boltz.DBN([_rbm(kw, smoke, progress) for kw in layers], random_state=seed)

    def hook(dbn: Any, layer: int, epoch: int, rec: dict) -> None:
        _epoch_logger(name, layer, dbn.layers[layer].epochs)(epoch, rec)
        for cb in callbacks:
            cb(name, layer, epoch, rec)

    if path.exists():
        dbn = boltz.load(path, device="cpu")
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


def _progress(dbn: boltz.DBN) -> str:
    done = [r for r in getattr(dbn, "layers_", []) if r._is_fitted()]
    if not done:
        return "no layer started"
    return f"layer {len(done) - 1} at epoch {done[-1].epoch_}"


def fit_joint(
    spec: Mapping[str, Any],
    pathways: dict[str, boltz.DBN],
    views: Mapping[str, Any],
    path: Path,
    *,
    seed: int,
    smoke: bool = False,
    progress: Any = "auto",
    callbacks: Sequence[EpochCallback] = (),
) -> boltz.MultimodalDBN:
    """Fit (or resume from ``path``) the joint RBM on fitted pathways.

    Uses :meth:`boltz.MultimodalDBN.fit_joint`, the documented route for
    pathways that were fitted (and checkpointed) one by one.

    Parameters
    ----------
    spec : dict
        ``boltz.RBM`` keywords of the joint layer.
    pathways : dict of str -> fitted boltz.DBN
    views : dict of str -> array
        Training data of each pathway, keyed by pathway name.
    path : Path
        The joint checkpoint (written every epoch; resumed when it exists).
    seed, smoke, progress, callbacks
        As in :func:`fit_pathway`; callbacks see pathway ``"joint"``, layer 0.

    Returns
    -------
    boltz.MultimodalDBN
    """
    kw = {"random_state": seed, **spec}
    fresh = _rbm(kw, smoke, progress)
    report = _epoch_logger("joint", 0, fresh.epochs)

    def hook(rbm: Any, epoch: int, rec: dict) -> None:
        report(epoch, rec)
        for cb in callbacks:
            cb("joint", 0, epoch, rec)

    if path.exists():
        joint = boltz.load(path, device="cpu")
        _check_resumable(path, joint, fresh)
        log.info("joint: resuming from %s at epoch %d", path, joint.epoch_)
        joint.set_params(warm_start=True, progress=progress)
    else:
        joint = fresh
        log.info("joint: %d hidden units", joint.n_hidden)
    joint.set_params(checkpoint=path, callbacks=[hook])
    mdbn = boltz.MultimodalDBN(pathways=pathways, joint=fresh)
    try:
        mdbn.fit_joint(views, pathways=pathways, joint=joint)
    finally:
        joint.set_params(callbacks=None)
    joint.set_params(checkpoint=None, warm_start=False)
    return mdbn


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
    """Pretrain the model of a parsed config and save it (resumable).

    Parameters
    ----------
    spec : dict
        :func:`parse_config` output.
    views : dict of str -> array
        :func:`load_views` output.
    out : path-like
        Folder for the checkpoints, ``model.npz`` and ``curves.png``.
    seed : int
        One seed; the pathways and the joint layer get independent streams.
    smoke : bool
        At most 16 hidden units and 2 epochs per layer.
    progress : "auto" or bool
    callbacks : list of callables
        ``cb(pathway, layer, epoch, record)`` after every epoch of every layer
        (the joint layer reports as ``"joint"``, layer 0); raising stops the run,
        which the same call then resumes.

    Returns
    -------
    model : boltz.DBN or boltz.MultimodalDBN
    metrics : dict
        ``NAME.layerI.recon_error`` and ``joint.recon_error``.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for name, pw in spec["pathways"].items():
        if pw["view"] not in views:
            where = "data.view" if spec["joint"] is None else f"pathways.{name}.view"
            raise ConfigError(
                f"{where}: unknown view {pw['view']!r}; dataset {spec['data']['dataset']!r} "
                f"has {sorted(views)}"
            )
    names = list(spec["pathways"])
    seeds = [
        int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(len(names) + 1)
    ]
    fitted: dict[str, boltz.DBN] = {}
    for name, s in zip(names, seeds):
        pw = spec["pathways"][name]
        fitted[name] = fit_pathway(
            name,
            pw["layers"],
            views[pw["view"]],
            out / f"pathway-{name}.npz",
            seed=s,
            smoke=smoke,
            progress=progress,
            callbacks=callbacks,
        )
    metrics: dict[str, float] = {}
    for name, dbn in fitted.items():
        for i, r in enumerate(dbn.layers_):
            metrics[f"{name}.layer{i}.recon_error"] = float(r.history_[-1]["recon_error"])
    if spec["joint"] is None:
        model: Any = fitted["dbn"]
        joint = None
    else:
        model = fit_joint(
            spec["joint"],
            fitted,
            {n: views[spec["pathways"][n]["view"]] for n in names},
            out / "joint.npz",
            seed=seeds[-1],
            smoke=smoke,
            progress=progress,
            callbacks=callbacks,
        )
        joint = model.joint_
        metrics["joint.recon_error"] = float(joint.history_[-1]["recon_error"])
    model.save(out / "model.npz")
    plot_curves(fitted, joint, out / "curves.png")
    return model, metrics


def plot_curves(pathways: Mapping[str, boltz.DBN], joint: Any, path: Path) -> None:
    """Reconstruction error per epoch of every layer (log scale)."""
    plt = start_figure()
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    for name, dbn in pathways.items():
        for i, r in enumerate(dbn.layers_):
            ax.plot([h["recon_error"] for h in r.history_], label=f"{name} layer {i}")
    if joint is not None:
        ax.plot([h["recon_error"] for h in joint.history_], color="k", label="joint")
    ax.set_xlabel("epoch")
    ax.set_ylabel("reconstruction error (monitor rows)")
    ax.set_yscale("log")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


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
    spec = load_config(args.config)
    out = setup(args)
    views = load_views(spec["data"], args.data, args.smoke)
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
