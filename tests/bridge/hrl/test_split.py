"""The held-out validation split of HRL (bridge.models.hrl.split)."""

from __future__ import annotations

import numpy as np
import pytest

from boltz.errors import DataError
from bridge.models.hrl.split import stratified_split


def test_every_class_gives_its_share():
    y = np.repeat([0, 1, 2], [10, 20, 1])
    tr, va = stratified_split(y, 0.2, seed=0)
    assert np.array_equal(np.sort(np.concatenate([tr, va])), np.arange(len(y)))
    assert [int((y[va] == c).sum()) for c in (0, 1, 2)] == [2, 4, 0]
    again = stratified_split(y, 0.2, seed=0)
    assert np.array_equal(again[1], va)
    assert not np.array_equal(stratified_split(y, 0.2, seed=1)[1], va)


def test_nothing_to_hold_out_is_a_data_error():
    with pytest.raises(DataError, match="views_val"):
        stratified_split(np.array([0, 1, 2]), 0.5, seed=0)
