"""recipes.drumn: the corruption helpers on synthetic data, --smoke on the real data
(skipped when ../shared/data is absent), deterministic for a seed."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from boltz.errors import ConfigError
from recipes.drumn import (
    inject_class_anomalies,
    inject_feature_anomalies,
    main,
    remove_modalities,
    tfidf,
)


def _views(n=200, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, size=n)
    return {"image": rng.normal(size=(n, 6)), "text": rng.normal(size=(n, 5)) + y[:, None]}, y


def test_remove_modalities_half_each_view():
    obs = remove_modalities(101, 0.3, np.random.default_rng(0))
    lost_i, lost_t = ~obs["image"], ~obs["text"]
    assert lost_i.sum() == 15 and lost_t.sum() == 15  # round(30.3) = 30 rows
    assert not (lost_i & lost_t).any()  # every row keeps one view
    none = remove_modalities(50, 0.0, np.random.default_rng(0))
    assert none["image"].all() and none["text"].all()


def test_class_anomalies_swap_texts_across_classes():
    views, y = _views()
    out, truth = inject_class_anomalies(views, y, 0.1, np.random.default_rng(1))
    assert truth.sum() == 20
    np.testing.assert_array_equal(out["image"], views["image"])
    changed = ~np.all(out["text"] == views["text"], axis=1)
    np.testing.assert_array_equal(changed, truth)
    # each swapped text is another swapped row's text, of another class
    for i in np.flatnonzero(truth):
        (j,) = np.flatnonzero(np.all(views["text"] == out["text"][i], axis=1))
        assert truth[j] and y[j] != y[i]
        np.testing.assert_array_equal(out["text"][j], views["text"][i])
    assert views["text"] is not out["text"]


def test_feature_anomalies_replace_one_view_with_matched_noise():
    views, _ = _views(n=4000)
    out, truth = inject_feature_anomalies(views, 0.15, np.random.default_rng(2))
    assert truth.sum() == 600
    ci = ~np.all(out["image"] == views["image"], axis=1)
    ct = ~np.all(out["text"] == views["text"], axis=1)
    np.testing.assert_array_equal(ci | ct, truth)
    assert not (ci & ct).any() and 200 < ci.sum() < 400  # one view each, about half image
    noise = out["text"][ct]
    np.testing.assert_allclose(noise.mean(0), views["text"].mean(0), atol=0.25)
    np.testing.assert_allclose(noise.std(0), views["text"].std(0), rtol=0.15)


def test_tfidf_uses_training_statistics():
    rng = np.random.default_rng(0)
    counts = rng.poisson(0.5, size=(60, 30)).astype(float)
    counts[:, 0] += 3  # a word in every document: smallest idf
    rows = np.arange(40)
    X = tfidf(counts, rows)
    np.testing.assert_allclose(X[rows].mean(0), 0, atol=1e-12)
    assert abs(X[rows].std() - 1) < 1e-12
    # the training rows' statistics do not depend on the other rows
    other = counts.copy()
    other[40:] = 0
    np.testing.assert_allclose(tfidf(other, rows)[rows], X[rows])


def test_unknown_experiment_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="complete, incomplete, anomaly"):
        main(["--experiments", "complete,bogus", "--out", str(tmp_path), "-q"])


@pytest.mark.data
def test_smoke_end_to_end(data_dir, tmp_path):
    a = tmp_path / "a"
    m = main(["--smoke", "--data", str(data_dir), "--out", str(a), "-q"])
    assert json.loads((a / "metrics.json").read_text()) == m
    assert (a / "incomplete.png").stat().st_size > 0 and (a / "anomaly.png").stat().st_size > 0
    for key in (
        "complete.drumn.i2t_at50",
        "complete.drumn_thres.t2i_at50",
        "complete.dcca.avg_at50",
        "complete.dccae.i2t_all_cos",
        "complete.corr_ae.t2i_all_cos",
        "complete.corr_full_ae.alpha",
        "incomplete.30.drumn.avg_at50",
        "incomplete.30.dccae_dropped.avg_at50",
        "incomplete.0.drumn_dropped.avg_at50",
        "anomaly.class.10.auc",
        "anomaly.feature.10.thres_auc",
        "anomaly.feature.10.drumn_unweighted.avg_at50",
    ):
        assert key in m, key
    assert all(isinstance(v, (int, float)) and math.isfinite(v) for v in m.values())
    assert all(0 <= v <= 1 for k, v in m.items() if "at50" in k or "auc" in k or "cos" in k)
    assert m["data.n_test"] == 80 and m["incomplete.0.drumn.avg_at50"] > 0


@pytest.mark.data
def test_smoke_is_deterministic_for_a_seed(data_dir, tmp_path):
    def run(name, seed):
        argv = ["--smoke", "--data", str(data_dir), "--out", str(tmp_path / name), "-q"]
        m = main([*argv, "--experiments", "incomplete,anomaly", "--seed", str(seed)])
        return {k: v for k, v in m.items() if not k.startswith(("seconds.", "wall_"))}

    a, b = run("a", 0), run("b", 0)
    assert a == b and len(a) > 30
