"""HRL(mutual_from="pair"): the paper's literal eqs. 12-13, a leaking diagnostic.

The data, ``stage1`` and one-thread fixtures are in ``conftest.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

from boltz.errors import ConfigError, DataError
from bridge.models.hrl import HRL

from .tiny import TINY


@pytest.fixture(scope="module")
def literal(data, stage1):
    (V, y), (Vv, yv) = data["train"], data["val"]
    return HRL(stage1=stage1, mutual_from="pair", **TINY, random_state=0).fit(V, y, Vv, yv)


def test_mutual_part_comes_from_the_paired_view(data, stage1, literal):
    Vt, _ = data["test"]
    f = stage1.features(Vt)
    X = literal._ff_inputs(f, ["image", "text"], train=False)
    width = {k: f["friendly"][k].shape[1] for k in ("image", "text")}
    # [F_image(x_image), M(x_text)] and [F_text(x_text), M(x_image)]
    for k, other in (("image", "text"), ("text", "image")):
        got = X[k].numpy()
        np.testing.assert_array_equal(got[:, : width[k]], f["friendly"][k])
        np.testing.assert_array_equal(got[:, width[k] :], f["mutual"][other])
        assert not np.array_equal(got[:, width[k] :], f["mutual"][k])


def test_the_query_embedding_depends_on_its_partner(data, literal):
    """The leak: an image's embedding changes when its paired text changes."""
    Vt, _ = data["test"]
    Z = literal.transform(Vt)
    perm = np.random.default_rng(0).permutation(len(Vt["text"]))
    Zs = literal.transform({"image": Vt["image"], "text": Vt["text"][perm]})
    assert not np.allclose(Z["image"], Zs["image"])
    # the text side is computed from the text's own friendly part and the (unchanged)
    # images; with the rows of the text permuted only that friendly part moves
    assert not np.allclose(Z["text"], Zs["text"])


def test_single_view_transform_is_refused(data, literal):
    Vt, _ = data["test"]
    with pytest.raises(DataError, match="both views"):
        literal.transform({"image": Vt["image"]})


def test_no_reuse_across_readings(data, stage1, literal):
    (V, y), (Vv, yv) = data["train"], data["val"]
    own = HRL(stage1=stage1, **TINY, random_state=0).fit(V, y, Vv, yv)
    again = HRL(stage1=stage1, mutual_from="pair", reuse=own, **TINY, random_state=0).fit(
        V, y, Vv, yv
    )
    assert again.stage_keys_["joint_ae"] != own.stage_keys_["joint_ae"]
    Vt, _ = data["test"]
    np.testing.assert_array_equal(again.transform(Vt)["image"], literal.transform(Vt)["image"])


def test_save_load_keeps_the_reading(tmp_path, data, literal):
    Vt, _ = data["test"]
    literal.save(tmp_path / "m")
    back = HRL.load(tmp_path / "m")
    assert back.mutual_from == "pair"
    np.testing.assert_array_equal(back.transform(Vt)["image"], literal.transform(Vt)["image"])


@pytest.mark.parametrize(
    "kw",
    [
        dict(mutual_from="text"),
        dict(variant="joint", mutual_from="pair"),
        dict(variant="no_mdbn", mutual_from="pair"),
    ],
)
def test_bad_settings_are_config_errors(data, stage1, kw):
    (V, y), (Vv, yv) = data["train"], data["val"]
    with pytest.raises(ConfigError, match="mutual_from"):
        HRL(stage1=stage1, **TINY, **kw).fit(V, y, Vv, yv)
