r"""Scalable deep multimodal learning (Hu, Zhen, Peng & Liu, SIGIR 2019).

SDML fixes the common space *before* training, so every modality's network can be
trained on its own -- in parallel, and a new modality later without touching the
others.  A random matrix ``P`` of shape (code, c) with orthonormal columns (``P'P =
I``) ties the common space to the label space: class ``j`` owns the direction
``P[:, j]``.  Modality ``i`` has a deep supervised autoencoder (DSAE) -- an encoder
``f_i`` into the ``code``-dimensional common space and a decoder ``g_i`` back::

    h  = f_i(x),   x̂ = g_i(h)
    J_i = 1/n sum_j  λ ||x̂_j - x_j||²  +  (1 - λ) ||P' h_j - y_j||²      (paper eq. 1)

with ``y_j`` the one-hot label (or a 0/1 multi-label row).  ``P`` is not trained, so
``J_1, ..., J_m`` share no parameter and are minimised separately (eq. 2): each
modality is one independent job here (:mod:`joblib`), and :meth:`SDML.add_view`
trains the network of a new modality while the others -- and their embeddings --
stay exactly as they were.

Architecture (section 3.3): seven fully connected layers, ReLU after every layer
but the middle (code) layer, widths ``d -> 1024 -> 1024 -> 512 -> 1024 -> 1024 ->
d``; here ``d -> *hidden -> code -> *reversed(hidden) -> d`` with the paper's
widths as defaults (``hidden=(1024, 1024)``, ``code=512``) and a linear output
layer (the inputs are standardised, so they can be negative).  Adam, batches of 100,
200 epochs.  Retrieval ranks by cosine similarity of the codes ``h``; the decoder is
only used in training.

Unit-norm codes (``normalize=True``, the default): the authors' released code
(github.com/penghu-cs/SDML, ``Dense_Net``) divides the encoder output by its norm,
``h = f_i(x) / ||f_i(x)||``, before the projection and the decoder -- a step the
paper does not state.  It matters: only ``P'h`` is supervised, and without the
normalisation the ``code - c`` directions of ``h`` outside the span of ``P`` are
left to the reconstruction term, which fills them with view-specific detail that
then dominates cosine similarity across views (see docs/sdml.md for the measured
difference).  With ``||h|| = 1``, ``||P'h - y||² -> 0`` implies ``h -> P y``.

Reproducibility: each view's network is seeded from ``random_state`` *and the view
name* (not from its position), so a view trained inside :meth:`SDML.fit`, alone, in
a worker process or later by :meth:`SDML.add_view` starts from the same weights and
sees the same minibatch order.
"""

from __future__ import annotations

import logging
import numbers
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import KW_ONLY
from typing import Any, ClassVar

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch import nn

from boltz.constraints import Check, Interval, Options
from boltz.errors import CheckpointError, ConfigError, DataError

from ..base import ViewArrays, validate_labels, validate_views
from ._layers import mlp
from ._torch_model import TorchMultiViewModel
from ._training import FitContext, train_loop
from ._validation import HIDDEN_OR_DICT, check_hidden, resolve_seed

__all__ = ["SDML", "SDMLNet", "column_orthogonal", "sdml_loss"]

logger = logging.getLogger(__name__)


def column_orthogonal(n_rows: int, n_cols: int, random_state: int = 0) -> np.ndarray:
    """A random matrix with orthonormal columns (the fixed ``P`` of SDML).

    Parameters
    ----------
    n_rows, n_cols : int
        Shape; ``n_cols <= n_rows``.
    random_state : int, default 0
        Seed of :func:`numpy.random.default_rng`.

    Returns
    -------
    ndarray of float64, shape (n_rows, n_cols)
        ``Q`` of the QR factorisation of a standard Gaussian matrix, column signs
        fixed so that ``diag(R) > 0`` (this makes ``Q`` Haar-distributed);
        ``Q.T @ Q == I`` up to rounding.

    Examples
    --------
    >>> P = column_orthogonal(6, 3, random_state=1)
    >>> bool(np.allclose(P.T @ P, np.eye(3)))
    True
    """
    if n_cols > n_rows:
        raise ConfigError(
            f"a column-orthogonal matrix needs n_cols <= n_rows; got {n_rows} x {n_cols}."
        )
    G = np.random.default_rng(random_state).standard_normal((n_rows, n_cols))
    Q, R = np.linalg.qr(G)
    return Q * np.where(np.diag(R) < 0, -1.0, 1.0)


def sdml_loss(
    x: torch.Tensor,
    x_hat: torch.Tensor,
    h: torch.Tensor,
    y: torch.Tensor,
    P: torch.Tensor,
    lam: float,
    recon: str = "sum",
) -> torch.Tensor:
    r"""The DSAE objective of one modality (paper eq. 1), averaged over the batch.

    Parameters
    ----------
    x, x_hat : Tensor of shape (n, d)
        Inputs and their reconstructions.
    h : Tensor of shape (n, code)
        Codes in the common space.
    y : Tensor of shape (n, c)
        One-hot (or multi-label 0/1) targets.
    P : Tensor of shape (code, c)
        The fixed column-orthogonal projection.
    lam : float
        Weight λ of the reconstruction term; ``1 - λ`` weighs the label term.
    recon : {"sum", "mean"}, default "sum"
        The reconstruction error of a sample: ``||x̂ - x||²`` (the paper) or that
        divided by ``d`` (the mean squared error per feature).

    Returns
    -------
    Tensor, scalar
        ``mean_j [λ r_j + (1 - λ) ||P' h_j - y_j||²]`` with ``r_j`` the reconstruction
        error of sample ``j``.
    """
    rec = (x_hat - x).pow(2).sum(1)
    if recon == "mean":
        rec = rec / x.shape[1]
    sup = (h @ P - y).pow(2).sum(1)
    return (lam * rec + (1.0 - lam) * sup).mean()


class SDMLNet(nn.Module):
    """One modality's deep supervised autoencoder.

    Parameters
    ----------
    n_in : int
        Input width ``d``.
    hidden : sequence of int
        Encoder hidden widths (the decoder mirrors them).
    code : int
        Width of the common space.
    activation : str
        After every layer but the code layer and the output layer.
    normalize : bool, default True
        Scale every code to unit Euclidean norm (the official implementation's
        encoder does; see :class:`SDML`).

    Attributes
    ----------
    encoder : nn.Sequential
        ``d -> *hidden -> code`` (linear code layer).
    decoder : nn.Sequential
        ``code -> *reversed(hidden) -> d`` (linear output).
    """

    def __init__(
        self,
        n_in: int,
        hidden: Sequence[int],
        code: int,
        activation: str,
        normalize: bool = True,
    ) -> None:
        super().__init__()
        self.encoder = mlp([n_in, *hidden, code], activation, last="linear")
        self.decoder = mlp([code, *reversed(hidden), n_in], activation, last="linear")
        self.normalize = bool(normalize)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Code ``h`` of shape (n, code): the encoder output, unit-norm rows with
        ``normalize``."""
        h = self.encoder(x)
        if self.normalize:
            h = h / h.norm(dim=1, keepdim=True).clamp_min(1e-12)
        return h

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Code ``h`` (n, code) and reconstruction ``x̂`` (n, d)."""
        h = self.encode(x)
        return h, self.decoder(h)


def _net(spec: Mapping[str, Any]) -> SDMLNet:
    """The network of one view's spec (specs written before ``normalize`` existed
    describe unnormalised codes)."""
    return SDMLNet(
        spec["n_in"], spec["hidden"], spec["code"], spec["activation"], spec.get("normalize", False)
    )


def init_linear_(module: nn.Module, generator: torch.Generator) -> nn.Module:
    """Re-draw every ``nn.Linear`` of ``module`` from ``generator``, in place.

    The same distribution as PyTorch's default initialisation (weights and biases
    uniform in ``±1/sqrt(fan_in)``), but from a local generator instead of the global
    RNG, so networks built at the same time in several threads stay reproducible.
    """
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.Linear):
                bound = 1.0 / float(np.sqrt(m.in_features))
                m.weight.uniform_(-bound, bound, generator=generator)
                if m.bias is not None:
                    m.bias.uniform_(-bound, bound, generator=generator)
    return module


def _nonzero_int(value: Any) -> bool:
    """An integer (not a bool) other than 0 (joblib's ``n_jobs``)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value != 0


def _view_seed(seed: int, name: str) -> int:
    """A seed for one view that depends on ``seed`` and the view name only."""
    ss = np.random.SeedSequence([seed, zlib.crc32(name.encode("utf-8"))])
    return int(ss.generate_state(1, np.uint32)[0] & 0x7FFFFFFF)


def _train_view(
    name: str,
    X: np.ndarray,
    Y: np.ndarray,
    X_val: np.ndarray | None,
    Y_val: np.ndarray | None,
    spec: Mapping[str, Any],
    P: np.ndarray,
    cfg: Mapping[str, Any],
    seed: int,
) -> tuple[dict[str, torch.Tensor], list[dict[str, float]], int]:
    """Train one modality's network (a joblib job: plain arrays in, a state_dict out)."""
    dev = torch.device(cfg["device"])

    def t(a: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(np.ascontiguousarray(a, dtype=np.float32), device=dev)

    Pt = t(P)
    lam = cfg["lam"]
    gen = torch.Generator().manual_seed(seed)
    net = _net(spec)
    init_linear_(net, gen)
    net.to(dev)

    def loss_fn(batch: dict[str, torch.Tensor], _g: torch.Generator) -> torch.Tensor:
        h, x_hat = net(batch["x"])
        return sdml_loss(batch["x"], x_hat, h, batch["y"], Pt, lam, cfg["recon"])

    validate = None
    if X_val is not None:
        val = {"x": t(X_val), "y": t(Y_val)}

        def validate() -> float:
            return float(loss_fn(val, gen))

    history, best = train_loop(
        net,
        loss_fn,
        {"x": t(X), "y": t(Y)},
        distributed=cfg.get("distributed"),
        epochs=cfg["epochs"],
        batch_size=cfg["batch_size"],
        learning_rate=cfg["learning_rate"],
        weight_decay=cfg["weight_decay"],
        generator=gen,
        validate=validate,
        patience=cfg["patience"],
        progress=cfg["progress"],
        desc=f"SDML[{name}]",
    )
    state = {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}
    return state, history, best


class SDML(TorchMultiViewModel):
    r"""Scalable deep multimodal learning: one independent network per modality.

    See the module docstring for the objective.  Supervised: ``fit`` needs labels.

    Parameters
    ----------
    lam : float in [0, 1], default 0.5
        Weight λ of the reconstruction term (``1 - λ`` on the label term); the paper
        picks 0.5 on the Wikipedia validation split.
    recon : {"mean", "sum"}, default "mean"
        Reconstruction error of a sample: the mean squared error per feature, or the
        paper's sum ``||x̂ - x||²``.  With standardised inputs the sum grows with the
        number of features and drowns the label term (``||P'h - y||² <= ~4``); on
        Wikipedia (SIFT-128 / BoW-2000) "sum" gave an average MAP of 0.226 against 0.312
        with "mean" (docs/sdml.md).
    hidden : sequence of int or dict[str, sequence of int], default (1024, 1024)
        Encoder hidden widths (the decoder mirrors them); one tuple for every view or
        a dict per view name (a view added later needs its entry).
    code : int, default 512
        Dimension of the common space (at least the number of classes).
    activation : {"relu", "sigmoid", "tanh"}, default "relu"
    normalize : bool, default True
        Scale every code ``h`` to unit norm before the label projection, the decoder
        and retrieval, as the authors' code does (``out3 / ||out3||`` in their
        ``Dense_Net``; the paper's text does not mention it).  With unit codes,
        ``||P'h - y||² = 0`` forces ``h = P y``: the part of ``h`` outside the span of
        ``P``, which the label term alone leaves free and the reconstruction fills with
        view-specific detail, must vanish, so cosine similarity across views compares
        class directions.  On UCI multiple features ``normalize=False`` gave a mean MAP
        of 0.232 against 0.869 with it (docs/sdml.md).
    epochs : int, default 200
    batch_size : int, default 100
    learning_rate : float, default 1e-4
        Adam step size.
    weight_decay : float, default 0.0
        ``weight_decay / 2 * sum ||W||_F^2`` over weight matrices (not biases).
    patience : int, default 20
        Early stopping patience (epochs) on each view's validation loss, used when
        ``views_val`` is given.
    standardize : bool, default True
        Standardise each view with its training mean and std.
    n_jobs : int or None, default None
        Views trained at once by :class:`joblib.Parallel` (None: one, unless a
        :func:`joblib.parallel_config` context says otherwise; -1: all cores).
    device : {"cpu", "gpu", "auto"}, default "cpu"
        ``"cuda"`` / ``"cuda:N"`` are accepted too (see :mod:`boltz.devices`).
    random_state : int or None, default 0
        Seeds ``P`` and, together with each view's name, that view's initialisation
        and minibatch order.
    progress : "auto", bool or None, default None
        tqdm bar per view on stderr; "auto" / None: only when stderr is a terminal.

    Attributes
    ----------
    view_names_ : tuple of str
        In the order the views were fitted / added.
    n_features_in_ : dict[str, int]
    P_ : ndarray of shape (code, n_labels)
        The fixed column-orthogonal projection (``P_.T @ P_ = I``).
    classes_ : ndarray of shape (n_labels,) or None
        Class ids of 1-D labels (column ``j`` of ``P_`` is ``classes_[j]``); None for
        multi-label indicator targets.
    module_ : nn.ModuleDict of SDMLNet
        One trained network per view name (eval mode).
    preprocess_ : dict[str, dict]
        Per view ``mean`` and ``scale`` (d_v,) of the standardisation (None if not).
    history_ : dict[str, list of dict]
        Per view and epoch ``loss`` (and ``val`` with ``views_val``).
    best_epoch_ : dict[str, int]
        Per view, the epoch whose weights are kept.
    seed_ : int
        The seed ``fit`` drew from ``random_state`` (:meth:`add_view` seeds new views
        from it; a loaded model has none and uses ``random_state``).

    Examples
    --------
    >>> from bridge.synthetic import make_paired_views
    >>> from bridge.models.sdml import SDML
    >>> views, y = make_paired_views(200, dims=(12, 8, 6), n_classes=3, random_state=0)
    >>> two = {k: views[k] for k in ("view0", "view1")}
    >>> m = SDML(hidden=(16,), code=8, epochs=2).fit(two, y)
    >>> m = m.add_view("view2", views["view2"], y)
    >>> sorted(m.transform(views))
    ['view0', 'view1', 'view2']
    """

    min_views: ClassVar[int] = 1
    max_views: ClassVar[int | None] = None
    _fitted_attrs: ClassVar[tuple[str, ...]] = ("module_", "P_")
    _supports_map: ClassVar[bool] = False

    lam: float = 0.5
    recon: str = "mean"
    hidden: Sequence[int] | Mapping[str, Sequence[int]] = (1024, 1024)
    code: int = 512
    activation: str = "relu"
    normalize: bool = True
    _: KW_ONLY
    epochs: int = 200
    batch_size: int = 100
    learning_rate: float = 1e-4
    weight_decay: float = 0.0
    patience: int = 20
    n_jobs: int | None = None

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "lam": [Interval(float, 0, 1)],
        "recon": [Options("sum", "mean")],
        "code": [Interval(int, 1, None)],  # and >= the number of labels, checked at fit
        "activation": [Options("relu", "sigmoid", "tanh")],  # not "linear"
        "normalize": [bool],
        "n_jobs": [None, Check(_nonzero_int, "a non-zero integer")],
        "hidden": [HIDDEN_OR_DICT],  # a dict's entries: where each view is known
    }

    # ------------------------------------------------------------------ checks
    def _hidden_of(self, name: str) -> tuple[int, ...]:
        if isinstance(self.hidden, Mapping):
            if name not in self.hidden:
                raise ConfigError(
                    f"hidden is a dict without an entry for view {name!r}; add one, e.g. "
                    f"hidden[{name!r}] = (1024, 1024)."
                )
            return check_hidden(self.hidden[name], f"hidden[{name!r}]")
        return check_hidden(self.hidden)

    @staticmethod
    def _check_name(name: Any) -> None:
        if not isinstance(name, str) or not name or "." in name:
            raise DataError(
                f"view names must be non-empty strings without '.'; got {name!r} "
                "(they name the networks' parameters)."
            )

    # ------------------------------------------------------------------ labels
    def _targets(self, y: Any, n: int, name: str = "y", *, fit: bool = False) -> np.ndarray:
        """Labels as a float (n, n_labels) target matrix; at ``fit`` learn the classes."""
        if y is None:
            raise DataError(
                f"SDML is supervised: {name} is required (class ids of shape (n,) or a 0/1 "
                "indicator matrix of shape (n, n_labels))."
            )
        Y = validate_labels(y, n, name=name)
        if Y.ndim == 2 and Y.shape[1] == 1:
            Y = Y[:, 0]
        if Y.ndim == 2:
            if not np.isin(Y, (0, 1)).all():
                raise DataError(f"{name}: a 2-D label matrix must hold only 0 and 1.")
            if fit:
                self._classes = None
                self._n_labels = Y.shape[1]
            elif self._classes is not None or Y.shape[1] != self._n_labels:
                raise DataError(
                    f"{name} has {Y.shape[1]} label columns, but the model was fitted on "
                    + (
                        "1-D class ids."
                        if self._classes is not None
                        else f"{self._n_labels} label columns."
                    )
                )
            return Y.astype(np.float64)
        if fit:
            self._classes = np.unique(Y)
            self._n_labels = len(self._classes)
        elif self._classes is None:
            raise DataError(
                f"{name} holds 1-D class ids, but the model was fitted on a "
                f"{self._n_labels}-column label matrix."
            )
        idx = np.searchsorted(self._classes, Y)
        idx = np.clip(idx, 0, len(self._classes) - 1)
        unknown = self._classes[idx] != Y
        if unknown.any():
            raise DataError(
                f"{name} has classes not seen at fit (e.g. {Y[unknown][0]!r}); the common "
                f"space is fixed to the classes {self._classes.tolist()}."
            )
        return np.eye(self._n_labels)[idx]

    # ------------------------------------------------------------------ hooks
    def _make_spec(self, n_in: Mapping[str, int]) -> dict[str, Any]:
        return {
            "views": {
                k: {
                    "n_in": int(d),
                    "hidden": list(self._hidden_of(k)),
                    "code": int(self.code),
                    "activation": self.activation,
                    "normalize": bool(self.normalize),
                }
                for k, d in n_in.items()
            },
            "classes": None if self._classes is None else self._classes.tolist(),
            "n_labels": int(self._n_labels),
        }

    def _build(self, spec: Mapping[str, Any]) -> nn.ModuleDict:
        self._classes = None if spec["classes"] is None else np.asarray(spec["classes"])
        self._n_labels = int(spec["n_labels"])
        return nn.ModuleDict({k: _net(v) for k, v in spec["views"].items()})

    def _loss(
        self, module: nn.Module, batch: dict[str, torch.Tensor], generator: torch.Generator
    ) -> torch.Tensor:  # pragma: no cover - SDML trains each view in _train_view
        raise NotImplementedError

    def _embed(self, module: nn.Module, X: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {k: module[k].encode(x) for k, x in X.items()}

    def _extra_arrays(self) -> dict[str, np.ndarray]:
        return {"P": self.P_}

    def _set_extra_arrays(self, arrays: Mapping[str, np.ndarray]) -> None:
        self.P_ = np.asarray(arrays["P"], dtype=np.float64)

    @property
    def classes_(self) -> np.ndarray | None:
        """Class ids of 1-D labels (column order of ``P_``); None for multi-label targets."""
        self._check_fitted()
        return self._classes

    # ------------------------------------------------------------------ training
    def _fit_data(self, V: ViewArrays, Y: Any, V_val: ViewArrays | None, ctx: FitContext) -> None:
        """The preprocessed arrays of the views, their label targets and ``P_``."""
        for k in V:
            self._check_name(k)
        T = self._targets(Y, next(iter(V.values())).shape[0], fit=True)
        T_val = None
        if V_val is not None:
            if ctx.y_val is None:
                raise DataError("views_val needs y_val (SDML's validation loss uses labels).")
            T_val = self._targets(ctx.y_val, next(iter(V_val.values())).shape[0], "y_val")
        code = int(self.code)
        if code < self._n_labels:
            raise ConfigError(
                f"code={code} is smaller than the number of labels ({self._n_labels}): P "
                "needs one orthonormal column per label. Raise code."
            )
        self.seed_ = ctx.seed
        self.P_ = column_orthogonal(code, self._n_labels, _view_seed(ctx.seed, "P"))
        ctx.data = {k: self._apply_preprocess(k, A) for k, A in V.items()}
        if V_val is not None:
            ctx.val_data = {k: self._apply_preprocess(k, A) for k, A in V_val.items()}
        ctx.extra.update(targets=dict.fromkeys(V, T), val_targets=dict.fromkeys(V, T_val))

    def _train(
        self, module: nn.Module, ctx: FitContext
    ) -> tuple[dict[str, list[dict[str, float]]], dict[str, int]]:
        """Train every view's network on its own (:meth:`_train_views`) and load them."""
        results = self._train_views(
            ctx.data,
            ctx.extra["targets"],
            ctx.val_data,
            ctx.extra["val_targets"] if ctx.val_data is not None else None,
            ctx.spec["views"],
            ctx.seed,
            ctx.device,
            ctx.distributed,
        )
        for k, (state, _, _) in results.items():
            module[k].load_state_dict(state)
        return {k: r[1] for k, r in results.items()}, {k: r[2] for k, r in results.items()}

    def _train_views(
        self,
        X: Mapping[str, np.ndarray],
        Y: Mapping[str, np.ndarray],
        X_val: Mapping[str, np.ndarray] | None,
        Y_val: Mapping[str, np.ndarray] | None,
        specs: Mapping[str, Mapping[str, Any]],
        seed: int,
        device: torch.device,
        distributed: str | bool | None = None,
    ) -> dict[str, tuple[dict[str, torch.Tensor], list[dict[str, float]], int]]:
        """Train the networks of the views in ``X`` (preprocessed arrays) with joblib.

        Under an initialised ``torch.distributed`` process group the views are trained
        one after the other in this process, each data-parallel (SDML's loss is a mean
        of per-row terms), instead of in joblib workers.

        Returns
        -------
        dict[str, (state_dict, history, best_epoch)]
        """
        from joblib import Parallel, delayed

        cfg = {
            "lam": float(self.lam),
            "recon": self.recon,
            "device": str(device),
            "distributed": distributed,
            **self._loop_params(),
        }
        args = [
            (
                k,
                X[k],
                Y[k],
                None if X_val is None else X_val[k],
                None if Y_val is None else Y_val[k],
                specs[k],
                self.P_,
                cfg,
                _view_seed(seed, k),
            )
            for k in X
        ]
        if distributed is not None:
            out = [_train_view(*a) for a in args]
        else:
            out = Parallel(n_jobs=self.n_jobs)(delayed(_train_view)(*a) for a in args)
        return dict(zip(X, out))

    def add_view(
        self,
        name: str,
        X: ArrayLike,
        y: ArrayLike,
        X_val: ArrayLike | None = None,
        y_val: ArrayLike | None = None,
    ) -> SDML:
        """Train the network of a new modality; the fitted networks are left untouched.

        Parameters
        ----------
        name : str
            The new view's name (not one of ``view_names_``).
        X : array-like of shape (n, n_features)
            Its training samples (need not be paired with the earlier views' rows).
        y : array-like of shape (n,) or (n, n_labels)
            Their labels, drawn from the classes seen at ``fit``.
        X_val, y_val : array-like, optional
            Held-out samples of the new view for early stopping.

        Returns
        -------
        self
            With ``name`` appended to ``view_names_``.  The embeddings of the earlier
            views are bitwise identical to those before the call.
        """
        self._check_fitted()
        self._check_common()
        self._check_params()
        self._check_name(name)
        if name in self.view_names_:
            raise DataError(
                f"view {name!r} is already fitted ({list(self.view_names_)}); pick a new name."
            )
        V = validate_views({name: X}, name="X", dtype=np.float64)
        n = V[name].shape[0]
        T = self._targets(y, n)
        Xv = Tv = None
        if X_val is not None:
            Vv = validate_views(
                {name: X_val}, n_features={name: V[name].shape[1]}, name="X_val", dtype=np.float64
            )
            if y_val is None:
                raise DataError("X_val needs y_val (the validation loss uses labels).")
            Tv = {name: self._targets(y_val, Vv[name].shape[0], "y_val")}
        elif y_val is not None:
            raise DataError("y_val was given without X_val; pass both or neither.")
        # the seed of fit (a loaded model: random_state's)
        seed = getattr(self, "seed_", None)
        if seed is None:
            seed = resolve_seed(self.random_state)
        device = self._module_device()
        spec_v = self._make_spec({name: V[name].shape[1]})["views"][name]
        prep = dict(self.preprocess_)
        self._fit_preprocess(V)
        new_prep = self.preprocess_[name]
        self.preprocess_ = prep
        self.preprocess_[name] = new_prep
        Xp = {name: self._apply_preprocess(name, V[name])}
        if X_val is not None:
            Xv = {name: self._apply_preprocess(name, Vv[name])}
        distributed = self._distributed_mode()
        ((state, hist, best),) = self._train_views(
            Xp, {name: T}, Xv, Tv, {name: spec_v}, seed, device, distributed
        ).values()
        net = _net(spec_v)
        net.load_state_dict(state)
        self.module_[name] = net.to(device).eval()
        self.spec_["views"][name] = spec_v
        self.history_[name] = hist
        self.best_epoch_[name] = best
        self.n_features_in_[name] = int(V[name].shape[1])
        self.view_names_ = (*self.view_names_, name)
        return self

    @classmethod
    def load(cls, path: Any, device: str = "cpu") -> SDML:
        """Read a model written by :meth:`save` (``torch.load(weights_only=True)``)."""
        model = super().load(path, device=device)
        try:
            model.history_ = dict(model.history_)
            model.best_epoch_ = dict(model.best_epoch_)
        except (TypeError, ValueError) as e:
            raise CheckpointError(f"{path}: damaged per-view history ({e})") from e
        return model
