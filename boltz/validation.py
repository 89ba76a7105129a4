"""Input validation at the public boundaries (never inside hot loops)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from .backend import is_sparse
from .errors import DataError, DataRangeWarning, DataTypeError

__all__ = ["check_data", "check_views", "clip_to_unit_range", "iter_chunks"]

CHUNK_BYTES = 8 << 20


def _is_rowdata(X: Any) -> bool:
    """Array-likes indexed by rows without loading (memmap, h5py/zarr datasets)."""
    return hasattr(X, "shape") and hasattr(X, "__getitem__") and hasattr(X, "dtype")


def chunk_rows(X: Any, nbytes: int = CHUNK_BYTES) -> int:
    """Rows per block so that one dense block of ``X`` takes about ``nbytes``."""
    row = max(1, int(np.prod(X.shape[1:])) * np.dtype(X.dtype).itemsize)
    return max(64, nbytes // row)


def iter_chunks(X: Any, chunk: int | None = None):
    """Yield consecutive row blocks of ``X`` as NumPy arrays (or CSR), ~8 MB each."""
    chunk = chunk or chunk_rows(X)
    for s in range(0, X.shape[0], chunk):
        block = X[s : s + chunk]
        yield block if is_sparse(block) else np.asarray(block)


def check_data(
    X: Any,
    name: str = "X",
    *,
    allow_sparse: bool = False,
    n_features: int | None = None,
    owner: str = "RBM",
    unit: Any = None,
) -> Any:
    """Validate a data matrix and return it ready for batching.

    Dense inputs come back as NumPy arrays without a copy when possible (the
    caller's array is never modified); memmaps and other row-indexable datasets
    come back as they are (validated chunk by chunk); sparse inputs come back as
    CSR when ``allow_sparse``.

    Raises
    ------
    DataTypeError
        Non-numeric dtypes, sparse input where dense is required, non-array input.
    DataError
        Wrong dimensionality, empty input, NaN/inf, wrong number of features,
        values outside the unit's support.
    """
    if X is None:
        raise DataTypeError(f"{name} must be a 2-D array; got None.")
    if is_sparse(X):
        if not allow_sparse:
            raise DataTypeError(
                f"sparse input is not supported for {name} here (only visible='softmax' takes "
                "sparse CSR counts); pass a dense array, e.g. X.toarray()."
            )
        X = sp.csr_matrix(X)
    elif isinstance(X, np.ndarray) or not _is_rowdata(X):
        try:
            X = np.asarray(X)
        except Exception as e:  # ragged lists etc.
            raise DataTypeError(f"{name} could not be converted to an array: {e}") from e
    dtype = np.dtype(X.dtype)
    if dtype.kind == "c":
        raise DataError(f"Complex data not supported: {name} has dtype {dtype}; pass real numbers.")
    if dtype.kind == "O" and isinstance(X, np.ndarray):
        try:
            X = X.astype(np.float64)
        except TypeError as e:
            raise DataTypeError(
                f"{name} has dtype object with a non-numeric entry ({e}); pass numbers."
            ) from e
        except ValueError as e:
            raise DataTypeError(
                f"{name} has dtype object that is not numeric ({e}); convert it to numbers first."
            ) from e
        dtype = X.dtype
    if dtype.kind not in "biuf":
        raise DataTypeError(
            f"{name} must hold numbers (float, int or bool); got dtype {dtype}. "
            "Convert strings/objects to numbers first."
        )
    if len(X.shape) != 2:
        raise DataError(
            f"Expected 2D array for {name}, got {len(X.shape)}D array instead with shape "
            f"{tuple(X.shape)}. Reshape your data with X.reshape(-1, 1) for a single feature "
            "or X.reshape(1, -1) for a single sample."
        )
    n, d = X.shape
    if n == 0:
        raise DataError(
            f"Found array with 0 sample(s) (shape={tuple(X.shape)}) while a minimum of 1 is "
            f"required: {name} is empty."
        )
    if d == 0:
        raise DataError(
            f"Found array with 0 feature(s) (shape={tuple(X.shape)}) while a minimum of 1 is "
            f"required: {name} has no columns."
        )
    if n_features is not None and d != n_features:
        raise DataError(
            f"{name} has {d} features, but {owner} is expecting {n_features} features as input."
        )
    blocks = [X] if isinstance(X, np.ndarray) or is_sparse(X) else iter_chunks(X)
    for block in blocks:
        vals = block.data if is_sparse(block) else block
        if vals.dtype.kind == "f" and not np.isfinite(vals).all():
            raise DataError(f"Input {name} contains NaN or inf; remove or impute them first.")
        if unit is not None:
            unit.validate(block, name)
    return X


def clip_to_unit_range(X: Any, name: str = "X") -> Any:
    """``X`` itself when inside [0, 1], else a clipped copy and a :class:`DataRangeWarning`.

    For ``transform`` of Bernoulli visibles: a scaler fitted on a training fold maps
    test rows slightly outside [0, 1]; they are clipped (the caller's array is never
    modified) instead of failing the whole fold.
    """
    lo = hi = None
    for block in [X] if isinstance(X, np.ndarray) else iter_chunks(X):
        b_lo, b_hi = float(np.min(block)), float(np.max(block))
        lo = b_lo if lo is None else min(lo, b_lo)
        hi = b_hi if hi is None else max(hi, b_hi)
    if lo >= 0 and hi <= 1:
        return X
    warnings.warn(
        DataRangeWarning(
            f"{name} has values in [{lo:.4g}, {hi:.4g}], outside the [0, 1] of visible="
            "'bernoulli'; transform clips them to [0, 1] (fit refuses them). Scale the data "
            "with statistics that cover the range, or make this an error with "
            "warnings.simplefilter('error', boltz.DataRangeWarning)."
        ),
        stacklevel=4,
    )
    return np.clip(np.asarray(X), 0, 1)


def _n_rows(X: Any, name: str) -> int:
    if X is None:
        raise DataTypeError(f"{name} must be a 2-D array; got None.")
    shape = getattr(X, "shape", None)
    if shape is None:
        try:
            shape = np.asarray(X).shape
        except Exception as e:
            raise DataTypeError(f"{name} could not be converted to an array: {e}") from e
    if len(shape) != 2:
        raise DataError(f"{name} must be a 2-D array (n_samples, n_features); got shape {shape}.")
    return int(shape[0])


def check_views(
    X: Any, name: str, names: Sequence[str], require_all: bool, owner: str = "MultimodalDBN"
) -> dict[str, Any]:
    """Validate a dict of views: known names, 2-D arrays, equal row counts.

    Parameters
    ----------
    X : dict of str -> array-like
    name : str
        What the caller calls ``X`` (``"X"``, ``"given"``...), for the messages.
    names : sequence of str
        The model's views, in order.
    require_all : bool
        Whether every view must be present (fitting) or any non-empty subset will do.
    owner : str
        The model, for the messages.

    Returns
    -------
    dict of str -> array-like
        The views of ``X`` in the order of ``names`` (not copied).

    Raises
    ------
    DataTypeError
        ``X`` is not a dict, or a view is not array-like.
    DataError
        Unknown, missing or no views, a view that is not 2-D, or unequal row counts.
    """
    if not isinstance(X, Mapping):
        raise DataTypeError(
            f"{name} must be a dict mapping view names to arrays, e.g. "
            f"{{{', '.join(repr(n) + ': ...' for n in names)}}}; got {type(X).__name__}."
        )
    unknown = [k for k in X if k not in names]
    if unknown:
        raise DataError(
            f"{name} has unknown view(s) {unknown}; this {owner} has views {list(names)}."
        )
    if not X:
        raise DataError(f"{name} is empty; give at least one of the views {list(names)}.")
    if require_all:
        missing = [n for n in names if n not in X]
        if missing:
            raise DataError(
                f"{name} lacks view(s) {missing}; fitting needs every view {list(names)} "
                "for the same items."
            )
    rows = {k: _n_rows(X[k], f"{name}[{k!r}]") for k in names if k in X}
    if len(set(rows.values())) > 1:
        detail = ", ".join(f"{k!r}: {n}" for k, n in rows.items())
        raise DataError(
            f"all views in {name} must have the same number of rows (row i of every view "
            f"is the same item); got {detail}."
        )
    return {k: X[k] for k in names if k in X}
