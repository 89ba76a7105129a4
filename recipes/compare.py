"""Every cross-modal retrieval method on one Wikipedia split, scored by one metric code.

Data: Rasiwasia et al. 2010 (--data), the standard 2,173 training pairs; the 693
test pairs are split, stratified by class with a fixed seed (--split-seed), into
231 validation and 462 test pairs (the HRL paper's protocol, see
``wikipedia_split``).  Every method is trained on the 2,173 training pairs; the
validation pairs serve for early stopping and for the only hyperparameter choices
(a small grid per method, largest validation MAP); the test pairs are scored once.

Features (the same for every method of a family):
  shared   image: SIFT-128 bag of visual words, z-scored with training statistics;
           text (--text bow): counts over the 2,000 most frequent training words
           (boltz.datasets.load_wikipedia_bow), log1p, L2-normalised rows, centred,
           one global scale (docs/models_ae.md); (--text lda): the released LDA-10
           topic proportions, z-scored.  CCA, KCCA, CFA, BimodalAE, CorrAE,
           DCCA/DCCAE, DRUMN, SDML.
  flickr   raw SIFT (PCA-whitened inside the model) and the mean 20-d PPMI word
           vector of the article's words (the Flickr report's text features).
           JointAE, CrossModalAE.
  mdbn     raw SIFT and raw word counts, for the multimodal DBN pretrained with
           recipes/configs/wikipedia.toml (recipes.pretrain; written under
           OUT/mdbn/ or --mdbn-dir, resumed when already there).  Retrieval codes: the joint
           layer P(h | one view), the other view inferred by mean-field, centred
           on the training mean of each view's codes.  HRL (its own step-1 SRBMs
           and multimodal DBN, bridge.models.hrl) takes the same raw views.

Methods (--methods, comma-separated; default all):
  cca, kcca_poly, kcca_rbf, cfa, bimodal_ae, corr_ae, corr_cross_ae, corr_full_ae,
  dcca, dccae, drumn, drumn_thres, sdml (supervised: uses the training labels),
  joint_ae, cross_modal_ae_i, cross_modal_ae_ii, mdbn, hrl (bridge.models.hrl.HRL
  with the paper's widths, on the mdbn features; supervised; its default input skip:
  the feed-forward nets also see each view's input, not in the paper), hrl_paper
  (the same in the paper's architecture, input_skip=False), hrl_literal (the paper's
  architecture with mutual_from="pair", the literal eqs. 12-13: each view's mutual
  part inferred from its paired other view, so a query carries its partner -- a
  leaking diagnostic, not a retrieval result).

Metrics (bridge.metrics, test pairs, each image queries the test texts and vice
versa; labels: the 10 classes).  metrics.json has the flat keys, for every method M:
  M.i2t, M.t2i, M.avg              MAP over all ranks, cosine similarity
                                   (image->text, text->image, their mean)
  M.i2t_at50, M.t2i_at50, M.avg_at50
                                   MAP of the first 50, cosine
  M.i2t_at50_euclidean, M.t2i_at50_euclidean, M.avg_at50_euclidean
                                   MAP of the first 50, Euclidean ranking (DRUMN's
                                   protocol)
  M.val_avg                        validation MAP (cosine, all ranks, mean of the
                                   two directions) of the chosen configuration
  M.seconds                        wall time of the method: every configuration of
                                   its grid fitted, plus embedding and scoring
and n_train, n_val, n_test, split_seed, text, wall_seconds.  Also results.md
(the measured table beside the numbers the papers report, with the chosen
hyperparameters) and pr_curves.png (precision-recall curves, image->text and
text->image, of every method).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from boltz import config
from boltz.errors import ConfigError

from . import pretrain
from ._common import base_parser, finish, run_cli, save_figure, setup, start_figure

log = logging.getLogger("recipes.compare")

__all__ = ["METHODS", "PAPERS", "MDBNRetrieval", "main", "parse_methods", "wikipedia_split"]

CONFIG = Path(__file__).resolve().parent / "configs" / "wikipedia.toml"
N_VAL = 231
SMOKE_TRAIN = 300

# --------------------------------------------------------------------- split


def wikipedia_split(
    y_test: Any, n_val: int = N_VAL, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Split the 693 standard test pairs into validation and test, stratified by class.

    The HRL paper's protocol (Neurocomputing 2019, Sect. 4.1): 2,173 training pairs,
    the 693 test pairs divided into 231 validation and 462 test pairs.

    Parameters
    ----------
    y_test : array-like of int, shape (n,)
        Class of each standard test pair.
    n_val : int, default 231
        Validation pairs.
    seed : int, default 0
        Seed of the stratified shuffle (scikit-learn ``train_test_split``).

    Returns
    -------
    val_idx, test_idx : ndarray of int, shapes (n_val,), (n - n_val,)
        Sorted row indices into the standard test set; disjoint, together all rows.

    Notes
    -----
    ``recipes.hrl.split_test`` itself, so the two recipes score the same rows.
    """
    from .hrl import split_test

    return split_test(np.asarray(y_test), int(n_val), seed)


# --------------------------------------------------------------------- features


def _zscore(a: np.ndarray, ref: np.ndarray) -> np.ndarray:
    return (a - ref.mean(0)) / (ref.std(0) + 1e-8)


def _bow_rows(counts: Any) -> np.ndarray:
    x = np.log1p(np.asarray(counts.toarray() if sp.issparse(counts) else counts, np.float64))
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def bow_features(counts: Any, ref: Any) -> np.ndarray:
    """log1p counts, L2-normalised rows, centred, one global scale (docs/models_ae.md).

    Parameters
    ----------
    counts : array-like or CSR, shape (n, V)
        Word counts to transform.
    ref : array-like or CSR, shape (n_train, V)
        Training counts: the mean and the single scale come from them.

    Returns
    -------
    ndarray of float64, shape (n, V)
    """
    a, r = _bow_rows(counts), _bow_rows(ref)
    return (a - r.mean(0)) / r.std()


@dataclass(frozen=True)
class Split:
    """Rows of one feature family for the three parts of the protocol."""

    train: dict[str, Any]
    val: dict[str, Any]
    test: dict[str, Any]


def _take(views: Mapping[str, Any], idx: np.ndarray) -> dict[str, Any]:
    return {k: v[idx] for k, v in views.items()}


def build_features(
    d: Any, family: str, text: str, tr: np.ndarray, va: np.ndarray, te: np.ndarray, seed: int
) -> Split:
    """Views of one feature family (see the module docstring) for train / val / test.

    Parameters
    ----------
    d : WikipediaBow
    family : {"shared", "flickr", "mdbn"}
    text : {"bow", "lda"}
        Text of the "shared" family.
    tr : ndarray of int
        Rows of the standard training set used for training.
    va, te : ndarray of int
        Rows of the standard test set for validation and test.
    seed : int
        Seed of the word-vector SVD ("flickr").

    Returns
    -------
    Split
    """
    Itr, Ite = d.image_train[tr], d.image_test
    Ctr, Cte = d.counts_train[tr], d.counts_test
    if family == "shared":
        img = (_zscore(Itr, Itr), _zscore(Ite, Itr))
        if text == "lda":
            Ttr = d.topics_train[tr]
            txt = (_zscore(Ttr, Ttr), _zscore(d.topics_test, Ttr))
        else:
            txt = (bow_features(Ctr, Ctr), bow_features(Cte, Ctr))
    elif family == "flickr":
        from bridge.models.flickr_ae import mean_word_vectors, ppmi_word_vectors

        E = ppmi_word_vectors(Ctr, dim=20, random_state=seed)
        img = (Itr, Ite)
        txt = (mean_word_vectors(Ctr, E), mean_word_vectors(Cte, E))
    elif family == "mdbn":
        img = (Itr, Ite)
        txt = (sp.csr_matrix(Ctr, dtype=np.float32), sp.csr_matrix(Cte, dtype=np.float32))
    else:  # pragma: no cover - METHODS only names the three families
        raise ConfigError(f"unknown feature family {family!r}")
    test_views = {"image": img[1], "text": txt[1]}
    return Split(
        train={"image": img[0], "text": txt[0]},
        val=_take(test_views, va),
        test=_take(test_views, te),
    )


# --------------------------------------------------------------------- the multimodal DBN


@dataclass(eq=False, repr=False)
class MDBNRetrieval:
    """Cross-modal retrieval codes from a multimodal DBN's joint layer.

    ``fit`` pretrains the multimodal DBN of a ``recipes.pretrain`` config on the
    training pairs (resumable checkpoints under ``out``); ``transform`` embeds each
    view **alone**: ``P(h_joint = 1 | view)`` with the other view's top layer
    inferred by mean-field (``MultimodalDBN.transform``), minus the mean code of
    that view over the training pairs (sigmoid codes share a large positive offset
    that dominates cosine similarity; the autoencoders centre the same way).

    Parameters
    ----------
    config : path-like
        A ``recipes.pretrain`` TOML file with pathways ``image`` and ``text``.
    out : path-like
        Folder for the pretraining checkpoints.
    steps : int, default 10
        Mean-field alternations for the missing view.
    seed : int, default 0
    smoke : bool, default False
        ``recipes.pretrain`` smoke sizes (16 hidden units, 2 epochs per layer).
    progress : "auto" or bool, default "auto"

    Attributes
    ----------
    model_ : boltz.MultimodalDBN
    means_ : dict[str, ndarray of shape (n_joint,)]
        Training mean of each view's one-view codes.
    """

    config: str | Path = CONFIG
    out: str | Path = "runs/compare/mdbn"
    steps: int = 10
    seed: int = 0
    smoke: bool = False
    progress: Any = "auto"

    def fit(
        self,
        views: Mapping[str, Any],
        y: Any = None,
        views_val: Any = None,
        y_val: Any = None,
    ) -> MDBNRetrieval:
        """Pretrain on ``views`` (``image``: raw SIFT, ``text``: counts); labels unused."""
        spec = config.load_config(self.config)
        names = {pw["view"] for pw in spec["pathways"].values()}
        if spec["joint"] is None or names != {"image", "text"}:
            raise ConfigError(
                f"{self.config}: expected a multimodal DBN with the views 'image' and 'text'; "
                f"got {sorted(names)}"
            )
        self.model_, _ = pretrain.run(
            spec, views, self.out, seed=self.seed, smoke=self.smoke, progress=self.progress
        )
        self.means_ = {k: self._codes(k, v).mean(0) for k, v in views.items()}
        return self

    def _codes(self, name: str, X: Any) -> np.ndarray:
        return np.asarray(self.model_.transform({name: X}, steps=self.steps), np.float64)

    def transform(self, views: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """One-view joint codes, centred; shape (n, n_joint) per view."""
        return {k: self._codes(k, v) - self.means_[k] for k, v in views.items()}


# --------------------------------------------------------------------- methods


@dataclass(frozen=True)
class Settings:
    """What every candidate builder needs to know about the run."""

    smoke: bool
    seed: int
    progress: Any
    text: str
    mdbn_dir: Path


Candidates = list[tuple[str, Any]]


@dataclass(frozen=True)
class Method:
    """One row of the comparison: its label, feature family and configurations."""

    label: str
    family: str
    candidates: Callable[[Settings], Candidates]
    embed: str = "transform"


def _nn(s: Settings, **kw: Any) -> dict[str, Any]:
    """Training keywords shared by the torch models."""
    base = dict(
        epochs=2 if s.smoke else 200,
        patience=20,
        random_state=s.seed,
        progress=None if s.progress == "auto" else s.progress,
    )
    base.update(kw)
    return base


def _k(s: Settings) -> int:
    return 9 if s.text == "lda" else 10


def _cca(s: Settings) -> Candidates:
    from bridge.baselines import CCA

    regs = (1e-2, 1e-1, 1.0, 10.0, 100.0, 1000.0)
    return [(f"reg={r:g}", CCA(n_components=_k(s), reg=r)) for r in regs]


def _kcca(kernel: str) -> Callable[[Settings], Candidates]:
    def build(s: Settings) -> Candidates:
        from bridge.baselines import KCCA

        regs = (1.0,) if s.smoke else (1e-1, 1.0, 10.0, 100.0)
        return [
            (
                f"reg={r:g}",
                KCCA(
                    n_components=_k(s),
                    kernel=kernel,
                    degree=2,
                    reg=r,
                    approx="exact",
                    random_state=s.seed,
                ),
            )
            for r in regs
        ]

    return build


def _cfa(s: Settings) -> Candidates:
    from bridge.baselines import CFA

    ks = (5, 9) if s.text == "lda" else (10, 20, 40)
    return [(f"k={k}", CFA(n_components=k)) for k in ks]


def _hidden(s: Settings, full: tuple[int, ...]) -> tuple[int, ...]:
    return (16,) * len(full) if s.smoke else full


def _bimodal(s: Settings) -> Candidates:
    from bridge.models.bimodal_ae import BimodalAE

    kw = _nn(s, standardize=False)
    return [("", BimodalAE(n_components=8 if s.smoke else 64, hidden=_hidden(s, (256,)), **kw))]


def _corr(variant: str) -> Callable[[Settings], Candidates]:
    def build(s: Settings) -> Candidates:
        from bridge.models.corr_ae import CorrAE

        kw = _nn(s, standardize=False)
        alphas = (0.5,) if s.smoke else (0.2, 0.5, 0.8, 0.9)
        return [
            (
                f"α={a}",
                CorrAE(
                    n_components=8 if s.smoke else 64,
                    variant=variant,
                    alpha=a,
                    hidden=_hidden(s, (256,)),
                    **kw,
                ),
            )
            for a in alphas
        ]

    return build


def _dcca_kw(s: Settings) -> dict[str, Any]:
    return _nn(
        s,
        n_components=4 if s.smoke else 10,
        hidden=_hidden(s, (256, 256)),
        learning_rate=1e-4,
        batch_size=100 if s.smoke else 800,
        standardize=False,
    )


def _dcca(s: Settings) -> Candidates:
    from bridge.models.dcca import DCCA

    return [("", DCCA(**_dcca_kw(s)))]


def _dccae(s: Settings) -> Candidates:
    from bridge.models.dcca import DCCAE

    weights = (0.1,) if s.smoke else (0.01, 0.1, 1.0)
    return [(f"λ={w}", DCCAE(recon_weight=w, **_dcca_kw(s))) for w in weights]


def _drumn(threshold: bool) -> Callable[[Settings], Candidates]:
    def build(s: Settings) -> Candidates:
        from bridge.models.drumn import DRUMN

        kw = _dcca_kw(s)
        kw.update(hidden=_hidden(s, (256, 256)), learning_rate=1e-3)
        weights = (1.0,) if s.smoke else (0.001, 0.01, 0.1, 1.0, 10.0, 100.0)
        return [(f"λ={w}", DRUMN(threshold=threshold, recon_weight=w, **kw)) for w in weights]

    return build


def _sdml(s: Settings) -> Candidates:
    from bridge.models.sdml import SDML

    kw = _nn(s, standardize=False)
    return [
        (
            "",
            SDML(hidden=_hidden(s, (1024, 1024)), code=16 if s.smoke else 512, **kw),
        )
    ]


def _joint(s: Settings) -> Candidates:
    from bridge.models.flickr_ae import JointAE

    return [("", JointAE(n_hidden=16 if s.smoke else None, **_nn(s)))]


def _cross(variant: str) -> Callable[[Settings], Candidates]:
    def build(s: Settings) -> Candidates:
        from bridge.models.flickr_ae import CrossModalAE

        return [("", CrossModalAE(variant=variant, n_hidden=16 if s.smoke else None, **_nn(s)))]

    return build


def _mdbn(s: Settings) -> Candidates:
    return [
        (
            "",
            MDBNRetrieval(CONFIG, s.mdbn_dir, seed=s.seed, smoke=s.smoke, progress=s.progress),
        )
    ]


def _hrl(s: Settings, mutual_from: str = "self", input_skip: bool | str = "auto") -> Candidates:
    from bridge.models.hrl import HRL

    if s.smoke:
        kw: dict[str, Any] = dict(
            friendly_hidden=(16, 16, 16),
            mutual_hidden={"image": (16, 16), "text": (16, 16)},
            joint_hidden=16,
            rbm_epochs=1,
            joint_ae_hidden=16,
            ff_hidden=(16, 16, 16),
            n_bae_max=2,
            epochs=2,
        )
    else:  # the paper's widths (bridge.models.hrl defaults), image pathway 2048 -> 1024
        kw = dict(mutual_hidden={"image": (2048, 1024), "text": (1024, 1024)})
    progress = None if s.progress == "auto" else s.progress
    model = HRL(
        mutual_from=mutual_from,
        input_skip=input_skip,
        random_state=s.seed,
        progress=progress,
        **kw,
    )
    return [("", model)]


def _hrl_literal(s: Settings) -> Candidates:
    """The paper's literal eqs. 12-13: each view's mutual part from its partner (leaks)."""
    return _hrl(s, mutual_from="pair", input_skip=False)


def _hrl_paper(s: Settings) -> Candidates:
    """HRL in the paper's architecture (no input skip)."""
    return _hrl(s, input_skip=False)


METHODS: dict[str, Method] = {
    "cca": Method("CCA", "shared", _cca),
    "kcca_poly": Method("KCCA (poly, degree 2)", "shared", _kcca("poly")),
    "kcca_rbf": Method("KCCA (Gaussian)", "shared", _kcca("rbf")),
    "cfa": Method("CFA", "shared", _cfa),
    "bimodal_ae": Method("Bimodal AE", "shared", _bimodal),
    "corr_ae": Method("Corr-AE", "shared", _corr("corr")),
    "corr_cross_ae": Method("Corr-Cross-AE", "shared", _corr("cross")),
    "corr_full_ae": Method("Corr-Full-AE", "shared", _corr("full")),
    "dcca": Method("DCCA", "shared", _dcca),
    "dccae": Method("DCCAE", "shared", _dccae),
    "drumn": Method("DRUMN", "shared", _drumn(False)),
    "drumn_thres": Method("DRUMN-Thres", "shared", _drumn(True)),
    "sdml": Method("SDML (supervised)", "shared", _sdml),
    "joint_ae": Method("JointAE", "flickr", _joint),
    "cross_modal_ae_i": Method("CrossModalAE I", "flickr", _cross("I"), "text_space"),
    "cross_modal_ae_ii": Method("CrossModalAE II", "flickr", _cross("II"), "text_space"),
    "mdbn": Method("Multimodal DBN", "mdbn", _mdbn),
    "hrl": Method("HRL (defaults: input skip, not in the paper)", "mdbn", _hrl),
    "hrl_paper": Method("HRL, the paper's architecture (input_skip=False)", "mdbn", _hrl_paper),
    "hrl_literal": Method(
        "HRL, literal eqs. 12-13 (leaks the query's partner)", "mdbn", _hrl_literal
    ),
}

#: Numbers the papers report on Wikipedia: method -> list of (source, i2t, t2i).
#: "HRL T2": HRL (Neurocomputing 2019) Table 2, hand-crafted features, MAP over all.
#: "SDML T3": SDML (SIGIR 2019) Table 3, VGG-19 / Doc2Vec features, MAP over all.
#: "DRUMN T1": DRUMN (AAAI 2019) Table 1, WIKI, MAP of the first 50, Euclidean ranking.
PAPERS: dict[str, dict[str, list[tuple[str, float, float]]]] = {
    "all": {
        "cca": [("HRL T2", 0.203, 0.183), ("SDML T3 (MCCA)", 0.202, 0.189)],
        "kcca_poly": [("HRL T2", 0.200, 0.185)],
        "kcca_rbf": [("HRL T2", 0.245, 0.219)],
        "cfa": [("HRL T2", 0.236, 0.211)],
        "bimodal_ae": [("HRL T2", 0.236, 0.208)],
        # HRL: "the best MAP score among the three models" (Corr-AE, -Cross, -Full)
        "corr_ae": [("HRL T2 (best of 3)", 0.280, 0.242)],
        "corr_cross_ae": [("HRL T2 (best of 3)", 0.280, 0.242)],
        "corr_full_ae": [("HRL T2 (best of 3)", 0.280, 0.242)],
        "dcca": [("SDML T3", 0.301, 0.286)],
        "dccae": [("SDML T3", 0.308, 0.290)],
        "sdml": [("SDML T3", 0.522, 0.488)],
        "mdbn": [("HRL T2", 0.149, 0.150)],
        "hrl": [("HRL T2", 0.672, 0.686)],
        "hrl_literal": [("HRL T2", 0.672, 0.686)],
        "hrl_paper": [("HRL T2", 0.672, 0.686)],
    },
    "at50_euclidean": {
        "dcca": [("DRUMN T1", 0.1711, 0.1647)],
        "dccae": [("DRUMN T1", 0.1740, 0.1660)],
        "corr_ae": [("DRUMN T1", 0.1780, 0.1627)],
        "corr_cross_ae": [("DRUMN T1", 0.1770, 0.1699)],
        "corr_full_ae": [("DRUMN T1", 0.1654, 0.1643)],
        "drumn_thres": [("DRUMN T1", 0.1567, 0.1722)],
        "drumn": [("DRUMN T1", 0.1781, 0.1887)],
    },
}


def parse_methods(spec: str | None) -> list[str]:
    """Method names from a comma-separated ``--methods`` value (None or "all": every one).

    Raises
    ------
    ConfigError
        An unknown name; the message lists the valid ones.
    """
    if spec is None or spec.strip() in ("", "all"):
        return list(METHODS)
    names = [n.strip() for n in spec.split(",") if n.strip()]
    unknown = [n for n in names if n not in METHODS]
    if unknown:
        raise ConfigError(
            f"--methods: unknown method(s) {', '.join(unknown)}; valid: {', '.join(METHODS)}"
        )
    return list(dict.fromkeys(names))


# --------------------------------------------------------------------- scoring


def _embed(method: Method, model: Any, views: Mapping[str, Any]) -> dict[str, np.ndarray]:
    if method.embed == "text_space":
        emb = model.transform_text_space(views)
    else:
        emb = model.transform(views)
    return {"image": np.asarray(emb["image"]), "text": np.asarray(emb["text"])}


def score(emb: Mapping[str, np.ndarray], y: np.ndarray) -> dict[str, float]:
    """The retrieval numbers of one method (the ``M.*`` keys without ``M.``).

    Parameters
    ----------
    emb : dict with "image" and "text", shapes (n, k)
    y : ndarray of int, shape (n,)

    Returns
    -------
    dict of str -> float
    """
    from bridge.metrics import cross_modal_map

    out: dict[str, float] = {}
    protocols = (
        ("", None, "cosine"),
        ("_at50", 50, "cosine"),
        ("_at50_euclidean", 50, "euclidean"),
    )
    for suffix, k, metric in protocols:
        m = cross_modal_map(emb, y, k=k, metric=metric)
        out[f"i2t{suffix}"] = float(m["i2t"])
        out[f"t2i{suffix}"] = float(m["t2i"])
        out[f"avg{suffix}"] = float(m["average"])
    return out


def _val_map(emb: Mapping[str, np.ndarray], y: np.ndarray) -> float:
    from bridge.metrics import cross_modal_map

    return float(cross_modal_map(emb, y)["average"])


@dataclass
class Result:
    """A method's chosen configuration, its test embeddings and numbers."""

    name: str
    choice: str
    best_epoch: Any
    scores: dict[str, float]
    emb: dict[str, np.ndarray]


def run_method(
    name: str, s: Settings, split: Split, y_tr: np.ndarray, y_va: np.ndarray, y_te: np.ndarray
) -> Result:
    """Fit every configuration of ``name``, keep the best on validation, score the test.

    Returns
    -------
    Result
        ``scores`` holds the ``M.*`` keys (without the prefix), ``val_avg`` and
        ``seconds`` included.
    """
    method = METHODS[name]
    t0 = time.perf_counter()
    best: tuple[float, str, Any] | None = None
    for note, model in method.candidates(s):
        model.fit(split.train, y_tr, split.val, y_va)
        v = _val_map(_embed(method, model, split.val), y_va)
        log.info("%s %s: validation MAP %.4f", name, note or "(one configuration)", v)
        if best is None or v > best[0]:
            best = (v, note, model)
    assert best is not None
    val, note, model = best
    emb = _embed(method, model, split.test)
    scores = score(emb, y_te)
    scores["val_avg"] = val
    scores["seconds"] = round(time.perf_counter() - t0, 2)
    log.info(
        "%s: test MAP i2t %.4f t2i %.4f (%.1f s)",
        name,
        scores["i2t"],
        scores["t2i"],
        scores["seconds"],
    )
    return Result(name, note, getattr(model, "best_epoch_", None), scores, emb)


# --------------------------------------------------------------------- outputs


def _gap(ours: float, paper: float) -> str:
    return f"{ours - paper:+.3f}"


def _paper_cells(
    refs: Sequence[tuple[str, float, float]], i2t: float, t2i: float, digits: int = 3
) -> tuple[str, str]:
    """'paper numbers' and 'gap' cells; a direction below the paper is marked."""
    if not refs:
        return "–", "–"
    papers, gaps = [], []
    for src, pi, pt in refs:
        papers.append(f"{pi:.{digits}f} / {pt:.{digits}f} ({src})")
        short = [d for d, o, p in (("i→t", i2t, pi), ("t→i", t2i, pt)) if o < p]
        verdict = "reached" if not short else f"not reached ({', '.join(short)})"
        gaps.append(f"{_gap(i2t, pi)} / {_gap(t2i, pt)} {verdict}")
    return "<br>".join(papers), "<br>".join(gaps)


def _epoch(r: Result) -> str:
    e = r.best_epoch
    if isinstance(e, Mapping):
        return ", ".join(f"{k} {v}" for k, v in e.items())
    return "" if e is None else str(e)


def results_markdown(results: Sequence[Result], meta: Mapping[str, Any]) -> str:
    """The two tables of ``results.md`` (MAP over all; MAP@50) beside the papers."""
    lines = [
        f"Wikipedia, {meta['n_train']} training / {meta['n_val']} validation / "
        f"{meta['n_test']} test pairs (split seed {meta['split_seed']}), text features "
        f"'{meta['text']}', seed {meta['seed']}{' (SMOKE: tiny sizes)' if meta['smoke'] else ''}."
        " Features differ from every paper's (see docs/compare.md).",
        "",
        "MAP over all ranks, cosine:",
        "",
        "| method | chosen | best epoch | i→t | t→i | avg | paper i→t / t→i | ours − paper |"
        " seconds |",
        "|---|---|---|---:|---:|---:|---|---|---:|",
    ]
    for r in results:
        sc = r.scores
        pc, gc = _paper_cells(PAPERS["all"].get(r.name, []), sc["i2t"], sc["t2i"])
        lines.append(
            f"| {METHODS[r.name].label} | {r.choice or '–'} | {_epoch(r) or '–'} | "
            f"{sc['i2t']:.3f} | {sc['t2i']:.3f} | {sc['avg']:.3f} | {pc} | {gc} | "
            f"{sc['seconds']:.1f} |"
        )
    lines += [
        "",
        "MAP of the first 50 (cosine, and Euclidean ranking as in DRUMN's Table 1):",
        "",
        "| method | i→t@50 | t→i@50 | i→t@50 eucl. | t→i@50 eucl. | DRUMN T1 i→t / t→i |"
        " ours (eucl.) − paper |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    for r in results:
        sc = r.scores
        pc, gc = _paper_cells(
            PAPERS["at50_euclidean"].get(r.name, []),
            sc["i2t_at50_euclidean"],
            sc["t2i_at50_euclidean"],
            digits=4,
        )
        lines.append(
            f"| {METHODS[r.name].label} | {sc['i2t_at50']:.3f} | {sc['t2i_at50']:.3f} | "
            f"{sc['i2t_at50_euclidean']:.3f} | {sc['t2i_at50_euclidean']:.3f} | {pc} | {gc} |"
        )
    return "\n".join(lines) + "\n"


def plot_pr(results: Sequence[Result], y: np.ndarray, path: Path) -> None:
    """Precision-recall curves (cosine, 21 interpolated recall levels) of every method."""
    from bridge.metrics import precision_recall_curve

    plt = start_figure()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6), sharey=True)
    cmap = plt.get_cmap("tab20")
    styles = ("-", "--", ":", "-.")
    for i, r in enumerate(results):
        for ax, (q, db) in zip(axes, (("image", "text"), ("text", "image"))):
            p, rec = precision_recall_curve(r.emb[q], r.emb[db], y, y, n_points=21)
            ax.plot(
                rec,
                p,
                color=cmap(i % 20),
                ls=styles[(i // 10) % len(styles)],
                lw=1.2,
                label=METHODS[r.name].label,
            )
    for ax, title in zip(axes, ("image → text", "text → image")):
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("recall")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("precision (interpolated, mean over queries)")
    axes[1].legend(fontsize=7, loc="upper right", ncol=2)
    save_figure(fig, path)


# --------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Command line entry point; returns the metrics written to ``metrics.json``."""
    p = base_parser("compare", __doc__, "runs/compare")
    p.add_argument(
        "--methods",
        default=None,
        help="comma-separated subset of the methods above (default: all)",
    )
    p.add_argument(
        "--text",
        choices=["bow", "lda"],
        default="bow",
        help="text of the shared features: bag of words or LDA-10 topics (default: bow)",
    )
    p.add_argument(
        "--split-seed",
        type=int,
        default=0,
        help="seed of the stratified 231 / 462 validation / test split (default: 0)",
    )
    p.add_argument(
        "--mdbn-dir",
        default=None,
        help="pretraining folder of the multimodal DBN (default: OUT/mdbn); finished or "
        "interrupted checkpoints there are resumed, so a second run (e.g. --text lda) "
        "can reuse the first run's DBN",
    )
    p.add_argument("--threads", type=int, default=1, help="torch and BLAS threads (default: 1)")
    args = p.parse_args(argv)
    names = parse_methods(args.methods)
    out = setup(args)

    import torch
    from threadpoolctl import threadpool_limits

    from boltz.datasets import load_wikipedia_bow

    torch.set_num_threads(max(1, args.threads))
    words = int(config.load_config(CONFIG)["data"].get("words", 2000))
    d = load_wikipedia_bow(args.data, n_words=words)
    val_idx, test_idx = wikipedia_split(d.y_test, N_VAL, args.split_seed)
    tr = np.arange(len(d.y_train))
    if args.smoke:
        tr = np.sort(np.random.default_rng(args.seed).permutation(tr)[:SMOKE_TRAIN])
    y_tr, y_va, y_te = d.y_train[tr], d.y_test[val_idx], d.y_test[test_idx]
    mdbn_dir = Path(args.mdbn_dir) if args.mdbn_dir else out / "mdbn"
    s = Settings(args.smoke, args.seed, args.progress_flag, args.text, mdbn_dir)
    splits: dict[str, Split] = {}
    results: list[Result] = []
    with threadpool_limits(max(1, args.threads)):
        for name in names:
            fam = METHODS[name].family
            if fam not in splits:
                splits[fam] = build_features(d, fam, args.text, tr, val_idx, test_idx, args.seed)
            log.info("%s (%s features)", name, fam)
            results.append(run_method(name, s, splits[fam], y_tr, y_va, y_te))
        plot_pr(results, y_te, out / "pr_curves.png")
    meta = {
        "n_train": len(tr),
        "n_val": len(val_idx),
        "n_test": len(test_idx),
        "split_seed": args.split_seed,
        "text": args.text,
        "seed": args.seed,
        "smoke": args.smoke,
    }
    (out / "results.md").write_text(results_markdown(results, meta))
    metrics: dict[str, Any] = {k: v for k, v in meta.items() if k not in ("seed", "smoke")}
    for r in results:
        metrics.update({f"{r.name}.{k}": v for k, v in r.scores.items()})
    finish(args, out, metrics)
    if not args.quiet:
        print(f"{'method':22s} {'i2t':>6s} {'t2i':>6s} {'avg':>6s} {'seconds':>8s}")
        for r in results:
            sc = r.scores
            print(
                f"{r.name:22s} {sc['i2t']:6.3f} {sc['t2i']:6.3f} {sc['avg']:6.3f} "
                f"{sc['seconds']:8.1f}"
            )
        print(f"outputs in {out}")
    return metrics


if __name__ == "__main__":
    run_cli(main, "recipes.compare")
