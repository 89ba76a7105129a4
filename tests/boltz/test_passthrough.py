"""boltz.Passthrough: a layerless pathway of the multimodal DBN."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import boltz
from boltz.dbn import DBN
from boltz.errors import CheckpointError, DataError, NotFittedError
from boltz.passthrough import Passthrough


def _data(n=120, seed=0):
    rng = np.random.default_rng(seed)
    k = rng.integers(0, 3, n)
    A = (rng.random((n, 10)) < np.where(np.eye(3)[k] @ rng.random((3, 10)) > 0.5, 0.8, 0.1)).astype(
        float
    )
    B = (rng.random((n, 6)) < 0.1 + 0.7 * np.eye(3)[k] @ (rng.random((3, 6)) > 0.5)).astype(float)
    return A, B


def test_transform_is_the_data_and_values_are_checked():
    A, _ = _data()
    p = Passthrough().fit(sp.csr_matrix(A))
    assert p.n_top_ == 10 and p.layers_ == []
    np.testing.assert_array_equal(p.transform(A), A.astype(np.float32))
    with pytest.raises(DataError, match=r"outside \[0, 1\]"):
        p.transform(A * 2)
    with pytest.raises(DataError, match="features"):
        p.transform(A[:, :4])
    with pytest.raises(NotFittedError):
        Passthrough().transform(A)


def test_multimodal_with_passthrough_views_generates_and_roundtrips(tmp_path):
    A, B = _data()
    kw = dict(epochs=5, progress=False, random_state=0, batch_size=20)
    m = boltz.MultimodalDBN(
        {"a": DBN([boltz.RBM(8, **kw)]), "b": Passthrough()},
        joint=boltz.RBM(12, **kw),
        finetune_epochs=5,
        finetune_views=["b"],
        random_state=0,
    ).fit({"a": A, "b": B})
    G = m.generate("b", given={"a": A[:9]})
    assert G.shape == (9, 6) and (G >= 0).all() and (G <= 1).all()
    Gg = m.generate("b", given={"a": A[:9]}, method="gibbs", n_samples=4, random_state=1)
    assert Gg.shape == (9, 6)
    J = m.transform({"b": B[:9]})
    assert J.shape == (9, 12)
    m.save(tmp_path / "m.npz")
    back = boltz.load(tmp_path / "m.npz")
    assert isinstance(back.pathways_["b"], Passthrough) and back.finetune_views == ["b"]
    np.testing.assert_allclose(back.generate("b", given={"a": A[:9]}), G, rtol=1e-6)
    with pytest.raises(CheckpointError):
        Passthrough.from_checkpoint_state({"n_features_in": 0, "dtype": "float32"}, {})


def test_finetune_views_are_validated():
    A, B = _data(30)
    m = boltz.MultimodalDBN(
        {"a": Passthrough(), "b": Passthrough()}, boltz.RBM(4, progress=False), finetune_views=["c"]
    )
    with pytest.raises(boltz.ConfigError, match="finetune_views"):
        m.fit({"a": A, "b": B})


def test_finetune_weight_decay_is_validated_and_shrinks_weights():
    A, B = _data(80)
    kw = dict(epochs=2, progress=False, random_state=0)
    bad = boltz.MultimodalDBN(
        {"a": Passthrough(), "b": Passthrough()}, boltz.RBM(4, **kw), finetune_weight_decay=-1
    )
    with pytest.raises(boltz.ConfigError, match="finetune_weight_decay"):
        bad.fit({"a": A, "b": B})

    def norm(wd):
        m = boltz.MultimodalDBN(
            {"a": Passthrough(), "b": Passthrough()},
            boltz.RBM(6, **kw),
            finetune_epochs=20,
            finetune_learning_rate=0.01,
            finetune_weight_decay=wd,
            validation_fraction=0,
            random_state=0,
        ).fit({"a": A, "b": B})
        return float(np.abs(m.joint_.model_.to_host()["weights"]).sum())

    assert norm(1.0) < 0.9 * norm(0.0)
