"""Bernoulli RBM on scikit-learn's digits: features for a classifier, likelihood, samples.

Measured side by side, on the same split and the same logistic regression:
raw pixels, scikit-learn's BernoulliRBM features and boltz RBM features
(scikit-learn's "RBM features for digit classification" example, with its
1-pixel nudging augmentation).  A second boltz RBM is trained on binarised
digits for a proper log-likelihood: AIS estimate with its +-3 sigma interval.

Outputs in --out: metrics.json, history.png (training curves), samples.png
(Gibbs samples), filters.png.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from scipy.ndimage import shift
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import BernoulliRBM
from sklearn.pipeline import Pipeline

import boltz

from ._common import base_parser, finish, run_cli, save_figure, setup, start_figure

log = logging.getLogger("recipes.rbm_digits")


def nudge(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The 8x8 images and copies shifted by one pixel in each direction (5x data)."""
    imgs = X.reshape(-1, 8, 8)
    out = [X]
    for dy, dx in ((0, 1), (0, -1), (1, 0), (-1, 0)):
        out.append(
            np.stack([shift(im, (dy, dx), mode="constant", order=0) for im in imgs]).reshape(-1, 64)
        )
    return np.concatenate(out), np.tile(y, 5)


def plot_history(history: list[dict[str, float]], path: Any, title: str) -> None:
    plt = start_figure()
    keys = [
        k
        for k in (
            "recon_error",
            "pseudo_likelihood",
            "pseudo_likelihood_sampled",
            "free_energy",
            "ais_log_likelihood",
        )
        if k in history[0]
    ]
    fig, axes = plt.subplots(1, len(keys), figsize=(3.2 * len(keys), 2.8))
    ep = [r["epoch"] + 1 for r in history]
    for ax, k in zip(np.atleast_1d(axes), keys):
        ax.plot(ep, [r[k] for r in history], marker=".", label="train")
        if f"{k}_val" in history[0]:
            ax.plot(ep, [r[f"{k}_val"] for r in history], marker=".", label="validation")
            ax.legend(fontsize=7)
        ax.set_title(k, fontsize=9)
        ax.set_xlabel("epoch")
    fig.suptitle(title, fontsize=10)
    save_figure(fig, path)


def plot_grid(images: np.ndarray, path: Any, title: str, ncol: int = 10) -> None:
    plt = start_figure()
    n = len(images)
    nrow = int(np.ceil(n / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(ncol * 0.7, nrow * 0.7 + 0.4))
    for ax in np.ravel(axes):
        ax.axis("off")
    for ax, im in zip(np.ravel(axes), images):
        ax.imshow(im.reshape(8, 8), cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
    fig.suptitle(title, fontsize=9)
    save_figure(fig, path, tight=True)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = base_parser("rbm_digits", __doc__, "runs/rbm_digits")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--hidden", type=int, default=100)
    args = p.parse_args(argv)
    out = setup(args)
    epochs = 2 if args.smoke else args.epochs
    n_hidden = 16 if args.smoke else args.hidden

    digits = load_digits()
    X = (digits.data / 16.0).astype(np.float32)
    Xtr, Xte, ytr, yte = train_test_split(
        X, digits.target, test_size=0.2, random_state=args.seed, stratify=digits.target
    )
    Xn, yn = nudge(Xtr, ytr)
    if args.smoke:
        Xn, yn = Xn[:400], yn[:400]

    def lr_clf() -> LogisticRegression:
        return LogisticRegression(C=100.0, max_iter=2000 if not args.smoke else 200)

    metrics: dict[str, Any] = {}
    raw = lr_clf().fit(Xn, yn)
    metrics["raw_pixels_accuracy"] = float(raw.score(Xte, yte))

    sk = Pipeline(
        [
            (
                "rbm",
                BernoulliRBM(
                    n_components=n_hidden,
                    learning_rate=0.06,
                    batch_size=10,
                    n_iter=epochs,
                    random_state=args.seed,
                ),
            ),
            ("clf", lr_clf()),
        ]
    ).fit(Xn, yn)
    metrics["sklearn_rbm_accuracy"] = float(sk.score(Xte, yte))

    # the settings both boltz RBMs share (batch size 10 as for scikit-learn's)
    shared = dict(
        n_hidden=n_hidden,
        batch_size=10,
        epochs=epochs,
        progress=args.progress_flag,
        random_state=args.seed,
    )
    rbm = boltz.RBM(learning_rate=0.03, momentum=0.5, final_momentum=0.5, **shared)
    bz = Pipeline([("rbm", rbm), ("clf", lr_clf())]).fit(Xn, yn, rbm__X_val=Xte)
    metrics["boltz_rbm_accuracy"] = float(bz.score(Xte, yte))
    plot_history(
        bz.named_steps["rbm"].history_,
        out / "history.png",
        f"boltz RBM 64x{n_hidden} on digits (probabilities)",
    )

    # a proper likelihood needs binary data
    Btr, Bte = (Xn > 0.5).astype(np.float32), (Xte > 0.5).astype(np.float32)
    brbm = boltz.RBM(
        learning_rate=0.005,
        momentum_epochs=2,
        weight_decay=1e-4,
        persistent=True,
        n_chains=100,
        **shared,
    ).fit(Btr, X_val=Bte)
    res = brbm.log_partition(
        "ais",
        n_runs=100 if not args.smoke else 16,
        n_betas=10000 if not args.smoke else 500,
        return_bounds=True,
        random_state=args.seed,
    )
    fe_te = brbm.free_energy(Bte)
    metrics["binary_test_log_likelihood_ais"] = float(np.mean(-fe_te) - res.log_z)
    metrics["binary_test_log_likelihood_interval"] = [
        float(np.mean(-fe_te) - res.log_z_high),
        float(np.mean(-fe_te) - res.log_z_low),
    ]
    metrics["binary_log_z_ais"] = float(res.log_z)
    base = np.clip(Btr.mean(0), 1e-3, 1 - 1e-3)
    metrics["binary_test_log_likelihood_independent_pixels"] = float(
        np.mean(Bte @ np.log(base) + (1 - Bte) @ np.log(1 - base))
    )
    plot_history(
        brbm.history_,
        out / "history_binary.png",
        f"boltz PCD RBM 64x{n_hidden} on binarised digits",
    )
    start = np.random.default_rng(args.seed).random((20, 64)).astype(np.float32)
    samples = brbm.gibbs((start > 0.5).astype(np.float32), steps=1000 if not args.smoke else 10)
    plot_grid(samples, out / "samples.png", "Gibbs samples after 1000 steps from noise")
    w = bz.named_steps["rbm"].weights_.T[:40]
    w = (w - w.min(1, keepdims=True)) / (np.ptp(w, axis=1, keepdims=True) + 1e-9)
    plot_grid(w, out / "filters.png", "first 40 filters (weights of hidden units)")

    finish(args, out, metrics, log)
    return metrics


if __name__ == "__main__":
    run_cli(main, "recipes.rbm_digits")
