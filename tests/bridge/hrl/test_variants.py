"""The variants table of HRL (bridge.models.hrl.variants) and every variant's fit."""

from __future__ import annotations

import numpy as np
import pytest

from boltz.errors import ConfigError
from bridge.models.hrl import HRL, MUTUAL_FROM, VARIANTS
from bridge.models.hrl.variants import INPUTS, get_variant

from .tiny import N_CLASSES, TINY

#: The paper's Tables 8-9, written out independently of the table under test.
WITH_AE = {"hrl", "joint", "no_bae", "no_ff", "no_ff_bae"}
WITH_FF = {"hrl", "joint", "no_bae", "no_srbm", "no_mdbn"}
WITH_BAE = {"hrl", "joint", "no_ff", "no_srbm", "no_mdbn"}


def test_the_table_holds_the_seven_variants_of_the_paper():
    assert list(VARIANTS) == ["hrl", "joint", "no_bae", "no_ff", "no_ff_bae", "no_srbm", "no_mdbn"]
    assert {k for k, v in VARIANTS.items() if v.joint_ae} == WITH_AE
    assert {k for k, v in VARIANTS.items() if v.ff} == WITH_FF
    assert {k for k, v in VARIANTS.items() if v.bae} == WITH_BAE
    assert all(v.name == k and v.inputs in INPUTS for k, v in VARIANTS.items())
    assert [k for k, v in VARIANTS.items() if v.pair_in_training] == ["joint"]
    assert [k for k, v in VARIANTS.items() if v.posteriors] == ["no_bae"]
    # mutual_from="pair" replaces a single view's mutual part: not for Joint-HRL
    # (trained on pairs) nor for the variant without MDBN
    assert {k for k, v in VARIANTS.items() if not v.single_view_mutual} == {"joint", "no_mdbn"}
    assert MUTUAL_FROM == ("self", "pair")


@pytest.mark.parametrize("name", ["nope", "HRL", None, ["hrl"]])
def test_an_unknown_variant_is_a_config_error(name):
    with pytest.raises(ConfigError, match="variant must be one of"):
        get_variant(name)


def test_every_variant_runs_with_the_stages_of_the_paper(data, stage1, fitted):
    (V, y), (Vv, yv), (Vt, _) = data["train"], data["val"], data["test"]
    widths = {}
    for v in VARIANTS:
        m = HRL(variant=v, stage1=stage1, **TINY, reuse=fitted, random_state=0).fit(V, y, Vv, yv)
        Z = m.transform(Vt)
        assert all(np.isfinite(z).all() for z in Z.values())
        widths[v] = m.n_components_
        assert (m.joint_ae_ is not None) == (v in WITH_AE)
        assert (m.ff_ is not None) == (v in WITH_FF)
        assert (m.n_bae_ > 0) == (v in WITH_BAE)
        if v == "hrl":
            # everything reused: the same model
            np.testing.assert_array_equal(Z["image"], fitted.transform(Vt)["image"])
    assert widths["no_bae"] == N_CLASSES  # class posteriors
    assert widths["no_ff_bae"] == 24  # joint-AE codes
