"""bridge.metrics (retrieval: bridge.retrieval, bridge.ranking) against brute force, hand cases."""

from __future__ import annotations

import math
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import cdist

from boltz.errors import ConfigError, DataError, DataTypeError
from bridge import metrics as M
from bridge import ranking

METRICS = ["cosine", "euclidean"]
NORMS = ["retrieved", "relevant"]

# --------------------------------------------------------------------------- brute force


def bf_score(q, d, metric):
    """Higher is better; the same float operations as the module for integer data."""
    if metric == "cosine":
        dot = sum(float(a) * float(b) for a, b in zip(q, d))
        nq = math.sqrt(sum(float(a) ** 2 for a in q)) or 1.0
        nd = math.sqrt(sum(float(b) ** 2 for b in d)) or 1.0
        return (dot / nq) / nd
    return -sum((float(a) - float(b)) ** 2 for a, b in zip(q, d))


def bf_relevant(a, b):
    if np.ndim(a) == 0:
        return a == b
    return any(x and y for x, y in zip(a, b))


def bf_ranking(q, D, metric, exclude=None):
    s = [bf_score(q, d, metric) for d in D]
    return [j for j in sorted(range(len(D)), key=lambda j: (-s[j], j)) if j != exclude]


def bf_ap(q, D, lq, LD, k=None, metric="cosine", normalize="retrieved", exclude=None):
    order = bf_ranking(q, D, metric, exclude)
    kk = len(order) if k is None else min(k, len(order))
    hits, total = 0, 0.0
    for r, j in enumerate(order[:kk], start=1):
        if bf_relevant(lq, LD[j]):
            hits += 1
            total += hits / r
    n_rel = sum(bool(bf_relevant(lq, LD[j])) for j in order)
    den = hits if normalize == "retrieved" else min(kk, n_rel)
    return total / den if den else 0.0


def bf_aps(Q, D, LQ, LD, k=None, metric="cosine", normalize="retrieved"):
    return np.array([bf_ap(Q[i], D, LQ[i], LD, k, metric, normalize) for i in range(len(Q))])


def fx_calc_map_label(image, text, label_q, label_d, k=0, dist_method="COS"):
    """The published cross-modal evaluation code (ACMR/DSCMR), query/database labels split."""
    if dist_method == "L2":
        dist = cdist(image, text, "euclidean")
    else:
        dist = cdist(image, text, "cosine")
    ord_ = dist.argsort()
    if k == 0:
        k = dist.shape[1]
    res = []
    for i in range(dist.shape[0]):
        order = ord_[i]
        p = r = 0.0
        for j in range(k):
            if label_q[i] == label_d[order[j]]:
                r += 1
                p += r / (j + 1)
        res += [p / r] if r > 0 else [0]
    return np.mean(res)


def make_data(kind, n_q=12, n_db=30, dim=3, seed=0):
    """(Q, D, lq, ld): "float" distinct scores, "ties" small integers, "multi" multi-label."""
    rng = np.random.default_rng(seed)
    if kind == "float":
        Q, D = rng.standard_normal((n_q, dim)), rng.standard_normal((n_db, dim))
    else:
        Q, D = rng.integers(-1, 2, (n_q, dim)), rng.integers(-1, 2, (n_db, dim))
        D[5] = D[2]  # exact duplicates
        D[7] = 0  # a zero vector
        Q[0] = 0
    if kind == "multi":
        return Q, D, rng.random((n_q, 4)) < 0.3, rng.random((n_db, 4)) < 0.3
    return Q, D, rng.integers(0, 3, n_q), rng.integers(0, 3, n_db)


# --------------------------------------------------------------------------- AP / MAP


@pytest.mark.parametrize("kind", ["float", "ties", "multi"])
@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("normalize", NORMS)
@pytest.mark.parametrize("k", [None, 1, 3, 7, 29, 30, 100])
def test_average_precisions_match_brute_force(kind, metric, normalize, k):
    Q, D, lq, ld = make_data(kind)
    got = M.average_precisions(Q, D, lq, ld, k=k, metric=metric, normalize=normalize)
    want = bf_aps(Q, D, lq, ld, k, metric, normalize)
    assert got.shape == (len(Q),) and got.dtype == np.float64
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)
    mean = M.mean_average_precision(Q, D, lq, ld, k=k, metric=metric, normalize=normalize)
    assert isinstance(mean, float) and mean == pytest.approx(want.mean(), rel=1e-12)


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("kind", ["float", "ties", "multi"])
def test_query_blocks_do_not_change_the_result(monkeypatch, metric, kind):
    Q, D, lq, ld = make_data(kind, n_q=25, n_db=40, seed=3)
    whole = M.average_precisions(Q, D, lq, ld, k=5, metric=metric)
    for elements in (1, 80, 250):  # 1, 2 and 6 query rows per block (25 rows: ragged end)
        monkeypatch.setattr(ranking, "_BLOCK_ELEMENTS", elements)
        np.testing.assert_array_equal(M.average_precisions(Q, D, lq, ld, k=5, metric=metric), whole)


@pytest.mark.parametrize("metric, method", [("cosine", "COS"), ("euclidean", "L2")])
@pytest.mark.parametrize("k", [None, 1, 10, 40])
def test_matches_the_published_fx_calc_map_label(metric, method, k):
    Q, D, lq, ld = make_data("float", n_q=20, n_db=50, dim=5, seed=7)
    want = fx_calc_map_label(Q, D, lq, ld, k=k or 0, dist_method=method)
    assert M.mean_average_precision(Q, D, lq, ld, k=k, metric=metric) == pytest.approx(
        want, rel=1e-12
    )


def test_hand_computed_relevance_pattern_1_0_1():
    q = np.array([[1.0, 0.0]])
    db = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]])  # cosine 1 > 0.71 > 0.45
    assert M.mean_average_precision(q, db, [0], [0, 1, 0]) == pytest.approx((1 + 2 / 3) / 2)
    assert M.mean_average_precision(q, db, [0], [0, 1, 0], k=2) == 1.0
    assert M.mean_average_precision(q, db, [0], [0, 1, 0], k=2, normalize="relevant") == 0.5
    assert M.mean_average_precision(q, db, [0], [0, 1, 0], k=1, normalize="relevant") == 1.0
    # relevance [0, 1, 0]: (1/2) / 1
    assert M.mean_average_precision(q, db, [1], [0, 1, 0]) == 0.5
    # nothing relevant: 0, in both conventions
    for normalize in NORMS:
        assert M.mean_average_precision(q, db, [2], [0, 1, 0], normalize=normalize) == 0.0
    # euclidean: distances 9, 1, 4 -> order 1, 2, 0 -> relevance [0, 1, 1]
    db1 = [[3.0], [1.0], [-2.0]]
    got = M.mean_average_precision([[0.0]], db1, [0], [0, 1, 0], metric="euclidean")
    assert got == pytest.approx((1 / 2 + 2 / 3) / 2)
    # cosine of a zero query is 0 for all: index order -> relevance [1, 0, 1]
    assert M.mean_average_precision([[0.0]], db1, [0], [0, 1, 0]) == pytest.approx(5 / 6)


def test_ties_are_broken_by_database_index():
    q = np.array([[1.0, 0.0]])
    dup = np.array([[2.0, 0.0], [2.0, 0.0]])  # identical scores
    assert M.mean_average_precision(q, dup, [0], [1, 0]) == 0.5  # irrelevant one first
    assert M.mean_average_precision(q, dup, [0], [0, 1]) == 1.0
    # a large tie group (the fast paths must not reorder it) in both the sort and partition paths
    n = 500
    labels = (np.arange(n) % 7 == 3).astype(int)
    D = np.ones((n, 2))
    for k in (None, 5, 300):
        want = bf_ap([1.0, 1.0], D, 1, labels, k)
        assert M.mean_average_precision([[1.0, 1.0]], D, [1], labels, k=k) == pytest.approx(want)
    # zero vectors: cosine 0 with everything, so the index decides
    assert M.mean_average_precision([[0.0, 0.0]], [[1.0, 0.0], [0.0, 1.0]], [1], [0, 1]) == 0.5


def test_conventions_agree_at_k_none_and_multilabel_sharing():
    Q, D, lq, ld = make_data("multi", seed=11)
    np.testing.assert_array_equal(
        M.average_precisions(Q, D, lq, ld, normalize="retrieved"),
        M.average_precisions(Q, D, lq, ld, normalize="relevant"),
    )
    # multi-label: relevant when any label is shared
    q_l = np.array([[1, 0, 1]])
    d_l = np.array([[0, 1, 0], [0, 0, 1], [1, 1, 1]])
    db = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]])
    assert M.mean_average_precision([[1.0, 0.0]], db, q_l, d_l) == pytest.approx(
        (1 / 2 + 2 / 3) / 2
    )


def test_label_forms():
    Q, D, lq, ld = make_data("float", seed=5)
    base = M.mean_average_precision(Q, D, lq, ld)
    names = np.array(["cat", "dog", "eel"])
    assert M.mean_average_precision(Q, D, names[lq], names[ld]) == base  # strings
    assert M.mean_average_precision(Q, D, lq[:, None], ld[:, None]) == base  # loadmat columns
    # so a (n, 1) 0/1 column is class ids too: 0 matches 0 (as a multi-label matrix it would not)
    assert M.mean_average_precision([[1.0]], [[1.0]], [[0]], [[0]]) == 1.0
    assert M.mean_average_precision(Q, D, list(lq), ld.astype(float)) == base
    assert M.mean_average_precision(sp.csr_matrix(Q), D.tolist(), lq, ld) == base
    assert M.mean_average_precision(Q.astype(np.float32), D, lq, ld) == pytest.approx(base)


@pytest.mark.parametrize("kind", ["float", "ties", "multi"])
@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("k", [1, 4, 30, 31])
def test_precision_at_k_matches_brute_force(kind, metric, k):
    Q, D, lq, ld = make_data(kind)
    want = np.mean(
        [
            sum(bool(bf_relevant(lq[i], ld[j])) for j in bf_ranking(Q[i], D, metric)[:k])
            / min(k, len(D))
            for i in range(len(Q))
        ]
    )
    assert M.precision_at_k(Q, D, lq, ld, k, metric) == pytest.approx(want, rel=1e-12)


def bf_pr_curve(Q, D, lq, ld, metric, levels=None):
    precs, recs, interps = [], [], []
    for i in range(len(Q)):
        order = bf_ranking(Q[i], D, metric)
        rel = [bool(bf_relevant(lq[i], ld[j])) for j in order]
        if not any(rel):
            continue
        hits, p, r = 0, [], []
        for rank, x in enumerate(rel, start=1):
            hits += x
            p.append(hits / rank)
            r.append(hits / sum(rel))
        precs.append(p)
        recs.append(r)
        if levels is not None:
            interps.append([max(pp for pp, rr in zip(p, r) if rr >= lv) for lv in levels])
    if levels is not None:
        return np.mean(interps, axis=0), np.asarray(levels)
    return np.mean(precs, axis=0), np.mean(recs, axis=0)


@pytest.mark.parametrize("kind", ["float", "ties", "multi"])
@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("n_points", [None, 2, 11])
def test_precision_recall_curve_matches_brute_force(kind, metric, n_points):
    Q, D, lq, ld = make_data(kind, seed=2)
    levels = None if n_points is None else np.linspace(0, 1, n_points)
    want_p, want_r = bf_pr_curve(Q, D, lq, ld, metric, levels)
    p, r = M.precision_recall_curve(Q, D, lq, ld, metric=metric, n_points=n_points)
    assert p.shape == r.shape == ((len(D),) if n_points is None else (n_points,))
    np.testing.assert_allclose(p, want_p, rtol=1e-12)
    np.testing.assert_allclose(r, want_r, rtol=1e-12)
    if n_points is None:
        assert r[-1] == pytest.approx(1.0)
    else:
        assert np.all(np.diff(p) <= 1e-12)  # interpolated precision never increases


# --------------------------------------------------------------------------- multi-view


def test_cross_modal_map_keys_and_values():
    Q, D, lq, ld = make_data("float", n_q=20, n_db=20, seed=4)
    out = M.cross_modal_map({"image": Q, "text": D}, lq, k=5)
    i2t = M.mean_average_precision(Q, D, lq, lq, k=5)
    t2i = M.mean_average_precision(D, Q, lq, lq, k=5)
    assert out == {
        "image->text": i2t,
        "text->image": t2i,
        "average": (i2t + t2i) / 2,
        "i2t": i2t,
        "t2i": t2i,
    }
    # order of the dict does not matter for the shorthands
    swapped = M.cross_modal_map({"text": D, "image": Q}, lq, k=5)
    assert swapped["i2t"] == i2t and swapped["t2i"] == t2i
    # other names: no shorthands, per-view labels, euclidean
    other = M.cross_modal_map({"sift": Q, "lda": D}, {"sift": lq, "lda": ld}, metric="euclidean")
    assert set(other) == {"sift->lda", "lda->sift", "average"}
    assert other["sift->lda"] == M.mean_average_precision(Q, D, lq, ld, metric="euclidean")
    # separate retrieval set
    sep = M.cross_modal_map(
        {"image": Q[:5], "text": D[:5]},
        lq[:5],
        database={"image": Q, "text": D},
        database_labels=lq,
    )
    assert sep["i2t"] == M.mean_average_precision(Q[:5], D, lq[:5], lq)
    assert sep["t2i"] == M.mean_average_precision(D[:5], Q, lq[:5], lq)


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("normalize", NORMS)
@pytest.mark.parametrize("multi", [False, True])
@pytest.mark.parametrize("k", [None, 3, 39, 100])
def test_all_modal_map_matches_brute_force(metric, normalize, multi, k):
    rng = np.random.default_rng(9)
    Zi, Zt = rng.integers(-1, 2, (20, 3)), rng.integers(-1, 2, (20, 3))
    y = rng.random((20, 3)) < 0.3 if multi else rng.integers(0, 3, 20)
    D, ld = np.concatenate([Zi, Zt]), np.concatenate([y, y])
    views = {"image": Zi, "text": Zt}
    for view, Z, offset in (("image", Zi, 0), ("text", Zt, 20)):
        want = np.mean(
            [bf_ap(Z[i], D, y[i], ld, k, metric, normalize, exclude=offset + i) for i in range(20)]
        )
        got = M.all_modal_map(None, None, views, y, k, metric, normalize=normalize, query_view=view)
        assert got == pytest.approx(want, rel=1e-12)
        got = M.all_modal_map(Z, y, views, y, k, metric, normalize=normalize, query_view=view)
        assert got == pytest.approx(want, rel=1e-12)
    # outside queries: nothing excluded
    want = np.mean([bf_ap(Zi[i], D, y[i], ld, k, metric, normalize) for i in range(20)])
    got = M.all_modal_map(Zi, y, views, y, k, metric, normalize=normalize)
    assert got == pytest.approx(want, rel=1e-12)


def test_all_modal_map_keeps_the_paired_item_and_drops_the_query():
    Zi = np.array([[1.0, 0.0], [0.0, 1.0]])
    Zt = np.array([[1.0, 0.1], [0.1, 1.0]])
    views = {"image": Zi, "text": Zt}
    # each image's paired text is its only other same-class item and ranks first -> AP 1
    assert M.all_modal_map(None, None, views, [0, 1], query_view="image") == 1.0
    # pair of another class: image 0 ranks text 0 (.995), text 1 (.0995), image 1 (0);
    # only text 1 is relevant -> 1/2
    labels = {"image": [0, 1], "text": [1, 0]}
    assert M.all_modal_map(None, None, views, labels, query_view="image") == 0.5
    # the same queries as outside queries: each also finds itself first -> (1 + 2/3) / 2
    assert M.all_modal_map(Zi, [0, 1], views, labels) == pytest.approx(5 / 6)


# --------------------------------------------------------------------------- properties

small_ints = st.integers(-2, 2)


@st.composite
def retrieval_problem(draw):
    n_q, n_db, dim = draw(st.integers(1, 5)), draw(st.integers(1, 9)), draw(st.integers(1, 3))
    Q = np.array(
        draw(st.lists(st.lists(small_ints, min_size=dim, max_size=dim), min_size=n_q, max_size=n_q))
    )
    D = np.array(
        draw(
            st.lists(st.lists(small_ints, min_size=dim, max_size=dim), min_size=n_db, max_size=n_db)
        )
    )
    if draw(st.booleans()):
        n_l = draw(st.integers(2, 3))  # a (n, 1) column is read as class ids
        lq = np.array(
            draw(
                st.lists(
                    st.lists(st.booleans(), min_size=n_l, max_size=n_l), min_size=n_q, max_size=n_q
                )
            )
        )
        ld = np.array(
            draw(
                st.lists(
                    st.lists(st.booleans(), min_size=n_l, max_size=n_l),
                    min_size=n_db,
                    max_size=n_db,
                )
            )
        )
    else:
        lq = np.array(draw(st.lists(st.integers(0, 2), min_size=n_q, max_size=n_q)))
        ld = np.array(draw(st.lists(st.integers(0, 2), min_size=n_db, max_size=n_db)))
    return Q, D, lq, ld


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    problem=retrieval_problem(),
    k=st.one_of(st.none(), st.integers(1, 12)),
    metric=st.sampled_from(METRICS),
    normalize=st.sampled_from(NORMS),
)
def test_ap_in_unit_interval_and_equal_to_brute_force(problem, k, metric, normalize):
    Q, D, lq, ld = problem
    aps = M.average_precisions(Q, D, lq, ld, k, metric, normalize=normalize)
    assert np.all((aps >= 0) & (aps <= 1))
    np.testing.assert_allclose(aps, bf_aps(Q, D, lq, ld, k, metric, normalize), rtol=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    k=st.one_of(st.none(), st.integers(1, 15)),
    metric=st.sampled_from(METRICS),
    multi=st.booleans(),
)
def test_database_permutation_leaves_map_unchanged_when_scores_are_unique(seed, k, metric, multi):
    rng = np.random.default_rng(seed)
    Q, D = rng.integers(-50, 51, (4, 4)), rng.integers(-50, 51, (12, 4))
    lq, ld = (
        (rng.random((4, 3)) < 0.4, rng.random((12, 3)) < 0.4)
        if multi
        else (
            rng.integers(0, 3, 4),
            rng.integers(0, 3, 12),
        )
    )
    for q in Q:
        scores = [bf_score(q, d, metric) for d in D]
        assume(len(set(scores)) == len(scores))
    perm = np.random.default_rng(seed).permutation(len(D))
    a = M.mean_average_precision(Q, D, lq, ld, k, metric)
    b = M.mean_average_precision(Q, D[perm], lq, ld[perm], k, metric)
    assert a == pytest.approx(b, rel=1e-12)


# --------------------------------------------------------------------------- memory, imports


def test_memory_is_bounded_by_query_blocks(monkeypatch):
    rng = np.random.default_rng(0)
    n = 1500  # a full score matrix would be 1500 * 1500 * 8 B = 17 MiB
    Q, D = rng.standard_normal((n, 8)), rng.standard_normal((n, 8))
    y = rng.integers(0, 10, n)
    monkeypatch.setattr(ranking, "_BLOCK_ELEMENTS", 1 << 14)  # 128 KiB per float64 temporary
    tracemalloc.start()
    try:
        M.mean_average_precision(Q, D, y, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2**20


def test_import_needs_no_torch():
    code = "import sys, bridge.metrics; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# --------------------------------------------------------------------------- errors

Q4 = np.arange(8.0).reshape(4, 2) + 1
Y4 = [0, 1, 0, 1]


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"database": np.ones((4, 3))}, DataError, r"queries and database.*2 and 3"),
        ({"query_labels": [0, 1]}, DataError, r"query_labels.*expected 4 labels.*got 2"),
        ({"database_labels": [0, 1, 2]}, DataError, r"database_labels.*expected 4.*got 3"),
        ({"queries": np.array([[np.nan, 1.0]] * 4)}, DataError, r"queries.*finite.*NaN"),
        ({"database": np.array([[np.inf, 1.0]] * 4)}, DataError, r"database.*finite"),
        ({"queries": np.ones((0, 2)), "query_labels": []}, DataError, r"queries.*empty"),
        ({"database": np.ones((4, 0))}, DataError, r"database.*empty"),
        (
            {"queries": np.ones(2), "query_labels": [0]},
            DataError,
            r"queries.*2-D.*1-D.*x\[None, :\]",
        ),
        ({"database": np.ones((4, 2, 1))}, DataError, r"database.*3-D"),
        ({"queries": [["a", "b"]] * 4}, DataTypeError, r"queries.*dtype"),
        ({"queries": [[1, 2], [3]]}, DataTypeError, r"queries.*cannot convert"),
        ({"metric": "manhattan"}, ConfigError, r"metric.*cosine.*'manhattan'"),
        ({"k": 0}, ConfigError, r"k must be an integer >= 1; got 0"),
        ({"k": -3}, ConfigError, r"k must be"),
        ({"k": 2.0}, ConfigError, r"k must be"),
        ({"k": True}, ConfigError, r"k must be"),
        ({"normalize": "all"}, ConfigError, r"normalize.*retrieved.*'all'"),
        ({"query_labels": np.eye(4, 2)}, DataError, r"both class ids.*multi-label"),
        (
            {"query_labels": np.ones((4, 2)), "database_labels": np.ones((4, 3))},
            DataError,
            r"same number of labels",
        ),
        (
            {"query_labels": np.full((4, 2), 2), "database_labels": np.ones((4, 2))},
            DataError,
            r"query_labels.*only 0 and 1.*\[2",
        ),
        ({"query_labels": ["a", "b", "a", "b"]}, DataTypeError, r"one kind.*numbers never"),
        ({"query_labels": [0.0, np.nan, 1.0, 1.0]}, DataError, r"query_labels.*finite"),
        ({"query_labels": np.zeros((4, 2, 2))}, DataError, r"query_labels.*3-D"),
        ({"query_labels": [1j, 0, 0, 0]}, DataTypeError, r"query_labels.*complex"),
        ({"query_labels": [None, 0, 0, 0]}, DataTypeError, r"query_labels.*compared and sorted"),
    ],
)
def test_retrieval_errors(kwargs, error, match):
    args = {
        "queries": Q4,
        "database": Q4,
        "query_labels": Y4,
        "database_labels": Y4,
        "k": None,
        "metric": "cosine",
        "normalize": "retrieved",
    } | kwargs
    with pytest.raises(error, match=match) as info:
        M.mean_average_precision(**args)
    assert isinstance(info.value, ValueError | TypeError)
    with pytest.raises(error, match=match):
        M.average_precisions(**args)


def test_other_retrieval_errors():
    with pytest.raises(ConfigError, match="k must be"):
        M.precision_at_k(Q4, Q4, Y4, Y4, None)
    with pytest.raises(ConfigError, match="n_points must be an integer >= 2"):
        M.precision_recall_curve(Q4, Q4, Y4, Y4, n_points=1)
    with pytest.raises(DataError, match="no query has a relevant"):
        M.precision_recall_curve(Q4, Q4, Y4, [2, 2, 2, 2])
    with pytest.raises(DataError, match="values too large"):
        M.mean_average_precision([[1e200]], [[1e200], [-1e200]], [0], [0, 1], metric="euclidean")
    with pytest.raises(DataError, match="2-D"):
        M.precision_at_k(np.ones(2), Q4, [0], Y4, 1)


def test_multi_view_errors():
    v = {"image": Q4, "text": Q4}
    with pytest.raises(DataTypeError, match="embeddings: expected a dict"):
        M.cross_modal_map([Q4, Q4], Y4)
    with pytest.raises(DataError, match="exactly two views; got 3"):
        M.cross_modal_map({"a": Q4, "b": Q4, "c": Q4}, Y4)
    with pytest.raises(DataTypeError, match="view names must be strings"):
        M.cross_modal_map({0: Q4, 1: Q4}, Y4)
    with pytest.raises(DataError, match=r"labels: expected labels for views.*missing \['text'\]"):
        M.cross_modal_map(v, {"image": Y4})
    with pytest.raises(ConfigError, match="database_labels is given"):
        M.cross_modal_map(v, Y4, database_labels=Y4)
    with pytest.raises(ConfigError, match="database is given"):
        M.cross_modal_map(v, Y4, database=v)
    with pytest.raises(DataError, match=r"database: expected views.*missing \['text'\]"):
        M.cross_modal_map(v, Y4, database={"image": Q4}, database_labels=Y4)
    with pytest.raises(DataError, match=r"query_labels.*expected 4 labels.*got 3"):
        M.cross_modal_map(v, [0, 1, 0])
    with pytest.raises(ConfigError, match="query_view must be one of"):
        M.all_modal_map(None, None, v, Y4, query_view="audio")
    with pytest.raises(ConfigError, match="only when query_view is given"):
        M.all_modal_map(None, Y4, v, Y4)
    with pytest.raises(DataError, match="one query per row of that view"):
        M.all_modal_map(Q4[:2], Y4[:2], v, Y4, query_view="image")
    with pytest.raises(DataError, match="one embedding size for all views"):
        M.all_modal_map(Q4, Y4, {"image": Q4, "text": np.ones((4, 3))}, Y4)
    with pytest.raises(DataError, match=r"query_emb and views.*same number of features"):
        M.all_modal_map(np.ones((4, 3)), Y4, v, Y4)
    with pytest.raises(DataError, match="views: expected at least one view"):
        M.all_modal_map(Q4, Y4, {}, Y4)
    with pytest.raises(DataError, match=r"labels\['text'\].*expected 4 labels"):
        M.all_modal_map(Q4, Y4, v, {"image": Y4, "text": Y4[:3]})
    with pytest.raises(DataError, match="besides the query itself"):
        M.all_modal_map(None, None, {"image": Q4[:1]}, [0], query_view="image")
    with pytest.raises(DataError, match=r"views\['text'\].*finite"):
        M.all_modal_map(Q4, Y4, {"image": Q4, "text": Q4 * np.nan}, Y4)
