"""The :class:`DBN` estimator: a greedy stack of RBMs (the "SRBM" of HRL).

Each layer is a :class:`boltz.RBM` with its own configuration.  ``fit`` trains
them bottom-up (Hinton, Osindero & Teh 2006): layer ``i + 1`` is trained on the
hidden probabilities ``P(h_i = 1 | .)`` of layer ``i``.  The whole stack is saved
in one checkpoint, and an interrupted greedy fit resumes at the unfinished
layer's epoch.
"""

from __future__ import annotations

import logging
import numbers
from collections.abc import Callable, Sequence
from dataclasses import KW_ONLY, dataclass
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, clone

from ._version import __version__
from .backend import Backend, make_streams
from .checkpoint import (
    CheckpointError,
    check_no_extra,
    check_writable,
    clean_json,
    need,
    register,
    write_checkpoint,
)
from .constraints import Interval, SequenceOf, validate_params
from .distributed import is_writer
from .errors import ConfigError, NotFittedError
from .layer import FittedLayer, down_pass, up_pass
from .rbm import RBM, rbm_config
from .trainer import iter_batches, take_rows
from .units import make_unit

logger = logging.getLogger(__name__)

__all__ = ["DBN"]

_EVAL_BATCH = 4096


# --------------------------------------------------------------------- helpers
def check_int(name: str, value: Any, lo: int) -> int:
    """``value`` as an int ``>= lo``, else :class:`ConfigError`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < lo:
        raise ConfigError(f"{name} must be an integer >= {lo}; got {value!r}.")
    return int(value)


def check_seed(value: Any, name: str = "random_state") -> None:
    """``None`` or a non-negative int (JSON-able, so a resumed fit reproduces it)."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ConfigError(f"{name} must be None or an integer >= 0; got {value!r}.")


#: What DBN's own hyperparameters may be (:mod:`boltz.constraints`); ``layers`` is
#: checked in code (each an RBM, Bernoulli visibles above the first).
DBN_CONSTRAINTS: dict[str, list[Any]] = {
    "checkpoint_every": [Interval(int, 1, None)],
    "random_state": ["random_state"],
    "callbacks": [None, SequenceOf("callable", types=(list, tuple), what="a list of callables")],
    "warm_start": ["boolean"],
}


def rbm_from_spec(config: Any, where: str) -> RBM:
    """Rebuild an unfitted RBM from :func:`boltz.rbm.rbm_config` output (checkpoint content)."""
    if not isinstance(config, dict):
        raise CheckpointError(f"checkpoint {where} must be a dict of RBM parameters.")
    try:
        return RBM(**config)
    except TypeError as e:
        raise CheckpointError(f"checkpoint {where} has unknown RBM parameters: {e}") from e


def sub_arrays(arrays: dict[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    """The arrays under ``prefix`` (e.g. ``"layers.0."``) with the prefix removed."""
    n = len(prefix)
    return {k[n:]: v for k, v in arrays.items() if k.startswith(prefix)}


def add_sub_state(arrays: dict[str, np.ndarray], prefix: str, part: Any) -> dict[str, Any]:
    """Put ``part.checkpoint_state()``'s arrays into ``arrays`` under ``prefix``.

    The inverse of :func:`sub_arrays`, for a model whose checkpoint embeds its parts'.

    Parameters
    ----------
    arrays : dict of str -> ndarray
        The composite checkpoint's arrays, updated in place.
    prefix : str
        E.g. ``"layers.0."``.
    part : RBM, DBN, MultimodalDBN or Passthrough
        Anything with ``checkpoint_state()``.

    Returns
    -------
    dict
        The part's metadata, for the composite's metadata.
    """
    meta, part_arrays = part.checkpoint_state()
    arrays.update({f"{prefix}{k}": v for k, v in part_arrays.items()})
    return meta


def unit_name(spec: Any) -> str:
    return make_unit(spec).name


# --------------------------------------------------------------------- estimator
@dataclass(eq=False, repr=False)
@register("DBN")
class DBN(TransformerMixin, BaseEstimator):
    """Deep belief net trained greedily, one :class:`boltz.RBM` per layer.

    Parameters
    ----------
    layers : list of boltz.RBM
        One (unfitted) RBM per layer, bottom first, each with its own settings
        (``n_hidden``, ``k``, ``learning_rate``, ``epochs``, ``persistent``...).
        The first layer may have any visible unit (Bernoulli, Gaussian, replicated
        softmax); the upper layers must be ``visible="bernoulli"``: they model the
        hidden probabilities of the layer below.  ``fit`` clones them into
        ``layers_`` and never modifies them.
    checkpoint : path-like, optional
        Write the whole stack here (one ``.npz``, atomic rename) after every
        ``checkpoint_every`` epochs of each layer and after each layer.
    checkpoint_every : int, default 1
    callbacks : list of callables, optional
        ``cb(dbn, layer, epoch, record)`` after every epoch of every layer (after
        the checkpoint is written); ``layer`` is the layer index, ``record`` the
        layer's ``history_`` entry.  Raising stops ``fit``; the checkpoint then
        holds the state at the end of that epoch.
    warm_start : bool, default False
        When ``layers_`` exists (after ``fit`` or :func:`boltz.load`), ``fit``
        continues: unfinished layers train on from their epoch up to their own
        ``epochs``, missing layers are added (finished layers are not retrained,
        even if the data changed).  This is how an interrupted fit resumes:
        ``dbn = boltz.load(path); dbn.set_params(warm_start=True).fit(X)``, bitwise
        identical on the CPU to an uninterrupted fit.  In memory, resuming is exact
        after an exception raised by a callback; after one raised inside an epoch
        (Ctrl-C), resume from the checkpoint, which holds the last finished epoch.
    random_state : None or int
        Seeds the layers whose own ``random_state`` is None (layer ``i`` gets an
        independent seed spawned from this one).

    Attributes
    ----------
    layers_ : list of boltz.RBM
        The fitted layers, bottom first; ``layers_[i].n_hidden`` units each.  After
        an interrupted fit it holds the layers started so far.
    n_features_in_ : int
        Number of input features (visible units of the first layer).
    history_ : list of list of dict
        ``layers_[i].history_`` for every layer.

    Examples
    --------
    >>> import numpy as np, boltz
    >>> from boltz.dbn import DBN
    >>> X = (np.random.default_rng(0).random((100, 16)) > 0.5).astype("float32")
    >>> dbn = DBN([boltz.RBM(8, epochs=2, progress=False), boltz.RBM(4, epochs=2, progress=False)],
    ...           random_state=0).fit(X)
    >>> dbn.transform(X).shape, dbn.transform(X, layer=0).shape
    ((100, 4), (100, 8))
    """

    layers: Sequence[RBM]
    _: KW_ONLY
    checkpoint: Any = None
    checkpoint_every: int = 1
    callbacks: Sequence[Callable] | None = None
    warm_start: bool = False
    random_state: int | None = None

    # ================================================================ validation
    def _check_params(self) -> list[RBM]:
        layers = self.layers
        if not isinstance(layers, (list, tuple)) or len(layers) == 0:
            raise ConfigError(
                f"layers must be a non-empty list of boltz.RBM (bottom first); got {layers!r}."
            )
        for i, layer in enumerate(layers):
            if not isinstance(layer, RBM):
                raise ConfigError(f"layers[{i}] must be a boltz.RBM; got {type(layer).__name__}.")
            layer._validate_params()  # fail before any layer trains, not hours later
            if i > 0 and unit_name(layer.visible) != "bernoulli":
                raise ConfigError(
                    f"layers[{i}] must have visible='bernoulli' (it models the hidden "
                    f"probabilities of layer {i - 1}); got visible={layer.visible!r}. Only the "
                    "first layer may be Gaussian or replicated softmax."
                )
        validate_params(self, DBN_CONSTRAINTS)
        return list(layers)

    def _is_complete(self) -> bool:
        layers_ = getattr(self, "layers_", None)
        if layers_ is None or len(layers_) != len(self.layers):
            return False
        return all(r._is_fitted() and r.epoch_ >= r.epochs for r in layers_)

    def _check_fitted(self) -> None:
        if self._is_complete():
            return
        if getattr(self, "layers_", None) is None:
            raise NotFittedError(
                "This DBN instance is not fitted yet. Call 'fit' with appropriate arguments "
                "before using this estimator."
            )
        raise NotFittedError(
            f"This DBN's greedy fit is unfinished ({self._progress_str()}). Resume it with "
            "dbn.set_params(warm_start=True).fit(X)."
        )

    def _progress_str(self) -> str:
        done = [r for r in self.layers_ if r._is_fitted()]
        if not done:
            return f"0 of {len(self.layers)} layers started"
        last = done[-1]
        return (
            f"{len(done)} of {len(self.layers)} layers started, layer {len(done) - 1} at epoch "
            f"{last.epoch_} of {last.epochs}"
        )

    @property
    def history_(self) -> list[list[dict[str, float]]]:
        if getattr(self, "layers_", None) is None:
            raise NotFittedError("This DBN instance is not fitted yet.")
        return [r.history_ for r in self.layers_ if r._is_fitted()]

    def _layer_seed(self, i: int) -> int | None:
        if self.random_state is None:
            return None
        ss = make_streams(int(self.random_state), len(self.layers))[i]
        return int(ss.generate_state(1, np.uint32)[0])

    # ================================================================ fit
    def fit(self, X: Any, y: Any = None, X_val: Any = None) -> DBN:
        """Train the layers greedily, bottom-up.

        Parameters
        ----------
        X : array-like, shape (n_samples, n_features)
            Training data for the first layer (dense, memmap, or CSR counts for a
            replicated-softmax first layer). Never modified.
        y : ignored
        X_val : array-like, shape (n_val, n_features), optional
            Validation data, propagated up the stack and monitored by every layer.

        Returns
        -------
        self
        """
        specs = self._check_params()
        if self.checkpoint is not None:
            check_writable(self.checkpoint)
        resume = self.warm_start and getattr(self, "layers_", None) is not None
        if resume:
            self.layers_ = [r for r in self.layers_ if r._is_fitted()]
            if len(self.layers_) > len(specs):
                raise ConfigError(
                    f"warm_start: the fitted stack has {len(self.layers_)} layers but layers "
                    f"lists {len(specs)}; set warm_start=False to refit from scratch."
                )
        else:
            self.layers_ = []
        n_layers = len(specs)
        data, val = X, X_val
        for i in range(n_layers):
            if i < len(self.layers_):
                rbm = self.layers_[i]
                if rbm.epoch_ < rbm.epochs:
                    logger.info(
                        "DBN layer %d/%d: resuming at epoch %d of %d",
                        i + 1,
                        n_layers,
                        rbm.epoch_,
                        rbm.epochs,
                    )
                    self._fit_layer(i, rbm, data, val, resume=True)
            else:
                rbm = clone(specs[i])
                if rbm.random_state is None:
                    rbm.random_state = self._layer_seed(i)
                logger.info("DBN layer %d/%d: %d hidden units", i + 1, n_layers, rbm.n_hidden)
                self.layers_.append(rbm)
                try:
                    self._fit_layer(i, rbm, data, val, resume=False)
                except BaseException:
                    if not rbm._is_fitted() or rbm.epoch_ == 0:
                        self.layers_.pop()
                    raise
            if i == 0:
                self.n_features_in_ = rbm.n_features_in_
            if i < n_layers - 1:
                data = rbm.transform(data)
                val = None if val is None else rbm.transform(val)
        return self

    def _fit_layer(self, i: int, rbm: RBM, data: Any, val: Any, resume: bool) -> None:
        """Fit (or continue) layer ``i``, writing the DBN checkpoint after its epochs.

        The layer's own callbacks run between the checkpoint and this DBN's callbacks;
        its parameters are not changed (:meth:`boltz.RBM.train`).
        """
        start = rbm.epoch_ if resume else 0

        def write(r: RBM, epoch: int, rec: dict[str, float]) -> None:
            last = epoch + 1 >= r.epochs
            due = (epoch + 1) % self.checkpoint_every == 0 or last
            if self.checkpoint is not None and is_writer() and due:
                self.save(self.checkpoint)

        def notify(r: RBM, epoch: int, rec: dict[str, float]) -> None:
            for cb in self.callbacks or ():
                cb(self, i, epoch, rec)

        rbm.train(data, val, resume=resume, callbacks=[write, *(rbm.callbacks or ()), notify])
        if rbm.epoch_ == start and self.checkpoint is not None and is_writer():  # no epoch ran
            self.save(self.checkpoint)

    # ================================================================ device passes
    @property
    def fitted_layers_(self) -> list[FittedLayer]:
        """The layers as :class:`boltz.layer.FittedLayer` objects, bottom first (views
        sharing the RBMs' arrays)."""
        self._check_fitted()
        return [r.layer_ for r in self.layers_]

    def up_device(self, rows: Any) -> tuple[Any, Backend]:
        """Up-pass of host rows to the top hidden layer, on the device.

        For composite models (a pathway of :class:`boltz.MultimodalDBN`).

        Parameters
        ----------
        rows : array-like or sparse, shape (n, n_features_in_)
            Rows validated by the first layer's ``check_input``.

        Returns
        -------
        top : device array, shape (n, layers_[-1].n_hidden)
            ``P(h_top = 1 | rows)``, on the device of the top layer.
        backend : Backend
            That device's backend.
        """
        layers = self.fitted_layers_
        first = layers[0]
        return up_pass(layers, first.standardize(rows), first.backend, len(layers) - 1)

    def down_device(self, h: Any, be: Backend, length: Any = None) -> tuple[Any, Backend]:
        """Deterministic down-pass of a top hidden state to the data, on the device.

        Parameters
        ----------
        h : device array on ``be``, shape (n, layers_[-1].n_hidden)
        be : Backend
        length : device array, shape (n,), optional
            On the first layer's device: the document lengths of a replicated-softmax
            first layer (1 gives word probabilities).

        Returns
        -------
        v : device array, shape (n, n_features_in_)
            The first layer's visible mean (standardised units for a Gaussian layer;
            ``fitted_layers_[0].unstandardize`` gives data units).
        backend : Backend
        """
        layers = self.fitted_layers_
        return down_pass(layers, h, be, len(layers) - 1, length)

    def _layer_index(self, layer: Any) -> int:
        n = len(self.layers_)
        if (
            isinstance(layer, bool)
            or not isinstance(layer, numbers.Integral)
            or not -n <= layer < n
        ):
            raise ConfigError(f"layer must be an integer in [{-n}, {n - 1}]; got {layer!r}.")
        return int(layer) % n

    def _batched(self, X: Any, fn: Callable[[Any, Backend], tuple[Any, Backend]]) -> np.ndarray:
        first = self.fitted_layers_[0]
        outs = []
        for idx in iter_batches(X.shape[0], _EVAL_BATCH):
            out, obe = fn(first.standardize(take_rows(X, idx)), first.backend)
            outs.append(np.asarray(obe.to_host(out)))
        return np.concatenate(outs, axis=0)

    # ================================================================ inference
    def transform(self, X: Any, layer: int = -1) -> np.ndarray:
        """Mean-field up-pass: hidden probabilities of layer ``layer``.

        Parameters
        ----------
        X : array-like, shape (n_samples, n_features)
        layer : int, default -1
            Which hidden layer (0 = first; negative counts from the top).

        Returns
        -------
        ndarray, shape (n_samples, layers_[layer].n_hidden)
            ``P(h_layer = 1 | X)`` computed layer by layer from probabilities.
        """
        self._check_fitted()
        stop = self._layer_index(layer)
        layers = self.fitted_layers_
        X = layers[0].check_input(X, owner="DBN", clip=True)
        return self._batched(X, lambda v, be: up_pass(layers, v, be, stop))

    def reconstruct(self, X: Any) -> np.ndarray:
        """Mean-field up-pass to the top, then a deterministic down-pass to the data.

        Parameters
        ----------
        X : array-like, shape (n_samples, n_features)

        Returns
        -------
        ndarray, shape (n_samples, n_features)
            In data units: probabilities (Bernoulli), values (Gaussian) or expected
            word counts with each row's document length (replicated softmax).
        """
        self._check_fitted()
        layers = self.fitted_layers_
        first = layers[0]
        X = first.check_input(X, owner="DBN")
        top = len(layers) - 1

        def rec(v: Any, be: Backend) -> tuple[Any, Backend]:
            length = first.length(v)
            h, hbe = up_pass(layers, v, be, top)
            return down_pass(layers, h, hbe, top, length)

        return first.unstandardize(self._batched(X, rec))

    def sample(
        self,
        n_samples: int = 1,
        steps: int = 100,
        *,
        n_words: int | None = None,
        random_state: Any = None,
    ) -> np.ndarray:
        """Generate data: Gibbs sampling in the top RBM, then a deterministic down-pass.

        The chains start from a sample of the top RBM's visible layer given its
        biases only, run ``steps`` Gibbs steps ``v -> h -> v``; the last step keeps
        the conditional mean ``E[v | h]``, which is passed down the stack through
        each layer's visible mean.

        Parameters
        ----------
        n_samples : int, default 1
        steps : int, default 100
            Gibbs steps in the top RBM (>= 1).
        n_words : int, optional
            Replicated-softmax first layer: the document length. Required when the
            stack has a single (softmax) layer (the chain needs it); otherwise the
            result holds expected counts for ``n_words`` words, or word
            probabilities (rows sum to 1) when None.
        random_state : None or int
            Seed of the sampling stream (the training streams are not touched).

        Returns
        -------
        ndarray, shape (n_samples, n_features)
            In data units, like :meth:`reconstruct`.
        """
        self._check_fitted()
        n_samples = check_int("n_samples", n_samples, 1)
        steps = check_int("steps", steps, 1)
        layers = self.fitted_layers_
        top = len(layers) - 1
        first = layers[0]
        softmax = first.unit.has_length
        if n_words is not None:
            n_words = check_int("n_words", n_words, 1)
        if softmax and top == 0 and n_words is None:
            raise ConfigError("sampling a single replicated-softmax layer needs n_words.")
        m = layers[top].model
        be = m.backend
        fbe = first.backend
        rng = be.generator(make_streams(random_state, 1)[0])
        outs = []
        for idx in iter_batches(n_samples, _EVAL_BATCH):
            n = len(idx)
            length = None
            if softmax:
                length = fbe.xp.ones((n,), dtype=fbe.dtype)
                if n_words is not None:
                    length *= n_words
            top_len = length if top == 0 else None
            v = m.visible(be.zeros((n, m.n_hidden)), top_len, rng=rng)
            for t in range(steps):
                h = m.sample_hidden(m.hidden_mean(v, top_len), rng)
                v = m.visible(h, top_len, rng=rng if t < steps - 1 else None)
            if top > 0:
                v, vbe = down_pass(layers, v, be, top - 1, length)
            else:
                vbe = be
            outs.append(np.asarray(vbe.to_host(v)))
        return first.unstandardize(np.concatenate(outs, axis=0))

    #: Alias of :meth:`sample`.
    generate = sample

    # ================================================================ checkpoints
    def _config_json(self) -> dict[str, Any]:
        params = self.get_params(deep=False)
        for k in ("layers", "callbacks"):
            params.pop(k, None)
        if params.get("checkpoint") is not None:
            params["checkpoint"] = str(params["checkpoint"])
        return clean_json(params)

    def checkpoint_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """``(meta, arrays)`` of the whole stack; arrays under ``layers.{i}.``."""
        if getattr(self, "layers_", None) is None:
            raise NotFittedError("This DBN instance is not fitted yet; nothing to save.")
        meta: dict[str, Any] = {
            "class": "DBN",
            "library_version": __version__,
            "config": self._config_json(),
            "layer_configs": [rbm_config(r) for r in self.layers],
            "layers": [],
        }
        arrays: dict[str, np.ndarray] = {}
        for i, rbm in enumerate(self.layers_):
            if not rbm._is_fitted():
                break
            meta["layers"].append(add_sub_state(arrays, f"layers.{i}.", rbm))
        return meta, arrays

    def save(self, path: Any) -> Any:
        """Write the whole stack to one checkpoint (``.npz``, no pickle, atomic).

        Returns
        -------
        pathlib.Path
            The path written (``.npz`` added when missing).
        """
        meta, arrays = self.checkpoint_state()
        return write_checkpoint(path, meta, arrays)

    @classmethod
    def from_checkpoint_state(
        cls, meta: dict, arrays: dict, device: str = "auto", where: str = "DBN"
    ) -> DBN:
        """Rebuild a (possibly partially fitted) DBN from validated checkpoint content."""
        if need(meta, "class", str) != "DBN":
            raise CheckpointError(f"checkpoint {where} is a {meta['class']!r}, not a DBN.")
        config = dict(need(meta, "config", dict))
        specs_cfg = need(meta, "layer_configs", list)
        states = need(meta, "layers", list)
        if not specs_cfg:
            raise CheckpointError(f"checkpoint {where} lists no layers.")
        if len(states) > len(specs_cfg):
            raise CheckpointError(
                f"checkpoint {where} holds {len(states)} fitted layers for "
                f"{len(specs_cfg)} configured ones."
            )
        specs = [rbm_from_spec(c, f"{where} layer_configs[{i}]") for i, c in enumerate(specs_cfg)]
        for k in ("layers", "callbacks"):
            config.pop(k, None)
        try:
            dbn = cls(specs, **config)
            dbn._check_params()
        except (TypeError, ConfigError) as e:
            raise CheckpointError(f"checkpoint {where} config is invalid: {e}") from e
        layers_: list[RBM] = []
        allowed: set[str] = set()
        for i, m in enumerate(states):
            prefix = f"layers.{i}."
            sub = sub_arrays(arrays, prefix)
            allowed |= {prefix + k for k in sub}
            if need(m, "class", str, f"{where} layer {i}") != "RBM":
                raise CheckpointError(f"checkpoint {where} layer {i} is not an RBM.")
            rbm = RBM.from_checkpoint_state(m, sub, device=device)
            if i > 0:
                below = layers_[-1]
                if rbm.unit_.name != "bernoulli":
                    raise CheckpointError(f"checkpoint {where} layer {i} must be Bernoulli.")
                if rbm.n_features_in_ != below.n_hidden:
                    raise CheckpointError(
                        f"checkpoint {where} layer {i} has {rbm.n_features_in_} visible units "
                        f"but layer {i - 1} has {below.n_hidden} hidden units."
                    )
                if below.epoch_ < below.epochs:
                    raise CheckpointError(
                        f"checkpoint {where} layer {i - 1} is unfinished but layer {i} exists."
                    )
            layers_.append(rbm)
        check_no_extra(arrays, allowed)
        dbn.layers_ = layers_
        if layers_:
            dbn.n_features_in_ = layers_[0].n_features_in_
        return dbn

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        try:
            name = unit_name(self.layers[0].visible)
        except Exception:  # invalid params: validated in fit
            name = None
        tags.input_tags.sparse = name == "softmax"
        tags.input_tags.positive_only = name in ("bernoulli", "softmax")
        return tags
