"""recipes.tags on the real data (skipped when ../shared/data is absent)."""

from __future__ import annotations

import numpy as np

from recipes.tags import precision_at_k


def test_precision_at_k_counts_present_words():
    counts = np.array([[1, 0, 2, 0], [0, 0, 0, 5]])
    top = np.array([[0, 1], [3, 2]])
    assert precision_at_k(top, counts) == (0.5 + 0.5) / 2


def test_tags_smoke(data_dir, tmp_path):
    from recipes.tags import main

    m = main(["--smoke", "--data", str(data_dir), "--out", str(tmp_path), "-q"])
    keys = {
        "precision_at_10",
        "baseline_frequent_precision_at_10",
        "baseline_random_article_precision_at_10",
        "generated_text_accuracy",
        "image_only_accuracy",
    }
    assert keys <= set(m) and all(0 <= m[k] <= 1 for k in keys)
    lines = (tmp_path / "generated.tsv").read_text().splitlines()
    assert lines[0] == "text_id\twords" and len(lines) == 41
    assert len(lines[1].split("\t")[1].split()) == 10
    assert (tmp_path / "examples.png").exists() and (tmp_path / "examples.md").exists()
