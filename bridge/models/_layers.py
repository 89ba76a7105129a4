"""The layers of the torch models, built from small JSON-able *specs*.

A spec describes one view's stack (so a checkpoint can rebuild the module without the
training data): either a plain MLP or the layers of a boltz DBN unrolled by
:func:`bridge.unroll`.  :func:`encoder_from_spec` builds an encoder, :class:`Decoder` a
decoder with its output unit and reconstruction loss; :func:`dbn_specs` reads the specs
and initial weights off a fitted DBN.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from ..encoders import RBMLayer
from ..export import unroll

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "linear": nn.Identity,
}
OUTPUT_UNITS = ("gaussian", "bernoulli", "softmax")


def mlp(sizes: Sequence[int], activation: str, *, last: str | None = None) -> nn.Sequential:
    """``Linear`` layers between consecutive ``sizes``, each followed by ``activation``.

    ``last`` (when given) replaces the activation after the final layer.  Submodules
    are named ``0, 1, ...`` in the ``nn.Sequential`` way.
    """
    layers: list[nn.Module] = []
    n = len(sizes) - 1
    for i in range(n):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        act = activation if (i < n - 1 or last is None) else last
        layers.append(ACTIVATIONS[act]())
    return nn.Sequential(*layers)


def encoder_from_spec(spec: Mapping[str, Any]) -> nn.Sequential:
    """Build an encoder from its spec (see :func:`mlp_encoder_spec`, :func:`dbn_specs`).

    ``{"kind": "mlp", "sizes": [d, h1, ..., hk], "activation": a}``: Linear + a per layer.
    ``{"kind": "rbm", "layers": [...]}``: one :class:`bridge.encoders.RBMLayer` per entry
    (placeholder values, to be filled by ``load_state_dict``).
    """
    if spec["kind"] == "mlp":
        return mlp(spec["sizes"], spec["activation"])
    layers = []
    for s in spec["layers"]:
        v, h = int(s["n_visible"]), int(s["n_hidden"])
        one = np.zeros(1)
        lay = RBMLayer(
            np.zeros((1, 1)),
            one,
            unit=s["unit"],
            mean=one if s["norm"] else None,
            scale=np.ones(1) if s["norm"] else None,
            log_sigma=one if s["log_sigma"] else None,
        )
        # the real sizes through torch factories, so that a build on the "meta" device
        # (checkpoint validation) allocates nothing
        lay.weight = nn.Parameter(torch.zeros(h, v))
        lay.bias = nn.Parameter(torch.zeros(h))
        if s["norm"]:
            lay.input_mean = torch.zeros(v)
            lay.input_scale = torch.ones(v)
        if s["log_sigma"]:
            lay.log_sigma = nn.Parameter(torch.zeros(v))
        layers.append(lay)
    return nn.Sequential(*layers)


def encoder_width(spec: Mapping[str, Any]) -> int:
    """Width of the top layer of an encoder spec."""
    if spec["kind"] == "mlp":
        return int(spec["sizes"][-1])
    return int(spec["layers"][-1]["n_hidden"])


def mlp_encoder_spec(n_in: int, hidden: Sequence[int], activation: str) -> dict[str, Any]:
    """Spec of an MLP encoder ``n_in -> hidden[0] -> ... -> hidden[-1]``."""
    return {"kind": "mlp", "sizes": [int(n_in), *map(int, hidden)], "activation": activation}


def mlp_decoder_spec(n_out: int, hidden: Sequence[int], activation: str) -> dict[str, Any]:
    """Spec of the mirror decoder ``hidden[-1] -> ... -> hidden[0] -> n_out`` (linear out)."""
    sizes = [*map(int, reversed(hidden)), int(n_out)]
    return {"sizes": sizes, "activation": activation, "unit": "gaussian", "output_norm": False}


class Decoder(nn.Module):
    """One view's decoder: ``Linear`` layers with ``activation`` between them.

    Parameters
    ----------
    sizes : sequence of int
        ``[h_k, ..., h_1, d]``: input width (an *activated* hidden layer) to output width.
    activation : str
        Between layers (not after the last).
    unit : {"gaussian", "bernoulli", "softmax"}, default "gaussian"
        Output unit, which sets the reconstruction loss (per sample, summed over features):
        gaussian -- squared error in standardised units; bernoulli -- cross-entropy of a
        sigmoid output; softmax -- multinomial cross-entropy ``-sum_j x_j log q_j`` of the
        counts ``x`` under word probabilities ``q`` (a replicated-softmax view).
    output_norm : bool, default False
        Gaussian output carries ``output_mean`` / ``output_scale`` buffers: the last layer
        is in standardised units, ``forward`` returns data units (as a DBN unrolled from a
        Gaussian RBM does).

    Attributes
    ----------
    layers : nn.ModuleList of nn.Linear
        Named ``layers.0, layers.1, ...`` (the layout of ``UnrolledAutoencoder.decoder``).
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str,
        unit: str = "gaussian",
        output_norm: bool = False,
    ) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            nn.Linear(sizes[i], sizes[i + 1]) for i in range(len(sizes) - 1)
        )
        self.act = ACTIVATIONS[activation]()
        self.unit = unit
        if output_norm:
            self.register_buffer("output_mean", torch.zeros(sizes[-1]))
            self.register_buffer("output_scale", torch.ones(sizes[-1]))
        else:
            self.output_mean = None
            self.output_scale = None

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> Decoder:
        return cls(spec["sizes"], spec["activation"], spec["unit"], spec["output_norm"])

    def logits(self, h: torch.Tensor) -> torch.Tensor:
        """Output layer before the output unit (standardised units for gaussian)."""
        for i, lin in enumerate(self.layers):
            h = lin(h)
            if i < len(self.layers) - 1:
                h = self.act(h)
        return h

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """Reconstruction in data units, shape (n, d)."""
        z = self.logits(h)
        if self.unit == "bernoulli":
            return torch.sigmoid(z)
        if self.unit == "softmax":
            return torch.softmax(z, dim=1)
        if self.output_mean is not None:
            return z * self.output_scale + self.output_mean
        return z

    def loss(self, h: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Reconstruction error of target ``x`` (data units) per sample, shape (n,)."""
        z = self.logits(h)
        if self.unit == "bernoulli":
            return nn.functional.binary_cross_entropy_with_logits(z, x, reduction="none").sum(1)
        if self.unit == "softmax":
            return -(x * torch.log_softmax(z, dim=1)).sum(1)
        if self.output_mean is not None:
            x = (x - self.output_mean) / self.output_scale
        return (z - x).pow(2).sum(1)


def dbn_specs(dbn: Any) -> tuple[dict[str, Any], dict[str, Any], dict, dict]:
    """Encoder and decoder specs and initial state dicts from a fitted ``boltz.DBN``.

    The DBN is unrolled by :func:`bridge.unroll` (Hinton & Salakhutdinov 2006): the
    encoder is its up-pass (one ``RBMLayer`` per RBM, with the bottom RBM's input
    standardisation), the decoder the transposed weights and visible biases, its output
    unit that of the bottom RBM's visible units.

    Returns
    -------
    encoder_spec, decoder_spec : dict
    encoder_state, decoder_state : dict of str -> Tensor
    """
    ae = unroll(dbn)
    layers = []
    for lay in ae.encoder:
        layers.append(
            {
                "n_visible": int(lay.weight.shape[1]),
                "n_hidden": int(lay.weight.shape[0]),
                "unit": lay.unit,
                "norm": lay.input_mean is not None,
                "log_sigma": lay.log_sigma is not None,
            }
        )
    enc_spec = {"kind": "rbm", "layers": layers}
    sizes = [int(ae.decoder[0].in_features), *(int(lin.out_features) for lin in ae.decoder)]
    dec_spec = {
        "sizes": sizes,
        "activation": "sigmoid",
        "unit": ae.output_unit,
        "output_norm": ae.output_mean is not None,
    }
    enc_state = {k: v.detach().clone() for k, v in ae.encoder.state_dict().items()}
    dec_state = {f"layers.{k}": v.detach().clone() for k, v in ae.decoder.state_dict().items()}
    if ae.output_mean is not None:
        dec_state["output_mean"] = ae.output_mean.detach().clone()
        dec_state["output_scale"] = ae.output_scale.detach().clone()
    return enc_spec, dec_spec, enc_state, dec_state


def build_or_explain(build: Callable[[], nn.Module], owner: str) -> nn.Module:
    """``build()``, with a clear MemoryError when the network does not fit in memory.

    torch reports a failed allocation as a ``RuntimeError`` from inside ``nn.Linear``;
    this counts the parameters first (on the ``meta`` device, free) and names them.
    """
    try:
        return build()
    except (RuntimeError, MemoryError) as e:
        if isinstance(e, RuntimeError) and "alloc" not in str(e).lower():
            raise
        with torch.device("meta"):
            n = sum(p.numel() for p in build().state_dict().values())
        raise MemoryError(
            f"{owner}: the network has {n:,} parameters ({n * 4 / 2**30:.1f} GiB as float32) "
            "and torch could not allocate them; use smaller layers (hidden=, n_components=, "
            "code=, ...)."
        ) from e
