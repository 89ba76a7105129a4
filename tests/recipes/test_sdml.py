"""recipes.sdml: smoke runs on the real data (skipped when absent), the incremental
modality property at recipe level, determinism, the one-line error of a bad --data."""

from __future__ import annotations

import math
from typing import Any

PAIRS = [
    (a, b)
    for a in ("fourier", "karhunen", "pixel")
    for b in ("fourier", "karhunen", "pixel")
    if a != b
]


def _numbers(m: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in m.items() if "seconds" not in k}


def test_smoke_both_datasets(data_dir, tmp_path):
    from recipes.sdml import main

    m = main(["--smoke", "--data", str(data_dir), "--out", str(tmp_path), "-q"])
    keys = ["wikipedia_map_image_text", "wikipedia_map_text_image", "wikipedia_map_average"]
    keys += ["wikipedia_cca_map_image_text", "wikipedia_cca_map_text_image", "mfeat_map_average"]
    keys += [f"mfeat_map_{a}_{b}" for a, b in PAIRS]
    keys += [f"mfeat_incremental_map_{a}_{b}" for a, b in PAIRS]
    for k in keys:
        assert math.isfinite(m[k]) and 0.0 <= m[k] <= 1.0, k
    # the incremental modality: the earlier networks' embeddings are bitwise unchanged,
    # and fit(two) + add_view(third) is the model fitted on all three at once
    assert m["mfeat_incremental_bitwise_unchanged"] == 1
    assert m["mfeat_incremental_equals_joint"] == 1
    for a, b in PAIRS:
        assert m[f"mfeat_incremental_map_{a}_{b}"] == m[f"mfeat_map_{a}_{b}"]
    assert m["wikipedia_n_val"] == 40 and m["wikipedia_n_test"] == 60
    assert (tmp_path / "map.png").stat().st_size > 1000
    md = (tmp_path / "results.md").read_text()
    assert "0.522" in md and "bitwise unchanged = True" in md
    assert (tmp_path / "metrics.json").exists()


def test_smoke_is_deterministic(data_dir, tmp_path):
    from recipes.sdml import main

    args = ["--smoke", "--data", str(data_dir), "-q", "--dataset", "mfeat", "--seed", "3"]
    a = main([*args, "--out", str(tmp_path / "a")])
    b = main([*args, "--out", str(tmp_path / "b")])
    assert _numbers(a) == _numbers(b)
    c = main([*args[:-1], "4", "--out", str(tmp_path / "c")])
    assert _numbers(c) != _numbers(a)
