"""PyTorch is an optional dependency: the error a user gets without it.

boltz's core installs and imports without torch; ``bridge``'s models and exporters
need it, through the ``bridge`` extra (``pip install 'boltz-mdbn[bridge]'``).  Importing
:mod:`bridge` or :mod:`recipes` appends :class:`MissingTorchFinder` to
``sys.meta_path``: it is consulted only after every real finder failed to find
``torch``, so when torch is installed it never runs, and when it is not, ``import
torch`` anywhere (a bridge model, an exporter, a recipe) raises
:class:`~boltz.errors.MissingDependencyError` -- a ``ModuleNotFoundError`` -- that
names the extra.  ``bridge.metrics`` and ``bridge.baselines`` do not import torch and
work without it.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from boltz.errors import MissingDependencyError

__all__ = ["DISTRIBUTION", "TORCH_HINT", "MissingTorchFinder", "install"]

#: The name of this project on the package index (``boltz`` there is another project).
DISTRIBUTION = "boltz-mdbn"

TORCH_HINT = (
    "this part of boltz (bridge's PyTorch models and exporters, and the recipes built on "
    f"them) needs PyTorch, which is not installed: pip install '{DISTRIBUTION}[bridge]' "
    "(or install torch itself first, e.g. the CPU build: pip install torch)"
)


class MissingTorchFinder:
    """A last-resort ``sys.meta_path`` finder that explains a missing torch."""

    def find_spec(self, name: str, path: Sequence[str] | None = None, target: Any = None) -> None:
        if name == "torch" or name.startswith("torch."):
            raise MissingDependencyError(TORCH_HINT, name=name)
        return None


def install() -> None:
    """Append the finder to ``sys.meta_path`` once (idempotent)."""
    if not any(isinstance(f, MissingTorchFinder) for f in sys.meta_path):
        sys.meta_path.append(MissingTorchFinder())


install()
