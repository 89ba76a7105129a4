"""recipes.pretrain (the program over boltz.config / boltz.pretraining): smoke runs, config
errors as the user sees them, resume after an interruption, determinism."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import boltz
import recipes.pretrain as pretrain
from boltz.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
DIGITS = str(REPO / "recipes" / "configs" / "digits.toml")


def _run(out, *extra, callbacks=()):
    return pretrain.main([DIGITS, "--smoke", "--out", str(out), "-q", *extra], callbacks=callbacks)


def _weights(model):
    """Every learned array of a MultimodalDBN, by name."""
    arrays = {}
    for name, dbn in model.pathways_.items():
        for i, r in enumerate(dbn.layers_):
            for attr in ("weights_", "visible_bias_", "hidden_bias_"):
                arrays[f"{name}.{i}.{attr}"] = getattr(r, attr)
    for attr in ("weights_", "visible_bias_", "hidden_bias_"):
        arrays[f"joint.{attr}"] = getattr(model.joint_, attr)
    return arrays


def test_smoke_writes_checkpoints_model_curves_and_metrics(tmp_path):
    m = _run(tmp_path)
    for f in ("model.npz", "curves.png", "metrics.json", "pathway-left.npz", "joint.npz"):
        assert (tmp_path / f).stat().st_size > 0, f
    keys = {f"{p}.layer{i}.recon_error" for p in ("left", "right") for i in (0, 1)}
    assert keys | {"joint.recon_error"} <= set(m)
    assert all(np.isfinite(m[k]) and m[k] > 0 for k in keys)
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["wall_seconds"] > 0 and saved["joint.recon_error"] == m["joint.recon_error"]
    mdbn = boltz.load(tmp_path / "model.npz")
    assert type(mdbn).__name__ == "MultimodalDBN" and mdbn.views_ == ["left", "right"]
    assert [r.n_hidden for r in mdbn.pathways_["left"].layers_] == [16, 16]  # smoke cap
    assert mdbn.pathways_["left"].checkpoint is None  # no run paths in the final model


def test_same_seed_same_numbers_other_seed_differs(tmp_path):
    a, b = _run(tmp_path / "a"), _run(tmp_path / "b")
    c = _run(tmp_path / "c", "--seed", "1")
    for m in (a, b, c):
        m.pop("wall_seconds", None)
    assert a == b
    assert a != c


def test_resume_after_interruption_is_bitwise(tmp_path):
    seen = []

    def boom(pathway, layer, epoch, record):
        seen.append((pathway, layer, epoch))
        if (pathway, layer, epoch) == ("right", 1, 0):  # first epoch of right's second layer
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path / "r", callbacks=[boom])
    assert (tmp_path / "r" / "pathway-right.npz").exists()
    assert not (tmp_path / "r" / "model.npz").exists()
    part = boltz.load(tmp_path / "r" / "pathway-right.npz")
    assert [r.epoch_ for r in part.layers_] == [2, 1]  # stopped inside layer 1

    resumed_epochs = []
    _run(tmp_path / "r", callbacks=[lambda p, i, e, r: resumed_epochs.append((p, i, e))])
    # left is complete and right's layer 0 too: only the rest trains again
    assert resumed_epochs == [("right", 1, 1), ("joint", 0, 0), ("joint", 0, 1)]
    _run(tmp_path / "straight")
    a = _weights(boltz.load(tmp_path / "r" / "model.npz"))
    b = _weights(boltz.load(tmp_path / "straight" / "model.npz"))
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_resume_in_the_joint_layer_and_rerun_of_a_finished_run(tmp_path):
    """An interruption inside the joint RBM resumes there, and rerunning a finished run
    (every checkpoint complete) trains nothing and gives the same model."""

    def boom(pathway, layer, epoch, record):
        if (pathway, layer, epoch) == ("joint", 0, 0):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path / "r", callbacks=[boom])
    again: list = []
    _run(tmp_path / "r", callbacks=[lambda p, i, e, r: again.append((p, i, e))])
    assert again == [("joint", 0, 1)]
    first = _weights(boltz.load(tmp_path / "r" / "model.npz"))
    rerun: list = []
    _run(tmp_path / "r", callbacks=[lambda p, i, e, r: rerun.append((p, i, e))])
    assert rerun == []
    second = _weights(boltz.load(tmp_path / "r" / "model.npz"))
    _run(tmp_path / "straight")
    straight = _weights(boltz.load(tmp_path / "straight" / "model.npz"))
    for k in first:
        np.testing.assert_array_equal(first[k], second[k], err_msg=k)
        np.testing.assert_array_equal(first[k], straight[k], err_msg=k)


def test_resume_refuses_a_checkpoint_from_another_config(tmp_path):
    def stop(pathway, layer, epoch, record):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path, callbacks=[stop])
    with pytest.raises(ConfigError, match="different config or seed"):
        _run(tmp_path, "--seed", "5")


DATA = '[data]\ndataset = "digits-halves"\n'
TWO = (
    DATA + '[pathways.a]\nview = "left"\n[[pathways.a.layers]]\nn_hidden = 4\n'
    '[pathways.b]\nview = "right"\n[[pathways.b.layers]]\nn_hidden = 4\n'
)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (
            TWO
            + "[[pathways.b.layers]]\nn_hidden = 4\nlearning_rate = true\n[joint]\nn_hidden = 4\n",
            r"^.*pathways\.b\.layers\[1\]\.learning_rate: expected float, got bool \(True\)$",
        ),
        (
            TWO + "[joint]\nn_hidden = 4.5\n",
            r"joint\.n_hidden: expected int, got float \(4\.5\)",
        ),
        (
            DATA + 'view = "left"\n[[layers]]\nn_hidden = "4"\n',
            r"layers\[0\]\.n_hidden: expected int, got str \('4'\)",
        ),
        (
            TWO + "[joint]\nn_hidden = 4\nlearning_rat = 0.1\n",
            r"joint\.learning_rat: unknown key; did you mean 'learning_rate'\?",
        ),
        (
            DATA + 'view = "left"\n[[layers]]\nn_hiden = 4\n',
            r"layers\[0\]\.n_hiden: unknown key; did you mean 'n_hidden'\?",
        ),
        (
            DATA + "[model]\nx = 1\n",
            r"\.toml: model: unknown key; allowed: data, defaults, joint, layers, pathways$",
        ),
        ('[dta]\ndataset = "digits-halves"\n', r"dta: unknown key; did you mean 'data'\?"),
        ("[[layers]]\nn_hidden = 4\n", r"missing section \[data\]"),
        (TWO, r"missing section \[joint\]"),
        (DATA, r"missing section \[\[layers\]\]"),
        ('[data]\ndataset = "mnist"\n', r"data\.dataset: expected one of"),
        ('[data]\ndataset = "digits-halve"\n', r"did you mean 'digits-halves'\?"),
        (DATA + "[[layers]]\nn_hidden = 4\n", r"data\.view: missing"),
        (
            DATA + 'view = "left"\n[[layers]]\nlearning_rate = 0.1\n',
            r"layers\[0\]\.n_hidden: missing \(expected int",
        ),
        (
            DATA + 'view = "left"\n[[layers]]\nn_hidden = 4\ncheckpoint = "x.npz"\n',
            r"layers\[0\]\.checkpoint: set at run time",
        ),
        (
            DATA + 'view = "left"\n[[layers]]\nn_hidden = 4\nvisible = "gausian"\n',
            r"layers\[0\]: visible must be one of",
        ),
        (
            TWO
            + "[[pathways.b.layers]]\nn_hidden = 4\nvisible = 'gaussian'\n[joint]\nn_hidden = 4\n",
            r"pathways\.b\.layers\[1\]\.visible: expected 'bernoulli'",
        ),
        (DATA + "words = 10\n", r"data\.words: only for dataset = 'wikipedia'"),
        (
            DATA + '[pathways.a]\nview = "up"\n[[pathways.a.layers]]\nn_hidden = 4\n'
            "[pathways.b]\n[[pathways.b.layers]]\nn_hidden = 4\n[joint]\nn_hidden = 4\n",
            r"pathways\.a\.view: unknown view 'up'; dataset 'digits-halves' has \['left', 'righ",
        ),
        ("[data\n", "not valid TOML"),
    ],
)
def test_config_errors_name_the_key(tmp_path, text, match):
    cfg = tmp_path / "c.toml"
    cfg.write_text(text)
    with pytest.raises(ConfigError, match=match) as e:
        pretrain.main([str(cfg), "--smoke", "--out", str(tmp_path / "o"), "-q"])
    assert isinstance(e.value, ValueError)


def test_single_stack_config(tmp_path):
    cfg = tmp_path / "one.toml"
    cfg.write_text(
        DATA + 'view = "left"\n'
        "[[layers]]\nn_hidden = 8\nepochs = 2\n[[layers]]\nn_hidden = 4\nepochs = 2\nk = 2\n"
    )
    m = pretrain.main([str(cfg), "--smoke", "--out", str(tmp_path / "o"), "-q"])
    assert set(m) >= {"dbn.layer0.recon_error", "dbn.layer1.recon_error"}
    dbn = boltz.load(tmp_path / "o" / "model.npz")
    assert type(dbn).__name__ == "DBN" and dbn.layers_[1].k == 2
