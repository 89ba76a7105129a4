"""Per-epoch diagnostics: the sampled pseudo-likelihood and the monitoring budget."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import boltz
from boltz.monitor import (
    _conditional_terms,
    diagnostics,
    pseudo_log_likelihood,
    reconstruction_error,
    sampled_pseudo_log_likelihood,
)
from boltz.trainer import MONITOR_FLOOR, MONITOR_GEMMS, MONITOR_MIN_ROWS, monitor_rows


def _fitted(V=7, H=4, n=40, seed=0):
    rng = np.random.default_rng(seed)
    X = (rng.random((n, V)) < 0.4).astype(np.float64)
    rbm = boltz.RBM(H, epochs=3, dtype="float64", progress=False, random_state=seed).fit(X)
    # spread the parameters so the conditionals are far from 1/2
    m = rbm.model_
    m.params["weights"][:] = rng.normal(0, 1.5, m.params["weights"].shape)
    m.params["visible_bias"][:] = rng.normal(0, 1, V)
    return rbm, X


def _log_cond_by_enumeration(rbm, v):
    """log P(v_i | v_-i) for every row and visible, from two free energies each."""
    out = np.empty(v.shape)
    for i in range(v.shape[1]):
        on, off = v.copy(), v.copy()
        on[:, i], off[:, i] = 1, 0
        f_on, f_off = rbm.free_energy(on), rbm.free_energy(off)
        log_p1 = -np.logaddexp(0, f_on - f_off)  # P(v_i = 1 | rest)
        log_p0 = -np.logaddexp(0, f_off - f_on)
        out[:, i] = v[:, i] * log_p1 + (1 - v[:, i]) * log_p0
    return out


@pytest.mark.parametrize("binary", [True, False])
def test_conditional_terms_match_free_energy_differences(binary):
    rbm, X = _fitted()
    v = X[:10] if binary else np.random.default_rng(1).random((10, X.shape[1]))
    m = rbm.model_
    idx = np.tile(np.arange(v.shape[1]), (v.shape[0], 1))
    got = _conditional_terms(m, v, m.hidden_input(v), idx, binary)
    expected = _log_cond_by_enumeration(rbm, v)  # for probabilities: linear in v_i
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


def test_sampled_pseudo_likelihood_with_every_visible_is_exact():
    rbm, X = _fitted()
    m = rbm.model_
    exact = pseudo_log_likelihood(m, X)
    got = sampled_pseudo_log_likelihood(m, X, n_visibles=X.shape[1], rng=np.random.default_rng(0))
    assert got == pytest.approx(exact, rel=1e-12)
    assert exact == pytest.approx(_log_cond_by_enumeration(rbm, X).sum(axis=1).mean(), rel=1e-10)


def test_sampled_pseudo_likelihood_is_unbiased():
    """Its mean over many draws converges to the exact value (a biased scale would not)."""
    rbm, X = _fitted()
    m = rbm.model_
    exact = pseudo_log_likelihood(m, X)
    rng = np.random.default_rng(0)
    draws = np.array([sampled_pseudo_log_likelihood(m, X, 1, rng) for _ in range(3000)])
    se = draws.std() / np.sqrt(len(draws))
    assert abs(draws.mean() - exact) < 4 * se
    assert draws.std() > 0  # a real estimate, not the exact sum in disguise


def test_diagnostics_match_the_separate_functions():
    rbm, X = _fitted()
    m = rbm.model_
    d = diagnostics(m, X, "exact")
    assert d["recon_error"] == pytest.approx(reconstruction_error(m, X), rel=1e-12)
    assert d["free_energy"] == pytest.approx(rbm.free_energy(X).mean(), rel=1e-12)
    assert d["pseudo_likelihood"] == pytest.approx(pseudo_log_likelihood(m, X), rel=1e-12)
    s = diagnostics(m, X, "sampled", n_visibles=100, rng=np.random.default_rng(0))
    assert set(s) == {"recon_error", "free_energy", "pseudo_likelihood_sampled"}


def test_monitoring_does_not_touch_the_training_streams():
    X = (np.random.default_rng(0).random((120, 12)) < 0.3).astype(np.float32)
    kw = dict(n_hidden=5, epochs=3, progress=False, random_state=0)
    ws = [
        boltz.RBM(**kw, monitor=mode, monitor_size=size).fit(X).weights_
        for mode, size in (("auto", 256), ("full", 256), ("auto", 0))
    ]
    np.testing.assert_array_equal(ws[0], ws[1])
    np.testing.assert_array_equal(ws[0], ws[2])
    a = boltz.RBM(**kw).fit(X).history_
    b = boltz.RBM(**kw).fit(X).history_
    assert [r["pseudo_likelihood_sampled"] for r in a] == [
        r["pseudo_likelihood_sampled"] for r in b
    ]


def test_monitor_is_validated():
    with pytest.raises(boltz.ConfigError, match="monitor must be"):
        boltz.RBM(3, monitor="everything").fit(np.zeros((4, 3)))


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(1, 200_000),
    n_val=st.integers(0, 50_000),
    size=st.integers(0, 2048),
    V=st.integers(1, 4096),
    H=st.integers(1, 4096),
    k=st.integers(1, 5),
)
def test_monitor_rows_stay_within_the_budget(n, n_val, size, V, H, k):
    m, mv = monitor_rows(n, n_val, n, size, (V, H), k=k)
    assert 0 <= m <= min(n, size) and 0 <= mv <= min(n_val, size)
    full = monitor_rows(n, n_val, n, size, (V, H), k=k, budget=None)
    assert full == (min(n, size), min(n_val, size))
    cheap = 2.0 * sum(full) * V * H * MONITOR_GEMMS <= MONITOR_FLOOR
    if cheap:
        assert (m, mv) == full
    elif min(m, mv if n_val else m) > MONITOR_MIN_ROWS:
        assert (m + mv) * MONITOR_GEMMS <= 0.05 * (3 + 2 * k) * n + 1e-9


def test_default_monitoring_of_a_small_set_uses_fewer_rows():
    """2048 rows of 1024 x 1024 with a validation set: 64 + 64 monitor rows, not 256 + 256."""
    assert monitor_rows(2048, 2048, 2048, 256, (1024, 1024)) == (64, 64)
    assert monitor_rows(16384, 0, 16384, 256, (1024, 1024)) == (256, 0)
    assert monitor_rows(100, 20, 100, 256, (10, 8)) == (100, 20)  # tiny: never cut
