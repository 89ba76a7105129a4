"""The base class of the torch models: :class:`TorchMultiViewModel`.

The :class:`bridge.base.MultiViewModel` glue of :mod:`bridge.models.bimodal_ae`,
:mod:`~bridge.models.corr_ae`, :mod:`~bridge.models.dcca`, :mod:`~bridge.models.drumn`,
:mod:`~bridge.models.dm2c`, :mod:`~bridge.models.sdml` and :mod:`~bridge.models.flickr_ae`:
input standardisation, seeding, device, ``fit``/``transform`` plumbing, ``save``/``load``
(boltz's checkpoint container, see :mod:`bridge.models._checkpoint`).

Determinism: every model trains inside :func:`torch.random.fork_rng` after
``torch.manual_seed(seed)`` (parameter initialisation), and draws minibatch orders and
random masks from its own ``torch.Generator`` seeded with the same seed, so the global
torch RNG of the caller is left untouched and the same seed gives the same model on
the CPU.
"""

from __future__ import annotations

import json
import logging
import os
from abc import abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import KW_ONLY, dataclass, fields
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch import nn

from boltz.checkpoint import need
from boltz.constraints import Interval, Options, validate_params
from boltz.container import read_container, write_container
from boltz.errors import CheckpointError, ConfigError, DataError

from .. import distributed as bd
from ..base import MultiViewModel, ViewArrays, Views
from ..metrics import cross_modal_map
from ._checkpoint import (
    build_checked,
    check_header,
    check_widths,
    header,
    need_views,
    restore_checked,
    state_arrays,
    sub_tensors,
)
from ._layers import build_or_explain
from ._training import FitContext, loop_settings, train_loop
from ._validation import (
    check_hidden,
    progress_enabled,
    resolve_device,
    resolve_seed,
)

logger = logging.getLogger(__name__)


#: What the hyperparameters the torch models share may be, as a
#: :mod:`boltz.constraints` table; a model checks those it has (``_check_common``), a
#: model's ``_shared_constraints`` may replace some.
SHARED_CONSTRAINTS: dict[str, list[Any]] = {
    "epochs": [Interval(int, 1, None)],
    "batch_size": [Interval(int, 1, None)],
    "learning_rate": [Interval(float, 0, None, closed="neither")],
    "weight_decay": [Interval(float, 0, None)],
    "patience": [Interval(int, 1, None)],
    "monitor": [Options("auto", "loss", "map")],
    "standardize": ["boolean"],
    "center": ["boolean"],
    "progress": ["progress"],
}


def _tuples(value: Any) -> Any:
    """Lists (from JSON) back to tuples, recursively inside lists and dicts."""
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    if isinstance(value, dict):
        return {k: _tuples(v) for k, v in value.items()}
    return value


#: The hyperparameters that are keyword-only in every torch model (shared ones).
KEYWORD_ONLY = frozenset(SHARED_CONSTRAINTS) | {"device", "random_state", "n_jobs"}


@dataclass(eq=False, repr=False)
class TorchMultiViewModel(MultiViewModel):
    """Common ``fit`` / ``transform`` / checkpoint plumbing of the torch models.

    Subclasses store their hyperparameters in ``__init__`` (sklearn style) and
    implement

    * ``_parameter_constraints`` -- what each of its own hyperparameters may be, a
      :mod:`boltz.constraints` table checked with the shared ones (``_check_common``,
      at the start of ``fit``);
    * ``_check_params()`` -- the rules that tie several hyperparameters together
      (called after the tables);
    * ``_make_spec(n_in)`` -- a JSON-able description of the network for these input
      widths (``n_in[v]`` after preprocessing);
    * ``_build(spec)`` -- the ``nn.Module`` of a spec (random init);
    * ``_init_module(module, X)`` -- optional: set data-dependent buffers, copy
      pretrained weights in (before training; ``X`` the preprocessed training views);
    * ``_loss(module, batch, generator)`` -- the data term of the objective (a scalar);
    * ``_embed(module, X)`` -- embeddings of the given (preprocessed) views, as tensors;
    * optionally ``_after_train(module, X)`` (e.g. DCCA's final linear CCA) with
      ``_extra_arrays()`` / ``_set_extra_arrays()`` to checkpoint what it learns.

    A model with a ``center`` parameter set to True gets ``embedding_mean_`` (the mean
    training code of each view, from the default ``_after_train``) subtracted from its
    ``transform`` output: cosine retrieval on sigmoid codes otherwise mostly sees their
    common positive offset.

    Hyperparameters are declared once, as dataclass fields (sklearn's ``get_params``,
    ``set_params`` and ``clone`` read the generated ``__init__``): every subclass is
    turned into a dataclass when it is defined, so it lists only its own parameters
    as annotated class attributes, then ``_: KW_ONLY`` and the shared ones whose
    default it changes.  The shared ones -- ``epochs``, ``batch_size``,
    ``learning_rate``, ``weight_decay``, ``standardize``, ``device``, ``random_state``,
    ``progress`` here, ``patience`` and ``monitor`` in :class:`EarlyStoppingModel` --
    are keyword-only.

    Under an initialised ``torch.distributed`` process group (``torchrun``), ``fit``
    trains data-parallel with ``batch_size`` as the global batch and gives the
    single-process result to floating-point tolerance (:mod:`bridge.distributed`);
    only rank 0 logs and :meth:`save` writes only on rank 0.
    """

    min_views: ClassVar[int] = 2
    max_views: ClassVar[int | None] = 2
    _fitted_attrs: ClassVar[tuple[str, ...]] = ("module_",)
    #: Whether ``monitor="map"`` makes sense (two views embedded into one space).
    _supports_map: ClassVar[bool] = True
    #: How ``_loss`` splits over data-parallel processes: "mean" (a mean of per-row
    #: terms), "gather" (it gathers outputs with ``bridge.distributed.gather_rows``),
    #: "refuse", or None to defer to ``bridge.distributed.KNOWN_OBJECTIVES`` (a class
    #: found in neither refuses to train under a process group).
    _ddp_objective: ClassVar[str | None] = None
    #: What ``_check_common`` accepts for the shared hyperparameters
    #: (:data:`SHARED_CONSTRAINTS`).
    _shared_constraints: ClassVar[dict[str, list[Any]]] = SHARED_CONSTRAINTS
    #: What the model's own hyperparameters may be (checked by ``_check_common`` after
    #: the shared ones); a subclass extends its base's with ``{**Base._parameter_constraints,
    #: ...}``.
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {}
    #: Whether ``fit`` accepts samples that miss a view (rows all-NaN in it).
    _allow_nan_rows: ClassVar[bool] = False

    _: KW_ONLY
    epochs: int = 100
    batch_size: int = 64
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    standardize: bool = True
    device: str = "cpu"
    random_state: int | None = 0
    progress: bool | str | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        dataclass(eq=False, repr=False)(cls)  # __init__ from the declared fields
        positional = [f.name for f in fields(cls) if f.name in KEYWORD_ONLY and not f.kw_only]
        if positional:
            raise TypeError(
                f"{cls.__name__} redeclares the shared hyperparameters {positional} as "
                "positional; declare them after `_: KW_ONLY`."
            )

    # ------------------------------------------------------------------ hooks
    def _check_params(self) -> None:
        """The rules between hyperparameters (after the tables of ``_check_common``)."""

    @abstractmethod
    def _make_spec(self, n_in: Mapping[str, int]) -> dict[str, Any]: ...

    @abstractmethod
    def _build(self, spec: Mapping[str, Any]) -> nn.Module: ...

    def _init_module(self, module: nn.Module, X: dict[str, torch.Tensor]) -> None:
        return None

    @abstractmethod
    def _loss(
        self, module: nn.Module, batch: dict[str, torch.Tensor], generator: torch.Generator
    ) -> torch.Tensor: ...

    @abstractmethod
    def _embed(self, module: nn.Module, X: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]: ...

    def _after_train(self, module: nn.Module, X: dict[str, torch.Tensor]) -> None:
        """After training (and before each MAP validation): the training code means."""
        if getattr(self, "center", False):
            emb = self._embed(module, X)
            self.embedding_mean_ = {k: v.mean(dim=0).cpu().numpy() for k, v in emb.items()}

    def _extra_arrays(self) -> dict[str, np.ndarray]:
        means = getattr(self, "embedding_mean_", None) or {}
        return {
            f"embedding_mean.{i}": means[k] for i, k in enumerate(self.view_names_) if k in means
        }

    def _set_extra_arrays(self, arrays: Mapping[str, np.ndarray]) -> None:
        means = {
            k: arrays[f"embedding_mean.{i}"]
            for i, k in enumerate(self.view_names_)
            if f"embedding_mean.{i}" in arrays
        }
        if means:
            self.embedding_mean_ = means

    def _raw_views(self) -> frozenset[str]:
        """Views fed to the network without standardisation (e.g. pretrained DBN inputs)."""
        return frozenset()

    # ------------------------------------------------------------------ preprocessing
    def _fit_preprocess(self, V: Mapping[str, np.ndarray]) -> None:
        """Learn ``preprocess_``: per view ``mean`` (d,) and ``scale`` (d,) or None, from
        the view's complete rows (models that accept missing rows mark them NaN)."""
        raw = self._raw_views()
        self.preprocess_ = {}
        for k, X in V.items():
            if self.standardize and k not in raw:
                finite = np.isfinite(X).all(axis=1)
                rows = X if finite.all() else X[finite]
                sd = rows.std(axis=0)
                sd[sd < 1e-8 * max(1.0, float(sd.max(initial=0.0)))] = 1.0
                self.preprocess_[k] = {"mean": rows.mean(axis=0), "scale": sd}
            else:
                self.preprocess_[k] = {"mean": None, "scale": None}

    def _apply_preprocess(self, k: str, X: np.ndarray) -> np.ndarray:
        p = self.preprocess_[k]
        if p.get("mean") is not None:
            X = X - p["mean"]
        if p.get("scale") is not None:
            X = X / p["scale"]
        if p.get("proj") is not None:
            X = X @ p["proj"]
        return X

    def _undo_preprocess(self, k: str, Z: np.ndarray) -> np.ndarray:
        """View ``k``'s standardisation undone on ``Z`` (network units back to data
        units: times ``scale``, plus ``mean``)."""
        p = self.preprocess_[k]
        if p.get("scale") is not None:
            Z = Z * p["scale"]
        if p.get("mean") is not None:
            Z = Z + p["mean"]
        return Z

    def _tensors(
        self, V: Mapping[str, np.ndarray], device: torch.device | None = None
    ) -> dict[str, torch.Tensor]:
        """Preprocessed float32 tensors of the views on ``device`` (default: the fitted
        module's)."""
        dev = self._module_device() if device is None else device
        return {
            k: torch.as_tensor(
                np.ascontiguousarray(self._apply_preprocess(k, X), dtype=np.float32), device=dev
            )
            for k, X in V.items()
        }

    def _input_tensors(self, views: Views) -> dict[str, torch.Tensor]:
        """The views given to ``transform`` (or a method like it) validated and
        preprocessed, as float32 tensors on the fitted module's device."""
        return self._tensors(self._validate_transform(views, dtype=np.float64))

    def _module_device(self) -> torch.device:
        """Where the fitted network lives (``device`` resolved, before fit)."""
        module = getattr(self, "module_", None)
        if module is not None:
            for t in (*module.parameters(), *module.buffers()):
                return t.device
        return resolve_device(self.device)

    # ------------------------------------------------------------------ fit / transform
    def _check_common(self) -> None:
        """Check the hyperparameters against the tables: the shared ones this model has
        (``_shared_constraints``, :data:`SHARED_CONSTRAINTS`), then its own
        (``_parameter_constraints``)."""
        params = self.get_params(deep=False)
        validate_params(params, self._shared_constraints)
        validate_params(params, self._parameter_constraints)
        if params.get("monitor") == "map" and not self._supports_map:
            raise ConfigError(f"{type(self).__name__} supports monitor='loss' or 'auto' only.")

    def _validate_fit_views(
        self,
        views: Views,
        y: ArrayLike | None,
        views_val: Views | None,
        y_val: ArrayLike | None,
    ) -> tuple[dict[str, np.ndarray], Any, dict[str, np.ndarray] | None, Any]:
        """``(V, Y, V_val, Y_val)``: the validated arguments of ``fit`` (float64; rows
        missing in a view, all-NaN there, are accepted when ``_allow_nan_rows``)."""
        return self._validate_fit(
            views, y, views_val, y_val, allow_nan_rows=self._allow_nan_rows, dtype=np.float64
        )

    def _fit_data(self, V: ViewArrays, Y: Any, V_val: ViewArrays | None, ctx: FitContext) -> None:
        """Fill ``ctx.data`` / ``ctx.val_data`` from the validated views (after
        ``_fit_preprocess``); the network's input widths are ``ctx.data[v].shape[1]``."""
        ctx.data = self._tensors(V, ctx.device)
        ctx.val_data = self._tensors(V_val, ctx.device) if V_val is not None else None

    def _fit(self, views: Any, y: Any, views_val: Any, y_val: Any) -> None:
        """Train the network on paired views (see :meth:`MultiViewModel.fit`)."""
        self._check_common()
        self._check_params()
        distributed = self._distributed_mode()
        V, Y, V_val, Y_val = self._validate_fit_views(views, y, views_val, y_val)
        ctx = FitContext(
            device=resolve_device(self.device),
            seed=resolve_seed(self.random_state),
            monitor=self._resolve_monitor(Y_val),
            distributed=distributed,
            y_val=Y_val,
        )
        self._fit_preprocess(V)
        self._fit_data(V, Y, V_val, ctx)
        spec = ctx.spec = self._make_spec({k: int(ctx.data[k].shape[1]) for k in self.view_names_})
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(ctx.seed)
            module = build_or_explain(lambda: self._build(spec), type(self).__name__)
            self._init_module(module, ctx.data)
            module.to(ctx.device)
            ctx.generator = torch.Generator().manual_seed(ctx.seed)
            history, best_epoch = self._train(module, ctx)
        module.eval()
        self.spec_ = spec
        self.history_ = history
        self.best_epoch_ = best_epoch
        self.monitor_ = ctx.monitor
        self.module_ = module  # last: marks the model fitted
        if bd.rank() == 0:
            logger.info(
                "%s: %s epochs, best epoch %s", type(self).__name__, len(history), best_epoch
            )

    def _train(self, module: nn.Module, ctx: FitContext) -> tuple[Any, Any]:
        """The training step of ``fit``: train ``module`` in place, return ``(history,
        best_epoch)``.

        Runs inside ``fork_rng`` after ``torch.manual_seed(ctx.seed)``.  The default is
        :func:`train_loop` on ``_loss`` with early stopping on ``ctx.val_data``, then
        ``_after_train`` (without gradients).  Models with their own loop (DM2C), their
        own per-view jobs (SDML) or state along the loop (DRUMN) override it.
        """
        validate = self._validator(module, ctx)
        out = train_loop(
            module,
            lambda b, g: self._loss(module, b, g),
            ctx.data,
            generator=ctx.generator,
            validate=validate,
            maximize=ctx.monitor == "map",
            distributed=ctx.distributed,
            **self._loop_params(),
        )
        with torch.no_grad():
            self._after_train(module, ctx.data)
        return out

    def _loop_params(self, desc: str | None = None) -> dict[str, Any]:
        """:func:`train_loop`'s keyword arguments from the shared hyperparameters."""
        return {
            **loop_settings(self),
            "progress": progress_enabled(self.progress),
            "desc": type(self).__name__ if desc is None else desc,
        }

    def _resolve_monitor(self, Y_val: Any) -> str:
        """The early-stopping criterion: ``monitor``, with "auto" meaning the validation
        MAP when validation labels are given (and the model supports it), else the loss."""
        monitor = getattr(self, "monitor", "loss")  # models without early stopping on MAP
        if monitor == "auto":
            monitor = "map" if (Y_val is not None and self._supports_map) else "loss"
        if monitor == "map" and Y_val is None:
            raise ConfigError("monitor='map' needs views_val and y_val.")
        return monitor

    def _distributed_mode(self) -> str | bool | None:
        """``train_loop``'s ``distributed`` for this model: None without data-parallel
        training; "mean"/"gather" under a process group; ConfigError if the model's
        objective cannot be split (see :mod:`bridge.distributed`)."""
        if not bd.is_active():
            return None
        mode = bd.objective_mode(type(self))
        if mode not in bd.MODES:
            raise ConfigError(bd.refusal(type(self)))
        return mode

    def _validator(self, module: nn.Module, ctx: FitContext) -> Callable[[], float] | None:
        """The early-stopping score of ``module`` on ``ctx.val_data``, None without
        validation data: :meth:`_map_validator` with ``monitor="map"``, else
        :meth:`_loss_validator`."""
        if ctx.val_data is None:
            return None
        if ctx.monitor == "map":
            return self._map_validator(module, ctx)
        return self._loss_validator(module, ctx.val_data)

    def _loss_validator(
        self, module: nn.Module, X_val: dict[str, torch.Tensor]
    ) -> Callable[[], float]:
        def validate() -> float:
            # the same random masks every epoch, so the scores are comparable
            return float(self._loss(module, X_val, torch.Generator().manual_seed(0)))

        return validate

    def _map_validator(self, module: nn.Module, ctx: FitContext) -> Callable[[], float]:
        """The cross-modal MAP of the one-view embeddings of ``ctx.val_data`` (labels
        ``ctx.y_val``), after ``_after_train`` on the training views."""
        X, X_val, Y_val = ctx.data, ctx.val_data, ctx.y_val

        def validate() -> float:
            self._after_train(module, X)
            emb = {k: v.cpu().numpy() for k, v in self._embed(module, X_val).items()}
            emb = self._finish_embedding(emb)
            return cross_modal_map(emb, Y_val)["average"]

        return validate

    def _finish_embedding(self, emb: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Post-process network embeddings (numpy): subtract the training code means when
        the model has ``center=True``; identity otherwise."""
        if getattr(self, "center", False):
            return {k: v - self.embedding_mean_[k] for k, v in emb.items()}
        return emb

    def transform(self, views: Views) -> dict[str, np.ndarray]:
        """Embed each given view (any subset of the fitted views).

        Parameters
        ----------
        views : dict[str, array-like of shape (n_samples, n_features_v)]
            Any subset of the fitted views, each embedded on its own.

        Returns
        -------
        dict[str, ndarray of shape (n_samples, n_components)]
            float32 embeddings, one per given view, each computed from that view alone.
        """
        X = self._input_tensors(views)
        module = self.module_
        module.eval()
        with torch.no_grad():
            out = self._embed(module, X)
        return self._finish_embedding({k: v.cpu().numpy() for k, v in out.items()})

    # ------------------------------------------------------------------ checkpoints
    def _json_params(self) -> dict[str, Any]:
        out = {}
        for k, v in self.get_params(deep=False).items():
            try:
                json.dumps(v)
            except TypeError:
                v = None  # e.g. pretrained DBNs: the checkpoint holds the trained weights
            out[k] = v
        return out

    def _checkpoint_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """``(meta, arrays)`` of the fitted model (see :meth:`save`)."""
        arrays: dict[str, np.ndarray] = {}
        for k, p in self.preprocess_.items():
            for name, a in p.items():
                if a is not None:
                    arrays[f"preprocess.{k}.{name}"] = np.asarray(a)
        for name, a in self._extra_arrays().items():
            arrays[f"extra.{name}"] = np.asarray(a)
        arrays.update(state_arrays("state.", self.module_))
        meta = {
            **header(type(self).__name__),
            "params": self._json_params(),
            "view_names": list(self.view_names_),
            "n_features_in": dict(self.n_features_in_),
            "spec": self.spec_,
            "history": self.history_,
            "best_epoch": self.best_epoch_,
            "monitor": self.monitor_,
        }
        return meta, arrays

    def save(self, path: str | os.PathLike) -> Path | None:
        """Write the fitted model to ``path`` (one checkpoint file, atomic).

        The file is boltz's checkpoint container (a ``.npz``, see
        :mod:`boltz.container`), whatever its name: the module's ``state_dict``,
        the preprocessing arrays and the network spec and hyperparameters as JSON,
        with a SHA-256 over every byte, so :meth:`load` runs no pickle and detects
        any damage.  Hyperparameters that are not JSON (a ``pretrained`` DBN) are
        stored as None: the trained weights are in the ``state_dict``.  A model whose
        weights hold NaN or inf is refused (``CheckpointError``), leaving the file
        on disk unchanged.

        Under an initialised ``torch.distributed`` process group only rank 0 writes; the
        other ranks return None without touching ``path`` (call
        ``torch.distributed.barrier()`` before they read the file).

        Returns
        -------
        pathlib.Path or None
            The path written (None on the ranks that do not write).
        """
        self._check_fitted()
        if bd.rank() != 0:
            logger.debug("rank %d: save(%s) skipped (rank 0 writes)", bd.rank(), path)
            return None
        meta, arrays = self._checkpoint_state()
        return write_container(Path(path), meta, arrays)

    @classmethod
    def load(cls, path: str | os.PathLike, device: str = "cpu") -> TorchMultiViewModel:
        """Read a model written by :meth:`save`.

        Parameters
        ----------
        path : path-like
        device : str, default "cpu"
            Where the loaded module lives (overrides the saved ``device``).

        Raises
        ------
        FileNotFoundError, PermissionError
            The file is missing or cannot be read.
        CheckpointError
            Not a checkpoint of this class, a damaged one (any changed byte), one of
            the old ``torch.save`` format, or content that does not fit together.
        """
        where = repr(str(path))
        meta, arrays = read_container(path)
        check_header(meta, cls.__name__, where)
        return restore_checked(
            lambda: cls._restore(meta, arrays, device, where), "bridge.models", where
        )

    @classmethod
    def _restore(
        cls, meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray], device: str, where: str
    ) -> TorchMultiViewModel:
        """Rebuild the model from a verified container (other errors are turned into
        CheckpointError by :meth:`load`)."""
        # JSON has no tuples: the list-valued hyperparameters (layer widths) were tuples
        params = {k: _tuples(v) for k, v in need(meta, "params", dict).items()}
        params["device"] = device
        try:
            model = cls(**params)
            model._check_common()
            model._check_params()
        except (TypeError, ConfigError) as e:
            raise CheckpointError(f"{where}: the saved hyperparameters are invalid: {e}") from e
        model.view_names_, model.n_features_in_ = need_views(meta, where)
        hidden = params.get("hidden")
        try:  # widths are otherwise only checked when fit builds the network
            for h in hidden.values() if isinstance(hidden, Mapping) else [hidden]:
                if h is not None:
                    check_hidden(h)
        except ConfigError as e:
            raise CheckpointError(f"{where}: the saved hyperparameters are invalid: {e}") from e
        check_widths(model.n_features_in_, arrays, where)
        names = set(model.view_names_)
        for k in arrays:
            head, _, rest = k.partition(".")
            if head == "preprocess":
                view, _, what = rest.rpartition(".")
                ok = view in names and what in ("mean", "scale", "proj")
            else:
                ok = head in ("state", "extra")
            if not ok:
                raise CheckpointError(f"{where}: unexpected array {k!r}.")
        model.preprocess_ = {
            k: {name: arrays.get(f"preprocess.{k}.{name}") for name in ("mean", "scale", "proj")}
            for k in model.view_names_
        }
        for k, p in model.preprocess_.items():
            scale = p.get("scale")
            if scale is not None and not np.all(scale > 0):
                raise CheckpointError(f"{where}: the saved scale of view {k!r} is not positive")
        model._set_extra_arrays(
            {k[len("extra.") :]: v for k, v in arrays.items() if k.startswith("extra.")}
        )
        spec = need(meta, "spec", dict)
        module = build_checked(lambda: model._build(spec), sub_tensors(arrays, "state."), where)
        module.to(resolve_device(device)).eval()
        model.spec_ = spec
        model.history_ = meta["history"]
        model.best_epoch_ = meta["best_epoch"]
        model.monitor_ = meta["monitor"]
        model.module_ = module
        return model

    def _self_check(self) -> None:
        """Embed zero rows: a loaded model must run ``transform`` and return one code
        per given view (catches preprocessing or extra arrays whose shapes do not fit
        the network).  All views together are tried first, then each view alone,
        since some models accept only some combinations (DM2C: one view per row;
        CrossModalAE: the image).  The values are not judged: a zero row may
        legitimately map to NaN (e.g. a zero word-vector norm)."""
        zeros = {k: np.zeros((1, int(n))) for k, n in self.n_features_in_.items()}
        probes = [zeros] + [{k: v} for k, v in zeros.items()] if len(zeros) > 1 else [zeros]
        for probe in probes:
            try:
                with np.errstate(all="ignore"):
                    out = self.transform(probe)
            except DataError:  # this combination of views is not accepted by the model
                continue
            if not out or any(np.asarray(v).shape[0] != 1 for v in out.values()):
                raise CheckpointError("the loaded model returns codes of the wrong shape")
            return
        raise CheckpointError("the loaded model embeds no combination of its views")


class EarlyStoppingModel(TorchMultiViewModel):
    """A torch model that stops early on ``views_val``: adds ``patience`` (epochs
    without improvement) and ``monitor`` ("auto", "loss" or "map") to the shared
    hyperparameters."""

    _: KW_ONLY
    patience: int = 10
    monitor: str = "auto"
