"""Diagnostics of the README demo's multimodal DBN under three recipes.

Prints the tables of docs/multimodal.md: ``.venv/bin/python scripts/demo_diagnostics.py``.
"""

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from boltz.datasets import halves
from boltz.diagnostics import dependence_on_given, mdbn_report
from recipes.demo import build

d = load_digits()
X = (d.data / 16.0).astype(np.float32)
Xtr, Xte, ytr, yte = train_test_split(
    X, d.target, test_size=0.25, stratify=d.target, random_state=0
)
Ltr, Rtr = halves(Xtr)
Lte, Rte = halves(Xte)


def sampled(m):
    for dbn in m.pathways.values():
        for r in dbn.layers:
            r.set_params(sample_visible=True)
    m.joint.set_params(sample_visible=True)
    return m


for name, m in (
    (
        "sampled visibles, likelihood",
        sampled(build(0, False, False).set_params(joint_training="likelihood")),
    ),
    ("mean visibles, likelihood", build(0, False, False).set_params(joint_training="likelihood")),
    ("mean visibles, multi-prediction (default)", build(0, False, False)),
):
    m.fit({"left": Ltr, "right": Rtr})
    rows = mdbn_report(m, {"left": Lte, "right": Rte}, yte)
    dep = dependence_on_given(m, "right", {"left": Lte})
    mse = float(np.mean((m.generate("right", given={"left": Lte}) - Rte) ** 2))
    print(
        f"## {name}: completion MSE {mse:.4f}, "
        f"shuffle_change {dep['shuffle_change']:.2f}, spread {dep['spread']:.3f}"
    )
    for r in rows:
        print(
            f"| {r.name} | {r.weakly_driven:.2f} | {r.saturated:.2f} "
            f"| {r.mean_activation:.2f} | {r.probe_accuracy:.3f} |"
        )
