"""The torch stages of HRL (bridge.models.hrl.stages): seeds and exact reuse."""

from __future__ import annotations

import numpy as np

from bridge.models.hrl import HRL
from bridge.models.hrl.stages import stage_seed

from .tiny import TINY


def test_stage_seeds_depend_on_seed_stage_and_level_only():
    assert stage_seed(0, "ff") == stage_seed(0, "ff")
    seeds = {stage_seed(s, st, lvl) for s in (0, 1) for st in ("ff", "bae") for lvl in (0, 1)}
    assert len(seeds) == 8
    assert all(0 <= s < 2**31 for s in seeds)


def test_a_reused_stage_is_bitwise_a_fresh_one(data, stage1, fitted):
    (V, y), (Vv, yv), (Vt, _) = data["train"], data["val"], data["test"]
    fresh = HRL(variant="no_bae", stage1=stage1, **TINY, random_state=0).fit(V, y, Vv, yv)
    reused = HRL(variant="no_bae", stage1=stage1, **TINY, reuse=fitted, random_state=0)
    reused.fit(V, y, Vv, yv)
    assert reused.stage_keys_["ff"] == fitted.stage_keys_["ff"]
    assert reused.history_["ff"] == fitted.history_["ff"]
    for k in ("image", "text"):
        np.testing.assert_array_equal(fresh.transform(Vt)[k], reused.transform(Vt)[k])
    # with different data nothing is reused
    other = HRL(variant="no_bae", stage1=stage1, **TINY, reuse=fitted, random_state=0)
    other.fit(V, y, {k: x[:50] for k, x in Vv.items()}, yv[:50])
    assert other.stage_keys_["ff"] != fitted.stage_keys_["ff"]
