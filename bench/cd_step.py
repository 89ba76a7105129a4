"""CD-1 throughput of boltz against the GEMM-bound limit, a minimal NumPy CD-1 and scikit-learn.

Run: ``.venv/bin/python -m bench.cd_step [--quick] [--rounds R]``.  Everything is
measured in this process, in ``R`` interleaved rounds (the median ratio is
printed, with its spread), so a noisy shared machine moves all references
together:

* **limit** -- the GEMM-bound limit: (measured FLOP/s of the five CD-1 GEMM
  shapes, each called the fastest way NumPy offers) / (10 V H) samples per second.
* **bare** -- a minimal hand-written NumPy CD-1 with the same arithmetic as boltz
  (preallocated buffers, fused momentum GEMM, no validation, no monitoring): what
  exact CD-1 with sampled hidden *and* visible states can reach with NumPy's
  kernels on this machine.
* **boltz epoch** -- steady-state samples/s of ``RBM.fit`` (its second epoch).
* **boltz fit** -- samples/s of a one-epoch ``RBM.fit`` including its setup
  (validation, data statistics, weight initialisation).
* **defaults** -- samples/s of ``RBM(n_hidden=H, batch_size=batch).fit(X)`` for one
  epoch with every other setting at its default (default monitoring included):
  what a user gets without tuning.  The other boltz rows turn monitoring off.
* **sklearn** -- ``sklearn.neural_network.BernoulliRBM`` on the same data.
"""

from __future__ import annotations

import argparse
import statistics
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
    """Samples/s if a CD-1 step cost only its five GEMMs (10 V H flops per sample).

    The five products ``v W``, ``h W^T``, ``v W``, ``v^T h``, ``v^T h`` are timed in
    sequence, each through ``numpy.matmul`` into a preallocated output (which takes
    the transposed operands as BLAS flags, without copies).
    """
    rng = np.random.default_rng(0)
    v = rng.random((batch, V), dtype=dtype)
    h = rng.random((batch, H), dtype=dtype)
    W = rng.random((V, H), dtype=dtype)
    o1 = np.empty((batch, H), dtype)
    o2 = np.empty((batch, V), dtype)
    o3 = np.empty((V, H), dtype)

    def step():
        np.matmul(v, W, out=o1)
        np.matmul(h, W.T, out=o2)
        np.matmul(v, W, out=o1)
        np.matmul(v.T, h, out=o3)
        np.matmul(v.T, h, out=o3)

    return batch / _best(step, repeat)


def _sigmoid(x: np.ndarray) -> None:
    np.multiply(x, 0.5, out=x)
    np.tanh(x, out=x)
    np.multiply(x, 0.5, out=x)
    np.add(x, 0.5, out=x)


def bare_update(v0, ph0, v1, ph1, W, vel, a, c, lr: float, mom: float) -> None:
    """The parameter update of the minimal loops: momentum fused into the statistics GEMMs."""
    from boltz import _cblas

    n = v0.shape[0]
    for x, p, alpha, beta in ((v0, ph0, lr / n, mom), (v1, ph1, -lr / n, 1.0)):
        if not _cblas.gemm(alpha, x.T, p, beta, vel):  # pragma: no cover - other BLAS
            vel[...] = beta * vel + alpha * (x.T @ p)
    np.add(W, vel, out=W)
    np.add(a, (lr / n) * (v0.sum(axis=0) - v1.sum(axis=0)), out=a)
    np.add(c, (lr / n) * (ph0.sum(axis=0) - ph1.sum(axis=0)), out=c)


def second_epoch_rate(epoch, n_samples: int) -> float:
    """Samples/s of the second of two calls of ``epoch()`` (the first warms up)."""
    epoch()
    t = time.perf_counter()
    epoch()
    return n_samples / (time.perf_counter() - t)


def bare_rate(X: np.ndarray, H: int, batch: int, lr: float = 0.01, mom: float = 0.5) -> float:
    """Samples/s of a minimal NumPy CD-1 epoch on ``X`` (after one warm-up epoch).

    The same arithmetic as one boltz CD-1 update (Bernoulli units, sampled ``h0``
    and ``v1``, probabilities ``P(h|v1)``, momentum fused into the statistics GEMM,
    shuffled batches), with every buffer preallocated and nothing else.
    """
    dt = X.dtype
    n, V = X.shape
    rng = np.random.default_rng(0)
    W = (rng.standard_normal((V, H)) * 0.01).astype(dt)
    vel = np.zeros_like(W)
    a, c = np.zeros(V, dt), np.zeros(H, dt)
    ph0, h0, ph1 = (np.empty((batch, H), dt) for _ in range(3))
    v1, uv = np.empty((batch, V), dt), np.empty((batch, V), dt)

    def epoch():
        order = rng.permutation(n)
        for s in range(0, n - batch + 1, batch):
            v0 = X[np.sort(order[s : s + batch])]
            np.matmul(v0, W, out=ph0)
            np.add(ph0, c, out=ph0)
            _sigmoid(ph0)
            rng.random(out=h0, dtype=dt)
            np.less(h0, ph0, out=h0)
            np.matmul(h0, W.T, out=v1)
            np.add(v1, a, out=v1)
            _sigmoid(v1)
            rng.random(out=uv, dtype=dt)
            np.less(uv, v1, out=v1)
            np.matmul(v1, W, out=ph1)
            np.add(ph1, c, out=ph1)
            _sigmoid(ph1)
            bare_update(v0, ph0, v1, ph1, W, vel, a, c, lr, mom)

    return second_epoch_rate(epoch, (n // batch) * batch)


def _opts(H: int, batch: int, epochs: int, kw: dict[str, Any]) -> dict[str, Any]:
    opts = dict(
        n_hidden=H,
        batch_size=batch,
        epochs=epochs,
        monitor_size=0,
        progress=False,
        learning_rate=0.01,
        device="cpu",
        random_state=0,
    )
    opts.update(kw)
    return opts


def boltz_rate(X: Any, H: int, batch: int, **kw: Any) -> float:
    """Samples/s of a one-epoch ``RBM.fit`` on ``X``, setup included (after a warm-up fit)."""
    import boltz

    opts = _opts(H, batch, 1, kw)
    boltz.RBM(**opts).fit(X[: batch * 2])  # warm-up (allocations, BLAS threads)
    rbm = boltz.RBM(**opts)
    t = time.perf_counter()
    rbm.fit(X)
    return X.shape[0] / (time.perf_counter() - t)


def boltz_epoch_rate(X: Any, H: int, batch: int, **kw: Any) -> float:
    """Steady-state samples/s of ``RBM.fit``: the second epoch of a two-epoch fit."""
    import boltz

    rbm = boltz.RBM(**_opts(H, batch, 2, kw)).fit(X)
    return X.shape[0] / rbm.history_[-1]["seconds"]


def boltz_default_rate(X: Any, H: int, batch: int) -> float:
    """Samples/s of ``RBM(n_hidden=H, batch_size=batch, epochs=1).fit(X)``: defaults
    otherwise (monitoring, learning rate, device), after a warm-up fit."""
    import boltz

    kw = dict(n_hidden=H, batch_size=batch, epochs=1, progress=False, random_state=0)
    boltz.RBM(**kw).fit(X[: batch * 2])
    rbm = boltz.RBM(**kw)
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


def measure(V: int, H: int, batch: int, n_batches: int, rounds: int) -> dict[str, Any]:
    """Interleaved rounds of every reference; medians of rates and of per-round ratios."""
    X = (np.random.default_rng(1).random((batch * n_batches, V)) < 0.3).astype(np.float32)
    per: dict[str, list[float]] = {
        "limit": [],
        "bare": [],
        "epoch": [],
        "fit": [],
        "defaults": [],
        "sklearn": [],
    }
    Xs = X[: batch * min(n_batches, 16)]
    for _ in range(rounds):
        per["limit"].append(gemm_limit(V, H, batch))
        per["bare"].append(bare_rate(X, H, batch))
        per["epoch"].append(boltz_epoch_rate(X, H, batch))
        per["fit"].append(boltz_rate(X, H, batch))
        per["defaults"].append(boltz_default_rate(X, H, batch))
        per["sklearn"].append(sklearn_rate(Xs, H, batch))
    out: dict[str, Any] = {"V": V, "H": H, "batch": batch, "rounds": rounds}
    out.update({k: statistics.median(v) for k, v in per.items()})
    for k in ("bare", "epoch", "fit", "defaults"):
        ratios = [r / lim for r, lim in zip(per[k], per["limit"], strict=True)]
        out[f"{k}/limit"] = statistics.median(ratios)
        out[f"{k}/limit range"] = (min(ratios), max(ratios))
    out["epoch/bare"] = statistics.median(
        [e / b for e, b in zip(per["epoch"], per["bare"], strict=True)]
    )
    for k in ("epoch", "defaults"):
        out[f"{k}/sklearn"] = statistics.median(
            [r / s for r, s in zip(per[k], per["sklearn"], strict=True)]
        )
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--quick", action="store_true", help="fewer samples and rounds (noisier)")
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 3)")
    p.add_argument("--shape", help="one shape VxH instead of the three (e.g. 1024x1024)")
    a = p.parse_args(argv)
    n_batches = 8 if a.quick else 40
    rounds = a.rounds or (1 if a.quick else 3)
    shapes = SHAPES if a.shape is None else [tuple(int(x) for x in a.shape.split("x"))]
    print(
        f"{'V x H':>12} {'limit/s':>9} {'bare/s':>9} {'epoch/s':>9} {'fit/s':>9} "
        f"{'default/s':>9} {'sklearn/s':>9} {'bare/lim':>8} {'epoch/lim':>9} {'fit/lim':>8} "
        f"{'dflt/lim':>8} {'epoch/bare':>10} {'epoch/skl':>9} {'dflt/skl':>8}"
    )
    for V, H in shapes:
        r = measure(V, H, a.batch, n_batches, rounds)
        lo, hi = r["epoch/limit range"]
        dlo, dhi = r["defaults/limit range"]
        print(
            f"{V:>5} x {H:<5} {r['limit']:9.0f} {r['bare']:9.0f} {r['epoch']:9.0f} "
            f"{r['fit']:9.0f} {r['defaults']:9.0f} {r['sklearn']:9.0f} {r['bare/limit']:8.1%} "
            f"{r['epoch/limit']:9.1%} {r['fit/limit']:8.1%} {r['defaults/limit']:8.1%} "
            f"{r['epoch/bare']:10.2f} {r['epoch/sklearn']:8.2f}x {r['defaults/sklearn']:7.2f}x"
            f"   (over {rounds} rounds: epoch/limit {lo:.1%}-{hi:.1%}, "
            f"defaults/limit {dlo:.1%}-{dhi:.1%})",
            flush=True,
        )


if __name__ == "__main__":
    main()
