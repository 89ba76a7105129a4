"""Input checks of HRL: the views (dense arrays, or CSR counts for softmax views) and
per-view settings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from boltz.errors import ConfigError, DataError, DataTypeError

from ...base import validate_labels, validate_views

__all__ = [
    "UNITS",
    "check_fit_data",
    "check_fitted_views",
    "check_hrl_views",
    "check_two_views",
    "check_unit",
    "per_view",
]

#: The visible unit types of a view's bottom RBM.
UNITS = ("gaussian", "softmax", "bernoulli")


def per_view(value: Any, names: Sequence[str], what: str, default: Mapping[str, Any]) -> dict:
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


def check_unit(unit: Any, name: str) -> str:
    """``unit`` as the visible unit type of view ``name``; ConfigError if unknown."""
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


def check_fitted_views(model: Any, views: Any) -> dict[str, Any]:
    """Validate views given to a fitted HRL or HRL stage 1 (``transform``, ``features``).

    Parameters
    ----------
    model : HRL or HRLStage1
        Fitted: its ``units_``, ``view_names_`` and ``n_features_in_`` are the checks.
    views : Mapping[str, array-like or scipy.sparse matrix]
        Any subset of the fitted views, ``(n_samples, n_features_v)``.

    Returns
    -------
    dict[str, ndarray or scipy.sparse.csr_matrix]
        As :func:`check_hrl_views` returns them.
    """
    return check_hrl_views(
        views,
        model.units_,
        fitted=model.view_names_,
        n_features=model.n_features_in_,
        allow_subset=True,
    )


def check_two_views(views: Any) -> None:
    """Refuse anything but a dict of exactly two views with string keys (``HRL.fit``).

    Raises
    ------
    DataTypeError
        Not a dict, or a key that is not a string.
    DataError
        Not exactly two views.
    """
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
            f"HRL needs exactly two views {{name: array}} (e.g. image and text); got {list(views)}."
        )


def check_fit_data(
    views: Mapping[str, Any],
    y: Any,
    views_val: Mapping[str, Any] | None,
    y_val: Any,
    units: Mapping[str, str],
) -> tuple[dict[str, Any], np.ndarray, dict[str, Any] | None, np.ndarray | None]:
    """Validate the arguments of ``HRL.fit``: paired views with 1-D labels, optionally
    validation pairs with theirs.

    Parameters
    ----------
    views : dict[str, array-like or CSR], (n_samples, n_features_v)
    y : array-like of shape (n_samples,)
    views_val : dict or None
        The same views, (n_val, n_features_v).
    y_val : array-like of shape (n_val,) or None
        Required with ``views_val``, refused without.
    units : Mapping[str, str]
        Visible unit type per view.

    Returns
    -------
    V, Y, V_val, Y_val
        As :func:`check_hrl_views` and :func:`bridge.base.validate_labels` return them
        (``V_val`` and ``Y_val`` None without ``views_val``).

    Raises
    ------
    DataError, DataTypeError
    """
    names = list(views)
    V = check_hrl_views(views, units, fitted=names)
    n = next(iter(V.values())).shape[0]
    if y is None:
        raise DataError("HRL is supervised: pass the class labels y (one per training pair).")
    Y = validate_labels(y, n)
    if Y.ndim != 1:
        raise DataError(f"y must be 1-D class labels of shape ({n},); got shape {Y.shape}.")
    nfeat = {k: int(X.shape[1]) for k, X in V.items()}
    V_val = Y_val = None
    if views_val is not None:
        V_val = check_hrl_views(views_val, units, fitted=names, n_features=nfeat, name="views_val")
        n_val = next(iter(V_val.values())).shape[0]
        if y_val is None:
            raise DataError("views_val was given without y_val; pass both or neither.")
        Y_val = validate_labels(y_val, n_val, name="y_val")
        if Y_val.ndim != 1:
            raise DataError(f"y_val must be 1-D class labels; got shape {Y_val.shape}.")
    elif y_val is not None:
        raise DataError("y_val was given without views_val; pass both or neither.")
    return V, Y, V_val, Y_val
