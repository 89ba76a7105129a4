"""Tagger settings measured on a validation split of a collection's *training* items.

The numbers behind the validation tables of ``docs/multimodal.md``: the test items are
never read.  500 (Corel5k) or 400 (Wikipedia) training items chosen with seed 0 are held
out, the model is trained on the rest, and the held-out tags are scored with the
annotation protocol (5 words) and precision@10.  ``tagger`` also reports the
shuffled-features control (the probabilities generated from another held-out item's
features) and, for Wikipedia, the class accuracies of ``recipes.tags`` (generated text
and distribution, and the reference generator) on the held-out articles.

Run::

    .venv/bin/python scripts/tag_validation.py corel5k baselines
    .venv/bin/python scripts/tag_validation.py corel5k tagger '{}'
    .venv/bin/python scripts/tag_validation.py corel5k tagger '{"tags_hidden": [256]}'
    .venv/bin/python scripts/tag_validation.py wikipedia tagger '{"tags_visible": "softmax"}'
    .venv/bin/python scripts/tag_validation.py wikipedia tagger '{"tags_hidden": []}'
    .venv/bin/python scripts/tag_validation.py corel5k ensemble 10 runs/val_corel
    .venv/bin/python scripts/tag_validation.py wikipedia ensemble 10 runs/val_wiki

The JSON holds :class:`boltz.Tagger` keywords.  ``ensemble N [DIR]`` trains one model
for each of the seeds 0 .. N-1 (``n_models=1``, ``frequency_exponent=0``; default N = 3;
each seed's held-out probabilities are kept in DIR and reused) and scores each, their
average, and every ranking ``probability / frequency ** e`` for e in 0, 0.3, 0.5, 0.7,
1, beside 10-NN label transfer and logistic regression given the same adjustment.  It
then prints, for every ensemble size k, the scores of the averaged probabilities
averaged over all k-subsets of the N seeds: what ``Tagger(n_models=k)`` can expect.
"""

from __future__ import annotations

import itertools
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

import boltz
from boltz import tagging
from recipes.tags import _class_accuracies


def split(name: str) -> tuple[Any, ...]:
    if name == "corel5k":
        from boltz.datasets import load_corel5k

        d = load_corel5k("../shared/data")
        X, Y, n_val = d.blobs_train.toarray(), d.words_train.toarray(), 500
    else:
        from boltz.datasets import load_wikipedia_bow

        d = load_wikipedia_bow("../shared/data", n_words=2000)
        X, Y, n_val = d.image_train, d.counts_train.tocsr(), 400
        labels = np.asarray(d.y_train)
    perm = np.random.default_rng(0).permutation(X.shape[0])
    va, tr = np.sort(perm[:n_val]), np.sort(perm[n_val:])
    y = (labels[tr], labels[va]) if name == "wikipedia" else None
    return X[tr], Y[tr], X[va], Y[va], y


def report(label: str, S: np.ndarray, Y: np.ndarray) -> None:
    a = tagging.annotation_scores(S, Y)
    print(
        f"{label}: F1 {a.f1:.4f} N+ {a.n_plus} P {a.precision:.4f} R {a.recall:.4f} "
        f"P@10 {tagging.precision_at_k(S, Y, 10):.4f}",
        flush=True,
    )


def main() -> None:
    name, what = sys.argv[1], sys.argv[2]
    Xtr, Ytr, Xva, Yva, y = split(name)
    if what == "baselines":
        report("frequency", tagging.frequency_scores(Ytr, Xva.shape[0]), Yva)
        report("10-NN label transfer", tagging.knn_label_transfer(Xtr, Ytr, Xva, k=10), Yva)
        report("logistic per word", tagging.logistic_scores(Xtr, Ytr, Xva), Yva)
        return
    if what == "ensemble":
        n = int(sys.argv[3]) if len(sys.argv) > 3 else 3
        ensemble(Xtr, Ytr, Xva, Yva, n, Path(sys.argv[4]) if len(sys.argv) > 4 else None)
        return
    kw = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
    for k in ("features_hidden", "tags_hidden"):
        if isinstance(kw.get(k), list):
            kw[k] = tuple(kw[k])
    t = time.perf_counter()
    tagger = boltz.Tagger(random_state=kw.pop("random_state", 0), progress=False, **kw)
    tagger.fit(Xtr, Ytr)
    S, P = tagger.decision_function(Xva), tagger.predict_proba(Xva)
    report(f"Tagger({kw}) [{time.perf_counter() - t:.0f} s]", S, Yva)
    P_shuffled = P[np.random.default_rng(0).permutation(P.shape[0])]
    margin = tagging.precision_at_k(P, Yva, 10) - tagging.precision_at_k(P_shuffled, Yva, 10)
    p10 = tagging.precision_at_k(P, Yva, 10)
    print(f"  probabilities P@10 {p10:.4f}, shuffled margin {margin:.4f}")
    if y is not None:
        data = {"X_train": Xtr, "Y_train": Ytr, "X_test": Xva, "Y_test": Yva}
        data["extra"] = {"y_train": y[0], "y_test": y[1]}
        acc = _class_accuracies(data, P, S, tagger.frequency_exponent_)
        print("  " + ", ".join(f"{k} {v:.4f}" for k, v in acc.items()), flush=True)


def ensemble(
    Xtr: np.ndarray, Ytr: object, Xva: np.ndarray, Yva: object, n: int, cache: Path | None
) -> None:
    freq = tagging.tag_frequency(Ytr)
    single = []
    for seed in range(n):
        path = None if cache is None else cache / f"seed{seed}.npy"
        if path is not None and path.exists():
            single.append(np.load(path))
            report(f"seed {seed} [cached]", single[-1], Yva)
            continue
        t = time.perf_counter()
        tagger = boltz.Tagger(n_models=1, frequency_exponent=0.0, random_state=seed, progress=False)
        single.append(tagger.fit(Xtr, Ytr).predict_proba(Xva))
        report(f"seed {seed} [{time.perf_counter() - t:.0f} s]", single[-1], Yva)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            np.save(path, single[-1])
    rows = {f"seed {s}": S for s, S in enumerate(single)}
    rows[f"the {n} averaged"] = np.mean(single, axis=0)
    rows["10-NN label transfer"] = tagging.knn_label_transfer(Xtr, Ytr, Xva, k=10)
    rows["logistic per word"] = tagging.logistic_scores(Xtr, Ytr, Xva)
    exponents = (0.0, 0.3, 0.5, 0.7, 1.0)
    for label, S in rows.items():
        for e in exponents:
            report(f"{label}, e = {e}", tagging.frequency_adjusted(S, freq, e), Yva)
    print("ensemble size k: mean over all k-subsets of the seeds (F1 | P@10 per e)")
    for k in range(1, n + 1):
        f1 = np.zeros(len(exponents))
        p10 = np.zeros(len(exponents))
        subsets = list(itertools.combinations(range(n), k))
        for subset in subsets:
            P = np.mean([single[i] for i in subset], axis=0)
            for j, e in enumerate(exponents):
                S = tagging.frequency_adjusted(P, freq, e)
                f1[j] += tagging.annotation_scores(S, Yva).f1
                p10[j] += tagging.precision_at_k(S, Yva, 10)
        cells = "  ".join(
            f"e={e}: {a / len(subsets):.4f} | {b / len(subsets):.4f}"
            for e, a, b in zip(exponents, f1, p10)
        )
        print(f"k = {k} ({len(subsets)} subsets)  {cells}", flush=True)


if __name__ == "__main__":
    main()
