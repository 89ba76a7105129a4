"""log Z_D of a replicated softmax by three AIS estimators (docs/rbm.md, "Likelihood").

Run: ``.venv/bin/python scripts/rsm_ais_check.py``.

The recipe's RSM (50 hidden, 2000 words, lr 0.0003, weight decay 1e-4, 50 epochs) on
Wikipedia; at six document lengths: the recipe's former estimator (a schedule per
length, 8 runs x 3,000 betas), long per-length schedules (100 runs x 10,000 betas),
and the default of ``log_partition`` (one schedule of 100 runs x 1,000 betas at the
shortest length, then the length ladder).
"""

from __future__ import annotations

import time

import numpy as np

from boltz.datasets import load_wikipedia_bow
from recipes.rbm_wikipedia import recipe_rsm

d = load_wikipedia_bow("../shared/data", n_words=2000)
rsm = recipe_rsm().fit(d.counts_train)  # the recipe's model
D = np.array([40, 80, 120, 200, 300, 482])
rows = {}
for name, kw in (
    ("per-length 8 x 3000", dict(n_runs=8, n_betas=3000, length_ratio=1.0)),
    ("ladder 100 x 1000 (default)", dict(n_runs=100, n_betas=1000)),
    ("per-length 100 x 10000", dict(n_runs=100, n_betas=10000, length_ratio=1.0)),
):
    t = time.perf_counter()
    res = rsm.log_partition("ais", n_words=D, return_bounds=True, random_state=1, **kw)
    rows[name] = res.log_z
    print(f"{name:28s} {np.round(res.log_z, 2)}  ({time.perf_counter() - t:.0f} s)", flush=True)
ref = rows["per-length 100 x 10000"]
for name, lz in rows.items():
    print(f"{name:28s} minus long per-length: {np.round(lz - ref, 2)}")
