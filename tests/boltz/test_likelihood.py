"""log Z: method="auto", the AIS length ladder of the replicated softmax, against enumeration."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import boltz
from boltz.likelihood import (
    ais_log_partition,
    exact_is_cheap,
    exact_log_partition,
    length_knots,
)


@pytest.fixture(scope="module")
def rsm():
    """A replicated softmax with weights large enough that log Z_D is far from the base rate."""
    rng = np.random.default_rng(0)
    X = rng.poisson(3, (200, 12)).astype(np.float64)
    r = boltz.RBM(
        8, "softmax", epochs=5, dtype="float64", progress=False, random_state=0, learning_rate=0.01
    ).fit(X)
    m = r.model_
    m.params["weights"][:] = rng.normal(0, 0.35, m.params["weights"].shape)
    m.params["hidden_bias"][:] = rng.normal(0, 0.1, 8)
    return r


def _ais(r, D, ratio, runs=200, betas=1000, seed=1):
    m = r.model_
    return ais_log_partition(
        m,
        r.unit_.init_bias(r.data_mean_),
        n_runs=runs,
        n_betas=betas,
        n_words=D,
        rng=m.backend.generator(np.random.SeedSequence(seed)),
        length_ratio=ratio,
    )


@pytest.mark.parametrize("ratio", [1.0, 1.5, np.inf])
def test_length_ladder_matches_enumeration(rsm, ratio):
    D = np.array([10, 11, 25, 40, 41, 60])
    exact = exact_log_partition(rsm.model_, n_words=D)
    res = _ais(rsm, D, ratio)
    assert res.log_z.shape == D.shape and res.log_weights.shape == (len(D), 200)
    # log Z_D spans 37..208 nats and one more word adds ~3.4: an off-by-one ladder step
    # or a wrong base term is far outside; the temperature schedules (1000 betas) of
    # the knots D = 40, 60 at ratio 1.5 are off by up to 0.25, the ladder by < 0.1
    np.testing.assert_allclose(res.log_z, exact, atol=0.1 if ratio == np.inf else 0.3)
    assert np.all(res.log_z_low <= res.log_z) and np.all(res.log_z <= res.log_z_high)


def test_the_ladder_is_more_than_the_knot_estimate(rsm):
    """Lengths on the ladder get their own estimate, not a copy of the knot's."""
    res = _ais(rsm, np.array([20, 30]), np.inf)
    assert len(length_knots(np.array([20, 30]), np.inf)[0]) == 1
    assert res.log_z[1] - res.log_z[0] > 1.0


def test_unsorted_and_repeated_lengths_follow_the_request(rsm):
    D = np.array([30, 10, 30, 12])
    res = _ais(rsm, D, np.inf)
    assert res.log_z[0] == res.log_z[2]
    np.testing.assert_allclose(res.log_z, exact_log_partition(rsm.model_, n_words=D), atol=0.1)


@settings(max_examples=100, deadline=None)
@given(
    lengths=st.lists(st.integers(0, 5000), min_size=1, max_size=40, unique=True),
    ratio=st.sampled_from([0.5, 1.0, 1.2, 2.0, np.inf]),
)
def test_length_knots_cover_every_length_from_below(lengths, ratio):
    L = np.sort(np.asarray(lengths))
    knots, knot_of = length_knots(L, ratio)
    assert knots[0] == L[0] and set(knots) <= set(L)
    assert np.all(np.diff(knots) > 0)
    assert np.all(knots[knot_of] <= L)
    if ratio <= 1:
        assert np.array_equal(knots, L)
    if L[0] == 0 and len(L) > 1:
        assert knots[1] == L[1]  # no ladder out of the empty document
    if ratio == np.inf:
        assert len(knots) == (2 if L[0] == 0 and len(L) > 1 else 1)
    elif ratio > 1:  # a length beyond ratio x its knot would have been a knot itself
        off = L != knots[knot_of]
        assert np.all(L[off] < ratio * knots[knot_of][off])


def test_auto_is_exact_when_cheap(rsm):
    D = np.array([5, 9])
    assert exact_is_cheap(rsm.model_, 2)
    np.testing.assert_array_equal(
        rsm.log_partition(n_words=D), exact_log_partition(rsm.model_, n_words=D)
    )
    res = rsm.log_partition(n_words=7, return_bounds=True)
    assert res.log_z == res.log_z_low == res.log_z_high and res.n_betas == 0


def test_auto_falls_back_to_ais_and_logs_the_interval(caplog):
    """H = 30 is beyond enumeration: the first call on a real-sized model must not fail."""
    X = (np.random.default_rng(0).random((80, 40)) < 0.3).astype(np.float32)
    rbm = boltz.RBM(30, epochs=2, progress=False, random_state=0).fit(X)
    assert not exact_is_cheap(rbm.model_)
    with caplog.at_level(logging.INFO, logger="boltz.rbm"):
        ll = rbm.log_likelihood(X, n_runs=8, n_betas=50)
    assert np.isfinite(ll) and ll < 0
    assert any("+-3 sigma" in r.getMessage() for r in caplog.records)
    with pytest.raises(boltz.ConfigError, match="'auto', 'exact' or 'ais'"):
        rbm.log_partition("guess")


def test_perplexity_without_a_method_uses_the_ladder_estimate(caplog):
    rng = np.random.default_rng(0)
    X = rng.poisson(0.5, (60, 30)).astype(np.float32)
    X[:, 0] += 1  # no empty documents
    rbm = boltz.RBM(26, "softmax", epochs=2, progress=False, random_state=0).fit(X)
    assert not exact_is_cheap(rbm.model_, 10)
    kw = dict(n_runs=4, n_betas=30, random_state=3)
    with caplog.at_level(logging.INFO, logger="boltz.rbm"):
        p = rbm.perplexity(X, **kw)
    D = np.unique(X.sum(axis=1)).astype(np.int64)
    log_z = rbm.log_partition("ais", n_words=D, **kw)
    assert p == pytest.approx(rbm.perplexity(X, log_z=log_z), rel=1e-12)
    assert any(
        "perplexity" in r.getMessage() and "interval" in r.getMessage() for r in caplog.records
    )


def test_auto_learning_rate_per_unit():
    rng = np.random.default_rng(0)
    counts = rng.poisson(2, (50, 10)).astype(np.float32)
    kw = dict(epochs=1, progress=False, random_state=0)
    r = boltz.RBM(3, "softmax", **kw).fit(counts)
    assert r.learning_rate_ == pytest.approx(0.05 / counts.sum(axis=1).mean(), rel=1e-6)
    assert boltz.RBM(3, **kw).fit((counts > 1).astype(np.float32)).learning_rate_ == 0.01
    assert boltz.RBM(3, "gaussian", **kw).fit(counts).learning_rate_ == 0.001
    assert boltz.RBM(3, learning_rate=0.2, **kw).fit(counts > 1).learning_rate_ == 0.2
    with pytest.raises(boltz.ConfigError, match="learning_rate"):
        boltz.RBM(3, learning_rate="fast", **kw).fit(counts > 1)


def test_auto_learning_rate_survives_a_checkpoint(tmp_path):
    counts = np.random.default_rng(0).poisson(2, (50, 10)).astype(np.float32)
    r = boltz.RBM(3, "softmax", epochs=1, progress=False, random_state=0).fit(counts)
    back = boltz.load(r.save(tmp_path / "r.npz"))
    assert back.learning_rate == "auto" and back.learning_rate_ == r.learning_rate_
    assert back.optimizer_.learning_rate == r.optimizer_.learning_rate
