"""Tag generation for any collection: a multimodal DBN built from the data it sees.

:class:`Tagger` takes features ``X`` (one row per item: image features, blob
tokens, ...) and tags ``Y`` (the same items' words: binary annotations or word
counts), chooses the unit type of each view from its values, builds a
:class:`boltz.MultimodalDBN` with the pathway ``"features"`` and the pathway
``"tags"``, trains it, and scores every word for new items by generating the tags
view from the features view through the joint layer
(:meth:`boltz.MultimodalDBN.generate`).  ``n_models`` independently trained models
are averaged; the annotation ranks words by their probability divided by their
training frequency to an exponent chosen on held-out training items
(:func:`boltz.tagging.choose_frequency_exponent`).

Unit types (:func:`infer_visible`): only 0/1 values -> ``"bernoulli"``;
non-negative integers with some value above 1 -> ``"softmax"`` (replicated
softmax, word counts); anything else -> ``"gaussian"`` (standardised inside the
RBM).  Scores are then :mod:`boltz.tagging`'s input: annotate with the 5 best
words, precision@k, and the baselines every tagger must beat.
"""

from __future__ import annotations

import logging
import numbers
from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator

from ._version import __version__
from .checkpoint import CheckpointError, check_no_extra, need, register, write_checkpoint
from .constraints import Interval, Options, validate_params
from .dbn import DBN, add_sub_state, check_int, check_seed, sub_arrays
from .errors import ConfigError, DataError, DataTypeError, NotFittedError
from .multimodal import MultimodalDBN
from .passthrough import Passthrough
from .rbm import RBM
from .tagging import choose_frequency_exponent, frequency_adjusted, tag_frequency

logger = logging.getLogger(__name__)

__all__ = ["Tagger", "check_tagging_data", "infer_visible"]

_VISIBLES = ("auto", "bernoulli", "gaussian", "softmax")

#: What the Tagger's hyperparameters may be (:mod:`boltz.constraints`), checked at
#: ``fit``; the pathway widths (``features_hidden``, ``tags_hidden``) and the unit types
#: against the data are checked in code.
TAGGER_CONSTRAINTS: dict[str, list[Any]] = {
    "joint_hidden": [Interval(int, 1, None)],
    "features_visible": [Options(*_VISIBLES)],
    "tags_visible": [Options(*_VISIBLES)],
    "epochs": [Interval(int, 1, None)],
    "learning_rate": [Options("auto"), Interval(float, 0, None, closed="neither")],
    "persistent": [Options("auto"), "boolean"],
    "batch_size": [Interval(int, 1, None)],
    "finetune_epochs": [Interval(int, 0, None)],
    "finetune_learning_rate": [Interval(float, 0, None, closed="neither")],
    "finetune_weight_decay": [Interval(float, 0, None)],
    "finetune_average": [Interval(float, 0, 1, closed="left")],
    "inference_steps": [Interval(int, 1, None)],
    "frequency_exponent": [Options("auto"), Interval(float, 0, None)],
    "n_models": [Interval(int, 1, None)],
    "validation_fraction": [Interval(float, 0, 1, closed="left")],
    "random_state": ["random_state"],
    "progress": ["progress"],
}

#: ``learning_rate="auto"`` for RBMs with Bernoulli visibles (the joint layer, upper
#: layers, 0/1 data).  On a Corel5k validation split (500 of the 4,500 training
#: images) 0.05 gave annotation F1 0.107 against 0.076 for boltz.RBM's generic 0.01;
#: other unit types use boltz.RBM's "auto".
BERNOULLI_LEARNING_RATE = 0.05

#: L2 weight decay of RBMs with Gaussian visibles (deepnet's setting for its image
#: layers): without it the Wikipedia SIFT pathway (128 -> 512, learning rate 0.001)
#: diverged at epoch 24 of 30.
GAUSSIAN_WEIGHT_DECAY = 0.001


def _values(X: Any) -> np.ndarray:
    """The stored values of a dense or sparse matrix (for sparse: the non-zeros and 0)."""
    if sp.issparse(X):
        data = np.asarray(X.data)
        return np.concatenate([data, [0.0]]) if X.nnz < X.shape[0] * X.shape[1] else data
    return np.asarray(X).ravel()


def infer_visible(X: Any, name: str = "X") -> str:
    """The visible unit type that fits the values of ``X``.

    Parameters
    ----------
    X : array-like or sparse, shape (n_samples, n_features)
    name : str
        Used in error messages.

    Returns
    -------
    {"bernoulli", "softmax", "gaussian"}
        "bernoulli" when every value is 0 or 1; "softmax" (word counts) when every
        value is a non-negative integer and some exceed 1; "gaussian" otherwise.

    Raises
    ------
    DataError
        For non-finite values.
    """
    v = _values(X)
    if not np.issubdtype(v.dtype, np.number) or v.dtype == np.bool_:
        v = v.astype(np.float64)
    if not np.isfinite(v).all():
        raise DataError(f"{name} has NaN or infinite values; tags and features must be finite.")
    if np.isin(v, (0, 1)).all():
        return "bernoulli"
    if (v >= 0).all() and (v == np.round(v)).all():
        return "softmax"
    return "gaussian"


def _as_matrix(X: Any, name: str) -> Any:
    if X is None:
        raise DataTypeError(f"{name} is missing (None); expected a 2-D array.")
    if sp.issparse(X):
        X = sp.csr_matrix(X)
    else:
        try:
            X = np.asarray(X)
        except Exception as e:  # ragged lists and the like
            raise DataTypeError(f"{name} could not be read as an array: {e}") from e
        if X.dtype == object or not (np.issubdtype(X.dtype, np.number) or X.dtype == np.bool_):
            raise DataTypeError(f"{name} must hold numbers; got dtype {X.dtype}.")
    if X.ndim != 2:
        raise DataError(f"{name} must be 2-D (n_items, n_columns); got shape {X.shape}.")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise DataError(f"{name} is empty (shape {X.shape}).")
    return X


def check_tagging_data(
    X_train: Any,
    Y_train: Any,
    X_test: Any = None,
    Y_test: Any = None,
    words: Sequence[Any] | None = None,
) -> dict[str, Any]:
    """Validate a tagging collection and say which unit types fit it.

    Parameters
    ----------
    X_train : array-like or sparse, shape (n_train, d)
        Features of the training items.
    Y_train : array-like or sparse, shape (n_train, V)
        Their tags: 0/1 annotations or non-negative word counts.
    X_test : array-like or sparse, shape (n_test, d), optional
    Y_test : array-like or sparse, shape (n_test, V), optional
    words : sequence of V names, optional

    Returns
    -------
    dict
        ``X_train``, ``Y_train``, ``X_test``, ``Y_test`` (as arrays / CSR), ``words``
        (list of str; column indices when not given), ``features_visible`` and
        ``tags_visible``.

    Raises
    ------
    DataError, DataTypeError
        With the array and the reason (shapes, row counts, negative or fractional
        tags, tags that never occur, non-finite values, a words list of the wrong
        length).
    """
    Xtr = _as_matrix(X_train, "X_train")
    Ytr = _as_matrix(Y_train, "Y_train")
    if Xtr.shape[0] != Ytr.shape[0]:
        raise DataError(
            f"X_train has {Xtr.shape[0]} rows but Y_train has {Ytr.shape[0]}; row i of both "
            "must be the same item."
        )
    if Xtr.shape[0] < 2:
        raise DataError(f"need at least 2 training items; got {Xtr.shape[0]}.")
    tags_visible = infer_visible(Ytr, "Y_train")
    if tags_visible == "gaussian":
        raise DataError(
            "Y_train must hold tags: 0/1 annotations or non-negative integer word counts; "
            "it has negative or fractional values."
        )
    if sp.issparse(Ytr):
        per_word = np.asarray((Ytr > 0).sum(axis=0)).ravel()
    else:
        per_word = (Ytr > 0).sum(axis=0)
    if not per_word.any():
        raise DataError("Y_train has no tag at all (every entry is 0).")
    features_visible = infer_visible(Xtr, "X_train")
    out: dict[str, Any] = {"X_train": Xtr, "Y_train": Ytr, "X_test": None, "Y_test": None}
    if X_test is not None:
        Xte = _as_matrix(X_test, "X_test")
        if Xte.shape[1] != Xtr.shape[1]:
            raise DataError(f"X_test has {Xte.shape[1]} features but X_train has {Xtr.shape[1]}.")
        infer_visible(Xte, "X_test")  # finite values
        out["X_test"] = Xte
    if Y_test is not None:
        if X_test is None:
            raise DataError("Y_test is given without X_test.")
        Yte = _as_matrix(Y_test, "Y_test")
        if Yte.shape != (out["X_test"].shape[0], Ytr.shape[1]):
            raise DataError(
                f"Y_test must have shape {(out['X_test'].shape[0], Ytr.shape[1])} "
                f"(X_test's rows, Y_train's columns); got {Yte.shape}."
            )
        if infer_visible(Yte, "Y_test") == "gaussian":
            raise DataError("Y_test has negative or fractional values; it must hold tags.")
        out["Y_test"] = Yte
    V = Ytr.shape[1]
    if words is None:
        names = [str(j) for j in range(V)]
    else:
        names = [str(w) for w in np.asarray(words, dtype=object).ravel()]
        if len(names) != V:
            raise DataError(f"words has {len(names)} names but Y_train has {V} columns.")
    out.update(words=names, features_visible=features_visible, tags_visible=tags_visible)
    return out


#: The Tagger settings that :meth:`Tagger.build` passes on to its MultimodalDBN as they are.
_MDBN_PARAMS = (
    "inference_steps",
    "finetune_epochs",
    "finetune_learning_rate",
    "finetune_weight_decay",
    "finetune_average",
    "validation_fraction",
)


def _dense_unless(X: Any, visible: str) -> Any:
    """Sparse input densified unless it feeds replicated-softmax units."""
    return X.toarray() if sp.issparse(X) and visible != "softmax" else X


def _widths(value: Any, name: str) -> tuple[int, ...]:
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value,)
    if not isinstance(value, (tuple, list)):
        raise ConfigError(f"{name} must be an int or a tuple of ints; got {value!r}.")
    return tuple(check_int(f"{name}[{i}]", w, 1) for i, w in enumerate(value))


@dataclass(eq=False, repr=False)
@register("Tagger")
class Tagger(BaseEstimator):
    """Generate tags from features with a multimodal DBN built to fit the data.

    Parameters
    ----------
    features_hidden : int or tuple of int or "auto", default "auto"
        Widths of the features pathway, bottom first.  ``()``: none -- 0/1 features
        are the joint layer's visible units themselves.  "auto": ``()`` for 0/1
        features, ``(512,)`` otherwise.
    tags_hidden : int or tuple of int or "auto", default "auto"
        Widths of the tags pathway.  ``()``: none -- binary tags are the joint
        layer's visible units themselves (count tags need at least one layer).
        "auto": ``(512,)``, except ``()`` for Bernoulli tags that do not outnumber
        the features' top units (the features, or the last width of their pathway),
        so that neither view swamps the joint layer's input.  On the Wikipedia
        validation split (2,000 words against a 512-unit image pathway) the tags
        pathway doubled the margin over the shuffled-image control (precision@10
        0.0445 against 0.0195, two seeds averaged) and raised the class accuracy of
        the generated texts from 0.215 to 0.253; Corel5k (374 keywords, 499 blob
        tokens as the joint's visibles) keeps none.
    joint_hidden : int, default 512
        Units of the joint layer.
    features_visible : {"auto", "bernoulli", "gaussian", "softmax"}
        Unit type of the features; "auto" reads it off the values
        (:func:`infer_visible`).
    tags_visible : {"auto", "bernoulli", "softmax"}
        "auto" and "bernoulli" model which tags occur (word counts are read as
        counts > 0), what annotation and precision@k score; "softmax" models word
        counts with a replicated-softmax pathway.  On a Wikipedia validation split
        (400 of the 2,173 training articles) presence gave precision@10 0.270 /
        0.275 / 0.267 for three seeds against 0.265 for counts.
    epochs : int, default 30
        CD / PCD epochs of every RBM.
    learning_rate : float or "auto", default "auto"
        Of every RBM.  "auto": :data:`BERNOULLI_LEARNING_RATE` for Bernoulli
        visibles, :class:`boltz.RBM`'s "auto" for Gaussian and replicated-softmax ones.
    persistent : bool or "auto", default "auto"
        PCD (True) or CD-1 (False).  "auto": PCD for RBMs with Bernoulli visibles,
        CD-1 for Gaussian and replicated-softmax ones (PCD with mean-field Gaussian
        visibles diverged on the Wikipedia SIFT features, weight decay or not).
    batch_size : int, default 64
    finetune_epochs, finetune_learning_rate, finetune_weight_decay, finetune_average
        The joint layer's multi-prediction training (:class:`boltz.MultimodalDBN`).
    inference_steps : int, default 10
        Mean-field alternations, in multi-prediction training and in generation.  On
        a Corel5k validation split 10 beat 5 for two seeds (F1 0.102 / 0.096 against
        0.098 / 0.085).
    frequency_exponent : float or "auto", default "auto"
        :meth:`decision_function` (and so :meth:`predict`) ranks the tags by
        ``P(tag | features) / frequency ** frequency_exponent`` (the training
        frequency of the tag, :func:`boltz.tagging.tag_frequency`): 0 ranks by
        probability, 1 by the ratio to the prior.  "auto": the exponent in 0, 0.1,
        ..., 1 with the best annotation F1 (5 words) on the rows each model held out
        of its multi-prediction updates (``validation_fraction``), the median over
        the models; 0 when no rows were held out.
    n_models : int, default 10
        Independently trained models (seeds ``random_state * n_models + i``) whose
        generated probabilities are averaged.  On validation splits of the training
        items, ten seeds, the mean over every choice of k of them
        (``scripts/tag_validation.py NAME ensemble 10``): Wikipedia precision@10
        0.262 / 0.275 / 0.280 / 0.282 / 0.284 for k = 1 / 3 / 5 / 8 / 10 (word
        frequency 0.269); Corel5k precision@10 0.123 / 0.141 / 0.147 / 0.151 / 0.153
        and annotation F1 (e = 1) 0.120 / 0.126 / 0.128 / 0.128 / 0.130.  Training
        time grows linearly with it.
    validation_fraction
        As in :class:`boltz.MultimodalDBN`.
    random_state : None or int
    progress : bool or "auto"

    Attributes
    ----------
    models_ : list of boltz.MultimodalDBN
        The fitted models, pathways ``"features"`` and ``"tags"``.
    model_ : boltz.MultimodalDBN
        The first of ``models_``.
    tag_frequency_ : ndarray, shape (n_tags_,)
        The smoothed training frequency of every tag.
    frequency_exponent_ : float
        The exponent in use.
    frequency_exponent_f1_ : list of dict
        Per model, the held-out annotation F1 of every exponent tried ("auto" only).
    features_visible_, tags_visible_ : str
        The unit types in use.
    n_features_in_, n_tags_ : int
    """

    features_hidden: Any = "auto"
    tags_hidden: Any = "auto"
    joint_hidden: int = 512
    _: KW_ONLY
    features_visible: str = "auto"
    tags_visible: str = "auto"
    epochs: int = 30
    learning_rate: Any = "auto"
    persistent: Any = "auto"
    batch_size: int = 64
    finetune_epochs: int = 50
    finetune_learning_rate: float = 0.001
    finetune_weight_decay: float = 0.0
    finetune_average: float = 0.0
    inference_steps: int = 10
    frequency_exponent: Any = "auto"
    n_models: int = 10
    validation_fraction: float = 0.1
    random_state: Any = None
    progress: Any = "auto"

    # ---------------------------------------------------------------- build
    def _rbm(self, n_hidden: int, visible: str, seed: Any) -> RBM:
        lr = self.learning_rate
        if lr == "auto" and visible == "bernoulli":
            lr = BERNOULLI_LEARNING_RATE
        return RBM(
            n_hidden,
            visible=visible,
            persistent=(visible == "bernoulli") if self.persistent == "auto" else self.persistent,
            learning_rate=lr,
            weight_decay=GAUSSIAN_WEIGHT_DECAY if visible == "gaussian" else 0.0,
            batch_size=self.batch_size,
            epochs=self.epochs,
            progress=self.progress,
            random_state=seed,
        )

    def _pathway(self, widths: tuple[int, ...], visible: str, seed: Any) -> DBN | Passthrough:
        if not widths:
            return Passthrough()
        layers = [
            self._rbm(w, visible if i == 0 else "bernoulli", None if seed is None else seed + i)
            for i, w in enumerate(widths)
        ]
        return DBN(layers)

    def build(
        self,
        features_visible: str,
        tags_visible: str,
        random_state: Any = "default",
        *,
        n_features: int | None = None,
        n_tags: int | None = None,
    ) -> MultimodalDBN:
        """The unfitted multimodal DBN for data of these unit types.

        Parameters
        ----------
        features_visible, tags_visible : {"bernoulli", "gaussian", "softmax"}
        random_state : None or int, optional
            The model's seed; default ``random_state`` (the first model's seed).
        n_features, n_tags : int, optional
            Columns of the data; ``tags_hidden="auto"`` needs them to balance the
            joint layer's inputs (without them, binary tags get no pathway).

        Returns
        -------
        boltz.MultimodalDBN
        """
        for name, v in (
            ("features_visible", self.features_visible),
            ("tags_visible", self.tags_visible),
        ):
            if v not in _VISIBLES:
                raise ConfigError(f"{name} must be one of {list(_VISIBLES)}; got {v!r}.")
        check_seed(self.random_state)
        check_int("joint_hidden", self.joint_hidden, 1)
        if self.features_hidden == "auto":
            fw: tuple[int, ...] = () if features_visible == "bernoulli" else (512,)
        else:
            fw = _widths(self.features_hidden, "features_hidden")
        if self.tags_hidden == "auto":
            top = fw[-1] if fw else n_features
            many = n_tags is not None and top is not None and n_tags > top
            tw: tuple[int, ...] = () if tags_visible == "bernoulli" and not many else (512,)
        else:
            tw = _widths(self.tags_hidden, "tags_hidden")
        if not fw and features_visible != "bernoulli":
            raise ConfigError(
                f"features_hidden=() needs 0/1 features; these are {features_visible}: "
                "give the features pathway at least one layer."
            )
        if not tw and tags_visible != "bernoulli":
            raise ConfigError(
                f"tags_hidden=() needs 0/1 tags; these are {tags_visible}: give the tags "
                "pathway at least one layer."
            )
        seed = self._seeds()[0] if random_state == "default" else random_state
        check_seed(seed)
        s = None if seed is None else int(seed) * 1000
        return MultimodalDBN(
            {
                "features": self._pathway(fw, features_visible, s),
                "tags": self._pathway(tw, tags_visible, None if s is None else s + 100),
            },
            joint=self._rbm(int(self.joint_hidden), "bernoulli", None if s is None else s + 200),
            random_state=seed,
            **{k: getattr(self, k) for k in _MDBN_PARAMS},
        )

    # ---------------------------------------------------------------- fit
    def fit(self, X: Any, Y: Any) -> Tagger:
        """Train on the features ``X`` and tags ``Y`` of the same items.

        Parameters
        ----------
        X : array-like or sparse, shape (n_items, n_features)
        Y : array-like or sparse, shape (n_items, n_tags)
            0/1 annotations or word counts.

        Returns
        -------
        self
        """
        validate_params(self, TAGGER_CONSTRAINTS)
        data = check_tagging_data(X, Y)
        fv = data["features_visible"] if self.features_visible == "auto" else self.features_visible
        tv = "bernoulli" if self.tags_visible == "auto" else self.tags_visible
        if tv == "bernoulli" and data["tags_visible"] == "softmax":
            data["Y_train"] = data["Y_train"] > 0  # counts read as presence
        X_fit = _dense_unless(data["X_train"], fv)
        Y_fit = _dense_unless(data["Y_train"], tv)
        models, chosen, tables = [], [], []
        frequency = tag_frequency(data["Y_train"])
        for i, seed in enumerate(self._seeds()):
            if self.n_models > 1:
                logger.info("Tagger: model %d of %d", i + 1, self.n_models)
            model = self.build(
                fv, tv, random_state=seed, n_features=X_fit.shape[1], n_tags=Y_fit.shape[1]
            ).fit({"features": X_fit, "tags": Y_fit})
            models.append(model)
            rows = model.validation_rows_
            if self.frequency_exponent == "auto" and rows.size:
                S = model.generate("tags", given={"features": X_fit[rows]})
                e, f1 = choose_frequency_exponent(S, data["Y_train"][rows], frequency)
                chosen.append(e)
                tables.append({str(k): float(v) for k, v in f1.items()})
                logger.info("Tagger: frequency exponent %.1f (held-out F1 %.4f)", e, f1[e])
        if self.frequency_exponent == "auto":
            exponent = float(np.median(chosen)) if chosen else 0.0
        else:
            exponent = float(self.frequency_exponent)
        self._set_models(models, frequency, exponent)
        self.frequency_exponent_f1_ = tables
        return self

    def _seeds(self) -> list[Any]:
        n = check_int("n_models", self.n_models, 1)
        r = self.random_state
        check_seed(r)
        return [None if r is None else int(r) * n + i for i in range(n)]

    def _check_exponent(self) -> None:
        e = self.frequency_exponent
        if e == "auto":
            return
        if isinstance(e, bool) or not isinstance(e, numbers.Real) or not (0 <= e < np.inf):
            raise ConfigError(f"frequency_exponent must be 'auto' or a number >= 0; got {e!r}.")

    def _set_models(self, models: list[MultimodalDBN], frequency: Any, exponent: float) -> None:
        self._set_model(models[0])
        shape = (self.features_visible_, self.tags_visible_, self.n_features_in_, self.n_tags_)
        for m in models[1:]:
            self._set_model(m)
            if (
                self.features_visible_,
                self.tags_visible_,
                self.n_features_in_,
                self.n_tags_,
            ) != shape:
                raise ConfigError("the models of a Tagger must share unit types and sizes.")
        self._set_model(models[0])
        frequency = np.asarray(frequency, dtype=np.float64).ravel()
        if frequency.shape != (self.n_tags_,):
            raise ConfigError(
                f"tag_frequency must have one value per tag ({self.n_tags_}); "
                f"got shape {frequency.shape}."
            )
        self.models_ = list(models)
        self.tag_frequency_ = frequency
        self.frequency_exponent_ = float(exponent)

    def _set_model(self, model: MultimodalDBN) -> None:
        def unit(pw: Any) -> str:
            return "bernoulli" if isinstance(pw, Passthrough) else pw.layers_[0].unit_.name

        def width(pw: Any) -> int:
            return int(
                pw.n_features_in_ if isinstance(pw, Passthrough) else pw.layers_[0].n_features_in_
            )

        self.model_ = model
        self.features_visible_ = unit(model.pathways_["features"])
        self.tags_visible_ = unit(model.pathways_["tags"])
        self.n_features_in_ = width(model.pathways_["features"])
        self.n_tags_ = width(model.pathways_["tags"])

    @classmethod
    def from_model(
        cls,
        model: MultimodalDBN | Sequence[MultimodalDBN],
        tag_frequency: Any = None,
        frequency_exponent: float = 0.0,
    ) -> Tagger:
        """A fitted Tagger around fitted MultimodalDBNs with views "features", "tags".

        Parameters
        ----------
        model : boltz.MultimodalDBN or sequence of them
        tag_frequency : array-like, shape (n_tags,), optional
            Needed when ``frequency_exponent > 0``.
        frequency_exponent : float, default 0
            0: rank by probability.
        """
        models = [model] if isinstance(model, MultimodalDBN) else list(model)
        if not models:
            raise ConfigError("from_model needs at least one MultimodalDBN.")
        for m in models:
            if not isinstance(m, MultimodalDBN):
                raise ConfigError(f"expected a MultimodalDBN; got {type(m).__name__}.")
            m._check_fitted()
            if set(m.views_) != {"features", "tags"}:
                raise ConfigError(
                    f"a tagger's model has the pathways 'features' and 'tags'; got {m.views_}."
                )
        t = cls(
            inference_steps=models[0].inference_steps,
            frequency_exponent=frequency_exponent,
            n_models=len(models),
        )
        t._check_exponent()
        t._set_model(models[0])
        if tag_frequency is None:
            if frequency_exponent != 0:
                raise ConfigError("frequency_exponent > 0 needs tag_frequency.")
            tag_frequency = np.ones(t.n_tags_)
        t._set_models(models, tag_frequency, frequency_exponent)
        t.frequency_exponent_f1_ = []
        return t

    def _check_fitted(self) -> None:
        if not hasattr(self, "models_"):
            raise NotFittedError("This Tagger is not fitted yet; call fit(X, Y) first.")

    # ---------------------------------------------------------------- predict
    def predict_proba(self, X: Any) -> np.ndarray:
        """The generated tags' mean-field probabilities, averaged over ``models_``.

        Parameters
        ----------
        X : array-like or sparse, shape (n_items, n_features_in_)

        Returns
        -------
        ndarray, shape (n_items, n_tags_)
            Bernoulli tags: P(tag | features); count tags: word probabilities
            (rows sum to 1).
        """
        self._check_fitted()
        X = _dense_unless(X, self.features_visible_)
        out = self.models_[0].generate("tags", given={"features": X}).astype(np.float64)
        for m in self.models_[1:]:
            out += m.generate("tags", given={"features": X})
        return out / len(self.models_)

    def decision_function(self, X: Any) -> np.ndarray:
        """A score per tag for every item, what :meth:`predict` ranks by.

        ``predict_proba(X) / tag_frequency_ ** frequency_exponent_``.

        Parameters
        ----------
        X : array-like or sparse, shape (n_items, n_features_in_)
            As in :meth:`predict_proba`.

        Returns
        -------
        ndarray, shape (n_items, n_tags_)
        """
        return frequency_adjusted(
            self.predict_proba(X), self.tag_frequency_, self.frequency_exponent_
        )

    def predict(self, X: Any, n_words: int = 5) -> np.ndarray:
        """0/1 annotations: the ``n_words`` best tags of every item, shape (n_items, n_tags_)."""
        S = self.decision_function(X)
        k = min(check_int("n_words", n_words, 1), S.shape[1])
        out = np.zeros(S.shape, dtype=np.int8)
        np.put_along_axis(out, np.argsort(-S, axis=1, kind="stable")[:, :k], 1, axis=1)
        return out

    def save(self, path: Any) -> Any:
        """Write the fitted Tagger to one checkpoint (``.npz``; ``boltz.load`` reads it).

        Returns
        -------
        pathlib.Path
        """
        self._check_fitted()
        meta: dict[str, Any] = {
            "class": "Tagger",
            "library_version": __version__,
            "frequency_exponent": float(self.frequency_exponent_),
            "models": [],
        }
        arrays: dict[str, np.ndarray] = {"tag_frequency": self.tag_frequency_}
        for i, m in enumerate(self.models_):
            meta["models"].append(add_sub_state(arrays, f"models.{i}.", m))
        return write_checkpoint(path, meta, arrays)

    @classmethod
    def from_checkpoint_state(cls, meta: dict, arrays: dict, device: str = "auto") -> Tagger:
        metas = need(meta, "models", list)
        exponent = need(meta, "frequency_exponent", (int, float))
        if not metas:
            raise CheckpointError("checkpoint of a Tagger holds no model.")
        allowed = {"tag_frequency"}
        models = []
        for i, mm in enumerate(metas):
            sub = sub_arrays(arrays, f"models.{i}.")
            allowed |= {f"models.{i}.{k}" for k in sub}
            if not isinstance(mm, dict):
                raise CheckpointError(f"checkpoint model {i} metadata is not a mapping.")
            models.append(MultimodalDBN.from_checkpoint_state(mm, sub, device=device))
        check_no_extra(arrays, allowed)
        if "tag_frequency" not in arrays:
            raise CheckpointError("checkpoint of a Tagger lacks the array 'tag_frequency'.")
        freq = np.asarray(arrays["tag_frequency"], dtype=np.float64)
        if freq.ndim != 1 or not np.all(freq > 0) or not (0 <= exponent < np.inf):
            raise CheckpointError("checkpoint tag_frequency / frequency_exponent are invalid.")
        try:
            return cls.from_model(models, tag_frequency=freq, frequency_exponent=float(exponent))
        except ConfigError as e:
            raise CheckpointError(f"checkpoint of a Tagger is invalid: {e}") from e
