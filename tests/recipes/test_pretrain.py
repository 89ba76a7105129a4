"""recipes.pretrain: smoke runs, config errors, resume after an interruption."""

from __future__ import annotations

import numpy as np
import pytest

import boltz
import recipes.pretrain as pretrain
from boltz.errors import ConfigError

DIGITS = "recipes/configs/digits.toml"


def _run(tmp_path, name="o", extra=()):
    return pretrain.main([DIGITS, "--smoke", "--out", str(tmp_path / name), "-q", *extra])


def test_smoke_writes_model_and_curves(tmp_path):
    m = _run(tmp_path)
    out = tmp_path / "o"
    for f in ("model.npz", "curves.png", "metrics.json", "pathway-left.npz", "joint.npz"):
        assert (out / f).exists(), f
    assert {"left.layer0.recon_error", "right.layer0.recon_error", "joint.recon_error"} <= set(m)
    mdbn = boltz.load(out / "model.npz")
    assert type(mdbn).__name__ == "MultimodalDBN" and mdbn.views_ == ["left", "right"]


def test_same_seed_same_numbers(tmp_path):
    a, b = _run(tmp_path, "a"), _run(tmp_path, "b")
    a.pop("wall_seconds", None)
    b.pop("wall_seconds", None)
    assert a == b


def test_resume_after_interruption_is_bitwise(tmp_path, monkeypatch):
    def boom(pathway, layer, epoch):
        if pathway == "right" and epoch == 0:
            raise KeyboardInterrupt

    monkeypatch.setattr(pretrain, "_on_epoch", boom)
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path, "r")
    assert (tmp_path / "r" / "pathway-left.npz").exists()
    monkeypatch.setattr(pretrain, "_on_epoch", None)
    _run(tmp_path, "r")
    _run(tmp_path, "straight")
    a = boltz.load(tmp_path / "r" / "model.npz")
    b = boltz.load(tmp_path / "straight" / "model.npz")
    for name in ("left", "right"):
        np.testing.assert_array_equal(
            a.pathways_[name].layers_[0].weights_, b.pathways_[name].layers_[0].weights_
        )
    np.testing.assert_array_equal(a.joint_.weights_, b.joint_.weights_)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('[data]\ndataset = "digits-halves"\n[joint]\nn_hidden = 4\n', "missing"),
        ('[data]\ndataset = "mnist"\n', "data.dataset"),
        (
            '[data]\ndataset = "digits-halves"\nview = "left"\n[[layers]]\nn_hiden = 4\n',
            "did you mean 'n_hidden'",
        ),
        (
            '[data]\ndataset = "digits-halves"\nview = "left"\n[[layers]]\nn_hidden = "4"\n',
            r"layers\[0\]\.n_hidden: expected int",
        ),
        (
            '[data]\ndataset = "digits-halves"\nview = "left"\n[[layers]]\nn_hidden = 4\n'
            "learning_rate = true\n",
            r"layers\[0\]\.learning_rate: expected float",
        ),
        ("[model]\nx = 1\n", "unknown key 'model'"),
        ("[[layers]]\nn_hidden = 4\n", r"missing section \[data\]"),
        (
            '[data]\ndataset = "digits-halves"\n[pathways.a]\nview = "left"\n'
            '[[pathways.a.layers]]\nn_hidden = 4\n[pathways.b]\nview = "right"\n'
            "[[pathways.b.layers]]\nn_hidden = 4\nk = 1.5\n[joint]\nn_hidden = 4\n",
            r"pathways\.b\.layers\[0\]\.k: expected int",
        ),
    ],
)
def test_config_errors_name_the_key(tmp_path, text, match):
    cfg = tmp_path / "c.toml"
    cfg.write_text(text)
    with pytest.raises(ConfigError, match=match):
        pretrain.main([str(cfg), "--smoke", "--out", str(tmp_path / "o"), "-q"])


def test_single_stack_config(tmp_path):
    cfg = tmp_path / "one.toml"
    cfg.write_text(
        '[data]\ndataset = "digits-halves"\nview = "left"\n'
        "[[layers]]\nn_hidden = 8\nepochs = 2\n[[layers]]\nn_hidden = 4\nepochs = 2\n"
    )
    m = pretrain.main([str(cfg), "--smoke", "--out", str(tmp_path / "o"), "-q"])
    assert set(m) >= {"dbn.layer0.recon_error", "dbn.layer1.recon_error"}
    assert type(boltz.load(tmp_path / "o" / "model.npz")).__name__ == "DBN"


def test_wikipedia_config_parses():
    import tomllib

    with open("recipes/configs/wikipedia.toml", "rb") as f:
        spec = pretrain.parse_config(tomllib.load(f))
    assert spec["pathways"]["image"]["layers"][0]["visible"] == "gaussian"
    assert spec["pathways"]["text"]["layers"][0]["visible"] == "softmax"
    assert spec["joint"]["n_hidden"] == 1024
