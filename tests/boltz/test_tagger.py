"""boltz.tagger: unit types from the data, validation, and a tagger that learns the link."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import boltz
from boltz.errors import ConfigError, DataError, DataTypeError, NotFittedError
from boltz.passthrough import Passthrough
from boltz.tagger import Tagger, check_tagging_data, infer_visible
from boltz.tagging import annotation_scores, frequency_scores


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
        epochs=2,
        finetune_epochs=2,
        random_state=0,
        progress=False,
    ).fit(X, C)
    assert t.tags_visible_ == "softmax"
    S = t.decision_function(X[:7])
    np.testing.assert_allclose(S.sum(axis=1), 1.0, rtol=1e-4)
    path = t.save(tmp_path / "tagger.npz")
    back = Tagger.from_model(boltz.load(path))
    np.testing.assert_allclose(back.decision_function(X[:7]), S, rtol=1e-5, atol=1e-7)
    assert back.n_tags_ == Y.shape[1] and back.n_features_in_ == X.shape[1]


def test_tagger_config_errors():
    X, Y = collection(60, kind="gaussian")
    with pytest.raises(ConfigError, match="features_hidden=\\(\\)"):
        Tagger(features_hidden=(), progress=False).fit(X, Y)
    with pytest.raises(ConfigError, match="tags_hidden=\\(\\)"):
        Tagger(tags_hidden=(), progress=False).fit(X, Y * 2)
    with pytest.raises(ConfigError, match="features_visible"):
        Tagger(features_visible="poisson").fit(X, Y)
    with pytest.raises(NotFittedError):
        Tagger().decision_function(X)
    other = boltz.MultimodalDBN(
        {"a": Passthrough(), "b": Passthrough()},
        boltz.RBM(3, epochs=1, progress=False),
        finetune_epochs=0,
    ).fit({"a": Y, "b": Y})
    with pytest.raises(ConfigError, match="features"):
        Tagger.from_model(other)
