"""A fitted RBM layer as a building block: its model, visible unit and standardiser.

:class:`FittedLayer` is what the composite models (:class:`boltz.DBN`,
:class:`boltz.MultimodalDBN`) and the torch exporters (:mod:`bridge.encoders`,
:mod:`bridge.export`, :mod:`bridge.multimodal_export`) use of a fitted
:class:`boltz.RBM`: the :class:`~boltz.model.RBMModel` (parameters and math), its
visible unit, and the :class:`Standardizer` of Gaussian visibles.  A fitted RBM
exposes it as ``rbm.layer_``, a view sharing the RBM's arrays (nothing is copied;
the estimator keeps owning the training state: optimiser, PCD chains, random
streams, history).

The up- and down-passes of a stack of layers (a DBN pathway) are
:func:`up_pass` and :func:`down_pass`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .backend import Backend, is_sparse
from .errors import ConfigError
from .model import RBMModel
from .units import VisibleUnit
from .validation import check_data, clip_to_unit_range

__all__ = ["FittedLayer", "Standardizer", "down_pass", "move", "up_pass"]


def move(x: Any, src: Backend, dst: Backend) -> Any:
    """Move a device array from backend ``src`` to ``dst`` (and its dtype).

    No copy when both are the same device and dtype.
    """
    if src.name != dst.name:
        x = src.to_host(x)
    return dst.asarray(x)


@dataclass(frozen=True)
class Standardizer:
    """Per-feature standardisation ``(x - mean) / scale`` of Gaussian visibles.

    Attributes
    ----------
    mean, scale : ndarray, shape (n_features,), float64
        Training-set mean and standard deviation (``scale > 0``).
    """

    mean: np.ndarray
    scale: np.ndarray

    def __post_init__(self) -> None:
        if self.mean.shape != self.scale.shape or self.mean.ndim != 1:
            raise ConfigError(
                f"mean and scale must be 1-D of one length; got shapes {self.mean.shape} "
                f"and {self.scale.shape}."
            )

    def apply(self, x: Any) -> np.ndarray:
        """``(x - mean) / scale`` in float64 (one temporary; ``x`` is not modified)."""
        z = np.subtract(np.asarray(x), self.mean, dtype=np.float64)
        z /= self.scale
        return z

    def invert(self, z: np.ndarray) -> np.ndarray:
        """``z * scale + mean``: standardised values back in data units."""
        return z * self.scale + self.mean

    def state(self) -> dict[str, np.ndarray]:
        """The arrays under their checkpoint names (``data.standardize_*``)."""
        return {"data.standardize_mean": self.mean, "data.standardize_scale": self.scale}


class FittedLayer:
    """One fitted RBM layer: model, visible unit and (Gaussian) standardiser.

    Parameters
    ----------
    model : RBMModel
        The layer's parameters and math (one visible group).
    standardizer : Standardizer, optional
        Gaussian visibles: the standardisation of the inputs; None otherwise.

    Examples
    --------
    >>> import numpy as np, boltz
    >>> X = (np.random.default_rng(0).random((20, 6)) > 0.5).astype("float32")
    >>> rbm = boltz.RBM(n_hidden=3, epochs=1, random_state=0, progress=False).fit(X)
    >>> layer = rbm.layer_
    >>> v = layer.standardize(X)
    >>> np.allclose(layer.backend.to_host(layer.up(v)), rbm.transform(X))
    True
    """

    def __init__(self, model: RBMModel, standardizer: Standardizer | None = None) -> None:
        if len(model.groups) != 1:
            raise ConfigError(
                f"a FittedLayer has one visible group; this model has {len(model.groups)}."
            )
        self.model = model
        self.standardizer = standardizer

    # ------------------------------------------------------------------ structure
    @property
    def unit(self) -> VisibleUnit:
        """The visible unit."""
        return self.model.groups[0].unit

    @property
    def backend(self) -> Backend:
        return self.model.backend

    @property
    def n_visible(self) -> int:
        return self.model.n_visible

    @property
    def n_hidden(self) -> int:
        return self.model.n_hidden

    def __repr__(self) -> str:
        std = ", standardized" if self.standardizer is not None else ""
        return f"FittedLayer({self.unit.name}, {self.n_visible}x{self.n_hidden}{std})"

    # ------------------------------------------------------------------ data
    def check_input(
        self, X: Any, name: str = "X", *, owner: str = "RBM", clip: bool = False
    ) -> Any:
        """Validate ``X`` for this layer (features, support of the unit).

        With ``clip``, Bernoulli inputs outside [0, 1] are clipped into a copy with a
        :class:`~boltz.errors.DataRangeWarning` instead of refused.

        Raises
        ------
        DataTypeError, DataError
        """
        unit = self.unit
        clip = clip and unit.name == "bernoulli"
        X = check_data(
            X,
            name,
            allow_sparse=unit.name == "softmax",
            n_features=self.n_visible,
            owner=owner,
            unit=None if clip else unit,
        )
        return clip_to_unit_range(X, name) if clip else X

    def standardize(self, rows: Any) -> Any:
        """Host rows -> standardised device batch of the model dtype.

        Gaussian visibles are standardised in float64 on the host (then cast to the
        model dtype); sparse rows stay sparse. The caller's rows are never modified.
        """
        be = self.backend
        if is_sparse(rows):
            return be.asarray(rows)
        if self.standardizer is None:
            return be.asarray(np.asarray(rows))
        return be.asarray(self.standardizer.apply(rows))

    def unstandardize(self, v: np.ndarray) -> np.ndarray:
        """Host values in standardised units -> data units (identity without a standardiser)."""
        return v if self.standardizer is None else self.standardizer.invert(v)

    # ------------------------------------------------------------------ passes
    def length(self, v: Any) -> Any:
        """Document lengths (n,) of a replicated-softmax batch, None otherwise."""
        return self.model.length(v)

    def up(self, v: Any) -> Any:
        """``P(h = 1 | v)`` of a standardised device batch, shape (n, n_hidden)."""
        return self.model.hidden_mean(v, self.model.length(v))

    def down(self, h: Any, length: Any = None) -> Any:
        """``E[v | h]`` in standardised units, shape (n, n_visible).

        ``length`` (n,): document lengths of a replicated softmax (1: word probabilities).
        """
        return self.model.visible(h, length)

    # ------------------------------------------------------------------ state
    def params(self) -> dict[str, np.ndarray]:
        """The parameters as host NumPy arrays (``weights`` (V, H), ``visible_bias``,
        ``hidden_bias``, ``log_sigma`` for learned sigma)."""
        return self.model.to_host()

    def state(self) -> dict[str, np.ndarray]:
        """The layer's arrays under their checkpoint names.

        ``params.*`` and, with a standardiser, ``data.standardize_*``: the names the
        layer's part of an RBM checkpoint has.
        """
        arrays = {f"params.{k}": v for k, v in self.params().items()}
        if self.standardizer is not None:
            arrays.update(self.standardizer.state())
        return arrays

    def joint_model(self, groups: Sequence[tuple[str, int]]) -> RBMModel:
        """The layer as a model with several visible groups of its unit, sharing its arrays.

        ``groups`` is ``[(name, size), ...]`` in order, the sizes adding up to
        ``n_visible`` (the joint layer of a multimodal DBN: one group per pathway).
        The parameters are the same arrays, not a copy.
        """
        model = RBMModel([(n, self.unit, s) for n, s in groups], self.n_hidden, self.backend)
        if model.n_visible != self.n_visible:
            raise ConfigError(
                f"the layer has {self.n_visible} visible units but the groups add up to "
                f"{model.n_visible}."
            )
        model.params = self.model.params
        return model


def up_pass(layers: Sequence[FittedLayer], v: Any, be: Backend, stop: int) -> tuple[Any, Backend]:
    """Mean-field up-pass of a bottom-layer device batch to the hidden layer ``stop``.

    Returns ``P(h_stop = 1 | v)`` on the device of layer ``stop``, and that backend.
    """
    for i in range(stop + 1):
        layer = layers[i]
        if i > 0:
            v = move(v, be, layer.backend)
        be = layer.backend
        v = layer.up(v)
    return v, be


def down_pass(
    layers: Sequence[FittedLayer], h: Any, be: Backend, start: int, length: Any = None
) -> tuple[Any, Backend]:
    """Deterministic down-pass from the hidden layer ``start`` to the bottom layer's visibles.

    Each layer's visible conditional mean is fed to the layer below. ``length`` (n,),
    on the bottom layer's device, is the document length of a replicated-softmax bottom
    layer (1 gives word probabilities). Returns the bottom layer's visible mean
    (standardised units for a Gaussian layer) and its backend.
    """
    for i in range(start, -1, -1):
        layer = layers[i]
        h = move(h, be, layer.backend)
        be = layer.backend
        h = layer.down(h, length if i == 0 else None)
    return h, be
