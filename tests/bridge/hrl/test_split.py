"""The held-out validation split of HRL (bridge.models.hrl.split)."""

from __future__ import annotations

import numpy as np
import pytest

from boltz.errors import DataError
from bridge.models.hrl.split import hold_out, stratified_split


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


def test_hold_out_maps_labels_to_class_indices():
    V = {"a": np.arange(12.0).reshape(6, 2)}
    y = np.array(["x", "y", "x", "y", "x", "y"])
    classes, Vt, yt, Vv, yv = hold_out(V, y, None, None, 0.34, seed=0)
    assert classes.tolist() == ["x", "y"] and len(yv) == 2 and len(yt) == 4
    assert np.array_equal(np.sort(np.concatenate([Vt["a"][:, 0], Vv["a"][:, 0]])), V["a"][:, 0])
    _, _, _, _, yv = hold_out(V, y, V, y[::-1], 0.5, seed=0)
    assert yv.tolist() == [1, 0, 1, 0, 1, 0]
    with pytest.raises(DataError, match="not seen in y"):
        hold_out(V, y, V, np.array(["x", "z", "x", "x", "x", "x"]), 0.5, seed=0)
    with pytest.raises(DataError, match="two classes"):
        hold_out(V, np.array(["x"] * 6), None, None, 0.5, seed=0)
