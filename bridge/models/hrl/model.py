"""The HRL estimator: :class:`HRL` (steps 2 and 3 on top of :class:`HRLStage1`).

See :mod:`bridge.models.hrl` for the model.  The torch stages are trained in
:mod:`~bridge.models.hrl.stages`, the checkpoint format is in
:mod:`~bridge.models.hrl.checkpoint`, the variants in :mod:`~bridge.models.hrl.variants`.

HRL is not a :class:`bridge.models._torch_model.TorchMultiViewModel`: that template
builds one network from a spec known before training, seeds it once and saves it to
one file, while HRL trains up to four networks in sequence, each seeded on its own and
copyable from another fitted model (``reuse``), keeps a number of BAE levels chosen
after training, takes CSR word counts, sits on a boltz step 1 and saves a directory.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
import torch
from numpy.typing import ArrayLike
from torch import nn

from boltz.constraints import Check, Interval, Options, validate_params
from boltz.errors import CheckpointError, ConfigError, DataError

from ...base import MultiViewModel
from .._torch_model import SHARED_CONSTRAINTS
from .._training import loop_settings
from .._validation import ACTIVATION, HIDDEN, resolve_device, resolve_seed
from .checkpoint import load_hrl, save_hrl
from .fingerprint import fingerprint
from .networks import ff_embedding, to_numpy
from .split import hold_out
from .stage1 import DEFAULT_VISIBLE, HRLStage1
from .stages import (
    StageLabels,
    fit_baes,
    fit_ff,
    fit_joint_ae,
    reuse_stage,
    stage_keys,
    stage_seed,
)
from .validation import check_fit_data, check_fitted_views, check_two_views, check_unit, per_view
from .variants import MUTUAL_FROM, VARIANTS, Variant, get_variant

__all__ = ["HRL"]

#: The HRL settings that an HRL fitting its own step 1 passes on to HRLStage1 as they are.
_STAGE1_PARAMS = ("friendly_hidden", "mutual_hidden", "joint_hidden", "meanfield_steps", "progress")

logger = logging.getLogger(__name__)

#: What HRL's hyperparameters may be (:mod:`boltz.constraints`), checked at ``fit``; the
#: step-1 settings are HRLStage1's (checked when it is fitted, unless ``stage1`` is
#: given), and whether ``mutual_from="pair"`` suits the variant is checked in code.
HRL_CONSTRAINTS: dict[str, list[Any]] = {
    "variant": [Options(*VARIANTS, what=f"one of {list(VARIANTS)}")],
    "mutual_from": [Options(*MUTUAL_FROM, what=f"one of {list(MUTUAL_FROM)}")],
    "stage1": [None, Check(lambda v: isinstance(v, HRLStage1), "a fitted HRLStage1")],
    "reuse": [None, Check(lambda v: isinstance(v, HRL), "a fitted HRL")],
    "joint_ae_hidden": [Interval(int, 1, None)],
    "ff_hidden": [HIDDEN],
    "n_bae_max": [Interval(int, 1, None)],
    "activation": [ACTIVATION],
    "dropout": [Interval(float, 0, 1, closed="left")],
    "label_weight": [Interval(float, 0, None)],
    "input_skip": [bool, Options("auto", what='a bool or "auto"')],
    **{
        k: SHARED_CONSTRAINTS[k]
        for k in ("epochs", "batch_size", "learning_rate", "weight_decay", "patience")
    },
    "center": [bool],  # a bool, not 0 / 1
    "validation_fraction": [Interval(float, 0, 1, closed="neither")],
    "progress": [None, bool],  # boltz's "auto" is not among HRL's
}


@dataclass(eq=False, repr=False)
class HRL(MultiViewModel):
    """Hybrid representation learning for cross-modal retrieval (Cao et al. 2019).

    See :mod:`bridge.models.hrl` for the model and what was chosen where the paper is
    silent, :mod:`bridge.models.hrl.variants` for the variants.

    Parameters
    ----------
    variant : {"hrl", "joint", "no_bae", "no_ff", "no_ff_bae", "no_srbm", "no_mdbn"}
        The full model or one of the ablations of the paper's Tables 8-9.
    mutual_from : {"self", "pair"}, default "self"
        Which view each view's mutual representation ``M_v`` is inferred from.
        "self": from ``v`` alone (the other view filled in by mean field; a proper
        single-view embedding).  "pair": the literal reading of the paper's eqs.
        (12)-(13), ``M_image`` from the paired text and ``M_text`` from the paired
        image -- a **diagnostic that leaks the query's partner into the query**;
        :meth:`transform` then needs both views of every row.  Not with
        ``variant="joint"`` (already trained on pairs) or ``"no_mdbn"`` (no ``M``).
    stage1 : HRLStage1, optional
        Fitted step-1 models to build on (the same training views must be passed to
        ``fit``); None fits one with the step-1 parameters below.
    visible, friendly_hidden, mutual_hidden, joint_hidden, rbm_epochs, rbm_batch_size,
    meanfield_steps
        Step-1 parameters (see :class:`HRLStage1`), used when ``stage1`` is None.
    joint_ae_hidden : int, default 1024
        Code width of each view's joint autoencoder.
    ff_hidden : sequence of int, default (1024, 1024, 1024)
        Feed-forward net widths.
    n_bae_max : int, default 3
        Most bimodal AEs stacked; the number kept is chosen on the validation pairs.
    activation : {"sigmoid", "tanh", "relu"}, default "sigmoid"
        Of the feed-forward layers.
    dropout : float in [0, 1), default 0.2
        After every feed-forward layer (training only).
    label_weight : float, default 1.0
        Weight of the BAE code's softmax cross-entropy against its reconstruction error.
    input_skip : bool or "auto", default "auto"
        The feed-forward nets also see each view's own input (``log1p`` of the counts
        for a replicated-softmax view, the values otherwise), concatenated with the
        step-1 / joint-AE representation: a skip connection around steps 1 and 2a.
        Not in the paper; it recovers the class information the step-1 codes lose and
        was the better setting on the validation pairs (``docs/hrl.md``).  "auto":
        True for the variants with feed-forward nets (the full model), False for the
        others; False is the paper's architecture.  True only for variants with
        feed-forward nets.
    epochs : int, default 30
        Most epochs of each torch stage (early stopping on validation).
    batch_size : int, default 64
    learning_rate : float, default 1e-3
        Adam step size.
    weight_decay : float, default 1e-5
        ``weight_decay / 2 * sum ||W||^2`` over weight matrices.
    patience : int, default 8
        Early-stopping patience (epochs).
    center : bool, default True
        Subtract each view's mean training embedding in ``transform``.
    validation_fraction : float in (0, 1), default 0.1
        Without ``views_val``, this stratified share of the training pairs is held out
        for early stopping and the choice of ``n``.
    reuse : HRL, optional
        A fitted HRL whose identical torch stages are copied (see :mod:`bridge.models.hrl`).
    device : {"cpu", "cuda", "auto"}, default "cpu"
        Torch device (step 1 uses the boltz ``device`` of ``stage1``; "cpu" when fitted here).
    random_state : int or None, default 0
        Seeds every stage (each from ``(random_state, stage)``).
    progress : bool or None, default None
        tqdm bars on stderr; None: only on a terminal.

    Attributes
    ----------
    view_names_ : tuple of str
    n_features_in_ : dict[str, int]
    classes_ : ndarray of shape (n_classes,)
    stage1_ : HRLStage1
    joint_ae_ : nn.ModuleDict of JointAutoencoder or None
        Per view (None for the variants without joint AE).
    ff_ : nn.ModuleDict of FeedForward or None
    baes_ : nn.ModuleList of BimodalLayer
        The ``n_bae_`` kept levels (empty without BAEs).
    n_bae_ : int
        Number of stacked BAEs chosen on the validation pairs (0 without BAEs).
    bae_val_map_ : list of float
        Validation cross-modal MAP after each trained level (``n_bae_`` = argmax + 1).
    embedding_mean_ : dict[str, ndarray]
        Mean training embedding per view (with ``center=True``).
    history_ : dict[str, list]
        Per stage (``"joint_ae"``, ``"ff"``, ``"bae.<l>"``): per-epoch ``loss``/``val``.
    stage_keys_ : dict[str, str or None]
        Identity of each trained stage (what ``reuse`` compares).
    n_components_ : int
        Embedding width.

    Examples
    --------
    >>> from bridge.synthetic import make_paired_views
    >>> from bridge.models.hrl import HRL
    >>> views, y = make_paired_views(120, dims=(10, 8), n_classes=3, random_state=0,
    ...                              names=("image", "text"))
    >>> small = dict(visible={"image": "gaussian", "text": "gaussian"}, friendly_hidden=(8, 8),
    ...              mutual_hidden=(8,), joint_hidden=8, rbm_epochs=1, joint_ae_hidden=8,
    ...              ff_hidden=(8,), n_bae_max=1, epochs=2)
    >>> Z = HRL(**small).fit(views, y).transform({"text": views["text"]})
    >>> Z["text"].shape
    (120, 4)
    """

    min_views: ClassVar[int] = 2
    max_views: ClassVar[int | None] = 2
    _fitted_attrs: ClassVar[tuple[str, ...]] = ("baes_",)
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = HRL_CONSTRAINTS

    variant: str = "hrl"
    stage1: HRLStage1 | None = None
    mutual_from: str = "self"
    visible: Mapping[str, str] | None = None
    friendly_hidden: Sequence[int] | Mapping[str, Sequence[int]] = (1024, 512, 512)
    mutual_hidden: Sequence[int] | Mapping[str, Sequence[int]] | None = None
    joint_hidden: int = 2048
    rbm_epochs: int = 5
    rbm_batch_size: int = 64
    meanfield_steps: int = 10
    joint_ae_hidden: int = 1024
    ff_hidden: Sequence[int] = (1024, 1024, 1024)
    n_bae_max: int = 3
    activation: str = "sigmoid"
    dropout: float = 0.2
    label_weight: float = 1.0
    input_skip: bool | str = "auto"
    epochs: int = 30
    batch_size: int = 64
    learning_rate: float = 1e-3
    weight_decay: float = 1e-5
    patience: int = 8
    center: bool = True
    validation_fraction: float = 0.1
    reuse: HRL | None = None
    device: str = "cpu"
    random_state: int | None = 0
    progress: bool | None = None

    # ------------------------------------------------------------------ structure
    @property
    def _variant(self) -> Variant:
        """The entry of :data:`~bridge.models.hrl.variants.VARIANTS` of ``variant``."""
        return get_variant(self.variant)

    @property
    def _input_skip(self) -> bool:
        """``input_skip`` resolved for the variant ("auto": whether it has ff nets)."""
        if self.input_skip == "auto":
            return get_variant(self.variant).ff
        return bool(self.input_skip)

    def _check_params(self) -> None:
        """The table (:data:`HRL_CONSTRAINTS`), then the rule between two settings."""
        validate_params(self)
        if self.mutual_from == "pair" and not get_variant(self.variant).single_view_mutual:
            raise ConfigError(
                f"mutual_from='pair' needs a variant that uses the mutual representation of "
                f"one view; variant {self.variant!r} does not (use one of "
                f"{[k for k, v in VARIANTS.items() if v.single_view_mutual]})."
            )
        if self.input_skip is True and not get_variant(self.variant).ff:
            raise ConfigError(
                f"input_skip=True feeds the input to the feed-forward nets; variant "
                f"{self.variant!r} has none (use one of "
                f"{[k for k, v in VARIANTS.items() if v.ff]})."
            )

    def _train_kw(self) -> dict[str, Any]:
        """The training settings shared by the torch stages (:func:`loop_settings`)."""
        return loop_settings(self)

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        views: Mapping[str, Any],
        y: ArrayLike | None = None,
        views_val: Mapping[str, Any] | None = None,
        y_val: ArrayLike | None = None,
    ) -> HRL:
        """Train the three steps on paired, labelled views.

        Parameters
        ----------
        views : dict[str, array-like or CSR], exactly two views, (n_samples, n_features_v)
            Paired training views (CSR word counts allowed for a softmax view).
        y : array-like of shape (n_samples,)
            Class labels (HRL is supervised: the feed-forward and BAE softmax layers).
        views_val : dict, optional
            Validation pairs (same views) for early stopping and the choice of ``n``.
        y_val : array-like of shape (n_val,), optional
            Their labels (required with ``views_val``).

        Returns
        -------
        self
        """
        self._forget_fit()
        self._check_params()
        check_two_views(views)
        names = list(views)
        stage1 = self.stage1
        if stage1 is not None:
            stage1._check_fitted()
            if set(stage1.view_names_) != set(names):
                raise DataError(
                    f"stage1 was fitted on views {list(stage1.view_names_)}; got {names}."
                )
            units = dict(stage1.units_)
        else:
            units = {
                k: check_unit(u, k)
                for k, u in per_view(self.visible, names, "visible", DEFAULT_VISIBLE).items()
            }
        V, Y, V_val, Y_val = check_fit_data(views, y, views_val, y_val, units)
        nfeat = {k: int(X.shape[1]) for k, X in V.items()}
        seed = resolve_seed(self.random_state)
        classes, V, y_idx, V_val, yv_idx = hold_out(
            V, Y, V_val, Y_val, float(self.validation_fraction), stage_seed(seed, "split")
        )

        if stage1 is None:
            stage1 = HRLStage1(
                visible=units,
                epochs=self.rbm_epochs,
                batch_size=self.rbm_batch_size,
                random_state=seed,
                **{k: getattr(self, k) for k in _STAGE1_PARAMS},
            ).fit(V)
        self._device = resolve_device(self.device)
        data_key = {
            "stage1": id(stage1),
            "train": [fingerprint(V[k]) for k in names],
            "val": [fingerprint(V_val[k]) for k in names],
            "y": fingerprint(y_idx),
            "y_val": fingerprint(yv_idx),
            "seed": seed,
            "train_kw": self._train_kw(),
        }
        reuse = self.reuse
        if reuse is not None and getattr(reuse, "stage1_", None) is not stage1:
            reuse = None
        keys = stage_keys(self, data_key)
        n_classes = len(classes)
        variant = self._variant
        f_tr = stage1.features(V, pair=variant.pair_in_training)
        f_va = stage1.features(V_val)
        X_tr = self._ff_inputs(f_tr, names, train=True)
        X_va = self._ff_inputs(f_va, names, train=False)
        parts = {
            k: [int(f_tr["friendly"][k].shape[1]), int(f_tr["mutual"][k].shape[1])] for k in names
        }
        history: dict[str, list] = {}
        labels = StageLabels(torch.as_tensor(y_idx, dtype=torch.long), yv_idx, n_classes)

        # step 2a: joint autoencoders
        joint_ae = None
        if variant.joint_ae:
            joint_ae, history["joint_ae"] = reuse_stage(
                self,
                "joint_ae",
                keys,
                reuse,
                lambda: fit_joint_ae(self, X_tr, X_va, parts, names, seed),
            )
            with torch.no_grad():
                X_tr = {k: joint_ae[k](X_tr[k]) for k in names}
                X_va = {k: joint_ae[k](X_va[k]) for k in names}
        # step 2b: feed-forward nets
        ff = None
        if variant.ff and self._input_skip:
            X_tr = self._with_input(X_tr, V, units)
            X_va = self._with_input(X_va, V_val, units)
        if variant.ff:
            ff, history["ff"] = reuse_stage(
                self,
                "ff",
                keys,
                reuse,
                lambda: fit_ff(self, X_tr, X_va, labels, seed),
            )
            if variant.posteriors:
                with torch.no_grad():
                    X_tr = {k: ff_embedding(ff[k], X_tr[k], True) for k in names}
            else:
                with torch.no_grad():
                    X_tr = {k: ff[k](X_tr[k]) for k in names}
                    X_va = {k: ff[k](X_va[k]) for k in names}
        # step 3: stacked bimodal AEs
        baes = nn.ModuleList()
        val_maps: list[float] = []
        if variant.bae:
            (baes, val_maps), bae_hist = reuse_stage(
                self,
                "bae",
                keys,
                reuse,
                lambda: fit_baes(self, X_tr, X_va, labels, seed),
            )
            history.update(bae_hist)
            with torch.no_grad():
                for layer in baes:
                    X_tr = {k: layer.code({k: X_tr[k]}) for k in names}
        self.view_names_ = tuple(names)
        self.n_features_in_ = nfeat
        self.classes_ = classes
        self.stage1_ = stage1
        self.units_ = units
        self.joint_ae_ = joint_ae
        self.ff_ = ff
        self.n_bae_ = len(baes)
        self.bae_val_map_ = val_maps
        self.history_ = history
        self.stage_keys_ = keys
        self.n_components_ = int(next(iter(X_tr.values())).shape[1])
        self.embedding_mean_ = {k: to_numpy(X_tr[k].mean(0)) for k in names}
        self.baes_ = baes  # last: marks the model fitted
        return self

    def _ff_inputs(self, f: Mapping[str, Any], names: Sequence[str], train: bool) -> dict:
        """Inputs of the first torch stage per view (the joint AE, or the FF net).

        Parameters
        ----------
        f : dict
            :meth:`HRLStage1.features` of the views ``names`` (with ``"pair"`` when
            training a variant with ``pair_in_training``).
        names : sequence of str
        train : bool
            Training inputs (Joint-HRL then uses the pair representation).

        Returns
        -------
        dict[str, Tensor of shape (n, width)]
            float32, on the model's device.
        """
        variant = self._variant
        out = {}
        for k in names:
            F, M = f["friendly"][k], f["mutual"][k]
            if self.mutual_from == "pair":
                # the literal eqs. 12-13: M of view k inferred from its paired other view
                (other,) = [j for j in names if j != k]
                M = f["mutual"][other]
            if variant.pair_in_training and train:
                M = f["pair"]
            if variant.inputs == "mutual":
                x = M
            elif variant.inputs == "friendly":
                x = F
            else:
                x = np.concatenate([F, M], axis=1)
            out[k] = torch.as_tensor(np.ascontiguousarray(x, dtype=np.float32), device=self._device)
        return out

    @staticmethod
    def _with_input(
        X: Mapping[str, torch.Tensor], V: Mapping[str, Any], units: Mapping[str, str]
    ) -> dict:
        """``input_skip``: each view's tensor in ``X`` with the view's own input appended.

        Parameters
        ----------
        X : dict[str, Tensor of shape (n, width)]
            The feed-forward nets' inputs.
        V : dict[str, ndarray or CSR of shape (n, n_features_v)]
            The checked views (word counts for a replicated-softmax view).
        units : dict[str, str]
            The visible unit of each view.

        Returns
        -------
        dict[str, Tensor of shape (n, width + n_features_v)]
            ``log1p`` of the counts for a softmax view, the values for the others.
        """
        out = {}
        for k, x in X.items():
            A = V[k].toarray() if sp.issparse(V[k]) else np.asarray(V[k])
            if units[k] == "softmax":
                A = np.log1p(A)
            raw = torch.as_tensor(np.ascontiguousarray(A, dtype=np.float32), device=x.device)
            out[k] = torch.cat([x, raw], 1)
        return out

    # ------------------------------------------------------------------ transform
    def transform(self, views: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """Embed each given view alone.

        Parameters
        ----------
        views : dict[str, array-like or CSR]
            Any subset of the fitted views, ``(n_samples, n_features_v)``.

        Returns
        -------
        dict[str, ndarray of shape (n_samples, n_components_)]
            float32 embeddings, each computed from its view only -- except with
            ``mutual_from="pair"``, where both views are required and each embedding
            also uses the paired other view (the leak of the literal reading).
        """
        self._check_fitted()
        V = check_fitted_views(self, views)
        names = list(V)
        if self.mutual_from == "pair" and set(names) != set(self.view_names_):
            raise DataError(
                "mutual_from='pair' (the paper's literal reading, a leaking diagnostic) "
                "embeds each view with the mutual representation of its paired other view: "
                f"pass both views {list(self.view_names_)} with paired rows; got {names}."
            )
        f = self.stage1_.features(V)
        X = self._ff_inputs(f, names, train=False)
        with torch.no_grad():
            if self.joint_ae_ is not None:
                X = {k: self.joint_ae_[k](X[k]) for k in names}
            if self.ff_ is not None and self._input_skip:
                X = self._with_input(X, V, self.units_)
            if self.ff_ is not None:
                posteriors = self._variant.posteriors
                X = {k: ff_embedding(self.ff_[k], X[k], posteriors) for k in names}
            for layer in self.baes_:
                X = {k: layer.code({k: X[k]}) for k in names}
        out = {k: to_numpy(X[k]).astype(np.float32) for k in names}
        if self.center:
            out = {k: v - self.embedding_mean_[k] for k, v in out.items()}
        return out

    # ------------------------------------------------------------------ checkpoints
    def save(self, directory: str | os.PathLike) -> Path:
        """Write the fitted model into ``directory``, atomically as a whole.

        ``directory/stage1/`` holds the boltz models (:meth:`HRLStage1.save`),
        ``directory/hrl.npz`` the torch ``state_dict`` of every stage, the module
        widths, the hyperparameters and the training history, and the SHA-256 of
        ``stage1/stage1.npz`` (which holds those of the other stage-1 files).  All are
        boltz checkpoint containers (no pickle, every byte checked on load).  The
        files are written into a new directory that then replaces ``directory`` in one
        step: a save that fails midway leaves the previous model whole, and a
        directory mixing files of two saves is refused by :meth:`load`.  An existing
        ``directory`` must hold only an HRL's files.

        Returns
        -------
        pathlib.Path
        """
        return save_hrl(self, directory)

    @classmethod
    def load(cls, directory: str | os.PathLike, device: str = "cpu") -> HRL:
        """Read a model written by :meth:`save`.

        Raises
        ------
        FileNotFoundError
            No ``hrl.npz`` (or a file it lists) in ``directory``.
        CheckpointError
            A damaged file, a directory mixing files of two saves, content that does
            not fit together, or the old layout (``hrl.pt``, a ``torch.save`` file).
        """
        return load_hrl(cls, directory, device)

    def _self_check(self) -> None:
        """A loaded model must embed one zero row of each view into ``n_components_``."""
        zeros = {k: np.zeros((1, n)) for k, n in self.n_features_in_.items()}
        with np.errstate(all="ignore"):
            out = self.transform(zeros)
        if any(v.shape != (1, self.n_components_) for v in out.values()):
            raise CheckpointError("the loaded HRL returns codes of the wrong width.")
