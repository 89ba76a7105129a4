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

The critics are trained as WGAN-GP critics (Gulrajani et al. 2017): ``n_critic``
updates per generator update, each minimising ``-L_adv + gp_weight * E(||∇D(x̃)||
- 1)²`` on random interpolates ``x̃`` of real and translated codes (the official
code clips weights instead; the gradient penalty is the better-behaved variant
asked for here).  As in the official code, the autoencoders are first pretrained
alone (``pretrain_epochs``), then everything is trained jointly (``epochs``).

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
from typing import Any, ClassVar

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch import nn

from boltz.errors import ConfigError, DataError

from .. import distributed as bd
from ..base import Views
from ._torch_utils import (
    TorchMultiViewModel,
    check_float,
    check_hidden,
    check_int,
    minibatches,
    progress_enabled,
    resolve_device,
    resolve_seed,
)

__all__ = ["DM2C", "DM2CNet", "gradient_penalty", "mix_views"]

logger = logging.getLogger(__name__)


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


def gradient_penalty(
    critic: nn.Module, real: torch.Tensor, fake: torch.Tensor, generator: torch.Generator
) -> torch.Tensor:
    r"""WGAN-GP penalty ``E (||∇_x D(x̃)||_2 - 1)²`` on interpolates of real and fake rows.

    Parameters
    ----------
    critic : nn.Module
        Maps (m, d) to (m, 1).
    real, fake : Tensor of shape (m_r, d), (m_f, d)
        The first ``min(m_r, m_f)`` rows of each are paired (both are in random order).
    generator : torch.Generator
        Draws the interpolation weights ``ε ~ U(0, 1)``.

    Returns
    -------
    Tensor, scalar
        Differentiable in the critic's parameters.
    """
    m = min(real.shape[0], fake.shape[0])
    eps = torch.rand(m, 1, generator=generator).to(real.device, real.dtype)
    x = (eps * real[:m] + (1.0 - eps) * fake[:m]).detach().requires_grad_(True)
    (g,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
    return (g.norm(dim=1) - 1.0).pow(2).mean()


def _mlp(sizes: Sequence[int], slope: float = 0.2) -> nn.Sequential:
    """Linear layers with LeakyReLU between them and a linear output."""
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.LeakyReLU(slope))
    return nn.Sequential(*layers)


class DM2CNet(nn.Module):
    """All the networks of :class:`DM2C` for two views ``a`` and ``b``.

    Attributes
    ----------
    encoders, decoders : nn.ModuleDict
        Per view name: ``d_v -> *hidden -> latent`` and back (LeakyReLU(0.2) between
        layers, linear code and output).
    generators : nn.ModuleDict
        ``"{a}_to_{b}"`` and ``"{b}_to_{a}"``: ``latent -> *generator_hidden -> latent``.
    critics : nn.ModuleDict
        Per view name, on that view's latent space: ``latent -> *critic_hidden -> 1``.
    """

    def __init__(self, spec: Mapping[str, Any]) -> None:
        super().__init__()
        names = spec["names"]
        lat = spec["latent"]
        self.encoders = nn.ModuleDict(
            {k: _mlp([spec["n_in"][k], *spec["hidden"], lat]) for k in names}
        )
        self.decoders = nn.ModuleDict(
            {k: _mlp([lat, *reversed(spec["hidden"]), spec["n_in"][k]]) for k in names}
        )
        a, b = names
        self.generators = nn.ModuleDict(
            {
                f"{a}_to_{b}": _mlp([lat, *spec["generator_hidden"], lat]),
                f"{b}_to_{a}": _mlp([lat, *spec["generator_hidden"], lat]),
            }
        )
        self.critics = nn.ModuleDict({k: _mlp([lat, *spec["critic_hidden"], 1]) for k in names})


class DM2C(TorchMultiViewModel):
    r"""Deep mixed-modal clustering of samples given in one of two modalities each.

    See the module docstring for the model.  Unsupervised.

    Parameters
    ----------
    n_clusters : int, default 10
    latent : int, default 128
        Width of each modality's latent space (the same for both: the generators map
        one onto the other).
    hidden : sequence of int, default (1024, 256)
        Hidden widths of each encoder (the decoders mirror them); the official
        Wikipedia setting is ``2048 -> 1024 -> 256 -> 128``.
    generator_hidden : sequence of int, default (256,)
        Hidden widths of ``G_AB`` and ``G_BA``.
    critic_hidden : sequence of int, default (32,)
        Hidden widths of the critics (``latent / 4`` in the official code).
    lambda_cyc : float, default 1.0
        λ1, weight of the cycle-consistency losses.
    lambda_rec : float, default 1.0
        λ2, weight of the reconstruction losses.
    gp_weight : float, default 10.0
        Weight of the WGAN-GP gradient penalty in the critics' loss.
    n_critic : int, default 5
        Critic updates per generator update (on the same minibatch).
    unify : str, optional
        The view whose latent space holds the unified representation (default: the
        first view of ``fit``; the official code unifies into the image space).
    pretrain_epochs : int, default 100
        Epochs of autoencoder-only training before the joint training.
    epochs : int, default 100
        Epochs of joint training.
    batch_size : int, default 128
        Rows of the mixed set per minibatch (both modalities together).
    learning_rate : float, default 1e-4
        Adam step size of the autoencoders and generators (betas (0.5, 0.9)).
    critic_learning_rate : float, default 1e-4
        Adam step size of the critics (betas (0.5, 0.9)).
    encoder_gradients : bool, default False
        Let the cycle and adversarial terms train the encoders too, as the authors'
        code does (its generator optimiser holds the autoencoders' parameters).  By
        default the codes enter those terms as data, following the parameter lists of
        the paper's eqs. 2-3, and the encoders learn from the reconstruction only.
    weight_decay : float, default 0.0
        Adam's L2 penalty on the autoencoders and generators.
    n_init : int, default 20
        k-means restarts.
    standardize : bool, default True
        Standardise each view with the mean and std of its observed training rows.
    device : {"cpu", "cuda", "auto"}, default "cpu"
    random_state : int or None, default 0
        Seeds the initialisation, minibatch order, interpolation weights and k-means.
    progress : bool or None, default None
        tqdm bar on stderr; None: only when stderr is a terminal.

    Attributes
    ----------
    view_names_ : tuple of str
    n_features_in_ : dict[str, int]
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
        ``rec``, and in the joint phase ``cyc``, ``adv`` (generator side) and
        ``wdist`` (the critics' estimate of the two Wasserstein distances, summed).

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

    def __init__(
        self,
        n_clusters: int = 10,
        latent: int = 128,
        hidden: Sequence[int] = (1024, 256),
        generator_hidden: Sequence[int] = (256,),
        critic_hidden: Sequence[int] = (32,),
        lambda_cyc: float = 1.0,
        lambda_rec: float = 1.0,
        gp_weight: float = 10.0,
        n_critic: int = 5,
        unify: str | None = None,
        pretrain_epochs: int = 100,
        epochs: int = 100,
        batch_size: int = 128,
        learning_rate: float = 1e-4,
        critic_learning_rate: float = 1e-4,
        encoder_gradients: bool = False,
        weight_decay: float = 0.0,
        n_init: int = 20,
        standardize: bool = True,
        device: str = "cpu",
        random_state: int | None = 0,
        progress: bool | None = None,
    ) -> None:
        self.n_clusters = n_clusters
        self.latent = latent
        self.hidden = hidden
        self.generator_hidden = generator_hidden
        self.critic_hidden = critic_hidden
        self.lambda_cyc = lambda_cyc
        self.lambda_rec = lambda_rec
        self.gp_weight = gp_weight
        self.n_critic = n_critic
        self.unify = unify
        self.pretrain_epochs = pretrain_epochs
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.critic_learning_rate = critic_learning_rate
        self.encoder_gradients = encoder_gradients
        self.weight_decay = weight_decay
        self.n_init = n_init
        self.standardize = standardize
        self.device = device
        self.random_state = random_state
        self.progress = progress

    # ------------------------------------------------------------------ checks
    def _check_params(self) -> None:
        check_int(self.n_clusters, "n_clusters")
        check_int(self.latent, "latent")
        check_hidden(self.hidden)
        check_hidden(self.generator_hidden, "generator_hidden")
        check_hidden(self.critic_hidden, "critic_hidden")
        check_float(self.lambda_cyc, "lambda_cyc")
        check_float(self.lambda_rec, "lambda_rec")
        check_float(self.gp_weight, "gp_weight")
        check_int(self.n_critic, "n_critic")
        check_int(self.pretrain_epochs, "pretrain_epochs", lo=0)
        check_int(self.epochs, "epochs", lo=0)
        check_int(self.batch_size, "batch_size", lo=2)
        check_float(self.learning_rate, "learning_rate", strict=True)
        check_float(self.critic_learning_rate, "critic_learning_rate", strict=True)
        check_float(self.weight_decay, "weight_decay")
        if not isinstance(self.encoder_gradients, bool):
            raise ConfigError(
                f"encoder_gradients must be True or False; got {self.encoder_gradients!r}."
            )
        check_int(self.n_init, "n_init")
        if not isinstance(self.standardize, bool):
            raise ConfigError(f"standardize must be True or False; got {self.standardize!r}.")
        if self.progress is not None and not isinstance(self.progress, bool):
            raise ConfigError(f"progress must be None, True or False; got {self.progress!r}.")
        if self.unify is not None and not isinstance(self.unify, str):
            raise ConfigError(f"unify must be None or a view name; got {self.unify!r}.")

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
    def _fit_preprocess(self, V: Mapping[str, np.ndarray]) -> None:
        self.preprocess_ = {}
        for k, X in V.items():
            rows = X[np.isfinite(X).all(axis=1)]
            if self.standardize:
                sd = rows.std(axis=0)
                sd[sd < 1e-8 * max(1.0, float(sd.max(initial=0.0)))] = 1.0
                self.preprocess_[k] = {"mean": rows.mean(axis=0), "scale": sd}
            else:
                self.preprocess_[k] = {"mean": None, "scale": None}

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
        return {
            "names": list(self.view_names_),
            "n_in": {k: int(v) for k, v in n_in.items()},
            "latent": int(self.latent),
            "hidden": list(check_hidden(self.hidden)),
            "generator_hidden": list(check_hidden(self.generator_hidden, "generator_hidden")),
            "critic_hidden": list(check_hidden(self.critic_hidden, "critic_hidden")),
            "unify": self.unify_,
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
    def fit(
        self,
        views: Views,
        y: ArrayLike | None = None,
        views_val: Views | None = None,
        y_val: ArrayLike | None = None,
    ) -> DM2C:
        """Train on a mixed set and cluster it.

        Parameters
        ----------
        views : dict[str, array-like of shape (n_samples, n_features_v)]
            Exactly two views; each row is observed (finite) in exactly one of them and
            NaN in the other (see :func:`mix_views`).
        y : ignored
            Unsupervised; validated and unused (pass labels to the metrics instead).
        views_val, y_val : ignored
            Accepted for the common interface; must be None.

        Returns
        -------
        self
        """
        if views_val is not None or y_val is not None:
            raise ConfigError("DM2C does not use validation data; pass views_val=None.")
        self._check_params()
        V, _, _, _ = self._validate_fit(views, y, allow_nan_rows=True, dtype=np.float64)
        names = list(V)
        for k in names:
            if not k or "." in k:
                raise DataError(f"view names must be non-empty strings without '.'; got {k!r}.")
        if self.unify is not None and self.unify not in names:
            raise ConfigError(f"unify must be one of the views {names}; got {self.unify!r}.")
        mod = self._check_mixed(V)
        counts = np.bincount(mod, minlength=2)
        if counts.min() < 2:
            raise DataError(
                "views: each view needs at least 2 observed samples; got "
                f"{dict(zip(names, counts.tolist()))}."
            )
        n = len(mod)
        k_clusters = check_int(self.n_clusters, "n_clusters")
        if k_clusters > n:
            raise ConfigError(f"n_clusters={k_clusters} exceeds the number of samples ({n}).")
        seed = resolve_seed(self.random_state)
        self._device = resolve_device(self.device)
        self.unify_ = self.unify if self.unify is not None else names[0]
        self._fit_preprocess(V)
        data = self._observed(V, mod)
        spec = self._make_spec({k: V[k].shape[1] for k in names})
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            module = self._build(spec).to(self._device)
            gen = torch.Generator().manual_seed(seed)
            history = self._train(module, data, mod, gen)
            module.eval()
            with torch.no_grad():
                Z = self._unified(module, data, n)
        from sklearn.cluster import KMeans

        km = KMeans(n_clusters=k_clusters, n_init=int(self.n_init), random_state=seed).fit(Z)
        self.spec_ = spec
        self.history_ = history
        self.best_epoch_ = len(history)
        self.monitor_ = "loss"
        self.labels_ = km.labels_.astype(np.int64)
        self.cluster_centers_ = km.cluster_centers_.astype(np.float64)
        self.module_ = module
        return self

    def _unified(
        self, module: nn.Module, data: Mapping[str, tuple[np.ndarray, torch.Tensor]], n: int
    ) -> np.ndarray:
        emb = self._embed(module, {k: x.to(self._device) for k, (_, x) in data.items()})
        Z = np.empty((n, module.critics[self.unify_][0].in_features))
        for k, (rows, _) in data.items():
            Z[rows] = emb[k].double().cpu().numpy()
        return Z

    def _train(
        self,
        module: DM2CNet,
        data: Mapping[str, tuple[np.ndarray, torch.Tensor]],
        mod: np.ndarray,
        gen: torch.Generator,
    ) -> list[dict[str, float]]:
        from tqdm.auto import tqdm

        a, b = self.view_names_
        dev = self._device
        X = {k: x.to(dev) for k, (_, x) in data.items()}
        # position of each mixed-set row inside its own view's tensor
        pos = np.empty(len(mod), dtype=np.int64)
        for k in (a, b):
            pos[data[k][0]] = np.arange(len(data[k][0]))
        mod_t, pos_t = torch.as_tensor(mod), torch.as_tensor(pos)
        n = len(mod)
        betas = (0.5, 0.9)
        ae_params = [*module.encoders.parameters(), *module.decoders.parameters()]
        g_params = [*ae_params, *module.generators.parameters()]
        opt_ae = torch.optim.Adam(
            ae_params, lr=self.learning_rate, betas=betas, weight_decay=self.weight_decay
        )
        opt_g = torch.optim.Adam(
            g_params, lr=self.learning_rate, betas=betas, weight_decay=self.weight_decay
        )
        opt_d = torch.optim.Adam(
            module.critics.parameters(), lr=self.critic_learning_rate, betas=betas
        )
        G_ab, G_ba = module.generators[f"{a}_to_{b}"], module.generators[f"{b}_to_{a}"]
        D_a, D_b = module.critics[a], module.critics[b]
        lam_cyc, lam_rec, gp_w = float(self.lambda_cyc), float(self.lambda_rec), self.gp_weight
        # data-parallel under a process group: every rank draws the same global batches
        # (same seed), encodes/decodes its contiguous share of each, and gathers the codes;
        # critics and generators see the whole batch on every rank; gradients are averaged
        ddp = bd.is_active()
        world, rank = (bd.world_size(), bd.rank()) if ddp else (1, 0)
        if ddp:
            bd.broadcast_parameters(module)
        self._ddp_rows_ = 0  # rows this process encoded (all of them without DDP)

        def split(idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, Any]:
            """This process's rows of each view, and every rank's row counts (or None)."""
            m = mod_t[idx]
            if not ddp:
                self._ddp_rows_ += len(idx)
                return X[a][pos_t[idx[m == 0]].to(dev)], X[b][pos_t[idx[m == 1]].to(dev)], None
            edges = np.cumsum([0, *bd.shard_sizes(len(idx), world)])
            na = tuple(int((m[edges[r] : edges[r + 1]] == 0).sum()) for r in range(world))
            nb = tuple(int(edges[r + 1] - edges[r]) - na[r] for r in range(world))
            own, mo = idx[edges[rank] : edges[rank + 1]], m[edges[rank] : edges[rank + 1]]
            self._ddp_rows_ += len(own)
            xa, xb = X[a][pos_t[own[mo == 0]].to(dev)], X[b][pos_t[own[mo == 1]].to(dev)]
            return xa, xb, (na, nb)

        def gathered(za: torch.Tensor, zb: torch.Tensor, sizes: Any) -> tuple[torch.Tensor, ...]:
            if sizes is None:
                return za, zb
            return bd.gather_sized(za, sizes[0]), bd.gather_sized(zb, sizes[1])

        def counts(xa: torch.Tensor, xb: torch.Tensor, sizes: Any) -> tuple[int, int]:
            return (len(xa), len(xb)) if sizes is None else (sum(sizes[0]), sum(sizes[1]))

        def rec_loss(xa: torch.Tensor, xb: torch.Tensor, sizes: Any) -> tuple[torch.Tensor, ...]:
            za, zb = module.encoders[a](xa), module.encoders[b](xb)
            rec = torch.zeros((), device=dev)
            for i, (x, z, k, n_rows) in enumerate(
                zip((xa, xb), (za, zb), (a, b), counts(xa, xb, sizes))
            ):
                if not n_rows:
                    continue
                err = module.decoders[k](z) - x
                if sizes is None:
                    rec = rec + err.pow(2).mean()
                else:  # the mean over the global batch's rows of this view
                    per_row = bd.gather_sized(err.pow(2).sum(1), sizes[i])
                    rec = rec + per_row.sum() / (n_rows * x.shape[1])
            return rec, za, zb

        def step(opt: torch.optim.Optimizer, params: list, loss: torch.Tensor) -> None:
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if ddp:
                bd.average_gradients(params)
            opt.step()

        critic_params = list(module.critics.parameters())

        history: list[dict[str, float]] = []
        total = int(self.pretrain_epochs) + int(self.epochs)
        bar = tqdm(
            range(total),
            desc="DM2C",
            disable=not progress_enabled(self.progress) or bd.rank() != 0,
            leave=False,
        )
        module.train()
        for epoch in bar:
            joint = epoch >= int(self.pretrain_epochs)
            sums: dict[str, float] = {}
            batches = minibatches(n, int(self.batch_size), gen)
            for idx in batches:
                xa, xb, sizes = split(idx)
                if not joint:
                    rec, _, _ = rec_loss(xa, xb, sizes)
                    step(opt_ae, ae_params, rec)
                    sums["rec"] = sums.get("rec", 0.0) + float(rec.detach())
                    continue
                if 0 in counts(xa, xb, sizes):
                    continue
                # ---- critics: maximise E D(real) - E D(fake) with the gradient penalty
                with torch.no_grad():
                    za, zb = gathered(module.encoders[a](xa), module.encoders[b](xb), sizes)
                    fa, fb = G_ba(zb), G_ab(za)
                for _ in range(int(self.n_critic)):
                    w = (D_a(za).mean() - D_a(fa).mean()) + (D_b(zb).mean() - D_b(fb).mean())
                    gp = gradient_penalty(D_a, za, fa, gen) + gradient_penalty(D_b, zb, fb, gen)
                    step(opt_d, critic_params, -w + gp_w * gp)
                # ---- autoencoders + generators
                rec, za, zb = rec_loss(xa, xb, sizes)
                za, zb = gathered(za, zb, sizes)
                # L_cyc and L_adv are functions of the generators only (paper eq. 2-3):
                # the codes enter them as data, the autoencoders learn from L_rec
                if not self.encoder_gradients:
                    za, zb = za.detach(), zb.detach()
                fa, fb = G_ba(zb), G_ab(za)
                cyc = (G_ba(fb) - za).abs().mean() + (G_ab(fa) - zb).abs().mean()
                adv = -D_a(fa).mean() - D_b(fb).mean()
                g_loss = adv + lam_cyc * cyc + lam_rec * rec
                if not torch.isfinite(g_loss):
                    raise FloatingPointError(
                        f"the DM2C loss became {g_loss.item()} at epoch {epoch + 1}; lower the "
                        "learning rates or standardise the inputs."
                    )
                step(opt_g, g_params, g_loss)
                for key, val in (("rec", rec), ("cyc", cyc), ("adv", adv), ("wdist", w)):
                    sums[key] = sums.get(key, 0.0) + float(val.detach())
            record = {"epoch": float(epoch + 1), "phase": float(joint)}
            record.update({k: v / max(1, len(batches)) for k, v in sums.items()})
            history.append(record)
            bar.set_postfix({k: f"{v:.3g}" for k, v in record.items() if k not in ("epoch",)})
        module.eval()
        return history

    # ------------------------------------------------------------------ inference
    def _mixed_input(self, views: Views) -> tuple[dict[str, np.ndarray], np.ndarray]:
        V = self._validate_transform(views, allow_nan_rows=True, dtype=np.float64)
        n = next(iter(V.values())).shape[0]
        full = {
            k: V[k] if k in V else np.full((n, self.n_features_in_[k]), np.nan)
            for k in self.view_names_
        }
        return V, self._check_mixed(full)

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
        V, mod = self._mixed_input(views)
        n = len(mod)
        module = self.module_
        module.eval()
        with torch.no_grad():
            return self._unified(module, self._observed(V, mod), n)

    def transform(self, views: Views) -> dict[str, np.ndarray]:
        """Unified codes per view (rows a view does not observe are NaN).

        Parameters
        ----------
        views : dict[str, array-like of shape (n_samples, n_features_v)]

        Returns
        -------
        dict[str, ndarray of shape (n_samples, latent)]
        """
        V, mod = self._mixed_input(views)
        Z = self.embed(views)
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
