"""``HRL(input_skip=True)``: the feed-forward nets see each view's input beside the codes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from boltz.errors import ConfigError
from bridge.metrics import cross_modal_map
from bridge.models.hrl import HRL

from .tiny import TINY


@pytest.fixture(scope="module")
def skip(data, stage1, fitted):
    (V, y), (Vv, yv) = data["train"], data["val"]
    return HRL(stage1=stage1, **TINY, input_skip=True, reuse=fitted, random_state=0).fit(
        V, y, Vv, yv
    )


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


def test_reuses_the_joint_ae_and_trains_its_own_ff(skip, fitted):
    assert skip.stage_keys_["joint_ae"] == fitted.stage_keys_["joint_ae"]
    assert skip.stage_keys_["ff"] != fitted.stage_keys_["ff"]
    for a, b in zip(skip.joint_ae_.parameters(), fitted.joint_ae_.parameters()):
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


def test_the_input_changes_the_embedding(data, skip, fitted):
    Vt, _ = data["test"]
    a = skip.transform({"text": Vt["text"]})["text"]
    b = fitted.transform({"text": Vt["text"]})["text"]
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
