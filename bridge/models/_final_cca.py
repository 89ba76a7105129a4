"""The base of the torch models whose networks end in a linear CCA: :class:`FinalCCAModel`.

DCCA / DCCAE (:mod:`bridge.models.dcca`) and DRUMN (:mod:`bridge.models.drumn`) train
one network per view, with ``n_outputs`` output units, on a correlation objective
estimated from the covariances of each (large) batch, then fit a linear CCA with
``n_components`` components to the networks' outputs on the training set.  What they
share lives here: those two hyperparameters and their constraints, the large-batch
defaults, the output width and the checkpoint names of the final CCA's per-view arrays.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import KW_ONLY
from typing import Any, ClassVar

import numpy as np

from boltz.constraints import Interval

from ._torch_model import EarlyStoppingModel

__all__ = ["FinalCCAModel"]


class FinalCCAModel(EarlyStoppingModel):
    """An early-stopping torch model whose network outputs end in a linear CCA.

    Declares the first two hyperparameters of such a model, ``n_components`` (kept by
    the final CCA) and ``n_outputs`` (output units of each network, default
    ``n_components``), and large batches by default (``batch_size=800``, since the
    objective is a batch statistic; ``weight_decay=1e-5``).  A subclass stores the
    final CCA's means and projections per view; :meth:`_cca_arrays` and
    :meth:`_read_cca_arrays` name them in its checkpoint (``cca.mean.<i>`` and
    ``cca.weights.<i>`` for the ``i``-th view).
    """

    n_components: int = 10
    n_outputs: int | None = None
    _: KW_ONLY
    batch_size: int = 800
    weight_decay: float = 1e-5

    #: The two widths; how they bound each other and ``batch_size`` is
    #: :func:`~bridge.models._validation.check_outputs`.
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "n_components": [Interval(int, 1, None)],
        "n_outputs": [None, Interval(int, 1, None)],
    }

    def _n_outputs(self) -> int:
        """Output units of each network: ``n_outputs``, default ``n_components``."""
        return int(self.n_components if self.n_outputs is None else self.n_outputs)

    def _cca_arrays(
        self, means: Mapping[str, np.ndarray], weights: Mapping[str, np.ndarray]
    ) -> dict[str, np.ndarray]:
        """The final CCA's per-view means and projections under their checkpoint names
        (view by view, in ``view_names_`` order)."""
        out = {}
        for i, k in enumerate(self.view_names_):
            out[f"cca.mean.{i}"] = means[k]
            out[f"cca.weights.{i}"] = weights[k]
        return out

    def _read_cca_arrays(
        self, arrays: Mapping[str, np.ndarray]
    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """``(means, weights)`` per view, read back from :meth:`_cca_arrays`' names."""
        names = self.view_names_
        means = {k: arrays[f"cca.mean.{i}"] for i, k in enumerate(names)}
        weights = {k: arrays[f"cca.weights.{i}"] for i, k in enumerate(names)}
        return means, weights
