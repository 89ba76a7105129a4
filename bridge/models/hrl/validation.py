"""Input checks of HRL: the views (dense arrays, or CSR counts for softmax views) and
per-view settings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from boltz.errors import ConfigError, DataError, DataTypeError

from ...base import validate_views

__all__ = ["UNITS", "check_hrl_views", "check_unit", "per_view"]

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
