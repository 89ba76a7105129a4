"""Write docs/api.md from the numpydoc docstrings of the public API.

Run: ``.venv/bin/python scripts/gen_api.py`` (the file is committed; rerun after API changes).
"""

from __future__ import annotations

import importlib
import inspect
import sys
from pathlib import Path

MODULES = [
    ("boltz", ["RBM", "DBN", "MultimodalDBN", "load", "top_words"]),
    ("boltz.units", ["Bernoulli", "Gaussian", "ReplicatedSoftmax"]),
    (
        "boltz.likelihood",
        ["exact_log_partition", "ais_log_partition", "beta_schedule", "AISResult"],
    ),
    ("boltz.optim", ["SGD"]),
    ("boltz.gradients", ["CD", "PCD"]),
    ("boltz.distributed", ["init", "data_parallel", "Reducer"]),
    (
        "boltz.datasets",
        [
            "load_wikipedia_features",
            "load_wikipedia_bow",
            "load_uci_mfeat",
            "load_corel5k",
            "resolve_data_dir",
        ],
    ),
    (
        "boltz.diagnostics",
        ["LayerStats", "code_stats", "dbn_report", "mdbn_report", "dependence_on_given"],
    ),
    ("boltz.multiprediction", ["MultiPredictionTrainer", "ViewDecoder"]),
    ("boltz.tagging", None),  # None: the module's __all__
    ("boltz.tagger", None),
    ("boltz.passthrough", None),
    (
        "boltz.errors",
        [
            "BoltzError",
            "DataError",
            "DataTypeError",
            "ConfigError",
            "CheckpointError",
            "DeviceError",
            "DivergenceError",
            "NotFittedError",
            "DataRangeWarning",
        ],
    ),
    ("boltz.container", ["read_container", "write_container"]),
    ("bridge", ["to_torch", "unroll"]),
    (
        "bridge.metrics",
        [
            "mean_average_precision",
            "average_precisions",
            "precision_at_k",
            "precision_recall_curve",
            "cross_modal_map",
            "all_modal_map",
            "clustering_accuracy",
            "clustering_report",
        ],
    ),
    ("bridge.baselines", ["CCA", "KCCA", "CFA"]),
    ("bridge.ensemble", ["SeedEnsemble", "average_cosine"]),
    (
        "bridge.models",
        [
            "HRL",
            "BimodalAE",
            "CorrAE",
            "DCCA",
            "DCCAE",
            "DRUMN",
            "SDML",
            "DM2C",
            "JointAE",
            "CrossModalAE",
        ],
    ),
]

PUBLIC_METHODS = (
    "fit",
    "partial_fit",
    "transform",
    "free_energy",
    "reconstruct",
    "gibbs",
    "log_partition",
    "log_likelihood",
    "perplexity",
    "pseudo_likelihood",
    "generate",
    "sample",
    "pathway_transform",
    "save",
    "load",
    "score",
    "fit_predict",
    "add_view",
)


def _method(cls: type, name: str):
    """``cls``'s method ``name`` when boltz, bridge or recipes define it (also in a base
    class or mixin, e.g. RBM's likelihood methods); None for inherited sklearn/torch ones."""
    for klass in cls.__mro__:
        if name in klass.__dict__:
            own = klass.__module__.split(".")[0] in ("boltz", "bridge", "recipes")
            return klass.__dict__[name] if own else None
    return None


def _sig(obj) -> str:
    try:
        return str(inspect.signature(obj))
    except (TypeError, ValueError):
        return "(...)"


def main() -> None:
    out = [
        "# API reference",
        "",
        "Generated from the docstrings by `scripts/gen_api.py`; do not edit by hand.",
        "",
    ]
    for modname, names in MODULES:
        mod = importlib.import_module(modname)
        out += [f"## `{modname}`", ""]
        for name in mod.__all__ if names is None else names:
            obj = getattr(mod, name, None)
            if obj is None:
                continue
            kind = "class" if inspect.isclass(obj) else "function"
            out += [
                f"### {kind} `{modname}.{name}{_sig(obj)}`",
                "",
                "```text",
                inspect.getdoc(obj) or "(no docstring)",
                "```",
                "",
            ]
            if inspect.isclass(obj):
                for meth in PUBLIC_METHODS:
                    m = _method(obj, meth)
                    if m is None or not callable(m):
                        continue
                    out += [
                        f"#### `{name}.{meth}{_sig(m)}`",
                        "",
                        "```text",
                        inspect.getdoc(m) or "",
                        "```",
                        "",
                    ]
    Path(__file__).resolve().parents[1].joinpath("docs", "api.md").write_text("\n".join(out))


if __name__ == "__main__":
    sys.exit(main())
