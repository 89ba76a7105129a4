"""HRLStage1 options: the joint layer's training and boltz's "auto" learning rates."""

from __future__ import annotations

import numpy as np
import pytest

from bridge.models.hrl import HRLStage1

from .tiny import TINY_STAGE1, make_data


@pytest.fixture(scope="module")
def views():
    return make_data()["train"][0]


def test_joint_training_is_passed_to_the_multimodal_dbn(views):
    kw = {**TINY_STAGE1, "epochs": 2}
    lik = HRLStage1(**kw, random_state=0).fit(views)
    assert lik.mdbn_.joint_training == "likelihood" and lik.mdbn_.finetune_history_ == []
    mp = HRLStage1(**kw, joint_training="multiprediction", random_state=0).fit(views)
    assert mp.mdbn_.joint_training == "multiprediction" and len(mp.mdbn_.finetune_history_) > 0


def test_auto_learning_rate_reaches_the_rbms(views):
    kw = {**TINY_STAGE1, "epochs": 1, "learning_rate": {"bernoulli": "auto"}}
    st = HRLStage1(**kw, random_state=0).fit(views)
    upper = st.srbm_["image"].layers_[1]
    assert upper.learning_rate == "auto" and upper.learning_rate_ == pytest.approx(0.01)
    # the bottom layers keep RBM_DEFAULTS
    assert st.srbm_["image"].layers_[0].learning_rate == 0.001


def test_features_are_cached_per_input_content(data, stage1):
    Vt, _ = data["test"]
    a = stage1.features(Vt, pair=True)
    b = stage1.features({k: x.copy() for k, x in Vt.items()}, pair=True)
    for part in ("friendly", "mutual"):
        assert all(b[part][k] is a[part][k] for k in Vt)
    assert b["pair"] is a["pair"]
    shifted = stage1.features({"image": Vt["image"] + 1.0})
    assert not np.array_equal(shifted["friendly"]["image"], a["friendly"]["image"])
