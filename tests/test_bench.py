"""The benchmark scripts run (tiny shapes); their speed is never asserted here."""

from __future__ import annotations

import numpy as np

from bench import breakdown, cd_step


def test_cd_step_references_run_on_tiny_shapes():
    X = (np.random.default_rng(0).random((64, 12)) < 0.3).astype(np.float32)
    for rate in (
        cd_step.gemm_limit(12, 8, 16),
        cd_step.bare_rate(X, 8, 16),
        cd_step.boltz_epoch_rate(X, 8, 16),
        cd_step.boltz_rate(X, 8, 16),
        cd_step.boltz_default_rate(X, 8, 16),
    ):
        assert np.isfinite(rate) and rate > 0


def test_cd_step_measure_reports_the_defaults_row_beside_the_tuned_ones():
    r = cd_step.measure(12, 8, 16, n_batches=4, rounds=1)
    for k in ("epoch/limit", "fit/limit", "defaults/limit", "epoch/sklearn", "defaults/sklearn"):
        assert np.isfinite(r[k]) and r[k] > 0


def test_breakdown_runs_on_tiny_shapes():
    gemm_ms, step_ms = breakdown.in_fit(12, 8, 16, n_batches=4)
    assert 0 < gemm_ms < step_ms
    assert breakdown.no_sampling_rate(12, 8, 16, n_batches=4) > 0
    parts = breakdown.kernels(12, 8, 16)
    assert parts and all(ms > 0 for _, ms in parts)


def test_bare_update_is_the_plain_momentum_update():
    rng = np.random.default_rng(1)
    v0, v1 = rng.random((5, 4)), rng.random((5, 4))
    ph0, ph1 = rng.random((5, 3)), rng.random((5, 3))
    W, vel, a, c = rng.random((4, 3)), rng.random((4, 3)), rng.random(4), rng.random(3)
    want_vel = 0.5 * vel + 0.1 / 5 * (v0.T @ ph0 - v1.T @ ph1)
    want = (W + want_vel, a + 0.1 / 5 * (v0 - v1).sum(0), c + 0.1 / 5 * (ph0 - ph1).sum(0))
    cd_step.bare_update(v0, ph0, v1, ph1, W, vel, a, c, 0.1, 0.5)
    np.testing.assert_allclose(vel, want_vel, rtol=1e-12)
    for got, exp in zip((W, a, c), want, strict=True):
        np.testing.assert_allclose(got, exp, rtol=1e-12)
