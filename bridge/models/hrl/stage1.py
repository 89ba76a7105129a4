"""Step 1 of HRL (boltz, CD-1): :class:`HRLStage1`, an SRBM per view and a multimodal DBN.

See :mod:`bridge.models.hrl` for the model.  The features are cached per input content
(:class:`~bridge.models.hrl.fingerprint.FeatureCache`), so the variants fitted on one
stage share its (slow) up-passes.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

import boltz
from boltz.atomic import atomic_directory
from boltz.checkpoint import need
from boltz.constraints import Check, Interval, Options, validate_params, validate_value
from boltz.container import (
    files_manifest,
    safe_member_name,
    verify_files,
    write_container,
)
from boltz.errors import CheckpointError, ConfigError, DataError

from .._checkpoint import header, need_views, read_index, restore_checked
from .._validation import check_hidden, resolve_seed
from .fingerprint import FeatureCache, fingerprint
from .stages import stage_seed
from .validation import UNITS, check_fitted_views, check_hrl_views, check_unit, per_view

__all__ = ["DEFAULT_MUTUAL", "DEFAULT_VISIBLE", "RBM_DEFAULTS", "STAGE1_CONSTRAINTS", "HRLStage1"]

logger = logging.getLogger(__name__)

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

#: What HRLStage1's hyperparameters may be (:mod:`boltz.constraints`), checked at ``fit``
#: once the views are; the widths (one sequence or a dict per view) and the units are
#: checked per view, each ``learning_rate`` entry (:data:`_UNIT_LEARNING_RATE`) where
#: its unit type is used, and the rest by boltz.
STAGE1_CONSTRAINTS: dict[str, list[Any]] = {
    "joint_hidden": [Interval(int, 1, None)],
    "epochs": [Interval(int, 1, None)],
    "batch_size": [Interval(int, 1, None)],
    "learning_rate": [None, Check(lambda v: isinstance(v, Mapping), "a dict {unit type: float}")],
    "meanfield_steps": [Interval(int, 1, None)],
}
_UNIT_LEARNING_RATE: list[Any] = [Options("auto"), Interval(float, 0, None, closed="neither")]


@dataclass(eq=False, repr=False)
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

    visible: Mapping[str, str] | None = None
    friendly_hidden: Sequence[int] | Mapping[str, Sequence[int]] = (1024, 512, 512)
    mutual_hidden: Sequence[int] | Mapping[str, Sequence[int]] | None = None
    joint_hidden: int = 2048
    epochs: int = 5
    batch_size: int = 64
    learning_rate: Mapping[str, float] | None = None
    meanfield_steps: int = 10
    joint_training: str = "likelihood"
    device: str = "cpu"
    random_state: int | None = 0
    progress: bool | None = None

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = STAGE1_CONSTRAINTS

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
        units = per_view(self.visible, names, "visible", DEFAULT_VISIBLE)
        return {k: check_unit(u, k) for k, u in units.items()}

    def _rbm(self, n_hidden: int, unit: str, seed: int) -> boltz.RBM:
        kw = dict(RBM_DEFAULTS[unit])
        if self.learning_rate is not None and unit in self.learning_rate:
            name = f"learning_rate[{unit!r}]"
            lr = validate_value(self.learning_rate[unit], _UNIT_LEARNING_RATE, name)
            kw["learning_rate"] = "auto" if lr == "auto" else float(lr)
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
        validate_params(self)
        fh = {
            k: check_hidden(v, f"friendly_hidden[{k!r}]")
            for k, v in per_view(
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
            for k, v in per_view(self.mutual_hidden, names, "mutual_hidden", DEFAULT_MUTUAL).items()
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
        self._cache = FeatureCache()
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
        V = check_fitted_views(self, views)
        cache = self.__dict__.get("_cache")
        if cache is None:
            cache = self._cache = FeatureCache()
        fps = {k: fingerprint(X) for k, X in V.items()}
        steps = int(self.meanfield_steps)
        out: dict[str, Any] = {"friendly": {}, "mutual": {}}
        for k, X in V.items():
            out["friendly"][k] = cache.get(
                ("F", k, fps[k]), lambda k=k, X=X: self.srbm_[k].transform(X)
            )
            out["mutual"][k] = cache.get(
                ("M", k, fps[k], steps),
                lambda k=k, X=X: self.mdbn_.transform({k: X}, missing="meanfield", steps=steps),
            )
        if pair:
            if set(V) != set(self.view_names_):
                raise DataError(f"pair=True needs every view {list(self.view_names_)}.")
            key = ("P", *(fps[k] for k in self.view_names_))
            out["pair"] = cache.get(key, lambda: self.mdbn_.transform(dict(V)))
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
        return restore_checked(
            lambda: cls._from_index(d, meta, device, where), "HRLStage1", where, self_check=False
        )

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
        obj._cache = FeatureCache()
        return obj


def _stage1_files(names: Sequence[str]) -> list[str]:
    """The files of a saved stage besides its index ``stage1.npz``."""
    return [*(f"srbm.{k}.npz" for k in names), "mdbn.npz"]


def _stage1_file(name: str) -> bool:
    """Whether a directory entry may belong to a saved stage (old layout included)."""
    return name in ("stage1.npz", "stage1.json", "mdbn.npz") or (
        name.startswith("srbm.") and name.endswith(".npz")
    )
