r"""Hybrid representation learning (HRL; Cao et al., Neurocomputing 2019).

Cao, Li, Zhu et al., "Hybrid representation learning for cross-modal retrieval",
Neurocomputing 2019 (sections 3 and 4.2).  Three learning steps, for two views named
``a`` and ``b`` below (image and text in the paper):

**Step 1 -- modality-friendly and modality-mutual representations** (boltz, CD-1).

* *Friendly*: one stacked RBM (SRBM, a :class:`boltz.DBN`) per view, a visible
  layer of the view's unit type (Gaussian for real features, replicated softmax for
  word counts) then Bernoulli RBMs, paper widths ``1024 -> 512 -> 512``::

      F_v = P(h^(3) = 1 | h^(2)) o P(h^(2) | h^(1)) o P(h^(1) | x_v)     (up-pass)

* *Mutual*: a multimodal DBN (:class:`boltz.MultimodalDBN`, Srivastava & Salakhutdinov
  2012), paper pathways image ``2048 -> 1024``, text ``1024 -> 1024``, joint RBM 2048.
  ``M_v = P(h_joint | x_v)`` is the joint representation inferred from view ``v``
  *alone*: the other view's top layer is missing and filled in by ``meanfield_steps``
  mean-field alternations through the joint layer (:meth:`MultimodalDBN.transform`).
  The joint RBM is trained by CD-1 only (``HRLStage1(joint_training="likelihood")``, the
  paper's model); boltz's multi-prediction default put HRL at chance on Wikipedia.

**Step 2 -- hybrid representation** (PyTorch), per view: a joint autoencoder over
``[F_v, M_v]`` with one sigmoid code layer (paper: 1024 units)::

      Y_v = s(W_v [F_v, M_v] + c_v),   [F̂_v, M̂_v] = s(U_v Y_v + e_v),
      L_ae = sum_v sum_{part in (F, M)} mean_j BCE(part_j, part̂_j)

(both parts are probabilities in [0, 1]; each part's cross-entropy is averaged over
its features so the 2048 mutual units do not outweigh the 512 friendly ones), then a
feed-forward net ``Y_v -> 1024 -> 1024 -> 1024`` (``activation``, dropout) with a
softmax classifier on the labels (cross-entropy): the label information enters here.
The representation passed on is the net's **top hidden layer** ``H_v`` (1024), not
its 10 class posteriors: the paper's bimodal AEs halve the width of their input
(1024 -> 512 -> ...), which only makes sense on the hidden layer, and the posteriors
would leave the next step nothing to model but the predicted class.

**Step 3 -- stacked bimodal autoencoders** on ``(H_a, H_b)``.  Level ``l`` has inputs
``(A_a, A_b)`` of width ``d`` (standardised with training statistics), a shared
sigmoid code of width ``d / 2``, one linear decoder per view and a softmax layer on
the code (supervised)::

      z = s(V_a A_a + V_b A_b + c),   Â_v = R_v z + r_v,   p(class) = softmax(C z + k)
      L_bae = 1/3 sum_{S in {ab, a, b}} [ sum_v mean_j (A_vj - Â_vj(z_S))^2
                                          + label_weight * CE(y, p(z_S)) ]

where ``z_S`` is the code with the views outside ``S`` replaced by their training
mean (zero after standardisation): Ngiam et al.'s input dropping, here with all three
cases in every minibatch, always reconstructing both views.  The levels are trained
bottom-up; level ``l + 1`` is fed the one-view codes ``(z_a, z_b)`` of level ``l``.
Up to ``n_bae_max`` levels are trained and the number ``n`` kept is the one with the
largest cross-modal MAP of the one-view codes on the validation pairs.

**Retrieval.** Each view is embedded alone: ``transform({"image": X})`` runs the
image through its SRBM, the MDBN (text inferred), its joint AE and feed-forward net,
and the BAEs with the text input at its training mean (zero).  With ``center=True``
the training mean of each view's embedding is subtracted (cosine retrieval on sigmoid
codes otherwise mostly sees their common positive offset).

**Variants** (the ablations of the paper's Tables 8 and 9), ``variant=``:

``"hrl"``        the full model.
``"joint"``      Joint-HRL (Table 8): the joint AE of each view is trained on
                 ``[F_v, P]`` with ``P = P(h_joint | x_a, x_b)`` the MDBN representation
                 of the *pair* -- a joint representation in which both views are
                 observed -- instead of the hybrid ``M_v`` inferred from ``v`` alone.
                 A retrieval query has only one view, so at test time ``P`` can only be
                 ``M_v`` (the model is trained on pairs and used on single views).
``"no_bae"``     no stacked BAEs: the embedding is the feed-forward nets' class
                 posteriors (the two hidden layers belong to two unrelated networks,
                 the posteriors share the label space).
``"no_ff"``      no feed-forward nets: the BAEs take the joint-AE codes ``Y_v``.
``"no_ff_bae"``  neither: the embedding is ``Y_v``.  Nothing ties the two views'
                 codes together (two separate autoencoders, no labels), so cross-modal
                 retrieval is expected near chance -- as in the paper's Table 9.
``"no_srbm"``    only the mutual representation, no joint AE: ``M_v`` -> FF -> BAEs.
``"no_mdbn"``    only the friendly representation, no joint AE: ``F_v`` -> FF -> BAEs.

**The paper's literal reading** (``mutual_from="pair"``, a *diagnostic*, not a
retrieval method).  Eqs. (12)-(13) define ``X_mutual^image`` as the joint layer
``h^(3)`` inferred from the **text** ``v_t`` ("which can generate the image"), and
``X_mutual^text`` from the image.  With ``mutual_from="pair"`` each view's mutual part
is computed from its *paired* other view: ``M_image = P(h_joint | x_text)``,
``M_text = P(h_joint | x_image)``, in training and in :meth:`transform`, which then
needs both views of every row.  A query image is thereby represented partly by its
own caption -- the partner that a cross-modal query is supposed to find -- so its
retrieval scores leak the answer and are not comparable with any single-view
method.  The default ``mutual_from="self"`` (``M_v`` from ``v`` alone) is the
non-leaking reading.

**Reuse.** Step 1 is the slow part.  :class:`HRLStage1` holds the fitted SRBMs and
MDBN; pass it as ``stage1=`` to every variant (it caches its features per input
array).  ``reuse=`` a fitted :class:`HRL` copies the trained torch stages the two
models share (same stage-1 object, data, hyperparameters and seed -- e.g. ``"no_bae"``
reuses the joint AEs and feed-forward nets of ``"hrl"``).  Every stage is seeded from
``(random_state, stage)`` alone, so a reused stage is bitwise the stage a fresh fit
would train.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import math
import numbers
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
import torch
from numpy.typing import ArrayLike
from torch import nn

import boltz
from boltz.atomic import atomic_directory
from boltz.checkpoint import need
from boltz.container import (
    CONTENT_ERRORS,
    files_manifest,
    safe_member_name,
    verify_files,
    write_container,
)
from boltz.errors import CheckpointError, ConfigError, DataError, DataTypeError

from ..base import MultiViewModel, validate_labels, validate_views
from ._checkpoint import (
    build_checked,
    header,
    need_views,
    read_index,
    state_arrays,
    sub_tensors,
)
from ._layers import ACTIVATIONS
from ._training import train_loop
from ._validation import (
    check_activation,
    check_float,
    check_hidden,
    check_int,
    progress_enabled,
    resolve_device,
    resolve_seed,
)

__all__ = ["HRL", "MUTUAL_FROM", "VARIANTS", "HRLStage1"]

logger = logging.getLogger(__name__)

VARIANTS = ("hrl", "joint", "no_bae", "no_ff", "no_ff_bae", "no_srbm", "no_mdbn")
#: ``HRL(mutual_from=...)``: "self" (single-view, the default) or "pair" (the paper's
#: literal eqs. 12-13: each view's mutual part from its paired other view; leaks).
MUTUAL_FROM = ("self", "pair")
UNITS = ("gaussian", "softmax", "bernoulli")
_STAGES = {"stage1": 1, "joint_ae": 2, "ff": 3, "bae": 4, "split": 5}

#: Default CD-1 settings per visible unit type.  Bottom layers: the Wikipedia pretraining
#: config of ``recipes/configs/wikipedia.toml``.  Upper layers (and the joint RBM) use the
#: "bernoulli" entry, 0.001 rather than that config's 0.01: with 10 CD-1 epochs on the
#: replicated-softmax codes of the Wikipedia articles, a second layer at 0.01 cut the
#: validation accuracy of a linear class probe from 0.792 to 0.320, at 0.001 to 0.753
#: (docs/hrl.md, "Investigation").
RBM_DEFAULTS: dict[str, dict[str, float]] = {
    "gaussian": {"learning_rate": 0.001, "weight_decay": 0.001},
    "softmax": {"learning_rate": 0.0003, "weight_decay": 0.0001},
    "bernoulli": {"learning_rate": 0.001, "weight_decay": 0.0},
}
DEFAULT_VISIBLE = {"image": "gaussian", "text": "softmax"}
DEFAULT_MUTUAL = {"image": (2048, 1024), "text": (1024, 1024)}


def stage_seed(seed: int, stage: str, *extra: int) -> int:
    """An int seed for one stage, derived from ``(seed, stage, *extra)`` only."""
    ss = np.random.SeedSequence([int(seed), _STAGES[stage], *map(int, extra)])
    return int(ss.generate_state(1, np.uint32)[0] & 0x7FFFFFFF)


def fingerprint(X: Any) -> str:
    """A content hash of a dense array or a CSR matrix (for caches and reuse keys)."""
    h = hashlib.blake2b(digest_size=16)
    if sp.issparse(X):
        X = sp.csr_matrix(X)
        h.update(repr(("csr", X.shape, str(X.dtype))).encode())
        for a in (X.indptr, X.indices, X.data):
            h.update(np.ascontiguousarray(a).tobytes())
    else:
        A = np.ascontiguousarray(X)
        h.update(repr(("dense", A.shape, str(A.dtype))).encode())
        h.update(A.tobytes())
    return h.hexdigest()


# ----------------------------------------------------------------------------- checks


def _per_view(value: Any, names: Sequence[str], what: str, default: Mapping[str, Any]) -> dict:
    """``value`` (None: ``default``; a dict per view; or one value for all views)."""
    if value is None:
        value = default
    if isinstance(value, Mapping):
        missing = [k for k in names if k not in value]
        if missing:
            raise ConfigError(
                f"{what} has no entry for view(s) {missing}; pass a dict with one entry per "
                f"view name {list(names)}."
            )
        return {k: value[k] for k in names}
    return {k: value for k in names}


def _check_unit(unit: Any, name: str) -> str:
    if unit not in UNITS:
        raise ConfigError(f"visible[{name!r}] must be one of {list(UNITS)}; got {unit!r}.")
    return str(unit)


def check_hrl_views(
    views: Any,
    units: Mapping[str, str],
    *,
    fitted: Sequence[str] | None = None,
    n_features: Mapping[str, int] | None = None,
    allow_subset: bool = False,
    name: str = "views",
) -> dict[str, Any]:
    """Validate HRL input views: dense float arrays, or CSR counts for softmax views.

    Parameters
    ----------
    views : Mapping[str, array-like or scipy.sparse matrix]
        ``{view name: (n_samples, n_features_v)}``.
    units : Mapping[str, str]
        Visible unit type per known view name.
    fitted : sequence of str, optional
        Known view names (unknown names are errors); with ``allow_subset=False``
        all of them are required.
    n_features : Mapping[str, int], optional
        Expected widths.
    allow_subset : bool, default False
    name : str
        Argument name for messages.

    Returns
    -------
    dict[str, ndarray or scipy.sparse.csr_matrix]

    Raises
    ------
    DataError, DataTypeError
        As :func:`bridge.base.validate_views`; also sparse input for a non-softmax
        view, negative counts, and values outside [0, 1] for a Bernoulli view.
    """
    if not isinstance(views, Mapping):
        raise DataTypeError(
            f"{name} must be a dict mapping view names to 2-D arrays, e.g. "
            f"{{'image': X_img, 'text': X_txt}}; got {type(views).__name__}."
        )
    known = list(fitted) if fitted is not None else list(units)
    sparse = {k: v for k, v in views.items() if sp.issparse(v)}
    dense = {k: v for k, v in views.items() if not sp.issparse(v)}
    out: dict[str, Any] = {}
    if dense:
        out.update(
            validate_views(
                dense,
                fitted_names=known,
                allow_subset=True,
                n_features=n_features,
                dtype=np.float64,
                name=name,
            )
        )
    for k, X in sparse.items():
        where = f"{name}[{k!r}]"
        if k not in known:
            raise DataError(f"{name} has unknown view name(s) [{k!r}]; the model knows {known}.")
        if units.get(k) != "softmax":
            raise DataTypeError(
                f"{where} is a scipy.sparse matrix, but view {k!r} has visible unit "
                f"{units.get(k)!r}; sparse input is for 'softmax' (word-count) views only "
                "(pass X.toarray())."
            )
        X = sp.csr_matrix(X, dtype=np.float64)
        if X.shape[0] == 0 or X.shape[1] == 0:
            raise DataError(f"{where} must have at least one row and one column; got {X.shape}.")
        if not np.isfinite(X.data).all():
            raise DataError(f"{where} contains NaN or inf; remove or impute them first.")
        if n_features is not None and k in n_features and X.shape[1] != n_features[k]:
            raise DataError(
                f"{where} has {X.shape[1]} features, but the model was fitted with "
                f"{n_features[k]} features for view {k!r}."
            )
        out[k] = X
    if not allow_subset:
        missing = [k for k in known if k not in out]
        if missing:
            raise DataError(f"{name} must hold every view {known}; missing {missing}.")
    if not out:
        raise DataError(f"{name} is an empty dict; pass at least one view {{name: 2-D array}}.")
    rows = {k: X.shape[0] for k, X in out.items()}
    if len(set(rows.values())) > 1:
        raise DataError(
            f"all views in {name} must have the same number of rows (paired samples); got {rows}."
        )
    for k, X in out.items():
        unit = units.get(k)
        data = X.data if sp.issparse(X) else X
        if unit == "softmax" and data.size and data.min() < 0:
            raise DataError(f"{name}[{k!r}] is a 'softmax' (word-count) view with negative values.")
        if unit == "bernoulli" and data.size and (data.min() < 0 or data.max() > 1):
            raise DataError(f"{name}[{k!r}] is a 'bernoulli' view; its values must lie in [0, 1].")
    return {k: out[k] for k in views}


# ----------------------------------------------------------------------------- step 1


class HRLStage1:
    """Step 1 of HRL: an SRBM per view (friendly) and a multimodal DBN (mutual).

    Fit once, then pass to any number of :class:`HRL` models as ``stage1=``.

    Parameters
    ----------
    visible : dict[str, {"gaussian", "softmax", "bernoulli"}], optional
        Visible unit of each view; default ``{"image": "gaussian", "text": "softmax"}``.
        The order of the dict's keys is irrelevant; the views' order comes from ``fit``.
    friendly_hidden : sequence of int or dict, default (1024, 512, 512)
        SRBM widths (bottom RBM first), for all views or per view.
    mutual_hidden : sequence of int or dict, optional
        MDBN pathway widths; default image ``(2048, 1024)``, text ``(1024, 1024)``.
    joint_hidden : int, default 2048
        Joint RBM width.
    epochs : int, default 5
        CD-1 epochs of every RBM.  Few on purpose: on Wikipedia longer CD-1 training made
        the codes worse for retrieval (validation MAP of HRL 0.294 / 0.287 / 0.157 after 5 /
        10 / 20 epochs, docs/hrl.md).
    batch_size : int, default 64
    learning_rate : dict[str, float or "auto"], optional
        Per unit type (``"gaussian"``, ``"softmax"``, ``"bernoulli"``: the upper
        layers); defaults in :data:`RBM_DEFAULTS`; ``"auto"`` is boltz's per-unit rule
        (:func:`boltz.rbm.auto_learning_rate`).
    meanfield_steps : int, default 10
        Alternations joint <-> missing top layer when a view is inferred.
    joint_training : {"likelihood", "multiprediction"}, default "likelihood"
        :class:`boltz.MultimodalDBN` ``joint_training``: CD-1 only (the paper's joint
        RBM), or CD-1 then multi-prediction training of the joint layer.
    device : {"cpu", "gpu", "auto"}, default "cpu"
        boltz device.
    random_state : int or None, default 0
    progress : bool or None, default None
        boltz progress bars (None: only on a terminal).

    Attributes
    ----------
    view_names_ : tuple of str
    units_ : dict[str, str]
    srbm_ : dict[str, boltz.DBN]
        Friendly SRBMs.
    mdbn_ : boltz.MultimodalDBN
    n_features_in_ : dict[str, int]
    """

    def __init__(
        self,
        visible: Mapping[str, str] | None = None,
        friendly_hidden: Sequence[int] | Mapping[str, Sequence[int]] = (1024, 512, 512),
        mutual_hidden: Sequence[int] | Mapping[str, Sequence[int]] | None = None,
        joint_hidden: int = 2048,
        epochs: int = 5,
        batch_size: int = 64,
        learning_rate: Mapping[str, float] | None = None,
        meanfield_steps: int = 10,
        joint_training: str = "likelihood",
        device: str = "cpu",
        random_state: int | None = 0,
        progress: bool | None = None,
    ) -> None:
        self.visible = visible
        self.friendly_hidden = friendly_hidden
        self.mutual_hidden = mutual_hidden
        self.joint_hidden = joint_hidden
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.meanfield_steps = meanfield_steps
        self.joint_training = joint_training
        self.device = device
        self.random_state = random_state
        self.progress = progress

    # ------------------------------------------------------------------ config
    def __sklearn_clone__(self) -> HRLStage1:
        """``sklearn.clone`` of an :class:`HRL` keeps its (fitted) step 1: it is shared."""
        return self

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor arguments (sklearn style)."""
        return {
            k: getattr(self, k)
            for k in (
                "visible",
                "friendly_hidden",
                "mutual_hidden",
                "joint_hidden",
                "epochs",
                "batch_size",
                "learning_rate",
                "meanfield_steps",
                "joint_training",
                "device",
                "random_state",
                "progress",
            )
        }

    def _units(self, names: Sequence[str]) -> dict[str, str]:
        units = _per_view(self.visible, names, "visible", DEFAULT_VISIBLE)
        return {k: _check_unit(u, k) for k, u in units.items()}

    def _rbm(self, n_hidden: int, unit: str, seed: int) -> boltz.RBM:
        kw = dict(RBM_DEFAULTS[unit])
        if self.learning_rate is not None:
            if not isinstance(self.learning_rate, Mapping):
                raise ConfigError(
                    "learning_rate must be None or a dict {unit type: float}, e.g. "
                    f"{{'gaussian': 0.001}}; got {self.learning_rate!r}."
                )
            if unit in self.learning_rate:
                lr = self.learning_rate[unit]
                kw["learning_rate"] = (
                    "auto"
                    if lr == "auto"
                    else check_float(lr, f"learning_rate[{unit!r}]", strict=True)
                )
        return boltz.RBM(
            n_hidden=n_hidden,
            visible=unit,
            batch_size=self.batch_size,
            epochs=self.epochs,
            monitor_size=0,
            device=self.device,
            progress="auto" if self.progress is None else bool(self.progress),
            random_state=seed,
            **kw,
        )

    def _stack(self, hidden: Sequence[int], unit: str, seed: int) -> boltz.DBN:
        seeds = np.random.SeedSequence(seed).generate_state(len(hidden), np.uint32)
        layers = [
            self._rbm(h, unit if i == 0 else "bernoulli", int(s) & 0x7FFFFFFF)
            for i, (h, s) in enumerate(zip(hidden, seeds))
        ]
        return boltz.DBN(layers)

    # ------------------------------------------------------------------ fit
    def fit(self, views: Mapping[str, Any], y: Any = None) -> HRLStage1:
        """Train the SRBMs and the multimodal DBN on paired views.

        Parameters
        ----------
        views : dict[str, array-like or CSR] with exactly two entries
            ``(n_samples, n_features_v)``; CSR word counts for a softmax view.
        y : ignored (step 1 is unsupervised)

        Returns
        -------
        self
        """
        if not isinstance(views, Mapping) or len(views) != 2:
            raise DataError(
                "HRLStage1.fit needs exactly two views {name: array}; got "
                f"{list(views) if isinstance(views, Mapping) else type(views).__name__}."
            )
        names = list(views)
        units = self._units(names)
        V = check_hrl_views(views, units, fitted=names)
        check_int(self.epochs, "epochs")
        check_int(self.batch_size, "batch_size")
        check_int(self.meanfield_steps, "meanfield_steps")
        check_int(self.joint_hidden, "joint_hidden")
        fh = {
            k: check_hidden(v, f"friendly_hidden[{k!r}]")
            for k, v in _per_view(
                self.friendly_hidden
                if isinstance(self.friendly_hidden, Mapping)
                else {k: self.friendly_hidden for k in names},
                names,
                "friendly_hidden",
                {},
            ).items()
        }
        mh = {
            k: check_hidden(v, f"mutual_hidden[{k!r}]")
            for k, v in _per_view(
                self.mutual_hidden, names, "mutual_hidden", DEFAULT_MUTUAL
            ).items()
        }
        seed = stage_seed(resolve_seed(self.random_state), "stage1")
        seeds = np.random.SeedSequence(seed).generate_state(2 * len(names) + 1, np.uint32)
        srbm = {}
        for i, k in enumerate(names):
            logger.info("HRL step 1: friendly SRBM of %r %s", k, fh[k])
            srbm[k] = self._stack(fh[k], units[k], int(seeds[i])).fit(V[k])
        logger.info("HRL step 1: multimodal DBN %s, joint %d", mh, self.joint_hidden)
        pathways = {
            k: self._stack(mh[k], units[k], int(seeds[len(names) + i])) for i, k in enumerate(names)
        }
        joint = self._rbm(int(self.joint_hidden), "bernoulli", int(seeds[-1]) & 0x7FFFFFFF)
        mdbn = boltz.MultimodalDBN(pathways, joint, joint_training=self.joint_training).fit(V)
        self.view_names_ = tuple(names)
        self.units_ = units
        self.n_features_in_ = {k: int(X.shape[1]) for k, X in V.items()}
        self.srbm_ = srbm
        self.mdbn_ = mdbn
        self._cache: dict[tuple, np.ndarray] = {}
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "mdbn_"):
            from boltz.errors import NotFittedError

            raise NotFittedError("This HRLStage1 is not fitted yet; call fit(views) first.")

    # ------------------------------------------------------------------ features
    def features(self, views: Mapping[str, Any], pair: bool = False) -> dict[str, dict]:
        """Step-1 representations of each given view, each computed from that view alone.

        Parameters
        ----------
        views : dict[str, array-like or CSR]
            Any subset of the fitted views, same rows.
        pair : bool, default False
            Also return the MDBN representation of the pairs (needs both views).

        Returns
        -------
        dict
            ``{"friendly": {v: (n, friendly width)}, "mutual": {v: (n, joint_hidden)}}``
            float32 arrays, plus ``"pair": (n, joint_hidden)`` with ``pair=True``.
            Results are cached per input content (a repeated call is free).
        """
        self._check_fitted()
        V = check_hrl_views(
            views,
            self.units_,
            fitted=self.view_names_,
            n_features=self.n_features_in_,
            allow_subset=True,
        )
        cache = self.__dict__.setdefault("_cache", {})
        fps = {k: fingerprint(X) for k, X in V.items()}

        def cached(key: tuple, fn: Any) -> np.ndarray:
            if key not in cache:
                if len(cache) >= 64:
                    cache.pop(next(iter(cache)))
                cache[key] = np.asarray(fn(), dtype=np.float32)
            return cache[key]

        steps = int(self.meanfield_steps)
        out: dict[str, Any] = {"friendly": {}, "mutual": {}}
        for k, X in V.items():
            out["friendly"][k] = cached(
                ("F", k, fps[k]), lambda k=k, X=X: self.srbm_[k].transform(X)
            )
            out["mutual"][k] = cached(
                ("M", k, fps[k], steps),
                lambda k=k, X=X: self.mdbn_.transform({k: X}, missing="meanfield", steps=steps),
            )
        if pair:
            if set(V) != set(self.view_names_):
                raise DataError(f"pair=True needs every view {list(self.view_names_)}.")
            key = ("P", *(fps[k] for k in self.view_names_))
            out["pair"] = cached(key, lambda: self.mdbn_.transform(dict(V)))
        return out

    # ------------------------------------------------------------------ checkpoints
    def save(self, directory: str | os.PathLike) -> Path:
        """Write the stage into ``directory``, atomically as a whole.

        ``srbm.<view>.npz`` and ``mdbn.npz`` are boltz checkpoints (``boltz.load``
        reads them); ``stage1.npz`` is the index: the settings and the SHA-256 of both,
        so a directory that mixes files of two saves is refused on load.  The files are
        written into a new directory that then replaces ``directory`` in one step
        (:func:`boltz.atomic.atomic_directory`): a failed save leaves the old one whole.
        An existing ``directory`` must hold only a stage's files.

        Returns
        -------
        pathlib.Path
        """
        self._check_fitted()
        d = Path(directory)
        with atomic_directory(d, _stage1_file) as tmp:
            self._write_into(tmp)
        return d

    def _write_into(self, d: Path) -> None:
        """Write the stage's files into the (new, empty) directory ``d``."""
        bad = [k for k in self.view_names_ if not safe_member_name(k)]
        if bad:
            raise ConfigError(f"view names {bad} cannot name checkpoint files.")
        for k in self.view_names_:
            self.srbm_[k].save(d / f"srbm.{k}.npz")
        self.mdbn_.save(d / "mdbn.npz")
        meta = {
            **header("HRLStage1"),
            "params": json.loads(json.dumps(self.get_params(), default=list)),
            "view_names": list(self.view_names_),
            "units": self.units_,
            "n_features_in": self.n_features_in_,
            "files": files_manifest(d, _stage1_files(self.view_names_)),
        }
        write_container(d / "stage1.npz", meta, {})

    @classmethod
    def load(cls, directory: str | os.PathLike, device: str = "cpu") -> HRLStage1:
        """Read a stage written by :meth:`save`.

        Raises
        ------
        FileNotFoundError
            No ``stage1.npz`` (or a file it lists) in ``directory``.
        CheckpointError
            A damaged file, a directory mixing two saves, or one of the old layout
            (``stage1.json``, no checksums).
        """
        d, meta, _, where = read_index(directory, "stage1.npz", "stage1.json", "HRLStage1")
        try:
            return cls._from_index(d, meta, device, where)
        except CheckpointError:
            raise
        except (*CONTENT_ERRORS, RuntimeError) as e:
            raise CheckpointError(
                f"{where}: a damaged or inconsistent HRLStage1 ({type(e).__name__}: {e})"
            ) from e

    @classmethod
    def _from_index(cls, d: Path, meta: Mapping[str, Any], device: str, where: str) -> HRLStage1:
        params = dict(need(meta, "params", dict))
        params["device"] = device
        try:
            obj = cls(**params)
        except TypeError as e:
            raise CheckpointError(f"{where}: the saved settings are invalid: {e}") from e
        names, n_in = need_views(meta, where)
        if not all(safe_member_name(k) for k in names):
            raise CheckpointError(f"{where}: view names {list(names)} cannot name files.")
        units = need(meta, "units", dict)
        if set(units) != set(names) or not all(units[k] in UNITS for k in names):
            raise CheckpointError(f"{where}: units {units!r} do not fit the views {list(names)}.")
        verify_files(d, meta.get("files"), _stage1_files(names), where)
        srbm = {k: boltz.load(d / f"srbm.{k}.npz", device=device) for k in names}
        mdbn = boltz.load(d / "mdbn.npz", device=device)
        if not isinstance(mdbn, boltz.MultimodalDBN) or set(mdbn.views_) != set(names):
            raise CheckpointError(f"{where}: mdbn.npz is not a multimodal DBN of {list(names)}.")
        for k in names:
            if not isinstance(srbm[k], boltz.DBN) or srbm[k].n_features_in_ != n_in[k]:
                raise CheckpointError(f"{where}: srbm.{k}.npz does not fit view {k!r}.")
        obj.view_names_ = names
        obj.units_ = {k: units[k] for k in names}
        obj.n_features_in_ = n_in
        obj.srbm_ = srbm
        obj.mdbn_ = mdbn
        obj._cache = {}
        return obj


def _stage1_files(names: Sequence[str]) -> list[str]:
    """The files of a saved stage besides its index ``stage1.npz``."""
    return [*(f"srbm.{k}.npz" for k in names), "mdbn.npz"]


def _stage1_file(name: str) -> bool:
    """Whether a directory entry may belong to a saved stage (old layout included)."""
    return name in ("stage1.npz", "stage1.json", "mdbn.npz") or (
        name.startswith("srbm.") and name.endswith(".npz")
    )


def _hrl_file(name: str) -> bool:
    """Whether a directory entry may belong to a saved HRL (old layout included)."""
    return name in ("hrl.npz", "hrl.pt", "stage1")


# ----------------------------------------------------------------------------- modules


class JointAutoencoder(nn.Module):
    """Joint AE of one view: ``[part_1, ..., part_k] -> sigmoid code -> each part``.

    Parameters
    ----------
    parts : sequence of int
        Widths of the concatenated inputs (e.g. friendly 512, mutual 2048).
    hidden : int
        Code width.
    """

    def __init__(self, parts: Sequence[int], hidden: int) -> None:
        super().__init__()
        self.parts = [int(p) for p in parts]
        self.encoder = nn.Linear(sum(self.parts), hidden)
        self.decoders = nn.ModuleList(nn.Linear(hidden, p) for p in self.parts)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Code ``Y`` of the concatenated input ``x`` (n, sum(parts)), shape (n, hidden)."""
        return torch.sigmoid(self.encoder(x))

    def loss(self, x: torch.Tensor) -> torch.Tensor:
        """Sum over parts of the mean binary cross-entropy per feature, averaged over rows."""
        h = self(x)
        total = x.new_zeros(())
        for dec, part in zip(self.decoders, torch.split(x, self.parts, dim=1)):
            bce = nn.functional.binary_cross_entropy_with_logits(dec(h), part, reduction="none")
            total = total + bce.mean(1).mean()
        return total


class FeedForward(nn.Module):
    """``d_in -> hidden[0] -> ... -> hidden[-1]`` (activation, dropout) plus a softmax layer."""

    def __init__(
        self, d_in: int, hidden: Sequence[int], n_classes: int, activation: str, dropout: float
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        sizes = [int(d_in), *map(int, hidden)]
        for i in range(len(hidden)):
            layers += [nn.Linear(sizes[i], sizes[i + 1]), ACTIVATIONS[activation]()]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
        self.body = nn.Sequential(*layers)
        self.classifier = nn.Linear(sizes[-1], n_classes)
        self.register_buffer("input_mean", torch.zeros(int(d_in)))
        self.register_buffer("input_scale", torch.ones(int(d_in)))

    def set_stats(self, X: torch.Tensor) -> None:
        """Standardise the input with the training mean and std of ``X`` (n, d_in)."""
        s = X.std(0)
        self.input_mean.copy_(X.mean(0))
        self.input_scale.copy_(torch.where(s < 1e-6, torch.ones_like(s), s))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Top hidden layer of the standardised input, shape (n, hidden[-1])."""
        return self.body((x - self.input_mean) / self.input_scale)


class BimodalLayer(nn.Module):
    """One bimodal autoencoder of the stack (see the module docstring).

    Inputs are standardised with the buffers ``mean_i`` / ``scale_i`` (view ``i`` in
    ``names`` order); a missing view contributes zero (its training mean).
    """

    def __init__(self, widths: Mapping[str, int], code: int, n_classes: int) -> None:
        super().__init__()
        self.names = list(widths)
        self.enc = nn.ModuleDict(
            {k: nn.Linear(int(d), code, bias=False) for k, d in widths.items()}
        )
        self.bias = nn.Parameter(torch.zeros(code))
        self.dec = nn.ModuleDict({k: nn.Linear(code, int(d)) for k, d in widths.items()})
        self.classifier = nn.Linear(code, n_classes)
        for i, d in enumerate(widths.values()):
            self.register_buffer(f"mean_{i}", torch.zeros(int(d)))
            self.register_buffer(f"scale_{i}", torch.ones(int(d)))

    def standardize(self, k: str, x: torch.Tensor) -> torch.Tensor:
        i = self.names.index(k)
        return (x - getattr(self, f"mean_{i}")) / getattr(self, f"scale_{i}")

    def code(self, given: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Shared code from the given views (raw inputs; missing views at their mean)."""
        z = self.bias
        for k, x in given.items():
            z = z + self.enc[k](self.standardize(k, x))
        return torch.sigmoid(z)

    def set_stats(self, X: Mapping[str, torch.Tensor]) -> None:
        for i, k in enumerate(self.names):
            m = X[k].mean(0)
            s = X[k].std(0)
            s = torch.where(s < 1e-6, torch.ones_like(s), s)
            getattr(self, f"mean_{i}").copy_(m)
            getattr(self, f"scale_{i}").copy_(s)


# ----------------------------------------------------------------------------- the model


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


class HRL(MultiViewModel):
    """Hybrid representation learning for cross-modal retrieval (Cao et al. 2019).

    See the module docstring for the model, the variants and what was chosen where the
    paper is silent.

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
        A fitted HRL whose identical torch stages are copied (see the module docstring).
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

    def __init__(
        self,
        variant: str = "hrl",
        stage1: HRLStage1 | None = None,
        mutual_from: str = "self",
        visible: Mapping[str, str] | None = None,
        friendly_hidden: Sequence[int] | Mapping[str, Sequence[int]] = (1024, 512, 512),
        mutual_hidden: Sequence[int] | Mapping[str, Sequence[int]] | None = None,
        joint_hidden: int = 2048,
        rbm_epochs: int = 5,
        rbm_batch_size: int = 64,
        meanfield_steps: int = 10,
        joint_ae_hidden: int = 1024,
        ff_hidden: Sequence[int] = (1024, 1024, 1024),
        n_bae_max: int = 3,
        activation: str = "sigmoid",
        dropout: float = 0.2,
        label_weight: float = 1.0,
        epochs: int = 30,
        batch_size: int = 64,
        learning_rate: float = 1e-3,
        weight_decay: float = 1e-5,
        patience: int = 8,
        center: bool = True,
        validation_fraction: float = 0.1,
        reuse: HRL | None = None,
        device: str = "cpu",
        random_state: int | None = 0,
        progress: bool | None = None,
    ) -> None:
        self.variant = variant
        self.stage1 = stage1
        self.mutual_from = mutual_from
        self.visible = visible
        self.friendly_hidden = friendly_hidden
        self.mutual_hidden = mutual_hidden
        self.joint_hidden = joint_hidden
        self.rbm_epochs = rbm_epochs
        self.rbm_batch_size = rbm_batch_size
        self.meanfield_steps = meanfield_steps
        self.joint_ae_hidden = joint_ae_hidden
        self.ff_hidden = ff_hidden
        self.n_bae_max = n_bae_max
        self.activation = activation
        self.dropout = dropout
        self.label_weight = label_weight
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.patience = patience
        self.center = center
        self.validation_fraction = validation_fraction
        self.reuse = reuse
        self.device = device
        self.random_state = random_state
        self.progress = progress

    # ------------------------------------------------------------------ structure
    @property
    def _has_ae(self) -> bool:
        return self.variant in ("hrl", "joint", "no_bae", "no_ff", "no_ff_bae")

    @property
    def _has_ff(self) -> bool:
        return self.variant in ("hrl", "joint", "no_bae", "no_srbm", "no_mdbn")

    @property
    def _has_bae(self) -> bool:
        return self.variant in ("hrl", "joint", "no_ff", "no_srbm", "no_mdbn")

    def _check_params(self) -> None:
        if self.variant not in VARIANTS:
            raise ConfigError(f"variant must be one of {list(VARIANTS)}; got {self.variant!r}.")
        if self.mutual_from not in MUTUAL_FROM:
            raise ConfigError(
                f"mutual_from must be one of {list(MUTUAL_FROM)}; got {self.mutual_from!r}."
            )
        if self.mutual_from == "pair" and self.variant in ("joint", "no_mdbn"):
            raise ConfigError(
                f"mutual_from='pair' needs a variant that uses the mutual representation of "
                f"one view; variant {self.variant!r} does not (use one of "
                f"{[v for v in VARIANTS if v not in ('joint', 'no_mdbn')]})."
            )
        if self.stage1 is not None and not isinstance(self.stage1, HRLStage1):
            raise ConfigError(
                f"stage1 must be None or a fitted HRLStage1; got {type(self.stage1).__name__}."
            )
        if self.reuse is not None and not isinstance(self.reuse, HRL):
            raise ConfigError(
                f"reuse must be None or a fitted HRL; got {type(self.reuse).__name__}."
            )
        check_int(self.joint_ae_hidden, "joint_ae_hidden")
        check_hidden(self.ff_hidden, "ff_hidden")
        check_int(self.n_bae_max, "n_bae_max")
        check_activation(self.activation)
        check_float(self.dropout, "dropout")
        if self.dropout >= 1:
            raise ConfigError(f"dropout must be in [0, 1); got {self.dropout!r}.")
        check_float(self.label_weight, "label_weight")
        check_int(self.epochs, "epochs")
        check_int(self.batch_size, "batch_size")
        check_float(self.learning_rate, "learning_rate", strict=True)
        check_float(self.weight_decay, "weight_decay")
        check_int(self.patience, "patience")
        if not isinstance(self.center, bool):
            raise ConfigError(f"center must be True or False; got {self.center!r}.")
        f = self.validation_fraction
        if not isinstance(f, numbers.Real) or isinstance(f, bool) or not 0 < f < 1:
            raise ConfigError(f"validation_fraction must be in (0, 1); got {f!r}.")
        if self.progress is not None and not isinstance(self.progress, bool):
            raise ConfigError(f"progress must be None, True or False; got {self.progress!r}.")

    def _train_kw(self) -> dict[str, Any]:
        return {
            "epochs": int(self.epochs),
            "batch_size": int(self.batch_size),
            "learning_rate": float(self.learning_rate),
            "weight_decay": float(self.weight_decay),
            "patience": int(self.patience),
        }

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
        for attr in [a for a in vars(self) if a.endswith("_") and not a.startswith("_")]:
            delattr(self, attr)
        self._check_params()
        if not isinstance(views, Mapping):
            raise DataTypeError(
                "views must be a dict mapping view names to 2-D arrays, e.g. "
                f"{{'image': X_img, 'text': X_txt}}; got {type(views).__name__}."
            )
        bad = [k for k in views if not isinstance(k, str)]
        if bad:
            raise DataTypeError(
                f"views must have string keys (view names); got {bad[0]!r} of type "
                f"{type(bad[0]).__name__}."
            )
        if len(views) != 2:
            raise DataError(
                f"HRL needs exactly two views {{name: array}} (e.g. image and text); got "
                f"{list(views)}."
            )
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
                k: _check_unit(u, k)
                for k, u in _per_view(self.visible, names, "visible", DEFAULT_VISIBLE).items()
            }
        V = check_hrl_views(views, units, fitted=names)
        n = next(iter(V.values())).shape[0]
        if y is None:
            raise DataError("HRL is supervised: pass the class labels y (one per training pair).")
        Y = validate_labels(y, n)
        if Y.ndim != 1:
            raise DataError(f"y must be 1-D class labels of shape ({n},); got shape {Y.shape}.")
        nfeat = {k: int(X.shape[1]) for k, X in V.items()}
        if views_val is not None:
            V_val = check_hrl_views(
                views_val, units, fitted=names, n_features=nfeat, name="views_val"
            )
            n_val = next(iter(V_val.values())).shape[0]
            if y_val is None:
                raise DataError("views_val was given without y_val; pass both or neither.")
            Y_val = validate_labels(y_val, n_val, name="y_val")
            if Y_val.ndim != 1:
                raise DataError(f"y_val must be 1-D class labels; got shape {Y_val.shape}.")
        elif y_val is not None:
            raise DataError("y_val was given without views_val; pass both or neither.")
        seed = resolve_seed(self.random_state)
        classes = np.unique(Y)
        if len(classes) < 2:
            raise DataError(f"y must hold at least two classes; got {classes.tolist()}.")
        y_idx = np.searchsorted(classes, Y)
        if views_val is None:
            tr, va = _stratified_split(
                y_idx, float(self.validation_fraction), stage_seed(seed, "split")
            )
            V_val = {k: X[va] for k, X in V.items()}
            V = {k: X[tr] for k, X in V.items()}
            yv_idx, y_idx = y_idx[va], y_idx[tr]
        else:
            unknown = ~np.isin(Y_val, classes)
            if unknown.any():
                raise DataError(
                    f"y_val has labels not seen in y: {np.unique(Y_val[unknown]).tolist()[:5]}."
                )
            yv_idx = np.searchsorted(classes, Y_val)

        if stage1 is None:
            stage1 = HRLStage1(
                visible=units,
                friendly_hidden=self.friendly_hidden,
                mutual_hidden=self.mutual_hidden,
                joint_hidden=self.joint_hidden,
                epochs=self.rbm_epochs,
                batch_size=self.rbm_batch_size,
                meanfield_steps=self.meanfield_steps,
                random_state=seed,
                progress=self.progress,
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
        keys = self._stage_keys(data_key)
        n_classes = len(classes)
        pair = self.variant == "joint"
        f_tr = stage1.features(V, pair=pair)
        f_va = stage1.features(V_val)
        X_tr = self._ff_inputs(f_tr, names, train=True)
        X_va = self._ff_inputs(f_va, names, train=False)
        parts = {
            k: [int(f_tr["friendly"][k].shape[1]), int(f_tr["mutual"][k].shape[1])] for k in names
        }
        history: dict[str, list] = {}
        yt = torch.as_tensor(y_idx, dtype=torch.long)

        # step 2a: joint autoencoders
        joint_ae = None
        if self._has_ae:
            joint_ae, history["joint_ae"] = self._stage(
                "joint_ae", keys, reuse, lambda: self._fit_joint_ae(X_tr, X_va, parts, names, seed)
            )
            with torch.no_grad():
                X_tr = {k: joint_ae[k](X_tr[k]) for k in names}
                X_va = {k: joint_ae[k](X_va[k]) for k in names}
        # step 2b: feed-forward nets
        ff = None
        if self._has_ff:
            ff, history["ff"] = self._stage(
                "ff",
                keys,
                reuse,
                lambda: self._fit_ff(X_tr, X_va, yt, yv_idx, names, n_classes, seed),
            )
            if self.variant == "no_bae":
                with torch.no_grad():
                    X_tr = {k: torch.softmax(ff[k].classifier(ff[k](X_tr[k])), 1) for k in names}
            else:
                with torch.no_grad():
                    X_tr = {k: ff[k](X_tr[k]) for k in names}
                    X_va = {k: ff[k](X_va[k]) for k in names}
        # step 3: stacked bimodal AEs
        baes = nn.ModuleList()
        val_maps: list[float] = []
        if self._has_bae:
            (baes, val_maps), bae_hist = self._stage(
                "bae",
                keys,
                reuse,
                lambda: self._fit_baes(X_tr, X_va, yt, yv_idx, names, n_classes, seed),
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
        self.embedding_mean_ = {k: _np(X_tr[k].mean(0)) for k in names}
        self.baes_ = baes  # last: marks the model fitted
        return self

    def _ff_inputs(self, f: Mapping[str, Any], names: Sequence[str], train: bool) -> dict:
        """Inputs of the first torch stage per view (the joint AE, or the FF net)."""
        out = {}
        for k in names:
            F, M = f["friendly"][k], f["mutual"][k]
            if self.mutual_from == "pair":
                # the literal eqs. 12-13: M of view k inferred from its paired other view
                (other,) = [j for j in names if j != k]
                M = f["mutual"][other]
            if self.variant == "joint" and train:
                M = f["pair"]
            if self.variant == "no_srbm":
                x = M
            elif self.variant == "no_mdbn":
                x = F
            else:
                x = np.concatenate([F, M], axis=1)
            out[k] = torch.as_tensor(np.ascontiguousarray(x, dtype=np.float32), device=self._device)
        return out

    def _stage_keys(self, data_key: Mapping[str, Any]) -> dict[str, str | None]:
        ae_input = {"hrl": "hybrid", "no_bae": "hybrid", "no_ff": "hybrid", "no_ff_bae": "hybrid"}
        ae_input["joint"] = "pair"
        keys: dict[str, str | None] = {"joint_ae": None, "ff": None, "bae": None}
        up: dict[str, Any] = {"data": data_key}
        if self.mutual_from != "self":
            up["mutual_from"] = self.mutual_from
        if self._has_ae:
            up = {**up, "ae": [ae_input[self.variant], int(self.joint_ae_hidden)]}
            keys["joint_ae"] = json.dumps(up, sort_keys=True)
        else:
            up = {**up, "input": self.variant}
        if self._has_ff:
            up = {
                **up,
                "ff": [list(map(int, check_hidden(self.ff_hidden))), self.activation, self.dropout],
            }
            keys["ff"] = json.dumps(up, sort_keys=True)
        if self._has_bae:
            up = {**up, "bae": [int(self.n_bae_max), float(self.label_weight)]}
            keys["bae"] = json.dumps(up, sort_keys=True)
        return keys

    def _stage(self, stage: str, keys: Mapping[str, Any], reuse: HRL | None, train: Any) -> Any:
        """Copy the stage from ``reuse`` when its key matches, else ``train()``."""
        if reuse is not None and reuse.stage_keys_.get(stage) == keys[stage]:
            logger.info("HRL %s: reusing the trained %s stage", self.variant, stage)
            if stage == "bae":
                hist = {k: v for k, v in reuse.history_.items() if k.startswith("bae.")}
                return (copy.deepcopy(reuse.baes_), list(reuse.bae_val_map_)), copy.deepcopy(hist)
            module = reuse.joint_ae_ if stage == "joint_ae" else reuse.ff_
            return copy.deepcopy(module), copy.deepcopy(reuse.history_[stage])
        return train()

    def _run(
        self,
        stage: str,
        seed: int,
        build: Any,
        loss: Any,
        data: dict,
        validate: Any,
        maximize: bool,
        desc: str,
        level: int = 0,
    ) -> tuple[nn.Module, list]:
        kw = self._train_kw()
        s = stage_seed(seed, stage, level)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(s)
            module = build().to(self._device)
            gen = torch.Generator().manual_seed(s)
            hist, best = train_loop(
                module,
                lambda b, g: loss(module, b),
                data,
                epochs=kw["epochs"],
                batch_size=kw["batch_size"],
                learning_rate=kw["learning_rate"],
                weight_decay=kw["weight_decay"],
                generator=gen,
                validate=(lambda: validate(module)) if validate is not None else None,
                maximize=maximize,
                patience=kw["patience"],
                progress=progress_enabled(self.progress),
                desc=desc,
            )
        logger.info("HRL %s %s: best epoch %d of %d", self.variant, desc, best, len(hist))
        return module, hist

    def _fit_joint_ae(
        self,
        X_tr: dict,
        X_va: dict,
        parts: Mapping[str, list[int]],
        names: Sequence[str],
        seed: int,
    ) -> tuple:
        def build() -> nn.ModuleDict:
            return nn.ModuleDict(
                {k: JointAutoencoder(parts[k], int(self.joint_ae_hidden)) for k in names}
            )

        def loss(m: nn.ModuleDict, b: dict) -> torch.Tensor:
            return sum(m[k].loss(b[k]) for k in names)

        def validate(m: nn.ModuleDict) -> float:
            return float(loss(m, X_va))

        return self._run("joint_ae", seed, build, loss, dict(X_tr), validate, False, "joint AE")

    def _fit_ff(
        self,
        X_tr: dict,
        X_va: dict,
        yt: torch.Tensor,
        yv: np.ndarray,
        names: Sequence[str],
        n_classes: int,
        seed: int,
    ) -> tuple:
        from ..metrics import cross_modal_map

        hidden = check_hidden(self.ff_hidden, "ff_hidden")

        def build() -> nn.ModuleDict:
            m = nn.ModuleDict(
                {
                    k: FeedForward(
                        int(X_tr[k].shape[1]),
                        hidden,
                        n_classes,
                        self.activation,
                        float(self.dropout),
                    )
                    for k in names
                }
            )
            with torch.no_grad():
                for k in names:
                    m[k].set_stats(X_tr[k])
            return m

        def loss(m: nn.ModuleDict, b: dict) -> torch.Tensor:
            y = b["__y"].to(self._device)
            return sum(nn.functional.cross_entropy(m[k].classifier(m[k](b[k])), y) for k in names)

        def validate(m: nn.ModuleDict) -> float:
            # the same score for every variant (the stage is shared through ``reuse``):
            # cross-modal MAP of the class posteriors, centred on their validation mean
            emb = {k: _np(torch.softmax(m[k].classifier(m[k](X_va[k])), 1)) for k in names}
            emb = {k: v - v.mean(0) for k, v in emb.items()}
            return cross_modal_map(emb, yv)["average"]

        data = {**X_tr, "__y": yt}
        return self._run("ff", seed, build, loss, data, validate, True, "feed-forward")

    def _fit_baes(
        self,
        X_tr: dict,
        X_va: dict,
        yt: torch.Tensor,
        yv: np.ndarray,
        names: Sequence[str],
        n_classes: int,
        seed: int,
    ) -> tuple:
        from ..metrics import cross_modal_map

        lw = float(self.label_weight)
        layers: list[BimodalLayer] = []
        val_maps: list[float] = []
        hist: dict[str, list] = {}
        A_tr, A_va = dict(X_tr), dict(X_va)
        a, b = names
        for level in range(int(self.n_bae_max)):
            widths = {k: int(A_tr[k].shape[1]) for k in names}
            code = int(round(sum(widths.values()) / len(widths) / 2))
            if code < 1:
                break

            def build(widths: dict = widths, code: int = code, A_tr: dict = A_tr) -> BimodalLayer:
                layer = BimodalLayer(widths, code, n_classes)
                with torch.no_grad():
                    layer.set_stats(A_tr)
                return layer

            def loss(m: BimodalLayer, batch: dict) -> torch.Tensor:
                y = batch["__y"].to(self._device)
                targets = {k: m.standardize(k, batch[k]) for k in names}
                total = batch[a].new_zeros(())
                for given in (names, [a], [b]):
                    z = m.code({k: batch[k] for k in given})
                    rec = sum((m.dec[k](z) - targets[k]).pow(2).mean(1).mean() for k in names)
                    total = total + rec + lw * nn.functional.cross_entropy(m.classifier(z), y)
                return total / 3

            def validate(m: BimodalLayer, A_tr: dict = A_tr, A_va: dict = A_va) -> float:
                emb = {k: m.code({k: A_va[k]}) for k in names}
                if self.center:
                    emb = {k: v - m.code({k: A_tr[k]}).mean(0) for k, v in emb.items()}
                return cross_modal_map({k: _np(v) for k, v in emb.items()}, yv)["average"]

            data = {**A_tr, "__y": yt}
            layer, h = self._run(
                "bae", seed, build, loss, data, validate, True, f"BAE {level + 1}", level
            )
            with torch.no_grad():
                score = validate(layer)
                A_tr = {k: layer.code({k: A_tr[k]}) for k in names}
                A_va = {k: layer.code({k: A_va[k]}) for k in names}
            layers.append(layer)
            val_maps.append(float(score))
            hist[f"bae.{level + 1}"] = h
        n_keep = int(np.argmax(val_maps)) + 1
        logger.info(
            "HRL %s: validation MAP per BAE level %s -> n = %d", self.variant, val_maps, n_keep
        )
        return (nn.ModuleList(layers[:n_keep]), val_maps), hist

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
        V = check_hrl_views(
            views,
            self.units_,
            fitted=self.view_names_,
            n_features=self.n_features_in_,
            allow_subset=True,
        )
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
            if self.ff_ is not None:
                if self.variant == "no_bae":
                    X = {
                        k: torch.softmax(self.ff_[k].classifier(self.ff_[k](X[k])), 1)
                        for k in names
                    }
                else:
                    X = {k: self.ff_[k](X[k]) for k in names}
            for layer in self.baes_:
                X = {k: layer.code({k: X[k]}) for k in names}
        out = {k: _np(X[k]).astype(np.float32) for k in names}
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
        self._check_fitted()
        d = Path(directory)
        params = {
            k: v for k, v in self.get_params(deep=False).items() if k not in ("stage1", "reuse")
        }
        spec = {
            "joint_ae": None
            if self.joint_ae_ is None
            else {k: [m.parts, int(m.encoder.out_features)] for k, m in self.joint_ae_.items()},
            "ff": None
            if self.ff_ is None
            else {k: int(m.body[0].in_features) for k, m in self.ff_.items()},
            "baes": [
                [{k: int(layer.enc[k].in_features) for k in layer.names}, int(layer.bias.shape[0])]
                for layer in self.baes_
            ],
        }
        arrays: dict[str, np.ndarray] = {}
        for prefix, mod in (("joint_ae", self.joint_ae_), ("ff", self.ff_), ("baes", self.baes_)):
            if mod is not None:
                arrays.update(state_arrays(f"state.{prefix}.", mod))
        for k, v in self.embedding_mean_.items():
            arrays[f"embedding_mean.{k}"] = np.asarray(v)
        with atomic_directory(d, _hrl_file) as tmp:
            (tmp / "stage1").mkdir()
            self.stage1_._write_into(tmp / "stage1")
            meta = {
                **header("HRL"),
                "params": json.loads(json.dumps(params, default=list)),
                "view_names": list(self.view_names_),
                "n_features_in": self.n_features_in_,
                "units": self.units_,
                "classes": self.classes_.tolist(),
                "spec": spec,
                "bae_val_map": self.bae_val_map_,
                "history": self.history_,
                "n_components": self.n_components_,
                "files": files_manifest(tmp, ["stage1/stage1.npz"]),
            }
            write_container(tmp / "hrl.npz", meta, arrays)
        return d

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
        d, meta, arrays, where = read_index(directory, "hrl.npz", "hrl.pt", "HRL")
        verify_files(d, meta.get("files"), ["stage1/stage1.npz"], where)
        try:
            model = cls._from_index(d, meta, arrays, device, where)
            model._self_check()
        except CheckpointError:
            raise
        except (*CONTENT_ERRORS, RuntimeError) as e:
            raise CheckpointError(
                f"{where}: a damaged or inconsistent HRL checkpoint ({type(e).__name__}: {e})"
            ) from e
        return model

    @classmethod
    def _from_index(
        cls,
        d: Path,
        meta: Mapping[str, Any],
        arrays: Mapping[str, np.ndarray],
        device: str,
        where: str,
    ) -> HRL:
        params = dict(need(meta, "params", dict))
        for k in ("friendly_hidden", "mutual_hidden", "ff_hidden"):
            if isinstance(params.get(k), list):
                params[k] = tuple(params[k])
        params["device"] = device
        try:
            model = cls(**params)
            model._check_params()
        except (TypeError, ConfigError) as e:
            raise CheckpointError(f"{where}: the saved hyperparameters are invalid: {e}") from e
        model._device = resolve_device(device)
        names, n_in = need_views(meta, where)
        stage1 = HRLStage1.load(d / "stage1", device="cpu")
        if set(stage1.view_names_) != set(names) or stage1.n_features_in_ != n_in:
            raise CheckpointError(f"{where}: stage1/ was fitted on other views or widths.")
        units = need(meta, "units", dict)
        if units != stage1.units_:
            raise CheckpointError(f"{where}: units {units!r} differ from stage1's.")
        classes = np.asarray(need(meta, "classes", list))
        if classes.ndim != 1 or len(classes) < 2:
            raise CheckpointError(f"{where}: classes must be a list of 2 or more labels.")
        n_classes = len(classes)
        spec = need(meta, "spec", dict)
        hidden = check_hidden(params["ff_hidden"])
        stages: dict[str, Any] = {}
        if spec["joint_ae"] is not None:
            stages["joint_ae"] = lambda: nn.ModuleDict(
                {k: JointAutoencoder(p, h) for k, (p, h) in spec["joint_ae"].items()}
            )
        if spec["ff"] is not None:
            stages["ff"] = lambda: nn.ModuleDict(
                {
                    k: FeedForward(w, hidden, n_classes, params["activation"], params["dropout"])
                    for k, w in spec["ff"].items()
                }
            )
        stages["baes"] = lambda: nn.ModuleList(
            BimodalLayer(w, c, n_classes) for w, c in spec["baes"]
        )
        known = {f"embedding_mean.{k}" for k in names}
        built: dict[str, Any] = {}
        for prefix, build in stages.items():
            state = sub_tensors(arrays, f"state.{prefix}.")
            known |= {f"state.{prefix}.{k}" for k in state}
            built[prefix] = build_checked(build, state, f"{where} ({prefix})")
            built[prefix].to(model._device).eval()
        extra = sorted(set(arrays) - known)
        if extra or not known <= set(arrays):
            raise CheckpointError(f"{where}: unexpected or missing arrays {extra[:3]}.")
        n_components = need(meta, "n_components", int)
        emb = {k: arrays[f"embedding_mean.{k}"] for k in names}
        if any(v.shape != (n_components,) for v in emb.values()):
            raise CheckpointError(f"{where}: embedding means do not have n_components entries.")
        model.stage1_ = stage1
        model.view_names_ = names
        model.n_features_in_ = n_in
        model.units_ = dict(units)
        model.classes_ = classes
        model.joint_ae_ = built.get("joint_ae")
        model.ff_ = built.get("ff")
        model.n_bae_ = len(built["baes"])
        model.bae_val_map_ = list(need(meta, "bae_val_map", list))
        model.history_ = need(meta, "history", dict)
        model.stage_keys_ = {"joint_ae": None, "ff": None, "bae": None}
        model.n_components_ = n_components
        model.embedding_mean_ = emb
        model.baes_ = built["baes"]
        return model

    def _self_check(self) -> None:
        """A loaded model must embed one zero row of each view into ``n_components_``."""
        zeros = {k: np.zeros((1, n)) for k, n in self.n_features_in_.items()}
        with np.errstate(all="ignore"):
            out = self.transform(zeros)
        if any(v.shape != (1, self.n_components_) for v in out.values()):
            raise CheckpointError("the loaded HRL returns codes of the wrong width.")


def _stratified_split(y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(train, held_out)``: ``fraction`` of every class held out (at least one)."""
    rng = np.random.default_rng(seed)
    held = []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        k = max(1, int(math.floor(fraction * len(idx) + 0.5))) if len(idx) > 1 else 0
        held.extend(rng.permutation(idx)[:k].tolist())
    held_arr = np.sort(np.asarray(held, dtype=int))
    if held_arr.size == 0:
        raise DataError("too few samples per class to hold out a validation set; pass views_val.")
    mask = np.ones(len(y), dtype=bool)
    mask[held_arr] = False
    return np.flatnonzero(mask), held_arr
