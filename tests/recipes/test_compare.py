"""recipes.compare: the split, --methods, and --smoke end to end on the real data
(skipped when ../shared/data is absent)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from boltz.errors import ConfigError
from recipes.compare import METHODS, PAPERS, bow_features, parse_methods, wikipedia_split

SCORE_KEYS = (
    "i2t",
    "t2i",
    "avg",
    "i2t_at50",
    "t2i_at50",
    "avg_at50",
    "i2t_at50_euclidean",
    "t2i_at50_euclidean",
    "avg_at50_euclidean",
    "val_avg",
    "seconds",
)
CLASSICAL = ("cca", "kcca_poly", "kcca_rbf", "cfa")


def test_wikipedia_split_is_stratified_disjoint_and_fixed():
    y = np.repeat(np.arange(10), [34, 87, 96, 65, 65, 58, 86, 41, 71, 90])  # 693 rows
    rng = np.random.default_rng(3)
    y = y[rng.permutation(len(y))]
    val, test = wikipedia_split(y)
    assert len(val) == 231 and len(test) == 462
    assert np.intersect1d(val, test).size == 0
    assert np.array_equal(np.sort(np.r_[val, test]), np.arange(693))
    # stratified: every class keeps its share within one item
    assert np.all(np.abs(np.bincount(y[val], minlength=10) - np.bincount(y) / 3) <= 1.0)
    v2, t2 = wikipedia_split(y)
    assert np.array_equal(val, v2) and np.array_equal(test, t2)
    v3, _ = wikipedia_split(y, seed=1)
    assert not np.array_equal(val, v3)


def test_bow_features_use_training_statistics_only():
    rng = np.random.default_rng(0)
    ref = rng.poisson(1.0, (50, 30)).astype(float)
    ref[0] = 0.0  # an empty document stays finite
    a = bow_features(ref, ref)
    assert np.all(np.isfinite(a))
    assert np.allclose(a.mean(0), 0.0, atol=1e-12)
    # one global scale: every entry of the centred log-rows is divided by the same number
    rows = np.log1p(ref)
    rows /= np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
    centred = rows - rows.mean(0)
    ratio = centred[a != 0] / a[a != 0]
    assert np.allclose(ratio, ratio[0]) and ratio[0] > 0
    other = rng.poisson(3.0, (5, 30)).astype(float)
    # rows of the new data do not change the mapping of the reference rows
    assert np.allclose(bow_features(ref[:5], ref), a[:5])
    assert bow_features(other, ref).shape == (5, 30)


def test_parse_methods_subset_all_and_unknown():
    assert parse_methods(None) == list(METHODS)
    assert parse_methods("all") == list(METHODS)
    assert parse_methods("cfa, cca,cfa") == ["cfa", "cca"]
    with pytest.raises(ConfigError) as e:
        parse_methods("cca,nope,kcca")
    msg = str(e.value)
    assert "nope" in msg and "kcca" in msg and "valid:" in msg
    assert all(n in msg for n in METHODS)


def test_paper_references_name_known_methods():
    for table in PAPERS.values():
        assert set(table) <= set(METHODS)
        for refs in table.values():
            assert all(0 < i < 1 and 0 < t < 1 for _, i, t in refs)


@pytest.fixture(scope="module")
def smoke(data_dir, tmp_path_factory):
    import torch

    from recipes.compare import main

    old = torch.get_num_threads()
    runs = []
    for name in ("a", "b"):
        out = tmp_path_factory.mktemp(f"compare_{name}")
        runs.append((main(["--smoke", "--data", str(data_dir), "--out", str(out), "-q"]), out))
    torch.set_num_threads(old)
    return runs


def test_smoke_every_method_has_finite_keys_and_outputs(smoke):
    m, out = smoke[0]
    assert m["n_val"] == 231 and m["n_test"] == 462
    for name in METHODS:
        for k in SCORE_KEYS:
            v = m[f"{name}.{k}"]
            assert isinstance(v, float) and math.isfinite(v), (name, k, v)
            if k != "seconds":
                assert 0.0 <= v <= 1.0
    assert json.loads((out / "metrics.json").read_text())["cca.i2t"] == m["cca.i2t"]
    md = (out / "results.md").read_text()
    assert all(METHODS[n].label in md for n in METHODS)
    assert "0.245 / 0.219 (HRL T2)" in md and "0.1781 / 0.1887 (DRUMN T1)" in md
    assert (out / "pr_curves.png").stat().st_size > 10_000


def test_smoke_classical_baselines_beat_chance(smoke):
    m, _ = smoke[0]
    # chance MAP: a random ranking scores about the mean share of the query's class
    # (0.11-0.12 on these 462 test pairs); CCA on 300 pairs of 2,000-word text is weak
    for name in CLASSICAL:
        assert m[f"{name}.avg"] > 0.14, (name, m[f"{name}.avg"])
    assert max(m[f"{n}.avg"] for n in CLASSICAL) > 0.17


def test_smoke_is_deterministic(smoke):
    (a, _), (b, _) = smoke
    ka = {k: v for k, v in a.items() if not k.endswith("seconds")}
    kb = {k: v for k, v in b.items() if not k.endswith("seconds")}
    assert ka == kb


def test_methods_subset_runs_only_those(data_dir, tmp_path):
    from recipes.compare import main

    m = main(
        ["--smoke", "--data", str(data_dir), "--out", str(tmp_path), "-q", "--methods", "cfa,cca"]
    )
    names = {k.split(".")[0] for k in m if "." in k}
    assert names == {"cfa", "cca"}
    md = (tmp_path / "results.md").read_text()
    assert md.index("| CFA |") < md.index("| CCA |")


def test_unknown_method_is_an_error_listing_the_valid_ones(tmp_path):
    from recipes.compare import main

    with pytest.raises(ConfigError, match="valid: cca, kcca_poly"):
        main(["--smoke", "--out", str(tmp_path), "-q", "--methods", "cca,hrl_typo"])
