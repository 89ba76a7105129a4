"""Smoke runs of the embedded-data recipes (README demo, digits RBM) and the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

import boltz
from recipes.cli import main as cli


def test_demo_smoke(tmp_path):
    from recipes.demo import main

    m = main(["--smoke", "--out", str(tmp_path), "-q", "--progress", "off"])
    assert (tmp_path / "completions.png").stat().st_size > 1000
    saved = json.loads((tmp_path / "metrics.json").read_text())
    for k in (
        "mdbn_completion_mse",
        "mean_half_baseline_mse",
        "nearest_neighbour_baseline_mse",
        "knn_baseline_mse",
        "ridge_baseline_mse",
    ):
        assert 0 < saved[k] < 1
        assert saved[k] == pytest.approx(m[k])


def test_demo_is_deterministic(tmp_path):
    from recipes.demo import main

    a = main(["--smoke", "--out", str(tmp_path / "a"), "-q", "--seed", "3"])
    b = main(["--smoke", "--out", str(tmp_path / "b"), "-q", "--seed", "3"])
    a.pop("wall_seconds", None)
    b.pop("wall_seconds", None)
    assert a == b


def test_rbm_digits_smoke(tmp_path):
    from recipes.rbm_digits import main

    m = main(["--smoke", "--out", str(tmp_path), "-q"])
    assert {"raw_pixels_accuracy", "boltz_rbm_accuracy", "sklearn_rbm_accuracy"} <= set(m)
    lo, hi = m["binary_test_log_likelihood_interval"]
    assert lo <= m["binary_test_log_likelihood_ais"] <= hi
    for name in ("history.png", "samples.png", "filters.png", "metrics.json"):
        assert (tmp_path / name).exists()


def test_cli_info_sample_and_errors(tmp_path, capsys):
    X = (np.random.default_rng(0).random((100, 16)) > 0.5).astype(np.float32)
    path = (
        boltz.RBM(n_hidden=4, epochs=1, progress=False, random_state=0)
        .fit(X)
        .save(tmp_path / "r.npz")
    )
    assert cli(["info", str(path), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["class"] == "RBM" and info["arrays"]["params.weights"][0] == [16, 4]
    assert (
        cli(["sample", str(path), "--n", "3", "--steps", "2", "--out", str(tmp_path / "s.png")])
        == 0
    )
    assert (tmp_path / "s.png").exists()
    assert cli(["info", str(tmp_path / "missing.npz")]) == 1
    assert "no checkpoint" in capsys.readouterr().err
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    assert cli(["info", str(tmp_path / "bad.npz")]) == 1
    assert cli(["no-such-command"]) == 2
    assert cli([]) == 2


def test_digits_rbm_features_beat_raw_pixels_like_sklearn(tmp_path):
    """scikit-learn's RBM digits example, measured side by side (10 epochs)."""
    from recipes.rbm_digits import main

    m = main(["--epochs", "10", "--out", str(tmp_path), "-q"])
    assert m["boltz_rbm_accuracy"] > m["raw_pixels_accuracy"]
    assert m["boltz_rbm_accuracy"] >= m["sklearn_rbm_accuracy"] - 0.02
    assert m["binary_test_log_likelihood_ais"] > m["binary_test_log_likelihood_independent_pixels"]


def test_recipe_with_a_bad_data_path_is_a_one_line_failure(tmp_path, capsys):
    rc = cli(
        [
            "rbm-wikipedia",
            "--data",
            str(tmp_path / "nowhere"),
            "--out",
            str(tmp_path / "o"),
            "--smoke",
            "-q",
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 1
    assert len(err) == 1 and "FileNotFoundError" in err[0] and "--data" in err[0]
    assert cli(["rbm-wikipedia", "--no-such-option"]) == 2
