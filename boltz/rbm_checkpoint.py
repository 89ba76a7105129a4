"""Checkpoint state of :class:`boltz.RBM`: what ``save`` writes and ``load`` rebuilds.

:class:`CheckpointMixin` gives the estimator :meth:`~CheckpointMixin.checkpoint_state`
(the metadata and arrays of one ``.npz``, see :mod:`boltz.checkpoint` for the
format), ``save``, the validated rebuild ``from_checkpoint_state`` and pickling
through the same representation (no device objects are pickled).
"""

from __future__ import annotations

import logging
from typing import Any, Self

import numpy as np

from ._version import __version__
from .backend import make_streams
from .checkpoint import (
    CheckpointError,
    check_no_extra,
    clean_json,
    need,
    need_array,
    rng_from_json,
    rng_state_to_json,
    write_checkpoint,
)
from .errors import ConfigError
from .model import RBMModel
from .rbm_params import rbm_config
from .units import make_unit

# the estimator's logger: these are RBM methods, configured as ``boltz.rbm``
logger = logging.getLogger("boltz.rbm")

__all__ = ["CheckpointMixin"]

#: Fitted attributes that pickling replaces by the checkpoint representation.
_FITTED_STATE = (
    "model_",
    "optimizer_",
    "estimator_",
    "rng_shuffle_",
    "rng_sample_",
    "unit_",
    "data_mean_",
    "mean_",
    "scale_",
    "history_",
    "epoch_",
    "n_features_in_",
)


class CheckpointMixin:
    """Checkpoint state, ``save``, rebuild and pickling of a fitted RBM.

    For :class:`boltz.RBM`: it reads and restores the fitted attributes
    (``model_``, ``unit_``, ``optimizer_``, ``estimator_``, the random streams,
    ``data_mean_``, ``mean_``/``scale_``, ``epoch_``, ``history_``) and uses the
    estimator's ``_validate_params``, ``_new_backend``, ``_resolve_lr``, ``layer_``
    and ``_check_fitted``.
    """

    def checkpoint_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """What :meth:`save` writes, in memory (composite models embed it).

        Returns
        -------
        meta : dict
            JSON-able: class, config, unit, sizes, epoch, optimiser counter, RNG
            states, history.
        arrays : dict of str -> ndarray
            ``params.*`` (:meth:`boltz.layer.FittedLayer.state`), ``optim.*``,
            ``pcd.*``, ``data.mean`` and, for Gaussian visibles, ``data.standardize_*``.
        """
        self._check_fitted()
        be = self.model_.backend
        meta = {
            "class": "RBM",
            "library_version": __version__,
            "config": rbm_config(self),
            "unit": self.unit_.config(),
            "n_visible": self.n_features_in_,
            "n_hidden": self.model_.n_hidden,
            "epoch": int(self.epoch_),
            "n_updates": int(self.optimizer_.n_updates),
            "rng": {
                "shuffle": rng_state_to_json(self.rng_shuffle_),
                "sample": rng_state_to_json(self.rng_sample_),
            },
            "history": clean_json(self.history_),
        }
        layer = self.layer_
        arrays = {f"params.{k}": v for k, v in layer.params().items()}
        for k, v in self.optimizer_.state().items():
            arrays[f"optim.{k}"] = be.to_host(v)
        for k, v in self.estimator_.state().items():
            arrays[f"pcd.{k}"] = be.to_host(v)
        arrays["data.mean"] = self.data_mean_
        if layer.standardizer is not None:
            arrays.update(layer.standardizer.state())
        return meta, arrays

    def save(self, path: Any) -> Any:
        """Write a checkpoint (``.npz``, no pickle, atomic) and return its path."""
        meta, arrays = self.checkpoint_state()
        return write_checkpoint(path, meta, arrays)

    @classmethod
    def from_checkpoint_state(cls, meta: dict, arrays: dict, device: str = "auto") -> Self:
        """Rebuild a fitted RBM from :meth:`checkpoint_state` output (validated).

        Raises
        ------
        CheckpointError
            When the content is inconsistent.
        """
        config = dict(need(meta, "config", dict))
        unit_cfg = need(meta, "unit", dict)
        try:
            rbm = cls(**config)
        except TypeError as e:
            raise CheckpointError(f"checkpoint config has unknown keys: {e}") from e
        rbm.device = device
        rbm._restore(meta, arrays, unit_cfg)
        return rbm

    def _restore(self, meta: dict, arrays: dict, unit_cfg: dict) -> None:
        """Rebuild fitted state from validated checkpoint content.

        The fitted structure (visible unit, ``n_hidden``) comes from the checkpoint's
        ``unit`` and ``n_hidden``, the hyperparameters from its ``config``: they differ
        when ``set_params`` changed them after ``fit`` (the change applies at the next
        ``fit``, in memory and after loading alike).
        """
        _, optimizer, estimator = self._validate_params()
        try:
            unit = make_unit(unit_cfg)
        except (ConfigError, TypeError) as e:
            raise CheckpointError(f"checkpoint unit {unit_cfg!r} is invalid: {e}") from e
        if unit.config() != unit_cfg:
            raise CheckpointError(f"checkpoint unit {unit_cfg!r} is invalid.")
        V = need(meta, "n_visible", int)
        H = need(meta, "n_hidden", int)
        if V < 1 or H < 1:
            raise CheckpointError(f"checkpoint sizes are inconsistent: V={V}, H={H}.")
        epoch = need(meta, "epoch", int)
        n_updates = need(meta, "n_updates", int)
        if epoch < 0 or n_updates < 0:
            raise CheckpointError("checkpoint epoch/n_updates must be >= 0.")
        history = need(meta, "history", list)
        rng = need(meta, "rng", dict)
        be = self._new_backend()
        model = RBMModel([("visible", unit, V)], H, be)
        expected = {"weights": (V, H), "visible_bias": (V,), "hidden_bias": (H,)}
        if unit.learns_sigma:
            expected["log_sigma"] = (V,)
        allowed = {f"params.{k}" for k in expected} | {"data.mean"}
        params = {k: need_array(arrays, f"params.{k}", s) for k, s in expected.items()}
        model.set_params(params)
        opt = {}
        for k, s in expected.items():
            key = f"optim.velocity.{k}"
            if key in arrays:
                opt[f"velocity.{k}"] = need_array(arrays, key, s)
                allowed.add(key)
        if opt and len(opt) != len(expected):
            raise CheckpointError("checkpoint optimiser state is incomplete.")
        if "optim.q" in arrays:
            opt["q"] = need_array(arrays, "optim.q", (H,))
            allowed.add("optim.q")
        optimizer.load_state(opt, be, n_updates)
        pcd = {}
        if "pcd.chains" in arrays:
            if not estimator.persistent:
                raise CheckpointError("checkpoint has PCD chains but persistent=False.")
            ch = arrays["pcd.chains"]
            if ch.ndim != 2:
                raise CheckpointError("checkpoint PCD chains must be 2-D.")
            pcd["chains"] = need_array(arrays, "pcd.chains", (ch.shape[0], H))
            allowed.add("pcd.chains")
            if "pcd.chain_length" in arrays:
                pcd["chain_length"] = need_array(arrays, "pcd.chain_length", (ch.shape[0],))
                allowed.add("pcd.chain_length")
            estimator.load_state(pcd, be)
        self.data_mean_ = need_array(arrays, "data.mean", (V,)).astype(np.float64)
        self._resolve_lr(optimizer, unit)
        for attr in ("mean_", "scale_"):
            if hasattr(self, attr):
                delattr(self, attr)
        if unit.name == "gaussian":
            self.mean_ = need_array(arrays, "data.standardize_mean", (V,)).astype(np.float64)
            self.scale_ = need_array(arrays, "data.standardize_scale", (V,)).astype(np.float64)
            if np.any(self.scale_ <= 0):
                raise CheckpointError("checkpoint standardisation scale must be positive.")
            allowed |= {"data.standardize_mean", "data.standardize_scale"}
        check_no_extra(arrays, allowed)
        self.rng_shuffle_ = rng_from_json(rng.get("shuffle"))
        if be.name == "numpy":
            self.rng_sample_ = rng_from_json(rng.get("sample"))
        else:
            seed = make_streams(self.random_state, 3)[2]
            self.rng_sample_ = be.generator(seed)
            logger.warning("GPU sampling stream re-seeded after load: resume is not bitwise.")
        self.n_features_in_ = V
        self.unit_ = unit
        self.model_ = model
        self.optimizer_ = optimizer
        self.estimator_ = estimator
        self.epoch_ = epoch
        self.history_ = [dict(r) for r in history if isinstance(r, dict)]

    # pickling goes through the checkpoint representation (no device objects)
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        if self._is_fitted():
            meta, arrays = self.checkpoint_state()
            for k in _FITTED_STATE:
                state.pop(k, None)
            state["_boltz_state"] = (meta, arrays)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        packed = state.pop("_boltz_state", None)
        self.__dict__.update(state)
        if packed is not None:
            meta, arrays = packed
            device = self.device
            self._restore(meta, arrays, meta["unit"])
            self.device = device
