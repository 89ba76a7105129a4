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
    methods = ["dm2c", "dm2c_paper", "dm2c_authors", "kmeans_concat", "kmeans_image"]
    methods += ["kmeans_text", "cca_paired", "cca_paired_ridge"]
    methods += [f"dm2c_{t}_{u}space" for t in ("paper", "authors") for u in ("image", "text")]
    for meth in methods:
        for s in ("train", "val", "test"):
            for x in SCORES:
                v = m[f"{meth}_{s}_{x}"]
                assert math.isfinite(v) and -1.0 <= v <= 1.0, (meth, s, x)
                assert m[f"{meth}_{s}_{x}_std"] == 0.0  # one seed in smoke mode
    for v in ("image", "text"):
        assert math.isfinite(m[f"dm2c_train_{v}_acc"])
    # the selection is made on the validation split and the aliases follow it
    val = lambda key: m[f"{key}_val_acc"] + m[f"{key}_val_nmi"]  # noqa: E731
    t = m["selected_training"]
    assert t in ("paper", "authors") and m["trainings"] == ["paper", "authors"]
    for tr in ("paper", "authors"):
        u = m[f"selected_unify_{tr}"]
        other = "text" if u == "image" else "image"
        assert val(f"dm2c_{tr}_{u}space") >= val(f"dm2c_{tr}_{other}space")
        assert m[f"dm2c_{tr}_test_acc"] == m[f"dm2c_{tr}_{u}space_test_acc"]
    assert m["dm2c_test_nmi"] == m[f"dm2c_{t}_test_nmi"]
    other = "authors" if t == "paper" else "paper"
    assert val(f"dm2c_{t}") >= val(f"dm2c_{other}")
    assert m["n_train_image"] + m["n_train_text"] + m["n_val_image"] + m["n_val_text"] == 250
    assert m["n_val_image"] + m["n_val_text"] == 50
    assert m["seeds"] == [1]
    assert (tmp_path / "clusters.png").stat().st_size > 1000
    md = (tmp_path / "results.md").read_text()
    assert "0.2720" in md and "0.1543" in md and "0.0558" in md
    assert "Margin of dm2c_authors over k-means" in md


def test_bad_trainings_argument(data_dir, tmp_path):
    import pytest

    from recipes.dm2c import main

    with pytest.raises(SystemExit):
        main(["--smoke", "--data", str(data_dir), "--out", str(tmp_path), "--trainings", "x"])


def test_smoke_is_deterministic(data_dir, tmp_path):
    from recipes.dm2c import main

    args = ["--smoke", "--data", str(data_dir), "-q", "--seed", "2", "--trainings", "authors"]
    a = main([*args, "--out", str(tmp_path / "a")])
    b = main([*args, "--out", str(tmp_path / "b")])
    assert _numbers(a) == _numbers(b)
