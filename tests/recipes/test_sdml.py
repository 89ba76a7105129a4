"""recipes.sdml: smoke runs on the real data (skipped when absent), the incremental
modality property at recipe level, determinism, the one-line error of a bad --data."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from recipes.sdml import bow_features, zscore

PAIRS = [
    (a, b)
    for a in ("fourier", "karhunen", "pixel")
    for b in ("fourier", "karhunen", "pixel")
    if a != b
]


def _numbers(m: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in m.items() if "seconds" not in k}


def test_feature_helpers():
    rng = np.random.default_rng(0)
    X = rng.normal(3.0, 2.0, size=(50, 4))
    X[:, 2] = 1.0  # a constant column stays finite (0)
    Z = zscore(X, X)
    np.testing.assert_allclose(Z.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(Z[:, [0, 1, 3]].std(0), 1)
    assert (Z[:, 2] == 0).all()
    C = rng.poisson(1.0, size=(30, 20)).astype(float)
    C[3] = 0  # an empty document stays finite (0 before centring)
    B = bow_features(C, C)
    assert np.isfinite(B).all()
    np.testing.assert_allclose(B.mean(0), 0, atol=1e-12)
    # log1p, unit rows, centred, one global scale (no per-word scaling)
    L = np.log1p(C)
    rows = L / np.maximum(np.linalg.norm(L, axis=1, keepdims=True), 1e-12)
    np.testing.assert_allclose(B, (rows - rows.mean(0)) / rows.std())
    np.testing.assert_allclose(bow_features(C[:5], C), B[:5])


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
