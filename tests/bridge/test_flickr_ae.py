"""Flickr report models: PPMI word vectors against a dense NumPy computation, mean word
vectors, the per-concept AUC table, JointAE / CrossModalAE retrieval and features."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from boltz.errors import ConfigError, DataError
from bridge.models.flickr_ae import (
    CrossModalAE,
    JointAE,
    concept_auc_table,
    format_auc_table,
    mean_word_vectors,
    ppmi_word_vectors,
)

from .paired import paired_split

N_TRAIN, N_TEST = 600, 200
CHANCE = 1 / N_TEST


def rank1(Q: np.ndarray, D: np.ndarray) -> float:
    Q = Q / np.linalg.norm(Q, axis=1, keepdims=True)
    D = D / np.linalg.norm(D, axis=1, keepdims=True)
    return float(np.mean(np.argmax(Q @ D.T, axis=1) == np.arange(len(Q))))


# ----------------------------------------------------------------------------- word vectors


@pytest.fixture(scope="module")
def corpus():
    """Two topics: words 0-9 co-occur, words 10-19 co-occur; word 20 never occurs."""
    rng = np.random.default_rng(0)
    docs = np.zeros((300, 21))
    topic = rng.integers(2, size=300)
    for i, t in enumerate(topic):
        words = rng.choice(10, size=4, replace=False) + 10 * t
        docs[i, words] = rng.integers(1, 4, size=4)
    return docs


def dense_ppmi(counts):
    B = (counts > 0).astype(float)
    C = B.T @ B
    np.fill_diagonal(C, 0)
    total, marg = C.sum(), C.sum(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        pmi = np.log(C * total / np.outer(marg, marg))
    return np.where((C > 0) & (pmi > 0), pmi, 0.0)


def test_ppmi_vectors_factor_the_ppmi_matrix(corpus):
    E = ppmi_word_vectors(corpus, dim=3)
    assert E.shape == (21, 3)
    s = np.linalg.svd(dense_ppmi(corpus), compute_uv=False)
    # E = U_k S_k^1/2 with orthonormal U_k: squared column norms are the singular values
    np.testing.assert_allclose(np.sum(E**2, axis=0), s[:3], rtol=1e-6)
    np.testing.assert_allclose(E[20], 0.0)  # a word that never occurs
    # sparse input, same vectors; deterministic signs
    np.testing.assert_allclose(ppmi_word_vectors(sp.csr_matrix(corpus), dim=3), E, atol=1e-10)
    # same-topic words are closer than cross-topic words
    U = E[:20] / np.linalg.norm(E[:20], axis=1, keepdims=True)
    S = U @ U.T
    same = np.r_[S[:10, :10][~np.eye(10, dtype=bool)], S[10:, 10:][~np.eye(10, dtype=bool)]]
    assert same.mean() > S[:10, 10:].mean() + 0.5


def test_mean_word_vectors(corpus):
    E = ppmi_word_vectors(corpus, dim=4)
    M = mean_word_vectors(corpus, E)
    i = 7
    present = np.flatnonzero(corpus[i])
    np.testing.assert_allclose(M[i], E[present].mean(0))
    empty = np.zeros((1, 21))
    np.testing.assert_array_equal(mean_word_vectors(empty, E), np.zeros((1, 4)))
    with pytest.raises(DataError, match="n_words"):
        mean_word_vectors(corpus, E[:5])
    with pytest.raises(ConfigError, match="dim"):
        ppmi_word_vectors(corpus, dim=21)
    with pytest.raises(DataError, match="non-negative"):
        ppmi_word_vectors(-corpus, dim=2)


# ----------------------------------------------------------------------------- AUC table


def test_concept_auc_table():
    rng = np.random.default_rng(0)
    y = rng.integers(3, size=400)
    informative = np.eye(3)[y] + 0.1 * rng.normal(size=(400, 3))
    noise = rng.normal(size=(400, 3))
    tr, te = slice(0, 300), slice(300, 400)
    table = concept_auc_table(
        {"good": informative[tr], "noise": noise[tr]},
        {"good": informative[te], "noise": noise[te]},
        y[tr],
        y[te],
        class_names=["a", "b", "c"],
    )
    assert list(table) == ["good", "noise"] and list(table["good"]) == ["a", "b", "c", "mean"]
    assert table["good"]["mean"] > 0.99
    assert 0.3 < table["noise"]["mean"] < 0.7
    # multi-label indicators give the same numbers as the class ids
    Y = np.eye(3)[y]
    t2 = concept_auc_table({"good": informative[tr]}, {"good": informative[te]}, Y[tr], Y[te])
    np.testing.assert_allclose(t2["good"]["mean"], table["good"]["mean"])
    md = format_auc_table(table)
    assert md.splitlines()[0] == "| features | a | b | c | mean |" and "| good |" in md
    with pytest.raises(DataError, match="same names"):
        concept_auc_table({"a": noise}, {"b": noise}, y, y)


# ----------------------------------------------------------------------------- models


@pytest.fixture(scope="module")
def data():
    train, y_train, test, y_test = paired_split(
        N_TRAIN,
        N_TEST,
        dims=(30, 10),
        latent=4,
        noise=0.3,
        n_classes=4,
        random_state=2,
        names=("image", "text"),
    )
    return train, test, y_train, y_test


FAST = dict(epochs=40, batch_size=50, learning_rate=3e-3, progress=False)


def test_joint_ae_architecture_and_whitening(data):
    train, *_ = data
    m = JointAE(whiten=20, **{**FAST, "epochs": 1}).fit(train)
    assert m.module_.encoder.in_features == 20 + 10
    assert m.module_.encoder.out_features == round(1.4 * 30)
    assert m.module_.decoder.out_features == 30
    W = m._apply_preprocess("image", train["image"])
    # PCA-whitened: uncorrelated components of (nearly) unit variance
    C = np.cov(W.T)
    np.testing.assert_allclose(C, np.diag(np.diag(C)), atol=1e-8)
    np.testing.assert_allclose(np.diag(C), 1.0, rtol=1e-3)
    T = m._apply_preprocess("text", train["text"])
    np.testing.assert_allclose(T.std(0), 1.0, rtol=1e-6)


def test_joint_ae_with_input_dropping_retrieves_partner(data):
    train, test, *_ = data
    m = JointAE(drop_rate=2 / 3, **FAST).fit(train)
    e = m.transform(test)
    assert rank1(e["image"], e["text"]) > 10 * CHANCE
    assert rank1(e["text"], e["image"]) > 10 * CHANCE
    assert m.transform_joint(test).shape == (N_TEST, m.module_.encoder.out_features)


@pytest.mark.parametrize("variant", ["I", "II"])
def test_cross_modal_ae(variant, data):
    train, test, *_ = data
    m = CrossModalAE(variant=variant, **FAST).fit(train)
    out = 10 if variant == "I" else 30 + 10
    assert m.module_.decoder.out_features == out
    h = m.transform({"image": test["image"]})
    assert list(h) == ["image"] and h["image"].shape == (N_TEST, round(1.4 * 30))
    assert list(m.transform(test)) == ["image"]  # no text embedding
    T = m.predict_text({"image": test["image"]})
    err = np.mean((T - test["text"]) ** 2)
    assert err < 0.5 * np.mean((test["text"] - test["text"].mean(0)) ** 2)
    e = m.transform_text_space(test)
    assert rank1(e["image"], e["text"]) > 10 * CHANCE
    assert rank1(e["text"], e["image"]) > 10 * CHANCE
    with pytest.raises(DataError, match="image view"):
        m.transform({"text": test["text"]})


def test_features_for_concept_detection(data):
    """The report's use: learned features beside the raw image in the AUC table."""
    train, test, ytr, yte = data
    rng = np.random.default_rng(0)
    # a weak image (much extra noise), a clean text: joint features beat the image
    noisy = {"image": train["image"] + 3 * rng.normal(size=train["image"].shape)}
    noisy_te = {"image": test["image"] + 3 * rng.normal(size=test["image"].shape)}
    tr, te = {**train, **noisy}, {**test, **noisy_te}
    joint = JointAE(**FAST).fit(tr)
    table = concept_auc_table(
        {"image": tr["image"], "joint": joint.transform_joint(tr)},
        {"image": te["image"], "joint": joint.transform_joint(te)},
        ytr,
        yte,
    )
    assert table["joint"]["mean"] > table["image"]["mean"]


def test_determinism_and_checkpoint(data, tmp_path):
    train, test, *_ = data
    kw = dict(epochs=3, batch_size=64, progress=False)
    a = JointAE(random_state=1, **kw).fit(train)
    b = JointAE(random_state=1, **kw).fit(train)
    np.testing.assert_array_equal(a.transform_joint(test), b.transform_joint(test))
    a.save(tmp_path / "j.pt")
    back = JointAE.load(tmp_path / "j.pt")
    np.testing.assert_array_equal(back.transform_joint(test), a.transform_joint(test))
    np.testing.assert_array_equal(back.transform(test)["text"], a.transform(test)["text"])
    c = CrossModalAE(variant="I", random_state=1, **kw).fit(train)
    c.save(tmp_path / "c.pt")
    np.testing.assert_array_equal(
        CrossModalAE.load(tmp_path / "c.pt").predict_text(test), c.predict_text(test)
    )


def test_image_view_choice(data):
    train, *_ = data
    m = CrossModalAE(image_view="text", whiten=None, epochs=1, progress=False).fit(train)
    assert m.module_.encoder.in_features == 10  # the "text" view is the input now
    with pytest.raises(ConfigError, match="image_view"):
        JointAE(image_view="audio", epochs=1).fit(train)


@pytest.mark.parametrize(
    "cls, kw, match",
    [
        (CrossModalAE, {"variant": "III"}, "variant"),
        (CrossModalAE, {"monitor": "map"}, "monitor"),
        (JointAE, {"mu": 0.0}, "mu"),
        (JointAE, {"whiten": 0}, "whiten"),
        (JointAE, {"drop_rate": 1.0}, "drop_rate"),
        (JointAE, {"n_hidden": -3}, "n_hidden"),
    ],
)
def test_bad_parameters(cls, kw, match, data):
    train, *_ = data
    with pytest.raises(ConfigError, match=match):
        cls(epochs=1, progress=False, **kw).fit(train)
