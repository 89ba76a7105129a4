r"""Deep mixed-modal clustering (Jiang, Xu, Yang, Cao & Huang, NeurIPS 2019).

*Mixed-modal* data: every sample is observed in exactly **one** modality (an article
given as its image *or* its text, never both) and nothing says which image goes with
which text.  DM2C clusters such a set by translating every sample into one
modality's latent space and running k-means there.

Modules (for modalities A and B)::

    autoencoders   z_a = Enc_A(x_a),  x̂_a = Dec_A(z_a)      (and B)
    generators     G_AB: latent A -> latent B,  G_BA: latent B -> latent A
    critics        D_A on latent A,  D_B on latent B       (Wasserstein critics)

Losses (the paper's eqs. 1-4)::

    L_rec^A = ||x_a - Dec_A(Enc_A(x_a))||²                 (mean squared error here)
    L_cyc^A = E ||z_a - G_BA(G_AB(z_a))||_1                 (mean absolute error here)
    L_adv^A = E D_A(z_a) - E D_A(G_BA(z_b))                 (and B with G_AB)

    min_{Enc, Dec, G} max_{D}  L_adv^A + L_adv^B + λ1 (L_cyc^A + L_cyc^B)
                                                 + λ2 (L_rec^A + L_rec^B)        (eq. 4)

Two trainings (``training``):

* ``"paper"`` (the equations): the critics are trained as WGAN-GP critics
  (Gulrajani et al. 2017), ``n_critic`` updates per generator update, each
  minimising ``-L_adv + gp_weight * E(||∇D(x̃)|| - 1)²`` on random interpolates
  ``x̃`` of real and translated codes; Adam; the codes enter ``L_cyc`` and
  ``L_adv`` as data (the parameter lists of eqs. 2-3), so the encoders learn from
  ``L_rec`` only.
* ``"authors"`` (github.com/jiangyangby/DM2C, ``code/model.py``): BatchNorm in the
  autoencoders and the generators (each generator an autoencoder over the latent
  space), an input-space cycle term ``λ_cr ||x_a - Dec_A(G_BA(G_AB(z_a)))||²``, the
  adversarial (weight ``lambda_adv``) and cycle gradients flowing into the encoders,
  WGAN critics with weight clipping, one critic step after every
  ``critic_interval``-th generator step, RMSprop in the joint phase.

In both, the autoencoders are first pretrained alone (``pretrain_epochs``), then
everything is trained jointly (``epochs``).

Clustering: the *unified* representation of a sample of modality ``unify`` is its
code ``Enc_A(x)``; a sample of the other modality becomes ``G_BA(Enc_B(x))``.
k-means (``n_init`` restarts) on the unified codes of the training set gives
``labels_`` and ``cluster_centers_``; :meth:`DM2C.predict` assigns new samples to
the nearest centre.

Data layout: a mixed set of ``n`` samples is a dict of the two views, each of shape
(n, d_v), in which the rows a sample lacks are NaN (:func:`mix_views` builds it
from one array per modality).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import KW_ONLY
from typing import Any, ClassVar

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch import nn

from boltz.constraints import Interval, Options
from boltz.errors import ConfigError, DataError

from ..base import ViewArrays, Views
from ._dm2c_nets import DM2CNet, gradient_penalty
from ._dm2c_training import adversarial_loop
from ._torch_model import SHARED_CONSTRAINTS, TorchMultiViewModel
from ._training import FitContext
from ._validation import HIDDEN, check_hidden

__all__ = ["DM2C", "DM2CNet", "gradient_penalty", "mix_views"]

logger = logging.getLogger(__name__)

#: The weights that are numbers >= 0 or None (the default of ``training``).
_NON_NEGATIVE = ("lambda_adv", "lambda_cyc_rec", "gp_weight", "clip_value")


def mix_views(parts: Mapping[str, ArrayLike]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Stack one array per modality into a mixed set with NaN rows.

    Parameters
    ----------
    parts : dict[str, array-like of shape (n_v, d_v)]
        The samples of each modality (unpaired; any numbers of rows).

    Returns
    -------
    views : dict[str, ndarray of shape (n, d_v)]
        ``n = sum n_v``; the samples of ``parts[v]`` are rows ``offset_v .. offset_v +
        n_v - 1`` of ``views[v]`` and NaN in every other view.
    modality : ndarray of int, shape (n,)
        Index (in ``parts`` order) of the modality of each row.

    Examples
    --------
    >>> import numpy as np
    >>> views, mod = mix_views({"image": np.ones((2, 3)), "text": np.zeros((1, 2))})
    >>> views["text"].shape, mod.tolist()
    ((3, 2), [0, 0, 1])
    """
    arrays = {k: np.asarray(v, dtype=np.float64) for k, v in parts.items()}
    for k, a in arrays.items():
        if a.ndim != 2:
            raise DataError(f"parts[{k!r}] must be 2-D (n_v, d_v); got shape {a.shape}.")
    n = sum(a.shape[0] for a in arrays.values())
    views, mod, start = {}, np.empty(n, dtype=np.int64), 0
    for i, (k, a) in enumerate(arrays.items()):
        out = np.full((n, a.shape[1]), np.nan)
        out[start : start + a.shape[0]] = a
        views[k] = out
        mod[start : start + a.shape[0]] = i
        start += a.shape[0]
    return views, mod


class DM2C(TorchMultiViewModel):
    r"""Deep mixed-modal clustering of samples given in one of two modalities each.

    See the module docstring for the model.  Unsupervised.

    Parameters
    ----------
    n_clusters : int, default 10
    training : {"paper", "authors"}, default "paper"
        Which training to run; it sets the defaults of every parameter below that is
        None (see the table in ``docs/dm2c.md``).  ``"paper"``: the paper's eqs. 1-4
        with WGAN-GP critics and Adam, the codes entering the cycle and adversarial
        terms as data.  ``"authors"``: the training of the authors' code
        (github.com/jiangyangby/DM2C, ``code/model.py``): batch normalisation in the
        autoencoders and generators, generators shaped as autoencoders over the latent
        space, an input-space cycle term ``||x_a - Dec_A(G_BA(G_AB(z_a)))||²``,
        adversarial and cycle gradients into the encoders, WGAN critics with weight
        clipping updated once every ``critic_interval`` generator steps, RMSprop.
        Single-process only (batch statistics are per batch).
    latent : int, default 128
        Width of each modality's latent space (the same for both: the generators map
        one onto the other).
    hidden : sequence of int, default (1024, 256)
        Hidden widths of each encoder (the decoders mirror them); the official
        Wikipedia setting is ``2048 -> 1024 -> 256 -> 128``.
    generator_hidden : sequence of int, optional
        Hidden widths of ``G_AB`` and ``G_BA``.  Paper: ``(256,)``, an MLP ``latent ->
        256 -> latent``.  Authors: ``(latent, 2 latent, latent)``, the first half of an
        autoencoder ``latent -> latent -> 2 latent -> latent -> 2 latent -> latent ->
        latent`` (their ``DeepAE(128, [128, 256, 128])``).
    critic_hidden : sequence of int, default (32,)
        Hidden widths of the critics (``latent / 4`` in the official code).
    lambda_cyc : float, default 1.0
        λ1, weight of the latent cycle-consistency losses.
    lambda_rec : float, default 1.0
        λ2, weight of the reconstruction losses.
    lambda_adv : float, optional
        Weight of the adversarial terms (paper 1; authors 0.5, their ``lamda3``, which
        also scales the critics' loss).
    lambda_cyc_rec : float, optional
        Weight of the input-space cycle reconstruction (paper 0; authors 1).
    gp_weight : float, optional
        Weight of the WGAN-GP gradient penalty in the critics' loss (paper 10;
        authors 0).
    clip_value : float, optional
        Clip every critic weight to ``[-clip_value, clip_value]`` after each critic
        step (paper 0: off; authors 0.05).
    n_critic : int, optional
        Critic updates per critic round (paper 5; authors 1).
    critic_interval : int, optional
        A critic round every ``critic_interval`` generator steps (paper 1, before
        every generator step; authors 5, after every fifth).
    encoder_gradients : bool, optional
        Let the cycle and adversarial terms train the encoders too (paper False: the
        codes enter those terms as data, following the parameter lists of the paper's
        eqs. 2-3, and the encoders learn from the reconstruction only; authors True:
        their generator optimiser holds the autoencoders' parameters).
    batchnorm : bool, optional
        BatchNorm1d after every hidden LeakyReLU of the autoencoders and generators
        (paper False; authors True, who also end the decoders and generators with a
        LeakyReLU).
    unify : str, optional
        The view whose latent space holds the unified representation (default: the
        first view of ``fit``; the official code unifies into the image space).
    pretrain_epochs : int, optional
        Epochs of autoencoder-only training before the joint training (paper 100;
        authors 150).
    epochs : int, optional
        Epochs of joint training (paper 100; authors 220).
    batch_size : int, default 128
        Rows of the mixed set per minibatch (both modalities together).
    learning_rate : float, default 1e-4
        Step size of the autoencoders (pretraining and joint training).
    generator_learning_rate : float, optional
        Step size of the generators in the joint training (paper: ``learning_rate``;
        authors 5e-4).
    critic_learning_rate : float, optional
        Step size of the critics (paper 1e-4; authors 5e-5).
    weight_decay : float, default 0.0
        L2 penalty of the joint training's optimiser (autoencoders and generators).
    pretrain_weight_decay : float, optional
        L2 penalty in the pretraining (paper: ``weight_decay``; authors 1e-4).
    n_init : int, default 20
        k-means restarts.
    standardize : bool, default True
        Standardise each view with the mean and std of its observed training rows.
    device : {"cpu", "gpu", "auto"}, default "cpu"
        ``"cuda"`` / ``"cuda:N"`` are accepted too (see :mod:`boltz.devices`).
    random_state : int or None, default 0
        Seeds the initialisation, minibatch order, interpolation weights and k-means.
    progress : "auto", bool or None, default None
        tqdm bar on stderr; "auto" / None: only when stderr is a terminal.

    Optimisers: ``"paper"`` uses Adam (betas 0.5, 0.9) in both phases; ``"authors"``
    Adam (betas 0.5, 0.999) for the pretraining and RMSprop for the joint phase.

    Attributes
    ----------
    view_names_ : tuple of str
    n_features_in_ : dict[str, int]
    settings_ : dict
        The parameters as trained, every None resolved for ``training``.
    unify_ : str
        The view whose latent space is the unified space.
    module_ : DM2CNet
        The trained networks (eval mode).
    labels_ : ndarray of int, shape (n_samples,)
        Cluster of every training sample.
    cluster_centers_ : ndarray of shape (n_clusters, latent)
    preprocess_ : dict[str, dict]
        Per view ``mean`` and ``scale`` (d_v,) of the standardisation (None if not).
    history_ : list of dict
        Per epoch (pretraining first, ``phase`` 0, then joint training, ``phase`` 1):
        ``rec``, and in the joint phase ``cyc``, ``adv`` (generator side),
        ``wdist`` (the critics' estimate of the two Wasserstein distances, summed;
        from the last critic round) and, for ``"authors"``, ``cyc_rec``.

    Examples
    --------
    >>> import numpy as np
    >>> from bridge.synthetic import make_paired_views
    >>> from bridge.models.dm2c import DM2C, mix_views
    >>> paired, y = make_paired_views(200, dims=(10, 8), n_classes=3, random_state=0)
    >>> views, _ = mix_views({"view0": paired["view0"][:100], "view1": paired["view1"][100:]})
    >>> m = DM2C(n_clusters=3, latent=4, hidden=(16,), generator_hidden=(8,),
    ...          critic_hidden=(8,), pretrain_epochs=2, epochs=2, batch_size=50)
    >>> m.fit_predict(views).shape
    (200,)
    """

    min_views: ClassVar[int] = 2
    max_views: ClassVar[int | None] = 2
    _fitted_attrs: ClassVar[tuple[str, ...]] = ("module_", "cluster_centers_")
    _supports_map: ClassVar[bool] = False
    _allow_nan_rows: ClassVar[bool] = True
    _shared_constraints: ClassVar[dict[str, list[Any]]] = {
        **{k: v for k, v in SHARED_CONSTRAINTS.items() if k != "epochs"},
        "batch_size": [Interval(int, 2, None)],
    }

    n_clusters: int = 10
    training: str = "paper"
    latent: int = 128
    hidden: Sequence[int] = (1024, 256)
    generator_hidden: Sequence[int] | None = None
    critic_hidden: Sequence[int] = (32,)
    lambda_cyc: float = 1.0
    lambda_rec: float = 1.0
    lambda_adv: float | None = None
    lambda_cyc_rec: float | None = None
    gp_weight: float | None = None
    clip_value: float | None = None
    n_critic: int | None = None
    critic_interval: int | None = None
    encoder_gradients: bool | None = None
    batchnorm: bool | None = None
    unify: str | None = None
    pretrain_epochs: int | None = None
    generator_learning_rate: float | None = None
    critic_learning_rate: float | None = None
    pretrain_weight_decay: float | None = None
    n_init: int = 20
    _: KW_ONLY
    epochs: int | None = None
    batch_size: int = 128
    learning_rate: float = 1e-4
    weight_decay: float = 0.0

    #: Defaults of the parameters left None, per ``training`` ("latent" in a width is
    #: the ``latent`` parameter).
    TRAINING_DEFAULTS: ClassVar[dict[str, dict[str, Any]]] = {
        "paper": {
            "generator_hidden": (256,),
            "lambda_adv": 1.0,
            "lambda_cyc_rec": 0.0,
            "gp_weight": 10.0,
            "clip_value": 0.0,
            "n_critic": 5,
            "critic_interval": 1,
            "encoder_gradients": False,
            "batchnorm": False,
            "pretrain_epochs": 100,
            "epochs": 100,
            "generator_learning_rate": "learning_rate",
            "critic_learning_rate": 1e-4,
            "pretrain_weight_decay": "weight_decay",
        },
        "authors": {
            "generator_hidden": ("latent", "2 latent", "latent"),
            "lambda_adv": 0.5,
            "lambda_cyc_rec": 1.0,
            "gp_weight": 0.0,
            "clip_value": 0.05,
            "n_critic": 1,
            "critic_interval": 5,
            "encoder_gradients": True,
            "batchnorm": True,
            "pretrain_epochs": 150,
            "epochs": 220,
            "generator_learning_rate": 5e-4,
            "critic_learning_rate": 5e-5,
            "pretrain_weight_decay": 1e-4,
        },
    }

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "n_clusters": [Interval(int, 1, None)],
        "latent": [Interval(int, 1, None)],
        "hidden": [HIDDEN],
        "critic_hidden": [HIDDEN],
        "lambda_cyc": [Interval(float, 0, None)],
        "lambda_rec": [Interval(float, 0, None)],
        "training": [
            Options(*TRAINING_DEFAULTS, what=f"one of {sorted(TRAINING_DEFAULTS)}"),
        ],
        # None: the default of ``training`` (valid, or a valid parameter's value)
        "generator_hidden": [None, HIDDEN],
        **{k: [None, Interval(float, 0, None)] for k in _NON_NEGATIVE},
        "n_critic": [None, Interval(int, 1, None)],
        "critic_interval": [None, Interval(int, 1, None)],
        "pretrain_epochs": [None, Interval(int, 0, None)],
        "epochs": [None, Interval(int, 0, None)],
        "generator_learning_rate": [None, Interval(float, 0, None, closed="neither")],
        "critic_learning_rate": [None, Interval(float, 0, None, closed="neither")],
        "pretrain_weight_decay": [None, Interval(float, 0, None)],
        "encoder_gradients": [None, bool],
        "batchnorm": [None, bool],
        "n_init": [Interval(int, 1, None)],
        "unify": [None, str],  # a view name, checked against the views at fit
    }

    # ------------------------------------------------------------------ checks
    def _settings(self) -> dict[str, Any]:
        """Every training parameter with the Nones resolved for ``training`` (as plain
        floats, ints and width tuples; after the table)."""
        lat = int(self.latent)
        out: dict[str, Any] = {}
        for key, default in self.TRAINING_DEFAULTS[self.training].items():
            v = getattr(self, key)
            if v is None:
                if isinstance(default, str):
                    v = getattr(self, default)
                elif key == "generator_hidden" and self.training == "authors":
                    v = (lat, 2 * lat, lat)
                else:
                    v = default
            out[key] = v
        for key in (*_NON_NEGATIVE, "generator_learning_rate", "critic_learning_rate"):
            out[key] = float(out[key])
        out["pretrain_weight_decay"] = float(out["pretrain_weight_decay"])
        for key in ("n_critic", "critic_interval", "pretrain_epochs", "epochs"):
            out[key] = int(out[key])
        out["generator_hidden"] = check_hidden(out["generator_hidden"], "generator_hidden")
        if out["gp_weight"] > 0 and out["clip_value"] > 0:
            raise ConfigError(
                "gp_weight and clip_value are two ways of keeping the critics Lipschitz; "
                f"set one of them to 0 (got gp_weight={out['gp_weight']}, clip_value="
                f"{out['clip_value']})."
            )
        return out

    def _check_params(self) -> None:
        """The rule between the (resolved) critic settings: gp_weight or clip_value."""
        self._settings()

    def _check_mixed(self, V: Mapping[str, np.ndarray], name: str = "views") -> np.ndarray:
        """Index (0 or 1, in ``view_names_`` order) of the view observing each row."""
        obs = np.stack([np.isfinite(V[k]).all(axis=1) for k in self.view_names_], axis=1)
        both = obs.all(axis=1)
        if both.any():
            raise DataError(
                f"{name}: {int(both.sum())} sample(s) are observed in both views (first: row "
                f"{int(np.flatnonzero(both)[0])}); DM2C clusters mixed-modal data, where each "
                "sample is given in exactly one view (set the other view's row to NaN, e.g. "
                "with bridge.models.dm2c.mix_views)."
            )
        return np.where(obs[:, 0], 0, 1)

    # ------------------------------------------------------------------ preprocessing
    def _observed(
        self, V: Mapping[str, np.ndarray], mod: np.ndarray
    ) -> dict[str, tuple[np.ndarray, torch.Tensor]]:
        """Per view: the row indices it observes and those rows, preprocessed, as a tensor."""
        out = {}
        for i, k in enumerate(self.view_names_):
            if k not in V:
                continue
            rows = np.flatnonzero(mod == i)
            X = self._apply_preprocess(k, V[k][rows])
            out[k] = (rows, torch.as_tensor(np.ascontiguousarray(X, dtype=np.float32)))
        return out

    # ------------------------------------------------------------------ hooks
    def _make_spec(self, n_in: Mapping[str, int]) -> dict[str, Any]:
        st = self._settings()
        return {
            "names": list(self.view_names_),
            "n_in": {k: int(v) for k, v in n_in.items()},
            "latent": int(self.latent),
            "hidden": list(check_hidden(self.hidden)),
            "generator_hidden": list(st["generator_hidden"]),
            "critic_hidden": list(check_hidden(self.critic_hidden, "critic_hidden")),
            "unify": self.unify_,
            "batchnorm": st["batchnorm"],
            "decoder_output_act": self.training == "authors",
            "generator_shape": "autoencoder" if self.training == "authors" else "mlp",
        }

    def _build(self, spec: Mapping[str, Any]) -> DM2CNet:
        self.unify_ = spec["unify"]
        return DM2CNet(spec)

    def _loss(
        self, module: nn.Module, batch: dict[str, torch.Tensor], generator: torch.Generator
    ) -> torch.Tensor:  # pragma: no cover - DM2C has its own training loop
        raise NotImplementedError

    def _embed(self, module: nn.Module, X: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        a = self.unify_
        out = {}
        for k, x in X.items():
            z = module.encoders[k](x)
            out[k] = z if k == a else module.generators[f"{k}_to_{a}"](z)
        return out

    def _extra_arrays(self) -> dict[str, np.ndarray]:
        return {"cluster_centers": self.cluster_centers_, "labels": self.labels_}

    def _set_extra_arrays(self, arrays: Mapping[str, np.ndarray]) -> None:
        self.cluster_centers_ = np.asarray(arrays["cluster_centers"], dtype=np.float64)
        self.labels_ = np.asarray(arrays["labels"], dtype=np.int64)

    # ------------------------------------------------------------------ training
    def _validate_fit_views(
        self,
        views: Views,
        y: ArrayLike | None,
        views_val: Views | None,
        y_val: ArrayLike | None,
    ) -> tuple[dict[str, np.ndarray], Any, None, None]:
        """Exactly two views, each row observed in one of them (see :func:`mix_views`);
        no validation data (DM2C has no early stopping)."""
        if views_val is not None or y_val is not None:
            raise ConfigError("DM2C does not use validation data; pass views_val=None.")
        V, Y, _, _ = super()._validate_fit_views(views, y, None, None)
        for k in V:
            if not k or "." in k:
                raise DataError(f"view names must be non-empty strings without '.'; got {k!r}.")
        return V, Y, None, None

    def _fit_data(self, V: ViewArrays, Y: Any, V_val: None, ctx: FitContext) -> None:
        names = list(V)
        if self.unify is not None and self.unify not in names:
            raise ConfigError(f"unify must be one of the views {names}; got {self.unify!r}.")
        mod = self._check_mixed(V)
        counts = np.bincount(mod, minlength=2)
        if counts.min() < 2:
            raise DataError(
                "views: each view needs at least 2 observed samples; got "
                f"{dict(zip(names, counts.tolist()))}."
            )
        k_clusters = int(self.n_clusters)
        if k_clusters > len(mod):
            raise ConfigError(
                f"n_clusters={k_clusters} exceeds the number of samples ({len(mod)})."
            )
        self.unify_ = self.unify if self.unify is not None else names[0]
        observed = self._observed(V, mod)
        ctx.data = {k: x for k, (_, x) in observed.items()}
        ctx.extra.update(rows={k: r for k, (r, _) in observed.items()}, modality=mod)

    def _train(self, module: nn.Module, ctx: FitContext) -> tuple[list[dict[str, float]], int]:
        """The adversarial training (:meth:`_adversarial_loop`), then k-means on the
        unified codes of the training samples."""
        history = adversarial_loop(self, module, ctx)
        module.eval()
        with torch.no_grad():
            Z = self._unified(module, ctx.data, ctx.extra["rows"], ctx.device)
        from sklearn.cluster import KMeans

        km = KMeans(
            n_clusters=int(self.n_clusters), n_init=int(self.n_init), random_state=ctx.seed
        ).fit(Z)
        self.settings_ = self._settings()
        self.labels_ = km.labels_.astype(np.int64)
        self.cluster_centers_ = km.cluster_centers_.astype(np.float64)
        self._ddp_rows_ = ctx.extra["encoded_rows"]  # a diagnostic of the data split
        return history, len(history)

    def _unified(
        self,
        module: nn.Module,
        data: Mapping[str, torch.Tensor],
        rows: Mapping[str, np.ndarray],
        device: torch.device,
    ) -> np.ndarray:
        """Unified codes (n, latent) of the rows ``rows[v]`` given as ``data[v]``."""
        emb = self._embed(module, {k: x.to(device) for k, x in data.items()})
        n = sum(len(r) for r in rows.values())
        Z = np.empty((n, module.critics[self.unify_][0].in_features))
        for k, r in rows.items():
            Z[r] = emb[k].double().cpu().numpy()
        return Z

    # ------------------------------------------------------------------ inference
    def _mixed_input(self, views: Views) -> tuple[dict[str, np.ndarray], np.ndarray]:
        V = self._validate_transform(views, allow_nan_rows=True, dtype=np.float64)
        n = next(iter(V.values())).shape[0]
        full = {
            k: V[k] if k in V else np.full((n, self.n_features_in_[k]), np.nan)
            for k in self.view_names_
        }
        return V, self._check_mixed(full)

    def _embed_mixed(self, views: Views) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
        """``(V, mod, Z)``: the validated views, the index of the view observing each
        row (:meth:`_check_mixed`) and the unified codes of the rows."""
        V, mod = self._mixed_input(views)
        module = self.module_
        module.eval()
        with torch.no_grad():
            observed = self._observed(V, mod)
            Z = self._unified(
                module,
                {k: x for k, (_, x) in observed.items()},
                {k: r for k, (r, _) in observed.items()},
                self._module_device(),
            )
        return V, mod, Z

    def embed(self, views: Views) -> np.ndarray:
        """Unified representation of every sample of a mixed set.

        Parameters
        ----------
        views : dict[str, array-like of shape (n_samples, n_features_v)]
            One or both fitted views, NaN rows where a sample is not observed.

        Returns
        -------
        ndarray of float64, shape (n_samples, latent)
            Codes in the latent space of ``unify_``.
        """
        return self._embed_mixed(views)[2]

    def transform(self, views: Views) -> dict[str, np.ndarray]:
        """Unified codes per view (rows a view does not observe are NaN).

        Parameters
        ----------
        views : dict[str, array-like of shape (n_samples, n_features_v)]
            A mixed set, as for :meth:`embed`.

        Returns
        -------
        dict[str, ndarray of shape (n_samples, latent)]
        """
        V, mod, Z = self._embed_mixed(views)
        names = list(self.view_names_)
        return {k: np.where((mod == names.index(k))[:, None], Z, np.nan) for k in V}

    def predict(self, views: Views) -> np.ndarray:
        """Cluster of every sample of a mixed set (nearest of ``cluster_centers_``).

        Returns
        -------
        ndarray of int, shape (n_samples,)
        """
        Z = self.embed(views)
        d = ((Z[:, None, :] - self.cluster_centers_[None]) ** 2).sum(-1)
        return np.argmin(d, axis=1)

    def fit_predict(self, views: Views, y: ArrayLike | None = None) -> np.ndarray:
        """``fit(views)`` and return ``labels_`` (the clusters of the training samples)."""
        return self.fit(views, y).labels_
