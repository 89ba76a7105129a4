"""boltz models as ``torch.nn`` modules that compute exactly what boltz computes.

``to_torch(rbm)`` gives a module whose ``forward(X)`` equals ``rbm.transform(X)``;
``to_torch(dbn)`` the up-pass of a stack; ``to_torch(mdbn)`` the joint
representation of a multimodal DBN, missing modalities inferred as
``MultimodalDBN.transform(..., missing="meanfield")`` does.  Parameters are
registered by name (``weight``, ``bias``...) and trainable, so the modules can be
fine-tuned.  :func:`unroll` turns a DBN into an autoencoder (Hinton &
Salakhutdinov 2006) initialised from the stack.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

__all__ = ["DBNEncoder", "RBMLayer", "UnrolledAutoencoder", "to_torch", "unroll"]


def _param(x: np.ndarray, dtype: torch.dtype) -> nn.Parameter:
    return nn.Parameter(torch.as_tensor(np.array(x, dtype=np.float64), dtype=dtype))


class RBMLayer(nn.Module):
    """One RBM's up-pass ``P(h = 1 | v)``.

    Parameters
    ----------
    weight : ndarray, shape (n_hidden, n_visible)
        ``rbm.weights_.T`` (the ``nn.Linear`` layout).
    bias : ndarray, shape (n_hidden,)
    unit : {"bernoulli", "gaussian", "softmax"}
    mean, scale : ndarray, shape (n_visible,), optional
        Gaussian standardisation (buffers, not trained).
    log_sigma : ndarray, shape (n_visible,), optional
        Learned Gaussian log standard deviations (trainable).

    Notes
    -----
    forward: ``sigmoid(s(v) * bias + (v_std / sigma) @ weight.T)`` with ``s(v) = sum(v)``
    (the document length) for a replicated softmax and 1 otherwise.
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
        self.unit = unit
        self.weight = _param(weight, dtype)
        self.bias = _param(bias, dtype)
        if mean is not None:
            self.register_buffer("input_mean", torch.as_tensor(mean, dtype=dtype))
            self.register_buffer("input_scale", torch.as_tensor(scale, dtype=dtype))
        else:
            self.input_mean = None
            self.input_scale = None
        self.log_sigma = None if log_sigma is None else _param(log_sigma, dtype)

    @property
    def n_visible(self) -> int:
        return self.weight.shape[1]

    def pre_activation(self, x: torch.Tensor) -> torch.Tensor:
        """``s(v) * bias + scaled(v) @ weight.T``, shape (n, n_hidden)."""
        v = x
        if self.input_mean is not None:
            v = (v - self.input_mean) / self.input_scale
        if self.log_sigma is not None:
            v = v * torch.exp(-self.log_sigma)
        out = v @ self.weight.T
        if self.unit == "softmax":
            return out + x.sum(dim=1, keepdim=True) * self.bias
        return out + self.bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.pre_activation(x))

    def extra_repr(self) -> str:
        return f"unit={self.unit!r}, n_visible={self.n_visible}, n_hidden={self.weight.shape[0]}"


def rbm_layer(rbm: Any, dtype: torch.dtype = torch.float32) -> RBMLayer:
    """:class:`RBMLayer` from a fitted ``boltz.RBM``."""
    rbm._check_fitted()
    log_sigma = None
    if "log_sigma" in rbm.model_.params:
        log_sigma = np.log(rbm.sigma_)
    return RBMLayer(
        rbm.weights_.T,
        rbm.hidden_bias_,
        unit=rbm.unit_.name,
        mean=getattr(rbm, "mean_", None),
        scale=getattr(rbm, "scale_", None),
        log_sigma=log_sigma,
        dtype=dtype,
    )


class DBNEncoder(nn.Sequential):
    """The up-pass of a DBN: one :class:`RBMLayer` per layer (``layers.0``, ``layers.1``...)."""

    def __init__(self, layers: list[RBMLayer]) -> None:
        super().__init__(*layers)


class UnrolledAutoencoder(nn.Module):
    """A deep autoencoder unrolled from a DBN (Hinton & Salakhutdinov 2006).

    The encoder is the DBN's up-pass; the decoder uses the transposed weights
    and the visible biases of the same RBMs, untied so both can be fine-tuned.
    The output layer follows the bottom RBM's visible unit: sigmoid for
    Bernoulli, identity (in data units) for Gaussian, softmax for replicated
    softmax (word probabilities).

    Attributes
    ----------
    encoder : DBNEncoder
    decoder : nn.ModuleList of nn.Linear
    """

    def __init__(self, dbn: Any, dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        rbms = _dbn_layers(dbn)
        self.encoder = DBNEncoder([rbm_layer(r, dtype) for r in rbms])
        dec = []
        for r in reversed(rbms):
            lin = nn.Linear(r.n_hidden, r.n_features_in_, dtype=dtype)
            with torch.no_grad():
                w = r.weights_
                if "log_sigma" in r.model_.params:
                    w = w * r.sigma_[:, None]
                lin.weight.copy_(torch.as_tensor(w, dtype=dtype))
                lin.bias.copy_(torch.as_tensor(r.visible_bias_, dtype=dtype))
            dec.append(lin)
        self.decoder = nn.ModuleList(dec)
        bottom = rbms[0]
        self.output_unit = bottom.unit_.name
        if getattr(bottom, "mean_", None) is not None:
            self.register_buffer("output_mean", torch.as_tensor(bottom.mean_, dtype=dtype))
            self.register_buffer("output_scale", torch.as_tensor(bottom.scale_, dtype=dtype))
        else:
            self.output_mean = None
            self.output_scale = None

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def decode(self, code: torch.Tensor) -> torch.Tensor:
        h = code
        for i, lin in enumerate(self.decoder):
            h = lin(h)
            if i < len(self.decoder) - 1:
                h = torch.sigmoid(h)
        if self.output_unit == "bernoulli":
            return torch.sigmoid(h)
        if self.output_unit == "softmax":
            return torch.softmax(h, dim=1)
        if self.output_mean is not None:
            h = h * self.output_scale + self.output_mean
        return h

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


def _dbn_layers(dbn: Any) -> list[Any]:
    layers = getattr(dbn, "layers_", None)
    if layers is None:
        raise TypeError(f"expected a fitted boltz.DBN; got {type(dbn).__name__}.")
    return list(layers)


def unroll(dbn: Any, dtype: torch.dtype = torch.float32) -> UnrolledAutoencoder:
    """Encoder/decoder autoencoder initialised from a fitted DBN."""
    return UnrolledAutoencoder(dbn, dtype)


def to_torch(model: Any, dtype: torch.dtype = torch.float32) -> nn.Module:
    """Export a fitted boltz RBM, DBN or MultimodalDBN as a ``torch.nn.Module``.

    Parameters
    ----------
    model : boltz.RBM, boltz.DBN or boltz.MultimodalDBN (fitted)
    dtype : torch.dtype
        ``torch.float32`` (default) or ``torch.float64``.

    Returns
    -------
    torch.nn.Module
        ``forward(X)`` equals ``model.transform(X)`` (for a multimodal DBN,
        ``forward(dict_of_tensors)`` equals ``transform(dict, missing="meanfield")``).
    """
    name = type(model).__name__
    if name == "RBM":
        return rbm_layer(model, dtype)
    if name == "DBN":
        return DBNEncoder([rbm_layer(r, dtype) for r in _dbn_layers(model)])
    if name == "MultimodalDBN":
        from .multimodal_export import MultimodalEncoder

        return MultimodalEncoder.from_boltz(model, dtype)
    raise TypeError(f"to_torch expects a boltz RBM, DBN or MultimodalDBN; got {name}.")
