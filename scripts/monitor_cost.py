"""Share of an epoch that the default per-epoch monitoring costs (docs/benchmarks.md).

Run: ``.venv/bin/python scripts/monitor_cost.py [--rounds 5]``.

Bernoulli RBM, batch 256, binary data; per round, one training epoch
(``Trainer.run_epoch``) and one monitoring pass (``Trainer.evaluate``) of the same
fitted model, for the default (``monitor="auto"``) and ``monitor="full"``; medians of
the per-round ratios.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import boltz


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--rounds", type=int, default=5)
    a = p.parse_args()
    for V, H, n in ((1024, 1024, 10240), (1024, 1024, 16384), (784, 500, 10240)):
        X = (np.random.default_rng(1).random((n, V)) < 0.3).astype(np.float32)
        ratios = {"auto": [], "full": []}
        for _ in range(a.rounds):
            for mode in ("auto", "full"):
                r = boltz.RBM(
                    H, batch_size=256, epochs=1, monitor=mode, progress=False, random_state=0
                ).fit(X)
                tr = r._trainer()
                t = time.perf_counter()
                tr.run_epoch(X, 1)
                t_epoch = time.perf_counter() - t
                t = time.perf_counter()
                tr.evaluate(X, None, 1)
                ratios[mode].append((time.perf_counter() - t) / t_epoch)
        print(
            f"{V} x {H}, {n} rows: monitoring / epoch = "
            f"{statistics.median(ratios['auto']):.1%} (default; rounds "
            f"{min(ratios['auto']):.1%}-{max(ratios['auto']):.1%}), "
            f"{statistics.median(ratios['full']):.1%} (monitor='full')",
            flush=True,
        )


if __name__ == "__main__":
    main()
