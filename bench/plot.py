"""Figures from a ``python -m bench --out FILE.json`` run.

Run: ``.venv/bin/python -m bench.plot docs/figures/bench.json docs/figures``
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    data = json.loads(Path(argv[0]).read_text())
    out = Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
    rows = [r for r in data["cd1"] if r["dtype"] == "float32"]
    shapes = sorted({(r["V"], r["H"]) for r in rows})
    for V, H in shapes:
        rs = sorted((r for r in rows if (r["V"], r["H"]) == (V, H)), key=lambda r: r["batch"])
        key = "epoch/limit" if "epoch/limit" in rs[0] else "boltz/limit"
        (line,) = axes[0].plot(
            [r["batch"] for r in rs],
            [100 * r[key] for r in rs],
            marker="o",
            label=f"{V}x{H} boltz",
        )
        if "bare/limit" in rs[0]:
            axes[0].plot(
                [r["batch"] for r in rs],
                [100 * r["bare/limit"] for r in rs],
                ls=":",
                marker=".",
                color=line.get_color(),
                label=f"{V}x{H} bare NumPy",
            )
    axes[0].axhline(90, color="gray", ls="--", lw=0.8)
    axes[0].set_xscale("log", base=2)
    axes[0].set_xlabel("batch size")
    axes[0].set_ylabel("% of GEMM-bound limit")
    axes[0].set_title("CD-1, float32 (dotted: minimal NumPy CD-1)", fontsize=9)
    axes[0].legend(fontsize=6, ncol=2)
    sp = data["sparse"]
    axes[1].plot(
        [r["V"] for r in sp],
        [r["positive_phase_ms"] for r in sp],
        marker="o",
        label="CSR (100 words/doc)",
    )
    v0, t0 = sp[0]["V"], sp[0]["positive_phase_ms"]
    axes[1].plot(
        [r["V"] for r in sp],
        [t0 * r["V"] / v0 for r in sp],
        ls="--",
        color="gray",
        label="proportional to V (dense)",
    )
    axes[1].set_xscale("log")
    axes[1].set_yscale("log")
    axes[1].set_xlabel("vocabulary size V")
    axes[1].set_ylabel("ms per batch of 256")
    axes[1].set_title("replicated softmax positive phase at fixed nnz", fontsize=9)
    axes[1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "bench.png", dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
