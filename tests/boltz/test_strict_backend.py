"""The dense core through a strict device namespace (stand-in for CuPy on CPU-only CI).

Device arrays there refuse NumPy conversion, so a stray ``np.`` call on device
data in a hot loop fails here instead of on a GPU machine.
"""

from __future__ import annotations

import numpy as np
import pytest

import boltz
import boltz.rbm
from boltz.backend import Backend

from .strict_xp import StrictArray, xp


@pytest.fixture
def strict_backend(monkeypatch):
    be = Backend("strict", xp, np.dtype("float32"))
    monkeypatch.setattr(boltz.rbm, "get_backend", lambda device, dtype: be)
    return be


def test_strict_arrays_refuse_numpy():
    a = xp.zeros((2, 2))
    with pytest.raises(TypeError):
        np.asarray(a)
    with pytest.raises(TypeError):
        np.exp(a)
    with pytest.raises(TypeError):
        a + np.ones((2, 2))


def _data(unit: str, rng: np.random.Generator) -> np.ndarray:
    X = rng.random((60, 10)).astype(np.float32)
    if unit == "bernoulli":
        return (X > 0.5).astype(np.float32)
    if unit == "softmax":
        return rng.poisson(2, (60, 10)).astype(np.float32)
    return X


@pytest.mark.parametrize("unit", ["bernoulli", "gaussian", "softmax"])
@pytest.mark.parametrize("persistent", [False, True])
def test_core_runs_on_strict_namespace(strict_backend, unit, persistent):
    X = _data(unit, np.random.default_rng(0))
    rbm = boltz.RBM(
        n_hidden=4,
        visible=unit,
        epochs=2,
        persistent=persistent,
        batch_size=16,
        progress=False,
        random_state=0,
        sparsity_target=0.1,
        sparsity_cost=0.1,
        weight_decay=1e-3,
        learn_sigma=unit == "gaussian",
    )
    rbm.fit(X, X_val=X)
    assert isinstance(rbm.model_.params["weights"], StrictArray)
    assert rbm.transform(X).shape == (60, 4)
    assert np.isfinite(rbm.free_energy(X)).all()
    assert rbm.reconstruct(X).shape == X.shape
    assert rbm.gibbs(X, steps=2).shape == X.shape
    kw = {"n_words": 5} if unit == "softmax" else {}
    exact = rbm.log_partition("exact", **kw)
    ais = rbm.log_partition("ais", n_runs=8, n_betas=200, **kw)
    assert abs(exact - ais) < 0.5
    assert {"recon_error", "free_energy", "free_energy_val"} <= set(rbm.history_[-1])


def test_multinomial_on_strict_namespace(strict_backend):
    be = strict_backend
    rng = be.generator(np.random.SeedSequence(0))
    p = xp.asarray(np.full((3, 4), 0.25), dtype=np.float32)
    counts = xp.asarray(np.array([0, 5, 100]), dtype=np.float32)
    out = be.multinomial(rng, counts, p)
    assert isinstance(out, StrictArray)
    np.testing.assert_array_equal(xp.asnumpy(out).sum(1), [0, 5, 100])
