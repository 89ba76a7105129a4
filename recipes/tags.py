"""Generate an article's words from its image with a multimodal DBN (Wikipedia).

A multimodal DBN (image: SIFT-128, Gaussian pathway; text: bag of words over a
2,000-word vocabulary, replicated-softmax pathway; joint layer) is trained on the
training pairs — or loaded with ``--model`` — and, for every test image with its
text withheld, the text pathway is generated through the joint layer
(``MultimodalDBN.generate("text", given={"image": ...})``) and its 10 most probable
words are kept.

metrics.json keys (whole test set, 693 items):
  precision_at_10                          generated words present in the held-out article
  baseline_frequent_precision_at_10        the 10 most frequent training words, same measure
  baseline_random_article_precision_at_10  the 10 most frequent words of a random training article
  generated_text_accuracy                  a text classifier (trained on real training BoW
                                           frequencies) applied to the generated word distributions
  image_only_accuracy                      a classifier trained on the SIFT features
  wall_seconds
Also generated.tsv (text_id, words), examples.md and examples.png (10 test items).
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

from . import pretrain
from ._common import base_parser, finish, setup, start_figure

log = logging.getLogger("recipes.tags")

CONFIG = Path(__file__).resolve().parent / "configs" / "wikipedia.toml"


def precision_at_k(top: np.ndarray, counts: Any) -> float:
    """Mean over rows of the fraction of ``top`` word indices (n, k) present in ``counts``."""
    dense = np.asarray(counts.toarray() if hasattr(counts, "toarray") else counts) > 0
    return float(np.take_along_axis(dense, top, axis=1).mean())


def _frequencies(counts: Any) -> np.ndarray:
    dense = np.asarray(counts.toarray() if hasattr(counts, "toarray") else counts, float)
    return dense / np.maximum(dense.sum(1, keepdims=True), 1)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = base_parser("tags", __doc__, "runs/tags")
    p.add_argument(
        "--model",
        help="a saved MultimodalDBN (views 'image' and 'text'); "
        "default: train one with recipes/configs/wikipedia.toml",
    )
    p.add_argument("--config", default=str(CONFIG), help="pretraining config when training")
    p.add_argument("--steps", type=int, default=20, help="alternations through the joint layer")
    p.add_argument("--method", choices=["meanfield", "gibbs"], default="meanfield")
    args = p.parse_args(argv)
    out = setup(args)
    d = load_wikipedia_bow(args.data, n_words=2000)
    if args.model:
        mdbn = boltz.load(args.model, device="cpu")
    else:
        argv_pt = [args.config, "--out", str(out / "model"), "--seed", str(args.seed), "-q"]
        if args.data:
            argv_pt += ["--data", args.data]
        if args.smoke:
            argv_pt.append("--smoke")
        pretrain.main(argv_pt)
        mdbn = boltz.load(out / "model" / "model.npz", device="cpu")
    Ite, Cte, yte = d.image_test, d.counts_test, d.y_test
    if args.smoke:
        Ite, Cte, yte = Ite[:40], Cte[:40], yte[:40]
    probs = mdbn.generate(
        "text", given={"image": Ite}, steps=args.steps, method=args.method, random_state=args.seed
    )
    top = np.argsort(-probs, axis=1, kind="stable")[:, :10]
    rng = np.random.default_rng(args.seed)
    freq_top = np.argsort(-np.asarray(d.counts_train.sum(0)).ravel(), kind="stable")[:10]
    rand_rows = d.counts_train[rng.integers(0, d.counts_train.shape[0], len(yte))].toarray()
    rand_top = np.argsort(-rand_rows, axis=1, kind="stable")[:, :10]
    text_clf = LogisticRegression(C=10.0, max_iter=3000).fit(
        _frequencies(d.counts_train), d.y_train
    )
    img_clf = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=3000)).fit(
        d.image_train, d.y_train
    )
    metrics = {
        "precision_at_10": precision_at_k(top, Cte),
        "baseline_frequent_precision_at_10": precision_at_k(np.tile(freq_top, (len(yte), 1)), Cte),
        "baseline_random_article_precision_at_10": precision_at_k(rand_top, Cte),
        "generated_text_accuracy": float(text_clf.score(probs, yte)),
        "image_only_accuracy": float(img_clf.score(Ite, yte)),
    }
    voc = np.array(d.vocabulary)
    ids = d.text_ids_test[: len(yte)]
    with open(out / "generated.tsv", "w") as f:
        f.write("text_id\twords\n")
        for tid, row in zip(ids, top):
            f.write(f"{tid}\t{' '.join(voc[row])}\n")
    _examples(d, probs, top, Cte, yte, out)
    for k, v in metrics.items():
        log.info("%s = %.4f", k, v)
    finish(args, out, metrics)
    return metrics


def _examples(
    d: Any, probs: np.ndarray, top: np.ndarray, Cte: Any, yte: np.ndarray, out: Path, n: int = 10
) -> None:
    voc = np.array(d.vocabulary)
    rows = np.linspace(0, len(yte) - 1, min(n, len(yte))).astype(int)
    lines = [
        "| class | article | real top words | generated words (probability) |",
        "|---|---|---|---|",
    ]
    cells = []
    for i in rows:
        real = Cte[i].toarray().ravel()
        real_top = voc[np.argsort(-real, kind="stable")[:10]]
        real_top = [w for w, c in zip(real_top, np.sort(real)[::-1][:10]) if c > 0]
        gen = [f"{voc[j]} ({probs[i, j]:.3f})" for j in top[i]]
        hit = set(voc[top[i]]) & set(voc[real > 0])
        gen_md = [f"**{g}**" if g.split(" ")[0] in hit else g for g in gen]
        cls = d.classes[yte[i]]
        lines.append(
            f"| {cls} | {d.titles_test[i]} | {', '.join(real_top)} | {', '.join(gen_md)} |"
        )
        cells.append(
            [
                cls,
                d.titles_test[i][:28],
                ", ".join(real_top[:6]),
                ", ".join(g.split(" ")[0] for g in gen[:6]),
            ]
        )
    (out / "examples.md").write_text(
        "Generated words in **bold** occur in the held-out article.\n\n" + "\n".join(lines) + "\n"
    )
    plt = start_figure()
    fig, ax = plt.subplots(figsize=(12, 0.42 * (len(cells) + 1) + 0.4))
    ax.axis("off")
    t = ax.table(
        cellText=cells,
        colLabels=["class", "article", "real top words", "generated from the image"],
        loc="center",
        cellLoc="left",
        colWidths=[0.09, 0.2, 0.35, 0.36],
    )
    t.auto_set_font_size(False)
    t.set_fontsize(7)
    t.scale(1, 1.3)
    fig.savefig(out / "examples.png", dpi=120, bbox_inches="tight")
    plt.close(fig)


if __name__ == "__main__":
    main()
