r"""Deep CCA (Andrew, Arora, Bilmes & Livescu, ICML 2013) and DCCAE (Wang et al. 2015).

**DCCA.**  Two networks ``f`` and ``g`` map the views to ``o`` outputs each,
``H_1 = f(X_1)``, ``H_2 = g(X_2)`` (o x m for a batch of m pairs, centered), and are
trained to maximise the *total canonical correlation* of the outputs::

    Σ12 = H_1 H_2' / (m - 1)
    Σ11 = H_1 H_1' / (m - 1) + r_1 I,     Σ22 = H_2 H_2' / (m - 1) + r_2 I
    T   = Σ11^{-1/2} Σ12 Σ22^{-1/2}
    corr(H_1, H_2) = ||T||_tr = trace((T'T)^{1/2}) = sum of the singular values of T

(Andrew et al., eqs. 10-11), or the sum of the top ``k`` singular values only
(their section 3.1).  The ridges ``r_1, r_2 > 0`` keep the covariances invertible.

Computed stably here: the whitening uses Cholesky factors ``Σ11 = L_1 L_1'`` and
``Σ22 = L_2 L_2'`` instead of inverse square roots.  ``L_1^{-1} = Q_1 Σ11^{-1/2}``
for an orthogonal ``Q_1`` (and likewise for view 2), so ``L_1^{-1} Σ12 L_2^{-T} =
Q_1 T Q_2'`` has exactly the singular values of ``T``, while the Cholesky backward
pass has no ``1 / (λ_i - λ_j)`` eigen-gap terms.  The singular values are the square
roots of the eigenvalues of ``T'T`` from ``eigvalsh`` (eigenvalues only: its
gradient ``V diag(dL) V'`` is also free of eigen-gap terms), clamped at ``eps`` below
before the square root.  The objective is a batch statistic, so batches must be
large (``batch_size`` well above ``o``; 800 by default, whole-batch when it exceeds
the data).

After training, a linear CCA (:class:`bridge.baselines.CCA`) on the networks'
outputs for the whole training set gives the final projections (Andrew et al.,
section 3: "the final ... representation ... is obtained by linear CCA on the
outputs"); ``transform`` returns ``n_components`` canonical components.

**DCCAE** (Wang, Arora, Livescu & Bilmes, "On deep multi-view representation
learning", ICML 2015, eq. 5) adds decoders ``p`` and ``q`` that reconstruct each view
from its network output::

    min  -corr(f(X_1), g(X_2)) + λ/m sum_i ( ||x_1i - p(f(x_1i))||^2 + ||x_2i - q(g(x_2i))||^2 )

(the squared errors summed over features; ``λ = recon_weight``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from boltz.constraints import Interval
from boltz.errors import ConfigError

from ..baselines import CCA
from ._final_cca import FinalCCAModel
from ._layers import Decoder, mlp
from ._validation import ACTIVATION, check_outputs
from ._view_codecs import hidden_per_view

__all__ = ["DCCA", "DCCAE", "total_correlation"]


def total_correlation(
    H1: torch.Tensor,
    H2: torch.Tensor,
    reg: float | tuple[float, float] = 1e-4,
    k: int | None = None,
    eps: float = 1e-12,
) -> torch.Tensor:
    r"""Total canonical correlation of two batches of outputs (the DCCA objective).

    Parameters
    ----------
    H1 : Tensor of shape (m, o1)
    H2 : Tensor of shape (m, o2)
        Paired network outputs (rows are samples; centered here).
    reg : float or (float, float), default 1e-4
        Ridges ``r_1, r_2`` added to the diagonals of ``Σ11`` and ``Σ22``.
    k : int, optional
        Sum only the ``k`` largest canonical correlations (default: all
        ``min(o1, o2)``).
    eps : float, default 1e-12
        Eigenvalues of ``T'T`` are clamped at ``eps`` before the square root.

    Returns
    -------
    Tensor, scalar
        ``sum of the (top-k) singular values of Σ11^{-1/2} Σ12 Σ22^{-1/2}``,
        differentiable in ``H1`` and ``H2``.  DCCA minimises its negative.

    Examples
    --------
    >>> import torch
    >>> H = torch.randn(100, 3, dtype=torch.float64)
    >>> round(float(total_correlation(H, 2 * H, reg=0.0)), 6)
    3.0
    """
    r1, r2 = (reg, reg) if np.isscalar(reg) else reg
    m = H1.shape[0]
    if m < 2:
        raise ValueError(f"total_correlation needs at least 2 rows; got {m}.")
    H1 = H1 - H1.mean(dim=0, keepdim=True)
    H2 = H2 - H2.mean(dim=0, keepdim=True)
    S11 = H1.T @ H1 / (m - 1)
    S22 = H2.T @ H2 / (m - 1)
    S12 = H1.T @ H2 / (m - 1)
    S11 = S11 + r1 * torch.eye(S11.shape[0], dtype=H1.dtype, device=H1.device)
    S22 = S22 + r2 * torch.eye(S22.shape[0], dtype=H2.dtype, device=H2.device)
    L1 = torch.linalg.cholesky(S11)
    L2 = torch.linalg.cholesky(S22)
    T = torch.linalg.solve_triangular(L1, S12, upper=False)  # L1^-1 S12
    T = torch.linalg.solve_triangular(L2, T.T, upper=False).T  # ... L2^-T
    M = T.T @ T if T.shape[1] <= T.shape[0] else T @ T.T
    ev = torch.linalg.eigvalsh(M)  # ascending
    sv = torch.sqrt(torch.clamp(ev, min=eps))
    if k is not None:
        sv = sv[-k:]
    return sv.sum()


class DCCANet(nn.Module):
    """The networks of :class:`DCCA` / :class:`DCCAE`.

    Attributes
    ----------
    encoders : nn.ModuleList of nn.Sequential
        ``f`` and ``g``: hidden layers with the activation, then a linear output layer
        of ``n_outputs`` units.
    decoders : nn.ModuleList of Decoder
        ``p`` and ``q`` (DCCAE only; empty for DCCA).
    """

    def __init__(self, spec: Mapping[str, Any]) -> None:
        super().__init__()
        act = spec["activation"]
        self.encoders = nn.ModuleList(mlp(sizes, act, last="linear") for sizes in spec["sizes"])
        self.decoders = nn.ModuleList(Decoder.from_spec(d) for d in spec.get("decoders", []))


class DCCA(FinalCCAModel):
    r"""Deep canonical correlation analysis (Andrew et al. 2013).

    See the module docstring for the objective and how it is computed.

    Parameters
    ----------
    n_components : int, default 10
        Canonical components kept by the final linear CCA (at most ``n_outputs``).
    n_outputs : int, optional
        Output units ``o`` of each network (default ``n_components``).
    hidden : sequence of int or dict[str, sequence of int], default (256, 256)
        Hidden widths of each network (per view with a dict).
    activation : {"sigmoid", "tanh", "relu"}, default "sigmoid"
    reg : float, default 1e-4
        Ridge ``r_1 = r_2`` added to the output covariances in the objective.
    top_k : int, optional
        Train on the sum of the ``top_k`` largest correlations only (default: all).
    epochs : int, default 100
    batch_size : int, default 800
        Large: the objective is estimated from each batch's covariances.
    learning_rate : float, default 1e-3
    weight_decay : float, default 1e-5
    patience, monitor, standardize, device, random_state, progress
        As in :class:`bridge.models.bimodal_ae.BimodalAE` (monitor "map" scores the
        validation pairs after the linear CCA fitted on the training outputs).

    Attributes
    ----------
    view_names_ : tuple of str
    n_features_in_ : dict[str, int]
    module_ : DCCANet
    cca_ : bridge.baselines.CCA
        The linear CCA on the training outputs (``transform`` applies it).
    correlations_ : ndarray of shape (n_components,)
        Canonical correlations of the training outputs, descending.
    preprocess_, history_, best_epoch_
        As in :class:`bridge.models.bimodal_ae.BimodalAE`; ``history_[i]["loss"]`` is
        the negative training objective.

    Examples
    --------
    >>> from bridge.synthetic import make_paired_views
    >>> from bridge.models.dcca import DCCA
    >>> views, _ = make_paired_views(300, dims=(12, 8), latent=3, random_state=0)
    >>> m = DCCA(n_components=3, hidden=(16,), epochs=5, batch_size=100).fit(views)
    >>> m.transform(views)["view0"].shape
    (300, 3)
    """

    _recon = False

    hidden: Sequence[int] | Mapping[str, Sequence[int]] = (256, 256)
    activation: str = "sigmoid"
    reg: float = 1e-4
    top_k: int | None = None

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **FinalCCAModel._parameter_constraints,
        "activation": [ACTIVATION],
        "reg": [Interval(float, 0, None, closed="neither")],
        "top_k": [None, Interval(int, 1, None)],
    }

    # ------------------------------------------------------------------ hooks
    def _check_params(self) -> None:
        check_outputs(self, "the objective")
        if self.top_k is not None and self.top_k > self._n_outputs():
            raise ConfigError(f"top_k={self.top_k} exceeds n_outputs={self._n_outputs()}.")

    def _make_spec(self, n_in: Mapping[str, int]) -> dict[str, Any]:
        names = list(self.view_names_)
        hid = hidden_per_view(self.hidden, names)
        o = self._n_outputs()
        spec: dict[str, Any] = {
            "sizes": [[n_in[k], *hid[k], o] for k in names],
            "activation": self.activation,
        }
        if self._recon:
            spec["decoders"] = [
                {
                    "sizes": [o, *reversed(hid[k]), n_in[k]],
                    "activation": self.activation,
                    "unit": "gaussian",
                    "output_norm": False,
                }
                for k in names
            ]
        return spec

    def _build(self, spec: Mapping[str, Any]) -> DCCANet:
        return DCCANet(spec)

    def _init_module(self, module: nn.Module, X: dict[str, torch.Tensor]) -> None:
        n = next(iter(X.values())).shape[0]
        if n <= self._n_outputs():
            raise ConfigError(
                f"{type(self).__name__} needs more training pairs ({n}) than n_outputs "
                f"({self._n_outputs()})."
            )

    def _outputs(self, module: nn.Module, xs: list[torch.Tensor]) -> list[torch.Tensor]:
        return [enc(x) for enc, x in zip(module.encoders, xs)]

    def _loss(
        self, module: nn.Module, batch: dict[str, torch.Tensor], generator: torch.Generator
    ) -> torch.Tensor:
        from .. import distributed as bd

        xs = [batch[k] for k in self.view_names_]
        # data-parallel: the correlation of the whole global batch (identity otherwise)
        H = [bd.gather_rows(h) for h in self._outputs(module, xs)]
        return -total_correlation(H[0], H[1], reg=self.reg, k=self.top_k)

    def _embed(self, module: nn.Module, X: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        idx = {k: i for i, k in enumerate(self.view_names_)}
        return {k: module.encoders[idx[k]](x) for k, x in X.items()}

    def _after_train(self, module: nn.Module, X: dict[str, torch.Tensor]) -> None:
        H = {k: v.double().cpu().numpy() for k, v in self._embed(module, X).items()}
        self.cca_ = CCA(n_components=int(self.n_components)).fit(H)
        self.correlations_ = self.cca_.correlations_

    def _finish_embedding(self, emb: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return self.cca_.transform(emb)

    def _extra_arrays(self) -> dict[str, np.ndarray]:
        return {
            "correlations": self.cca_.correlations_,
            **self._cca_arrays(self.cca_.means_, self.cca_.weights_),
        }

    def _set_extra_arrays(self, arrays: Mapping[str, np.ndarray]) -> None:
        cca = CCA(n_components=int(self.n_components))
        names = self.view_names_
        cca.view_names_ = tuple(names)
        cca.n_features_in_ = {k: self._n_outputs() for k in names}
        cca.means_, cca.weights_ = self._read_cca_arrays(arrays)
        cca.correlations_ = arrays["correlations"]
        self.cca_ = cca
        self.correlations_ = cca.correlations_


class DCCAE(DCCA):
    r"""Deep canonically correlated autoencoders (Wang et al. 2015).

    :class:`DCCA` plus one decoder per view reconstructing the view from its network
    output; see the module docstring for the objective.

    Parameters
    ----------
    recon_weight : float, default 0.1
        ``λ``: weight of the reconstruction errors (squared errors summed over the
        standardised features, averaged over the batch) against the total correlation
        (at most ``n_outputs``); the error grows with the view widths, so scale ``λ``
        down for wide views.
    n_components, n_outputs, hidden, activation, reg, top_k, epochs, batch_size, \
learning_rate, weight_decay, patience, monitor, standardize, device, random_state, \
progress
        As in :class:`DCCA`; the decoders mirror ``hidden``.

    Attributes
    ----------
    As in :class:`DCCA`; ``module_.decoders`` holds ``p`` and ``q``.

    Examples
    --------
    >>> from bridge.synthetic import make_paired_views
    >>> from bridge.models.dcca import DCCAE
    >>> views, _ = make_paired_views(300, dims=(12, 8), latent=3, random_state=0)
    >>> m = DCCAE(n_components=3, hidden=(16,), epochs=5, batch_size=100).fit(views)
    >>> rec = m.reconstruct({"view1": views["view1"]})  # view1 from its own code
    >>> rec["view1"].shape, m.transform({"view1": views["view1"]})["view1"].shape
    ((300, 8), (300, 3))
    """

    _recon = True

    recon_weight: float = 0.1

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **DCCA._parameter_constraints,
        "recon_weight": [Interval(float, 0, None)],
    }

    def _loss(
        self, module: nn.Module, batch: dict[str, torch.Tensor], generator: torch.Generator
    ) -> torch.Tensor:
        from .. import distributed as bd

        xs = [batch[k] for k in self.view_names_]
        H = self._outputs(module, xs)
        # data-parallel: correlation and per-row errors of the whole global batch
        G = [bd.gather_rows(h) for h in H]
        corr = total_correlation(G[0], G[1], reg=self.reg, k=self.top_k)
        rec = sum(
            bd.gather_rows(dec.loss(h, x)).mean() for dec, h, x in zip(module.decoders, H, xs)
        )
        return -corr + self.recon_weight * rec

    def reconstruct(self, views: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """Each given view reconstructed from its own network output (data units).

        Parameters
        ----------
        views : dict[str, array-like of shape (n_samples, n_features_v)]
            Any subset of the fitted views, in data units.

        Returns
        -------
        dict[str, ndarray of shape (n_samples, n_features_v)]
        """
        X = self._input_tensors(views)
        idx = {k: i for i, k in enumerate(self.view_names_)}
        out = {}
        with torch.no_grad():
            for k, x in X.items():
                i = idx[k]
                Z = self.module_.decoders[i](self.module_.encoders[i](x)).cpu().numpy()
                out[k] = self._undo_preprocess(k, Z)
        return out
