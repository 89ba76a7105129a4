r"""Bimodal deep autoencoder (Ngiam, Khosla, Kim, Nam, Lee & Ng, ICML 2011).

Ngiam et al., "Multimodal deep learning", ICML 2011, section 3.2 ("bimodal deep
autoencoder").  Each modality ``v`` has its own encoder ``f_v`` (one or more hidden
layers); a shared layer joins them into one code, and one decoder per modality
reconstructs *every* modality from that code::

    h_v   = f_v(x_v)                                   (private layers, per view)
    z     = s(W_a h_a + W_b h_b + c)                   (shared representation)
    x̂_v   = g_v(s(U_v z + e_v))                        (one decoder per view)

    L = 1/n sum_i sum_v || x_v^(i) - x̂_v^(i) ||^2      (+ weight decay on weights)

To make the code usable from one modality alone, the training set is *augmented with
examples in which one modality is zeroed* while the network must still reconstruct
both (Ngiam et al.: "we add examples that have zero values for one of the input
modalities ... but still require the network to reconstruct both modalities").
Here every training example is, on the fly and with probability ``drop_rate``,
shown with one of the two views (chosen with equal odds) replaced by its training
mean -- zero after the standardisation the model applies; with the default 2/3 the
three cases (both, first only, second only) are equally frequent.

``transform`` embeds each given view *alone* (the other one at its mean), which is
the code used for cross-modal retrieval; :meth:`BimodalAE.transform_joint` embeds
the pairs.

Pretraining (Ngiam et al. initialise with RBMs): ``pretrained={view: boltz.DBN}``
replaces a view's private encoder and decoder by the DBN unrolled with
:func:`bridge.unroll` (Hinton & Salakhutdinov 2006): the up-pass as encoder, the
transposed weights as decoder, the bottom RBM's visible unit as output unit
(Gaussian: squared error, Bernoulli: cross-entropy, replicated softmax: multinomial
cross-entropy of the counts).  Such a view enters the network raw (the DBN's own
input standardisation is part of the unrolled layers).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import KW_ONLY
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from boltz.constraints import Interval

from ..base import Views
from ._layers import ACTIVATIONS, Decoder, encoder_from_spec, encoder_width
from ._view_codec_model import ViewCodecModel

__all__ = ["BimodalAE"]


class BimodalNet(nn.Module):
    """The network of :class:`BimodalAE` (views indexed 0, 1 in fit order).

    Attributes
    ----------
    encoders : nn.ModuleList
        Private encoder of each view.
    shared : nn.Linear
        ``[h_0, h_1] -> z`` (the shared layer).
    bridges : nn.ModuleList of nn.Linear
        ``z -> top hidden layer of decoder v``.
    decoders : nn.ModuleList of Decoder
    fill0, fill1 : buffers, shape (d_v,)
        The value a missing view is replaced with (its training mean as fed to the net).
    """

    def __init__(self, spec: Mapping[str, Any]) -> None:
        super().__init__()
        self.n_views = len(spec["encoders"])
        self.encoders = nn.ModuleList(encoder_from_spec(s) for s in spec["encoders"])
        widths = [encoder_width(s) for s in spec["encoders"]]
        k = spec["n_components"]
        self.shared = nn.Linear(sum(widths), k)
        self.code_act = ACTIVATIONS[spec["code_activation"]]()
        self.bridges = nn.ModuleList(nn.Linear(k, d["sizes"][0]) for d in spec["decoders"])
        self.bridge_acts = nn.ModuleList(ACTIVATIONS[d["activation"]]() for d in spec["decoders"])
        self.decoders = nn.ModuleList(Decoder.from_spec(d) for d in spec["decoders"])
        for i, n in enumerate(spec["n_in"]):
            self.register_buffer(f"fill{i}", torch.zeros(n))

    def fill(self, i: int) -> torch.Tensor:
        return getattr(self, f"fill{i}")

    def encode(self, xs: Sequence[torch.Tensor]) -> torch.Tensor:
        """Shared code ``z`` (n, n_components) of the inputs (one tensor per view)."""
        h = [enc(x) for enc, x in zip(self.encoders, xs)]
        return self.code_act(self.shared(torch.cat(h, dim=1)))

    def top(self, i: int, z: torch.Tensor) -> torch.Tensor:
        """Input of decoder ``i`` from the code."""
        return self.bridge_acts[i](self.bridges[i](z))


class BimodalAE(ViewCodecModel):
    r"""Bimodal deep autoencoder with input dropping (Ngiam et al. 2011).

    See the module docstring for the equations.

    Parameters
    ----------
    n_components : int, default 64
        Width of the shared code layer (the embedding size).
    hidden : sequence of int or dict[str, sequence of int], default (256,)
        Widths of each view's private encoder (the decoder mirrors it); one tuple for
        both views or a dict per view name.  At least one layer.
    activation : {"sigmoid", "tanh", "relu"}, default "sigmoid"
        Of the private and bridge layers.
    code_activation : {"sigmoid", "tanh", "relu", "linear"}, default "sigmoid"
        Of the shared layer.
    drop_rate : float in [0, 1), default 2/3
        Probability that a training example is shown with one view (chosen with equal
        odds) replaced by its mean; the targets are always both views.
    pretrained : dict[str, boltz.DBN], optional
        Fitted DBNs that initialise the private encoder/decoder of their view (see the
        module docstring); ``hidden`` is then ignored for that view.
    epochs : int, default 100
    batch_size : int, default 64
    learning_rate : float, default 1e-3
        Adam step size.
    weight_decay : float, default 1e-4
        ``weight_decay / 2 * sum ||W||_F^2`` over weight matrices (not biases).
    patience : int, default 10
        Early stopping patience (epochs), used when ``views_val`` is given.
    monitor : {"auto", "loss", "map"}, default "auto"
        Early-stopping score: the validation loss, or the cross-modal MAP of the
        one-view codes (needs ``y_val``); "auto" takes MAP when ``y_val`` is given.
    standardize : bool, default True
        Standardise each (non-pretrained) view with the training mean and std.
    center : bool, default True
        ``transform`` subtracts each view's mean training code (``embedding_mean_``),
        so cosine retrieval compares deviations, not the common offset of sigmoid
        codes.  False returns the raw code activations.
    device : {"cpu", "cuda", "auto"}, default "cpu"
    random_state : int or None, default 0
        Seeds the initialisation, the minibatch order and the dropping masks.
    progress : bool or None, default None
        tqdm bar on stderr; None: only when stderr is a terminal.

    Attributes
    ----------
    view_names_ : tuple of str
    n_features_in_ : dict[str, int]
    module_ : BimodalNet
        The trained network (eval mode).
    preprocess_ : dict[str, dict]
        Per view ``mean`` and ``scale`` (d_v,) of the standardisation (None if not).
    embedding_mean_ : dict[str, ndarray of shape (n_components,)]
        Mean one-view code of the training pairs (with ``center=True``).
    history_ : list of dict
        Per epoch ``loss`` (training objective) and ``val`` (validation score).
    best_epoch_ : int
        Epoch whose weights are kept.

    Examples
    --------
    >>> from bridge.synthetic import make_paired_views
    >>> from bridge.models.bimodal_ae import BimodalAE
    >>> views, _ = make_paired_views(200, dims=(12, 8), random_state=0)
    >>> ae = BimodalAE(n_components=4, hidden=(16,), epochs=2).fit(views)
    >>> ae.transform({"view1": views["view1"]})["view1"].shape
    (200, 4)
    """

    n_components: int = 64
    hidden: Sequence[int] | Mapping[str, Sequence[int]] = (256,)
    activation: str = "sigmoid"
    code_activation: str = "sigmoid"
    drop_rate: float = 2 / 3
    pretrained: Mapping[str, Any] | None = None
    _: KW_ONLY
    center: bool = True

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **ViewCodecModel._parameter_constraints,
        "drop_rate": [Interval(float, 0, 1, closed="left")],
    }

    # ------------------------------------------------------------------ hooks
    def _make_spec(self, n_in: Mapping[str, int]) -> dict[str, Any]:
        return {
            **self._codec_specs(n_in),
            "n_components": int(self.n_components),
            "code_activation": self.code_activation,
            "n_in": [int(n_in[k]) for k in self.view_names_],
        }

    def _build(self, spec: Mapping[str, Any]) -> BimodalNet:
        return BimodalNet(spec)

    def _init_module(self, module: nn.Module, X: dict[str, torch.Tensor]) -> None:
        states = self._take_init_states()
        with torch.no_grad():
            for i, k in enumerate(self.view_names_):
                if k in states:
                    enc_state, dec_state = states[k]
                    module.encoders[i].load_state_dict(enc_state)
                    module.decoders[i].load_state_dict(dec_state)
                # the "zero" a dropped view is replaced with: its mean as fed to the net
                module.fill(i).copy_(X[k].mean(dim=0))

    def _inputs(
        self, module: BimodalNet, X: Mapping[str, torch.Tensor], n: int
    ) -> list[torch.Tensor]:
        """One input per view in fit order; missing views at their fill value."""
        out = []
        for i, k in enumerate(self.view_names_):
            out.append(X[k] if k in X else module.fill(i).expand(n, -1))
        return out

    def _loss(
        self, module: nn.Module, batch: dict[str, torch.Tensor], generator: torch.Generator
    ) -> torch.Tensor:
        xs = [batch[k] for k in self.view_names_]
        n = xs[0].shape[0]
        inputs = list(xs)
        if self.drop_rate > 0:
            u = torch.rand(n, generator=generator).to(xs[0].device)
            drop = [u < self.drop_rate / 2, (u >= self.drop_rate / 2) & (u < self.drop_rate)]
            inputs = [
                torch.where(d[:, None], module.fill(i).expand_as(x), x)
                for i, (x, d) in enumerate(zip(xs, drop))
            ]
        z = module.encode(inputs)
        losses = [
            dec.loss(module.top(i, z), x) for i, (dec, x) in enumerate(zip(module.decoders, xs))
        ]
        return torch.stack(losses).sum(0).mean()

    def _embed(self, module: nn.Module, X: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        out = {}
        for k, x in X.items():
            out[k] = module.encode(self._inputs(module, {k: x}, x.shape[0]))
        return out

    # ------------------------------------------------------------------ extras
    def _joint_code(self, X: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """The shared code of the given (preprocessed) views together, missing views at
        their fill value; without gradients."""
        n = next(iter(X.values())).shape[0]
        with torch.no_grad():
            return self.module_.encode(self._inputs(self.module_, X, n))

    def transform_joint(self, views: Views) -> np.ndarray:
        """Shared code of the given views together (a missing view at its mean).

        Parameters
        ----------
        views : dict[str, array-like of shape (n_samples, n_features_v)]
            One or both fitted views; a missing view is fed as its training mean.

        Returns
        -------
        ndarray of shape (n_samples, n_components)
        """
        return self._joint_code(self._input_tensors(views)).cpu().numpy()

    def reconstruct(self, views: Views) -> dict[str, np.ndarray]:
        """Reconstruct every view from the given ones (cross-modal generation).

        Parameters
        ----------
        views : dict[str, array-like of shape (n_samples, n_features_v)]
            One or both views.

        Returns
        -------
        dict[str, ndarray of shape (n_samples, n_features_v)]
            All fitted views, in data units.
        """
        z = self._joint_code(self._input_tensors(views))
        m = self.module_
        out = {}
        with torch.no_grad():
            for i, k in enumerate(self.view_names_):
                out[k] = self._undo_preprocess(k, m.decoders[i](m.top(i, z)).cpu().numpy())
        return out
