"""Content hashes of input arrays, and the bounded cache of step-1 features keyed by them."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = ["FeatureCache", "fingerprint"]


def fingerprint(X: Any) -> str:
    """A content hash of a dense array or a CSR matrix (for caches and reuse keys).

    Parameters
    ----------
    X : ndarray or scipy.sparse matrix
        Any shape and dtype; both enter the hash with the values.

    Returns
    -------
    str
        32 hexadecimal digits (BLAKE2b, 16 bytes).
    """
    h = hashlib.blake2b(digest_size=16)
    if sp.issparse(X):
        X = sp.csr_matrix(X)
        h.update(repr(("csr", X.shape, str(X.dtype))).encode())
        for a in (X.indptr, X.indices, X.data):
            h.update(np.ascontiguousarray(a).tobytes())
    else:
        A = np.ascontiguousarray(X)
        h.update(repr(("dense", A.shape, str(A.dtype))).encode())
        h.update(A.tobytes())
    return h.hexdigest()


class FeatureCache:
    """float32 arrays by key, the oldest dropped once ``size`` are held.

    Parameters
    ----------
    size : int, default 64
        Most entries held.
    """

    def __init__(self, size: int = 64) -> None:
        self.size = int(size)
        self._items: dict[Hashable, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: Hashable, compute: Callable[[], Any]) -> np.ndarray:
        """The array under ``key``, computed by ``compute()`` (as float32) when absent."""
        if key not in self._items:
            if len(self._items) >= self.size:
                self._items.pop(next(iter(self._items)))
            self._items[key] = np.asarray(compute(), dtype=np.float32)
        return self._items[key]

    def clear(self) -> None:
        """Drop every entry."""
        self._items.clear()
