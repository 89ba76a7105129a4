"""Content hashes and the feature cache of HRL (bridge.models.hrl.fingerprint)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from bridge.models.hrl import fingerprint
from bridge.models.hrl.fingerprint import FeatureCache


def test_fingerprint_follows_content_shape_dtype_and_layout():
    X = np.arange(12.0).reshape(3, 4)
    assert fingerprint(X) == fingerprint(X.copy()) == fingerprint(np.asfortranarray(X))
    Y = X.copy()
    Y[1, 2] += 1e-12
    assert len({fingerprint(X), fingerprint(Y), fingerprint(X.reshape(4, 3))}) == 3
    assert fingerprint(X) != fingerprint(X.astype(np.float32))
    assert fingerprint(X) != fingerprint(sp.csr_matrix(X))
    assert fingerprint(sp.csr_matrix(X)) == fingerprint(sp.coo_matrix(X))


def test_the_cache_computes_once_and_drops_the_oldest():
    calls = []
    cache = FeatureCache(size=2)

    def compute(v):
        calls.append(v)
        return np.full(2, v, dtype=np.float64)

    a = cache.get("a", lambda: compute(1))
    assert a.dtype == np.float32 and cache.get("a", lambda: compute(9)) is a
    cache.get("b", lambda: compute(2))
    cache.get("c", lambda: compute(3))  # drops "a"
    assert len(cache) == 2 and calls == [1, 2, 3]
    assert cache.get("a", lambda: compute(4))[0] == 4
    cache.clear()
    assert len(cache) == 0
