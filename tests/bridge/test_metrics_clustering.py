"""bridge.clustering (through bridge.metrics) against brute force, hand cases and properties."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from boltz.errors import ConfigError, DataError, DataTypeError
from bridge import metrics as M

# --------------------------------------------------------------------------- clustering


def bf_accuracy(y_true, y_pred):
    classes, clusters = sorted(set(y_true)), sorted(set(y_pred))
    s = max(len(classes), len(clusters))
    best = 0
    for perm in itertools.permutations(range(s), len(clusters)):
        m = {c: perm[i] for i, c in enumerate(clusters)}
        hits = sum(m[p] < len(classes) and classes[m[p]] == t for t, p in zip(y_true, y_pred))
        best = max(best, hits)
    return best / len(y_true)


def bf_pairs(y_true, y_pred):
    a = b = c = d = 0
    for i, j in itertools.combinations(range(len(y_true)), 2):
        same_t, same_p = y_true[i] == y_true[j], y_pred[i] == y_pred[j]
        a += same_t and same_p
        b += same_t and not same_p
        c += same_p and not same_t
        d += not same_t and not same_p
    return a, b, c, d


def bf_f_score(y_true, y_pred):
    a, b, c, _ = bf_pairs(y_true, y_pred)
    if a + b == 0 and a + c == 0:
        return 1.0
    if a == 0:
        return 0.0
    p, r = a / (a + c), a / (a + b)
    return 2 * p * r / (p + r)


def bf_ari(y_true, y_pred):
    a, b, c, d = bf_pairs(y_true, y_pred)
    return 2.0 * (a * d - b * c) / ((a + b) * (b + d) + (a + c) * (c + d))


def bf_nmi(y_true, y_pred, method):
    n = len(y_true)

    def h(y):
        return -sum(y.count(v) / n * math.log(y.count(v) / n) for v in set(y))

    mi = 0.0
    for t in set(y_true):
        for p in set(y_pred):
            nij = sum(a == t and b == p for a, b in zip(y_true, y_pred))
            if nij:
                mi += nij / n * math.log(n * nij / (y_true.count(t) * y_pred.count(p)))
    ht, hp = h(list(y_true)), h(list(y_pred))
    norm = {
        "arithmetic": (ht + hp) / 2,
        "geometric": math.sqrt(ht * hp),
        "min": min(ht, hp),
        "max": max(ht, hp),
    }[method]
    return mi / norm


def bf_purity(y_true, y_pred):
    return sum(
        max(sum(t == c and p == q for t, p in zip(y_true, y_pred)) for c in set(y_true))
        for q in set(y_pred)
    ) / len(y_true)


@pytest.mark.parametrize("n_classes, n_clusters", [(3, 3), (4, 2), (2, 5), (5, 5), (1, 3)])
@pytest.mark.parametrize("seed", [0, 1])
def test_clustering_metrics_match_brute_force(n_classes, n_clusters, seed):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, n_classes, 40).tolist()
    y_pred = [(t + (rng.random() < 0.3) * rng.integers(0, n_clusters)) % n_clusters for t in y_true]
    y_pred = [int(p) for p in y_pred]
    assert M.clustering_accuracy(y_true, y_pred) == pytest.approx(bf_accuracy(y_true, y_pred))
    assert M.pairwise_f_score(y_true, y_pred) == pytest.approx(bf_f_score(y_true, y_pred))
    assert M.purity(y_true, y_pred) == pytest.approx(bf_purity(y_true, y_pred))
    if len(set(y_true)) > 1 and len(set(y_pred)) > 1:
        assert M.ari(y_true, y_pred) == pytest.approx(bf_ari(y_true, y_pred))
        for method in M.NMI_AVERAGES:
            want = bf_nmi(y_true, y_pred, method)
            assert M.nmi(y_true, y_pred, average_method=method) == pytest.approx(want)
    report = M.clustering_report(y_true, y_pred)
    assert set(report) == {"acc", "nmi", "ari", "f_score", "purity"}
    assert report["acc"] == M.clustering_accuracy(y_true, y_pred)
    assert report["nmi"] == M.nmi(y_true, y_pred)
    assert all(isinstance(v, float) for v in report.values())


def test_clustering_hand_cases():
    y = [0, 0, 1, 1, 2, 2]
    assert M.clustering_report(y, [5, 5, 7, 7, 9, 9]) == {
        "acc": 1.0,
        "nmi": 1.0,
        "ari": 1.0,
        "f_score": 1.0,
        "purity": 1.0,
    }
    # one cluster: acc 2/6 (one class matched), purity 2/6, F: P = 3/15 pairs, R = 1
    assert M.clustering_accuracy(y, [0] * 6) == pytest.approx(2 / 6)
    assert M.purity(y, [0] * 6) == pytest.approx(2 / 6)
    assert M.pairwise_f_score(y, [0] * 6) == pytest.approx(2 * 0.2 / 1.2)
    # singletons: purity 1 but acc only 3/6 (three clusters are left without a class)
    assert M.purity(y, range(6)) == 1.0
    assert M.clustering_accuracy(y, range(6)) == 0.5
    assert M.pairwise_f_score(y, range(6)) == 0.0
    assert M.pairwise_f_score(range(4), range(4)) == 1.0  # no pair together in either
    assert M.clustering_accuracy(["a", "b", "b"], np.array([[2], [1], [1]])) == 1.0
    assert M.pairwise_f_score([3], [1]) == 1.0


@settings(max_examples=60, deadline=None)
@given(
    y_true=st.lists(st.integers(0, 4), min_size=1, max_size=30),
    data=st.data(),
)
def test_clustering_scores_ignore_label_names(y_true, data):
    y_pred = data.draw(st.lists(st.integers(0, 5), min_size=len(y_true), max_size=len(y_true)))
    rename_t = data.draw(st.permutations(range(5)))
    rename_p = data.draw(st.permutations(["a", "b", "c", "d", "e", "f"]))
    t2 = [rename_t[v] + 10 for v in y_true]
    p2 = [rename_p[v] for v in y_pred]
    r1, r2 = M.clustering_report(y_true, y_pred), M.clustering_report(t2, p2)
    for key in r1:
        assert r1[key] == pytest.approx(r2[key], abs=1e-12)
    assert 0 <= r1["acc"] <= r1["purity"] <= 1
    assert 0 <= r1["f_score"] <= 1 and -1 <= r1["ari"] <= 1


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "fn", [M.clustering_accuracy, M.nmi, M.ari, M.purity, M.pairwise_f_score, M.clustering_report]
)
def test_clustering_errors(fn):
    with pytest.raises(DataError, match=r"y_true and y_pred.*same number.*3 and 2"):
        fn([0, 1, 1], [0, 1])
    with pytest.raises(DataError, match="y_true: expected at least one label"):
        fn([], [])
    with pytest.raises(DataError, match=r"y_pred: expected a 1-D array.*\(2, 2\)"):
        fn([0, 1], [[0, 1], [1, 0]])
    with pytest.raises(DataError, match="y_true: expected finite labels"):
        fn([0.0, np.nan], [0, 1])
    with pytest.raises(DataTypeError, match="y_pred: expected real or string labels"):
        fn([0, 1], [1j, 0])
    with pytest.raises(DataTypeError, match="y_true: expected labels that can be compared"):
        fn([None, 1], [0, 1])


def test_nmi_average_method_is_checked():
    with pytest.raises(ConfigError, match="average_method must be one of"):
        M.nmi([0, 1], [0, 1], average_method="harmonic")
