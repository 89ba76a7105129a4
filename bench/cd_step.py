"""CD-1 throughput of boltz against the GEMM-bound limit and scikit-learn's BernoulliRBM.

Run: ``.venv/bin/python -m bench.cd_step [--quick]``.  Everything is measured in
this process: the GEMM-bound limit is (measured FLOP/s of the five CD-1 GEMM
shapes) / (10 V H) samples per second.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

SHAPES = [(784, 500), (1024, 1024), (3000, 1024)]


def _best(fn, repeat: int) -> float:
    fn()
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def gemm_limit(V: int, H: int, batch: int, dtype=np.float32, repeat: int = 5) -> float:
    """Samples/s if a CD-1 step cost only its five GEMMs (10 V H flops per sample)."""
    rng = np.random.default_rng(0)
    v = rng.random((batch, V), dtype=dtype)
    h = rng.random((batch, H), dtype=dtype)
    W = rng.random((V, H), dtype=dtype)
    o1 = np.empty((batch, H), dtype)
    o2 = np.empty((batch, V), dtype)
    o3 = np.empty((V, H), dtype)

    def step():
        np.dot(v, W, out=o1)
        np.dot(h, W.T, out=o2)
        np.dot(v, W, out=o1)
        np.dot(v.T, h, out=o3)
        np.dot(v.T, h, out=o3)

    t = _best(step, repeat)
    flops = 10.0 * V * H * batch
    return flops / t / (10.0 * V * H)


def boltz_rate(X: Any, H: int, batch: int, **kw: Any) -> float:
    """Samples/s of one epoch of ``RBM.fit`` on ``X`` (after a 2-batch warm-up fit)."""
    import boltz

    opts = dict(
        n_hidden=H,
        batch_size=batch,
        epochs=1,
        monitor_size=0,
        progress=False,
        learning_rate=0.01,
        device="cpu",
        random_state=0,
    )
    opts.update(kw)
    boltz.RBM(**opts).fit(X[: batch * 2])  # warm-up (allocations, BLAS threads)
    rbm = boltz.RBM(**opts)
    t = time.perf_counter()
    rbm.fit(X)
    return X.shape[0] / (time.perf_counter() - t)


def sklearn_rate(X: np.ndarray, H: int, batch: int) -> float:
    from sklearn.neural_network import BernoulliRBM

    rbm = BernoulliRBM(
        n_components=H, batch_size=batch, n_iter=1, learning_rate=0.01, random_state=0
    )
    t = time.perf_counter()
    rbm.fit(X)
    return X.shape[0] / (time.perf_counter() - t)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true", help="fewer samples (noisier)")
    p.add_argument("--batch", type=int, default=256)
    a = p.parse_args(argv)
    n_batches = 8 if a.quick else 40
    print(
        f"{'V x H':>12} {'limit/s':>10} {'boltz/s':>10} {'sklearn/s':>10} "
        f"{'boltz/limit':>11} {'sklearn/limit':>13} {'boltz/sklearn':>13}"
    )
    for V, H in SHAPES:
        X = (np.random.default_rng(1).random((a.batch * n_batches, V)) < 0.3).astype(np.float32)
        lim = gemm_limit(V, H, a.batch)
        b = boltz_rate(X, H, a.batch)
        s = sklearn_rate(X, H, a.batch)
        print(
            f"{V:>5} x {H:<5} {lim:10.0f} {b:10.0f} {s:10.0f} {b / lim:11.1%} "
            f"{s / lim:13.1%} {b / s:12.2f}x"
        )


if __name__ == "__main__":
    main()
