"""The benchmark harness: every ratio against a reference measured in the same process.

Run: ``.venv/bin/python -m bench [--quick] [--out FILE.json]``

Sections
--------
cd1      CD-1 samples/s vs the GEMM-bound limit, a minimal NumPy CD-1 ("bare") and
         scikit-learn, shapes x batches x dtypes; boltz both steady-state (second
         epoch) and one-epoch fit with setup (monitoring off), and at batch 256 the
         defaults row: ``RBM(n_hidden=H, batch_size=256).fit(X)`` with default monitoring
units    Bernoulli / Gaussian / replicated softmax (dense and CSR) at one shape (steady state)
cdk      CD-k cost against k (should be linear) and PCD-1 against CD-1 per step (steady state)
sparse   replicated softmax on CSR: time vs vocabulary size at fixed nnz (positive phase)
ais      AIS, 100 runs x 10k betas on 1024 x 1024 (target: under a minute)
memory   peak traced memory of a 1024 x 1024 fit vs parameters + optimiser + one batch
"""

from __future__ import annotations

import argparse
import json
import time
import tracemalloc
from pathlib import Path

import numpy as np
import scipy.sparse as sp

import boltz

from .cd_step import (
    bare_rate,
    boltz_default_rate,
    boltz_epoch_rate,
    boltz_rate,
    gemm_limit,
    sklearn_rate,
)


def _rate(X, H, batch, **kw) -> float:
    """One-epoch fit with its setup."""
    return boltz_rate(X, H, batch, **{"learning_rate": 0.001, **kw})


def _epoch_rate(X, H, batch, **kw) -> float:
    """Steady state: the second epoch of a two-epoch fit."""
    return boltz_epoch_rate(X, H, batch, **{"learning_rate": 0.001, **kw})


def _binary(n, V, seed=1):
    return (np.random.default_rng(seed).random((n, V)) < 0.3).astype(np.float32)


PREVIOUS = Path(__file__).resolve().parents[1] / "docs" / "figures" / "bench.json"


def _previous() -> dict:
    """The recorded figures of the last release (docs/figures/bench.json), keyed by config."""
    if not PREVIOUS.exists():
        return {}
    rows = json.loads(PREVIOUS.read_text()).get("cd1", [])
    return {(r["V"], r["H"], r["batch"], r["dtype"]): r["boltz/limit"] for r in rows}


def cd1(quick: bool) -> list[dict]:
    rows = []
    prev = _previous()
    shapes = [(784, 500), (1024, 1024), (3000, 1024), (2048, 2048)]
    batches = [256] if quick else [64, 256, 1024]
    for V, H in shapes:
        for batch in batches:
            for dtype in ["float32"] if quick else ["float32", "float64"]:
                n = batch * (6 if quick else 16)
                X = _binary(n, V)
                Xd = X.astype(dtype)
                lim = gemm_limit(V, H, batch, dtype=np.dtype(dtype).type)
                bare = bare_rate(Xd, H, batch)
                e = boltz_epoch_rate(Xd, H, batch, learning_rate=0.001, dtype=dtype)
                b = _rate(Xd, H, batch, dtype=dtype)
                row = {
                    "V": V,
                    "H": H,
                    "batch": batch,
                    "dtype": dtype,
                    "limit": lim,
                    "bare": bare,
                    "bare/limit": bare / lim,
                    "epoch": e,
                    "epoch/limit": e / lim,
                    "boltz": b,
                    "boltz/limit": b / lim,
                }
                if dtype == "float32" and batch == 256:
                    s = sklearn_rate(X[: batch * 4], H, batch)
                    dflt = boltz_default_rate(X, H, batch)
                    row.update(
                        {
                            "sklearn": s,
                            "boltz/sklearn": b / s,
                            "defaults": dflt,
                            "defaults/limit": dflt / lim,
                            "defaults/sklearn": dflt / s,
                        }
                    )
                rows.append(row)
                old = prev.get((V, H, batch, dtype))
                print(
                    f"cd1 {V}x{H} b={batch} {dtype}: epoch {e:8.0f}/s {e / lim:6.1%} of limit"
                    f" (bare NumPy {bare / lim:6.1%}); fit {b:8.0f}/s {b / lim:6.1%}"
                    + (f"  {row['boltz/sklearn']:.2f}x sklearn" if "sklearn" in row else "")
                    + (
                        f"; defaults {row['defaults/limit']:6.1%} of limit,"
                        f" {row['defaults/sklearn']:.2f}x sklearn"
                        if "defaults" in row
                        else ""
                    )
                    + (f"  {(b / lim) / old:.2f}x the recorded release" if old else ""),
                    flush=True,
                )
    return rows


def units(quick: bool) -> list[dict]:
    V, H, batch = 1024, 1024, 256
    n = batch * (6 if quick else 16)
    rng = np.random.default_rng(0)
    counts = rng.poisson(0.1, (n, V)).astype(np.float32)
    cases = {
        "bernoulli": (_binary(n, V), {}),
        "gaussian": (rng.standard_normal((n, V)).astype(np.float32), {"visible": "gaussian"}),
        "softmax-dense": (counts, {"visible": "softmax"}),
        "softmax-csr": (sp.csr_matrix(counts), {"visible": "softmax"}),
    }
    lim = gemm_limit(V, H, batch)
    rows = []
    for name, (X, kw) in cases.items():
        r = _epoch_rate(X, H, batch, **kw)
        rows.append({"unit": name, "samples_per_s": r, "ratio_to_limit": r / lim})
        print(f"units {name:14s}: {r:8.0f}/s  {r / lim:6.1%} of the CD-1 limit", flush=True)
    return rows


def cdk(quick: bool) -> list[dict]:
    V, H, batch = 1024, 1024, 256
    X = _binary(batch * (4 if quick else 12), V)
    base = _epoch_rate(X, H, batch)
    rows = []
    for k in (1, 2, 4) if quick else (1, 2, 4, 8):
        r = _epoch_rate(X, H, batch, k=k)
        # a CD-k step costs (6 + 4k) V H flops per sample: 2 GEMMs per extra Gibbs step
        expected = base * 10 / (6 + 4 * k)
        rows.append({"k": k, "samples_per_s": r, "vs_linear_model": r / expected})
        print(
            f"cdk k={k}: {r:8.0f}/s  ({r / expected:.2f} of the linear-cost prediction)", flush=True
        )
    p = _epoch_rate(X, H, batch, persistent=True)
    rows.append({"pcd1_vs_cd1": p / base})
    print(f"pcd-1 / cd-1 per step: {p / base:.2f}", flush=True)
    return rows


def sparse(quick: bool) -> list[dict]:
    H, batch, nnz_per_row = 256, 256, 100
    n = batch * (4 if quick else 8)
    rows = []
    for V in (2000, 8000, 32000) if quick else (2000, 8000, 32000, 128000):
        rng = np.random.default_rng(0)
        cols = rng.integers(0, V, (n, nnz_per_row))
        X = sp.csr_matrix(
            (
                np.ones(n * nnz_per_row, np.float32),
                (np.repeat(np.arange(n), nnz_per_row), cols.ravel()),
            ),
            shape=(n, V),
        )
        rbm = boltz.RBM(
            n_hidden=H,
            visible="softmax",
            batch_size=batch,
            epochs=1,
            monitor_size=0,
            progress=False,
            random_state=0,
        ).fit(X[:batch])
        m = rbm.model_
        xb = m.backend.asarray(X[:batch])
        t = time.perf_counter()
        for _ in range(20):
            m.hidden_mean(xb, m.length(xb))
        pos = (time.perf_counter() - t) / 20
        rows.append({"V": V, "positive_phase_ms": pos * 1e3})
        print(
            f"sparse V={V:6d} nnz/row={nnz_per_row}: positive phase {pos * 1e3:6.2f} ms/batch",
            flush=True,
        )
    return rows


def ais(quick: bool) -> dict:
    V = H = 1024
    X = _binary(2048, V)
    rbm = boltz.RBM(n_hidden=H, epochs=1, progress=False, random_state=0).fit(X)
    n_betas = 1000 if quick else 10000
    t = time.perf_counter()
    res = rbm.log_partition("ais", n_runs=100, n_betas=n_betas, return_bounds=True)
    dt = time.perf_counter() - t
    print(
        f"ais 100 runs x {n_betas} betas on {V}x{H}: {dt:.1f} s (log Z {res.log_z:.2f})", flush=True
    )
    return {"n_betas": n_betas, "seconds": dt}


def memory(quick: bool) -> dict:
    V = H = 1024
    batch = 256
    X = _binary(batch * 8, V)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    boltz.RBM(
        n_hidden=H, batch_size=batch, epochs=1, monitor_size=0, progress=False, random_state=0
    ).fit(X)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    params = 4 * (V * H + V + H)
    budget = 2 * params + 3 * params + 4 * batch * (V + H) * 6  # params+velocity+scratch+batch
    print(
        f"memory: peak {peak / 2**20:.1f} MiB; parameters {params / 2**20:.1f} MiB; "
        f"peak / parameters = {peak / params:.1f}",
        flush=True,
    )
    return {"peak_bytes": peak, "parameter_bytes": params, "budget_bytes": budget}


SECTIONS = {"cd1": cd1, "units": units, "cdk": cdk, "sparse": sparse, "ais": ais, "memory": memory}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--quick", action="store_true", help="fewer shapes and samples")
    p.add_argument("--only", nargs="*", choices=sorted(SECTIONS), help="run these sections")
    p.add_argument(
        "--out", help="write the figures as JSON here (with --only: update those sections)"
    )
    a = p.parse_args(argv)
    out = {}
    if a.out and a.only and Path(a.out).exists():
        out = json.loads(Path(a.out).read_text())
    for name, fn in SECTIONS.items():
        if a.only and name not in a.only:
            continue
        out[name] = fn(a.quick)
    if a.out:
        with open(a.out, "w") as f:
            json.dump(out, f, indent=2)


if __name__ == "__main__":
    main()
