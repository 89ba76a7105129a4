"""HRL (Cao et al., Neurocomputing 2019) on Wikipedia, with its ablations (Tables 2, 3, 8, 9).

Data: the Rasiwasia et al. Wikipedia pairs.  Image = the 128-d SIFT bag-of-visual-words
histograms (Gaussian pathway; the Gaussian RBMs standardise with training statistics);
text = bag of words over the 3,000 most frequent training words of the raw articles
(replicated-softmax pathway, raw counts).  Split as in the paper: the 2,173 training
pairs; the 693 test pairs split stratified by class with a fixed seed (0, the same for
every --seed) into 231 validation and 462 test pairs (split.tsv lists the text ids).

For every seed: step 1 (friendly SRBMs + multimodal DBN) is pretrained once, then HRL
and, with --ablations, every variant is fitted on top of it (bridge.models.hrl; a
variant reuses the torch stages it shares with the full model).  Validation pairs: early
stopping and the number of stacked bimodal AEs.  Test: MAP over all 462 items (cosine)
image->text, text->image, and all-modal image->all, text->all (bridge.metrics).

metrics.json keys (mean over the seeds; every key also has a "<key>.std" twin, the
standard deviation over the seeds, ddof=0):
  <model>.i2t, <model>.t2i, <model>.avg     bi-modal MAP (Table 2 / 8 / 9)
  <model>.i2all, <model>.t2all, <model>.all_avg
                                            all-modal MAP (Table 3)
  <model> is one of
    hrl                the full model with the library's defaults, among them
                       input_skip="auto": the feed-forward nets also see each view's
                       input (log1p counts, SIFT) beside the joint-AE code -- a skip
                       connection around step 1, not in the paper (docs/hrl.md)
    hrl_paper          the paper's architecture (input_skip=False); the literal
                       reading and the ablations are variants of this one
    hrl_ens, hrl_paper_ens
                       one ensemble of the seeds' hrl / hrl_paper models
                       (bridge.ensemble.average_cosine: ranking by the mean cosine);
                       one number, its ".std" twin 0
    hrl_literal        the paper's literal eqs. 12-13 (HRL(mutual_from="pair")): each
                       view's mutual part inferred from its *paired* other view, so a
                       query carries its partner's content -- a leaking diagnostic, not
                       a retrieval result (how close it comes to the paper's numbers)
    joint, no_bae, no_ff, no_ff_bae, no_srbm, no_mdbn
                       the ablations (with --ablations; see bridge.models.hrl)
    mdbn               the multimodal DBN alone: its joint representation inferred
                       from one view (the paper's "Multimodal DBN" row)
    cca                CCA on the standard features (SIFT-128, 10-d LDA topics)
    cca_bow            CCA on HRL's inputs (SIFT-128, log(1 + counts) of the 3,000 words),
                       ridge chosen on the validation pairs
    sm                 semantic matching (Rasiwasia et al. 2010) on the same inputs: one
                       logistic regression per view, retrieval on the centred class
                       posteriors, C chosen on the validation pairs (a supervised anchor)
  hrl.n_bae (and <variant>.n_bae)            stacked BAEs chosen on validation
  seeds                                      the seeds (list)
  n_train, n_val, n_test
  stage1_seconds, wall_seconds               step-1 time per seed (mean), total time
Also per_seed.json (every number of every seed), results.md (the table beside the
paper's hand-crafted-feature numbers), pr_curves.png (precision-recall, seed of the
first run), split.tsv and the trained models of the first seed under models/ (with
--save-models).
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch

from boltz.datasets import load_wikipedia_bow
from bridge.models.hrl import VARIANTS

from ._common import base_parser, finish, run_cli, save_figure, save_json, setup, start_figure

log = logging.getLogger("recipes.hrl")

__all__ = ["PAPER", "main", "model_config", "split_test", "validation_pairs"]

N_WORDS = 3000
SPLIT_SEED = 0
N_VAL = 231

#: The paper's Wikipedia numbers, hand-crafted image features (Tables 2, 3, 8, 9):
#: (i2t, t2i, avg, i2all, t2all, all_avg); None where the paper gives none.
PAPER: dict[str, tuple[float | None, ...]] = {
    # every reading of HRL (defaults, the paper's architecture, literal, ensembles) beside
    # the paper's one HRL row
    **dict.fromkeys(
        ("hrl", "hrl_paper", "hrl_literal", "hrl_ens", "hrl_paper_ens"),
        (0.672, 0.686, 0.679, 0.772, 0.628, 0.700),
    ),
    "joint": (0.378, 0.285, 0.331, None, None, None),
    "no_bae": (0.661, 0.672, 0.667, None, None, None),
    "no_ff": (0.404, 0.407, 0.405, None, None, None),
    "no_ff_bae": (0.183, 0.190, 0.187, None, None, None),
    "no_srbm": (0.364, 0.279, 0.321, None, None, None),
    "no_mdbn": (0.338, 0.275, 0.307, None, None, None),
    "mdbn": (0.149, 0.150, 0.150, 0.140, 0.177, 0.159),
    "cca": (0.203, 0.183, 0.193, 0.180, 0.315, 0.248),
    "cca_bow": (0.203, 0.183, 0.193, 0.180, 0.315, 0.248),
    "sm": (None, None, None, None, None, None),
}
LABELS = {
    "hrl_literal": "HRL, literal eqs. 12-13 (M from the paired view: **leaks the query's "
    "partner**)",
    "hrl": "HRL (defaults: input skip, not in the paper)",
    "hrl_ens": "HRL (defaults), ensemble of the seeds' models",
    "hrl_paper": "HRL, the paper's architecture (`input_skip=False`)",
    "hrl_paper_ens": "HRL, the paper's architecture, ensemble of the seeds' models",
    "joint": "Joint-HRL",
    "no_bae": "HRL (no stacked BAEs)",
    "no_ff": "HRL (no ff)",
    "no_ff_bae": "HRL (no ff & stacked BAEs)",
    "no_srbm": "HRL (no SRBM & joint-ae)",
    "no_mdbn": "HRL (no MDBN & joint-ae)",
    "mdbn": "Multimodal DBN",
    "cca": "CCA (SIFT + LDA topics)",
    "cca_bow": "CCA (SIFT + BoW-3000)",
    "sm": "Semantic matching (logistic regression, SIFT + BoW-3000)",
}
METRICS = ("i2t", "t2i", "avg", "i2all", "t2all", "all_avg")
#: The paper's ablations (Tables 8-9): every variant of the model's table but the full one.
ABLATIONS = tuple(name for name in VARIANTS if name != "hrl")


def split_test(
    y: np.ndarray, n_val: int = N_VAL, seed: int = SPLIT_SEED
) -> tuple[np.ndarray, np.ndarray]:
    """Stratified split of the test pairs into validation and test indices.

    Parameters
    ----------
    y : ndarray of int, shape (n,)
        Classes of the official test pairs.
    n_val : int
        Validation size (the paper: 231 of 693).
    seed : int

    Returns
    -------
    val, test : ndarray of int
        Sorted row indices into the official test set.
    """
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(y))
    val, test = train_test_split(idx, train_size=n_val, stratify=y, random_state=seed)
    return np.sort(val), np.sort(test)


def validation_pairs(data: Any) -> tuple[Any, dict, np.ndarray, dict, np.ndarray]:
    """The recipe's training and validation pairs (never the test pairs), for the scripts
    that tune on validation.

    Parameters
    ----------
    data : path-like
        The folder ``load_wikipedia_bow`` reads.

    Returns
    -------
    d : the loaded dataset (3,000 words)
    V, y : the 2,173 training views ``{"image": SIFT, "text": CSR counts}`` and classes
    V_val, y_val : the 231 validation pairs of :func:`split_test`
    """
    d = load_wikipedia_bow(data, n_words=N_WORDS)
    va, _ = split_test(d.y_test)
    V = {"image": d.image_train, "text": sp.csr_matrix(d.counts_train)}
    V_val = {"image": d.image_test[va], "text": sp.csr_matrix(d.counts_test[va])}
    return d, V, d.y_train, V_val, d.y_test[va]


def scores(Z: dict[str, np.ndarray], y: np.ndarray) -> dict[str, float]:
    """Bi-modal and all-modal MAP (cosine, all items) of image/text embeddings."""
    from bridge.metrics import all_modal_map, cross_modal_map

    cm = cross_modal_map(Z, y)
    i2all = all_modal_map(None, None, Z, y, query_view="image")
    t2all = all_modal_map(None, None, Z, y, query_view="text")
    return {
        "i2t": cm["i2t"],
        "t2i": cm["t2i"],
        "avg": cm["average"],
        "i2all": i2all,
        "t2all": t2all,
        "all_avg": (i2all + t2all) / 2,
    }


def _cca_rows(d: Any, tr: Any, va: np.ndarray, te: np.ndarray, smoke: bool) -> dict[str, dict]:
    """CCA on the standard features and on HRL's inputs (ridge chosen on validation)."""
    from bridge.baselines import CCA
    from bridge.metrics import cross_modal_map

    out = {}
    Ii, It = d.image_train[tr], d.image_test
    std = {
        "image": (Ii, It),
        "text": (d.topics_train[tr], d.topics_test),
    }
    cca = CCA(n_components=9).fit({k: a for k, (a, _) in std.items()})
    out["cca"] = scores(cca.transform({k: b[te] for k, (_, b) in std.items()}), d.y_test[te])
    bow = {
        "image": (Ii, It),
        "text": (
            np.log1p(d.counts_train[tr].toarray()),
            np.log1p(d.counts_test.toarray()),
        ),
    }
    best = None
    for reg in (1e-2, 1e-1, 1.0) if not smoke else (1e-1,):
        m = CCA(n_components=10, reg=reg).fit({k: a for k, (a, _) in bow.items()})
        val = cross_modal_map(m.transform({k: b[va] for k, (_, b) in bow.items()}), d.y_test[va])
        if best is None or val["average"] > best[0]:
            best = (val["average"], reg, m)
    log.info("CCA on BoW-3000: ridge %g chosen on validation (MAP %.3f)", best[1], best[0])
    out["cca_bow"] = scores(
        best[2].transform({k: b[te] for k, (_, b) in bow.items()}), d.y_test[te]
    )
    # a supervised anchor: semantic matching (Rasiwasia et al. 2010), per-view logistic
    # regression, retrieval on the centred class posteriors; C chosen on validation
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    y_tr = d.y_train[tr]
    best_sm = None
    for C in (0.01, 0.1, 1.0) if not smoke else (0.1,):
        clf = {
            k: make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=300)).fit(a, y_tr)
            for k, (a, _) in bow.items()
        }

        def post(rows: np.ndarray, clf: dict = clf) -> dict[str, np.ndarray]:
            p = {k: clf[k].predict_proba(b[rows]) for k, (_, b) in bow.items()}
            return {k: v - v.mean(0) for k, v in p.items()}

        val = cross_modal_map(post(va), d.y_test[va])["average"]
        if best_sm is None or val > best_sm[0]:
            best_sm = (val, C, post)
    log.info("semantic matching: C %g chosen on validation (MAP %.3f)", best_sm[1], best_sm[0])
    out["sm"] = scores(best_sm[2](te), d.y_test[te])
    return out


def model_config(
    width_scale: float = 0.5,
    rbm_epochs: int = 5,
    epochs: int = 12,
    patience: int = 4,
    n_bae_max: int = 3,
) -> dict[str, dict[str, Any]]:
    """The recipe's model settings (its defaults unless given), for the scripts too.

    Returns
    -------
    dict
        ``{"stage1": HRLStage1 keywords, "torch": HRL keywords}``: the paper's widths
        times ``width_scale``.
    """

    def sc(*sizes: int) -> tuple[int, ...]:
        return tuple(max(2, int(round(s * float(width_scale)))) for s in sizes)

    stage1 = dict(
        friendly_hidden=sc(1024, 512, 512),
        mutual_hidden={"image": sc(2048, 1024), "text": sc(1024, 1024)},
        joint_hidden=sc(2048)[0],
        epochs=rbm_epochs,
    )
    torch_kw = dict(
        joint_ae_hidden=sc(1024)[0],
        ff_hidden=sc(1024, 1024, 1024),
        n_bae_max=n_bae_max,
        epochs=epochs,
        patience=patience,
    )
    return {"stage1": stage1, "torch": torch_kw}


def _config(args: Any) -> dict[str, Any]:
    """Model sizes and epochs: the paper's widths times --width-scale, or tiny with --smoke."""
    if args.smoke:
        stage1 = dict(
            friendly_hidden=(32, 16, 16),
            mutual_hidden={"image": (32, 16), "text": (32, 16)},
            joint_hidden=32,
            epochs=1,
        )
        torch_kw = dict(joint_ae_hidden=32, ff_hidden=(32, 32, 32), n_bae_max=2, epochs=2)
    else:
        cfg = model_config(
            args.width_scale, args.rbm_epochs, args.epochs, args.patience, args.n_bae_max
        )
        stage1, torch_kw = cfg["stage1"], cfg["torch"]
    if args.rbm_upper_lr is not None:
        stage1["learning_rate"] = {"bernoulli": args.rbm_upper_lr}
    if args.label_weight is not None:
        torch_kw["label_weight"] = args.label_weight
    if args.activation is not None:
        torch_kw["activation"] = args.activation
    return {"stage1": stage1, "torch": torch_kw}


def _pr_figure(curves: dict[str, dict[str, tuple]], out: Path) -> None:
    plt = start_figure()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    for ax, (task, title) in zip(axes, (("i2t", "Image → Text"), ("t2i", "Text → Image"))):
        for name, c in curves.items():
            p, r = c[task]
            ax.plot(r, p, label=LABELS.get(name, name), lw=1.6 if name == "hrl" else 1.0)
        ax.set_xlabel("recall")
        ax.set_ylabel("precision")
        ax.set_title(f"Wikipedia, {title} (test, 462 queries)")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=7, loc="upper right")
    save_figure(fig, out / "pr_curves.png", dpi=120)


def _results_md(m: dict[str, Any], models: list[str], args: Any) -> str:
    def cell(name: str, k: str) -> str:
        if f"{name}.{k}" not in m:
            return "–"
        return f"{m[f'{name}.{k}']:.3f} ± {m[f'{name}.{k}.std']:.3f}"

    def paper(name: str, i: int) -> str:
        v = PAPER.get(name, (None,) * 6)[i]
        return "–" if v is None else f"{v:.3f}"

    lines = [
        f"# HRL on Wikipedia (seeds {m['seeds']}; mean ± std over seeds)",
        "",
        f"Train {m['n_train']} pairs, validation {m['n_val']}, test {m['n_test']}; MAP over all "
        "test items, cosine.  Paper: Cao et al. 2019, hand-crafted feature column of Tables "
        "2, 3, 8, 9.  **The image features differ**: the paper's hand-crafted image vector "
        "is 2,296-d (PHOW 1000 + GIST 512 + MPEG-7 784); here it is the 128-d SIFT "
        "bag-of-visual-words histogram of the public release.  CCA rows of the paper use "
        "their features; both our CCA rows are compared with the paper's CCA.",
        "",
        "| model | i→t | t→i | avg | paper i→t | paper t→i | paper avg | i→all | t→all "
        "| paper i→all | paper t→all |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in models:
        lines.append(
            f"| {LABELS.get(name, name)} | {cell(name, 'i2t')} | {cell(name, 't2i')} | "
            f"{cell(name, 'avg')} | {paper(name, 0)} | {paper(name, 1)} | {paper(name, 2)} | "
            f"{cell(name, 'i2all')} | {cell(name, 't2all')} | {paper(name, 3)} | "
            f"{paper(name, 4)} |"
        )
    lines += [
        "",
        f"Wall time {m['wall_seconds']:.0f} s (step 1: {m['stage1_seconds']:.0f} s per seed).",
        "",
    ]
    return "\n".join(lines)


def _aggregate(per_seed: dict[int, dict[str, dict[str, float]]]) -> dict[str, float]:
    out: dict[str, float] = {}
    models = next(iter(per_seed.values())).keys()
    for name in models:
        for k in next(iter(per_seed.values()))[name]:
            vals = np.array([per_seed[s][name][k] for s in per_seed], dtype=float)
            out[f"{name}.{k}"] = float(vals.mean())
            out[f"{name}.{k}.std"] = float(vals.std())
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Command line entry point; returns the metrics written to ``metrics.json``."""
    p = base_parser("hrl", __doc__, "runs/hrl")
    p.add_argument("--ablations", action="store_true", help="also fit the Table 8-9 variants")
    p.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=None,
        help="seeds to average over (default: --seed, --seed+1, --seed+2; with --smoke: --seed)",
    )
    p.add_argument("--rbm-epochs", type=int, default=5, help="CD-1 epochs per RBM (default 5)")
    p.add_argument(
        "--epochs", type=int, default=12, help="most epochs per torch stage (default 12)"
    )
    p.add_argument("--patience", type=int, default=4, help="early-stopping patience (default 4)")
    p.add_argument(
        "--rbm-upper-lr",
        type=float,
        default=None,
        help="CD-1 learning rate of the upper and joint RBMs (default 0.001, see "
        "bridge.models.hrl.RBM_DEFAULTS)",
    )
    p.add_argument(
        "--width-scale",
        type=float,
        default=0.5,
        help="every layer width is the paper's times this (default 0.5: the 30-minute budget "
        "on two CPU cores; 1 = the paper's widths)",
    )
    p.add_argument("--activation", default=None, help="feed-forward activation (default sigmoid)")
    p.add_argument("--n-bae-max", type=int, default=3, help="most stacked BAEs (default 3)")
    p.add_argument(
        "--label-weight", type=float, default=None, help="BAE softmax weight (default 1)"
    )
    p.add_argument("--threads", type=int, default=1, help="torch/BLAS threads (default 1)")
    p.add_argument("--save-models", action="store_true", help="save the first seed's models")
    p.add_argument(
        "--cache",
        default=None,
        help="folder for the step-1 models of each seed (stage1_seed<N>/): loaded when "
        "present, written otherwise (default: none)",
    )
    args = p.parse_args(argv)
    out = setup(args)
    from threadpoolctl import threadpool_limits

    # one BLAS/torch thread by default: oversubscribed BLAS threads on a shared machine
    # are many times slower than one
    threadpool_limits(max(1, args.threads))
    torch.set_num_threads(max(1, args.threads))
    from bridge.models.hrl import HRL, HRLStage1

    seeds = (
        args.seeds
        if args.seeds is not None
        else ([args.seed] if args.smoke else [args.seed, args.seed + 1, args.seed + 2])
    )
    d = load_wikipedia_bow(args.data, n_words=N_WORDS)
    va, te = split_test(d.y_test)
    tr = np.arange(len(d.y_train))
    if args.smoke:
        rng = np.random.default_rng(0)
        tr = np.sort(rng.choice(len(d.y_train), 300, replace=False))
    with open(out / "split.tsv", "w") as f:
        f.write("text_id\timage_id\tclass\tsplit\n")
        used = set(tr.tolist())
        for i in range(len(d.y_train)):
            s = "train" if i in used else "unused"
            f.write(f"{d.text_ids_train[i]}\t{d.image_ids_train[i]}\t{d.y_train[i]}\t{s}\n")
        split_of = np.empty(len(d.y_test), dtype=object)
        split_of[va], split_of[te] = "val", "test"
        for i in range(len(d.y_test)):
            f.write(f"{d.text_ids_test[i]}\t{d.image_ids_test[i]}\t{d.y_test[i]}\t{split_of[i]}\n")

    def views(I: np.ndarray, C: Any, rows: np.ndarray) -> dict[str, Any]:
        return {"image": I[rows], "text": sp.csr_matrix(C[rows])}

    V_tr, y_tr = views(d.image_train, d.counts_train, tr), d.y_train[tr]
    V_va, y_va = views(d.image_test, d.counts_test, va), d.y_test[va]
    V_te, y_te = views(d.image_test, d.counts_test, te), d.y_test[te]
    cfg = _config(args)
    progress = args.progress_flag if args.progress_flag != "auto" else None
    cca = _cca_rows(d, tr, va, te, args.smoke)
    # the paper's architecture first: the literal reading and the ablations reuse its stages
    variants = ["hrl_paper", "hrl", "hrl_literal", *(ABLATIONS if args.ablations else ())]
    ensembled = {"hrl": "hrl_ens", "hrl_paper": "hrl_paper_ens"}
    test_embeddings: dict[str, list[dict[str, np.ndarray]]] = {v: [] for v in ensembled}
    per_seed: dict[int, dict[str, dict[str, float]]] = {}
    n_bae: dict[str, list[int]] = {v: [] for v in variants}
    stage1_times = []
    curves: dict[str, dict[str, tuple]] = {}
    from bridge.metrics import precision_recall_curve

    def pr(Z: dict[str, np.ndarray]) -> dict[str, tuple]:
        return {
            "i2t": precision_recall_curve(Z["image"], Z["text"], y_te, y_te, n_points=21),
            "t2i": precision_recall_curve(Z["text"], Z["image"], y_te, y_te, n_points=21),
        }

    for si, seed in enumerate(seeds):
        t0 = time.perf_counter()
        log.info("seed %d: step 1 (SRBMs + multimodal DBN)", seed)
        cached = Path(args.cache) / f"stage1_seed{seed}" if args.cache else None
        if cached is not None and (cached / "stage1.npz").exists():
            stage1 = HRLStage1.load(cached)
            want = HRLStage1(**cfg["stage1"], random_state=seed).get_params()
            got = stage1.get_params()
            diff = [
                k
                for k in want
                if k not in ("device", "progress")
                and json.dumps(want[k], default=list, sort_keys=True)
                != json.dumps(got[k], default=list, sort_keys=True)
            ]
            if diff:
                raise ValueError(
                    f"{cached} holds step-1 models with other settings ({', '.join(diff)}); "
                    "use another --cache folder."
                )
            log.info("seed %d: step 1 loaded from %s", seed, cached)
        else:
            stage1 = HRLStage1(**cfg["stage1"], random_state=seed, progress=progress).fit(V_tr)
            if cached is not None:
                stage1.save(cached)
        stage1_times.append(time.perf_counter() - t0)
        log.info("seed %d: step 1 took %.0f s", seed, stage1_times[-1])
        res: dict[str, dict[str, float]] = {}
        f_tr, f_te = stage1.features(V_tr), stage1.features(V_te)
        Z = {k: f_te["mutual"][k] - f_tr["mutual"][k].mean(0) for k in ("image", "text")}
        res["mdbn"] = scores(Z, y_te)
        if si == 0:
            curves["mdbn"] = pr(Z)
        full = None
        for v in variants:
            t1 = time.perf_counter()
            model = HRL(
                variant="hrl" if v in ("hrl_paper", "hrl_literal") else v,
                mutual_from="pair" if v == "hrl_literal" else "self",
                input_skip="auto" if v == "hrl" else False,
                stage1=stage1,
                **cfg["torch"],
                reuse=full,
                random_state=seed,
                progress=progress,
            ).fit(V_tr, y_tr, V_va, y_va)
            # hrl_literal: transform needs both views (each view's M from its partner)
            Z = model.transform(V_te)
            if v in ensembled:
                test_embeddings[v].append(Z)
            res[v] = scores(Z, y_te)
            res[v]["n_bae"] = float(model.n_bae_)
            n_bae[v].append(model.n_bae_)
            log.info(
                "seed %d %s: i2t %.3f t2i %.3f (n_bae %d, %.0f s)",
                seed,
                v,
                res[v]["i2t"],
                res[v]["t2i"],
                model.n_bae_,
                time.perf_counter() - t1,
            )
            if v == "hrl_paper":
                full = model
            if si == 0:
                if v in ("hrl", "hrl_paper", "no_bae", "no_ff"):
                    curves[v] = pr(Z)
                if args.save_models:
                    model.save(out / "models" / v)
        res.update(cca)
        per_seed[seed] = res
        save_json(out / "per_seed.json", {str(s): r for s, r in per_seed.items()})
    from bridge.baselines import CCA

    cca_m = CCA(n_components=9).fit({"image": d.image_train[tr], "text": d.topics_train[tr]})
    Zc = cca_m.transform({"image": d.image_test[te], "text": d.topics_test[te]})
    curves["cca"] = pr(Zc)
    _pr_figure(curves, out)
    metrics: dict[str, Any] = _aggregate(per_seed)
    from bridge.ensemble import average_cosine

    for v, name in ensembled.items():
        for k, x in scores(average_cosine(test_embeddings[v]), y_te).items():
            metrics[f"{name}.{k}"], metrics[f"{name}.{k}.std"] = x, 0.0
    metrics.update(
        {
            "seeds": list(seeds),
            "n_train": int(len(tr)),
            "n_val": int(len(va)),
            "n_test": int(len(te)),
            "stage1_seconds": float(np.mean(stage1_times)),
        }
    )
    finish(args, out, metrics)
    metrics = json.loads((out / "metrics.json").read_text())
    models = ["hrl", "hrl_ens", "hrl_paper", "hrl_paper_ens", *variants[2:]]
    models += ["mdbn", "cca", "cca_bow", "sm"]
    (out / "results.md").write_text(_results_md(metrics, models, args))
    import sys

    used = list(argv) if argv is not None else sys.argv[1:]
    save_json(out / "config.json", {**cfg, "seeds": list(seeds), "argv": used})
    if not args.quiet:
        print((out / "results.md").read_text())
    return metrics


if __name__ == "__main__":
    run_cli(main, "recipes.hrl")
