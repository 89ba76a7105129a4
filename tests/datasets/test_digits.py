"""The embedded digit halves (no data folder needed)."""

from __future__ import annotations

import numpy as np

from boltz.datasets import halves, join, load_digit_halves


def test_join_inverts_halves_and_halves_are_columns():
    x = np.arange(2 * 64, dtype=float).reshape(2, 64)
    left, right = halves(x)
    np.testing.assert_array_equal(join(left, right), x)
    img = x[0].reshape(8, 8)
    np.testing.assert_array_equal(left[0].reshape(8, 4), img[:, :4])
    np.testing.assert_array_equal(right[0].reshape(8, 4), img[:, 4:])


def test_load_digit_halves_is_float32_in_unit_range():
    views = load_digit_halves()
    assert set(views) == {"left", "right"}
    for v in views.values():
        assert v.shape == (1797, 32) and v.dtype == np.float32
        assert v.min() >= 0.0 and v.max() <= 1.0
