"""The README's main job: complete the missing half of a digit with a multimodal DBN.

scikit-learn's 8x8 digits (embedded, no download) are cut into a left and a right
half: two "modalities" of 32 pixels each.  A multimodal DBN (both halves entering a
joint RBM as they are, see :func:`build`) is trained on the training digits; for
each test digit only the left half is given and the right half is generated through the joint layer
(``MultimodalDBN.generate``: mean-field inference, what the joint layer's
multi-prediction training optimises; ``--method gibbs`` averages Gibbs chains).
The completion error is printed beside baselines measured the same way: the mean
right half of the training set, the right half of the training digit whose left
half is nearest, the mean right half of the k nearest (k chosen by 5-fold
cross-validation on the training digits) and a ridge regression from left to right
(alpha chosen the same way).

Writes to --out: completions.png (real | given | completed), metrics.json,
history.png (training curves of the joint layer).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neighbors import KNeighborsRegressor, NearestNeighbors

import boltz
from boltz.datasets.digits import halves, join
from boltz.multimodal import MultimodalDBN
from boltz.passthrough import Passthrough

from ._common import base_parser, finish, run_cli, save_figure, setup, start_figure

log = logging.getLogger("recipes.demo")


def build(seed: int, smoke: bool, progress: Any) -> MultimodalDBN:
    """The demo's multimodal DBN: both halves enter a 512-unit joint layer as they are.

    The halves are grey values in [0, 1], so they are the joint RBM's own Bernoulli
    visibles (:class:`boltz.Passthrough` pathways); the joint layer is pretrained by
    PCD and then trained by multi-prediction to infer the right half from the left
    (``finetune_views=["right"]``, 300 epochs at 0.0005).  These settings were chosen
    on a validation split of the training digits (``docs/multimodal.md``).
    """
    joint = boltz.RBM(
        n_hidden=512,
        learning_rate=0.05,
        persistent=True,
        batch_size=20,
        epochs=3 if smoke else 50,
        progress=progress,
        random_state=seed + 2,
    )
    return MultimodalDBN(
        pathways={"left": Passthrough(), "right": Passthrough()},
        joint=joint,
        finetune_epochs=3 if smoke else 300,
        finetune_learning_rate=0.0005,
        finetune_views=["right"],
        random_state=seed,
    )


def plot_completions(
    real: np.ndarray, left: np.ndarray, completed: np.ndarray, path: Any, n: int = 12
) -> None:
    plt = start_figure()
    fig, axes = plt.subplots(3, n, figsize=(n * 0.75, 2.6))
    given = join(left, np.full_like(left, np.nan))
    rows = [("real", real), ("given", given), ("completed", join(left, completed))]
    for r, (name, imgs) in enumerate(rows):
        for c in range(n):
            ax = axes[r, c]
            ax.imshow(imgs[c].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                ax.set_ylabel(name, fontsize=8)
            if r == 2:
                ax.axvline(3.5, color="tab:red", lw=0.8)
    fig.suptitle(
        "Right halves generated from left halves by a multimodal DBN (test digits)", fontsize=9
    )
    save_figure(fig, path, dpi=120, tight=True)


def plot_history(mdbn: MultimodalDBN, path: Any) -> None:
    """Joint layer: PCD reconstruction error, then the multi-prediction losses."""
    plt = start_figure()
    fig, (a, b) = plt.subplots(1, 2, figsize=(8, 3))
    for name, dbn in mdbn.pathways_.items():
        for i, r in enumerate(dbn.layers_):
            a.plot([h["recon_error"] for h in r.history_], label=f"{name} layer {i}")
    a.plot([h["recon_error"] for h in mdbn.joint_.history_], label="joint", color="k")
    a.set_xlabel("PCD epoch")
    a.set_ylabel("reconstruction error")
    a.legend(fontsize=7)
    h = mdbn.finetune_history_
    if h:
        b.plot([r["loss"] for r in h], label="training rows")
        if "loss_val" in h[0]:
            b.plot([r["loss_val"] for r in h], label="held-out rows")
        b.legend(fontsize=7)
    b.set_xlabel("multi-prediction epoch")
    b.set_ylabel("cross-entropy of the right half")
    save_figure(fig, path, dpi=120)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = base_parser("demo", __doc__, "runs/demo")
    p.add_argument(
        "--steps", type=int, default=None, help="alternations (default: inference_steps)"
    )
    p.add_argument("--method", choices=("meanfield", "gibbs"), default="meanfield")
    p.add_argument("--samples", type=int, default=20, help="Gibbs chains averaged per digit")
    args = p.parse_args(argv)
    out = setup(args)
    d = load_digits()
    X = (d.data / 16.0).astype(np.float32)
    Xtr, Xte = train_test_split(X, test_size=0.25, stratify=d.target, random_state=args.seed)
    if args.smoke:
        Xtr, Xte = Xtr[:300], Xte[:60]
    Ltr, Rtr = halves(Xtr)
    Lte, Rte = halves(Xte)

    mdbn = build(args.seed, args.smoke, args.progress_flag).fit({"left": Ltr, "right": Rtr})
    completed = mdbn.generate(
        "right",
        given={"left": Lte},
        steps=args.steps,
        method=args.method,
        n_samples=args.samples,
        random_state=args.seed,
    )
    mean_half = np.broadcast_to(Rtr.mean(0), Rte.shape)
    nn = NearestNeighbors(n_neighbors=1).fit(Ltr)
    nearest = Rtr[nn.kneighbors(Lte, return_distance=False)[:, 0]]
    mse_cv = "neg_mean_squared_error"
    knn = GridSearchCV(KNeighborsRegressor(), {"n_neighbors": [1, 3, 5, 10, 20]}, scoring=mse_cv)
    knn.fit(Ltr, Rtr)
    ridge = GridSearchCV(Ridge(), {"alpha": [0.01, 0.1, 1.0, 10.0, 100.0]}, scoring=mse_cv)
    ridge.fit(Ltr, Rtr)

    def mse(a: np.ndarray) -> float:
        return float(np.mean((a - Rte) ** 2))

    metrics = {
        "mdbn_completion_mse": mse(completed),
        "mean_half_baseline_mse": mse(mean_half),
        "nearest_neighbour_baseline_mse": mse(nearest),
        "knn_baseline_mse": mse(knn.predict(Lte)),
        "knn_k": int(knn.best_params_["n_neighbors"]),
        "ridge_baseline_mse": mse(np.clip(ridge.predict(Lte), 0.0, 1.0)),
        "ridge_alpha": float(ridge.best_params_["alpha"]),
        "n_train": int(len(Xtr)),
        "n_test": int(len(Xte)),
    }
    plot_completions(Xte, Lte, completed, out / "completions.png")
    plot_history(mdbn, out / "history.png")
    print(f"right-half completion, mean squared error per pixel on {len(Xte)} test digits:")
    print(f"  multimodal DBN     {metrics['mdbn_completion_mse']:.4f}")
    print(f"  nearest neighbour  {metrics['nearest_neighbour_baseline_mse']:.4f}")
    print(f"  k nearest (k={metrics['knn_k']:<2d})  {metrics['knn_baseline_mse']:.4f}")
    print(f"  ridge regression   {metrics['ridge_baseline_mse']:.4f}")
    print(f"  mean half          {metrics['mean_half_baseline_mse']:.4f}")
    print(f"figures: {out / 'completions.png'}, {out / 'history.png'}")
    finish(args, out, metrics)
    return metrics


if __name__ == "__main__":
    run_cli(main, "recipes.demo")
