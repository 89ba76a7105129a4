"""Replicated softmax with default settings on Wikipedia (docs/rbm.md, "Defaults").

Run: ``.venv/bin/python scripts/rsm_defaults.py [--scan]``.

* ``--scan``: the learning-rate constant of ``learning_rate="auto"`` (``c / mean
  document length``), chosen on a validation split of the *training* documents
  (434 of 2173), never on the test set.
* default: 50 hidden units, 2000 words, 30 epochs, batch 64, every other setting
  default; test perplexity by ``perplexity(X)`` with no method (and its time against
  the fit's), by a 4x longer AIS schedule, and the unigram baseline; the old fixed
  ``learning_rate=0.01`` beside it.
"""

from __future__ import annotations

import argparse
import logging
import time

import numpy as np

import boltz
from boltz.datasets import load_wikipedia_bow
from recipes.rbm_wikipedia import unigram_perplexity


def fit(C, **kw):
    t = time.perf_counter()
    r = boltz.RBM(50, "softmax", epochs=30, batch_size=64, progress=False, random_state=0, **kw)
    r.fit(C)
    return r, time.perf_counter() - t


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--data", default="../shared/data")
    p.add_argument("--scan", action="store_true")
    a = p.parse_args()
    logging.basicConfig(format="%(message)s")
    logging.getLogger("boltz.rbm").setLevel(logging.INFO)
    d = load_wikipedia_bow(a.data, n_words=2000)
    if a.scan:
        C = d.counts_train
        perm = np.random.default_rng(0).permutation(C.shape[0])
        Ctr, Cva = C[np.sort(perm[434:])], C[np.sort(perm[:434])]
        mean_d = float(Ctr.sum() / Ctr.shape[0])
        print(f"mean length {mean_d:.1f}; unigram validation {unigram_perplexity(Ctr, Cva):.1f}")
        for c in (0.02, 0.05, 0.1, 0.2, 1.41):
            r, _ = fit(Ctr, learning_rate=c / mean_d)
            ppl = r.perplexity(Cva, random_state=0)
            print(f"c={c:<5} learning_rate={c / mean_d:.2e}: validation perplexity {ppl:.1f}")
        return
    Ctr, Cte = d.counts_train, d.counts_test
    print(f"unigram test perplexity {unigram_perplexity(Ctr, Cte):.1f}")
    for kw in ({}, {"learning_rate": 0.01}):
        r, t_fit = fit(Ctr, **kw)
        t = time.perf_counter()
        ppl = r.perplexity(Cte, random_state=0)
        t_ppl = time.perf_counter() - t
        long = r.perplexity(Cte, n_betas=4000, random_state=1)
        print(
            f"{kw or 'defaults'} (learning_rate_={r.learning_rate_:.2e}): test perplexity "
            f"{ppl:.1f} in {t_ppl:.1f} s = {t_ppl / t_fit:.2f}x the fit ({t_fit:.1f} s); "
            f"4x schedule {long:.1f} ({ppl / long - 1:+.2%})",
            flush=True,
        )


if __name__ == "__main__":
    main()
