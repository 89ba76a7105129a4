"""``HRL(input_skip=...)``: the feed-forward nets see each view's input beside the codes.

``fitted`` (conftest) has the default ``"auto"``, i.e. the skip for the full model;
``paper`` is the paper's architecture (``input_skip=False``).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from boltz.errors import ConfigError
from bridge.metrics import cross_modal_map
from bridge.models.hrl import HRL

from .tiny import TINY


@pytest.fixture(scope="module")
def paper(data, stage1):
    (V, y), (Vv, yv) = data["train"], data["val"]
    return HRL(stage1=stage1, **TINY, input_skip=False, random_state=0).fit(V, y, Vv, yv)


@pytest.fixture(scope="module")
def skip(data, stage1, paper):
    (V, y), (Vv, yv) = data["train"], data["val"]
    return HRL(stage1=stage1, **TINY, input_skip=True, reuse=paper, random_state=0).fit(
        V, y, Vv, yv
    )


def test_auto_is_the_skip_for_the_variants_with_ff(data, skip, fitted, paper):
    Vt, _ = data["test"]
    assert HRL().input_skip == "auto"
    for k, z in fitted.transform(Vt).items():  # the default model is the skip model
        np.testing.assert_array_equal(z, skip.transform(Vt)[k])
    assert paper.ff_["text"].body[0].in_features == TINY["joint_ae_hidden"]
    V, y = data["train"]
    no_ff = HRL(stage1=paper.stage1_, **{**TINY, "epochs": 1}, variant="no_ff").fit(V, y)
    assert no_ff.ff_ is None  # "auto" is no skip there, and no error


def test_checkpoint_without_the_setting_is_the_papers_architecture(tmp_path, data, paper):
    import json

    from boltz.container import read_container, write_container

    Vt, _ = data["test"]
    path = paper.save(tmp_path / "old")
    meta, arrays = read_container(path / "hrl.npz")
    del meta["params"]["input_skip"]  # as written before input_skip existed
    write_container(path / "hrl.npz", json.loads(json.dumps(meta)), arrays)
    loaded = HRL.load(path)
    assert loaded.input_skip is False
    for k, z in loaded.transform(Vt).items():
        np.testing.assert_array_equal(z, paper.transform(Vt)[k])


def test_ff_input_is_the_code_then_the_view_input(data, skip):
    V, _ = data["train"]
    code = TINY["joint_ae_hidden"]
    for k, n in (("image", 16), ("text", 24)):
        assert skip.ff_[k].body[0].in_features == code + n
    # the nets standardise their input with its training statistics: the trailing
    # columns are the image values and log1p of the word counts, as they are
    raw = {"image": V["image"], "text": np.log1p(V["text"])}
    for k, A in raw.items():
        mean = skip.ff_[k].input_mean[code:].numpy()
        np.testing.assert_allclose(mean, A.mean(0), rtol=1e-5, atol=1e-6)


def test_reuses_the_joint_ae_and_trains_its_own_ff(skip, paper):
    assert skip.stage_keys_["joint_ae"] == paper.stage_keys_["joint_ae"]
    assert skip.stage_keys_["ff"] != paper.stage_keys_["ff"]
    for a, b in zip(skip.joint_ae_.parameters(), paper.joint_ae_.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_single_views_retrieval_and_round_trip(tmp_path, data, skip):
    Vt, yt = data["test"]
    Z = skip.transform(Vt)
    for k in Z:
        np.testing.assert_array_equal(skip.transform({k: Vt[k]})[k], Z[k])
    m = cross_modal_map(Z, yt)
    assert m["i2t"] > 0.6 and m["t2i"] > 0.6, m
    loaded = HRL.load(skip.save(tmp_path / "skip"))
    assert loaded.input_skip is True
    for k, z in loaded.transform(Vt).items():
        np.testing.assert_array_equal(z, Z[k])


def test_the_input_changes_the_embedding(data, skip, paper):
    Vt, _ = data["test"]
    a = skip.transform({"text": Vt["text"]})["text"]
    b = paper.transform({"text": Vt["text"]})["text"]
    assert a.shape == b.shape and not np.allclose(a, b)


@pytest.mark.parametrize("variant", ["no_ff", "no_ff_bae"])
def test_variants_without_ff_refuse_it(data, stage1, variant):
    V, y = data["train"]
    with pytest.raises(ConfigError, match="input_skip"):
        HRL(stage1=stage1, **TINY, variant=variant, input_skip=True).fit(V, y)


def test_input_skip_must_be_a_bool(data, stage1):
    V, y = data["train"]
    with pytest.raises(ConfigError, match="input_skip"):
        HRL(stage1=stage1, **TINY, input_skip=1).fit(V, y)


def test_seed_ensemble_of_hrl_shares_step1_and_round_trips(tmp_path, data, stage1):
    from bridge.ensemble import SeedEnsemble

    (V, y), (Vv, yv), (Vt, _) = data["train"], data["val"], data["test"]
    base = HRL(stage1=stage1, **{**TINY, "epochs": 3}, input_skip=True)
    ens = SeedEnsemble(base, n_models=2).fit(V, y, Vv, yv)
    assert all(m.stage1_ is stage1 for m in ens.estimators_)
    Z = ens.transform({"text": Vt["text"]})
    assert Z["text"].shape == (100, ens.n_components_)
    loaded = SeedEnsemble.load(ens.save(tmp_path / "ens"))
    np.testing.assert_array_equal(loaded.transform({"text": Vt["text"]})["text"], Z["text"])
