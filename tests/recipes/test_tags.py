"""recipes.tags: one tagging path for shipped collections and a user's own .npz."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.sparse as sp

from boltz import Tagger
from boltz.errors import DataError
from recipes.tags import as_texts, main, text_length
from tests.boltz.test_tagger import collection


def _npz(tmp_path, n=400, **extra):
    X, Y = collection(n)
    words = np.array([f"w{j}" for j in range(Y.shape[1])])
    arrays = dict(X_train=X[:300], Y_train=Y[:300], X_test=X[300:], Y_test=Y[300:], words=words)
    arrays.update(extra)
    arrays = {k: v for k, v in arrays.items() if v is not None}
    path = tmp_path / "mine.npz"
    np.savez(path, **arrays)
    return path


def test_npz_collection_beats_frequency_and_writes_outputs(tmp_path):
    out = tmp_path / "out"
    m = main(["--npz", str(_npz(tmp_path)), "--out", str(out), "-q"])  # the defaults
    assert m["features_visible"] == "bernoulli" and m["tags_visible"] == "bernoulli"
    assert m["tagger"]["f1"] > m["frequency"]["f1"] + 0.1
    assert m["tagger"]["precision_at_10"] > m["shuffled_features"]["precision_at_10"]
    assert {"knn", "knn_adjusted", "logistic", "frequency", "tagger_probabilities"} <= set(m)
    assert 0 <= m["frequency_exponent"] <= 1 and m["n_models"] == Tagger().n_models
    lines = (out / "generated.tsv").read_text().splitlines()
    assert len(lines) == 100
    idx, words = lines[0].split("\t")
    assert idx == "0" and len(words.split(",")) == 10 and words.startswith("w")
    assert json.loads((out / "metrics.json").read_text())["tagger"] == m["tagger"]
    for f in ("table.md", "examples.png", "examples.md", "model.npz"):
        assert (out / f).exists(), f
    again = main(
        [
            "--npz",
            str(_npz(tmp_path)),
            "--out",
            str(tmp_path / "b"),
            "-q",
            "--model",
            str(out / "model.npz"),
        ]
    )
    assert again["tagger"] == m["tagger"]


def test_npz_without_test_tags_and_words(tmp_path):
    path = _npz(tmp_path, Y_test=None, words=None)
    m = main(["--npz", str(path), "--out", str(tmp_path / "o"), "-q", "--smoke"])
    assert "tagger" not in m
    first = (tmp_path / "o" / "generated.tsv").read_text().splitlines()[0]
    assert all(w.isdigit() for w in first.split("\t")[1].split(","))


@pytest.mark.parametrize(
    "extra, match",
    [
        ({"Y_train": -np.ones((300, 20))}, "fractional"),
        ({"X_test": np.ones((100, 7))}, "features"),
        ({"words": np.array(["a", "b"])}, "words"),
        ({"X_train": None}, "missing array"),
    ],
)
def test_npz_errors_are_clear(tmp_path, extra, match):
    with pytest.raises(DataError, match=match):
        main(["--npz", str(_npz(tmp_path, **extra)), "--out", str(tmp_path / "o"), "-q"])


def test_npz_with_pickled_words_is_refused(tmp_path):
    X, Y = collection(50)
    path = tmp_path / "p.npz"
    np.savez(path, X_train=X, Y_train=Y, X_test=X, words=np.array([{"a": 1}] * 20, dtype=object))
    with pytest.raises(DataError, match="pickle"):
        main(["--npz", str(path), "--out", str(tmp_path / "o"), "-q"])


def test_wikipedia_smoke(data_dir, tmp_path):
    m = main(["--smoke", "--data", str(data_dir), "--out", str(tmp_path), "-q"])
    assert m["tags_visible"] == "bernoulli" and m["features_visible"] == "gaussian"
    for key in ("tagger", "frequency", "knn", "logistic", "shuffled_features"):
        assert 0 <= m[key]["precision_at_10"] <= 1
    for key in ("generated", "reference"):
        for reading in ("text", "distribution"):
            assert 0 <= m[f"{key}_{reading}_accuracy"] <= 1
        assert 0 < m[f"{key}_distribution_majority_share"] <= 1
    lines = (tmp_path / "generated.tsv").read_text().splitlines()
    assert len(lines) == 40
    # by default as many words as a typical training text has
    assert len(lines[0].split("\t")[1].split(",")) == m["text_length"] > 10


def test_texts_are_the_best_words():
    S = np.array([[0.1, 0.9, 0.5, 0.2], [0.7, 0.0, 0.1, 0.3]])
    T = as_texts(S, 2)
    assert T.tolist() == [[0, 1, 1, 0], [1, 0, 0, 1]]
    assert as_texts(S, 9).sum() == 8  # never longer than the vocabulary
    assert text_length(sp.csr_matrix(np.array([[2, 0, 1], [0, 0, 5], [1, 1, 1]]))) == 2
    assert text_length(np.zeros((2, 3))) == 1


def test_corel5k_smoke(data_dir, tmp_path):
    if not (data_dir / "corel5k" / "Corel5k.xml").exists():
        pytest.skip("Corel5k not found under the data root")
    m = main(
        ["--smoke", "--dataset", "corel5k", "--data", str(data_dir), "--out", str(tmp_path), "-q"]
    )
    assert m["n_words"] == 374 and "CMRM (Jeon et al. 2003)" in m["published"]
    assert m["tagger"]["n_words"] == 5
