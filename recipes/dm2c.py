"""DM2C (Jiang et al., NeurIPS 2019): clustering mixed-modal Wikipedia articles.

Mixed-modal data (the paper's setting): every article is given as its image *or*
its text, never both, and nothing pairs an image with a text.  Built here from the
Wikipedia cross-modal dataset (Rasiwasia et al. 2010), standard split: the 2,173
training pairs are permuted (``--seed``) and the first half keeps only its image,
the second half only its text (1,087 images + 1,086 texts of *different*
articles); the 693 test pairs likewise (347 + 346).  Image: SIFT-128 bag of visual
words, z-scored; text: bag of words over the 2,000 most frequent training words
(log1p, L2-normalised rows, centred, one global scale; as docs/models_ae.md).

20 % of the training pairs (``--val-fraction``) are held out, mixed the same way, as
the validation set (218 + 217 samples); DM2C and the baselines are fitted on the rest
(869 + 869).

DM2C (``bridge.models.dm2c.DM2C``), both trainings (``--trainings``): ``"paper"``
(the equations, WGAN-GP, Adam) and ``"authors"`` (their code: BatchNorm, input-space
cycle term, encoder gradients, clipped WGAN critics, RMSprop; 100 + 100 epochs here,
``--authors-pretrain-epochs`` / ``--authors-epochs``).  Every trained model is scored
unified into the image space (texts via G_ti) and into the text space (images via
G_it; k-means, 10 clusters, 20 restarts, on the training codes; held-out samples go
to the nearest centre).  On the validation split only (mean of ACC and NMI over the
seeds) the recipe chooses the space per training, then the training.

Baselines on the same features and mixed sets (k-means, 10 clusters, 20 restarts):
  kmeans_concat    every sample as [image features, text features] with the missing
                   part at the training mean (0 after standardisation)
  kmeans_image, kmeans_text
                   k-means on one modality's samples alone (scored on that subset;
                   no cross-modal assignment at all)
  cca_paired, cca_paired_ridge
                   k-means in a 10-d CCA space fitted on the *paired* training
                   articles (relative ridge 1e-4 / 0.1): an oracle with pairing
                   information DM2C does not get

metrics.json (flat keys; S the split: train (the clustered mixed set), val or test
(assigned to the learned centres); X one of acc, nmi, ari, f_score, purity; T a
training; U image or text):
  dm2c_T_Uspace_S_X         DM2C training T unified in the U latent space
  dm2c_T_Uspace_S_{image,text}_X
                            the same scored on one modality's samples alone
  dm2c_T_S_X, dm2c_S_X      the space chosen for T / the training chosen (validation)
  selected_unify_T, selected_training, trainings
  kmeans_concat_S_X, kmeans_image_S_X, kmeans_text_S_X, cca_paired_S_X,
  cca_paired_ridge_S_X      the baselines
  every score also as ..._std (standard deviation over the seeds; 0 for one seed)
  seeds, dm2c_T_fit_seconds, dm2c_T_fit_cpu_seconds (mean per seed, wall / CPU),
  n_{train,val,test}_{image,text}, wall_seconds
Also results.md (the table beside the paper's) and clusters.png.
"""

from __future__ import annotations

import copy
import json
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np

from bridge.features import bow_features, zscore

from ._common import base_parser, finish, run_cli, save_figure, setup, start_figure

log = logging.getLogger("recipes.dm2c")

__all__ = ["PAPER_WIKIPEDIA", "main", "mixed_split"]

SCORES = ("acc", "nmi", "ari", "f_score", "purity")
#: Baseline name -> relative ridge of the paired CCA (bridge.baselines.CCA ``reg``).
CCA_RIDGES = {"cca_paired": 1e-4, "cca_paired_ridge": 0.1}
#: DM2C poster/paper, "Performance comparisons on Wikipedia" (their 2048-d features,
#: 1,910 training / 256 test samples).
PAPER_WIKIPEDIA = {
    "DM2C (paper)": {
        "acc": 0.2720,
        "ari": 0.0558,
        "nmi": 0.1543,
        "f_score": 0.1878,
        "purity": 0.3075,
    },
    "k-means (paper)": {
        "acc": 0.2291,
        "ari": 0.0166,
        "nmi": 0.1003,
        "f_score": 0.1857,
        "purity": 0.2301,
    },
    "IMSAT (paper)": {
        "acc": 0.2521,
        "ari": 0.0573,
        "nmi": 0.1093,
        "f_score": 0.1738,
        "purity": 0.2720,
    },
}


def mixed_split(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``n`` pairs that keep only their first / only their second modality.

    A seeded permutation: its first ``ceil(n / 2)`` entries keep the image, the rest
    the text; both returned sorted.  No pair contributes both modalities.

    Returns
    -------
    image_rows, text_rows : ndarray of int
    """
    perm = np.random.default_rng(seed).permutation(n)
    h = (n + 1) // 2
    return np.sort(perm[:h]), np.sort(perm[h:])


def _kmeans(Z: np.ndarray, seed: int, n_init: int) -> Any:
    from sklearn.cluster import KMeans

    return KMeans(n_clusters=10, n_init=n_init, random_state=seed).fit(Z)


def _score_models(
    models: dict[str, Any], sets: dict[str, dict[str, Any]], seed: int, n_init: int
) -> dict[str, dict[str, np.ndarray]]:
    """Cluster labels of every split, per unified space, from one fitted DM2C each.

    The model's own space (``unify_``) uses ``labels_`` / ``predict``; the other space
    runs k-means on the same networks' codes unified there (no retraining).
    """
    out: dict[str, dict[str, np.ndarray]] = {}
    for space, model in models.items():
        km = _kmeans(model.embed(sets["train"]["views"]), seed, n_init)
        out[space] = {
            s: km.labels_ if s == "train" else km.predict(model.embed(S["views"]))
            for s, S in sets.items()
        }
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Command line entry point; returns the metrics written to ``metrics.json``."""
    import torch

    from boltz.datasets import load_wikipedia_bow
    from bridge.baselines import CCA
    from bridge.metrics import clustering_report
    from bridge.models.dm2c import DM2C, mix_views

    p = base_parser("dm2c", __doc__, "runs/dm2c")
    p.add_argument("--seeds", type=int, default=3, help="model seeds (default 3)")
    p.add_argument(
        "--trainings",
        default="paper,authors",
        help="comma-separated DM2C trainings to run: paper, authors (default both)",
    )
    p.add_argument(
        "--val-fraction",
        type=float,
        default=0.2,
        help="share of the training pairs held out to choose the unified space and the "
        "training (0.2)",
    )
    p.add_argument("--pretrain-epochs", type=int, default=100, help="autoencoders alone (100)")
    p.add_argument("--epochs", type=int, default=100, help="joint adversarial epochs (100)")
    p.add_argument(
        "--authors-pretrain-epochs",
        type=int,
        default=100,
        help="pretraining epochs of training='authors' (100; their code: 150)",
    )
    p.add_argument(
        "--authors-epochs",
        type=int,
        default=100,
        help="joint epochs of training='authors' (100; their code: 220)",
    )
    p.add_argument("--lambda-cyc", type=float, default=1.0, help="λ1, cycle weight (1)")
    p.add_argument("--lambda-rec", type=float, default=1.0, help="λ2, reconstruction weight (1)")
    p.add_argument(
        "--encoder-gradients",
        action="store_true",
        help="ablation of training='paper': the cycle and adversarial terms train the "
        "encoders too (as the authors' code)",
    )
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (1)")
    args = p.parse_args(argv)
    trainings = [t.strip() for t in args.trainings.split(",") if t.strip()]
    bad = sorted(set(trainings) - set(DM2C.TRAINING_DEFAULTS))
    if bad or not trainings:
        p.error(f"--trainings: expected a list of {sorted(DM2C.TRAINING_DEFAULTS)}; got {bad}")
    if not 0.0 < args.val_fraction < 0.9:
        p.error(f"--val-fraction must be in (0, 0.9); got {args.val_fraction}")
    out = setup(args)
    torch.set_num_threads(args.threads)

    d = load_wikipedia_bow(args.data, n_words=200 if args.smoke else 2000)
    Ctr, Cte = d.counts_train.toarray(), d.counts_test.toarray()
    img_all, txt_all = zscore(d.image_train, d.image_train), bow_features(Ctr, Ctr)
    y_all = d.y_train
    test = (zscore(d.image_test, d.image_train), bow_features(Cte, Ctr), d.y_test)
    n_init = 20
    if args.smoke:
        img_all, txt_all, y_all = img_all[:250], txt_all[:250], y_all[:250]
        test = tuple(a[:200] for a in test)
        n_init = 2
    # validation pairs: held out of the training pairs (features keep the full
    # training set's statistics, which use no labels)
    perm = np.random.default_rng(args.seed + 2).permutation(len(y_all))
    n_val = int(round(args.val_fraction * len(y_all)))
    va_rows, tr_rows = np.sort(perm[:n_val]), np.sort(perm[n_val:])
    feats = {
        "train": (img_all[tr_rows], txt_all[tr_rows], y_all[tr_rows]),
        "val": (img_all[va_rows], txt_all[va_rows], y_all[va_rows]),
        "test": test,
    }
    split_seed = {"train": 0, "test": 1, "val": 2}
    sets: dict[str, dict[str, Any]] = {}
    for s, (img, txt, y) in feats.items():
        ia, ib = mixed_split(len(y), args.seed + split_seed[s])
        views, mod = mix_views({"image": img[ia], "text": txt[ib]})
        sets[s] = {
            "views": views,
            "mod": mod,
            "y": np.concatenate([y[ia], y[ib]]),
            "concat": np.nan_to_num(np.hstack([views["image"], views["text"]])),
        }
    seeds = [args.seed + i for i in range(1 if args.smoke else args.seeds)]
    img_tr, txt_tr, _ = feats["train"]
    per_seed: dict[str, list[dict[str, float]]] = {}
    labels: dict[str, list[dict[str, np.ndarray]]] = {}

    def add(key: str, y: np.ndarray, lab: np.ndarray) -> None:
        per_seed.setdefault(key, []).append(clustering_report(y, lab))

    ccas = {
        name: CCA(n_components=10, reg=reg).fit({"image": img_tr, "text": txt_tr})
        for name, reg in CCA_RIDGES.items()
    }

    def cca_space(cca: Any, S: dict[str, Any]) -> np.ndarray:
        Z = np.empty((len(S["mod"]), 10))
        for i, v in enumerate(("image", "text")):
            rows = S["mod"] == i
            Z[rows] = cca.transform({v: S["views"][v][rows]})[v]
        return Z

    fit_times: dict[str, list[float]] = {t: [] for t in trainings}
    cpu_times: dict[str, list[float]] = {t: [] for t in trainings}
    last: dict[str, Any] = {}
    for seed in seeds:
        for training in trainings:
            log.info("seed %d: DM2C, training=%r", seed, training)
            authors = training == "authors"
            model = DM2C(
                n_clusters=10,
                training=training,
                lambda_cyc=args.lambda_cyc,
                lambda_rec=args.lambda_rec,
                encoder_gradients=True if args.encoder_gradients else None,
                pretrain_epochs=2
                if args.smoke
                else (args.authors_pretrain_epochs if authors else args.pretrain_epochs),
                epochs=2 if args.smoke else (args.authors_epochs if authors else args.epochs),
                n_init=n_init,
                standardize=False,
                unify="image",
                random_state=seed,
                progress=args.progress_flag,
            )
            if args.smoke:
                model.set_params(hidden=(32,), latent=16, critic_hidden=(8,))
            t0, c0 = time.perf_counter(), time.process_time()
            model.fit(sets["train"]["views"])
            fit_times[training].append(time.perf_counter() - t0)
            cpu_times[training].append(time.process_time() - c0)
            last[training] = model
            # the same trained networks, unified into the text latent space too
            # (images through G_it): which space is chosen on the validation split
            alt = copy.copy(model)
            alt.unify_ = "text"
            lab = _score_models({"image": model, "text": alt}, sets, seed, n_init)
            labels.setdefault(training, []).append(lab)
            for space, by_split in lab.items():
                for s, S in sets.items():
                    key = f"dm2c_{training}_{space}space_{s}"
                    add(key, S["y"], by_split[s])
                    for i, v in enumerate(("image", "text")):
                        rows = S["mod"] == i
                        add(f"{key}_{v}", S["y"][rows], by_split[s][rows])

        log.info("seed %d: baselines", seed)
        km = _kmeans(sets["train"]["concat"], seed, n_init)
        for s, S in sets.items():
            lab_s = km.labels_ if s == "train" else km.predict(S["concat"])
            add(f"kmeans_concat_{s}", S["y"], lab_s)
        for i, v in enumerate(("image", "text")):
            rows = {s: S["mod"] == i for s, S in sets.items()}
            km = _kmeans(sets["train"]["views"][v][rows["train"]], seed, n_init)
            for s, S in sets.items():
                Z = S["views"][v][rows[s]]
                lab_s = km.labels_ if s == "train" else km.predict(Z)
                add(f"kmeans_{v}_{s}", S["y"][rows[s]], lab_s)
        for name, cca in ccas.items():
            km = _kmeans(cca_space(cca, sets["train"]), seed, n_init)
            for s, S in sets.items():
                lab_s = km.labels_ if s == "train" else km.predict(cca_space(cca, S))
                add(f"{name}_{s}", S["y"], lab_s)

    metrics: dict[str, Any] = {}
    for key, reps in per_seed.items():
        for x in SCORES:
            vals = np.array([r[x] for r in reps])
            metrics[f"{key}_{x}"] = float(vals.mean())
            metrics[f"{key}_{x}_std"] = float(vals.std())

    # model selection on the validation split only: per training the unified space,
    # then the training, by the mean of validation ACC and NMI over the seeds
    def val_score(key: str) -> float:
        return 0.5 * (metrics[f"{key}_val_acc"] + metrics[f"{key}_val_nmi"])

    chosen: dict[str, str] = {}
    for training in trainings:
        space = max(("image", "text"), key=lambda u: val_score(f"dm2c_{training}_{u}space"))
        chosen[training] = space
        metrics[f"selected_unify_{training}"] = space
        _alias(metrics, f"dm2c_{training}_{space}space", f"dm2c_{training}")
    best = max(trainings, key=lambda t: val_score(f"dm2c_{t}"))
    metrics["selected_training"] = best
    _alias(metrics, f"dm2c_{best}", "dm2c")
    metrics.update(
        {
            "seeds": seeds,
            "trainings": trainings,
            "n_train_image": int((sets["train"]["mod"] == 0).sum()),
            "n_train_text": int((sets["train"]["mod"] == 1).sum()),
            "n_val_image": int((sets["val"]["mod"] == 0).sum()),
            "n_val_text": int((sets["val"]["mod"] == 1).sum()),
            "n_test_image": int((sets["test"]["mod"] == 0).sum()),
            "n_test_text": int((sets["test"]["mod"] == 1).sum()),
        }
    )
    for t in trainings:
        metrics[f"dm2c_{t}_fit_seconds"] = round(float(np.mean(fit_times[t])), 2)
        metrics[f"dm2c_{t}_fit_cpu_seconds"] = round(float(np.mean(cpu_times[t])), 2)
    model = copy.copy(last[best])
    model.unify_ = chosen[best]
    _figure(model, sets["train"], out)
    finish(args, out, metrics)
    metrics["wall_seconds"] = json.loads((out / "metrics.json").read_text())["wall_seconds"]
    (out / "results.md").write_text(_results_md(metrics, args))
    return metrics


def _alias(metrics: dict[str, Any], src: str, dst: str) -> None:
    """Copy every ``src_*`` score key to ``dst_*``."""
    for k in [k for k in metrics if k.startswith(src + "_")]:
        metrics[dst + k[len(src) :]] = metrics[k]


def _figure(model: Any, S: dict[str, Any], out: Path) -> None:
    """2-D PCA of the unified training codes, coloured by class, marked by modality."""
    from sklearn.decomposition import PCA

    Z = model.embed(S["views"])
    P = PCA(n_components=2, random_state=0).fit_transform(Z)
    plt = start_figure()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), sharex=True, sharey=True)
    names = (
        ("image", "text (via G_ti)") if model.unify_ == "image" else ("image (via G_it)", "text")
    )
    for ax, (i, v) in zip(axes, enumerate(names)):
        rows = S["mod"] == i
        sc = ax.scatter(P[rows, 0], P[rows, 1], c=S["y"][rows], cmap="tab10", s=6, vmin=0, vmax=9)
        ax.set_title(f"unified codes of the {v} samples")
        ax.set_xlabel("PC 1")
    axes[0].set_ylabel("PC 2")
    fig.suptitle(f"unified in the {model.unify_} latent space, training={model.training!r}")
    fig.colorbar(sc, ax=axes, label="class", fraction=0.03)
    save_figure(fig, out / "clusters.png", dpi=120, tight=True)


def _results_md(m: dict[str, Any], args: Any) -> str:
    cols = ("acc", "ari", "nmi", "f_score", "purity")
    head = "| method | split | " + " | ".join(cols) + " |"
    best = m["selected_training"]
    lines = [
        f"# DM2C on mixed-modal Wikipedia (seeds {m['seeds']}{', smoke' if args.smoke else ''})",
        "",
        f"Training mixed set: {m['n_train_image']} images + {m['n_train_text']} texts; "
        f"validation: {m['n_val_image']} + {m['n_val_text']}; test: "
        f"{m['n_test_image']} + {m['n_test_text']}.  Mean ± std over the seeds.  Chosen on "
        "the validation split (mean of ACC and NMI): the unified space per training ("
        + ", ".join(f"{t}: {m[f'selected_unify_{t}']}" for t in m["trainings"])
        + f") and the training (**{best}**, the `DM2C` row).",
        "",
        head,
        "|---|---|" + "---:|" * len(cols),
    ]
    rows = [("DM2C (selected)", "dm2c")]
    for t in m["trainings"]:
        for u in ("image", "text"):
            rows.append((f"DM2C training={t!r}, unified in the {u} space", f"dm2c_{t}_{u}space"))
    rows += [
        ("k-means, zero-filled concatenation", "kmeans_concat"),
        ("k-means, image samples only", "kmeans_image"),
        ("k-means, text samples only", "kmeans_text"),
        ("DM2C (selected) scored on its image samples", "dm2c_{s}_image"),
        ("DM2C (selected) scored on its text samples", "dm2c_{s}_text"),
        ("k-means in paired-CCA space (oracle, ridge 1e-4)", "cca_paired"),
        ("k-means in paired-CCA space (oracle, ridge 0.1)", "cca_paired_ridge"),
    ]
    for s in ("val", "test", "train"):
        for title, key in rows:
            k = key.format(s=s) if "{s}" in key else f"{key}_{s}"
            cells = [f"{m[f'{k}_{x}']:.4f} ± {m[f'{k}_{x}_std']:.4f}" for x in cols]
            lines.append(f"| {title} | {s} | " + " | ".join(cells) + " |")
    for title, ref in PAPER_WIKIPEDIA.items():
        lines.append(f"| {title} | – | " + " | ".join(f"{ref[x]:.4f}" for x in cols) + " |")
    lines.append("")
    for t in ("dm2c", *(f"dm2c_{t}" for t in m["trainings"])):
        margin = {x: m[f"{t}_test_{x}"] - m[f"kmeans_concat_test_{x}"] for x in ("acc", "nmi")}
        sd = {
            x: max(m[f"{t}_test_{x}_std"], m[f"kmeans_concat_test_{x}_std"]) for x in ("acc", "nmi")
        }
        lines.append(
            f"Margin of {t} over k-means on the concatenation (test): "
            + ", ".join(f"{x} {margin[x]:+.4f} (larger std {sd[x]:.4f})" for x in margin)
            + "."
        )
    times = ", ".join(
        f"{t} {m[f'dm2c_{t}_fit_seconds']:.0f} s wall / {m[f'dm2c_{t}_fit_cpu_seconds']:.0f} s CPU"
        for t in m["trainings"]
    )
    lines += ["", f"DM2C training time per seed: {times}; wall {m['wall_seconds']:.0f} s.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    run_cli(main, "recipes.dm2c")
