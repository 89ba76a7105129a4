"""Generate an article's words from its image with a multimodal DBN (Wikipedia).

A multimodal DBN (image: SIFT-128, Gaussian pathway; text: bag of words over a
2,000-word vocabulary, replicated-softmax pathway; joint layer) is pretrained on
the 2,173 training pairs with recipes/configs/wikipedia.toml (or --config), or
loaded with --model.  For every test image, its text withheld, the text pathway
is generated through the joint layer (MultimodalDBN.generate("text",
given={"image": ...})) and its 10 most probable words are kept (top_words).

metrics.json keys (whole test set, 693 items; precision@10 = fraction of the 10
words that occur in the held-out article):
  precision_at_10                           the generated words
  baseline_frequent_precision_at_10         the 10 most frequent training words
  baseline_random_article_precision_at_10   the 10 most frequent words of a random
                                            training article (one per test item)
  baseline_document_frequency_precision_at_10
                                            the 10 words found in most training
                                            articles (the best constant answer)
  shuffled_image_precision_at_10            control: words generated from the image
                                            of another test item (a random permutation)
  generated_text_accuracy                   a text classifier (logistic regression on
                                            the real training articles' word
                                            frequencies) applied to the generated
                                            word distributions
  shuffled_image_text_accuracy              the same on the shuffled-image control
  real_text_accuracy                        that classifier on the real test articles
  image_only_accuracy                       logistic regression on the SIFT features
  distinct_top10                            how many different top-10 lists were generated
  wall_seconds
Also generated.tsv (text_id, words), examples.md and examples.png (10 test items:
class, title, real top words, generated words with probabilities) and, when the
model is trained here, the pretraining outputs under model/.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import boltz
from boltz.datasets import load_wikipedia_bow
from boltz.errors import ConfigError

from . import pretrain
from ._common import base_parser, finish, run_cli, setup, start_figure

log = logging.getLogger("recipes.tags")

__all__ = ["main", "precision_at_k", "word_frequencies"]

CONFIG = Path(__file__).resolve().parent / "configs" / "wikipedia.toml"
K = 10


def precision_at_k(top: np.ndarray, counts: Any) -> float:
    """Mean fraction of the predicted words that occur in each document.

    Parameters
    ----------
    top : ndarray of int, shape (n, k)
        Predicted word indices per document.
    counts : array-like or CSR, shape (n, V)
        The documents' word counts.

    Returns
    -------
    float
    """
    present = np.asarray(counts.toarray() if hasattr(counts, "toarray") else counts) > 0
    return float(np.take_along_axis(present, np.asarray(top), axis=1).mean())


def word_frequencies(counts: Any) -> np.ndarray:
    """Rows of ``counts`` normalised to sum to 1 (empty rows stay zero), shape (n, V)."""
    dense = np.asarray(counts.toarray() if hasattr(counts, "toarray") else counts, np.float64)
    return dense / np.maximum(dense.sum(1, keepdims=True), 1e-12)


def _top(scores: np.ndarray, k: int = K) -> np.ndarray:
    return np.argsort(-scores, axis=1, kind="stable")[:, :k]


def _model(args: Any, out: Path) -> tuple[boltz.MultimodalDBN, int]:
    """The multimodal DBN (loaded or pretrained here) and its vocabulary size."""
    if args.model:
        mdbn = boltz.load(args.model, device="cpu")
        log.info("loaded %s", args.model)
    else:
        spec = pretrain.load_config(args.config)
        if spec["data"]["dataset"] != "wikipedia" or spec["joint"] is None:
            raise ConfigError(f"{args.config}: tags needs a multimodal DBN on dataset 'wikipedia'")
        views = pretrain.load_views(spec["data"], args.data, args.smoke)
        log.info("pretraining %s into %s", args.config, out / "model")
        mdbn, _ = pretrain.run(
            spec,
            views,
            out / "model",
            seed=args.seed,
            smoke=args.smoke,
            progress=args.progress_flag,
        )
    if not isinstance(mdbn, boltz.MultimodalDBN) or set(mdbn.views_) != {"image", "text"}:
        raise ConfigError(
            "tags needs a MultimodalDBN with the pathways 'image' (SIFT-128) and 'text' "
            f"(word counts); got {type(mdbn).__name__} "
            f"{getattr(mdbn, 'views_', '')}"
        )
    return mdbn, int(mdbn.pathways_["text"].n_features_in_)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Command line entry point; returns the metrics written to ``metrics.json``."""
    p = base_parser("tags", __doc__, "runs/tags")
    p.add_argument(
        "--model",
        help="a saved MultimodalDBN with pathways 'image' and 'text' "
        "(e.g. runs/pretrain_wiki/model.npz); default: pretrain one with --config",
    )
    p.add_argument(
        "--config", default=str(CONFIG), help="pretraining config (default: %(default)s)"
    )
    p.add_argument(
        "--method",
        choices=["meanfield", "gibbs"],
        default="meanfield",
        help="inference through the joint layer (default: %(default)s)",
    )
    p.add_argument(
        "--steps",
        type=int,
        default=None,
        help="alternations joint <-> text top (default: the model's inference_steps)",
    )
    p.add_argument("--samples", type=int, default=10, help="Gibbs chains averaged per image")
    args = p.parse_args(argv)
    out = setup(args)
    mdbn, n_words = _model(args, out)
    d = load_wikipedia_bow(args.data, n_words=n_words)
    Ite, Cte, yte, ids = d.image_test, d.counts_test, d.y_test, list(d.text_ids_test)
    if args.smoke:
        Ite, Cte, yte, ids = Ite[:40], Cte[:40], yte[:40], ids[:40]
    n = len(yte)
    rng = np.random.default_rng(args.seed)
    shuffle = rng.permutation(n)

    def generate(images: np.ndarray) -> np.ndarray:
        return mdbn.generate(
            "text",
            given={"image": images},
            steps=args.steps,
            method=args.method,
            n_samples=args.samples if args.method == "gibbs" else 1,
            random_state=args.seed,
        )

    log.info(
        "generating text for %d test images (%s, %s steps)",
        n,
        args.method,
        mdbn.inference_steps if args.steps is None else args.steps,
    )
    probs = generate(Ite)
    probs_shuffled = generate(Ite[shuffle])
    top = _top(probs)

    counts_tr = d.counts_train
    by_count = np.argsort(-np.asarray(counts_tr.sum(0)).ravel(), kind="stable")[:K]
    by_docs = np.argsort(-np.asarray((counts_tr > 0).sum(0)).ravel(), kind="stable")[:K]
    random_rows = counts_tr[rng.integers(0, counts_tr.shape[0], n)].toarray()

    log.info("fitting the text and image classifiers")
    text_clf = LogisticRegression(C=10.0, max_iter=2000).fit(word_frequencies(counts_tr), d.y_train)
    image_clf = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000)).fit(
        d.image_train, d.y_train
    )
    metrics: dict[str, Any] = {
        "precision_at_10": precision_at_k(top, Cte),
        "baseline_frequent_precision_at_10": precision_at_k(np.tile(by_count, (n, 1)), Cte),
        "baseline_random_article_precision_at_10": precision_at_k(_top(random_rows), Cte),
        "baseline_document_frequency_precision_at_10": precision_at_k(
            np.tile(by_docs, (n, 1)), Cte
        ),
        "shuffled_image_precision_at_10": precision_at_k(_top(probs_shuffled), Cte),
        "generated_text_accuracy": float(text_clf.score(probs, yte)),
        "shuffled_image_text_accuracy": float(text_clf.score(probs_shuffled, yte)),
        "real_text_accuracy": float(text_clf.score(word_frequencies(Cte), yte)),
        "image_only_accuracy": float(image_clf.score(Ite, yte)),
        "distinct_top10": len({tuple(r) for r in top}),
        "n_test": n,
    }
    voc = np.asarray(d.vocabulary)
    with open(out / "generated.tsv", "w") as f:
        f.write("text_id\twords\n")
        for tid, row in zip(ids, top):
            f.write(f"{tid}\t{' '.join(voc[row])}\n")
    examples(d, probs, Cte, yte, out)
    finish(args, out, metrics)
    if not args.quiet:
        _summary(metrics, out)
    return metrics


def _summary(m: dict[str, Any], out: Path) -> None:
    print(f"tag generation on {m['n_test']} test images, precision@10 against the held-out text:")
    print(f"  generated from the image          {m['precision_at_10']:.3f}")
    print(f"  generated from a shuffled image   {m['shuffled_image_precision_at_10']:.3f}")
    print(f"  10 most frequent training words   {m['baseline_frequent_precision_at_10']:.3f}")
    print(
        "  10 words in most training docs    "
        f"{m['baseline_document_frequency_precision_at_10']:.3f}"
    )
    print(f"  a random training article         {m['baseline_random_article_precision_at_10']:.3f}")
    print("class accuracy (10 classes):")
    print(f"  text classifier on generated text {m['generated_text_accuracy']:.3f}")
    print(f"  image-only classifier (SIFT)      {m['image_only_accuracy']:.3f}")
    print(f"  text classifier on real text      {m['real_text_accuracy']:.3f}")
    print(f"outputs in {out}")


def examples(d: Any, probs: np.ndarray, counts: Any, y: np.ndarray, out: Path, n: int = 10) -> None:
    """Write ``examples.md`` and ``examples.png``: ``n`` test items spread over the set.

    Parameters
    ----------
    d : WikipediaBow
        Vocabulary, titles and class names.
    probs : ndarray, shape (n_test, V)
        Generated word probabilities.
    counts : CSR, shape (n_test, V)
        The held-out articles' word counts.
    y : ndarray, shape (n_test,)
    out : Path
    n : int
        Number of items (evenly spaced over the test set).
    """
    voc = np.asarray(d.vocabulary)
    rows = np.unique(np.linspace(0, len(y) - 1, min(n, len(y))).astype(int))
    lines = [
        "| class | article | real top words (count) | generated words (probability) |",
        "|---|---|---|---|",
    ]
    cells = []
    for i in rows:
        real = np.asarray(counts[i].toarray()).ravel()
        real_idx = [j for j in np.argsort(-real, kind="stable")[:K] if real[j] > 0]
        gen_idx = _top(probs[i : i + 1])[0]
        real_md = ", ".join(f"{voc[j]} ({int(real[j])})" for j in real_idx)
        gen_md = ", ".join(
            f"**{voc[j]}** ({probs[i, j]:.3f})" if real[j] > 0 else f"{voc[j]} ({probs[i, j]:.3f})"
            for j in gen_idx
        )
        cls, title = d.classes[y[i]], d.titles_test[i]
        lines.append(f"| {cls} | {title} | {real_md} | {gen_md} |")
        cells.append(
            [
                cls,
                title if len(title) <= 30 else title[:29] + "…",
                ", ".join(voc[j] for j in real_idx[:6]),
                ", ".join(
                    f"{voc[j]}{'*' if real[j] > 0 else ''} {probs[i, j]:.3f}" for j in gen_idx[:6]
                ),
            ]
        )
    (out / "examples.md").write_text(
        "Generated words in **bold** occur in the held-out article.\n\n" + "\n".join(lines) + "\n"
    )
    plt = start_figure()
    fig, ax = plt.subplots(figsize=(13, 0.36 * (len(cells) + 1) + 0.6))
    ax.axis("off")
    table = ax.table(
        cellText=cells,
        colLabels=[
            "class",
            "article",
            "real top words",
            "generated from the image (probability; * = in the article)",
        ],
        loc="center",
        cellLoc="left",
        colWidths=[0.07, 0.17, 0.3, 0.46],
    )
    table.auto_set_font_size(False)
    table.set_fontsize(7)
    table.scale(1, 1.35)
    fig.savefig(out / "examples.png", dpi=120, bbox_inches="tight")
    plt.close(fig)


if __name__ == "__main__":
    run_cli(main, "recipes.tags")
