"""Validation of the inputs of :mod:`bridge.metrics`: embeddings, labels and options.

Every refusal names the argument, says what was expected and what came
(:class:`~boltz.errors.DataError`, :class:`~boltz.errors.DataTypeError`,
:class:`~boltz.errors.ConfigError`).  Label arrays of any type are turned into joint
integer codes by :func:`_encode`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

from boltz.errors import ConfigError, DataError, DataTypeError

__all__ = ["METRICS", "NORMALIZATIONS"]

METRICS = ("cosine", "euclidean")
NORMALIZATIONS = ("retrieved", "relevant")


def _to_array(x: Any, name: str, expected: str) -> np.ndarray:
    if sp.issparse(x):
        x = x.toarray()
    try:
        return np.asarray(x)
    except (TypeError, ValueError, RuntimeError) as e:
        raise DataTypeError(
            f"{name}: expected {expected}; got a {type(x).__name__} that NumPy cannot convert "
            f"({e}). Pass a NumPy array (torch tensors: x.detach().cpu().numpy())."
        ) from e


def _embeddings(x: Any, name: str) -> np.ndarray:
    """``x`` as a finite float64 array of shape (n_samples, n_features), or a clear error."""
    expected = "a 2-D real array of shape (n_samples, n_features)"
    arr = _to_array(x, name, expected)
    if arr.dtype.kind not in "biuf":
        raise DataTypeError(
            f"{name}: expected {expected} of bool, int or float dtype; got dtype {arr.dtype}."
        )
    if arr.ndim != 2:
        hint = (
            " Reshape one vector with x[None, :] (one item) or x[:, None] (one feature)."
            if arr.ndim == 1
            else ""
        )
        raise DataError(
            f"{name}: expected {expected}; got a {arr.ndim}-D array of shape {arr.shape}.{hint}"
        )
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise DataError(
            f"{name}: expected at least one row and one column; got an empty array of "
            f"shape {arr.shape}."
        )
    arr = arr.astype(np.float64, copy=False)
    bad = ~np.isfinite(arr)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise DataError(
            f"{name}: expected finite values; got {int(bad.sum())} NaN/inf entries (the first "
            f"at [{r}, {c}] is {arr[r, c]}). Remove or impute them."
        )
    return arr


def _labels(y: Any, name: str, n: int, of: str) -> np.ndarray:
    """Class ids, shape (n,), or a boolean multi-label matrix, shape (n, n_labels)."""
    expected = "1-D class ids (n,) or a 2-D 0/1 multi-label matrix (n, n_labels)"
    arr = _to_array(y, name, expected)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim not in (1, 2):
        raise DataError(
            f"{name}: expected {expected}; got a {arr.ndim}-D array of shape {arr.shape}."
        )
    if arr.shape[0] != n:
        raise DataError(
            f"{name}: expected {n} labels, one per row of {of}; got {arr.shape[0]} "
            f"(shape {arr.shape})."
        )
    if arr.dtype.kind == "c":
        raise DataTypeError(f"{name}: expected real or string labels; got dtype {arr.dtype}.")
    if arr.ndim == 1:
        if arr.dtype.kind == "f" and not np.isfinite(arr).all():
            raise DataError(f"{name}: expected finite labels; got NaN or inf.")
        return arr
    if arr.shape[1] == 0:
        raise DataError(
            f"{name}: a multi-label matrix needs at least one column; got shape {arr.shape}."
        )
    if arr.dtype.kind not in "biuf":
        raise DataTypeError(
            f"{name}: a 2-D label matrix must be a numeric 0/1 indicator matrix; got dtype "
            f"{arr.dtype}. Pass class ids as a 1-D array."
        )
    if not np.isin(arr, (0, 1)).all():
        odd = arr[~np.isin(arr, (0, 1))][:3]
        raise DataError(
            f"{name}: a 2-D label matrix must hold only 0 and 1 (multi-label indicators); got "
            f"values such as {odd.tolist()}. Pass class ids as a 1-D array."
        )
    return arr != 0


def _metric(metric: Any) -> str:
    if metric not in METRICS:
        raise ConfigError(f"metric must be one of {METRICS}; got {metric!r}.")
    return metric


def _normalize(normalize: Any) -> str:
    if normalize not in NORMALIZATIONS:
        raise ConfigError(f"normalize must be one of {NORMALIZATIONS}; got {normalize!r}.")
    return normalize


def _int_at_least(value: Any, name: str, lo: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < lo:
        raise ConfigError(f"{name} must be an integer >= {lo}; got {value!r}.")
    return int(value)


def _k(k: Any, n: int) -> int:
    """``k`` clamped to the ``n`` rankable database items (``None``: all of them)."""
    if k is None:
        return n
    return min(_int_at_least(k, "k", 1), n)


def _retrieval_inputs(
    queries: ArrayLike,
    database: ArrayLike,
    query_labels: ArrayLike,
    database_labels: ArrayLike,
    metric: Any,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]:
    metric = _metric(metric)
    Q = _embeddings(queries, "queries")
    D = _embeddings(database, "database")
    if Q.shape[1] != D.shape[1]:
        raise DataError(
            "queries and database: expected the same number of features (columns); got "
            f"{Q.shape[1]} and {D.shape[1]} (shapes {Q.shape} and {D.shape})."
        )
    lq = _labels(query_labels, "query_labels", Q.shape[0], "queries")
    ld = _labels(database_labels, "database_labels", D.shape[0], "database")
    _check_label_kinds(lq, ld)
    return Q, D, lq, ld, metric


def _check_label_kinds(lq: np.ndarray, ld: np.ndarray) -> None:
    if lq.ndim != ld.ndim:
        raise DataError(
            "query_labels and database_labels: expected both class ids (1-D) or both multi-label "
            f"matrices (2-D); got shapes {lq.shape} and {ld.shape}."
        )
    if lq.ndim == 2 and lq.shape[1] != ld.shape[1]:
        raise DataError(
            "query_labels and database_labels: multi-label matrices need the same number of "
            f"labels (columns); got {lq.shape[1]} and {ld.shape[1]}."
        )
    if lq.ndim == 1:
        numeric = [a.dtype.kind in "biuf" for a in (lq, ld)]
        strings = [a.dtype.kind in "US" for a in (lq, ld)]
        if (numeric[0] and strings[1]) or (strings[0] and numeric[1]):
            raise DataTypeError(
                "query_labels and database_labels: expected labels of one kind; got dtypes "
                f"{lq.dtype} and {ld.dtype} (numbers never equal strings)."
            )


def _encode(name: str, *arrays: np.ndarray) -> tuple[list[np.ndarray], int]:
    """Joint integer codes of 1-D label arrays (equal labels, equal codes)."""
    try:
        uniq, inv = np.unique(np.concatenate(arrays), return_inverse=True)
    except TypeError as e:
        raise DataTypeError(
            f"{name}: expected labels that can be compared and sorted (numbers or strings); "
            f"got values that cannot ({e})."
        ) from e
    inv = inv.reshape(-1)
    cuts = np.cumsum([len(a) for a in arrays])[:-1]
    return np.split(inv, cuts), len(uniq)


def _views(views: Any, name: str) -> dict[str, Any]:
    if not isinstance(views, Mapping):
        raise DataTypeError(
            f"{name}: expected a dict of view name -> embeddings; got {type(views).__name__}."
        )
    for key in views:
        if not isinstance(key, str):
            raise DataTypeError(f"{name}: view names must be strings; got {key!r}.")
    return dict(views)


def _view_labels(labels: Any, names: list[str], name: str) -> dict[str, Any]:
    """One label array per view: ``labels`` shared by all (paired views) or a dict."""
    if isinstance(labels, Mapping):
        missing = [v for v in names if v not in labels]
        if missing:
            raise DataError(
                f"{name}: expected labels for views {names}; missing {missing} "
                f"(got keys {list(labels)})."
            )
        return {v: labels[v] for v in names}
    return dict.fromkeys(names, labels)
