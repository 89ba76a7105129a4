"""Figure: AIS estimates of log Z against the exact value, as the number of betas grows.

Run: ``.venv/bin/python scripts/fig_ais.py`` -> docs/figures/ais_vs_exact.png
Two 64 x 16 RBMs on binarised digits (exact log Z by enumerating 2^16 hidden states):
one trained with CD-1, one with PCD; 100 AIS runs per point, +-3 sigma bars.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits

import boltz


def main() -> None:
    X = (load_digits().data / 16 > 0.5).astype(np.float32)
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    betas = [100, 300, 1000, 3000, 10000]
    fit = dict(batch_size=10, epochs=20, n_chains=100, progress=False, random_state=0)
    for persistent, lr, color in ((False, 0.05, "tab:red"), (True, 0.01, "tab:blue")):
        rbm = boltz.RBM(16, learning_rate=lr, persistent=persistent, dtype="float64", **fit).fit(X)
        exact = rbm.log_partition("exact")
        est, lo, hi = [], [], []
        for nb in betas:
            r = rbm.log_partition("ais", n_runs=100, n_betas=nb, return_bounds=True, random_state=1)
            est.append(r.log_z - exact)
            lo.append(r.log_z - r.log_z_low if np.isfinite(r.log_z_low) else 1.0)
            hi.append(r.log_z_high - r.log_z)
        name = "PCD" if persistent else "CD-1"
        ax.errorbar(
            betas,
            est,
            yerr=[lo, hi],
            marker="o",
            color=color,
            capsize=3,
            label=f"{name}-trained (exact log Z = {exact:.2f})",
        )
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("number of intermediate distributions (betas)")
    ax.set_ylabel("AIS log Z - exact log Z (nats)")
    ax.set_title("AIS vs exact enumeration, 64x16 RBMs on binarised digits", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    out = Path(__file__).resolve().parents[1] / "docs" / "figures" / "ais_vs_exact.png"
    fig.savefig(out, dpi=110)


if __name__ == "__main__":
    main()
