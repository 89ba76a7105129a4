"""Models described as data: parse, validate and build RBM stacks and multimodal DBNs.

A config (a TOML file, or the dict ``tomllib`` makes of it) names the dataset and
lists, per pathway, the layers with their own RBM hyperparameters (every keyword of
:class:`boltz.RBM`), then the joint layer, so it reads like a paper's architecture
table.  As in deepnet, hyperparameters shared by every layer are written once in
``[defaults]`` and merged into each layer table (a layer's own key wins).  Shipped
examples: ``recipes/configs/digits.toml`` and ``recipes/configs/wikipedia.toml``;
:mod:`boltz.pretraining` trains what a config describes, resumably.

Schema (every key is checked; errors name the dotted key and the expected type)::

    [data]                           required
    dataset    = "digits-halves" | "wikipedia"
    words      = 2000                wikipedia: vocabulary size
    doc_length = 100                 wikipedia: rescale every document to this many
                                     words (deepnet's adaptive prior); default: raw counts
    view       = "left"              single stack only: the view it is trained on

    [defaults]                       optional: boltz.RBM keywords merged into every
    learning_rate = 0.05 ...         layer table and the joint table (not n_hidden,
                                     not visible)

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
monitor_size, ais_every, device, dtype, random_state (:data:`LAYER_KEYS`).  The
run-time keywords (:data:`RUNTIME_KEYS`: callbacks, checkpoint, checkpoint_every,
warm_start, progress) are set by the program that trains the model.

The parsed form (:func:`parse_config`) is plain data::

    {"data": {...}, "pathways": {NAME: {"view": str, "layers": [kwargs, ...]}},
     "joint": kwargs or None}

a single stack being the one pathway ``"dbn"`` with ``joint=None``.
"""

from __future__ import annotations

import difflib
import inspect
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .dbn import DBN
from .errors import ConfigError
from .multimodal import MultimodalDBN
from .rbm import RBM

__all__ = [
    "DATASETS",
    "LAYER_KEYS",
    "RUNTIME_KEYS",
    "build",
    "build_joint",
    "build_pathway",
    "check_views",
    "layer_kwargs",
    "load_config",
    "load_views",
    "parse_config",
    "seeds",
    "shrink",
]

#: RBM keywords set by the program that trains a model (not allowed in a config).
RUNTIME_KEYS = frozenset({"callbacks", "checkpoint", "checkpoint_every", "warm_start", "progress"})
#: Keys whose default is not of their config type (None, or learning_rate's "auto":
#: leave the key out of a layer table for the per-unit default).
_NONE_DEFAULTS = {
    "n_chains": "int",
    "lr_decay": "float",
    "sparsity_target": "float",
    "learning_rate": "float",
}
_RBM_PARAMS = inspect.signature(RBM.__init__).parameters


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
    for name, p in _RBM_PARAMS.items()
    if name != "self" and name not in RUNTIME_KEYS
}
#: The datasets a ``[data]`` table can name (see :func:`load_views`).
DATASETS = ("digits-halves", "wikipedia")
_DATA_KEYS = {"dataset": "str", "words": "int", "doc_length": "int", "view": "str"}
_TOP_KEYS = ("data", "defaults", "layers", "pathways", "joint")
#: Keys that describe one layer's shape, not a shared hyperparameter.
_LAYER_ONLY = ("n_hidden", "visible")


# --------------------------------------------------------------------- checks
def _unknown(where: str, key: str, allowed: Sequence[str]) -> ConfigError:
    path = f"{where}.{key}" if where else key
    close = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}?" if close else f"allowed: {', '.join(sorted(allowed))}"
    return ConfigError(f"{path}: unknown key; {hint}")


def _kind(value: Any) -> str:
    return {
        bool: "bool",
        int: "int",
        float: "float",
        str: "str",
        dict: "table",
        list: "array",
    }.get(type(value), type(value).__name__)


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


def _typed_keys(table: Any, where: str) -> dict[str, Any]:
    """The RBM keywords of a table, type-checked (floats as float)."""
    _check_type(where, table, "table")
    out: dict[str, Any] = {}
    for key, value in table.items():
        if key in RUNTIME_KEYS:
            raise ConfigError(
                f"{where}.{key}: set at run time (per-pathway checkpoints, --progress), "
                "not in a config; remove it"
            )
        if key not in LAYER_KEYS:
            raise _unknown(where, key, list(LAYER_KEYS))
        want = LAYER_KEYS[key]
        _check_type(f"{where}.{key}", value, want)
        out[key] = float(value) if want == "float" else value
    return out


def layer_kwargs(
    table: Any, where: str, defaults: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Validated ``boltz.RBM`` keywords of one layer table.

    Parameters
    ----------
    table : dict
        The parsed TOML table.
    where : str
        Its dotted path, e.g. ``"pathways.image.layers[1]"`` (used in errors).
    defaults : dict, optional
        Validated ``[defaults]`` keywords, merged under the table's own keys.

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
    out = {**(defaults or {}), **_typed_keys(table, where)}
    if "n_hidden" not in out:
        raise ConfigError(f"{where}.n_hidden: missing (expected int, the number of hidden units)")
    try:
        RBM(**out)._validate_params()
    except ConfigError as e:
        raise ConfigError(f"{where}: {e}") from None
    return out


def _check_data(cfg: Mapping[str, Any]) -> dict[str, Any]:
    if "data" not in cfg:
        raise ConfigError(
            "missing section [data] (expected a table with dataset = "
            f"{' | '.join(map(repr, DATASETS))})"
        )
    data = cfg["data"]
    _check_type("data", data, "table")
    for key, value in data.items():
        if key not in _DATA_KEYS:
            raise _unknown("data", key, list(_DATA_KEYS))
        _check_type(f"data.{key}", value, _DATA_KEYS[key])
    if "dataset" not in data:
        raise ConfigError("data.dataset: missing (expected str: 'digits-halves' or 'wikipedia')")
    if data["dataset"] not in DATASETS:
        close = difflib.get_close_matches(data["dataset"], DATASETS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(
            f"data.dataset: expected one of {list(DATASETS)}, got {data['dataset']!r}{hint}"
        )
    for key in ("words", "doc_length"):
        if key in data:
            if data["dataset"] != "wikipedia":
                raise ConfigError(f"data.{key}: only for dataset = 'wikipedia'")
            if data[key] < 1:
                raise ConfigError(f"data.{key}: expected an int >= 1, got {data[key]!r}")
    return dict(data)


def _check_defaults(cfg: Mapping[str, Any]) -> dict[str, Any]:
    defaults = _typed_keys(cfg.get("defaults", {}), "defaults")
    for key in _LAYER_ONLY:
        if key in defaults:
            raise ConfigError(
                f"defaults.{key}: a layer's own shape; give it in every layer table instead"
            )
    return defaults


def _layer_list(tables: Any, where: str, defaults: Mapping[str, Any]) -> list[dict[str, Any]]:
    _check_type(where, tables, "array of tables")
    if not tables:
        raise ConfigError(f"{where}: expected at least one [[{where}]] table")
    return [layer_kwargs(t, f"{where}[{i}]", defaults) for i, t in enumerate(tables)]


def _check_upper_bernoulli(where: str, kw: Mapping[str, Any], models: str) -> None:
    if kw.get("visible", "bernoulli") != "bernoulli":
        raise ConfigError(
            f"{where}.visible: expected 'bernoulli' ({models}), got {kw['visible']!r}"
        )


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
        "joint": kwargs or None}`` with ``[defaults]`` merged into every layer; a
        single stack is the one pathway ``"dbn"`` with ``joint=None``.

    Raises
    ------
    ConfigError
        Naming the dotted key, what was expected and what came.
    """
    for key in cfg:
        if key not in _TOP_KEYS:
            raise _unknown("", key, _TOP_KEYS)
    data = _check_data(cfg)
    defaults = _check_defaults(cfg)
    spec: dict[str, Any] = {"data": data, "pathways": {}}

    if "layers" in cfg:
        if "pathways" in cfg or "joint" in cfg:
            raise ConfigError(
                "layers: give either [[layers]] (one stack) or [pathways.NAME] sections with "
                "[joint] (a multimodal DBN), not both"
            )
        _check_type("layers", cfg["layers"], "array of tables")
        if "view" not in data:
            raise ConfigError("data.view: missing (expected str: the view the stack is trained on)")
        layers = _layer_list(cfg["layers"], "layers", defaults)
        spec["pathways"]["dbn"] = {"view": data["view"], "layers": layers}
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
        layers = _layer_list(p["layers"], f"{where}.layers", defaults)
        for i, kw in enumerate(layers[1:], start=1):
            upper = "an upper layer models the hidden probabilities below"
            _check_upper_bernoulli(f"{where}.layers[{i}]", kw, upper)
        spec["pathways"][name] = {"view": view, "layers": layers}
    spec["joint"] = layer_kwargs(cfg["joint"], "joint", defaults)
    _check_upper_bernoulli("joint", spec["joint"], "it models the pathways' top layers")
    return spec


def load_config(path: str | Path) -> dict[str, Any]:
    """Read and validate a TOML config file (see the module docstring).

    Parameters
    ----------
    path : path-like

    Returns
    -------
    dict
        :func:`parse_config` output.

    Raises
    ------
    ConfigError
        No such file, not valid TOML, or a schema error (prefixed with the path).
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


def check_views(spec: Mapping[str, Any], views: Mapping[str, Any]) -> None:
    """Raise :class:`ConfigError` when a pathway names a view that ``views`` lacks."""
    for name, pw in spec["pathways"].items():
        if pw["view"] not in views:
            where = "data.view" if spec["joint"] is None else f"pathways.{name}.view"
            raise ConfigError(
                f"{where}: unknown view {pw['view']!r}; dataset {spec['data']['dataset']!r} "
                f"has {sorted(views)}"
            )


# --------------------------------------------------------------------- transforms
def shrink(spec: Mapping[str, Any], n_hidden: int = 16, epochs: int = 2) -> dict[str, Any]:
    """The same config with every layer capped at ``n_hidden`` units and ``epochs`` epochs.

    What the recipes' ``--smoke`` runs train.

    Parameters
    ----------
    spec : dict
        :func:`parse_config` output (not modified).
    n_hidden, epochs : int

    Returns
    -------
    dict
        A new spec of the same form.
    """
    default_epochs = _RBM_PARAMS["epochs"].default

    def cap(kw: Mapping[str, Any]) -> dict[str, Any]:
        kw = dict(kw)
        kw["epochs"] = min(int(kw.get("epochs", default_epochs)), epochs)
        kw["n_hidden"] = min(int(kw["n_hidden"]), n_hidden)
        return kw

    return {
        "data": dict(spec["data"]),
        "pathways": {
            name: {"view": pw["view"], "layers": [cap(kw) for kw in pw["layers"]]}
            for name, pw in spec["pathways"].items()
        },
        "joint": None if spec["joint"] is None else cap(spec["joint"]),
    }


# --------------------------------------------------------------------- build
def seeds(spec: Mapping[str, Any], seed: int) -> dict[str, int]:
    """One independent seed per pathway and one for the joint layer, from one seed.

    Returns
    -------
    dict of str -> int
        Keyed by pathway name, plus ``"joint"`` (spawned even for a single stack,
        so a pathway's seed does not depend on whether a joint layer follows).
    """
    names = [*spec["pathways"], "joint"]
    spawned = np.random.SeedSequence(seed).spawn(len(names))
    return {n: int(s.generate_state(1)[0]) for n, s in zip(names, spawned)}


def build_pathway(layers: Sequence[Mapping[str, Any]], seed: int, progress: Any = "auto") -> DBN:
    """An unfitted DBN of the given layer keywords (bottom first).

    Parameters
    ----------
    layers : list of dict
        ``boltz.RBM`` keywords per layer.
    seed : int
        ``random_state`` of the DBN (it spawns the layer seeds).
    progress : "auto" or bool

    Returns
    -------
    boltz.DBN
    """
    return DBN([RBM(progress=progress, **kw) for kw in layers], random_state=seed)


def build_joint(kwargs: Mapping[str, Any], seed: int, progress: Any = "auto") -> RBM:
    """An unfitted joint RBM; ``seed`` is its ``random_state`` unless the config sets one."""
    return RBM(progress=progress, **{"random_state": seed, **kwargs})


def build(spec: Mapping[str, Any], seed: int = 0, progress: Any = "auto") -> DBN | MultimodalDBN:
    """The unfitted model a parsed config describes, seeded as :mod:`boltz.pretraining` does.

    Parameters
    ----------
    spec : dict
        :func:`parse_config` output.
    seed : int
        One seed; the pathways and the joint layer get independent streams (:func:`seeds`).
    progress : "auto" or bool

    Returns
    -------
    boltz.DBN (a single stack) or boltz.MultimodalDBN
    """
    s = seeds(spec, seed)
    pathways = {
        name: build_pathway(pw["layers"], s[name], progress)
        for name, pw in spec["pathways"].items()
    }
    if spec["joint"] is None:
        return pathways["dbn"]
    return MultimodalDBN(pathways=pathways, joint=build_joint(spec["joint"], s["joint"], progress))


# --------------------------------------------------------------------- data
def load_views(
    data: Mapping[str, Any], root: Any = None, max_rows: int | None = None
) -> dict[str, Any]:
    """The training views named by a config's ``[data]`` table.

    Parameters
    ----------
    data : dict
        The ``[data]`` table.
    root : path-like, optional
        Data root for ``wikipedia`` (default: ``$BOLTZ_DATA`` or ``../shared/data``).
    max_rows : int, optional
        Keep only the first rows.

    Returns
    -------
    dict of str -> array
        digits-halves: ``left``, ``right`` (1797 x 32 each, in [0, 1]);
        wikipedia: ``image`` (2173 x 128 SIFT, float64), ``text`` (2173 x words CSR
        counts, rescaled to ``doc_length`` words when given).
    """
    if data["dataset"] == "digits-halves":
        from .datasets.digits import load_digit_halves

        views: dict[str, Any] = load_digit_halves()
    else:
        from .datasets.wikipedia import load_wikipedia_bow, rescale_documents

        d = load_wikipedia_bow(root, n_words=int(data.get("words", 2000)))
        text = d.counts_train
        if "doc_length" in data:
            text = rescale_documents(text, int(data["doc_length"]))
        views = {"image": d.image_train, "text": text}
    if max_rows is not None:
        views = {k: v[:max_rows] for k, v in views.items()}
    return views
