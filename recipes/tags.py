"""Generate tags (words) for untagged items with a multimodal DBN, on any collection.

One path for every collection: the features and tags of the training items go to
:class:`boltz.tagger.Tagger`, which picks the unit types from the values (0/1 ->
Bernoulli, counts -> replicated softmax, real values -> Gaussian), builds and
trains a multimodal DBN (pathways "features" and "tags"), and scores every word
of every test item by generating the tags view from the features through the joint
layer.  Collections:

  --dataset wikipedia   SIFT-128 image features -> the article's words
                        (2,000-word bag of words; 2,173 train / 693 test)
  --dataset corel5k     499 blob tokens -> the 374 Corel keywords (4,500 / 500)
  --npz FILE            your own: arrays X_train, Y_train, X_test, optional Y_test,
                        optional words (np.savez; no pickled objects)

Outputs in --out:
  generated.tsv   one line per test item: index<TAB>word1,word2,... (the --top best
                  words, best first: by default 10 or as many as a typical training
                  text has, whichever is more; names when known, else column indices)
  metrics.json    with test tags: for the tagger (its annotation ranking, the
                  probabilities divided by the tags' frequency to the exponent it
                  chose on held-out training items, and its plain probabilities),
                  a shuffled-features control and the baselines measured in this
                  run (frequency, k-nearest-neighbour label transfer, the same
                  with the frequency adjustment chosen by leave-one-out on the
                  training items, per-word logistic regression), the annotation
                  protocol of the literature (5 words per item; per-word precision
                  and recall averaged over the words present in the test set; N+ =
                  words with recall > 0; F1 of the two means) and precision@10 per
                  item; the published anchors for Corel5k; Wikipedia adds class
                  accuracies of the generated texts (a text classifier trained on
                  real texts; beside a reference generator built from an
                  image-only classifier)
  table.md        the same as a table
  examples.png    test items with their real and generated words (examples.md)
  model.npz       the trained Tagger (reuse with --model)
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

import boltz
from boltz.errors import ConfigError, DataError
from boltz.tagger import Tagger, check_tagging_data
from boltz.tagging import (
    annotation_scores,
    choose_frequency_exponent,
    frequency_adjusted,
    frequency_scores,
    knn_label_transfer,
    logistic_scores,
    precision_at_k,
    tag_frequency,
    top_k,
)

from ._common import base_parser, finish, run_cli, save_figure, setup, start_figure

log = logging.getLogger("recipes.tags")

__all__ = ["ANCHORS", "load_collection", "main", "write_generated"]

#: Published results on Corel5k's blob tokens (Lavrenko, Manmatha & Jeon 2003,
#: Table 1; 5 words per image, averages over the 260 test words).
ANCHORS = {
    "corel5k": {
        "co-occurrence (Mori et al. 1999)": {"precision": 0.03, "recall": 0.02, "n_plus": 19},
        "translation (Duygulu et al. 2002)": {"precision": 0.06, "recall": 0.04, "n_plus": 49},
        "CMRM (Jeon et al. 2003)": {"precision": 0.10, "recall": 0.09, "n_plus": 66},
    }
}
_NPZ_KEYS = ("X_train", "Y_train", "X_test", "Y_test", "words")


def load_collection(args: Any) -> dict[str, Any]:
    """The collection named by ``--dataset`` / ``--npz``, validated.

    Returns
    -------
    dict
        :func:`boltz.tagger.check_tagging_data`'s output plus ``name`` and, for
        Wikipedia, ``extra`` (classes, titles, labels for the class accuracies).
    """
    extra: dict[str, Any] = {}
    if args.npz:
        path = Path(args.npz)
        if not path.is_file():
            raise FileNotFoundError(f"--npz {str(path)!r}: no such file")
        try:
            with np.load(path, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        except ValueError as e:
            raise DataError(
                f"{path}: could not read it without pickle ({e}); save plain numeric arrays "
                "and words as a string array (np.savez(path, X_train=..., words=np.array"
                "(names, dtype=str)))"
            ) from e
        except Exception as e:
            raise DataError(f"{path}: not a readable .npz file ({e})") from e
        unknown = sorted(set(arrays) - set(_NPZ_KEYS))
        missing = [k for k in ("X_train", "Y_train", "X_test") if k not in arrays]
        if missing:
            raise DataError(
                f"{path}: missing array(s) {missing}; it needs X_train, Y_train, X_test "
                f"(optional Y_test, words); it has {sorted(arrays)}"
            )
        if unknown:
            log.warning("%s: ignoring unknown arrays %s", path, unknown)
        data = check_tagging_data(**{k: arrays.get(k) for k in _NPZ_KEYS})
        name = path.stem
    elif args.dataset == "corel5k":
        from boltz.datasets import load_corel5k

        d = load_corel5k(args.data)
        data = check_tagging_data(d.blobs_train, d.words_train, d.blobs_test, d.words_test, d.words)
        name = "corel5k"
    else:
        from boltz.datasets import load_wikipedia_bow

        d = load_wikipedia_bow(args.data, n_words=args.n_words)
        data = check_tagging_data(
            d.image_train, d.counts_train, d.image_test, d.counts_test, d.vocabulary
        )
        extra = {
            "classes": d.classes,
            "titles_test": list(d.titles_test),
            "y_train": d.y_train,
            "y_test": d.y_test,
        }
        name = "wikipedia"
    data.update(name=name, extra=extra)
    if args.smoke:
        data = _smoke(data)
    return data


def _smoke(data: dict[str, Any]) -> dict[str, Any]:
    """Small subsets (seconds): 300 training and 40 test items."""
    out = dict(data)
    out["X_train"], out["Y_train"] = data["X_train"][:300], data["Y_train"][:300]
    out["X_test"] = data["X_test"][:40]
    if data["Y_test"] is not None:
        out["Y_test"] = data["Y_test"][:40]
    ex = dict(data["extra"])
    if "y_train" in ex:  # Wikipedia's class labels and titles follow the rows
        ex.update(y_train=ex["y_train"][:300], y_test=ex["y_test"][:40])
        ex.update(titles_test=ex["titles_test"][:40])
    out["extra"] = ex
    return out


def write_generated(path: Path, scores: np.ndarray, words: list[str], k: int) -> None:
    """``index<TAB>w1,w2,...`` per row: the ``k`` best words, best first."""
    top = top_k(scores, k)
    with open(path, "w", encoding="utf-8") as f:
        for i, row in enumerate(top):
            f.write(f"{i}\t{','.join(words[j] for j in row)}\n")


def _tagger(args: Any, data: dict[str, Any], out: Path) -> Tagger:
    if args.model:
        obj = boltz.load(args.model, device="cpu")
        log.info("loaded %s", args.model)
        return obj if isinstance(obj, Tagger) else Tagger.from_model(obj)
    kw: dict[str, Any] = dict(random_state=args.seed, progress=args.progress_flag)
    if args.smoke:
        kw.update(epochs=3, finetune_epochs=3, joint_hidden=64, n_models=1)
        if data["features_visible"] != "bernoulli":
            kw.update(features_hidden=(64,))
    if args.n_models is not None:  # after --smoke's: an explicit count wins
        kw.update(n_models=args.n_models)
    tagger = Tagger(**kw)
    log.info(
        "training a tagger on %d items (features look %s, tags look %s)",
        data["X_train"].shape[0],
        data["features_visible"],
        data["tags_visible"],
    )
    tagger.fit(data["X_train"], data["Y_train"])
    log.info("modelled as: features %s, tags %s", tagger.features_visible_, tagger.tags_visible_)
    tagger.save(out / "model.npz")
    return tagger


def _dense(Y: Any) -> np.ndarray:
    return np.asarray(Y.toarray() if sp.issparse(Y) else Y)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Command line entry point; returns the metrics written to ``metrics.json``."""
    p = base_parser("tags", __doc__, "runs/tags")
    src = p.add_mutually_exclusive_group()
    src.add_argument(
        "--dataset",
        choices=["wikipedia", "corel5k"],
        default="wikipedia",
        help="a shipped collection under --data (default: %(default)s)",
    )
    src.add_argument("--npz", help="your own collection (see above)")
    p.add_argument(
        "--model",
        help="a saved Tagger (e.g. runs/tags/model.npz) or MultimodalDBN with the "
        "pathways 'features' and 'tags'; default: train one here",
    )
    p.add_argument(
        "--n-models",
        type=int,
        help="independently trained models to average (default: boltz.Tagger's)",
    )
    p.add_argument(
        "--top",
        type=int,
        help="words per line of generated.tsv (default: 10 or the number of distinct "
        "words of a typical training text, whichever is larger)",
    )
    p.add_argument(
        "--n-words", type=int, default=2000, help="Wikipedia vocabulary size (default: 2000)"
    )
    args = p.parse_args(argv)
    if args.top is not None and args.top < 1:
        p.error("--top must be >= 1")
    if args.n_models is not None and args.n_models < 1:
        p.error("--n-models must be >= 1")
    out = setup(args)
    data = load_collection(args)
    words, V = data["words"], len(data["words"])
    tagger = _tagger(args, data, out)
    if tagger.n_tags_ != V or tagger.n_features_in_ != data["X_train"].shape[1]:
        raise ConfigError(
            f"the model tags {tagger.n_tags_} words from {tagger.n_features_in_} features; "
            f"the collection has {V} words and {data['X_train'].shape[1]} features"
        )
    Xte, Yte = data["X_test"], data["Y_test"]
    n = Xte.shape[0]
    log.info("scoring %d words for %d test items", V, n)
    P = tagger.predict_proba(Xte)
    S = frequency_adjusted(P, tagger.tag_frequency_, tagger.frequency_exponent_)
    top = args.top if args.top is not None else max(10, text_length(data["Y_train"]))
    write_generated(out / "generated.tsv", S, words, min(top, V))
    metrics: dict[str, Any] = {
        "dataset": data["name"],
        "n_train": int(data["X_train"].shape[0]),
        "n_test": int(n),
        "n_words": V,
        "features_visible": tagger.features_visible_,
        "tags_visible": tagger.tags_visible_,
        "distinct_top5": len({tuple(r) for r in top_k(S, 5)}),
        "frequency_exponent": tagger.frequency_exponent_,
        "n_models": len(tagger.models_),
    }
    if Yte is not None:
        rng = np.random.default_rng(args.seed)
        Xtr, Ytr = data["X_train"], data["Y_train"]
        shuffle = rng.permutation(n)
        methods = {
            "tagger": S,
            "tagger_probabilities": P,
            "shuffled_features": S[shuffle],
            "shuffled_probabilities": P[shuffle],
            "frequency": frequency_scores(Ytr, n),
        }
        log.info("baselines: k-nearest-neighbour label transfer, logistic regression per word")
        methods["knn"] = knn_label_transfer(Xtr, Ytr, Xte, k=10)
        freq = tag_frequency(Ytr)
        loo = knn_label_transfer(Xtr, Ytr, Xtr, k=10, exclude_self=True)
        e_knn, _ = choose_frequency_exponent(loo, Ytr, freq)
        metrics["knn_frequency_exponent"] = e_knn
        methods["knn_adjusted"] = frequency_adjusted(methods["knn"], freq, e_knn)
        methods["logistic"] = logistic_scores(Xtr, Ytr, Xte, max_iter=30 if args.smoke else 500)
        k = min(10, V)
        for key, scores in methods.items():
            a = annotation_scores(scores, Yte).as_dict()
            a[f"precision_at_{k}"] = precision_at_k(scores, Yte, k)
            metrics[key] = a
        if data["name"] in ANCHORS:
            metrics["published"] = ANCHORS[data["name"]]
        if data["extra"]:
            metrics.update(_class_accuracies(data, P, S, tagger.frequency_exponent_))
        examples(data, S, out)
    _write_table(metrics, out)
    finish(args, out, metrics)
    if not args.quiet:
        print((out / "table.md").read_text(), end="")
        print(f"outputs in {out}")
    return metrics


def text_length(Y: Any) -> int:
    """The typical number of distinct words of a training text (mean, rounded; >= 1)."""
    n = np.asarray((Y > 0).sum(axis=1)).ravel()
    return max(1, int(round(float(n.mean()))))


def as_texts(scores: np.ndarray, length: int) -> np.ndarray:
    """Generated texts: the ``length`` best words of every row, each once.

    Returns
    -------
    ndarray, shape scores.shape
        1 for the words of the text, 0 elsewhere.
    """
    T = np.zeros(scores.shape)
    np.put_along_axis(T, top_k(scores, min(length, scores.shape[1])), 1.0, axis=1)
    return T


def _class_accuracies(
    data: dict[str, Any], P: np.ndarray, S: np.ndarray, exponent: float
) -> dict[str, Any]:
    """Wikipedia: does the generated text carry the article's class?

    A text classifier (logistic regression on word frequencies) is trained on the
    real training texts and scores two readings of what the tagger generates for a
    test image: the *generated text* -- the ``text_length`` best words of the
    annotation ranking ``S``, the length of a typical training text -- and the
    *generated distribution* -- the mean-field word probabilities ``P``
    normalised.  The same two readings of a reference generator are scored beside
    them: the class word-presence rates of the training texts mixed by an
    image-only classifier's posteriors (what a generator that knows exactly what
    the image says about the class would produce).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    ex = data["extra"]
    y_train, y_test = ex["y_train"], ex["y_test"]

    def freqs(C: Any) -> np.ndarray:
        c = _dense(C).astype(np.float64)
        return c / np.maximum(c.sum(1, keepdims=True), 1e-12)

    Ytr = data["Y_train"]
    text = LogisticRegression(C=10.0, max_iter=2000).fit(freqs(Ytr), y_train)
    image = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000))
    image.fit(_dense(data["X_train"]), y_train)
    present = (_dense(Ytr) > 0).astype(np.float64)
    rates = np.stack([present[y_train == c].mean(0) for c in image.classes_])
    reference = image.predict_proba(_dense(data["X_test"])) @ rates
    L = text_length(Ytr)

    def scores(Z: np.ndarray) -> tuple[float, float]:
        pred = text.predict(freqs(Z))
        share = np.unique(pred, return_counts=True)[1].max() / len(pred)
        return float(np.mean(pred == y_test)), float(share)

    freq = tag_frequency(Ytr)
    out: dict[str, Any] = {"text_length": L}
    for key, dist, ranking in (
        ("generated", np.maximum(P, 0.0), S),
        ("reference", reference, frequency_adjusted(reference, freq, exponent)),
    ):
        out[f"{key}_text_accuracy"], _ = scores(as_texts(ranking, L))
        acc, share = scores(dist)
        out[f"{key}_distribution_accuracy"] = acc
        out[f"{key}_distribution_majority_share"] = share
    out["real_text_accuracy"] = float(text.score(freqs(data["Y_test"]), y_test))
    out["image_only_accuracy"] = float(image.score(_dense(data["X_test"]), y_test))
    return out


_LABELS = {
    "tagger": "multimodal DBN (boltz.tagger.Tagger): annotation ranking",
    "tagger_probabilities": "multimodal DBN: ranked by probability",
    "shuffled_features": "control: another item's features (annotation ranking)",
    "shuffled_probabilities": "control: another item's features (probability)",
    "frequency": "baseline: most frequent words",
    "knn": "baseline: 10-NN label transfer",
    "knn_adjusted": "baseline: 10-NN label transfer, frequency-adjusted",
    "logistic": "baseline: logistic regression per word",
}


def _write_table(m: dict[str, Any], out: Path) -> None:
    lines = [
        f"tags for {m['n_test']} test items of {m['dataset']} ({m['n_words']} words; "
        f"features {m['features_visible']}, tags {m['tags_visible']}; "
        f"{m['n_models']} model(s), frequency exponent {m['frequency_exponent']:g})",
        "",
    ]
    if "tagger" in m:
        k = next(key for key in m["tagger"] if key.startswith("precision_at_"))
        lines += [
            f"| method | P (per word) | R (per word) | F1 | N+ | {k.replace('_', ' ')} |",
            "|---|---|---|---|---|---|",
        ]
        for key, label in _LABELS.items():
            a = m[key]
            lines.append(
                f"| {label} | {a['precision']:.3f} | {a['recall']:.3f} | {a['f1']:.3f} | "
                f"{a['n_plus']} | {a[k]:.3f} |"
            )
        if "knn_frequency_exponent" in m:
            lines.append(
                f"| (10-NN frequency exponent {m['knn_frequency_exponent']:g}, chosen by "
                "leave-one-out on the training items) | | | | | |"
            )
        for label, a in m.get("published", {}).items():
            lines.append(
                f"| published: {label} | {a['precision']:.2f} | {a['recall']:.2f} | | "
                f"{a['n_plus']} | |"
            )
        if "generated_text_accuracy" in m:
            lines += [
                "",
                f"class accuracy of a text classifier trained on real texts (real test texts "
                f"{m['real_text_accuracy']:.3f}; image-only classifier "
                f"{m['image_only_accuracy']:.3f}; chance about 0.10):",
                "",
                f"| generator | generated text ({m['text_length']} best words) | "
                "generated distribution (share of the most predicted class) |",
                "|---|---|---|",
            ]
            for key, label in (
                ("generated", "multimodal DBN"),
                ("reference", "reference: class word rates mixed by image-only posteriors"),
            ):
                lines.append(
                    f"| {label} | {m[f'{key}_text_accuracy']:.3f} | "
                    f"{m[f'{key}_distribution_accuracy']:.3f} "
                    f"({m[f'{key}_distribution_majority_share']:.2f}) |"
                )
    else:
        lines.append("no Y_test: generated.tsv only")
    (out / "table.md").write_text("\n".join(lines) + "\n")


def examples(data: dict[str, Any], S: np.ndarray, out: Path, n: int = 10) -> None:
    """``examples.md`` and ``examples.png``: ``n`` test items, real and generated words."""
    words, Y = data["words"], _dense(data["Y_test"])
    titles = data["extra"].get("titles_test")
    rows = np.unique(np.linspace(0, len(Y) - 1, min(n, len(Y))).astype(int))
    top = top_k(S, 5)
    md = ["| item | real words | generated (5 best; **bold** = correct) |", "|---|---|---|"]
    cells = []
    for i in rows:
        real_idx = [j for j in np.argsort(-Y[i], kind="stable")[:8] if Y[i, j] > 0]
        name = str(i) if titles is None else f"{i}: {titles[i][:28]}"
        gen = [f"**{words[j]}**" if Y[i, j] > 0 else words[j] for j in top[i]]
        md.append(f"| {name} | {', '.join(words[j] for j in real_idx)} | {', '.join(gen)} |")
        cells.append(
            [
                name,
                ", ".join(words[j] for j in real_idx[:6]),
                ", ".join(f"{words[j]}{'*' if Y[i, j] > 0 else ''}" for j in top[i]),
            ]
        )
    (out / "examples.md").write_text("\n".join(md) + "\n")
    plt = start_figure()
    fig, ax = plt.subplots(figsize=(11, 0.36 * (len(cells) + 1) + 0.6))
    ax.axis("off")
    table = ax.table(
        cellText=cells,
        colLabels=["test item", "real words", "generated words (* = correct)"],
        loc="center",
        cellLoc="left",
        colWidths=[0.22, 0.36, 0.42],
    )
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    table.scale(1, 1.35)
    ax.set_title(f"{data['name']}: generated from the features alone", fontsize=9)
    save_figure(fig, out / "examples.png", dpi=120, tight=True)


if __name__ == "__main__":
    run_cli(main, "recipes.tags")
