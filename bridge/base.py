"""The common base of every multi-view model in :mod:`bridge`.

A *multi-view model* learns from several paired *views* (modalities) of the same
samples -- image and text features of one Wikipedia article, say -- and maps each
view into a shared embedding space where the partners of a pair lie close together.
Views are passed as a dict ``{name: array of shape (n_samples, n_features_v)}``;
row ``i`` of every view belongs to the same sample.  Every model, from the classical
baselines (:mod:`bridge.baselines`) to the PyTorch paper models, has the interface::

    model.fit(views, y=None, views_val=None, y_val=None) -> model
    model.transform(views) -> {name: embedding of shape (n_samples, n_components)}

so a comparison is a loop over classes.  ``transform`` takes any subset of the
views seen at ``fit`` (a text-only query needs no image).  A model declares how many
views it can learn from with the class attributes ``min_views`` / ``max_views``
(CCA: exactly two).

The validation shared by all models lives here too (:func:`validate_views`,
:func:`validate_labels`), so every model rejects bad input with the same messages.
Only NumPy, SciPy and scikit-learn are imported (no torch).
"""

from __future__ import annotations

import numbers
from abc import ABCMeta, abstractmethod
from collections.abc import Collection, Mapping
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, DTypeLike
from sklearn.base import BaseEstimator

from boltz.errors import ConfigError, DataError, DataTypeError, NotFittedError

__all__ = ["MultiViewModel", "check_n_components", "validate_labels", "validate_views"]

Views = Mapping[str, ArrayLike]
#: Validated views: ``{name: float64 array of shape (n_samples, n_features_v)}``.
ViewArrays = dict[str, np.ndarray]


def _as_float_array(X: Any, where: str, dtype: DTypeLike | None) -> np.ndarray:
    """One view as a 2-D float array (no copy when it already is one)."""
    if X is None:
        raise DataTypeError(f"{where} must be a 2-D array of numbers; got None.")
    if sp.issparse(X):
        raise DataTypeError(
            f"{where} is a scipy.sparse matrix; this model needs a dense array (pass X.toarray())."
        )
    try:
        A = np.asarray(X)
    except Exception as e:  # ragged nested lists, ...
        raise DataTypeError(f"{where} could not be converted to an array: {e}") from e
    kind = A.dtype.kind
    if kind == "O":
        try:
            A = A.astype(np.float64)
        except (TypeError, ValueError) as e:
            raise DataTypeError(
                f"{where} has dtype object with non-numeric entries ({e}); "
                "pass an array of numbers."
            ) from e
    elif kind not in "biuf":
        raise DataTypeError(
            f"{where} must hold real numbers (float, int or bool); got dtype {A.dtype}. "
            "Convert strings, complex or datetime values to real numbers first."
        )
    if A.ndim != 2:
        raise DataError(
            f"{where} must be a 2-D array (n_samples, n_features); got a {A.ndim}-D array "
            f"of shape {A.shape}. Use x.reshape(-1, 1) for a single feature."
        )
    if A.shape[0] == 0 or A.shape[1] == 0:
        raise DataError(f"{where} must have at least one row and one column; got shape {A.shape}.")
    if dtype is not None:
        target = np.dtype(dtype)
    elif A.dtype in (np.float32, np.float64):
        target = A.dtype
    else:
        target = np.dtype(np.float64)
    return np.asarray(A, dtype=target)


def validate_views(
    views: Any,
    *,
    fitted_names: Collection[str] | None = None,
    allow_subset: bool = True,
    allow_nan_rows: bool = False,
    n_features: Mapping[str, int] | None = None,
    min_views: int = 1,
    max_views: int | None = None,
    dtype: DTypeLike | None = None,
    name: str = "views",
) -> dict[str, np.ndarray]:
    """Check a dict of paired views and return it as float arrays.

    Parameters
    ----------
    views : Mapping[str, array-like]
        ``{view name: array of shape (n_samples, n_features_v)}``; the same number
        of rows in every view (row ``i`` of each view is the same sample).
    fitted_names : collection of str, optional
        The view names a fitted model knows.  When given, every name in ``views``
        must be one of them; with ``allow_subset=False`` all of them must be present.
    allow_subset : bool, default True
        Whether ``views`` may hold only some of ``fitted_names`` (e.g. a text-only
        query at ``transform``).
    allow_nan_rows : bool, default False
        Whether a row that is NaN in *every* column of a view marks that view as
        missing for that sample (for models that learn from incomplete pairs).
        Partially NaN rows, inf, and samples missing from every given view are
        still errors.
    n_features : Mapping[str, int], optional
        Expected number of columns per view name (``n_features_in_`` of a fitted model).
    min_views, max_views : int, optional
        How many views are allowed (``max_views=None``: no upper bound).
    dtype : dtype, optional
        Output dtype.  None keeps float32/float64 input and turns other numbers into
        float64.
    name : str, default "views"
        The argument name used in error messages (e.g. ``"views_val"``).

    Returns
    -------
    dict[str, numpy.ndarray]
        The views in the given order, each a 2-D float array of shape
        (n_samples, n_features_v).  The caller's arrays are never modified; an
        array already of the right dtype is returned without a copy.

    Raises
    ------
    DataTypeError
        ``views`` is not a mapping, a name is not a string, a view is sparse, None,
        or does not hold real numbers (strings, object arrays of non-numbers).
    DataError
        An empty mapping, too few/many views, unknown or missing names, arrays that
        are not 2-D or are empty, NaN/inf, different numbers of rows between views,
        or a wrong number of features.
    """
    if not isinstance(views, Mapping):
        raise DataTypeError(
            f"{name} must be a dict mapping view names to 2-D arrays, e.g. "
            f"{{'image': X_img, 'text': X_txt}}; got {type(views).__name__}."
        )
    if len(views) == 0:
        raise DataError(f"{name} is an empty dict; pass at least one view {{name: 2-D array}}.")
    bad = [k for k in views if not isinstance(k, str)]
    if bad:
        raise DataTypeError(
            f"{name} must have string keys (view names); got {bad[0]!r} of type "
            f"{type(bad[0]).__name__}."
        )
    names = list(views)
    if fitted_names is not None:
        known = list(fitted_names)
        unknown = [k for k in names if k not in known]
        if unknown:
            raise DataError(
                f"{name} has unknown view name(s) {unknown}; the model was fitted on {known}."
            )
        if not allow_subset:
            missing = [k for k in known if k not in views]
            if missing:
                raise DataError(f"{name} must hold every fitted view {known}; missing {missing}.")
    if len(names) < min_views or (max_views is not None and len(names) > max_views):
        want = (
            f"exactly {min_views}"
            if max_views == min_views
            else f"at least {min_views}"
            + ("" if max_views is None else f" and at most {max_views}")
        )
        raise DataError(f"{name} must hold {want} view(s); got {len(names)}: {names}.")

    out: dict[str, np.ndarray] = {}
    for key in names:
        where = f"{name}[{key!r}]"
        A = _as_float_array(views[key], where, dtype)
        if n_features is not None and key in n_features and A.shape[1] != n_features[key]:
            raise DataError(
                f"{where} has {A.shape[1]} features, but the model was fitted with "
                f"{n_features[key]} features for view {key!r}."
            )
        finite = np.isfinite(A)
        if not finite.all():
            if not allow_nan_rows:
                raise DataError(
                    f"{where} contains NaN or inf; remove or impute them first "
                    "(this model does not accept missing values)."
                )
            if np.isinf(A).any():
                raise DataError(
                    f"{where} contains inf; only whole-row NaN may mark a missing view."
                )
            nan_rows = ~finite.any(axis=1)
            partial = ~finite.all(axis=1) & ~nan_rows
            if partial.any():
                raise DataError(
                    f"{where} has {int(partial.sum())} row(s) that are only partly NaN "
                    f"(first: row {int(np.flatnonzero(partial)[0])}); a missing view must be "
                    "NaN in every column."
                )
        out[key] = A

    rows = {k: A.shape[0] for k, A in out.items()}
    if len(set(rows.values())) > 1:
        raise DataError(
            f"all views in {name} must have the same number of rows (paired samples); got {rows}."
        )
    if allow_nan_rows:
        observed = np.zeros(next(iter(rows.values())), dtype=bool)
        for A in out.values():
            observed |= np.isfinite(A).all(axis=1)
        if not observed.all():
            raise DataError(
                f"{name}: {int((~observed).sum())} sample(s) are missing (all-NaN) in every "
                f"given view (first: row {int(np.flatnonzero(~observed)[0])}); each sample "
                "needs at least one observed view."
            )
    return out


def validate_labels(y: Any, n: int, *, name: str = "y") -> np.ndarray | None:
    """Check labels paired with ``n`` samples.

    Parameters
    ----------
    y : array-like or None
        Class ids of shape (n,) (any type: ints, strings), or a multi-label 0/1
        indicator matrix of shape (n, n_labels).  None passes through.
    n : int
        Number of samples (rows of the views).
    name : str, default "y"
        Argument name used in error messages.

    Returns
    -------
    numpy.ndarray or None

    Raises
    ------
    DataError
        Wrong length, 0-D or >2-D labels, or NaN among float labels.
    DataTypeError
        Labels that cannot be turned into an array, or a sparse matrix.
    """
    if y is None:
        return None
    if sp.issparse(y):
        raise DataTypeError(f"{name} is a scipy.sparse matrix; pass a dense array (y.toarray()).")
    try:
        Y = np.asarray(y)
    except Exception as e:
        raise DataTypeError(f"{name} could not be converted to an array: {e}") from e
    if Y.ndim not in (1, 2):
        raise DataError(
            f"{name} must be 1-D class labels (n,) or a 2-D indicator matrix (n, n_labels); "
            f"got a {Y.ndim}-D array of shape {Y.shape}."
        )
    if Y.shape[0] != n:
        raise DataError(
            f"{name} has {Y.shape[0]} labels, but the views have {n} rows; "
            "pass one label (row) per sample."
        )
    if Y.dtype.kind == "f" and not np.isfinite(Y).all():
        raise DataError(f"{name} contains NaN or inf labels.")
    return Y


def check_n_components(n_components: Any, limit: int, why: str) -> int:
    """Check ``n_components`` against an upper bound and return it as an int.

    Parameters
    ----------
    n_components : int
        Requested number of components (>= 1).
    limit : int
        Largest number the data allow.
    why : str
        What sets ``limit`` (e.g. ``"min(n_features) of the two views"``), for the message.

    Raises
    ------
    ConfigError
        Not an integer >= 1, or larger than ``limit``.
    """
    if (
        isinstance(n_components, bool)
        or not isinstance(n_components, numbers.Integral)
        or n_components < 1
    ):
        raise ConfigError(f"n_components must be an integer >= 1; got {n_components!r}.")
    if n_components > limit:
        raise ConfigError(
            f"n_components={n_components} is too large: at most {limit} components exist "
            f"here ({why}). Lower n_components."
        )
    return int(n_components)


class MultiViewModel(BaseEstimator, metaclass=ABCMeta):
    """Base class of the multi-view models of :mod:`bridge`.

    Subclasses implement :meth:`_fit` (or :meth:`fit`) and :meth:`transform` and call
    :meth:`_validate_fit` / :meth:`_validate_transform` at their boundaries.
    Following scikit-learn, ``__init__`` only stores its arguments, learned state
    ends in ``_`` and :func:`sklearn.base.clone`, ``get_params`` and ``set_params``
    work.

    Attributes
    ----------
    min_views, max_views : int, int or None
        Class attributes: how many views the method can learn from.
    view_names_ : tuple of str
        Names of the views seen at ``fit``, in the order they were given.
    n_features_in_ : dict[str, int]
        Number of features of each view seen at ``fit``.
    """

    min_views: ClassVar[int] = 1
    max_views: ClassVar[int | None] = None
    #: Learned attributes set at the *end* of a subclass's ``fit``; a model counts as
    #: fitted only when ``view_names_`` and all of these exist.
    _fitted_attrs: ClassVar[tuple[str, ...]] = ()

    def fit(
        self,
        views: Views,
        y: ArrayLike | None = None,
        views_val: Views | None = None,
        y_val: ArrayLike | None = None,
    ) -> MultiViewModel:
        """Learn from paired views.

        Parameters
        ----------
        views : dict[str, array-like of shape (n_samples, n_features_v)]
            The paired training views (how many: ``min_views`` to ``max_views``).
        y : array-like of shape (n_samples,) or (n_samples, n_labels), optional
            Labels, for the supervised models (SDML, HRL); the others validate and
            ignore them.
        views_val : dict[str, array-like of shape (n_val, n_features_v)], optional
            Held-out pairs for early stopping, for the models that train by epochs; the
            others validate and ignore them.
        y_val : array-like of shape (n_val,) or (n_val, n_labels), optional
            Labels of ``views_val``; with them (``monitor="auto"``) the torch models
            stop early on the cross-modal MAP of ``views_val`` instead of its loss.

        Returns
        -------
        self
        """
        self._fit(views, y, views_val, y_val)
        return self

    def _fit(self, views: Any, y: Any, views_val: Any, y_val: Any) -> None:
        """What :meth:`fit` does, on its arguments as given (validate them with
        :meth:`_validate_fit`); a subclass implements this or overrides ``fit``."""
        raise NotImplementedError(f"{type(self).__name__} implements neither fit nor _fit.")

    @abstractmethod
    def transform(self, views: Views) -> dict[str, np.ndarray]:
        """Embed each given view: ``{name: (n_samples, n_components)}``."""

    def fit_transform(
        self,
        views: Views,
        y: ArrayLike | None = None,
        views_val: Views | None = None,
        y_val: ArrayLike | None = None,
    ) -> dict[str, np.ndarray]:
        """``fit(views, y, views_val, y_val)`` then ``transform(views)``."""
        return self.fit(views, y, views_val=views_val, y_val=y_val).transform(views)

    # ----------------------------------------------------------------- validation

    def _validate_fit(
        self,
        views: Any,
        y: Any = None,
        views_val: Any = None,
        y_val: Any = None,
        *,
        allow_nan_rows: bool = False,
        dtype: DTypeLike | None = None,
    ) -> tuple[dict[str, np.ndarray], np.ndarray | None, dict[str, np.ndarray] | None, Any]:
        """Validate the arguments of ``fit``; set ``view_names_`` and ``n_features_in_``.

        The learned state of a previous ``fit`` (public attributes ending in ``_``)
        is removed first, so a refit that fails leaves no stale mix behind.
        ``views_val`` (if given) must hold the same views with the same numbers of
        features; ``y`` / ``y_val`` must have one label per row.
        """
        self._forget_fit()
        V = validate_views(
            views,
            allow_nan_rows=allow_nan_rows,
            min_views=self.min_views,
            max_views=self.max_views,
            dtype=dtype,
        )
        n = next(iter(V.values())).shape[0]
        Y = validate_labels(y, n)
        nfeat = {k: A.shape[1] for k, A in V.items()}
        V_val = Y_val = None
        if views_val is not None:
            V_val = validate_views(
                views_val,
                fitted_names=list(V),
                allow_subset=False,
                allow_nan_rows=allow_nan_rows,
                n_features=nfeat,
                dtype=dtype,
                name="views_val",
            )
            Y_val = validate_labels(y_val, next(iter(V_val.values())).shape[0], name="y_val")
        elif y_val is not None:
            raise DataError("y_val was given without views_val; pass both or neither.")
        self.view_names_ = tuple(V)
        self.n_features_in_ = nfeat
        return V, Y, V_val, Y_val

    def _forget_fit(self) -> None:
        """Remove the learned state of a previous ``fit`` (public attributes ending in
        ``_``), so a refit that fails leaves no stale mix behind."""
        for attr in [a for a in vars(self) if a.endswith("_") and not a.startswith("_")]:
            delattr(self, attr)

    def _check_fitted(self) -> None:
        if not all(hasattr(self, a) for a in ("view_names_", *self._fitted_attrs)):
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet; call fit(views) "
                "before transform."
            )

    def _validate_transform(
        self,
        views: Any,
        *,
        allow_nan_rows: bool = False,
        dtype: DTypeLike | None = None,
    ) -> dict[str, np.ndarray]:
        """Validate the views given to ``transform`` (any subset of ``view_names_``)."""
        self._check_fitted()
        return validate_views(
            views,
            fitted_names=self.view_names_,
            allow_subset=True,
            allow_nan_rows=allow_nan_rows,
            n_features=self.n_features_in_,
            dtype=dtype,
        )
