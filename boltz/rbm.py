"""The :class:`RBM` estimator (scikit-learn conventions)."""

from __future__ import annotations

import logging
import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from ._version import __version__
from .backend import Backend, get_backend, is_sparse, make_streams, resolve_dtype
from .checkpoint import (
    CheckpointError,
    check_no_extra,
    check_writable,
    clean_json,
    need,
    need_array,
    register,
    rng_from_json,
    rng_state_to_json,
    write_checkpoint,
)
from .devices import parse_device
from .distributed import is_writer
from .errors import ConfigError, DataError, NotFittedError
from .gradients import CD, make_estimator
from .layer import FittedLayer, Standardizer
from .likelihood import AISResult, ais_log_partition, exact_is_cheap, exact_log_partition
from .model import RBMModel
from .monitor import pseudo_log_likelihood
from .optim import SGD
from .progress import check_progress
from .trainer import Trainer, iter_batches, take_rows
from .units import VisibleUnit, make_unit
from .validation import check_data, chunk_rows, iter_chunks

logger = logging.getLogger(__name__)

__all__ = ["RBM", "rbm_config"]

_EVAL_BATCH = 4096

#: ``learning_rate="auto"``: the step per unit type; the softmax one is divided by
#: the mean training document length.
AUTO_LEARNING_RATE = {"bernoulli": 0.01, "gaussian": 0.001, "softmax": 0.05}


def auto_learning_rate(unit_name: str, data_mean: np.ndarray | None = None) -> float:
    """The learning rate ``learning_rate="auto"`` resolves to.

    Parameters
    ----------
    unit_name : {"bernoulli", "gaussian", "softmax"}
    data_mean : ndarray, shape (V,), optional
        Column means of the training counts (softmax: they sum to the mean length).
    """
    lr = AUTO_LEARNING_RATE.get(unit_name, AUTO_LEARNING_RATE["bernoulli"])
    if unit_name == "softmax" and data_mean is not None:
        lr /= max(1.0, float(np.sum(data_mean)))
    return lr


def _log_ais(res: AISResult, n_runs: int, n_words: Any) -> None:
    """Log an AIS estimate with its +-3 sigma interval."""
    if np.ndim(res.log_z) == 0:
        logger.info(
            "log Z by AIS (%d runs x %d betas%s): %.4f, +-3 sigma interval [%.4f, %.4f]",
            n_runs,
            res.n_betas,
            "" if n_words is None else f", D={n_words}",
            res.log_z,
            res.log_z_low,
            res.log_z_high,
        )
        return
    width = np.asarray(res.log_z_high) - np.asarray(res.log_z_low)
    logger.info(
        "log Z by AIS (%d runs x %d betas) for %d lengths: +-3 sigma intervals %.3g to %.3g "
        "nats wide (median %.3g)",
        n_runs,
        res.n_betas,
        width.size,
        float(np.min(width)),
        float(np.max(width)),
        float(np.median(width)),
    )


def rbm_config(rbm: RBM) -> dict[str, Any]:
    """The constructor parameters of an RBM as JSON-able data (the checkpoint ``config``).

    Callbacks are dropped (not serialisable), a unit object becomes its config dict,
    a path ``checkpoint`` a string, a non-integer ``random_state`` None.
    """
    params = rbm.get_params(deep=False)
    params.pop("callbacks", None)
    if isinstance(params["visible"], VisibleUnit):
        params["visible"] = params["visible"].config()
    if params.get("checkpoint") is not None:
        params["checkpoint"] = str(params["checkpoint"])
    rs = params.get("random_state")
    params["random_state"] = int(rs) if isinstance(rs, (int, np.integer)) else None
    return clean_json(params)


def _check_int(name: str, value: Any, lo: int, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < lo:
        raise ConfigError(f"{name} must be an integer >= {lo}; got {value!r}.")


@register("RBM")
class RBM(TransformerMixin, BaseEstimator):
    """Restricted Boltzmann machine with Bernoulli hidden units, trained by CD-k or PCD.

    Parameters
    ----------
    n_hidden : int, default 256
        Number of hidden units H.
    visible : {"bernoulli", "gaussian", "softmax"} or VisibleUnit, default "bernoulli"
        Visible unit type. "softmax" is the replicated softmax for word counts
        (dense or ``scipy.sparse`` CSR input).
    learn_sigma : bool, default False
        Gaussian visibles only: learn a per-visible log sigma (otherwise sigma = 1
        on data standardised with whole-training-set statistics).
    k : int, default 1
        Gibbs steps per update (CD-k / PCD-k).
    persistent : bool, default False
        Use persistent chains (PCD) instead of CD.
    n_chains : int or None
        Number of PCD chains (default: the batch size).
    sample_visible : bool or "auto", default "auto"
        Sample the negative-phase visible states (True) or use their conditional
        means (False, deepnet's choice). "auto": means for Bernoulli and Gaussian
        visibles, samples for the replicated softmax and for Gaussian visibles with
        ``learn_sigma`` (the variance gradient needs the sampling noise; with means
        every sigma drifts up alike). With sampled visibles a layer
        trained on probabilities (every layer above the first of a DBN) sees Bernoulli
        noise in its negative phase that its data do not have; most of its hidden
        units then stay weakly driven (``docs/multimodal.md``).
    learning_rate : float or "auto", default "auto"
        Step size.  "auto" resolves per unit type at ``fit`` (``learning_rate_``):
        0.01 for Bernoulli visibles, 0.001 for Gaussian visibles and
        ``0.05 / mean document length`` for the replicated softmax, whose
        statistics grow with the length D (a document is D softmax units sharing
        W, and the hidden bias is scaled by D), so a fixed step that suits
        Bernoulli data is D times too large there (``docs/rbm.md``, "Defaults").
    lr_decay, momentum, final_momentum, momentum_epochs, weight_decay,
    sparsity_target, sparsity_decay, sparsity_cost
        Optimiser settings, see :class:`boltz.optim.SGD`.
    batch_size : int, default 64
    epochs : int, default 10
        Total number of epochs ``fit`` trains to.
    init_scale : float, default 0.01
        Standard deviation of the initial weights.
    monitor_size : int, default 256
        At most this many rows of ``X`` (and of ``X_val``) are used for the
        per-epoch diagnostics in ``history_`` (0 disables them).
    monitor : {"auto", "full"}, default "auto"
        "auto": diagnostics that cost at most ~5 % of the training work (the monitor
        subsets shrink on small data sets, see :func:`boltz.trainer.monitor_rows`)
        and, for Bernoulli visibles, ``pseudo_likelihood_sampled``: an unbiased
        estimate of the pseudo-likelihood from 2 visibles per row.  "full": all
        ``monitor_size`` rows and the exact ``pseudo_likelihood`` (O(rows V H);
        slower than a training epoch for large models).
    ais_every : int, default 0
        Add an AIS log-likelihood estimate to ``history_`` every this many epochs.
    device : {"auto", "cpu", "gpu"}, default "auto"
        ``"cuda"`` is accepted for ``"gpu"`` (see :mod:`boltz.devices`).
    dtype : {"float32", "float64"}, default "float32"
    progress : "auto", bool or None
        tqdm progress bar on stderr; "auto" (or None) shows it only on a terminal.
    callbacks : sequence of callables, optional
        ``cb(rbm, epoch, record)`` after every epoch (after the checkpoint is written).
    checkpoint : path-like, optional
        Write a checkpoint here every ``checkpoint_every`` epochs (atomic rename).
    checkpoint_every : int, default 1
    warm_start : bool, default False
        When fitted, ``fit`` continues from the current state up to ``epochs``
        (the exact resume path after :func:`boltz.load`).
    random_state : None or int
        One seed spawns independent streams for initialisation, shuffling and sampling.

    Attributes
    ----------
    weights_ : ndarray, shape (n_features, n_hidden)
    visible_bias_ : ndarray, shape (n_features,)
    hidden_bias_ : ndarray, shape (n_hidden,)
    sigma_ : ndarray, shape (n_features,)
        Gaussian only: standard deviations in standardised units (1 unless learned).
    mean_, scale_ : ndarray, shape (n_features,)
        Gaussian only: training-set mean and standard deviation used to standardise.
    data_mean_ : ndarray, shape (n_features,)
        Mean of the (standardised) training data; the AIS base-rate model uses it.
    learning_rate_ : float
        The learning rate in use (``learning_rate`` resolved when "auto").
    n_features_in_ : int
    epoch_ : int
        Epochs trained so far.
    history_ : list of dict
        One record per epoch: ``recon_error``, ``free_energy``,
        ``pseudo_likelihood_sampled`` (Bernoulli, ``monitor="auto"``) or
        ``pseudo_likelihood`` (exact, ``monitor="full"``),
        ``free_energy_val``/``free_energy_gap``/``recon_error_val`` with ``X_val``,
        ``ais_log_likelihood`` when ``ais_every``, ``seconds`` (training and
        monitoring).

    Examples
    --------
    >>> import numpy as np, boltz
    >>> X = (np.random.default_rng(0).random((100, 16)) > 0.5).astype("float32")
    >>> rbm = boltz.RBM(n_hidden=8, epochs=2, random_state=0, progress=False).fit(X)
    >>> rbm.transform(X).shape
    (100, 8)
    """

    def __init__(
        self,
        n_hidden: int = 256,
        visible: Any = "bernoulli",
        *,
        learn_sigma: bool = False,
        k: int = 1,
        persistent: bool = False,
        n_chains: int | None = None,
        sample_visible: Any = "auto",
        learning_rate: float | str = "auto",
        lr_decay: float | None = None,
        momentum: float = 0.5,
        final_momentum: float = 0.9,
        momentum_epochs: int = 5,
        weight_decay: float = 0.0,
        sparsity_target: float | None = None,
        sparsity_decay: float = 0.95,
        sparsity_cost: float = 0.0,
        batch_size: int = 64,
        epochs: int = 10,
        init_scale: float = 0.01,
        monitor_size: int = 256,
        monitor: str = "auto",
        ais_every: int = 0,
        device: str = "auto",
        dtype: str = "float32",
        progress: Any = "auto",
        callbacks: Sequence[Callable] | None = None,
        checkpoint: Any = None,
        checkpoint_every: int = 1,
        warm_start: bool = False,
        random_state: Any = None,
    ) -> None:
        self.n_hidden = n_hidden
        self.visible = visible
        self.learn_sigma = learn_sigma
        self.k = k
        self.persistent = persistent
        self.n_chains = n_chains
        self.sample_visible = sample_visible
        self.learning_rate = learning_rate
        self.lr_decay = lr_decay
        self.momentum = momentum
        self.final_momentum = final_momentum
        self.momentum_epochs = momentum_epochs
        self.weight_decay = weight_decay
        self.sparsity_target = sparsity_target
        self.sparsity_decay = sparsity_decay
        self.sparsity_cost = sparsity_cost
        self.batch_size = batch_size
        self.epochs = epochs
        self.init_scale = init_scale
        self.monitor_size = monitor_size
        self.monitor = monitor
        self.ais_every = ais_every
        self.device = device
        self.dtype = dtype
        self.progress = progress
        self.callbacks = callbacks
        self.checkpoint = checkpoint
        self.checkpoint_every = checkpoint_every
        self.warm_start = warm_start
        self.random_state = random_state

    # ================================================================ setup
    def _unit(self) -> VisibleUnit:
        return make_unit(self.visible, learn_sigma=self.learn_sigma)

    def _optimizer(self) -> SGD:
        lr = self.learning_rate
        if isinstance(lr, str):
            if lr != "auto":
                raise ConfigError(f"learning_rate must be a positive number or 'auto'; got {lr!r}.")
            lr = AUTO_LEARNING_RATE["bernoulli"]  # resolved with the data in _resolve_lr
        return SGD(
            learning_rate=lr,
            lr_decay=self.lr_decay,
            momentum=self.momentum,
            final_momentum=self.final_momentum,
            momentum_epochs=self.momentum_epochs,
            weight_decay=self.weight_decay,
            sparsity_target=self.sparsity_target,
            sparsity_decay=self.sparsity_decay,
            sparsity_cost=self.sparsity_cost,
        )

    def _validate_params(self) -> tuple[VisibleUnit, SGD, CD]:
        _check_int("n_hidden", self.n_hidden, 1)
        _check_int("k", self.k, 1)
        _check_int("n_chains", self.n_chains, 1, allow_none=True)
        _check_int("batch_size", self.batch_size, 1)
        _check_int("epochs", self.epochs, 0)
        _check_int("monitor_size", self.monitor_size, 0)
        _check_int("ais_every", self.ais_every, 0)
        if self.monitor not in ("auto", "full"):
            raise ConfigError(f"monitor must be 'auto' or 'full'; got {self.monitor!r}.")
        _check_int("checkpoint_every", self.checkpoint_every, 1)
        if not (isinstance(self.init_scale, numbers.Real) and 0 < self.init_scale < math.inf):
            raise ConfigError(f"init_scale must be a positive number; got {self.init_scale!r}.")
        check_progress(self.progress)
        resolve_dtype(self.dtype)
        parse_device(self.device)
        unit = self._unit()
        if self.learn_sigma and unit.name != "gaussian":
            raise ConfigError("learn_sigma=True needs visible='gaussian'.")
        if self.sample_visible not in ("auto", True, False):
            raise ConfigError(
                f"sample_visible must be 'auto', True or False; got {self.sample_visible!r}."
            )
        if self.sample_visible == "auto":
            sample = unit.name == "softmax" or bool(self.learn_sigma)
        else:
            sample = bool(self.sample_visible)
        return (
            unit,
            self._optimizer(),
            make_estimator(self.k, self.persistent, self.n_chains, sample),
        )

    def _is_fitted(self) -> bool:
        return hasattr(self, "model_")

    def _check_fitted(self) -> None:
        if not self._is_fitted():
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator."
            )

    @property
    def backend_(self) -> Backend:
        self._check_fitted()
        return self.model_.backend

    # ================================================================ data
    @property
    def layer_(self) -> FittedLayer:
        """The fitted layer: model, visible unit and standardiser (a view, no copy).

        What :class:`boltz.DBN`, :class:`boltz.MultimodalDBN` and the torch
        exporters compose (see :mod:`boltz.layer`).
        """
        self._check_fitted()
        std = Standardizer(self.mean_, self.scale_) if hasattr(self, "mean_") else None
        return FittedLayer(self.model_, std)

    def _check_X(
        self,
        X: Any,
        name: str = "X",
        fitting: bool = False,
        *,
        owner: str | None = None,
        clip: bool = False,
    ) -> Any:
        """Validate ``X`` for this model (``fitting``: for the unit being fitted).

        With ``clip`` (``transform``), Bernoulli inputs outside [0, 1] are clipped into
        a copy with a :class:`~boltz.errors.DataRangeWarning` instead of refused.
        """
        owner = owner or type(self).__name__
        if not fitting:
            return self.layer_.check_input(X, name, owner=owner, clip=clip)
        unit = self._unit()
        return check_data(X, name, allow_sparse=unit.name == "softmax", owner=owner, unit=unit)

    def _data_stats(self, X: Any, unit: VisibleUnit) -> None:
        """Column means (all units) and, for Gaussian visibles, the standardisation.

        The variance is computed without cancellation or overflow, block by block
        (one pass, so out-of-core data is read once): each block's mean and sum of
        squared deviations come from a two-pass computation in float64, blocks are
        merged with Chan et al.'s update, and the squares are taken in units of the
        largest deviation seen so far (a per-column scale), so finite inputs up to
        ~1e308 give finite scales.  A column whose spread is below 1e-8, or below
        float64 rounding of its offset (1e-12 |mean|), counts as constant (scale 1).
        """
        n, d = X.shape
        gaussian = unit.name == "gaussian"
        mean = np.zeros(d)
        m2 = np.zeros(d)  # sum of squared deviations, in units of ref**2
        ref = np.zeros(d)  # per-column scale of the deviations
        seen = 0
        for block in iter_chunks(X):
            if is_sparse(block):
                b_n = block.shape[0]
                b_mean = np.asarray(block.sum(axis=0), dtype=np.float64).ravel() / b_n
            else:
                b = np.asarray(block, dtype=np.float64)
                b_n = b.shape[0]
                b_mean = b.mean(axis=0)
            total = seen + b_n
            delta = b_mean - mean
            mean = mean + delta * (b_n / total)
            if gaussian:
                dev = b - b_mean
                b_ref = np.max(np.abs(dev), axis=0)
                new_ref = np.maximum(np.maximum(ref, b_ref), np.abs(delta))
                safe = np.where(new_ref > 0, new_ref, 1.0)
                b_m2 = np.einsum("ij,ij->j", dev / safe, dev / safe)
                m2 = m2 * (ref / safe) ** 2 + b_m2 + (delta / safe) ** 2 * (seen * b_n / total)
                ref = new_ref
            seen = total
        if gaussian:
            scale = ref * np.sqrt(m2 / n)
            const = (scale < 1e-8) | (scale <= 1e-12 * np.abs(mean)) | ~np.isfinite(scale)
            scale[const] = 1.0
            self.mean_ = mean
            self.scale_ = scale
            self.data_mean_ = np.zeros(d)
        else:
            self.data_mean_ = mean

    # ================================================================ fit
    def _initialize(self, X: Any, unit: VisibleUnit, optimizer: SGD, estimator: CD) -> None:
        for attr in ("mean_", "scale_"):
            if hasattr(self, attr):
                delattr(self, attr)
        be = get_backend(self.device, self.dtype)
        s_init, s_shuffle, s_sample = make_streams(self.random_state, 3)
        self.n_features_in_ = int(X.shape[1])
        self.unit_ = unit
        self._data_stats(X, unit)
        self._resolve_lr(optimizer, unit)
        model = RBMModel([("visible", unit, self.n_features_in_)], self.n_hidden, be)
        model.initialize(
            np.random.Generator(np.random.PCG64(s_init)), self.data_mean_, self.init_scale
        )
        self.model_ = model
        self.optimizer_ = optimizer
        self.estimator_ = estimator
        self.rng_shuffle_ = np.random.Generator(np.random.PCG64(s_shuffle))
        self.rng_sample_ = be.generator(s_sample)
        self.epoch_ = 0
        self.history_ = []

    def _monitor_seed(self) -> np.random.SeedSequence | None:
        """Seed of the sampled pseudo-likelihood's stream: from an integer
        ``random_state`` (reproducible), fresh otherwise (a user's generator is
        not advanced)."""
        rs = self.random_state
        if isinstance(rs, numbers.Integral) and not isinstance(rs, bool):
            return make_streams(rs, 5)[4]
        return None

    def _resolve_lr(self, optimizer: SGD, unit: VisibleUnit) -> None:
        """Set ``learning_rate_`` (and the optimiser's rate) from ``learning_rate``."""
        if self.learning_rate == "auto":
            optimizer.learning_rate = auto_learning_rate(unit.name, self.data_mean_)
        self.learning_rate_ = float(optimizer.learning_rate)

    def _trainer(self) -> Trainer:
        def ais_fn(rows: Any) -> float:
            return self.log_likelihood(rows, method="ais", n_runs=32, n_betas=2000, progress=False)

        return Trainer(
            self.model_,
            self.estimator_,
            self.optimizer_,
            self.batch_size,
            self.rng_shuffle_,
            self.rng_sample_,
            self.layer_.standardize,
            monitor_size=self.monitor_size,
            monitor=self.monitor,
            monitor_seed=self._monitor_seed(),
            ais_every=self.ais_every,
            ais_fn=ais_fn,
            progress=self.progress,
            desc=f"RBM {self.unit_.name} {self.n_features_in_}x{self.n_hidden}",
        )

    def _run(
        self, X: Any, X_val: Any, end_epoch: int, callbacks: Sequence[Callable] | None = None
    ) -> None:
        if self.checkpoint is not None:
            check_writable(self.checkpoint)

        def after_epoch(epoch: int, rec: dict[str, float]) -> None:
            self.epoch_ = epoch + 1
            if (
                self.checkpoint is not None
                and is_writer()
                and (self.epoch_ % self.checkpoint_every == 0 or self.epoch_ == end_epoch)
            ):
                self.save(self.checkpoint)
            for cb in (self.callbacks or ()) if callbacks is None else callbacks:
                cb(self, epoch, rec)

        self._trainer().fit(X, X_val, self.epoch_, end_epoch, self.history_, [after_epoch])

    def fit(self, X: Any, y: Any = None, X_val: Any = None) -> RBM:
        """Train on ``X`` (n_samples, n_features) for ``epochs`` epochs.

        Parameters
        ----------
        X : array-like, shape (n_samples, n_features)
            Dense array, ``numpy.memmap`` or row-indexable dataset; CSR counts for
            ``visible="softmax"``. Never modified.
        y : ignored
        X_val : array-like, shape (n_val, n_features), optional
            Monitored each epoch (free-energy gap for overfitting).

        Returns
        -------
        self
        """
        return self.train(X, X_val, resume=bool(self.warm_start))

    def train(
        self,
        X: Any,
        X_val: Any = None,
        *,
        resume: bool = False,
        callbacks: Sequence[Callable] | None = None,
    ) -> RBM:
        """What :meth:`fit` runs, with the per-call choices as arguments.

        For models composed of RBMs (:class:`boltz.DBN` trains its layers with it):
        the estimator's parameters (``get_params``) are left as they are, so a
        checkpoint written during training records them unchanged.

        Parameters
        ----------
        X, X_val
            As in :meth:`fit`.
        resume : bool, default False
            When fitted, continue from the current state up to ``epochs`` (what
            ``warm_start=True`` makes :meth:`fit` do); otherwise start afresh.
        callbacks : sequence of callables, optional
            ``cb(rbm, epoch, record)`` after every epoch, in place of the estimator's
            ``callbacks`` (None: those).

        Returns
        -------
        self
        """
        unit, optimizer, estimator = self._validate_params()
        X = self._check_X(X, fitting=True)
        resume = resume and self._is_fitted()
        if resume and X.shape[1] != self.n_features_in_:
            raise ConfigError(
                f"warm_start: X has {X.shape[1]} features, the fitted model {self.n_features_in_}."
            )
        if not resume:
            self._initialize(X, unit, optimizer, estimator)
        if X_val is not None:
            X_val = self._check_X(X_val, "X_val")
        self._run(X, X_val, max(self.epoch_, self.epochs), callbacks)
        return self

    def partial_fit(self, X: Any, y: Any = None) -> RBM:
        """One more epoch over ``X`` (initialises the model on the first call)."""
        if not self._is_fitted():
            unit, optimizer, estimator = self._validate_params()
            X = self._check_X(X, fitting=True)
            self._initialize(X, unit, optimizer, estimator)
        else:
            X = self._check_X(X)
        self._run(X, None, self.epoch_ + 1)
        return self

    # ================================================================ inference
    def _batched(self, X: Any, fn: Callable[[Any], Any]) -> np.ndarray:
        layer = self.layer_
        be = layer.backend
        outs = [
            be.to_host(fn(layer.standardize(take_rows(X, idx))))
            for idx in iter_batches(X.shape[0], min(_EVAL_BATCH, chunk_rows(X)))
        ]
        return np.concatenate(outs, axis=0)

    def transform(self, X: Any) -> np.ndarray:
        """Hidden probabilities ``P(h = 1 | v)``, shape (n_samples, n_hidden), host NumPy.

        Bernoulli visibles: values outside [0, 1] (a test fold beyond the range a
        ``MinMaxScaler`` saw on the training fold) are clipped to [0, 1] with a
        :class:`~boltz.errors.DataRangeWarning`; ``fit`` and the likelihood methods
        refuse them.  ``warnings.simplefilter("error", boltz.DataRangeWarning)``
        makes ``transform`` refuse them too.
        """
        self._check_fitted()
        X = self._check_X(X, clip=True)
        m = self.model_
        return self._batched(X, lambda v: m.hidden_mean(v, m.length(v)))

    def free_energy(self, X: Any) -> np.ndarray:
        """Free energy ``F(v)`` of each row (of the standardised data for Gaussian), shape (n,)."""
        self._check_fitted()
        X = self._check_X(X)
        return self._batched(X, self.model_.free_energy)

    def reconstruct(self, X: Any) -> np.ndarray:
        """Mean-field reconstruction ``E[v | h = P(h|v)]`` in data units, shape (n, n_features)."""
        self._check_fitted()
        X = self._check_X(X)
        m = self.model_

        def rec(v: Any) -> Any:
            length = m.length(v)
            return m.visible(m.hidden_mean(v, length), length)

        return self.layer_.unstandardize(self._batched(X, rec))

    def gibbs(self, X: Any, steps: int = 1) -> np.ndarray:
        """Run ``steps`` Gibbs steps ``v -> h -> v`` from ``X``; returns visible samples.

        Uses (and advances) the estimator's sampling stream.
        """
        self._check_fitted()
        _check_int("steps", steps, 1)
        X = self._check_X(X)
        m = self.model_

        def chain(v: Any) -> Any:
            length = m.length(v)
            if is_sparse(v):
                v = v.toarray()
            for _ in range(steps):
                v, _ = m.gibbs_vhv(v, self.rng_sample_, length)
            return v

        return self.layer_.unstandardize(self._batched(X, chain))

    def score(self, X: Any, y: Any = None) -> float:
        """Mean pseudo-log-likelihood (Bernoulli visibles) or minus the reconstruction error."""
        self._check_fitted()
        X = self._check_X(X)
        if self.unit_.name == "bernoulli":
            return self.pseudo_likelihood(X)
        r = self.reconstruct(X)
        Xd = X.toarray() if is_sparse(X) else np.asarray(X)
        return -float(np.mean((r - Xd) ** 2))

    def pseudo_likelihood(self, X: Any) -> float:
        """Mean over rows of the exact pseudo-log-likelihood (Bernoulli visibles).

        See :func:`boltz.monitor.pseudo_log_likelihood`: the full sum over all
        visibles, not scikit-learn's single flipped bit scaled by n_features.
        """
        self._check_fitted()
        if self.unit_.name != "bernoulli":
            raise ConfigError("pseudo_likelihood is defined for visible='bernoulli' only.")
        X = self._check_X(X)
        layer = self.layer_
        vals = [
            pseudo_log_likelihood(self.model_, layer.standardize(take_rows(X, idx))) * len(idx)
            for idx in iter_batches(X.shape[0], 1024)
        ]
        return float(np.sum(vals) / X.shape[0])

    # ================================================================ likelihood
    def _lengths(self, X: Any) -> np.ndarray:
        return np.asarray(X.sum(axis=1)).ravel()

    def log_partition(
        self,
        method: str = "auto",
        *,
        n_words: Any = None,
        n_runs: int | None = None,
        n_betas: int | None = None,
        betas: Any = None,
        length_ratio: float = math.inf,
        return_bounds: bool = False,
        random_state: Any = None,
        progress: Any = None,
    ) -> Any:
        """``log Z`` of the model (of the standardised data for Gaussian visibles).

        Parameters
        ----------
        method : {"auto", "exact", "ais"}
            "exact" enumerates the smaller binary side and refuses beyond 2^24 states;
            "ais" estimates by annealed importance sampling; "auto" (default) is exact
            when the enumeration costs at most ~2^30 operations
            (:func:`exact_is_cheap`), AIS otherwise.  The AIS estimate and its +-3
            sigma interval are logged (``logging.INFO``).
        n_words : int or array of int
            Document length(s) for ``visible="softmax"``.
        n_runs, n_betas, betas
            AIS settings (Salakhutdinov & Murray 2008).  Defaults: 100 runs x 10,000
            inverse temperatures; for the replicated softmax 100 runs x 1,000 at the
            shortest length, then the length ladder (one step per word up to the
            longest length; see below and ``docs/rbm.md`` for the check against
            schedules 4x and 12x longer).
        length_ratio : float, default inf
            Replicated softmax with several lengths: a temperature schedule is run at
            the shortest length and at every length ``length_ratio`` times the last
            such *knot*; the lengths in between are reached from the knot below by
            the length ladder of :func:`boltz.likelihood.ais_log_partition` (one Gibbs
            step per length, an unbiased estimate of every ``Z_D``).  ``inf``: one
            schedule for all lengths; ``1``: one schedule per distinct length.
        return_bounds : bool
            Return the full :class:`boltz.likelihood.AISResult` (estimate and +-3 sigma
            interval; an exact result has a zero-width interval) instead of the estimate.
        random_state : None or int
            Seed of the AIS stream (independent of the training streams).
        progress : "auto", bool or None
            Progress bar over the AIS steps (None: the estimator's ``progress``).
        """
        self._check_fitted()
        n_words = self._check_n_words(n_words)
        if method not in ("auto", "exact", "ais"):
            raise ConfigError(f"method must be 'auto', 'exact' or 'ais'; got {method!r}.")
        softmax = self.unit_.name == "softmax"
        if method == "auto":
            n_len = 1 if n_words is None else int(np.size(n_words))
            method = "exact" if exact_is_cheap(self.model_, n_len) else "ais"
        if method == "exact":
            log_z = exact_log_partition(self.model_, n_words=n_words)
            if not return_bounds:
                return log_z
            return AISResult(log_z, log_z, log_z, np.zeros((*np.shape(log_z), 0)), 0)
        n_runs = 100 if n_runs is None else n_runs
        if betas is None and n_betas is None:
            n_betas = 1000 if softmax else 10000
        seed = make_streams(self.random_state if random_state is None else random_state, 4)[3]
        res: AISResult = ais_log_partition(
            self.model_,
            self.unit_.init_bias(self.data_mean_)
            if self.unit_.name != "gaussian"
            else self.data_mean_,
            n_runs=n_runs,
            n_betas=10000 if n_betas is None else n_betas,
            betas=betas,
            n_words=n_words,
            rng=self.model_.backend.generator(seed),
            length_ratio=length_ratio,
            progress=self.progress if progress is None else progress,
        )
        _log_ais(res, n_runs, n_words)
        return res if return_bounds else res.log_z

    def _check_n_words(self, n_words: Any) -> Any:
        """Document lengths must be whole numbers >= 0 (ConfigError otherwise)."""
        if n_words is None:
            return None
        a = np.asarray(n_words)
        numeric = a.dtype.kind in "iuf" and a.size > 0
        if not numeric or not (np.all(np.isfinite(a) & (a >= 0) & (a == np.round(a)))):
            raise ConfigError(f"n_words must be integer document length(s) >= 0; got {n_words!r}.")
        return int(a) if a.ndim == 0 else a.astype(np.int64)

    def _log_probs(self, X: Any, log_z: Any, **kw: Any) -> np.ndarray:
        X = self._check_X(X)
        f = self.free_energy(X).astype(np.float64)
        if self.unit_.name == "softmax":
            D = self._lengths(X)
            uniq, inv = np.unique(D, return_inverse=True)
            if log_z is None:
                log_z = self.log_partition(n_words=uniq.astype(np.int64), **kw)
            lz = np.asarray(log_z, dtype=np.float64)
            if lz.ndim > 1 or (lz.ndim == 1 and lz.shape[0] != len(uniq)):
                raise DataError(
                    f"log_z must be a scalar or one value per distinct document length "
                    f"({len(uniq)} here, sorted: {uniq[:5].astype(np.int64).tolist()}...); "
                    f"got shape {lz.shape}."
                )
            if lz.ndim == 0 and len(uniq) > 1:
                raise DataError(
                    f"a scalar log_z needs documents of one length; these have {len(uniq)} "
                    "distinct lengths (pass one value per length, sorted)."
                )
            lz = lz[inv] if lz.ndim else np.full(len(D), float(lz))
            return -f - lz
        if log_z is None:
            log_z = self.log_partition(**kw)
        lp = -f - float(log_z)
        if hasattr(self, "scale_"):
            lp = lp - np.log(self.scale_).sum()  # Jacobian of the standardisation
        return lp

    def log_likelihood(self, X: Any, log_z: Any = None, **kw: Any) -> float:
        """Mean log-likelihood per sample (nats), in data units.

        Parameters
        ----------
        X : array-like, shape (n, n_features)
        log_z : float or array, optional
            Precomputed ``log Z`` (for softmax: one value per distinct document length
            in sorted order, or a scalar when all documents have one length).
        **kw
            Passed to :meth:`log_partition` when ``log_z`` is None (``method``:
            "auto" by default, exact when cheap and AIS otherwise; ``n_runs``, ...).

        Notes
        -----
        For Gaussian visibles the density of the original data is returned, i.e. the
        standardised density minus ``sum(log scale_)``.  For the replicated softmax
        it is the probability of the ordered word sequence (no multinomial coefficient).
        """
        self._check_fitted()
        return float(np.mean(self._log_probs(X, log_z, **kw)))

    def perplexity(self, X: Any, log_z: Any = None, **kw: Any) -> float:
        """``exp(-sum_n log p(v_n) / sum_n D_n)`` for ``visible="softmax"``.

        ``log_z`` and ``**kw`` as in :meth:`log_likelihood`: by default ``log Z_D`` of
        every distinct length comes from :meth:`log_partition` with ``method="auto"``
        (AIS with one temperature schedule and the length ladder for real models),
        and the perplexity interval that the +-3 sigma intervals of the ``log Z_D``
        imply is logged.
        """
        self._check_fitted()
        if self.unit_.name != "softmax":
            raise ConfigError("perplexity is defined for visible='softmax' only.")
        X = self._check_X(X)
        D = self._lengths(X)
        words = float(D.sum())
        if words <= 0:
            raise DataError("perplexity needs at least one word; every document is empty.")
        res = None
        if log_z is None:
            uniq = np.unique(D).astype(np.int64)
            res = self.log_partition(n_words=uniq, return_bounds=True, **kw)
            log_z = res.log_z
        lp = self._log_probs(X, log_z)
        ppl = float(np.exp(-lp.sum() / words))
        if res is not None and res.n_betas:
            shift_hi = np.asarray(res.log_z_high) - np.asarray(res.log_z)
            shift_lo = np.asarray(res.log_z_low) - np.asarray(res.log_z)
            inv = np.searchsorted(np.unique(D), D)
            lo = ppl * math.exp(float(np.sum(shift_lo[inv])) / words)
            hi = ppl * math.exp(float(np.sum(shift_hi[inv])) / words)
            logger.info("perplexity %.2f, +-3 sigma interval of log Z: [%.2f, %.2f]", ppl, lo, hi)
        return ppl

    # ================================================================ attributes
    def _host(self, name: str) -> np.ndarray:
        self._check_fitted()
        return np.asarray(self.model_.backend.to_host(self.model_.params[name]))

    @property
    def weights_(self) -> np.ndarray:
        return self._host("weights")

    @property
    def visible_bias_(self) -> np.ndarray:
        return self._host("visible_bias")

    @property
    def hidden_bias_(self) -> np.ndarray:
        return self._host("hidden_bias")

    @property
    def sigma_(self) -> np.ndarray:
        self._check_fitted()
        if "log_sigma" in self.model_.params:
            return np.exp(self._host("log_sigma"))
        return np.ones(self.n_features_in_, dtype=self.model_.backend.dtype)

    # ================================================================ checkpoints
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
    def from_checkpoint_state(cls, meta: dict, arrays: dict, device: str = "auto") -> RBM:
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
        be = get_backend(self.device, self.dtype)
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
            for k in (
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
            ):
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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = (
            ["float32"] if self.dtype == "float32" else ["float64"]
        )
        try:
            name = make_unit(self.visible).name
        except (ConfigError, TypeError):  # invalid params: validated in fit
            name = None
        tags.input_tags.sparse = name == "softmax"
        tags.input_tags.positive_only = name in ("bernoulli", "softmax")
        return tags
