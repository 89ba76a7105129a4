"""SDML (Hu et al., SIGIR 2019) on Wikipedia and on the three views of UCI multiple features.

One deep supervised autoencoder per modality maps its inputs into a common space
fixed beforehand by a random column-orthogonal P (``bridge.models.sdml.SDML``,
λ = 0.5, widths d-1024-1024-512-1024-1024-d on Wikipedia); the networks are
trained independently (``--n-jobs`` at once).  Retrieval ranks by cosine
similarity; MAP over all retrieved items (``bridge.metrics``).

wikipedia  Rasiwasia et al. 2010: image = SIFT-128 bag of visual words (z-scored),
           text = bag of words over the 2,000 most frequent training words
           (``boltz.datasets.load_wikipedia_bow``; log1p, L2-normalised rows,
           centred, one global scale, as docs/models_ae.md).  The paper's protocol:
           2,173 training pairs, the 693 test pairs split (seeded) into 231
           validation pairs (early stopping, each view on its own validation loss)
           and 462 test pairs.  Linear CCA (10 components) on the same features is
           reported beside it.
mfeat      UCI multiple features (fourier 76, karhunen 64, pixel 240; z-scored;
           widths d-256-256-128-256-256-d, the paper's scaled to these inputs),
           1,500 training digits (300 of them, seeded, held out for early
           stopping) / 500 test.  First all three views at once; then the
           incremental experiment: fit fourier + karhunen, embed the test set, add
           the pixel view with SDML.add_view, embed again and compare the first two
           views' embeddings bit for bit.

metrics.json (flat keys; V, W view names; MAP over all items, cosine):
  wikipedia_map_image_text, wikipedia_map_text_image, wikipedia_map_average
  wikipedia_cca_map_image_text, wikipedia_cca_map_text_image
  wikipedia_best_epoch_image, wikipedia_best_epoch_text, wikipedia_fit_seconds
  wikipedia_n_train, wikipedia_n_val, wikipedia_n_test
  mfeat_map_V_W                     all three views trained at once, every ordered pair
  mfeat_map_average                 mean over the 6 ordered pairs
  mfeat_fit_seconds                 fitting the three networks
  mfeat_incremental_map_V_W         after fit(fourier, karhunen) + add_view(pixel)
  mfeat_incremental_bitwise_unchanged
                                    1 if the fourier and karhunen test embeddings are
                                    bitwise equal before and after add_view, else 0
  mfeat_incremental_equals_joint    1 if the incremental model's embeddings of all three
                                    views equal those of the three-at-once model, else 0
  mfeat_two_views_fit_seconds, mfeat_add_view_seconds
  mfeat_n_train, mfeat_n_val, mfeat_n_test
  wall_seconds
Also results.md (tables beside the paper's numbers) and map.png (MAP heatmaps).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np

from bridge.features import bow_features, zscore

from ._common import base_parser, finish, run_cli, save_figure, setup, start_figure

log = logging.getLogger("recipes.sdml")

__all__ = ["PAPER_WIKIPEDIA", "main"]

#: SDML paper, Table 3 (Wikipedia, VGG-19 fc7 image / Doc2Vec text, MAP over all).
PAPER_WIKIPEDIA = {
    "SDML": (0.522, 0.488),
    "MCCA": (0.202, 0.189),
    "DCCA": (0.301, 0.286),
    "DCCAE": (0.308, 0.290),
    "ACMR": (0.479, 0.426),
}
MFEAT_FIRST = ("fourier", "karhunen")
MFEAT_ADDED = "pixel"


def _model(args: Any, **kw: Any) -> Any:
    from bridge.models.sdml import SDML

    params: dict[str, Any] = dict(
        lam=args.lam,
        recon=args.recon,
        normalize=not args.no_normalize,
        epochs=args.epochs,
        learning_rate=args.lr,
        patience=args.patience,
        n_jobs=args.n_jobs,
        random_state=args.seed,
        progress=args.progress_flag,
    )
    params.update(kw)
    if args.smoke:
        params.update(hidden=(32,), code=16, epochs=2, batch_size=50)
    return SDML(**params)


def _split(n: int, n_first: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    perm = np.random.default_rng(seed).permutation(n)
    return np.sort(perm[:n_first]), np.sort(perm[n_first:])


def run_wikipedia(args: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Fit and evaluate on Wikipedia; returns (metrics, MAP matrix for the figure)."""
    from boltz.datasets import load_wikipedia_bow
    from bridge.baselines import CCA
    from bridge.metrics import cross_modal_map

    d = load_wikipedia_bow(args.data, n_words=200 if args.smoke else 2000)
    Ctr, Cte = d.counts_train.toarray(), d.counts_test.toarray()
    img_tr, img_te = zscore(d.image_train, d.image_train), zscore(d.image_test, d.image_train)
    txt_tr, txt_te = bow_features(Ctr, Ctr), bow_features(Cte, Ctr)
    ytr, yte_all = d.y_train, d.y_test
    tr = {"image": img_tr, "text": txt_tr}
    val_idx, test_idx = _split(len(yte_all), 231, args.seed)
    if args.smoke:
        keep = np.random.default_rng(args.seed).permutation(len(ytr))[:200]
        tr, ytr = {k: v[keep] for k, v in tr.items()}, ytr[keep]
        val_idx, test_idx = val_idx[:40], test_idx[:60]
    va = {"image": img_te[val_idx], "text": txt_te[val_idx]}
    te = {"image": img_te[test_idx], "text": txt_te[test_idx]}
    yva, yte = yte_all[val_idx], yte_all[test_idx]

    log.info("wikipedia: SDML on %d training pairs (%d val, %d test)", len(ytr), len(yva), len(yte))
    t0 = time.perf_counter()
    model = _model(args).fit(tr, ytr, views_val=va, y_val=yva)
    fit_s = time.perf_counter() - t0
    res = cross_modal_map(model.transform(te), yte)
    cca = CCA(n_components=10).fit(tr)
    res_cca = cross_modal_map(cca.transform(te), yte)
    m = {
        "wikipedia_map_image_text": res["i2t"],
        "wikipedia_map_text_image": res["t2i"],
        "wikipedia_map_average": res["average"],
        "wikipedia_cca_map_image_text": res_cca["i2t"],
        "wikipedia_cca_map_text_image": res_cca["t2i"],
        "wikipedia_best_epoch_image": int(model.best_epoch_["image"]),
        "wikipedia_best_epoch_text": int(model.best_epoch_["text"]),
        "wikipedia_fit_seconds": round(fit_s, 2),
        "wikipedia_n_train": len(ytr),
        "wikipedia_n_val": len(yva),
        "wikipedia_n_test": len(yte),
    }
    log.info("wikipedia: i->t %.4f  t->i %.4f (%.0f s)", res["i2t"], res["t2i"], fit_s)
    return m, {"names": ["image", "text"], "map": [[np.nan, res["i2t"]], [res["t2i"], np.nan]]}


def _pairwise_map(Z: dict[str, np.ndarray], y: np.ndarray) -> dict[tuple[str, str], float]:
    from bridge.metrics import mean_average_precision

    return {(a, b): mean_average_precision(Z[a], Z[b], y, y) for a in Z for b in Z if a != b}


def run_mfeat(args: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Three views at once, then the incremental experiment; (metrics, MAP matrix)."""
    from boltz.datasets.uci_mfeat import load_uci_mfeat

    d = load_uci_mfeat(args.data)
    names = list(d.train)
    fit_idx, val_idx = _split(len(d.y_train), len(d.y_train) - 300, args.seed)
    te_idx = np.arange(len(d.y_test))
    if args.smoke:
        fit_idx, val_idx, te_idx = fit_idx[:200], val_idx[:50], te_idx[:100]
    ref = {k: d.train[k][fit_idx] for k in names}
    tr = {k: zscore(ref[k], ref[k]) for k in names}
    va = {k: zscore(d.train[k][val_idx], ref[k]) for k in names}
    te = {k: zscore(d.test[k][te_idx], ref[k]) for k in names}
    ytr, yva, yte = d.y_train[fit_idx], d.y_train[val_idx], d.y_test[te_idx]
    kw = {} if args.smoke else {"hidden": tuple(args.mfeat_hidden), "code": args.mfeat_code}

    log.info("mfeat: SDML on the three views at once (%d training digits)", len(ytr))
    t0 = time.perf_counter()
    joint = _model(args, **kw).fit(tr, ytr, views_val=va, y_val=yva)
    fit_s = time.perf_counter() - t0
    Zj = joint.transform(te)
    mj = _pairwise_map(Zj, yte)

    log.info("mfeat: incremental: %s first, then %s", " + ".join(MFEAT_FIRST), MFEAT_ADDED)
    first = list(MFEAT_FIRST)
    t0 = time.perf_counter()
    inc = _model(args, **kw).fit(
        {k: tr[k] for k in first}, ytr, views_val={k: va[k] for k in first}, y_val=yva
    )
    two_s = time.perf_counter() - t0
    before = inc.transform({k: te[k] for k in first})
    t0 = time.perf_counter()
    inc.add_view(MFEAT_ADDED, tr[MFEAT_ADDED], ytr, X_val=va[MFEAT_ADDED], y_val=yva)
    add_s = time.perf_counter() - t0
    Zi = inc.transform(te)
    unchanged = all(np.array_equal(before[k], Zi[k]) for k in first)
    equals_joint = all(np.array_equal(Zj[k], Zi[k]) for k in names)
    mi = _pairwise_map(Zi, yte)

    m: dict[str, Any] = {f"mfeat_map_{a}_{b}": v for (a, b), v in mj.items()}
    m["mfeat_map_average"] = float(np.mean(list(mj.values())))
    m.update({f"mfeat_incremental_map_{a}_{b}": v for (a, b), v in mi.items()})
    m.update(
        {
            "mfeat_fit_seconds": round(fit_s, 2),
            "mfeat_incremental_bitwise_unchanged": int(unchanged),
            "mfeat_incremental_equals_joint": int(equals_joint),
            "mfeat_two_views_fit_seconds": round(two_s, 2),
            "mfeat_add_view_seconds": round(add_s, 2),
            "mfeat_n_train": len(ytr),
            "mfeat_n_val": len(yva),
            "mfeat_n_test": len(yte),
        }
    )
    m.update({f"mfeat_best_epoch_{k}": int(joint.best_epoch_[k]) for k in names})
    log.info(
        "mfeat: mean MAP %.4f; add_view left the first views unchanged: %s",
        m["mfeat_map_average"],
        unchanged,
    )
    grid = [[np.nan if a == b else mj[(a, b)] for b in names] for a in names]
    return m, {"names": names, "map": grid}


def _figure(mats: dict[str, dict[str, Any]], out: Path) -> None:
    plt = start_figure()
    fig, axes = plt.subplots(1, len(mats), figsize=(4.2 * len(mats), 3.6), squeeze=False)
    for ax, (title, g) in zip(axes[0], mats.items()):
        M = np.asarray(g["map"], dtype=float)
        im = ax.imshow(M, vmin=0, vmax=1, cmap="viridis")
        names = g["names"]
        ax.set_xticks(range(len(names)), names)
        ax.set_yticks(range(len(names)), names)
        ax.set_xlabel("retrieved view")
        ax.set_ylabel("query view")
        ax.set_title(f"SDML MAP, {title}")
        for i in range(len(names)):
            for j in range(len(names)):
                if np.isfinite(M[i, j]):
                    ax.text(j, i, f"{M[i, j]:.3f}", ha="center", va="center", color="w")
        fig.colorbar(im, ax=ax, fraction=0.046)
    save_figure(fig, out / "map.png", dpi=120)


def _results_md(m: dict[str, Any], args: Any) -> str:
    lines = [f"# SDML results (seed {args.seed}{', smoke' if args.smoke else ''})", ""]
    if "wikipedia_map_image_text" in m:
        p = PAPER_WIKIPEDIA
        lines += [
            "## Wikipedia (ours: SIFT-128 / BoW-2000; paper: VGG-19 fc7 / Doc2Vec-300)",
            "",
            "| method | i→t | t→i | avg |",
            "|---|---:|---:|---:|",
            f"| SDML, ours | {m['wikipedia_map_image_text']:.3f} | "
            f"{m['wikipedia_map_text_image']:.3f} | {m['wikipedia_map_average']:.3f} |",
            f"| CCA (10), ours | {m['wikipedia_cca_map_image_text']:.3f} | "
            f"{m['wikipedia_cca_map_text_image']:.3f} | "
            f"{(m['wikipedia_cca_map_image_text'] + m['wikipedia_cca_map_text_image']) / 2:.3f} |",
        ]
        for k, (a, b) in p.items():
            lines.append(f"| {k}, paper Table 3 | {a:.3f} | {b:.3f} | {(a + b) / 2:.3f} |")
        gi = m["wikipedia_map_image_text"] - p["SDML"][0]
        gt = m["wikipedia_map_text_image"] - p["SDML"][1]
        lines += ["", f"Gap to the paper's SDML: i→t {gi:+.3f}, t→i {gt:+.3f}.", ""]
    if "mfeat_map_average" in m:
        names = ["fourier", "karhunen", "pixel"]
        lines += [
            "## UCI multiple features, MAP query view (rows) → retrieved view (columns)",
            "",
            "| query \\ retrieved | " + " | ".join(names) + " |",
            "|---|" + "---:|" * len(names),
        ]
        for pre, title in (("mfeat_map", "three at once"), ("mfeat_incremental_map", "added")):
            for a in names:
                cells = ["–" if a == b else f"{m[f'{pre}_{a}_{b}']:.3f}" for b in names]
                lines.append(f"| {a} ({title}) | " + " | ".join(cells) + " |")
        lines += [
            "",
            f"Mean over the 6 ordered pairs: {m['mfeat_map_average']:.3f}.  "
            "Incremental (fourier + karhunen, then pixel added): first views' embeddings "
            f"bitwise unchanged = {bool(m['mfeat_incremental_bitwise_unchanged'])}, equal "
            f"to the three-at-once model = {bool(m['mfeat_incremental_equals_joint'])}; "
            f"two-view fit {m['mfeat_two_views_fit_seconds']:.1f} s, adding pixel "
            f"{m['mfeat_add_view_seconds']:.1f} s (three at once {m['mfeat_fit_seconds']:.1f} s).",
            "",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Command line entry point; returns the metrics written to ``metrics.json``."""
    import torch

    p = base_parser("sdml", __doc__, "runs/sdml")
    p.add_argument(
        "--dataset", choices=["wikipedia", "mfeat", "both"], default="both", help="(default both)"
    )
    p.add_argument("--lam", type=float, default=0.5, help="λ, reconstruction weight (0.5)")
    p.add_argument(
        "--recon",
        choices=["mean", "sum"],
        default="mean",
        help="reconstruction error per sample: per-feature mean (default) or the paper's sum",
    )
    p.add_argument(
        "--no-normalize",
        action="store_true",
        help="ablation: codes not scaled to unit norm (the authors' code normalises them)",
    )
    p.add_argument("--epochs", type=int, default=200, help="maximum epochs per view (200)")
    p.add_argument("--patience", type=int, default=20, help="early-stopping patience (20)")
    p.add_argument("--lr", type=float, default=1e-3, help="Adam step size (1e-3)")
    p.add_argument("--n-jobs", type=int, default=1, help="views trained at once (joblib; 1)")
    p.add_argument(
        "--mfeat-hidden",
        type=int,
        nargs="+",
        default=[256, 256],
        help="mfeat encoder hidden widths (default 256 256: the paper's 1024 1024 scaled "
        "down to the 64-240-d inputs)",
    )
    p.add_argument("--mfeat-code", type=int, default=128, help="mfeat common space (128)")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (1)")
    args = p.parse_args(argv)
    out = setup(args)
    torch.set_num_threads(args.threads)
    metrics: dict[str, Any] = {}
    mats: dict[str, dict[str, Any]] = {}
    if args.dataset in ("wikipedia", "both"):
        m, g = run_wikipedia(args)
        metrics.update(m)
        mats["Wikipedia"] = g
    if args.dataset in ("mfeat", "both"):
        m, g = run_mfeat(args)
        metrics.update(m)
        mats["UCI mfeat"] = g
    _figure(mats, out)
    finish(args, out, metrics)
    metrics = {**metrics, "wall_seconds": _wall(out)}
    (out / "results.md").write_text(
        _results_md(metrics, args) + f"\nWall time {metrics['wall_seconds']:.0f} s.\n"
    )
    return metrics


def _wall(out: Path) -> float:
    import json

    return float(json.loads((out / "metrics.json").read_text())["wall_seconds"])


if __name__ == "__main__":
    run_cli(main, "recipes.sdml")
