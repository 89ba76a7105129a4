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

Every converter is checked in ``tests/bridge/test_export.py`` by comparing the
boltz model and the exported module on the same inputs; ``docs/bridge.md``
records the measured differences.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import torch
from torch import nn

from boltz.errors import ConfigError, DataError, DataTypeError

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

_DTYPES = {"float32": torch.float32, "float64": torch.float64}
_UNITS = ("bernoulli", "gaussian", "softmax")


def resolve_dtype(dtype: Any) -> torch.dtype:
    """``torch.float32`` / ``torch.float64`` from a torch dtype or its name.

    Raises
    ------
    ConfigError
        For any other dtype (a ``ValueError``).
    """
    if isinstance(dtype, str) and dtype in _DTYPES:
        return _DTYPES[dtype]
    if dtype in (torch.float32, torch.float64):
        return dtype
    raise ConfigError(
        f"dtype must be torch.float32 or torch.float64 (or 'float32'/'float64'); got {dtype!r}."
    )


def as_tensor(X: Any, dtype: Any = torch.float32) -> torch.Tensor:
    """Input rows as a tensor for an exported module.

    Parameters
    ----------
    X : array-like, scipy.sparse matrix or Tensor, shape (n, n_features)
        A scipy sparse matrix (e.g. CSR word counts) becomes a sparse COO tensor,
        which :class:`RBMLayer` multiplies without densifying; anything else a
        dense tensor.
    dtype : torch.dtype or str, default torch.float32

    Returns
    -------
    Tensor, shape (n, n_features)
    """
    dt = resolve_dtype(dtype)
    if isinstance(X, torch.Tensor):
        return X.to(dt)
    if hasattr(X, "tocoo") and not isinstance(X, np.ndarray):
        coo = X.tocoo()
        idx = torch.as_tensor(np.vstack([coo.row, coo.col]).astype(np.int64))
        val = torch.as_tensor(np.asarray(coo.data, dtype=np.float64), dtype=dt)
        return torch.sparse_coo_tensor(idx, val, coo.shape, check_invariants=True).coalesce()
    return torch.as_tensor(np.asarray(X, dtype=np.float64), dtype=dt)


def _param(x: np.ndarray, dtype: torch.dtype) -> nn.Parameter:
    return nn.Parameter(torch.as_tensor(np.array(x, dtype=np.float64), dtype=dtype))


def _buffer(x: np.ndarray, dtype: torch.dtype) -> torch.Tensor:
    return torch.as_tensor(np.array(x, dtype=np.float64), dtype=dtype)


def _is_sparse(x: torch.Tensor) -> bool:
    return x.layout != torch.strided


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
        Gaussian standardisation ``rbm.mean_`` / ``rbm.scale_`` (buffers, not trained).
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
        self.weight = _param(weight, dtype)
        self.bias = _param(bias, dtype)
        if mean is not None:
            self.register_buffer("input_mean", _buffer(mean, dtype))
            self.register_buffer("input_scale", _buffer(scale, dtype))
        else:
            self.input_mean = None
            self.input_scale = None
        self.log_sigma = None if log_sigma is None else _param(log_sigma, dtype)

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
        if _is_sparse(x):
            if self.input_mean is not None or self.log_sigma is not None:
                return x.to_dense()
            if x.layout != torch.sparse_coo:
                x = x.to_sparse_coo()
        return x

    def pre_activation(self, x: torch.Tensor) -> torch.Tensor:
        """``s(v) * bias + scaled(v) @ weight.T``, shape (n, n_hidden)."""
        x = self._check_input(x)
        if _is_sparse(x):
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


def _rbm_type() -> type:
    from boltz.rbm import RBM

    return RBM


def rbm_layer(rbm: Any, dtype: Any = torch.float32) -> RBMLayer:
    """:class:`RBMLayer` from a fitted ``boltz.RBM`` (parameters copied to the host).

    Raises
    ------
    NotFittedError
        When ``rbm`` is not fitted.
    """
    dt = resolve_dtype(dtype)
    rbm._check_fitted()
    params = rbm.model_.to_host()
    return RBMLayer(
        params["weights"].T,
        params["hidden_bias"],
        unit=rbm.unit_.name,
        mean=getattr(rbm, "mean_", None),
        scale=getattr(rbm, "scale_", None),
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
    return DBNEncoder([rbm_layer(r, dtype) for r in _dbn_layers(dbn)])


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
        rbms = _dbn_layers(dbn)
        self.encoder = DBNEncoder([rbm_layer(r, dt) for r in rbms])
        dec = []
        for r in reversed(rbms):
            p = r.model_.to_host()
            w = np.asarray(p["weights"], dtype=np.float64)
            if "log_sigma" in p:
                w = w * np.exp(np.asarray(p["log_sigma"], dtype=np.float64))[:, None]
            lin = nn.Linear(r.n_hidden, r.n_features_in_, dtype=dt)
            with torch.no_grad():
                lin.weight.copy_(torch.as_tensor(w, dtype=dt))
                lin.bias.copy_(_buffer(p["visible_bias"], dt))
            dec.append(lin)
        self.decoder = nn.ModuleList(dec)
        bottom = rbms[0]
        self.output_unit = bottom.unit_.name
        if getattr(bottom, "mean_", None) is not None:
            self.register_buffer("output_mean", _buffer(bottom.mean_, dt))
            self.register_buffer("output_scale", _buffer(bottom.scale_, dt))
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


def _dbn_layers(dbn: Any) -> list[Any]:
    from boltz.dbn import DBN

    if not isinstance(dbn, DBN):
        raise TypeError(f"expected a fitted boltz.DBN; got {type(dbn).__name__}.")
    dbn._check_fitted()
    return list(dbn.layers_)


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

    dt = resolve_dtype(dtype)
    if isinstance(model, _rbm_type()):
        return rbm_layer(model, dt)
    if isinstance(model, DBN):
        return dbn_encoder(model, dt)
    if isinstance(model, MultimodalDBN):
        from .multimodal_export import MultimodalEncoder

        return MultimodalEncoder.from_boltz(model, dt)
    raise TypeError(
        f"to_torch expects a fitted boltz.RBM, boltz.DBN or boltz.MultimodalDBN; "
        f"got {type(model).__name__}."
    )
