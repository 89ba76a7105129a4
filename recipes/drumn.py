"""DRUMN on Wikipedia: complete pairs, incomplete pairs, injected anomalies.

Yang, Zhan, Sheng & Jiang, "Deep Robust Unsupervised Multi-modal Network", AAAI 2019
(papers/000).  Data: Rasiwasia et al. 2010 Wikipedia, 2,866 image/text pairs.  The
paper's protocol: a random 20 % of the pairs (seeded) is the test set, the rest is
training data; here 231 of the training pairs (stratified by class) are held out for
early stopping on validation MAP, the same for every model, and for the few
hyperparameter choices.  Image: SIFT-128 bag of visual words, z-scored (the paper:
ResNet-50).  Text (--text): "tfidf" (default, as the paper's 7,343-d TF-IDF): TF-IDF
of the --n-words most frequent words of the training articles, L2-normalised rows,
centred, one global scale; or "lda": the released 10 LDA topic proportions, z-scored.
Test: MAP of the first 50 with Euclidean ranking (the paper's Table 1), test queries
against the test items of the other modality; also MAP over the whole test set with
cosine ranking.

Experiments (--experiments, comma-separated):
  complete    DRUMN, DRUMN-Thres, DCCA, DCCAE, Corr-AE, Corr-Cross-AE, Corr-Full-AE on
              the complete training pairs; the λ of DRUMN, DRUMN-Thres and DCCAE and
              each Corr-AE's α chosen by validation MAP (grids in the code)
  incomplete  0, 10, ..., 50 % of the training pairs lose one modality (half the image,
              half the text, seeded): DRUMN on all rows, DRUMN and DCCAE on the
              complete pairs only (the incomplete ones dropped)
  anomaly     5, 10, 15 % of the training pairs made class anomalies (texts swapped
              between pairs of different classes) or feature anomalies (one view,
              image or text at random, replaced by Gaussian noise with that view's
              per-feature mean and standard deviation); detection AUC of the learned
              weights and MAP of DRUMN, DRUMN with every weight fixed at 1
              (adaptive_weights=False) and DRUMN-Thres
  The λ of incomplete/anomaly are those chosen by complete when it runs in the same
  invocation, otherwise DEFAULTS in the code (DRUMN and DRUMN-Thres 10, DCCAE 1: what
  complete chose at seed 0 with TF-IDF text).

metrics.json keys (flat; "at50" = MAP@50 Euclidean, "all_cos" = MAP over all, cosine;
i2t = image queries, t2i = text queries, avg = their mean):
  data.{n_train,n_val,n_test,text_dim}
  complete.<model>.{i2t_at50,t2i_at50,avg_at50,i2t_all_cos,t2i_all_cos,avg_all_cos,
                    val_map,best_epoch,fit_seconds}
      <model>: drumn drumn_thres dcca dccae corr_ae corr_cross_ae corr_full_ae
  complete.drumn.recon_weight, complete.drumn_thres.recon_weight,
  complete.dccae.recon_weight, complete.<corr model>.alpha        the chosen values
  incomplete.<pct>.<model>.{i2t_at50,t2i_at50,avg_at50}
      <pct>: 0 10 20 30 40 50; <model>: drumn drumn_dropped dccae_dropped
  anomaly.<kind>.<pct>.auc          <kind> class: AUC (sklearn roc_auc_score) of -γ
                                    against the swapped pairs; feature: of
                                    -min(ω_image, ω_text) against the noise rows
  anomaly.<kind>.<pct>.cross_auc    the other weight on the same truth (class: -min ω,
                                    feature: -γ)
  anomaly.<kind>.<pct>.thres_auc    the same as auc with DRUMN-Thres' 0/1 weights
  anomaly.<kind>.<pct>.score_auc    diagnostic: AUC of the trained DRUMN's own scores
                                    (class: -sum_l u_il v_il of the final canonical
                                    variates; feature: the larger median/MAD z-score
                                    of the two views' energies), no history involved
  anomaly.<kind>.<pct>.<model>.{i2t_at50,t2i_at50,avg_at50}
      <kind>: class feature; <pct>: 5 10 15;
      <model>: drumn drumn_unweighted drumn_thres
  hp.{drumn,drumn_thres,dccae}      the λ used by incomplete and anomaly
  seconds.<experiment>, wall_seconds
Figures: incomplete.png (MAP@50 against the incomplete ratio), anomaly.png (the
learned weights of normal and injected rows at 10 %).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from boltz.datasets import (
    build_vocabulary,
    count_matrix,
    load_wikipedia_features,
    read_article,
    resolve_data_dir,
    tokenize,
)
from boltz.datasets.wikipedia import stopwords
from boltz.errors import ConfigError
from bridge.features import zscore
from bridge.metrics import cross_modal_map
from bridge.models.corr_ae import CorrAE
from bridge.models.dcca import DCCA, DCCAE
from bridge.models.drumn import DRUMN

from ._common import base_parser, finish, run_cli, save_figure, save_json, setup, start_figure

log = logging.getLogger("recipes.drumn")

__all__ = [
    "WikiSplit",
    "inject_class_anomalies",
    "inject_feature_anomalies",
    "load_split",
    "main",
    "remove_modalities",
    "tfidf",
]

EXPERIMENTS = ("complete", "incomplete", "anomaly")
RATIOS = (0, 10, 20, 30, 40, 50)
ANOMALY_PCTS = (5, 10, 15)
N_VAL = 231
TEST_FRACTION = 0.2
PAPER = {  # Table 1, WIKI, MAP of the first 50 (I->T, T->I)
    "dcca": (0.1711, 0.1647),
    "dccae": (0.1740, 0.1660),
    "corr_ae": (0.1780, 0.1627),
    "corr_cross_ae": (0.1770, 0.1699),
    "corr_full_ae": (0.1654, 0.1643),
    "drumn_thres": (0.1567, 0.1722),
    "drumn": (0.1781, 0.1887),
}
# hyperparameter grids of the complete experiment (largest validation MAP wins)
GRID_DRUMN = (1.0, 10.0, 100.0)  # λ, the reconstruction weight
GRID_DCCAE = (0.01, 0.1, 1.0)
GRID_CORR = (0.2, 0.5, 0.8)  # α
# used by incomplete/anomaly when complete does not run in the same invocation
DEFAULTS = {"drumn": 10.0, "drumn_thres": 10.0, "dccae": 1.0}


# ----------------------------------------------------------------------------- data


@dataclass
class WikiSplit:
    """The three parts of the split, preprocessed (views ``image`` and ``text``).

    Attributes
    ----------
    train, val, test : dict[str, ndarray of shape (n_part, d_view)]
    y_train, y_val, y_test : ndarray of int, shape (n_part,)
    """

    train: dict[str, np.ndarray]
    y_train: np.ndarray
    val: dict[str, np.ndarray]
    y_val: np.ndarray
    test: dict[str, np.ndarray]
    y_test: np.ndarray


def tfidf(counts: sp.spmatrix | np.ndarray, train_rows: np.ndarray) -> np.ndarray:
    """TF-IDF rows, L2-normalised, centred and globally scaled with training statistics.

    ``idf_j = log((1 + n) / (1 + df_j)) + 1`` over the ``n`` training rows (the
    smoothed scikit-learn form), ``x = tf * idf / ||tf * idf||``; then the training
    mean is subtracted and everything is divided by one standard deviation of the
    centred training entries (per-word z-scoring would blow up rare words).

    Parameters
    ----------
    counts : sparse or dense array of shape (n_docs, n_words)
        Word counts.
    train_rows : ndarray of int
        The rows whose statistics are used.

    Returns
    -------
    ndarray of shape (n_docs, n_words), float64
    """
    C = np.asarray(counts.toarray() if sp.issparse(counts) else counts, dtype=np.float64)
    df = (C[train_rows] > 0).sum(axis=0)
    idf = np.log((1.0 + len(train_rows)) / (1.0 + df)) + 1.0
    X = C * idf
    X /= np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
    mu = X[train_rows].mean(axis=0)
    scale = float((X[train_rows] - mu).std())
    return (X - mu) / (scale if scale > 0 else 1.0)


def load_split(
    data: Any = None,
    *,
    seed: int = 0,
    text: str = "tfidf",
    n_words: int = 2000,
    smoke: bool = False,
) -> WikiSplit:
    """The paper's random 80/20 split of all 2,866 pairs, 231 training pairs for validation.

    Parameters
    ----------
    data : path-like, optional
        Data root holding ``wikipedia_info/`` and ``wikipedia_dataset/``.
    seed : int
        Seeds the split (a permutation of all pairs; stratified validation draw).
    text : {"tfidf", "lda"}
    n_words : int
        TF-IDF vocabulary: the most frequent words of the training articles
        (validation and test articles excluded).
    smoke : bool
        Keep 240 training, 60 validation and 80 test pairs (and at most 300 words).

    Returns
    -------
    WikiSplit
    """
    if text not in ("tfidf", "lda"):
        raise ConfigError(f"text must be 'tfidf' or 'lda'; got {text!r}.")
    f = load_wikipedia_features(data)
    image = np.r_[f.image_train, f.image_test].astype(np.float64)
    y = np.r_[f.y_train, f.y_test]
    n = len(y)
    perm = np.random.default_rng(seed).permutation(n)
    n_test = int(round(TEST_FRACTION * n))
    test, rest = perm[:n_test], perm[n_test:]
    fit_rows, val = train_test_split(rest, test_size=N_VAL, stratify=y[rest], random_state=seed)
    if smoke:
        fit_rows, val, test = fit_rows[:240], val[:60], test[:80]
        n_words = min(n_words, 300)
    used = np.r_[fit_rows, val, test]
    if text == "lda":
        T = np.r_[f.topics_train, f.topics_test].astype(np.float64)
        T = zscore(T, T[fit_rows])
    else:
        root = resolve_data_dir(data)
        stop = stopwords(root)
        ids = f.text_ids_train + f.text_ids_test
        docs: list[list[str]] = [[] for _ in range(n)]
        for i in used:
            docs[i] = tokenize(
                read_article(root / "wikipedia_dataset" / "texts" / f"{ids[i]}.xml")[1], stop
            )
        vocab = build_vocabulary([docs[i] for i in fit_rows], int(n_words))
        T = tfidf(count_matrix(docs, vocab).astype(np.float64), fit_rows)
    image = zscore(image, image[fit_rows])

    def part(rows: np.ndarray) -> dict[str, np.ndarray]:
        return {"image": image[rows], "text": T[rows]}

    return WikiSplit(part(fit_rows), y[fit_rows], part(val), y[val], part(test), y[test])


def remove_modalities(n: int, ratio: float, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Observed masks with ``round(ratio n)`` rows missing one view (half each view).

    Parameters
    ----------
    n : int
    ratio : float in [0, 1)
    rng : numpy Generator

    Returns
    -------
    dict[str, ndarray of bool, shape (n,)]
        ``{"image": ..., "text": ...}``, False where the view is removed; the first
        half (rounded down) of the chosen rows lose the image, the rest the text.
    """
    m = int(round(ratio * n))
    chosen = rng.permutation(n)[:m]
    obs = {"image": np.ones(n, bool), "text": np.ones(n, bool)}
    obs["image"][chosen[: m // 2]] = False
    obs["text"][chosen[m // 2 :]] = False
    return obs


def inject_class_anomalies(
    views: Mapping[str, np.ndarray], y: np.ndarray, frac: float, rng: np.random.Generator
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Swap the texts of pairs of rows of different classes.

    ``round(frac n / 2)`` disjoint pairs of rows with different labels are drawn (a
    random order, each row paired with the next unused row of another class) and their
    texts exchanged; both rows of a pair become class anomalies.

    Returns
    -------
    views : dict (copies)
    truth : ndarray of bool, shape (n,)
        True for the rows whose text was swapped.
    """
    n = len(y)
    n_pairs = int(round(frac * n / 2))
    out = {k: np.array(v, copy=True) for k, v in views.items()}
    truth = np.zeros(n, bool)
    free = list(rng.permutation(n))
    done = 0
    while done < n_pairs and len(free) > 1:
        i = free.pop(0)
        j_pos = next((p for p, j in enumerate(free) if y[j] != y[i]), None)
        if j_pos is None:
            continue
        j = free.pop(j_pos)
        out["text"][[i, j]] = out["text"][[j, i]]
        truth[[i, j]] = True
        done += 1
    return out, truth


def inject_feature_anomalies(
    views: Mapping[str, np.ndarray], frac: float, rng: np.random.Generator
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Replace one view of ``round(frac n)`` rows by noise of that view's scale.

    Each chosen row has its image or its text (equal odds) replaced by Gaussian noise
    with the per-feature mean and standard deviation of the (clean) view.

    Returns
    -------
    views : dict (copies)
    truth : ndarray of bool, shape (n,)
    """
    names = list(views)
    n = len(next(iter(views.values())))
    m = int(round(frac * n))
    rows = rng.permutation(n)[:m]
    which = rng.integers(0, len(names), size=m)
    out = {k: np.array(v, copy=True) for k, v in views.items()}
    for j, k in enumerate(names):
        r = rows[which == j]
        X = np.asarray(views[k])
        out[k][r] = X.mean(0) + rng.standard_normal((len(r), X.shape[1])) * X.std(0)
    truth = np.zeros(n, bool)
    truth[rows] = True
    return out, truth


# ----------------------------------------------------------------------------- models


@dataclass
class _Settings:
    epochs: int
    patience: int
    seed: int
    progress: bool | str


def _common(s: _Settings) -> dict[str, Any]:
    return dict(
        epochs=s.epochs,
        patience=s.patience,
        random_state=s.seed,
        progress=s.progress,
        standardize=False,
    )


def make_drumn(s: _Settings, recon_weight: float, **kw: Any) -> DRUMN:
    """DRUMN: one softplus hidden layer of 256 per modality, 10 outputs, 10 components."""
    params = dict(
        n_components=10,
        hidden=(256,),
        recon_weight=recon_weight,
        noise=0.1,
        batch_size=800,
        learning_rate=1e-3,
        **_common(s),
    )
    params.update(kw)
    return DRUMN(**params)


def _dcca_kw(s: _Settings) -> dict[str, Any]:
    return dict(n_components=10, hidden=(256, 256), learning_rate=1e-4, **_common(s))


def _corr(s: _Settings, variant: str, alpha: float) -> CorrAE:
    return CorrAE(n_components=64, variant=variant, alpha=alpha, hidden=(256,), **_common(s))


def scores(model: Any, split: WikiSplit) -> dict[str, float]:
    """MAP@50 (Euclidean) and MAP over all (cosine) of the test pairs, both directions."""
    Z = model.transform(split.test)
    at50 = cross_modal_map(Z, split.y_test, k=50, metric="euclidean")
    cos = cross_modal_map(Z, split.y_test)
    return {
        "i2t_at50": at50["i2t"],
        "t2i_at50": at50["t2i"],
        "avg_at50": at50["average"],
        "i2t_all_cos": cos["i2t"],
        "t2i_all_cos": cos["t2i"],
        "avg_all_cos": cos["average"],
    }


def _fit(model: Any, views: Mapping[str, np.ndarray], split: WikiSplit, **kw: Any) -> Any:
    return model.fit(views, None, split.val, split.y_val, **kw)


def _val_map(model: Any) -> float:
    return float(max(h["val"] for h in model.history_))


def _select(
    make: Callable[[float], Any], grid: Sequence[float], split: WikiSplit, label: str
) -> tuple[float, Any, float]:
    """Fit one model per grid value; keep the largest validation MAP (first on ties)."""
    best: tuple[float, float, Any, float] | None = None
    for v in grid:
        t = time.perf_counter()
        m = _fit(make(v), split.train, split)
        sec = time.perf_counter() - t
        score = _val_map(m)
        log.info("  %s=%g: validation MAP %.4f (%.0f s)", label, v, score, sec)
        if best is None or score > best[0]:
            best = (score, v, m, sec)
    assert best is not None
    return best[1], best[2], best[3]


def _record(out: dict[str, float], prefix: str, model: Any, split: WikiSplit, sec: float) -> None:
    for k, v in scores(model, split).items():
        out[f"{prefix}.{k}"] = v
    out[f"{prefix}.val_map"] = _val_map(model)
    out[f"{prefix}.best_epoch"] = int(model.best_epoch_)
    out[f"{prefix}.fit_seconds"] = round(sec, 2)


# ----------------------------------------------------------------------------- experiments


def run_complete(split: WikiSplit, s: _Settings, smoke: bool) -> tuple[dict, dict]:
    """Table (a); returns the metrics and the chosen hyperparameters."""
    out: dict[str, float] = {}
    chosen: dict[str, float] = {}

    def grid(g: Sequence[float]) -> Sequence[float]:
        return g[1:2] if smoke else g

    for name, kw in (("drumn", {}), ("drumn_thres", {"threshold": True})):
        lam, m, sec = _select(
            lambda v, kw=kw: make_drumn(s, v, **kw), grid(GRID_DRUMN), split, f"{name} λ"
        )
        _record(out, f"complete.{name}", m, split, sec)
        out[f"complete.{name}.recon_weight"] = chosen[name] = lam
    t = time.perf_counter()
    m = _fit(DCCA(**_dcca_kw(s)), split.train, split)
    _record(out, "complete.dcca", m, split, time.perf_counter() - t)
    lam, m, sec = _select(
        lambda v: DCCAE(recon_weight=v, **_dcca_kw(s)), grid(GRID_DCCAE), split, "dccae λ"
    )
    _record(out, "complete.dccae", m, split, sec)
    out["complete.dccae.recon_weight"] = chosen["dccae"] = lam
    for name, variant in (
        ("corr_ae", "corr"),
        ("corr_cross_ae", "cross"),
        ("corr_full_ae", "full"),
    ):
        a, m, sec = _select(
            lambda v, var=variant: _corr(s, var, v), grid(GRID_CORR), split, f"{name} α"
        )
        _record(out, f"complete.{name}", m, split, sec)
        out[f"complete.{name}.alpha"] = a
    for name in PAPER:
        log.info(
            "complete %-14s MAP@50 i->t %.4f t->i %.4f (paper %.4f / %.4f)",
            name,
            out[f"complete.{name}.i2t_at50"],
            out[f"complete.{name}.t2i_at50"],
            *PAPER[name],
        )
    return out, chosen


def _sub(views: Mapping[str, np.ndarray], rows: np.ndarray) -> dict[str, np.ndarray]:
    return {k: v[rows] for k, v in views.items()}


def run_incomplete(
    split: WikiSplit, s: _Settings, hp: Mapping[str, float], ratios: Sequence[int]
) -> dict[str, float]:
    """Curve (b): MAP@50 against the share of training pairs missing one view."""
    out: dict[str, float] = {}
    n = len(split.y_train)
    for pct in ratios:
        obs = remove_modalities(n, pct / 100, np.random.default_rng([s.seed, 1, pct]))
        complete = np.flatnonzero(obs["image"] & obs["text"])
        m = _fit(make_drumn(s, hp["drumn"]), split.train, split, observed=obs)
        res = {"drumn": scores(m, split)}
        if pct == 0:
            res["drumn_dropped"] = res["drumn"]
        else:
            m = _fit(make_drumn(s, hp["drumn"]), _sub(split.train, complete), split)
            res["drumn_dropped"] = scores(m, split)
        m = _fit(DCCAE(recon_weight=hp["dccae"], **_dcca_kw(s)), _sub(split.train, complete), split)
        res["dccae_dropped"] = scores(m, split)
        for name, r in res.items():
            for k in ("i2t_at50", "t2i_at50", "avg_at50"):
                out[f"incomplete.{pct}.{name}.{k}"] = r[k]
        log.info(
            "incomplete %2d%%: MAP@50 avg DRUMN %.4f, DRUMN dropped %.4f, DCCAE dropped %.4f",
            pct,
            res["drumn"]["avg_at50"],
            res["drumn_dropped"]["avg_at50"],
            res["dccae_dropped"]["avg_at50"],
        )
    return out


def _auc(truth: np.ndarray, weights: np.ndarray) -> float:
    """AUC of ``-weights`` (low weight = anomalous) against ``truth``; NaN weights -> 1."""
    w = np.where(np.isfinite(weights), weights, 1.0)
    return float(roc_auc_score(truth, -w))


def _robust_z(v: np.ndarray) -> np.ndarray:
    med = np.median(v)
    mad = 1.4826 * np.median(np.abs(v - med))
    return (v - med) / (mad if mad > 0 else 1.0)


def _anomaly_score(model: DRUMN, views: Mapping[str, np.ndarray], kind: str) -> np.ndarray:
    """The fitted model's own anomaly evidence, without the history (a diagnostic).

    class: ``-sum_l u_il v_il``, minus the agreement of pair ``i``'s final canonical
    variates (the per-pair term of the correlation); feature: the larger robust
    z-score (median / MAD) of the two views' energies ``E_k(x_ik)``.
    """
    if kind == "class":
        Z = model.transform(views)
        return -(Z["image"] * Z["text"]).sum(axis=1)
    E = model.energy(views)
    return np.maximum(_robust_z(E["image"]), _robust_z(E["text"]))


def run_anomaly(
    split: WikiSplit, s: _Settings, hp: Mapping[str, float], pcts: Sequence[int]
) -> tuple[dict[str, float], dict[str, Any]]:
    """Table (c): detection AUC of ω / γ and MAP with and without the weights."""
    out: dict[str, float] = {}
    keep: dict[str, Any] = {}
    for kind_id, kind in enumerate(("class", "feature")):
        for pct in pcts:
            rng = np.random.default_rng([s.seed, 2, kind_id, pct])
            if kind == "class":
                views, truth = inject_class_anomalies(split.train, split.y_train, pct / 100, rng)
            else:
                views, truth = inject_feature_anomalies(split.train, pct / 100, rng)
            key = f"anomaly.{kind}.{pct}"
            models = {
                "drumn": make_drumn(s, hp["drumn"]),
                "drumn_unweighted": make_drumn(s, hp["drumn"], adaptive_weights=False),
                "drumn_thres": make_drumn(s, hp["drumn_thres"], threshold=True),
            }
            for name, m in models.items():
                _fit(m, views, split)
                r = scores(m, split)
                for k in ("i2t_at50", "t2i_at50", "avg_at50"):
                    out[f"{key}.{name}.{k}"] = r[k]
            omega = {n: np.nanmin(m.feature_weights_, axis=1) for n, m in models.items()}
            gamma = {n: m.pair_weights_ for n, m in models.items()}
            main, cross = (gamma, omega) if kind == "class" else (omega, gamma)
            out[f"{key}.auc"] = _auc(truth, main["drumn"])
            out[f"{key}.cross_auc"] = _auc(truth, cross["drumn"])
            out[f"{key}.thres_auc"] = _auc(truth, main["drumn_thres"])
            out[f"{key}.score_auc"] = _auc(truth, -_anomaly_score(models["drumn"], views, kind))
            keep[key] = {"truth": truth, "weights": main["drumn"]}
            log.info(
                "%s %2d%%: AUC %.3f (Thres %.3f); MAP@50 avg weighted %.4f, unweighted %.4f, "
                "Thres %.4f",
                kind,
                pct,
                out[f"{key}.auc"],
                out[f"{key}.thres_auc"],
                out[f"{key}.drumn.avg_at50"],
                out[f"{key}.drumn_unweighted.avg_at50"],
                out[f"{key}.drumn_thres.avg_at50"],
            )
    return out, keep


# ----------------------------------------------------------------------------- figures


def plot_incomplete(metrics: Mapping[str, float], ratios: Sequence[int], path: Path) -> None:
    plt = start_figure()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), sharey=True)
    labels = {
        "drumn": "DRUMN (all rows)",
        "drumn_dropped": "DRUMN, incomplete dropped",
        "dccae_dropped": "DCCAE, incomplete dropped",
    }
    for ax, d, title in zip(axes, ("i2t", "t2i"), ("image → text", "text → image"), strict=True):
        for name, lab in labels.items():
            ax.plot(
                ratios,
                [metrics[f"incomplete.{p}.{name}.{d}_at50"] for p in ratios],
                marker="o",
                label=lab,
            )
        ax.set_title(title)
        ax.set_xlabel("training pairs missing one modality (%)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("MAP@50 (Euclidean)")
    axes[1].legend(fontsize=8)
    fig.suptitle("Wikipedia, incomplete training pairs", fontsize=10)
    save_figure(fig, path, dpi=120)


def plot_anomaly(keep: Mapping[str, Any], pct: int, path: Path) -> None:
    plt = start_figure()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for ax, kind, wname in zip(
        axes, ("class", "feature"), ("γ", "min(ω_image, ω_text)"), strict=True
    ):
        d = keep.get(f"anomaly.{kind}.{pct}")
        if d is None:
            ax.set_visible(False)
            continue
        w, t = d["weights"], d["truth"]
        bins = np.linspace(np.nanmin(w), np.nanmax(w), 40)
        ax.hist(w[~t], bins=bins, alpha=0.6, density=True, label="normal")
        ax.hist(w[t], bins=bins, alpha=0.6, density=True, label=f"injected ({pct} %)")
        ax.set_title(f"{kind} anomalies: DRUMN's {wname}")
        ax.set_xlabel("weight (mean 1)")
        ax.legend(fontsize=8)
    save_figure(fig, path, dpi=120)


# ----------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Command line entry point; returns the metrics written to ``metrics.json``."""
    p = base_parser("drumn", __doc__, "runs/drumn")
    p.add_argument(
        "--experiments",
        default=",".join(EXPERIMENTS),
        help="comma-separated subset of complete,incomplete,anomaly (default: all)",
    )
    p.add_argument("--text", choices=["tfidf", "lda"], default="tfidf", help="text features")
    p.add_argument("--n-words", type=int, default=2000, help="TF-IDF vocabulary size")
    p.add_argument("--epochs", type=int, default=200, help="maximum epochs (default: 200)")
    p.add_argument("--patience", type=int, default=10, help="early-stopping patience")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default: 1)")
    args = p.parse_args(argv)
    exps = [e.strip() for e in args.experiments.split(",") if e.strip()]
    bad = sorted(set(exps) - set(EXPERIMENTS))
    if bad or not exps:
        raise ConfigError(
            f"--experiments: unknown {bad or exps}; choose from {', '.join(EXPERIMENTS)}."
        )
    out = setup(args)
    torch.set_num_threads(args.threads)
    s = _Settings(
        epochs=2 if args.smoke else args.epochs,
        patience=args.patience,
        seed=args.seed,
        progress=args.progress_flag,
    )
    split = load_split(
        args.data, seed=args.seed, text=args.text, n_words=args.n_words, smoke=args.smoke
    )
    metrics: dict[str, Any] = {
        "data.n_train": len(split.y_train),
        "data.n_val": len(split.y_val),
        "data.n_test": len(split.y_test),
        "data.text_dim": split.train["text"].shape[1],
    }
    log.info(
        "Wikipedia %s: %d train / %d val / %d test pairs, text %d-d",
        args.text,
        *(metrics[f"data.{k}"] for k in ("n_train", "n_val", "n_test", "text_dim")),
    )
    hp = dict(DEFAULTS)
    ratios = (0, 30) if args.smoke else RATIOS
    pcts = (10,) if args.smoke else ANOMALY_PCTS
    for exp in EXPERIMENTS:
        if exp not in exps:
            continue
        t = time.perf_counter()
        if exp == "complete":
            res, chosen = run_complete(split, s, args.smoke)
            hp.update(chosen)
        elif exp == "incomplete":
            metrics.update({f"hp.{k}": v for k, v in hp.items()})
            res = run_incomplete(split, s, hp, ratios)
            plot_incomplete(res, ratios, out / "incomplete.png")
        else:
            metrics.update({f"hp.{k}": v for k, v in hp.items()})
            res, keep = run_anomaly(split, s, hp, pcts)
            plot_anomaly(keep, pcts[len(pcts) // 2], out / "anomaly.png")
        metrics.update(res)
        metrics[f"seconds.{exp}"] = round(time.perf_counter() - t, 2)
        log.info("%s done in %.0f s", exp, metrics[f"seconds.{exp}"])
        save_json(out / "metrics.json", metrics)  # partial results survive an interrupt
    finish(args, out, metrics)
    return json.loads((out / "metrics.json").read_text())


if __name__ == "__main__":
    run_cli(main, "recipes.drumn")
