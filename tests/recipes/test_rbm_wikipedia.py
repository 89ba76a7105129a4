"""Real-data checks of the RBM core on Wikipedia (skipped when ../shared/data is absent)."""

from __future__ import annotations

import numpy as np
import pytest

from boltz.datasets import load_wikipedia_bow


@pytest.mark.slow
def test_rsm_perplexity_below_unigram(data_dir):
    from recipes.rbm_wikipedia import recipe_rsm, unigram_perplexity

    d = load_wikipedia_bow(data_dir, n_words=2000)
    test = d.counts_test[:150]
    rsm = recipe_rsm().fit(d.counts_train)
    lengths = np.unique(np.asarray(test.sum(1)).ravel()).astype(np.int64)
    res = rsm.log_partition(
        "ais", n_words=lengths, n_runs=8, n_betas=1000, return_bounds=True, random_state=0
    )
    ppl = rsm.perplexity(test, log_z=res.log_z)
    assert ppl < 0.9 * unigram_perplexity(d.counts_train, test)


def test_recipe_smoke(data_dir, tmp_path):
    from recipes.rbm_wikipedia import main

    m = main(["--smoke", "--data", str(data_dir), "--out", str(tmp_path), "-q"])
    assert m["rsm_test_perplexity_ais"] > 1 and m["unigram_test_perplexity"] > 1
    assert 0 <= m["sift_gaussian_rbm_accuracy"] <= 1
    assert (tmp_path / "history.png").exists()
