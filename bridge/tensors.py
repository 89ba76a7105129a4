"""Arrays as torch tensors for the exported modules: dtypes, inputs, parameters.

:func:`resolve_dtype` reads a dtype argument, :func:`as_tensor` turns input rows (dense,
scipy sparse or a tensor) into a tensor, and :func:`to_parameter` / :func:`to_buffer`
copy boltz's host arrays into a module's parameters and buffers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from boltz.errors import ConfigError

__all__ = ["as_tensor", "is_sparse", "resolve_dtype", "to_buffer", "to_parameter"]

_DTYPES = {"float32": torch.float32, "float64": torch.float64}


def resolve_dtype(dtype: Any) -> torch.dtype:
    """``torch.float32`` / ``torch.float64`` from a torch dtype or its name.

    Raises
    ------
    ConfigError
        For any other dtype (a ``ValueError``).
    """
    if isinstance(dtype, str) and dtype in _DTYPES:
        return _DTYPES[dtype]
    if dtype in (torch.float32, torch.float64):
        return dtype
    raise ConfigError(
        f"dtype must be torch.float32 or torch.float64 (or 'float32'/'float64'); got {dtype!r}."
    )


def as_tensor(X: Any, dtype: Any = torch.float32) -> torch.Tensor:
    """Input rows as a tensor for an exported module.

    Parameters
    ----------
    X : array-like, scipy.sparse matrix or Tensor, shape (n, n_features)
        A scipy sparse matrix (e.g. CSR word counts) becomes a sparse COO tensor,
        which :class:`RBMLayer` multiplies without densifying; anything else a
        dense tensor.
    dtype : torch.dtype or str, default torch.float32

    Returns
    -------
    Tensor, shape (n, n_features)
    """
    dt = resolve_dtype(dtype)
    if isinstance(X, torch.Tensor):
        return X.to(dt)
    if hasattr(X, "tocoo") and not isinstance(X, np.ndarray):
        coo = X.tocoo()
        idx = torch.as_tensor(np.vstack([coo.row, coo.col]).astype(np.int64))
        val = torch.as_tensor(np.asarray(coo.data, dtype=np.float64), dtype=dt)
        return torch.sparse_coo_tensor(idx, val, coo.shape, check_invariants=True).coalesce()
    return torch.as_tensor(np.asarray(X, dtype=np.float64), dtype=dt)


def to_parameter(x: np.ndarray, dtype: torch.dtype) -> nn.Parameter:
    """A trainable copy of ``x`` in ``dtype`` (rounded once, from float64)."""
    return nn.Parameter(torch.as_tensor(np.array(x, dtype=np.float64), dtype=dtype))


def to_buffer(x: np.ndarray, dtype: torch.dtype) -> torch.Tensor:
    """A copy of ``x`` in ``dtype`` for a module buffer (rounded once, from float64)."""
    return torch.as_tensor(np.array(x, dtype=np.float64), dtype=dtype)


def is_sparse(x: torch.Tensor) -> bool:
    """Whether ``x`` has a sparse layout (COO, CSR...)."""
    return x.layout != torch.strided
