"""recipes.dm2c: the mixed-modal split, a smoke run on the real data (skipped when
absent), determinism, the one-line error of a bad --data."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from recipes.dm2c import SCORES, mixed_split


def _numbers(m: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in m.items() if "seconds" not in k}


def test_mixed_split_gives_each_pair_one_modality():
    a, b = mixed_split(11, seed=0)
    assert len(a) == 6 and len(b) == 5
    assert not set(a) & set(b) and sorted([*a, *b]) == list(range(11))
    a2, _ = mixed_split(11, seed=0)
    np.testing.assert_array_equal(a, a2)
    assert not np.array_equal(a, mixed_split(11, seed=1)[0])


def test_smoke(data_dir, tmp_path):
    from recipes.dm2c import main

    m = main(["--smoke", "--data", str(data_dir), "--out", str(tmp_path), "-q", "--seed", "1"])
    methods = ["dm2c", "dm2c_textspace", "kmeans_concat", "kmeans_image", "kmeans_text"]
    methods += ["cca_paired", "cca_paired_ridge"]
    for meth in methods:
        for s in ("train", "test"):
            for x in SCORES:
                v = m[f"{meth}_{s}_{x}"]
                assert math.isfinite(v) and -1.0 <= v <= 1.0, (meth, s, x)
                assert m[f"{meth}_{s}_{x}_std"] == 0.0  # one seed in smoke mode
    for v in ("image", "text"):
        assert math.isfinite(m[f"dm2c_train_{v}_acc"])
    assert m["n_train_image"] == 100 and m["n_train_text"] == 100
    assert m["seeds"] == [1]
    assert (tmp_path / "clusters.png").stat().st_size > 1000
    md = (tmp_path / "results.md").read_text()
    assert "0.2720" in md and "0.1543" in md and "0.0558" in md


def test_smoke_is_deterministic(data_dir, tmp_path):
    from recipes.dm2c import main

    args = ["--smoke", "--data", str(data_dir), "-q", "--seed", "2"]
    a = main([*args, "--out", str(tmp_path / "a")])
    b = main([*args, "--out", str(tmp_path / "b")])
    assert _numbers(a) == _numbers(b)
