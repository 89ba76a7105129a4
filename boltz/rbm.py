"""The :class:`RBM` estimator (scikit-learn conventions).

The estimator holds the hyperparameters, fitting and inference; its parts live by
job in :mod:`boltz.rbm_params` (hyperparameter checks, ``learning_rate="auto"``,
the checkpoint ``config``), :mod:`boltz.rbm_likelihood` (``log Z``,
log-likelihood, perplexity, pseudo-likelihood, ``score``),
:mod:`boltz.rbm_checkpoint` (checkpoint state, ``save``, pickling) and
:mod:`boltz.column_stats` (the training-set means and standardisation).
"""

from __future__ import annotations

import logging
import numbers
from collections.abc import Callable, Sequence
from dataclasses import KW_ONLY, dataclass
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from .backend import Backend, get_backend, is_sparse, make_streams
from .checkpoint import check_writable, register
from .column_stats import column_statistics
from .distributed import is_writer
from .errors import ConfigError, NotFittedError
from .gradients import CD
from .layer import FittedLayer, Standardizer
from .model import RBMModel
from .optim import SGD
from .rbm_checkpoint import CheckpointMixin
from .rbm_likelihood import LikelihoodMixin
from .rbm_params import (
    AUTO_LEARNING_RATE,
    RBM_CONSTRAINTS,
    auto_learning_rate,
    check_int,
    check_params,
    rbm_config,
)
from .trainer import Trainer, iter_batches, take_rows
from .units import VisibleUnit, make_unit
from .validation import check_data, chunk_rows

logger = logging.getLogger(__name__)

# AUTO_LEARNING_RATE and auto_learning_rate are re-exported from boltz.rbm_params
__all__ = ["AUTO_LEARNING_RATE", "RBM", "auto_learning_rate", "rbm_config"]

_EVAL_BATCH = 4096


@dataclass(eq=False, repr=False)
@register("RBM")
class RBM(LikelihoodMixin, CheckpointMixin, TransformerMixin, BaseEstimator):
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

    #: What each hyperparameter may be (:func:`boltz.constraints.validate_params`).
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = RBM_CONSTRAINTS

    n_hidden: int = 256
    visible: Any = "bernoulli"
    _: KW_ONLY
    learn_sigma: bool = False
    k: int = 1
    persistent: bool = False
    n_chains: int | None = None
    sample_visible: Any = "auto"
    learning_rate: float | str = "auto"
    lr_decay: float | None = None
    momentum: float = 0.5
    final_momentum: float = 0.9
    momentum_epochs: int = 5
    weight_decay: float = 0.0
    sparsity_target: float | None = None
    sparsity_decay: float = 0.95
    sparsity_cost: float = 0.0
    batch_size: int = 64
    epochs: int = 10
    init_scale: float = 0.01
    monitor_size: int = 256
    monitor: str = "auto"
    ais_every: int = 0
    device: str = "auto"
    dtype: str = "float32"
    progress: Any = "auto"
    callbacks: Sequence[Callable] | None = None
    checkpoint: Any = None
    checkpoint_every: int = 1
    warm_start: bool = False
    random_state: Any = None

    # ================================================================ setup
    def _unit(self) -> VisibleUnit:
        return make_unit(self.visible, learn_sigma=self.learn_sigma)

    def _validate_params(self) -> tuple[VisibleUnit, SGD, CD]:
        """Check the hyperparameters (:func:`boltz.rbm_params.check_params`).

        Returns
        -------
        unit, optimizer, estimator
            The visible unit, optimiser and gradient estimator they describe.
        """
        return check_params(self)

    def _new_backend(self) -> Backend:
        """The backend of ``device`` and ``dtype`` (for a fresh fit or a restore)."""
        return get_backend(self.device, self.dtype)

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
        """Set ``data_mean_`` and, for Gaussian visibles, ``mean_`` and ``scale_``.

        One streaming pass over ``X`` (:func:`boltz.column_stats.column_statistics`);
        the Gaussian ``data_mean_`` is that of the standardised data (zeros).
        """
        mean, scale = column_statistics(X, unit.name == "gaussian")
        if scale is None:
            self.data_mean_ = mean
        else:
            self.mean_ = mean
            self.scale_ = scale
            self.data_mean_ = np.zeros(X.shape[1])

    # ================================================================ fit
    def _initialize(self, X: Any, unit: VisibleUnit, optimizer: SGD, estimator: CD) -> None:
        for attr in ("mean_", "scale_"):
            if hasattr(self, attr):
                delattr(self, attr)
        be = self._new_backend()
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
        check_int("steps", steps, 1)
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
