"""Hypothesis properties: shapes, dtypes and invariants for every unit type."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import boltz
from boltz.backend import get_backend

UNITS = st.sampled_from(["bernoulli", "gaussian", "softmax"])


def _data(unit: str, n: int, d: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if unit == "bernoulli":
        return (rng.random((n, d)) > 0.5).astype(np.float32)
    if unit == "softmax":
        return rng.poisson(2, (n, d)).astype(np.float32)
    return rng.standard_normal((n, d)).astype(np.float32) * 3


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    unit=UNITS,
    n=st.integers(2, 30),
    d=st.integers(1, 9),
    h=st.integers(1, 7),
    seed=st.integers(0, 2**16),
    dtype=st.sampled_from(["float32", "float64"]),
)
def test_shapes_dtypes_and_ranges(unit, n, d, h, seed, dtype):
    X = _data(unit, n, d, seed)
    r = boltz.RBM(
        n_hidden=h,
        visible=unit,
        epochs=1,
        batch_size=7,
        progress=False,
        random_state=seed,
        dtype=dtype,
    ).fit(X)
    P = r.transform(X)
    assert P.shape == (n, h) and P.dtype == np.dtype(dtype)
    assert np.all((P >= 0) & (P <= 1))
    F = r.free_energy(X)
    assert F.shape == (n,) and np.isfinite(F).all()
    assert r.reconstruct(X).shape == (n, d)
    G = r.gibbs(X, steps=2)
    assert G.shape == (n, d) and np.isfinite(G).all()
    if unit == "bernoulli":
        assert set(np.unique(G)) <= {0.0, 1.0}
    if unit == "softmax":  # Gibbs keeps every document's length
        np.testing.assert_array_equal(G.sum(1), X.sum(1))
    assert r.weights_.shape == (d, h) and r.weights_.dtype == np.dtype(dtype)


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(1, 20),
    v=st.integers(1, 12),
    total=st.integers(0, 500),
    seed=st.integers(0, 2**16),
)
def test_multinomial_preserves_counts(n, v, total, seed):
    be = get_backend("cpu")
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(v), size=n)
    counts = rng.integers(0, total + 1, n).astype(np.float32)
    out = be.multinomial(be.generator(np.random.SeedSequence(seed)), counts, p)
    np.testing.assert_array_equal(out.sum(1), counts)
    assert (out >= 0).all() and out.dtype == np.float32


def test_multinomial_frequencies():
    be = get_backend("cpu", "float64")
    p = np.array([[0.1, 0.2, 0.3, 0.4], [0.7, 0.1, 0.1, 0.1]])
    out = be.multinomial(be.generator(np.random.SeedSequence(0)), np.array([2e5, 2e5]), p)
    np.testing.assert_allclose(out / 2e5, p, atol=4e-3)


@settings(max_examples=20, deadline=None)
@given(x=st.lists(st.floats(-80, 80), min_size=1, max_size=50))
def test_sigmoid_matches_reference(x):
    be = get_backend("cpu", "float64")
    a = np.array(x)
    np.testing.assert_allclose(be.sigmoid(a), 1 / (1 + np.exp(-a)), atol=1e-12)
