"""boltz.tagger: unit types from the data, validation, and a tagger that learns the link."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import boltz
from boltz.errors import ConfigError, DataError, DataTypeError, NotFittedError
from boltz.passthrough import Passthrough
from boltz.tagger import Tagger, check_tagging_data, infer_visible
from boltz.tagging import (
    annotation_scores,
    choose_frequency_exponent,
    frequency_scores,
    tag_frequency,
)


def collection(n=400, n_feat=30, n_tags=20, kind="binary", seed=0):
    """Clustered items: features and tags both depend on the item's cluster."""
    rng = np.random.default_rng(seed)
    k = rng.integers(0, 5, n)
    tag_p = np.full((5, n_tags), 0.01)
    for c in range(5):
        tag_p[c, rng.choice(n_tags, 3, replace=False)] = 0.8
    Y = (rng.random((n, n_tags)) < tag_p[k]).astype(np.float32)
    if kind == "binary":
        feat_p = np.where(rng.random((5, n_feat)) < 0.3, 0.7, 0.05)
        X = (rng.random((n, n_feat)) < feat_p[k]).astype(np.float32)
    elif kind == "gaussian":
        X = (rng.normal(size=(5, n_feat))[k] + 0.7 * rng.normal(size=(n, n_feat))).astype(
            np.float32
        )
    else:  # counts
        rates = rng.gamma(1.0, 1.0, size=(5, n_feat))
        X = rng.poisson(rates[k] * 2).astype(np.float32)
    return X, Y


def test_infer_visible():
    assert infer_visible(np.array([[0, 1], [1, 1]])) == "bernoulli"
    assert infer_visible(sp.csr_matrix(np.array([[0, 3], [1, 0]]))) == "softmax"
    assert infer_visible(np.array([[0.5, -1.0]])) == "gaussian"
    assert infer_visible(np.array([[True, False]])) == "bernoulli"
    with pytest.raises(DataError, match="NaN"):
        infer_visible(np.array([[np.nan, 1.0]]))


def test_check_tagging_data_errors():
    X, Y = collection(50)
    d = check_tagging_data(X, Y, X[:5], Y[:5])
    assert d["words"][:3] == ["0", "1", "2"] and d["tags_visible"] == "bernoulli"
    with pytest.raises(DataError, match="rows"):
        check_tagging_data(X, Y[:40])
    with pytest.raises(DataError, match="fractional"):
        check_tagging_data(X, Y * 0.5)
    with pytest.raises(DataError, match="no tag"):
        check_tagging_data(X, np.zeros_like(Y))
    with pytest.raises(DataError, match="features"):
        check_tagging_data(X, Y, X[:5, :10])
    with pytest.raises(DataError, match="shape"):
        check_tagging_data(X, Y, X[:5], Y[:4])
    with pytest.raises(DataError, match="words"):
        check_tagging_data(X, Y, words=["a", "b"])
    with pytest.raises(DataError, match="2-D"):
        check_tagging_data(X[0], Y)
    with pytest.raises(DataTypeError, match="numbers"):
        check_tagging_data(np.array([["a"] * 3] * 50), Y)
    with pytest.raises(DataError, match="without X_test"):
        check_tagging_data(X, Y, None, Y[:5])


@pytest.mark.parametrize("kind", ["binary", "gaussian", "counts"])
def test_tagger_beats_frequency_on_every_feature_type(kind):
    X, Y = collection(kind=kind)
    tr, te = slice(0, 300), slice(300, 400)
    t = Tagger(
        joint_hidden=32,
        features_hidden="auto" if kind == "binary" else (32,),
        epochs={"binary": 15, "gaussian": 40, "counts": 15}[kind],
        finetune_epochs=30,
        finetune_learning_rate=0.01,
        batch_size=32,
        n_models=1,
        random_state=0,
        progress=False,
    ).fit(X[tr], Y[tr])
    expected = {"binary": "bernoulli", "gaussian": "gaussian", "counts": "softmax"}[kind]
    assert t.features_visible_ == expected and t.tags_visible_ == "bernoulli"
    assert isinstance(t.model_.pathways_["tags"], Passthrough)
    S = t.decision_function(X[te])
    assert S.shape == (100, Y.shape[1]) and np.isfinite(S).all()
    ours = annotation_scores(S, Y[te], n_words=3)
    freq = annotation_scores(frequency_scores(Y[tr], 100), Y[te], n_words=3)
    assert ours.f1 > freq.f1 + 0.2
    assert ours.precision_per_item > 0.6
    assert t.predict(X[te], n_words=3).sum(axis=1).tolist() == [3] * 100


def test_tagger_count_tags_and_roundtrip(tmp_path):
    X, Y = collection(200)
    C = Y * np.random.default_rng(1).integers(1, 4, Y.shape)  # word counts
    t = Tagger(
        joint_hidden=16,
        tags_hidden=(16,),
        tags_visible="softmax",
        n_models=1,
        epochs=2,
        finetune_epochs=2,
        random_state=0,
        progress=False,
    ).fit(X, C)
    assert t.tags_visible_ == "softmax"
    P = t.predict_proba(X[:7])
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-4)
    S = t.decision_function(X[:7])
    path = t.save(tmp_path / "tagger.npz")
    back = boltz.load(path)
    assert isinstance(back, Tagger) and back.frequency_exponent_ == t.frequency_exponent_
    np.testing.assert_allclose(back.decision_function(X[:7]), S, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(back.tag_frequency_, t.tag_frequency_)
    assert back.n_tags_ == Y.shape[1] and back.n_features_in_ == X.shape[1]
    plain = Tagger.from_model(t.model_)  # a bare MultimodalDBN: ranks by probability
    assert plain.frequency_exponent_ == 0.0
    np.testing.assert_allclose(plain.decision_function(X[:7]), P, rtol=1e-5, atol=1e-7)


def test_frequency_exponent_chosen_on_held_out_rows():
    X, Y = collection(300)
    kw = dict(joint_hidden=16, epochs=3, finetune_epochs=3, n_models=1, random_state=0)
    kw.update(progress=False)
    t = Tagger(**kw).fit(X, Y)
    rows = t.model_.validation_rows_
    assert rows.size == 30  # validation_fraction 0.1 of 300
    S = t.model_.generate("tags", given={"features": X[rows]})
    e, f1 = choose_frequency_exponent(S, Y[rows], tag_frequency(Y))
    assert t.frequency_exponent_ == e
    assert t.frequency_exponent_f1_ == [{str(k): v for k, v in f1.items()}]
    np.testing.assert_allclose(t.tag_frequency_, tag_frequency(Y))
    np.testing.assert_allclose(
        t.decision_function(X[:5]), t.predict_proba(X[:5]) / t.tag_frequency_**e, rtol=1e-6
    )
    fixed = Tagger(frequency_exponent=0.7, **kw).fit(X, Y)
    assert fixed.frequency_exponent_ == 0.7 and fixed.frequency_exponent_f1_ == []
    assert (
        Tagger(frequency_exponent="auto", validation_fraction=0.0, **kw)
        .fit(X, Y)
        .frequency_exponent_
        == 0.0
    )


def test_n_models_average_independent_models(tmp_path):
    X, Y = collection(200)
    kw = dict(joint_hidden=16, epochs=2, finetune_epochs=2, progress=False)
    t = Tagger(n_models=2, random_state=1, **kw).fit(X, Y)
    assert len(t.models_) == 2 and t.model_ is t.models_[0]
    a, b = (m.generate("tags", given={"features": X[:6]}) for m in t.models_)
    assert not np.allclose(a, b)  # different seeds
    np.testing.assert_allclose(t.predict_proba(X[:6]), (a + b) / 2, rtol=1e-6)
    single = Tagger(random_state=3, n_models=1, **kw).fit(X, Y)  # seed 1 * 2 + 1: the second model
    np.testing.assert_allclose(single.predict_proba(X[:6]), b, rtol=1e-5, atol=1e-7)
    back = boltz.load(t.save(tmp_path / "two.npz"))
    assert len(back.models_) == 2
    np.testing.assert_allclose(back.decision_function(X[:6]), t.decision_function(X[:6]), rtol=1e-5)


def test_tagger_checkpoint_errors(tmp_path):
    from boltz.checkpoint import read_checkpoint, write_checkpoint
    from boltz.errors import CheckpointError

    X, Y = collection(100)
    t = Tagger(joint_hidden=8, epochs=1, finetune_epochs=1, n_models=1, progress=False)
    meta, arrays = read_checkpoint(t.fit(X, Y).save(tmp_path / "t.npz"))
    del arrays["tag_frequency"]
    write_checkpoint(tmp_path / "bad.npz", meta, arrays)
    with pytest.raises(CheckpointError, match="tag_frequency"):
        boltz.load(tmp_path / "bad.npz")
    meta2, arrays2 = read_checkpoint(tmp_path / "t.npz")
    meta2["models"] = []
    write_checkpoint(tmp_path / "empty.npz", meta2, arrays2)
    with pytest.raises(CheckpointError, match="no model"):
        boltz.load(tmp_path / "empty.npz")


def test_tagger_config_errors():
    X, Y = collection(60, kind="gaussian")
    with pytest.raises(ConfigError, match="features_hidden=\\(\\)"):
        Tagger(features_hidden=(), progress=False).fit(X, Y)
    with pytest.raises(ConfigError, match="tags_hidden=\\(\\)"):
        Tagger(tags_hidden=(), tags_visible="softmax", progress=False).fit(X, Y * 2)
    with pytest.raises(ConfigError, match="features_visible"):
        Tagger(features_visible="poisson").fit(X, Y)
    with pytest.raises(NotFittedError):
        Tagger().decision_function(X)
    with pytest.raises(ConfigError, match="frequency_exponent"):
        Tagger(frequency_exponent=-1, progress=False).fit(X, Y)
    with pytest.raises(ConfigError, match="frequency_exponent"):
        Tagger(frequency_exponent="best", progress=False).fit(X, Y)
    with pytest.raises(ConfigError, match="n_models"):
        Tagger(n_models=0, progress=False).fit(X, Y)
    other = boltz.MultimodalDBN(
        {"a": Passthrough(), "b": Passthrough()},
        boltz.RBM(3, epochs=1, progress=False),
        finetune_epochs=0,
    ).fit({"a": Y, "b": Y})
    with pytest.raises(ConfigError, match="features"):
        Tagger.from_model(other)


def test_auto_tags_pathway_balances_the_joint_inputs():
    t = Tagger(features_hidden=(64,), random_state=0)
    few = t.build("gaussian", "bernoulli", n_features=128, n_tags=64)
    assert isinstance(few.pathways["tags"], Passthrough)
    many = t.build("gaussian", "bernoulli", n_features=128, n_tags=65)
    assert [r.n_hidden for r in many.pathways["tags"].layers] == [512]
    # binary features are the joint's visibles: their count is the top width
    assert isinstance(
        t.set_params(features_hidden="auto")
        .build("bernoulli", "bernoulli", n_features=499, n_tags=374)
        .pathways["tags"],
        Passthrough,
    )
    assert not isinstance(
        t.build("bernoulli", "bernoulli", n_features=100, n_tags=374).pathways["tags"],
        Passthrough,
    )
    # without the sizes: no pathway for binary tags, one for counts
    assert isinstance(t.build("bernoulli", "bernoulli").pathways["tags"], Passthrough)
    assert not isinstance(t.build("bernoulli", "softmax").pathways["tags"], Passthrough)
