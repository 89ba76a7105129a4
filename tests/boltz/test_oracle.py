"""Brute-force enumeration is the oracle for the RBM math (all three unit types)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.special import logsumexp

import boltz
from boltz.backend import Backend
from boltz.gradients import PCD
from boltz.likelihood import ais_log_partition, exact_log_partition
from boltz.model import RBMModel
from boltz.units import Bernoulli, Gaussian, ReplicatedSoftmax

BE = Backend("numpy", np, np.dtype(np.float64))
QUIET = dict(progress=False, random_state=0)


def _model(unit, V=5, H=4, seed=0, scale=0.7):
    rng = np.random.default_rng(seed)
    m = RBMModel([("v", unit, V)], H, BE)
    params = {
        "weights": rng.standard_normal((V, H)) * scale,
        "visible_bias": rng.standard_normal(V) * 0.5,
        "hidden_bias": rng.standard_normal(H) * 0.5,
    }
    if unit.learns_sigma:
        params["log_sigma"] = rng.standard_normal(V) * 0.3
    return m.set_params(params)


def _hidden_states(H):
    return np.array(list(itertools.product([0, 1], repeat=H)), dtype=float)


def _energy(m, v, h, D=None):
    """E(v, h) written out from the energy function of each unit type."""
    W, b, c = m.params["weights"], m.params["visible_bias"], m.params["hidden_bias"]
    unit = m.groups[0].unit
    if isinstance(unit, Gaussian):
        s = np.exp(m.params["log_sigma"]) if "log_sigma" in m.params else np.ones_like(b)
        return ((v - b) ** 2 / (2 * s**2)).sum() - (v / s) @ W @ h - c @ h
    scale = v.sum() if isinstance(unit, ReplicatedSoftmax) else 1.0
    return -b @ v - v @ W @ h - scale * c @ h


@pytest.mark.parametrize(
    "unit",
    [Bernoulli(), Gaussian(), Gaussian(learn_sigma=True), ReplicatedSoftmax()],
    ids=["bernoulli", "gaussian", "gaussian-sigma", "softmax"],
)
def test_free_energy_is_minus_log_sum_over_hidden(unit):
    m = _model(unit)
    rng = np.random.default_rng(1)
    if isinstance(unit, Bernoulli):
        V = (rng.random((6, 5)) > 0.5).astype(float)
    elif isinstance(unit, ReplicatedSoftmax):
        V = rng.integers(0, 4, (6, 5)).astype(float)
    else:
        V = rng.standard_normal((6, 5))
    hs = _hidden_states(4)
    want = [-logsumexp([-_energy(m, v, h) for h in hs]) for v in V]
    np.testing.assert_allclose(m.free_energy(V), want, rtol=1e-10, atol=1e-10)


def test_bernoulli_log_z_both_sides_agree():
    for V, H in ((5, 8), (8, 5)):
        m = _model(Bernoulli(), V, H)
        vs = np.array(list(itertools.product([0, 1], repeat=V)), dtype=float)
        hs = _hidden_states(H)
        brute = logsumexp([-_energy(m, v, h) for v in vs for h in hs])
        assert exact_log_partition(m) == pytest.approx(brute, abs=1e-9)


@pytest.mark.parametrize("learn", [False, True])
def test_gaussian_log_z_matches_numerical_integration(learn):
    m = _model(Gaussian(learn_sigma=learn), V=2, H=3)
    grid = np.linspace(-12, 12, 601)
    dx = grid[1] - grid[0]
    vv = np.array(list(itertools.product(grid, grid)))
    log_p = -m.free_energy(vv)
    numeric = logsumexp(log_p) + 2 * math.log(dx)
    assert exact_log_partition(m) == pytest.approx(numeric, abs=1e-5)


def test_softmax_log_z_enumerates_ordered_word_sequences():
    V, H, D = 3, 3, 4
    m = _model(ReplicatedSoftmax(), V, H)
    hs = _hidden_states(H)
    terms = []
    for seq in itertools.product(range(V), repeat=D):  # ordered words
        v = np.bincount(seq, minlength=V).astype(float)
        terms.extend(-_energy(m, v, h) for h in hs)
    assert exact_log_partition(m, n_words=D) == pytest.approx(logsumexp(terms), abs=1e-9)
    both = exact_log_partition(m, n_words=np.array([D, 2]))
    assert both[0] == pytest.approx(logsumexp(terms), abs=1e-9)


def test_exact_refuses_large_models():
    m = _model(Gaussian(), V=3, H=30)
    with pytest.raises(boltz.ConfigError, match="ais"):
        exact_log_partition(m)
    with pytest.raises(ValueError, match="n_words"):
        exact_log_partition(_model(ReplicatedSoftmax()))


def _train(unit, X, **kw):
    fit = dict(epochs=30, batch_size=20, learning_rate=0.05, dtype="float64")
    return boltz.RBM(4, unit, **fit, **QUIET, **kw).fit(X)


@pytest.mark.parametrize("unit", ["bernoulli", "gaussian", "softmax"])
def test_ais_within_a_tenth_of_a_nat_on_trained_models(unit):
    rng = np.random.default_rng(0)
    if unit == "bernoulli":
        proto = rng.random((3, 8)) > 0.5
        X = (proto[rng.integers(0, 3, 300)] ^ (rng.random((300, 8)) < 0.1)).astype(float)
    elif unit == "gaussian":
        X = rng.standard_normal((300, 6)) + rng.integers(0, 2, (300, 1)) * 2
    else:
        X = rng.poisson(rng.random((300, 1)) * 4 + 0.5, (300, 6)).astype(float)
    rbm = _train(unit, X)
    kw = {"n_words": 8} if unit == "softmax" else {}
    exact = rbm.log_partition("exact", **kw)
    res = rbm.log_partition(
        "ais", n_runs=100, n_betas=3000, return_bounds=True, random_state=1, **kw
    )
    assert abs(res.log_z - exact) < 0.1
    assert res.log_z_low <= res.log_z <= res.log_z_high


def test_gaussian_log_likelihood_is_in_data_units():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3)) * np.array([10.0, 0.5, 2.0]) + 5
    rbm = _train("gaussian", X)
    z = (X - X.mean(0)) / X.std(0)
    direct = -rbm.model_.free_energy(z) - rbm.log_partition() - np.log(X.std(0)).sum()
    assert rbm.log_likelihood(X) == pytest.approx(direct.mean(), rel=1e-10)


def test_perplexity_matches_brute_force():
    rng = np.random.default_rng(0)
    X = rng.poisson(2, (50, 4)).astype(float)
    X[X.sum(1) == 0, 0] = 1
    rbm = _train("softmax", X)
    lp = []
    for v in X:
        lp.append(-rbm.model_.free_energy(v[None])[0] - rbm.log_partition(n_words=int(v.sum())))
    assert rbm.perplexity(X) == pytest.approx(math.exp(-sum(lp) / X.sum()), rel=1e-9)


def _exact_gradient(m, X):
    """Data statistics minus model statistics, by enumeration (Bernoulli, tiny)."""
    W = m.params["weights"]
    vs = np.array(list(itertools.product([0, 1], repeat=W.shape[0])), dtype=float)
    logp = -m.free_energy(vs)
    p = np.exp(logp - logsumexp(logp))
    ph_model = m.hidden_mean(vs)
    ph_data = m.hidden_mean(X)
    return {
        "weights": X.T @ ph_data / len(X) - (vs * p[:, None]).T @ ph_model,
        "visible_bias": X.mean(0) - p @ vs,
        "hidden_bias": ph_data.mean(0) - p @ ph_model,
    }


def test_long_chain_pcd_estimates_the_exact_gradient():
    m = _model(Bernoulli(), V=6, H=4, scale=0.5)
    rng = np.random.default_rng(0)
    X = (rng.random((40, 6)) > 0.4).astype(float)
    exact = _exact_gradient(m, X)
    pcd = PCD(k=1, n_chains=20000)
    gen = BE.generator(np.random.SeedSequence(3))
    for _ in range(30):  # burn in the persistent chains at fixed parameters
        ph = pcd.phases(m, X, gen)
    pos = m.bias_stats(ph.v_pos, ph.h_pos, None)
    neg = m.bias_stats(ph.v_neg, ph.h_neg, None)
    est = {
        "weights": ph.v_pos.T @ ph.h_pos / len(X) - ph.v_neg.T @ ph.h_neg / len(ph.v_neg),
        "visible_bias": pos["visible_bias"] / len(X) - neg["visible_bias"] / len(ph.v_neg),
        "hidden_bias": pos["hidden_bias"] / len(X) - neg["hidden_bias"] / len(ph.v_neg),
    }
    for k in exact:
        np.testing.assert_allclose(est[k], exact[k], atol=0.02)


def test_exact_gradient_is_the_derivative_of_the_log_likelihood():
    m = _model(Bernoulli(), V=5, H=3, scale=0.5)
    X = (np.random.default_rng(1).random((30, 5)) > 0.5).astype(float)
    g = _exact_gradient(m, X)

    def ll(params):
        mm = RBMModel([("v", Bernoulli(), 5)], 3, BE).set_params(params)
        return float(np.mean(-mm.free_energy(X)) - exact_log_partition(mm))

    base = {k: v.copy() for k, v in m.params.items()}
    eps = 1e-6
    for name, idx in (("weights", (2, 1)), ("visible_bias", (3,)), ("hidden_bias", (0,))):
        up = {k: v.copy() for k, v in base.items()}
        dn = {k: v.copy() for k, v in base.items()}
        up[name][idx] += eps
        dn[name][idx] -= eps
        assert (ll(up) - ll(dn)) / (2 * eps) == pytest.approx(g[name][idx], abs=1e-6)


def test_pseudo_likelihood_is_the_full_sum_over_visibles():
    from boltz.monitor import pseudo_log_likelihood

    m = _model(Bernoulli(), V=6, H=4)
    X = (np.random.default_rng(2).random((10, 6)) > 0.5).astype(float)
    want = []
    for v in X:
        total = 0.0
        for i in range(6):
            v1, v0 = v.copy(), v.copy()
            v1[i], v0[i] = 1, 0
            f1, f0 = m.free_energy(np.stack([v1, v0]))
            p1 = 1 / (1 + np.exp(f1 - f0))
            total += math.log(p1 if v[i] == 1 else 1 - p1)
        want.append(total)
    assert pseudo_log_likelihood(m, X) == pytest.approx(np.mean(want), rel=1e-10)


@pytest.mark.parametrize("persistent, lr", [(False, 0.1), (True, 0.02)])
def test_cd_and_pcd_increase_exact_likelihood(persistent, lr):
    rng = np.random.default_rng(0)
    proto = rng.random((3, 8)) > 0.5
    X = (proto[rng.integers(0, 3, 400)] ^ (rng.random((400, 8)) < 0.05)).astype(np.float32)
    # the data's own entropy: log 3 prototypes + 8 bits of 5% noise ~ -2.69 nats
    kw = dict(batch_size=20, momentum=0.5, final_momentum=0.5, init_scale=0.1, **QUIET)
    r0 = boltz.RBM(6, epochs=1, learning_rate=1e-9, persistent=persistent, **kw).fit(X)
    r1 = boltz.RBM(6, epochs=50, learning_rate=lr, persistent=persistent, **kw).fit(X)
    assert r1.log_likelihood(X) > r0.log_likelihood(X) + 0.3
    if not persistent:
        assert r1.log_likelihood(X) > -2.9


def test_ais_on_the_model_backend_matches_exact_for_softmax_lengths():
    m = _model(ReplicatedSoftmax(), V=4, H=3, scale=0.5)
    Ds = np.array([1, 3, 7])
    res = ais_log_partition(
        m,
        np.zeros(4),
        n_runs=200,
        n_betas=2000,
        n_words=Ds,
        rng=BE.generator(np.random.SeedSequence(0)),
    )
    np.testing.assert_allclose(res.log_z, exact_log_partition(m, n_words=Ds), atol=0.05)


@pytest.mark.parametrize("persistent", [False, True])
def test_ais_on_digits_trained_rbm_matches_exact(persistent):
    """Regression: weights and transitions must use the same intermediate distributions
    (softplus(beta x), not beta softplus(x)); with the mismatch AIS stayed 0.4-0.7 nat
    below the truth on these models however many betas it used."""
    from sklearn.datasets import load_digits

    X = (load_digits().data / 16 > 0.5).astype(np.float32)
    lr = 0.01 if persistent else 0.05
    fit = dict(batch_size=10, epochs=10, n_chains=100, dtype="float64", **QUIET)
    rbm = boltz.RBM(16, learning_rate=lr, persistent=persistent, **fit).fit(X)
    exact = rbm.log_partition("exact")
    res = rbm.log_partition("ais", n_runs=100, n_betas=5000, return_bounds=True, random_state=1)
    assert abs(res.log_z - exact) < 0.1


def test_pseudo_likelihood_binary_shortcut_equals_the_general_formula():
    """Binary rows take the one-softplus path; nudging one entry off {0, 1} takes the other."""
    from boltz.monitor import pseudo_log_likelihood

    m = _model(Bernoulli(), V=9, H=5)
    X = (np.random.default_rng(3).random((7, 9)) > 0.5).astype(float)
    fast = pseudo_log_likelihood(m, X, block=16)  # several chunks of visibles
    eps = 1e-9
    Xn = X.copy()
    Xn[0, 0] = abs(Xn[0, 0] - eps)  # no longer binary: the general formula
    general = pseudo_log_likelihood(m, Xn, block=16)
    assert fast == pytest.approx(general, abs=1e-6)
    assert pseudo_log_likelihood(m, X, block=1 << 20) == pytest.approx(fast, rel=1e-12)
