r"""Correspondence autoencoders: Corr-AE, Corr-Cross-AE, Corr-Full-AE.

Feng, Wang & Li, "Cross-modal retrieval with correspondence autoencoder", ACM MM 2014.
Two autoencoders, one per modality (image ``I``, text ``T``), whose code layers are
tied by a *correlation* (code-distance) loss:

    z_I = f(x_I; W_f),   z_T = g(x_T; W_g)                   (code layers)

    L_C = || z_I - z_T ||_2^2                                (correlation loss)

    L = (1 - α) L_R + α L_C,   averaged over the training pairs,

where α ∈ [0, 1) trades reconstruction against correspondence and the
reconstruction term ``L_R`` depends on the variant:

* ``variant="corr"`` (Corr-AE): each code reconstructs its own modality,
  ``L_R = ||x_I - x̂_I(z_I)||^2 + ||x_T - x̂_T(z_T)||^2``.
* ``variant="cross"`` (Corr-Cross-AE): each code reconstructs the *other* modality,
  ``L_R = ||x_T - x̂_T(z_I)||^2 + ||x_I - x̂_I(z_T)||^2``.
* ``variant="full"`` (Corr-Full-AE): each code reconstructs both, with its own pair
  of decoders, ``L_R = sum_{s, t ∈ {I, T}} ||x_t - x̂_t(z_s)||^2``.

Minimising ``L_C`` alone would shrink both codes to one point; the reconstruction
term (and bounded sigmoid codes) keeps them informative, so α must stay below 1
(Feng et al. tune it; 0.2 here by default).  With ``loss_scale="sum"`` squared
errors are summed over features per sample (the paper's ``||.||^2``), so with views
of very different widths the wider one dominates ``L_R`` and ``L_R`` (thousands of
terms) dwarfs ``L_C`` (one term per code unit): α then barely moves the balance.
``loss_scale="mean"`` averages each reconstruction over its view's features and
``L_C`` over the code units, so every term is a per-unit error and α weighs
comparable quantities whatever the widths.

``correspondence="normalized"`` divides ``L_C`` by the codes' spread in the
minibatch, ``(tr Cov(z_I) + tr Cov(z_T)) / 2``: a scale-free code distance that
collapsing both codes to one point no longer lowers (not in the paper; the
default ``"distance"`` is the paper's ``L_C``).

The paper feeds the networks with RBM-pretrained features (a Gaussian RBM for the
image, a replicated-softmax RBM for the text); ``pretrained={view: boltz.DBN}``
does that here: the view's encoder and decoder are the DBN unrolled by
:func:`bridge.unroll`, and the view enters raw.  ``transform`` returns each view's
code ``z_v`` (computed from that view alone, as retrieval needs).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import KW_ONLY
from typing import Any, ClassVar

import torch
from torch import nn

from boltz.constraints import Interval, Options

from ._layers import ACTIVATIONS, Decoder, encoder_from_spec, encoder_width
from ._view_codec_model import ViewCodecModel

__all__ = ["VARIANTS", "CorrAE"]

#: (source code, reconstructed view) pairs of each variant, views indexed 0 and 1.
VARIANTS: dict[str, tuple[tuple[int, int], ...]] = {
    "corr": ((0, 0), (1, 1)),
    "cross": ((0, 1), (1, 0)),
    "full": ((0, 0), (0, 1), (1, 0), (1, 1)),
}


class CorrNet(nn.Module):
    """The network of :class:`CorrAE`.

    Attributes
    ----------
    encoders : nn.ModuleList
        Private encoder of each view.
    codes : nn.ModuleList of nn.Linear
        Top encoder layer -> code ``z_v``.
    bridges, decoders : nn.ModuleList
        One per (source, target) pair of the variant: ``z_source -> x̂_target``.
    """

    def __init__(self, spec: Mapping[str, Any]) -> None:
        super().__init__()
        k = spec["n_components"]
        self.pairs = [tuple(p) for p in spec["pairs"]]
        self.encoders = nn.ModuleList(encoder_from_spec(s) for s in spec["encoders"])
        self.codes = nn.ModuleList(nn.Linear(encoder_width(s), k) for s in spec["encoders"])
        self.code_act = ACTIVATIONS[spec["code_activation"]]()
        decs = spec["decoders"]
        self.bridges = nn.ModuleList(nn.Linear(k, decs[t]["sizes"][0]) for _, t in self.pairs)
        self.bridge_acts = nn.ModuleList(
            ACTIVATIONS[decs[t]["activation"]]() for _, t in self.pairs
        )
        self.decoders = nn.ModuleList(Decoder.from_spec(decs[t]) for _, t in self.pairs)

    def code(self, i: int, x: torch.Tensor) -> torch.Tensor:
        """Code of view ``i``, shape (n, n_components)."""
        return self.code_act(self.codes[i](self.encoders[i](x)))

    def top(self, j: int, z: torch.Tensor) -> torch.Tensor:
        """Input of the ``j``-th decoder (pair ``pairs[j]``) from a code."""
        return self.bridge_acts[j](self.bridges[j](z))


class CorrAE(ViewCodecModel):
    r"""Correspondence autoencoder, in its three variants (Feng, Wang & Li 2014).

    See the module docstring for the objective.

    Parameters
    ----------
    n_components : int, default 32
        Width of each code layer (the embedding size).
    variant : {"corr", "cross", "full"}, default "corr"
        Corr-AE, Corr-Cross-AE or Corr-Full-AE.
    alpha : float in [0, 1), default 0.2
        Weight of the correlation loss; ``1 - alpha`` weighs the reconstruction.
    hidden : sequence of int or dict[str, sequence of int], default (256,)
        Private encoder widths below the code (decoders mirror them); per view with a
        dict.
    activation : {"sigmoid", "tanh", "relu"}, default "sigmoid"
    code_activation : {"sigmoid", "tanh", "relu", "linear"}, default "sigmoid"
        Of the code layers.  A bounded one keeps the code-distance loss from being
        lowered by merely shrinking the codes.
    loss_scale : {"sum", "mean"}, default "sum"
        "sum": each term summed over its units (the paper's squared norms); "mean":
        each reconstruction averaged over its view's features and the code distance
        over the code units (see the module docstring).
    correspondence : {"distance", "normalized"}, default "distance"
        ``L_C`` as the paper's squared code distance, or divided by the codes'
        minibatch spread (see the module docstring).
    pretrained : dict[str, boltz.DBN], optional
        Fitted DBNs initialising a view's encoder and decoders (``hidden`` ignored
        for it).
    epochs, batch_size, learning_rate, weight_decay, patience, monitor, standardize, \
center, device, random_state, progress
        As in :class:`bridge.models.bimodal_ae.BimodalAE` (defaults 100, 64, 1e-3,
        1e-4, 10, "auto", True, True, "cpu", 0, None).

    Attributes
    ----------
    view_names_ : tuple of str
        ``(I, T)``: the views in fit order.
    n_features_in_ : dict[str, int]
    module_ : CorrNet
    preprocess_ : dict[str, dict]
    embedding_mean_ : dict[str, ndarray of shape (n_components,)]
        Mean training code of each view (subtracted by ``transform`` with ``center``).
    history_ : list of dict
    best_epoch_ : int

    Examples
    --------
    >>> from bridge.synthetic import make_paired_views
    >>> from bridge.models.corr_ae import CorrAE
    >>> views, _ = make_paired_views(200, dims=(12, 8), random_state=0)
    >>> m = CorrAE(n_components=4, variant="full", hidden=(16,), epochs=2).fit(views)
    >>> m.transform(views)["view0"].shape
    (200, 4)
    """

    n_components: int = 32
    variant: str = "corr"
    alpha: float = 0.2
    hidden: Sequence[int] | Mapping[str, Sequence[int]] = (256,)
    activation: str = "sigmoid"
    code_activation: str = "sigmoid"
    loss_scale: str = "sum"
    correspondence: str = "distance"
    pretrained: Mapping[str, Any] | None = None
    _: KW_ONLY
    center: bool = True

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **ViewCodecModel._parameter_constraints,
        "variant": [Options(*VARIANTS)],
        "alpha": [
            Interval(
                float,
                0,
                1,
                closed="left",
                what="a number in [0, 1) (alpha = 1 drops the reconstruction and the codes "
                "collapse)",
            )
        ],
        "loss_scale": [Options("sum", "mean")],
        "correspondence": [Options("distance", "normalized")],
    }

    def _make_spec(self, n_in: Mapping[str, int]) -> dict[str, Any]:
        return {
            **self._codec_specs(n_in),
            "pairs": [list(p) for p in VARIANTS[self.variant]],
            "n_components": int(self.n_components),
            "code_activation": self.code_activation,
        }

    def _build(self, spec: Mapping[str, Any]) -> CorrNet:
        return CorrNet(spec)

    def _init_module(self, module: nn.Module, X: dict[str, torch.Tensor]) -> None:
        states = self._take_init_states()
        for i, k in enumerate(self.view_names_):
            if k not in states:
                continue
            enc_state, dec_state = states[k]
            module.encoders[i].load_state_dict(enc_state)
            for j, (_, t) in enumerate(module.pairs):
                if t == i:
                    module.decoders[j].load_state_dict(dec_state)

    def _loss(
        self, module: nn.Module, batch: dict[str, torch.Tensor], generator: torch.Generator
    ) -> torch.Tensor:
        xs = [batch[k] for k in self.view_names_]
        z = [module.code(i, x) for i, x in enumerate(xs)]
        mean = self.loss_scale == "mean"
        rec = [
            dec.loss(module.top(j, z[s]), xs[t]) / (xs[t].shape[1] if mean else 1)
            for j, (dec, (s, t)) in enumerate(zip(module.decoders, module.pairs))
        ]
        corr = (z[0] - z[1]).pow(2).sum(1) / (z[0].shape[1] if mean else 1)
        if self.correspondence == "normalized":
            spread = (z[0].var(0, unbiased=False).sum() + z[1].var(0, unbiased=False).sum()) / 2
            corr = corr / (spread + 1e-6)
        a = self.alpha
        return ((1 - a) * torch.stack(rec).sum(0) + a * corr).mean()

    def _embed(self, module: nn.Module, X: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        idx = {k: i for i, k in enumerate(self.view_names_)}
        return {k: module.code(idx[k], x) for k, x in X.items()}
