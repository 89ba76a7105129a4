"""boltz models as ``torch.nn`` modules that compute exactly what boltz computes.

``to_torch(rbm)`` gives a module whose ``forward(X)`` equals ``rbm.transform(X)``;
``to_torch(dbn)`` the up-pass of a stack (``dbn.transform``); ``to_torch(mdbn)``
the joint representation of a multimodal DBN, missing modalities inferred as
``MultimodalDBN.transform(..., missing="meanfield")`` does (see
:mod:`bridge.multimodal_export`).  Parameters are registered by name
(``weight``, ``bias``, ``log_sigma``; the Gaussian standardisation is a pair of
buffers) and trainable, so the modules can be fine-tuned.  :func:`unroll` turns
a DBN into an autoencoder (Hinton & Salakhutdinov 2006) initialised from the
stack.

The layers live in :mod:`bridge.encoders` (``RBMLayer``, ``DBNEncoder``) and
:mod:`bridge.multimodal_export` (``MultimodalEncoder``), the tensor helpers in
:mod:`bridge.tensors`; this module is the public entry point and re-exports them.

Every converter is checked in ``tests/bridge/test_export.py`` by comparing the
boltz model and the exported module on the same inputs; ``docs/bridge.md``
records the measured differences.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from .encoders import DBNEncoder, RBMLayer, dbn_encoder, dbn_layers, rbm_layer
from .multimodal_export import MultimodalEncoder
from .tensors import as_tensor, resolve_dtype, to_buffer

__all__ = [
    "DBNEncoder",
    "RBMLayer",
    "UnrolledAutoencoder",
    "as_tensor",
    "rbm_layer",
    "resolve_dtype",
    "to_torch",
    "unroll",
]


class UnrolledAutoencoder(nn.Module):
    """A deep autoencoder unrolled from a DBN (Hinton & Salakhutdinov 2006).

    The encoder is the DBN's up-pass (:class:`DBNEncoder`); the decoder uses the
    transposed weights and the visible biases of the same RBMs, untied so both can
    be fine-tuned, and computes the DBN's deterministic down-pass (each layer's
    visible conditional mean fed to the layer below).  The output layer follows
    the bottom RBM's visible unit: sigmoid for Bernoulli, identity for Gaussian
    (``bias + sigma * (h @ W.T)``, returned in data units through the stored
    standardisation), softmax for a replicated softmax (word probabilities, i.e.
    the expected counts of a document of length 1; pass ``length`` to
    :meth:`decode` for expected counts).

    Parameters
    ----------
    dbn : boltz.DBN (fitted)
    dtype : torch.dtype or str, default torch.float32

    Attributes
    ----------
    encoder : DBNEncoder
        ``encoder.0.weight``... in ``state_dict()``.
    decoder : nn.ModuleList of nn.Linear
        Top layer first: ``decoder.0`` maps the code (``n_hidden`` of the top RBM)
        to the top RBM's visible layer; ``decoder[-1]`` outputs the data.  For a
        learned-sigma Gaussian bottom RBM its weight is ``sigma[:, None] * W``.
    output_unit : str
        The bottom RBM's visible unit.
    output_mean, output_scale : buffer, shape (n_features,) or None
        Gaussian standardisation of the bottom RBM.
    """

    def __init__(self, dbn: Any, dtype: Any = torch.float32) -> None:
        super().__init__()
        dt = resolve_dtype(dtype)
        layers = dbn_layers(dbn)
        self.encoder = DBNEncoder([rbm_layer(layer, dt) for layer in layers])
        dec = []
        for layer in reversed(layers):
            p = layer.params()
            w = np.asarray(p["weights"], dtype=np.float64)
            if "log_sigma" in p:
                w = w * np.exp(np.asarray(p["log_sigma"], dtype=np.float64))[:, None]
            lin = nn.Linear(layer.n_hidden, layer.n_visible, dtype=dt)
            with torch.no_grad():
                lin.weight.copy_(torch.as_tensor(w, dtype=dt))
                lin.bias.copy_(to_buffer(p["visible_bias"], dt))
            dec.append(lin)
        self.decoder = nn.ModuleList(dec)
        std = layers[0].standardizer
        self.output_unit = layers[0].unit.name
        if std is not None:
            self.register_buffer("output_mean", to_buffer(std.mean, dt))
            self.register_buffer("output_scale", to_buffer(std.scale, dt))
        else:
            self.output_mean = None
            self.output_scale = None

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The code ``P(h_top = 1 | x)``, shape (n, n_hidden of the top RBM)."""
        return self.encoder(x)

    def decode(self, code: torch.Tensor, length: torch.Tensor | None = None) -> torch.Tensor:
        """Deterministic down-pass from the top hidden layer to the data.

        Parameters
        ----------
        code : Tensor, shape (n, n_hidden of the top RBM)
        length : Tensor, shape (n,), optional
            Replicated-softmax output only: document lengths; the result is then
            the expected word counts (``DBN.reconstruct``), otherwise probabilities.

        Returns
        -------
        Tensor, shape (n, n_features)
            In data units.
        """
        h = code
        for i, lin in enumerate(self.decoder):
            h = lin(h)
            if i < len(self.decoder) - 1:
                h = torch.sigmoid(h)
        if self.output_unit == "bernoulli":
            return torch.sigmoid(h)
        if self.output_unit == "softmax":
            p = torch.softmax(h, dim=1)
            return p if length is None else p * length.reshape(-1, 1).to(p.dtype)
        if self.output_mean is not None:
            h = h * self.output_scale + self.output_mean
        return h

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``decode(encode(x))``, shape (n, n_features) (probabilities for softmax)."""
        return self.decode(self.encode(x))


def unroll(dbn: Any, dtype: Any = torch.float32) -> UnrolledAutoencoder:
    """Encoder/decoder autoencoder initialised from a fitted DBN.

    Parameters
    ----------
    dbn : boltz.DBN (fitted)
    dtype : torch.dtype or str, default torch.float32

    Returns
    -------
    UnrolledAutoencoder
        ``encode(x) == dbn.transform(x)``; ``forward(x) == dbn.reconstruct(x)``
        (for a replicated softmax divided by the document length).
    """
    return UnrolledAutoencoder(dbn, dtype)


def to_torch(model: Any, dtype: Any = torch.float32) -> nn.Module:
    """Export a fitted boltz RBM, DBN or MultimodalDBN as a ``torch.nn.Module``.

    Parameters
    ----------
    model : boltz.RBM, boltz.DBN or boltz.MultimodalDBN (fitted)
    dtype : torch.dtype or str, default torch.float32
        ``torch.float32`` or ``torch.float64``.

    Returns
    -------
    torch.nn.Module
        :class:`RBMLayer` (``forward(X) == rbm.transform(X)``), :class:`DBNEncoder`
        (``forward(X) == dbn.transform(X)``) or
        :class:`bridge.multimodal_export.MultimodalEncoder`
        (``forward(dict_of_tensors) == mdbn.transform(dict, missing="meanfield")``;
        ``missing="gibbs"`` runs the same chain from a ``torch.Generator``, equal in
        distribution only).

    Raises
    ------
    TypeError
        For anything else.
    NotFittedError
        For an unfitted (or unfinished) model.
    """
    from boltz.dbn import DBN
    from boltz.multimodal import MultimodalDBN
    from boltz.rbm import RBM

    dt = resolve_dtype(dtype)
    if isinstance(model, RBM):
        return rbm_layer(model, dt)
    if isinstance(model, DBN):
        return dbn_encoder(model, dt)
    if isinstance(model, MultimodalDBN):
        return MultimodalEncoder.from_boltz(model, dt)
    raise TypeError(
        f"to_torch expects a fitted boltz.RBM, boltz.DBN or boltz.MultimodalDBN; "
        f"got {type(model).__name__}."
    )
