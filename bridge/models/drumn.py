r"""Deep robust unsupervised multi-modal network (DRUMN; Yang, Zhan, Sheng & Jiang, AAAI 2019).

DRUMN learns one network per modality from pairs that may be **incomplete** (a
modality missing) and **inconsistent** (anomalous pairs), combining three pieces:

1. **DCCAE-style objective over complete and incomplete instances** (paper eq. 1):
   the canonical correlation of the two networks' outputs on the *complete* pairs,
   plus the reconstruction error of *every* observed row of each modality::

       min  -corr(f_1(X_1^c), f_2(X_2^c))  +  λ sum_k 1/|B_k| sum_{i in B_k} ℓ_re(x_ik)

   with ``corr`` the total canonical correlation (sum of the singular values of
   ``Σ11^{-1/2} Σ12 Σ22^{-1/2}``, as in DCCA) and ``B_k`` the rows of the minibatch
   observing modality ``k``.

2. **Deep structured energy-based autoencoders** (DSEBM, Zhai et al. 2016) as the
   modality networks (eqs. 2-3).  Network ``k`` is a stack of softplus layers
   ``h_l = softplus(W_l' h_{l-1} + b_l)`` defining the energy::

       E_k(x) = 1/2 ||x - b'||²  -  sum_j h_{L,j}(x)

   Its top layer ``h_L = f_k(x)`` is the modality's representation (the input of
   the correlation term), and its reconstruction is ``r_k(f_k(x)) = x - ∇_x E_k(x)``
   (Vincent 2011: score matching of an energy model is a denoising autoencoder
   with tied weights), trained by denoising score matching::

       ℓ_re(x) = ||x - (x̃ - ∇_x E_k(x̃))||²,   x̃ = x + σ ε          (σ = ``noise``)

   With ``noise=0`` this is ``||∇_x E_k(x)||²``.  Low-probability (high-energy),
   badly reconstructed rows are the feature anomalies.

3. **Adaptive instance weights** (eqs. 5-6).  Every time an instance is in a
   minibatch its energy ``E_k(x_ik)`` and its correlation score ``C_i`` -- its term
   of the canonical-correlation trace, ``sum_l u_il v_il`` with ``u, v`` the
   batch's canonical variates -- are turned into a "probability" in (0, 1) within
   the batch (:func:`batch_probability`: a logistic of the median/MAD z-score, low
   for high energy / low correlation; the paper stores "energy probabilities") and
   stored; the last ``history`` (8 in the paper) values form ``H_ik``.  The weights
   are the variance of that history plus its confidence interval (Active Bias,
   Chang et al. 2017)::

       std_conf(H) = sqrt( var(H) + var(H)² / (|H| - 1) )
       ω_ik = std_conf(H of p(E_k(x_ik)))      (feature anomalies: low ω in every modality)
       γ_i  = std_conf(H of p(C_i))           (class anomalies: low γ)

   normalised to mean 1 within the minibatch (1 while fewer than two values are
   stored).  A weight uses the history up to the previous visit.  The objective becomes (eq. 6)::

       min  -corr_γ(f_1(X_1^c), f_2(X_2^c))  +  λ sum_k 1/|B_k| sum_i ω_ik ℓ_re(x_ik)

   where ``corr_γ`` weighs each pair's term of the cross-covariance by ``γ_i`` (the
   whitening constraints stay unweighted, as in eq. 6).  A weight needs two stored
   values; before that it is 1.

**DRUMN-Thres** (``threshold=True``, eq. 4) replaces the adaptive weights by hard
0/1 thresholds: a row whose energy or reconstruction error lies above, or a pair
whose correlation score lies below, the ``threshold_quantile`` quantile of its
minibatch is left out of its term.  (The paper's thresholds are
``K (K + 3) / 2`` free hyperparameters; quantiles of the batch make them scale-free.)

After training, a linear CCA of the outputs ``h_L`` of the complete training pairs
-- weighted by ``γ`` (DRUMN) or by the threshold indicators (DRUMN-Thres) -- gives
the projections ``U_k``; ``transform`` returns ``U_k' (f_k(x) - mean_k)``.

Missing modalities: a row that is NaN in every column of a view (or marked False in
``observed``) is missing there; it still contributes its other modality's
reconstruction.

Early stopping (``views_val``): the parameters of the best validation epoch are
restored, and so is the weight history as it stood after that epoch, so that
``feature_weights_`` / ``pair_weights_`` belong to the returned networks.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch import nn

from boltz.constraints import Interval
from boltz.errors import DataError

from ..base import ViewArrays, Views
from ._drumn_weights import (
    BestHistory,
    WeightHistory,
    batch_probability,
    normalized_weights,
    std_conf,
    weighted_cca,
    weighted_total_correlation,
)
from ._final_cca import FinalCCAModel
from ._training import FitContext, train_loop
from ._validation import HIDDEN_PER_VIEW, check_hidden, check_outputs

__all__ = [
    "DRUMN",
    "DSEBM",
    "DRUMNNet",
    "batch_probability",
    "std_conf",
    "weighted_total_correlation",
]

logger = logging.getLogger(__name__)


# ----------------------------------------------------------------------------- pieces


class DSEBM(nn.Module):
    r"""Deep structured energy-based model of one modality (fully connected).

    Parameters
    ----------
    sizes : sequence of int
        ``[d, h_1, ..., h_L]``; every layer is ``softplus(W' h + b)``.

    Attributes
    ----------
    layers : nn.ModuleList of nn.Linear
    prior_mean : nn.Parameter of shape (d,)
        ``b'`` of the quadratic prior term of the energy.
    """

    def __init__(self, sizes: Sequence[int]) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            nn.Linear(sizes[i], sizes[i + 1]) for i in range(len(sizes) - 1)
        )
        self.prior_mean = nn.Parameter(torch.zeros(int(sizes[0])))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The top layer ``h_L = f(x)``, shape (n, h_L): the modality's representation."""
        h = x
        for lin in self.layers:
            h = nn.functional.softplus(lin(h))
        return h

    def energy_from(self, x: torch.Tensor, top: torch.Tensor) -> torch.Tensor:
        """``E(x) = 1/2 ||x - b'||² - sum_j h_L,j`` (n,), given ``top = forward(x)``."""
        return 0.5 * (x - self.prior_mean).pow(2).sum(1) - top.sum(1)

    def energy(self, x: torch.Tensor) -> torch.Tensor:
        """Energy of each row, shape (n,)."""
        return self.energy_from(x, self(x))

    def score(self, x: torch.Tensor, *, create_graph: bool = False) -> torch.Tensor:
        """``∇_x E(x)``, shape (n, d) (``create_graph`` to train through it)."""
        with torch.enable_grad():
            x = x.detach().requires_grad_(True)
            (g,) = torch.autograd.grad(self.energy(x).sum(), x, create_graph=create_graph)
        return g

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """``r(f(x)) = x - ∇_x E(x)``, shape (n, d)."""
        return x - self.score(x)


class DRUMNNet(nn.Module):
    """The per-modality energy networks of :class:`DRUMN`.

    Attributes
    ----------
    ebms : nn.ModuleDict of DSEBM
        One per view name.
    """

    def __init__(self, spec: Mapping[str, Any]) -> None:
        super().__init__()
        self.ebms = nn.ModuleDict({k: DSEBM(s) for k, s in spec["sizes"].items()})


# ----------------------------------------------------------------------------- model


class DRUMN(FinalCCAModel):
    r"""Deep robust unsupervised multi-modal network (and DRUMN-Thres).

    See the module docstring for the model.  Two views; rows may miss one view.

    Parameters
    ----------
    n_components : int, default 10
        Canonical components of the final (weighted) linear CCA, at most ``n_outputs``.
    n_outputs : int, optional
        Width of each energy network's top layer (default ``n_components``).
    hidden : sequence of int or dict[str, sequence of int], default (256,)
        Hidden widths below the top layer (per view with a dict).
    recon_weight : float, default 0.1
        λ: weight of the (weighted) reconstruction errors, squared errors summed over
        the standardised features; scale it down for wide views.
    noise : float, default 0.1
        σ of the denoising score matching (0: plain ``||∇E(x)||²``).
    threshold : bool, default False
        False: DRUMN (adaptive weights, eq. 6); True: DRUMN-Thres (eq. 4).
    threshold_quantile : float in (0, 1), default 0.9
        DRUMN-Thres: the batch quantile above which energies / reconstruction errors,
        and ``1 -`` it below which correlation scores, are cut.
    adaptive_weights : bool, default True
        False: every weight is 1 (the unweighted incomplete-data model; for ablations).
    history : int, default 8
        Stored iterations per instance for the weights (the paper's ``|H|``).
    reg : float, default 1e-4
        Ridge of the covariances in the correlation term and the final CCA.
    epochs, batch_size, learning_rate, weight_decay, patience, monitor, standardize, \
device, random_state, progress
        As in :class:`bridge.models.dcca.DCCA` (defaults 100, 800, 1e-3, 1e-5, 10,
        "auto", True, "cpu", 0, None): large batches, since the correlation is
        estimated from each batch's covariances; ``monitor="map"`` scores the complete
        validation pairs with ``y_val``.

    Attributes
    ----------
    view_names_ : tuple of str
    n_features_in_ : dict[str, int]
    module_ : DRUMNNet
    feature_weights_ : ndarray of shape (n_samples, 2)
        Final ω of every training instance and view (mean 1 over observed rows; NaN
        where the view is missing).  Low in both columns: a feature anomaly.
    pair_weights_ : ndarray of shape (n_samples,)
        Final γ of every complete training pair (mean 1; NaN for incomplete rows).
        Low: a class anomaly.
    correlations_ : ndarray of shape (n_components,)
        Canonical correlations of the final weighted CCA.
    preprocess_, history_, best_epoch_
        As in :class:`bridge.models.dcca.DCCA`.

    Examples
    --------
    >>> import numpy as np
    >>> from bridge.synthetic import make_paired_views
    >>> from bridge.models.drumn import DRUMN
    >>> views, _ = make_paired_views(300, dims=(12, 8), latent=3, random_state=0)
    >>> views["view1"][:50] = np.nan                    # 50 rows without view1
    >>> m = DRUMN(n_components=3, hidden=(16,), epochs=5, batch_size=100).fit(views)
    >>> m.transform(views)["view0"].shape, m.pair_weights_.shape
    ((300, 3), (300,))
    """

    min_views: ClassVar[int] = 2
    max_views: ClassVar[int | None] = 2
    _fitted_attrs: ClassVar[tuple[str, ...]] = ("module_", "cca_weights_")
    _allow_nan_rows: ClassVar[bool] = True

    hidden: Sequence[int] | Mapping[str, Sequence[int]] = (256,)
    recon_weight: float = 0.1
    noise: float = 0.1
    threshold: bool = False
    threshold_quantile: float = 0.9
    adaptive_weights: bool = True
    history: int = 8
    reg: float = 1e-4

    # ------------------------------------------------------------------ checks
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **FinalCCAModel._parameter_constraints,
        "recon_weight": [Interval(float, 0, None)],
        "noise": [Interval(float, 0, None)],
        "reg": [Interval(float, 0, None, closed="neither")],
        "history": [Interval(int, 2, None)],
        "threshold_quantile": [Interval(float, 0, 1, closed="neither")],
        "threshold": [bool],  # a bool, not 0 / 1
        "adaptive_weights": [bool],
        "hidden": [HIDDEN_PER_VIEW],
    }

    def _check_params(self) -> None:
        check_outputs(self, "the correlation term")

    # ------------------------------------------------------------------ data
    @staticmethod
    def _apply_observed(views: Views, observed: Mapping[str, ArrayLike] | None) -> Views:
        """Views with the rows marked False in ``observed`` set to NaN (copies)."""
        if observed is None:
            return views
        if not isinstance(observed, Mapping):
            raise DataError(
                "observed must be a dict {view name: boolean array of shape (n_samples,)}; "
                f"got {type(observed).__name__}."
            )
        out = dict(views)
        for k, m in observed.items():
            if k not in views:
                raise DataError(f"observed has view {k!r}, which is not in views {list(views)}.")
            mask = np.asarray(m)
            X = np.array(views[k], dtype=np.float64)
            if mask.dtype != bool or mask.shape != (X.shape[0],):
                raise DataError(
                    f"observed[{k!r}] must be a boolean array of shape ({X.shape[0]},); got "
                    f"dtype {mask.dtype}, shape {mask.shape}."
                )
            X[~mask] = np.nan
            out[k] = X
        return out

    def _tensors_masked(
        self, V: Mapping[str, np.ndarray], device: torch.device | None = None
    ) -> dict[str, torch.Tensor]:
        """Preprocessed views (missing rows zero) and ``mask.<view>`` float masks."""
        dev = self._module_device() if device is None else device
        out = {}
        for k, X in V.items():
            obs = np.isfinite(X).all(axis=1)
            A = np.where(obs[:, None], self._apply_preprocess(k, np.nan_to_num(X)), 0.0)
            out[k] = torch.as_tensor(np.ascontiguousarray(A, dtype=np.float32), device=dev)
            out[f"mask.{k}"] = torch.as_tensor(obs.astype(np.float32), device=dev)
        return out

    # ------------------------------------------------------------------ hooks
    def _make_spec(self, n_in: Mapping[str, int]) -> dict[str, Any]:
        names = list(self.view_names_)
        o = self._n_outputs()
        sizes = {}
        for k in names:
            h = self.hidden[k] if isinstance(self.hidden, Mapping) else self.hidden
            sizes[k] = [int(n_in[k]), *check_hidden(h), o]
        return {"sizes": sizes}

    def _build(self, spec: Mapping[str, Any]) -> DRUMNNet:
        return DRUMNNet(spec)

    def _weights(
        self, k: str, idx: np.ndarray, energy: np.ndarray, recon: np.ndarray, hist: WeightHistory
    ) -> np.ndarray:
        """ω of the observed batch rows ``idx`` of view ``k`` (before storing this step)."""
        if self.threshold:
            q = float(self.threshold_quantile)
            keep = (energy <= np.quantile(energy, q)) & (recon <= np.quantile(recon, q))
            return keep.astype(np.float64)
        if not self.adaptive_weights:
            return np.ones(len(idx))
        return normalized_weights(hist.energy_uncertainty(k, idx))

    def _pair_weights(self, idx: np.ndarray, scores: np.ndarray, hist: WeightHistory) -> np.ndarray:
        if self.threshold:
            return (scores >= np.quantile(scores, 1.0 - float(self.threshold_quantile))).astype(
                np.float64
            )
        if not self.adaptive_weights:
            return np.ones(len(idx))
        return normalized_weights(hist.corr_uncertainty(idx))

    def _loss(
        self, module: nn.Module, batch: dict[str, torch.Tensor], generator: torch.Generator
    ) -> torch.Tensor:
        """The unweighted objective (validation)."""
        return self._objective(module, batch, generator, None)

    def _objective(
        self,
        module: nn.Module,
        batch: dict[str, torch.Tensor],
        generator: torch.Generator,
        hist: WeightHistory | None,
    ) -> torch.Tensor:
        """Eq. 6 (or eq. 4) on a batch; in training mode with ``hist`` the weights come
        from, and this step's energies and scores go into, the instance history."""
        a, b = self.view_names_
        train = module.training and hist is not None
        idx = batch["idx"].cpu().numpy() if "idx" in batch else None
        sigma = float(self.noise)
        rec_total = torch.zeros((), device=batch[a].device)
        tops: dict[str, torch.Tensor] = {}
        obs: dict[str, torch.Tensor] = {}
        for k in (a, b):
            ebm = module.ebms[k]
            m = batch[f"mask.{k}"] > 0
            obs[k] = m
            x = batch[k][m]
            top = ebm(x)
            tops[k] = top
            if x.shape[0] == 0:
                continue
            xt = x
            if sigma > 0:
                eps = torch.randn(x.shape, generator=generator).to(x.device, x.dtype)
                xt = x + sigma * eps
            grad = ebm.score(xt, create_graph=True)
            err = (x - (xt - grad)).pow(2).sum(1)
            if train:
                with torch.no_grad():
                    energy = ebm.energy_from(x, top).double().cpu().numpy()
                rows = idx[m.cpu().numpy()]
                w = self._weights(k, rows, energy, err.detach().double().cpu().numpy(), hist)
                hist.push_energy(k, rows, batch_probability(energy, higher_is_normal=False))
                err = err * torch.as_tensor(w, dtype=err.dtype, device=err.device)
            rec_total = rec_total + err.mean()
        both = obs[a] & obs[b]
        # rows of tops[k] are the batch rows observing k; pick the complete ones
        ca = both[obs[a]]
        cb = both[obs[b]]
        corr = torch.zeros((), device=rec_total.device)
        n_c = int(both.sum())
        if n_c >= 2:
            Ha, Hb = tops[a][ca], tops[b][cb]
            if train:
                rows = idx[both.cpu().numpy()]
                if self.threshold:  # the cut needs this step's scores
                    with torch.no_grad():
                        _, sc = weighted_total_correlation(Ha, Hb, None, float(self.reg))
                    g = self._pair_weights(rows, sc.double().cpu().numpy(), hist)
                else:  # weights from the history up to the previous step
                    g = self._pair_weights(rows, np.empty(0), hist)
                gt = torch.as_tensor(g, dtype=Ha.dtype, device=Ha.device)
                if float(gt.sum()) <= 0:
                    gt = torch.ones_like(gt)
                corr, scores = weighted_total_correlation(Ha, Hb, gt, float(self.reg))
                s = scores.double().cpu().numpy()
                hist.push_corr(rows, batch_probability(s, higher_is_normal=True))
            else:
                corr, _ = weighted_total_correlation(Ha, Hb, None, float(self.reg))
        return -corr + float(self.recon_weight) * rec_total

    def _embed(self, module: nn.Module, X: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {k: module.ebms[k](x) for k, x in X.items() if not k.startswith("mask.")}

    def _extra_arrays(self) -> dict[str, np.ndarray]:
        return {
            "correlations": self.correlations_,
            "feature_weights": self.feature_weights_,
            "pair_weights": self.pair_weights_,
            **self._cca_arrays(self.cca_means_, self.cca_weights_),
        }

    def _set_extra_arrays(self, arrays: Mapping[str, np.ndarray]) -> None:
        self.cca_means_, self.cca_weights_ = self._read_cca_arrays(arrays)
        self.correlations_ = arrays["correlations"]
        self.feature_weights_ = arrays["feature_weights"]
        self.pair_weights_ = arrays["pair_weights"]

    def _finish_embedding(self, emb: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {
            k: (v.astype(np.float64) - self.cca_means_[k]) @ self.cca_weights_[k]
            for k, v in emb.items()
        }

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        views: Views,
        y: ArrayLike | None = None,
        views_val: Views | None = None,
        y_val: ArrayLike | None = None,
        *,
        observed: Mapping[str, ArrayLike] | None = None,
    ) -> DRUMN:
        """Train on possibly incomplete, possibly anomalous pairs.

        Parameters
        ----------
        views : dict[str, array-like of shape (n_samples, n_features_v)]
            Two views.  A row that is NaN in every column of a view is missing there
            (each sample needs at least one view).
        y : ignored
            Unsupervised; validated and unused.
        views_val : dict[str, array-like of shape (n_val, n_features_v)], optional
            Held-out pairs (may be incomplete) for early stopping.
        y_val : array-like of shape (n_val,), optional
            Labels of ``views_val``: early stopping on the cross-modal MAP of its
            complete pairs (``monitor="auto"``/``"map"``).
        observed : dict[str, array-like of bool, shape (n_samples,)], optional
            Another way to mark missing rows: False where the view is missing (the
            row's values are then ignored).

        Returns
        -------
        self
        """
        return super().fit(self._apply_observed(views, observed), y, views_val, y_val)

    def _fit_data(self, V: ViewArrays, Y: Any, V_val: ViewArrays | None, ctx: FitContext) -> None:
        a, b = self.view_names_
        obs = {k: np.isfinite(V[k]).all(axis=1) for k in (a, b)}
        n_c = int((obs[a] & obs[b]).sum())
        if n_c <= self._n_outputs():
            raise DataError(
                f"DRUMN needs more complete pairs ({n_c}) than n_outputs "
                f"({self._n_outputs()}) to estimate the correlation."
            )
        ctx.data = self._tensors_masked(V, ctx.device)
        ctx.data["idx"] = torch.arange(len(obs[a]), device=ctx.device)
        ctx.val_data = self._tensors_masked(V_val, ctx.device) if V_val is not None else None
        ctx.extra["observed"] = obs

    def _train(self, module: nn.Module, ctx: FitContext) -> tuple[list[dict[str, float]], int]:
        """``train_loop`` on eq. 6 with the instance history, then the final weights of
        the restored epoch and the weighted CCA."""
        a, b = self.view_names_
        obs = ctx.extra["observed"]
        hist = WeightHistory(len(obs[a]), (a, b), int(self.history))
        score = self._validator(module, ctx)
        validate = None if score is None else BestHistory(hist, score, ctx.monitor == "map")
        history, best_epoch = train_loop(
            module,
            lambda batch, g: self._objective(module, batch, g, hist),
            ctx.data,
            generator=ctx.generator,
            validate=validate,
            maximize=ctx.monitor == "map",
            distributed=ctx.distributed,
            **self._loop_params("DRUMN-Thres" if self.threshold else "DRUMN"),
        )
        module.eval()
        if validate is not None and validate.snapshot is not None:
            if validate.best_epoch == best_epoch:
                hist = validate.snapshot  # the weights of the restored epoch
            else:  # pragma: no cover - the two improvement rules are the same
                logger.warning(
                    "best epoch %d != tracked %d; weights from the last epoch",
                    best_epoch,
                    validate.best_epoch,
                )
        self._final_weights(module, ctx.data, obs, hist)
        with torch.no_grad():
            self._final_cca(module, ctx.data, obs)
        return history, best_epoch

    def _final_weights(
        self,
        module: nn.Module,
        X: Mapping[str, torch.Tensor],
        obs: Mapping[str, np.ndarray],
        hist: WeightHistory,
    ) -> None:
        """``feature_weights_`` / ``pair_weights_`` of all training instances."""
        a, b = self.view_names_
        n = len(obs[a])
        fw = np.full((n, 2), np.nan)
        pw = np.full(n, np.nan)
        complete = np.flatnonzero(obs[a] & obs[b])
        if self.threshold:
            with torch.no_grad():
                tops = {}
                for j, k in enumerate((a, b)):
                    rows = np.flatnonzero(obs[k])
                    x = X[k][torch.as_tensor(rows, device=X[k].device)]
                    top = module.ebms[k](x)
                    tops[k] = np.full((n, top.shape[1]), np.nan)
                    tops[k][rows] = top.double().cpu().numpy()
                    energy = module.ebms[k].energy_from(x, top).double().cpu().numpy()
                    with torch.enable_grad():
                        err = module.ebms[k].score(x).pow(2).sum(1).double().cpu().numpy()
                    fw[rows, j] = self._weights(k, rows, energy, err, hist)
                Ha = torch.as_tensor(tops[a][complete])
                Hb = torch.as_tensor(tops[b][complete])
                _, s = weighted_total_correlation(Ha, Hb, None, float(self.reg))
                pw[complete] = self._pair_weights(complete, s.numpy(), hist)
        elif self.adaptive_weights:
            for j, k in enumerate((a, b)):
                rows = np.flatnonzero(obs[k])
                fw[rows, j] = normalized_weights(hist.energy_uncertainty(k, rows))
            pw[complete] = normalized_weights(hist.corr_uncertainty(complete))
        else:
            for j, k in enumerate((a, b)):
                fw[obs[k], j] = 1.0
            pw[complete] = 1.0
        self.feature_weights_ = fw
        self.pair_weights_ = pw

    def _final_cca(
        self, module: nn.Module, X: Mapping[str, torch.Tensor], obs: Mapping[str, np.ndarray]
    ) -> None:
        a, b = self.view_names_
        complete, Ha, Hb = self._complete_outputs(module, X, obs)
        w = self.pair_weights_[complete]
        if not (w > 0).any():
            w = np.ones_like(w)
        mu_a, mu_b, Wa, Wb, s = weighted_cca(
            Ha, Hb, w, int(self.n_components), float(max(self.reg, 1e-8))
        )
        self.cca_means_ = {a: mu_a, b: mu_b}
        self.cca_weights_ = {a: Wa, b: Wb}
        self.correlations_ = s

    def _complete_outputs(
        self, module: nn.Module, X: Mapping[str, torch.Tensor], obs: Mapping[str, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(complete, Ha, Hb)``: the indices of the rows of ``X`` that ``obs`` marks
        observed in both views, and the two networks' outputs on them (float64)."""
        a, b = self.view_names_
        complete = np.flatnonzero(obs[a] & obs[b])
        sel = torch.as_tensor(complete, device=X[a].device)
        Ha = module.ebms[a](X[a][sel]).double().cpu().numpy()
        Hb = module.ebms[b](X[b][sel]).double().cpu().numpy()
        return complete, Ha, Hb

    def _map_validator(self, module: nn.Module, ctx: FitContext) -> Callable[[], float]:
        """The cross-modal MAP of the complete validation pairs, after a CCA with unit
        weights on the complete training pairs."""
        from ..metrics import cross_modal_map

        X, X_val = ctx.data, ctx.val_data
        a, b = self.view_names_
        obs = {k: X[f"mask.{k}"].cpu().numpy() > 0 for k in (a, b)}
        both_val = (X_val[f"mask.{a}"] > 0) & (X_val[f"mask.{b}"] > 0)
        labels = np.asarray(ctx.y_val)[both_val.cpu().numpy()]

        def validate() -> float:
            # CCA on the current outputs with unit weights (the γ are not final yet)
            complete, Ha, Hb = self._complete_outputs(module, X, obs)
            mu_a, mu_b, Wa, Wb, _ = weighted_cca(
                Ha, Hb, np.ones(len(complete)), int(self.n_components), float(self.reg)
            )
            Za = (module.ebms[a](X_val[a][both_val]).double().cpu().numpy() - mu_a) @ Wa
            Zb = (module.ebms[b](X_val[b][both_val]).double().cpu().numpy() - mu_b) @ Wb
            return cross_modal_map({a: Za, b: Zb}, labels)["average"]

        return validate

    # ------------------------------------------------------------------ inference
    def transform(self, views: Views) -> dict[str, np.ndarray]:
        """Embed each given view; rows missing (all-NaN) in a view embed as NaN.

        Parameters
        ----------
        views : dict[str, array-like of shape (n_samples, n_features_v)]
            Any subset of the fitted views, with all-NaN rows where a view is missing.

        Returns
        -------
        dict[str, ndarray of shape (n_samples, n_components)]
        """
        return self._observed_rows(
            views,
            (int(self.n_components),),
            lambda k, x: self._finish_embedding({k: self.module_.ebms[k](x).cpu().numpy()})[k],
        )

    def energy(self, views: Views) -> dict[str, np.ndarray]:
        """Energy ``E_k(x)`` of every row of each given view (NaN for missing rows).

        Parameters
        ----------
        views : dict[str, array-like of shape (n_samples, n_features_v)]
            Any subset of the fitted views; a row that is NaN in every column of a view
            is missing there.

        Returns
        -------
        dict[str, ndarray of shape (n_samples,)]
            In the standardised units the networks see; high energy = low probability.
        """
        return self._observed_rows(
            views, (), lambda k, x: self.module_.ebms[k].energy(x).double().cpu().numpy()
        )

    def _observed_rows(
        self,
        views: Views,
        shape: tuple[int, ...],
        rows: Callable[[str, torch.Tensor], np.ndarray],
    ) -> dict[str, np.ndarray]:
        """Per given view ``k``: ``rows(k, x)`` of its observed rows ``x`` (preprocessed,
        without gradients) in an array of shape ``(n_samples, *shape)``, NaN on the rows
        missing there."""
        V = self._validate_transform(views, allow_nan_rows=True, dtype=np.float64)
        self.module_.eval()
        out = {}
        with torch.no_grad():
            T = self._tensors_masked(V)
            for k in V:
                observed = T[f"mask.{k}"] > 0
                A = np.full((observed.shape[0], *shape), np.nan)
                A[observed.cpu().numpy()] = rows(k, T[k][observed])
                out[k] = A
        return out
