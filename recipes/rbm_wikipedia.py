"""RBMs on the Wikipedia cross-modal dataset: replicated softmax on the articles' words,
Gaussian RBM on the SIFT image features.

Replicated softmax (50 hidden units, 2000-word vocabulary): test-set perplexity
``exp(-sum log p(doc) / sum D)`` with log Z estimated by AIS for every distinct
test document length (one temperature schedule at the shortest length, then the
length ladder of ``boltz.likelihood.ais_log_partition``), beside the unigram model
(add-one smoothed training word frequencies) on the same test words.  Both are
likelihoods of the ordered word sequence (no multinomial coefficient), so they are
comparable.

Gaussian RBM (SIFT-128): hidden features + logistic regression against the raw
standardised features for the 10 classes (regularisation chosen by 5-fold CV on
the training set for both).

Writes metrics.json and history.png to --out.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegressionCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import boltz
from boltz.datasets import load_wikipedia_bow

from ._common import base_parser, finish, run_cli, save_figure, setup, start_figure

log = logging.getLogger("recipes.rbm_wikipedia")


def unigram_perplexity(train: Any, test: Any, alpha: float = 1.0) -> float:
    """Perplexity of the add-``alpha`` unigram model of ``train`` counts on ``test`` counts."""
    freq = np.asarray(train.sum(axis=0)).ravel() + alpha
    logp = np.log(freq / freq.sum())
    ll = np.asarray(test @ logp).ravel()
    return float(np.exp(-ll.sum() / test.sum()))


def classify(
    Ftr: np.ndarray, ytr: np.ndarray, Fte: np.ndarray, yte: np.ndarray, seed: int, smoke: bool
) -> float:
    clf = make_pipeline(
        StandardScaler(),
        LogisticRegressionCV(
            Cs=[1e-3, 1e-2, 1e-1, 1] if not smoke else [1e-2],
            cv=5 if not smoke else 2,
            max_iter=3000,
            random_state=seed,
        ),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # sklearn 1.9 attribute transition
        return float(clf.fit(Ftr, ytr).score(Fte, yte))


def recipe_rsm(
    n_hidden: int = 50, epochs: int = 50, progress: Any = False, random_state: Any = 0
) -> boltz.RBM:
    """The recipe's replicated softmax (unfitted): learning rate 0.0003, batch 64, weight
    decay 1e-4, the library's momentum schedule; ``learning_rate="auto"`` is the
    untuned alternative (docs/rbm.md, Defaults)."""
    return boltz.RBM(
        n_hidden=n_hidden,
        visible="softmax",
        learning_rate=0.0003,
        batch_size=64,
        epochs=epochs,
        weight_decay=1e-4,
        progress=progress,
        random_state=random_state,
    )


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = base_parser("rbm_wikipedia", __doc__, "runs/rbm_wikipedia")
    p.add_argument("--words", type=int, default=2000, help="vocabulary size (default 2000)")
    p.add_argument("--rsm-hidden", type=int, default=50)
    p.add_argument("--rsm-epochs", type=int, default=50)
    p.add_argument("--ais-runs", type=int, default=100, help="AIS runs (default 100)")
    p.add_argument("--ais-betas", type=int, default=1000, help="AIS temperatures (default 1000)")
    args = p.parse_args(argv)
    out = setup(args)
    data = load_wikipedia_bow(args.data, n_words=args.words)
    metrics: dict[str, Any] = {}

    Ctr, Cte = data.counts_train, data.counts_test
    if args.smoke:
        Ctr, Cte = Ctr[:200], Cte[:40]
    rsm = recipe_rsm(
        n_hidden=args.rsm_hidden if not args.smoke else 8,
        epochs=args.rsm_epochs if not args.smoke else 2,
        progress=args.progress_flag,
        random_state=args.seed,
    )
    rsm.fit(Ctr, X_val=Cte)
    D = np.asarray(Cte.sum(axis=1)).ravel()
    uniq = np.unique(D).astype(np.int64)
    res = rsm.log_partition(
        "ais",
        n_words=uniq,
        n_runs=args.ais_runs,
        n_betas=args.ais_betas if not args.smoke else 50,
        return_bounds=True,
        random_state=args.seed,
    )
    ppl = rsm.perplexity(Cte, log_z=res.log_z)
    # the +-3 sigma interval of every log Z_D moves the perplexity this much at most
    ppl_lo = rsm.perplexity(
        Cte, log_z=res.log_z_low if np.all(np.isfinite(res.log_z_low)) else res.log_z
    )
    ppl_hi = rsm.perplexity(Cte, log_z=res.log_z_high)
    metrics.update(
        {
            "rsm_test_perplexity_ais": ppl,
            "rsm_test_perplexity_interval": [ppl_lo, ppl_hi],
            "unigram_test_perplexity": unigram_perplexity(Ctr, Cte),
            "rsm_distinct_lengths": len(uniq),
            "vocabulary": args.words,
        }
    )
    hist = rsm.history_

    Itr, Ite = data.image_train, data.image_test
    ytr, yte = data.y_train, data.y_test
    if args.smoke:
        Itr, Ite, ytr, yte = Itr[:200], Ite[:40], ytr[:200], yte[:40]
    grbm = boltz.RBM(
        n_hidden=512 if not args.smoke else 16,
        visible="gaussian",
        learning_rate=0.001,
        batch_size=32,
        epochs=50 if not args.smoke else 2,
        weight_decay=1e-3,
        progress=args.progress_flag,
        random_state=args.seed,
    )
    grbm.fit(Itr, X_val=Ite)
    metrics["sift_raw_accuracy"] = classify(Itr, ytr, Ite, yte, args.seed, args.smoke)
    metrics["sift_gaussian_rbm_accuracy"] = classify(
        grbm.transform(Itr), ytr, grbm.transform(Ite), yte, args.seed, args.smoke
    )

    plt = start_figure()
    fig, axes = plt.subplots(1, 3, figsize=(10, 2.8))
    ep = [r["epoch"] + 1 for r in hist]
    axes[0].plot(ep, [r["free_energy"] for r in hist], label="train")
    axes[0].plot(ep, [r["free_energy_val"] for r in hist], label="test")
    axes[0].set_title("RSM mean free energy", fontsize=9)
    axes[0].legend(fontsize=7)
    axes[1].plot(ep, [r["recon_error"] for r in hist], label="train")
    axes[1].plot(ep, [r["recon_error_val"] for r in hist], label="test")
    axes[1].set_title("RSM reconstruction error", fontsize=9)
    gh = grbm.history_
    axes[2].plot([r["epoch"] + 1 for r in gh], [r["recon_error"] for r in gh], label="train")
    axes[2].plot([r["epoch"] + 1 for r in gh], [r["recon_error_val"] for r in gh], label="test")
    axes[2].set_title("Gaussian RBM (SIFT) reconstruction error", fontsize=9)
    for ax in axes:
        ax.set_xlabel("epoch")
    save_figure(fig, out / "history.png")
    finish(args, out, metrics, log)
    return metrics


if __name__ == "__main__":
    run_cli(main, "recipes.rbm_wikipedia")
