"""bridge: boltz weights in PyTorch, the papers' deep models, baselines and metrics.

Submodules are imported lazily so ``import bridge`` stays cheap and
``bridge.metrics`` / ``bridge.baselines`` work without touching torch.
"""

from __future__ import annotations

import importlib
from typing import Any

from . import extras  # noqa: F401  (a clear error naming the extra when torch is missing)

__all__ = ["baselines", "metrics", "models", "to_torch", "unroll"]

_LAZY_FUNCS = {"to_torch": "bridge.export", "unroll": "bridge.export"}
_LAZY_MODULES = {"metrics", "baselines", "models", "export", "base", "synthetic"}


def __getattr__(name: str) -> Any:
    if name in _LAZY_FUNCS:
        return getattr(importlib.import_module(_LAZY_FUNCS[name]), name)
    if name in _LAZY_MODULES:
        return importlib.import_module(f"bridge.{name}")
    raise AttributeError(f"module 'bridge' has no attribute {name!r}")
