"""boltz.config: configs as data -- schema, [defaults] merging, shrink, build, seeds."""

from __future__ import annotations

import inspect
import tomllib
from pathlib import Path

import numpy as np
import pytest

import boltz
from boltz import config
from boltz.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
DIGITS = REPO / "recipes" / "configs" / "digits.toml"
WIKIPEDIA = REPO / "recipes" / "configs" / "wikipedia.toml"

TWO = """
[data]
dataset = "digits-halves"
[defaults]
learning_rate = 0.02
epochs = 3
[pathways.a]
view = "left"
layers = [{ n_hidden = 6 }, { n_hidden = 4, learning_rate = 0.1 }]
[pathways.b]
view = "right"
layers = [{ n_hidden = 5 }]
[joint]
n_hidden = 7
epochs = 2
"""


def test_every_rbm_keyword_is_a_layer_key_or_set_at_run_time():
    params = set(inspect.signature(boltz.RBM.__init__).parameters) - {"self"}
    assert set(config.LAYER_KEYS) | config.RUNTIME_KEYS == params
    assert not set(config.LAYER_KEYS) & config.RUNTIME_KEYS
    assert config.LAYER_KEYS["sparsity_target"] == "float"
    assert config.LAYER_KEYS["persistent"] == "bool"


def test_defaults_are_merged_under_each_layers_own_keys():
    spec = config.parse_config(tomllib.loads(TWO))
    a = spec["pathways"]["a"]["layers"]
    assert a[0] == {"learning_rate": 0.02, "epochs": 3, "n_hidden": 6}
    assert a[1]["learning_rate"] == 0.1 and a[1]["epochs"] == 3  # the layer's own key wins
    assert spec["joint"] == {"learning_rate": 0.02, "epochs": 2, "n_hidden": 7}
    assert spec["pathways"]["b"]["view"] == "right"


@pytest.mark.parametrize(
    ("defaults", "match"),
    [
        ("n_hidden = 3", r"defaults\.n_hidden: a layer's own shape"),
        (
            "learning_rte = 0.1",
            r"defaults\.learning_rte: unknown key; did you mean 'learning_rate'",
        ),
        ("epochs = 'ten'", r"defaults\.epochs: expected int"),
        ("progress = true", r"defaults\.progress: set at run time"),
    ],
)
def test_defaults_errors_name_the_key(defaults, match):
    text = TWO.replace("learning_rate = 0.02\nepochs = 3", defaults)
    with pytest.raises(ConfigError, match=match):
        config.parse_config(tomllib.loads(text))


def test_a_defaults_value_the_rbm_rejects_names_the_layer():
    text = TWO.replace("learning_rate = 0.02", "learning_rate = -1.0")
    with pytest.raises(ConfigError, match=r"pathways\.a\.layers\[0\]: .*learning_rate"):
        config.parse_config(tomllib.loads(text))


def test_shipped_configs_parse_and_wikipedia_is_deepnets_shape():
    assert config.load_config(DIGITS)["joint"] is not None
    spec = config.load_config(WIKIPEDIA)
    image, text = spec["pathways"]["image"]["layers"], spec["pathways"]["text"]["layers"]
    assert image[0]["visible"] == "gaussian" and text[0]["visible"] == "softmax"
    assert len(image) == len(text) == 2
    assert [kw["n_hidden"] for kw in text] == [1024, 1024]  # same 2000-word vocabulary
    assert spec["data"]["words"] == 2000 and spec["joint"]["n_hidden"] >= 1024
    with open(WIKIPEDIA, "rb") as f:
        assert config.parse_config(tomllib.load(f)) == spec


def test_load_config_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[data\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        config.load_config(bad)


def test_shrink_caps_units_and_epochs_without_touching_the_spec():
    spec = config.parse_config(tomllib.loads(TWO))
    small = config.shrink(spec, n_hidden=5, epochs=1)
    assert [kw["n_hidden"] for kw in small["pathways"]["a"]["layers"]] == [5, 4]
    assert small["joint"]["n_hidden"] == 5 and small["joint"]["epochs"] == 1
    assert spec["joint"]["n_hidden"] == 7  # not modified


def test_seeds_are_independent_per_part_and_stable_for_a_pathway():
    spec = config.parse_config(tomllib.loads(TWO))
    s = config.seeds(spec, 0)
    assert set(s) == {"a", "b", "joint"} and len(set(s.values())) == 3
    assert config.seeds(spec, 0) == s and config.seeds(spec, 1) != s


def test_build_gives_the_described_unfitted_model():
    spec = config.parse_config(tomllib.loads(TWO))
    model = config.build(spec, seed=3, progress=False)
    assert isinstance(model, boltz.MultimodalDBN)
    a = model.pathways["a"]
    assert [r.n_hidden for r in a.layers] == [6, 4]
    assert [r.learning_rate for r in a.layers] == [0.02, 0.1]
    s = config.seeds(spec, 3)
    assert a.random_state == s["a"] and model.joint.random_state == s["joint"]


def test_load_views_digits_and_check_views():
    views = config.load_views({"dataset": "digits-halves"}, max_rows=10)
    assert {k: v.shape for k, v in views.items()} == {"left": (10, 32), "right": (10, 32)}
    assert np.all((views["left"] >= 0) & (views["left"] <= 1))
    spec = config.parse_config(tomllib.loads(TWO.replace('view = "left"', 'view = "up"')))
    with pytest.raises(ConfigError, match=r"pathways\.a\.view: unknown view 'up'"):
        config.check_views(spec, views)
