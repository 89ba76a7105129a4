"""Where the time of a CD-1 step goes: GEMMs inside ``RBM.fit`` against everything else.

Run: ``.venv/bin/python -m bench.breakdown [--shape 1024x1024] [--batch 256]``.

Prints, per batch: the GEMM-bound limit (the five GEMMs timed back to back, as in
:func:`bench.cd_step.gemm_limit`), the time the same GEMMs take inside a fit
(``Backend.matmul`` and ``Backend.gemm_tn`` wrapped with timers), the whole step,
and the single-core cost of each non-GEMM kernel of the step timed alone (NumPy
and, where :mod:`boltz._kernels` replaces it, the compiled kernel).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from bench.cd_step import bare_update, gemm_limit, second_epoch_rate


def _ms(fn, n: int = 200) -> float:
    fn()
    t = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t) / n * 1e3


def in_fit(V: int, H: int, batch: int, n_batches: int = 40) -> tuple[float, float]:
    """(GEMM ms, step ms) per batch in the second epoch of a two-epoch ``RBM.fit``."""
    import boltz
    from boltz import backend as B

    X = (np.random.default_rng(1).random((batch * n_batches, V)) < 0.3).astype(np.float32)
    acc = {"t": 0.0, "on": False}
    mm, tn = B.Backend.matmul, B.Backend.gemm_tn

    def timed(f):
        def g(self, *a, **k):
            t = time.perf_counter()
            r = f(self, *a, **k)
            if acc["on"]:
                acc["t"] += time.perf_counter() - t
            return r

        return g

    B.Backend.matmul, B.Backend.gemm_tn = timed(mm), timed(tn)
    try:
        kw = dict(n_hidden=H, batch_size=batch, monitor_size=0, progress=False)
        kw.update(learning_rate=0.01, device="cpu", random_state=0)
        rbm = boltz.RBM(epochs=1, **kw).fit(X)  # warm-up epoch, not timed
        acc["on"] = True
        rbm.partial_fit(X)
        step = rbm.history_[-1]["seconds"]
    finally:
        B.Backend.matmul, B.Backend.gemm_tn = mm, tn
    return acc["t"] / n_batches * 1e3, step / n_batches * 1e3


def no_sampling_rate(V: int, H: int, batch: int, n_batches: int = 40) -> float:
    """Samples/s of the minimal CD-1 loop with its sampling taken out.

    :func:`bench.cd_step.bare_rate` without any sigmoid, random draw or compare: the
    five GEMMs, the batch gather, ``W += velocity`` and the bias sums and updates.
    Whatever exact CD-1 does on top of this is its sampling, so this is the ceiling
    of any CD-1 built on these GEMMs.
    """

    X = (np.random.default_rng(1).random((batch * n_batches, V)) < 0.3).astype(np.float32)
    rng = np.random.default_rng(0)
    W = (rng.standard_normal((V, H)) * 0.01).astype(np.float32)
    vel = np.zeros_like(W)
    a, c = np.zeros(V, np.float32), np.zeros(H, np.float32)
    ph0, h0, ph1 = (np.full((batch, H), 0.5, np.float32) for _ in range(3))
    v1 = X[:batch].copy()
    # a learning rate of 1e-30 keeps W (and so every operand) where it started while
    # the products cost what they always cost (alpha = 0 might be short-cut by BLAS)
    lr, mom = 1e-30, 0.5

    def epoch() -> None:
        order = rng.permutation(X.shape[0])
        for s in range(0, X.shape[0] - batch + 1, batch):
            v0 = X[np.sort(order[s : s + batch])]
            np.matmul(v0, W, out=ph0)
            np.matmul(h0, W.T, out=v1)
            np.matmul(v1, W, out=ph1)
            bare_update(v0, ph0, v1, ph1, W, vel, a, c, lr, mom)

    return second_epoch_rate(epoch, X.shape[0] // batch * batch)


def kernels(V: int, H: int, batch: int) -> list[tuple[str, float]]:
    """Single-core ms of each non-GEMM piece of one step, timed alone."""
    from boltz import _cblas, _kernels

    rng = np.random.default_rng(0)
    ph = rng.random((batch, H), dtype=np.float32)
    pv = rng.random((batch, V), dtype=np.float32)
    oh, ov = np.empty_like(ph), np.empty_like(pv)
    # biases of 1: repeated (x + b) / 2 then stays near 1 (zeros would decay into subnormals)
    c, a = np.ones(H, np.float32), np.ones(V, np.float32)
    W, vel = np.zeros((V, H), np.float32), np.zeros((V, H), np.float32)
    X = (rng.random((batch * 40, V)) < 0.3).astype(np.float32)
    idx = np.sort(rng.permutation(X.shape[0])[:batch])
    out = []
    both = lambda f: f(ph, oh) + f(pv, ov)  # noqa: E731 - h0 and v1 are sampled
    out.append(
        (
            "uniforms + compare, NumPy (h0 and v1)",
            both(lambda p, o: _ms(lambda: np.less(rng.random(out=o, dtype=np.float32), p, out=o))),
        )
    )
    if _kernels.available():
        out.append(
            (
                "Bernoulli draws, boltz._kernels (h0 and v1)",
                both(lambda p, o: _ms(lambda: _kernels.bernoulli(rng, p, o))),
            )
        )
        out.append(
            (
                "sigmoid passes around tanh, boltz._kernels (3x)",
                2 * _ms(lambda: _kernels.affine_half(oh, c))
                + _ms(lambda: _kernels.affine_half(ov, a))
                + 2 * _ms(lambda: _kernels.half_shift(oh))
                + _ms(lambda: _kernels.half_shift(ov)),
            )
        )
    out.append(
        (
            "sigmoid passes around tanh, NumPy (3x: add, 3 mul/add)",
            2
            * _ms(
                lambda: (
                    np.add(oh, c, out=oh),
                    np.multiply(oh, 0.5, out=oh),
                    np.multiply(oh, 0.5, out=oh),
                    np.add(oh, 0.5, out=oh),
                )
            )
            + _ms(
                lambda: (
                    np.add(ov, a, out=ov),
                    np.multiply(ov, 0.5, out=ov),
                    np.multiply(ov, 0.5, out=ov),
                    np.add(ov, 0.5, out=ov),
                )
            ),
        )
    )
    out.append(
        ("tanh (3x)", 2 * _ms(lambda: np.tanh(ph, out=oh)) + _ms(lambda: np.tanh(pv, out=ov)))
    )
    out.append(
        (
            "bias sums (4 column sums)",
            2 * _ms(lambda: ph.sum(axis=0)) + 2 * _ms(lambda: pv.sum(axis=0)),
        )
    )
    if _cblas.available:
        out.append(("W += velocity (BLAS axpy, both cores)", _ms(lambda: _cblas.axpy(1.0, vel, W))))
    out.append(("batch gather X[sorted idx]", _ms(lambda: X[idx])))
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--shape", default="1024x1024")
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--rounds", type=int, default=3)
    a = p.parse_args(argv)
    V, H = (int(s) for s in a.shape.split("x"))
    for r in range(a.rounds):
        lim = a.batch / gemm_limit(V, H, a.batch) * 1e3
        g, s = in_fit(V, H, a.batch)
        ns = a.batch / no_sampling_rate(V, H, a.batch) * 1e3
        print(
            f"round {r}: limit {lim:.2f} ms | in fit: GEMMs {g:.2f} ms, step {s:.2f} ms, "
            f"rest {s - g:.2f} ms | step/limit {lim / s:.1%} | minimal loop without "
            f"sampling {ns:.2f} ms = {lim / ns:.1%} of the limit",
            flush=True,
        )
    for name, ms in kernels(V, H, a.batch):
        print(f"  {ms:6.3f} ms  {name}")


if __name__ == "__main__":
    main()
