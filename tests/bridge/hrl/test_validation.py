"""Input checks of HRL (bridge.models.hrl.validation)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from boltz.errors import ConfigError, DataError, DataTypeError
from bridge.models.hrl import check_hrl_views
from bridge.models.hrl.validation import check_unit, per_view

UNITS = {"image": "gaussian", "text": "softmax"}


def test_dense_and_csr_views_pass_in_their_order():
    X = np.random.default_rng(0).poisson(1.0, (5, 3)).astype(float)
    out = check_hrl_views({"text": sp.csr_matrix(X), "image": X}, UNITS)
    assert list(out) == ["text", "image"]
    assert sp.issparse(out["text"]) and out["image"].dtype == np.float64


def test_bad_views_are_clear_errors():
    X = np.ones((4, 3))
    with pytest.raises(DataError, match="negative"):
        check_hrl_views({"text": -X}, UNITS, allow_subset=True)
    with pytest.raises(DataTypeError, match="sparse"):
        check_hrl_views({"image": sp.csr_matrix(X)}, UNITS, allow_subset=True)
    with pytest.raises(DataError, match=r"\[0, 1\]"):
        check_hrl_views({"b": 2 * X}, {"b": "bernoulli"})
    with pytest.raises(DataError, match="missing"):
        check_hrl_views({"image": X}, UNITS)
    with pytest.raises(DataError, match="unknown view"):
        check_hrl_views({"audio": sp.csr_matrix(X)}, UNITS, allow_subset=True)
    with pytest.raises(DataTypeError, match="dict"):
        check_hrl_views([X, X], UNITS)


def test_per_view_settings():
    assert per_view(None, ["a", "b"], "w", {"a": 1, "b": 2}) == {"a": 1, "b": 2}
    assert per_view(3, ["a", "b"], "w", {}) == {"a": 3, "b": 3}
    with pytest.raises(ConfigError, match="no entry for view"):
        per_view({"a": 1}, ["a", "b"], "w", {})
    with pytest.raises(ConfigError, match="visible"):
        check_unit("poisson", "image")
