"""Annotation metrics and tag baselines against hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from boltz import tagging
from boltz.errors import ConfigError, DataError


def test_annotation_scores_by_hand():
    # 3 items, 4 words; annotate with 1 word each
    Y = np.array([[1, 0, 0, 0], [1, 1, 0, 0], [0, 0, 1, 0]])
    S = np.array([[0.9, 0.1, 0, 0], [0.2, 0.8, 0, 0], [0.7, 0, 0.6, 0]])
    # predictions: word0, word1, word0 -> word0: 1 correct of 2 predicted, 1 of 2 true;
    # word1: 1/1, 1/1; word2: never predicted (precision 0), recall 0; word3 absent
    r = tagging.annotation_scores(S, Y, n_words=1)
    assert r.n_words_present == 3
    assert r.precision == pytest.approx((0.5 + 1 + 0) / 3)
    assert r.recall == pytest.approx((0.5 + 1 + 0) / 3)
    assert r.f1 == pytest.approx(0.5)
    assert r.n_plus == 2 and r.n_distinct_predicted == 2
    assert r.precision_per_item == pytest.approx(2 / 3)
    assert r.as_dict()["n_words"] == 1


def test_annotation_scores_accepts_sparse_truth_and_ties_break_by_column():
    Y = sp.csr_matrix(np.array([[0, 1, 1]]))
    r = tagging.annotation_scores(np.zeros((1, 3)), Y, n_words=2)  # ties: columns 0, 1
    assert r.n_plus == 1 and r.precision_per_item == 0.5


def test_perfect_scores_give_recall_one():
    rng = np.random.default_rng(0)
    Y = (rng.random((50, 20)) < 0.1).astype(int)
    Y[np.arange(50), rng.integers(0, 20, 50)] = 1
    r = tagging.annotation_scores(Y + 0.0, Y, n_words=20)
    assert r.recall == 1.0


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 6), st.integers(2, 8), st.integers(0, 10**6))
def test_scores_are_in_range_and_order_invariant(n_words, V, seed):
    rng = np.random.default_rng(seed)
    Y = (rng.random((12, V)) < 0.3).astype(int)
    Y[0, 0] = 1
    S = rng.normal(size=(12, V))
    r = tagging.annotation_scores(S, Y, n_words=n_words)
    assert 0 <= r.precision <= 1 and 0 <= r.recall <= 1 and 0 <= r.f1 <= 1
    assert r.n_plus <= r.n_words_present
    # a monotone transform of the scores changes nothing
    assert tagging.annotation_scores(np.exp(S) * 3, Y, n_words=n_words) == r


def test_precision_at_k():
    Y = np.array([[3, 0, 1, 0], [0, 0, 0, 2]])
    S = np.array([[4.0, 3, 2, 1], [4.0, 3, 2, 1]])
    assert tagging.precision_at_k(S, Y, k=2) == pytest.approx((0.5 + 0) / 2)
    assert tagging.precision_at_k(S, Y, k=4) == pytest.approx(0.5 * (2 / 4 + 1 / 4))


def test_top_k_and_errors():
    np.testing.assert_array_equal(tagging.top_k([[1, 3, 2]], 5), [[1, 2, 0]])
    with pytest.raises(ConfigError, match="k must be"):
        tagging.top_k([[1, 2]], 0)
    with pytest.raises(DataError, match="shape"):
        tagging.annotation_scores(np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(DataError, match="finite"):
        tagging.annotation_scores(np.array([[np.nan, 1.0]]), np.array([[1, 0]]))
    with pytest.raises(DataError, match="no positive"):
        tagging.annotation_scores(np.zeros((2, 2)), np.zeros((2, 2)))


def test_frequency_scores_are_document_frequencies():
    Y = sp.csr_matrix(np.array([[2, 0, 1], [1, 0, 0], [5, 1, 0]]))
    f = tagging.frequency_scores(Y, 4)
    assert f.shape == (4, 3)
    np.testing.assert_array_equal(f[0], [3, 1, 1])


def test_knn_label_transfer_weights_by_similarity():
    Xtr = np.array([[1, 1, 0, 0], [1, 0, 0, 0], [0, 0, 1, 1]], dtype=float)
    Ytr = np.array([[1, 0], [0, 1], [1, 1]])
    Xq = np.array([[1, 1, 0, 0]], dtype=float)
    # jaccard: 1.0, 0.5, 0.0
    np.testing.assert_allclose(tagging.knn_label_transfer(Xtr, Ytr, Xq, k=2), [[1.0, 0.5]])
    np.testing.assert_allclose(tagging.knn_label_transfer(Xtr, Ytr, Xq, k=10), [[1.0, 0.5]])
    cos = tagging.knn_label_transfer(Xtr * 2.5, Ytr, Xq, k=1)  # non-binary -> cosine
    np.testing.assert_allclose(cos, [[1.0, 0.0]])
    with pytest.raises(DataError, match="features"):
        tagging.knn_label_transfer(Xtr, Ytr, np.ones((1, 3)))
    with pytest.raises(ConfigError, match="metric"):
        tagging.knn_label_transfer(Xtr, Ytr, Xq, metric="l1")


def test_logistic_scores_learn_a_separable_word_and_handle_constant_columns():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    Y = np.stack([X[:, 0] > 0, np.zeros(200, bool), np.ones(200, bool)], 1).astype(int)
    s = tagging.logistic_scores(X, Y, X)
    assert ((s[:, 0] > 0) == (X[:, 0] > 0)).mean() > 0.95
    assert np.all(s[:, 1] == -np.inf) and np.all(np.isfinite(s[:, 2]))
    r = tagging.annotation_scores(s, Y, n_words=1)
    assert r.n_words_present == 2


def test_logistic_scores_equal_one_sklearn_regression_per_word():
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(3)
    X = rng.normal(size=(150, 4))
    Y = (X @ rng.normal(size=(4, 5)) + rng.normal(size=(150, 5)) > 0.5).astype(int)
    Xq = rng.normal(size=(20, 4))
    s = tagging.logistic_scores(X, Y, Xq, C=0.7)
    sc = StandardScaler().fit(X)
    for j in range(Y.shape[1]):
        clf = LogisticRegression(C=0.7, tol=1e-10, max_iter=5000).fit(sc.transform(X), Y[:, j])
        np.testing.assert_allclose(s[:, j], clf.decision_function(sc.transform(Xq)), atol=1e-4)


def test_tag_frequency_is_smoothed_and_positive():
    Y = sp.csr_matrix(np.array([[1, 0, 3], [1, 0, 0], [0, 0, 1], [1, 0, 0]]))
    np.testing.assert_allclose(tagging.tag_frequency(Y), [4 / 6, 1 / 6, 3 / 6])
    with pytest.raises(DataError):
        tagging.tag_frequency(np.zeros((0, 3)))


def test_frequency_adjusted_divides_and_validates():
    S = np.array([[0.5, 0.2], [0.1, 0.4]])
    f = np.array([0.5, 0.1])
    np.testing.assert_allclose(tagging.frequency_adjusted(S, f, 0.0), S)
    np.testing.assert_allclose(tagging.frequency_adjusted(S, f, 1.0), S / f)
    np.testing.assert_allclose(tagging.frequency_adjusted(S, f, 0.5), S / np.sqrt(f))
    with pytest.raises(DataError, match="one positive value per word"):
        tagging.frequency_adjusted(S, [0.5, 0.0], 1.0)
    with pytest.raises(ConfigError, match="exponent"):
        tagging.frequency_adjusted(S, f, -0.5)


def test_choose_frequency_exponent_finds_the_rare_words():
    # 20 items, 1 word each: a frequent word on 15 items, 5 rare words once each.  The
    # scores favour the frequent word everywhere but rank each rare item's word
    # second; only a strong enough adjustment names the rare words.
    n, V = 20, 6
    Y = np.zeros((n, V))
    Y[:15, 0] = 1
    for i in range(5):
        Y[15 + i, 1 + i] = 1
    S = np.full((n, V), 0.01)
    S[:, 0] = 0.6
    for i in range(5):
        S[15 + i, 1 + i] = 0.3
    freq = tagging.tag_frequency(Y)
    e, f1 = tagging.choose_frequency_exponent(S, Y, freq, n_words=1)
    assert set(f1) == set(tagging.FREQUENCY_EXPONENTS) and f1[e] == max(f1.values())
    assert f1[0.0] < f1[e] and e > 0
    assert min(k for k, v in f1.items() if v == f1[e]) == e
    with pytest.raises(ConfigError, match="empty"):
        tagging.choose_frequency_exponent(S, Y, freq, exponents=[])


def test_knn_exclude_self_is_leave_one_out():
    rng = np.random.default_rng(0)
    X = (rng.random((30, 12)) < 0.3).astype(float)
    Y = (rng.random((30, 5)) < 0.3).astype(float)
    loo = tagging.knn_label_transfer(X, Y, X, k=4, exclude_self=True)
    for i in (0, 7, 29):
        keep = np.arange(30) != i
        np.testing.assert_allclose(
            loo[i], tagging.knn_label_transfer(X[keep], Y[keep], X[i : i + 1], k=4)[0]
        )
    with pytest.raises(DataError, match="exclude_self"):
        tagging.knn_label_transfer(X, Y, X[:5], exclude_self=True)
