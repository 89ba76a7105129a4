"""boltz.pretraining: resumable greedy training of a config's model, bitwise."""

from __future__ import annotations

import tomllib

import numpy as np
import pytest

import boltz
from boltz import config
from boltz.errors import ConfigError
from boltz.pretraining import pretrain, recon_errors

TEXT = """
[data]
dataset = "digits-halves"
[defaults]
epochs = 2
[pathways.left]
[[pathways.left.layers]]
n_hidden = 8
[pathways.right]
[[pathways.right.layers]]
n_hidden = 8
[[pathways.right.layers]]
n_hidden = 6
[joint]
n_hidden = 10
"""


@pytest.fixture(scope="module")
def setup():
    spec = config.parse_config(tomllib.loads(TEXT))
    views = config.load_views(spec["data"], max_rows=120)
    return spec, views


def _arrays(model):
    out = {}
    for name, dbn in model.pathways_.items():
        for i, r in enumerate(dbn.layers_):
            out[f"{name}.{i}"] = r.weights_
    out["joint"] = model.joint_.weights_
    return out


def test_pretrain_trains_saves_and_reports(setup, tmp_path):
    spec, views = setup
    model = pretrain(spec, views, tmp_path, seed=0, progress=False)
    assert isinstance(model, boltz.MultimodalDBN)
    assert {"pathway-left.npz", "pathway-right.npz", "joint.npz", "model.npz"} <= {
        p.name for p in tmp_path.iterdir()
    }
    errs = recon_errors(model)
    assert set(errs) == {
        "left.layer0.recon_error",
        "right.layer0.recon_error",
        "right.layer1.recon_error",
        "joint.recon_error",
    }
    assert all(np.isfinite(v) and v > 0 for v in errs.values())
    assert model.joint_.checkpoint is None and not model.joint_.warm_start  # no run paths


def test_interrupted_pretraining_resumes_bitwise(setup, tmp_path):
    spec, views = setup

    def boom(pathway, layer, epoch, record):
        if (pathway, layer, epoch) == ("right", 1, 0):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        pretrain(spec, views, tmp_path / "r", seed=1, progress=False, callbacks=[boom])
    seen: list = []
    resumed = pretrain(
        spec,
        views,
        tmp_path / "r",
        seed=1,
        progress=False,
        callbacks=[lambda p, i, e, r: seen.append((p, i, e))],
    )
    assert seen == [("right", 1, 1), ("joint", 0, 0), ("joint", 0, 1)]
    straight = pretrain(spec, views, tmp_path / "s", seed=1, progress=False)
    a, b = _arrays(resumed), _arrays(straight)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_a_checkpoint_of_another_seed_is_refused(setup, tmp_path):
    spec, views = setup

    def stop(pathway, layer, epoch, record):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        pretrain(spec, views, tmp_path, seed=0, progress=False, callbacks=[stop])
    with pytest.raises(ConfigError, match="different config or seed"):
        pretrain(spec, views, tmp_path, seed=5, progress=False)


def test_single_stack(setup, tmp_path):
    _, views = setup
    text = (
        '[data]\ndataset = "digits-halves"\nview = "left"\n[[layers]]\nn_hidden = 5\nepochs = 1\n'
    )
    spec = config.parse_config(tomllib.loads(text))
    dbn = pretrain(spec, views, tmp_path, progress=False)
    assert type(dbn) is boltz.DBN and set(recon_errors(dbn)) == {"dbn.layer0.recon_error"}
