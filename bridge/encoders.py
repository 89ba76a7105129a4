"""The up-pass of a boltz RBM and DBN as ``torch.nn`` modules.

:class:`RBMLayer` computes ``rbm.transform`` and :class:`DBNEncoder` ``dbn.transform``;
:func:`rbm_layer` and :func:`dbn_encoder` build them from fitted boltz models.  They are
the building blocks of :func:`bridge.to_torch` (see :mod:`bridge.export`) and of the
multimodal encoder (:mod:`bridge.multimodal_export`).
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import torch
from torch import nn

from boltz.errors import ConfigError, DataError, DataTypeError
from boltz.layer import FittedLayer

from .tensors import is_sparse, resolve_dtype, to_buffer, to_parameter

__all__ = ["DBNEncoder", "RBMLayer", "dbn_encoder", "dbn_layers", "rbm_layer"]

_UNITS = ("bernoulli", "gaussian", "softmax")


class RBMLayer(nn.Module):
    """One RBM's up-pass ``P(h = 1 | v)`` (what ``boltz.RBM.transform`` computes).

    Parameters
    ----------
    weight : ndarray, shape (n_hidden, n_visible)
        ``rbm.weights_.T`` (the ``nn.Linear`` layout).
    bias : ndarray, shape (n_hidden,)
        The hidden bias ``rbm.hidden_bias_``.
    unit : {"bernoulli", "gaussian", "softmax"}, default "bernoulli"
        The RBM's visible unit type.
    mean, scale : ndarray, shape (n_visible,), optional
        Gaussian standardisation ``rbm.layer_.standardizer`` (``mean``, ``scale``;
        buffers, not trained).
    log_sigma : ndarray, shape (n_visible,), optional
        Learned Gaussian log standard deviations (trainable).
    dtype : torch.dtype, default torch.float32

    Attributes
    ----------
    weight : Parameter, shape (n_hidden, n_visible)
    bias : Parameter, shape (n_hidden,)
    log_sigma : Parameter, shape (n_visible,) or None
    input_mean, input_scale : buffer, shape (n_visible,) or None

    Notes
    -----
    ``forward(v) = sigmoid(s(v) * bias + (u / sigma) @ weight.T)`` where
    ``u = (v - input_mean) / input_scale`` (Gaussian; ``u = v`` otherwise),
    ``sigma = exp(log_sigma)`` (learned sigma; 1 otherwise) and ``s(v) = sum_k v_k``
    (the document length) for a replicated softmax, 1 otherwise.

    The input may be a dense tensor of any real or integer dtype (it is cast to the
    layer's dtype, as boltz casts to the model's) or, for Bernoulli and softmax
    units, a sparse COO/CSR tensor (see :func:`as_tensor`).
    """

    def __init__(
        self,
        weight: np.ndarray,
        bias: np.ndarray,
        unit: str = "bernoulli",
        mean: np.ndarray | None = None,
        scale: np.ndarray | None = None,
        log_sigma: np.ndarray | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        super().__init__()
        if unit not in _UNITS:
            raise ConfigError(f"unit must be one of {list(_UNITS)}; got {unit!r}.")
        if (mean is None) != (scale is None):
            raise ConfigError("give both mean and scale (Gaussian standardisation) or neither.")
        self.unit = unit
        self.weight = to_parameter(weight, dtype)
        self.bias = to_parameter(bias, dtype)
        if mean is not None:
            self.register_buffer("input_mean", to_buffer(mean, dtype))
            self.register_buffer("input_scale", to_buffer(scale, dtype))
        else:
            self.input_mean = None
            self.input_scale = None
        self.log_sigma = None if log_sigma is None else to_parameter(log_sigma, dtype)

    @property
    def n_visible(self) -> int:
        return self.weight.shape[1]

    @property
    def n_hidden(self) -> int:
        return self.weight.shape[0]

    def _check_input(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor):
            raise DataTypeError(
                f"RBMLayer expects a torch.Tensor; got {type(x).__name__}. Convert with "
                "bridge.export.as_tensor(X)."
            )
        if x.dim() != 2 or x.shape[1] != self.n_visible:
            raise DataError(
                f"RBMLayer expects input of shape (n, {self.n_visible}); got {tuple(x.shape)}."
            )
        if x.dtype != self.weight.dtype:
            x = x.to(self.weight.dtype)
        if is_sparse(x):
            if self.input_mean is not None or self.log_sigma is not None:
                return x.to_dense()
            if x.layout != torch.sparse_coo:
                x = x.to_sparse_coo()
        return x

    def pre_activation(self, x: torch.Tensor) -> torch.Tensor:
        """``s(v) * bias + scaled(v) @ weight.T``, shape (n, n_hidden)."""
        x = self._check_input(x)
        if is_sparse(x):
            out = torch.sparse.mm(x, self.weight.T)
            length = torch.sparse.sum(x, dim=1).to_dense()[:, None]
        else:
            v = x
            if self.input_mean is not None:
                v = (v - self.input_mean) / self.input_scale
            if self.log_sigma is not None:
                v = v * torch.exp(-self.log_sigma)
            out = v @ self.weight.T
            length = x.sum(dim=1, keepdim=True) if self.unit == "softmax" else None
        if self.unit == "softmax":
            return out + length * self.bias
        return out + self.bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``P(h = 1 | x)``, shape (n, n_hidden)."""
        return torch.sigmoid(self.pre_activation(x))

    def extra_repr(self) -> str:
        return f"unit={self.unit!r}, n_visible={self.n_visible}, n_hidden={self.n_hidden}"


def rbm_layer(rbm: Any, dtype: Any = torch.float32) -> RBMLayer:
    """:class:`RBMLayer` from a fitted ``boltz.RBM`` or its ``boltz.layer.FittedLayer``.

    The parameters and the Gaussian standardisation are copied to the host.

    Raises
    ------
    NotFittedError
        When ``rbm`` is not fitted.
    """
    dt = resolve_dtype(dtype)
    layer = rbm if isinstance(rbm, FittedLayer) else rbm.layer_
    params = layer.params()
    std = layer.standardizer
    return RBMLayer(
        params["weights"].T,
        params["hidden_bias"],
        unit=layer.unit.name,
        mean=None if std is None else std.mean,
        scale=None if std is None else std.scale,
        log_sigma=params.get("log_sigma"),
        dtype=dt,
    )


class DBNEncoder(nn.Sequential):
    """The mean-field up-pass of a DBN (what ``boltz.DBN.transform`` computes).

    One :class:`RBMLayer` per layer, bottom first, named ``0``, ``1``... in
    ``state_dict()`` (``0.weight``, ``0.bias``, ``0.input_mean``...).

    Parameters
    ----------
    layers : list of RBMLayer
    """

    def __init__(self, layers: list[RBMLayer]) -> None:
        super().__init__(*layers)

    def forward(self, x: torch.Tensor, layer: int = -1) -> torch.Tensor:
        """``P(h_layer = 1 | x)``, shape (n, n_hidden of that layer).

        Parameters
        ----------
        x : Tensor, shape (n, n_visible of the first layer)
        layer : int, default -1
            Which hidden layer (0 = first; negative counts from the top), as
            ``DBN.transform(X, layer=...)``.
        """
        n = len(self)
        if (
            isinstance(layer, bool)
            or not isinstance(layer, numbers.Integral)
            or not -n <= layer < n
        ):
            raise ConfigError(f"layer must be an integer in [{-n}, {n - 1}]; got {layer!r}.")
        stop = int(layer) % n
        for i, mod in enumerate(self):
            x = mod(x)
            if i == stop:
                break
        return x


def dbn_encoder(dbn: Any, dtype: Any = torch.float32) -> DBNEncoder:
    """:class:`DBNEncoder` from a fitted ``boltz.DBN``."""
    return DBNEncoder([rbm_layer(layer, dtype) for layer in dbn_layers(dbn)])


def dbn_layers(dbn: Any) -> list[FittedLayer]:
    """The layers of a fitted ``boltz.DBN`` (``dbn.fitted_layers_``), bottom first.

    Raises
    ------
    TypeError
        When ``dbn`` is not a ``boltz.DBN``.
    NotFittedError
        When it is not fitted (or its greedy fit is unfinished).
    """
    from boltz.dbn import DBN

    if not isinstance(dbn, DBN):
        raise TypeError(f"expected a fitted boltz.DBN; got {type(dbn).__name__}.")
    return dbn.fitted_layers_
