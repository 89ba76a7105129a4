"""The Wikipedia reader on the real data (skipped when ../shared/data is absent)."""

from __future__ import annotations

import re

import numpy as np
import pytest
import scipy.sparse as sp

from boltz.datasets import (
    load_wikipedia_bow,
    load_wikipedia_features,
    read_article,
    rescale_documents,
    tokenize,
)
from boltz.datasets.wikipedia import stopwords


@pytest.fixture(scope="module")
def bow(data_dir):
    return load_wikipedia_bow(data_dir, n_words=2000)


def test_features_shapes_and_labels(data_dir):
    f = load_wikipedia_features(data_dir)
    assert f.image_train.shape == (2173, 128) and f.image_test.shape == (693, 128)
    assert f.topics_train.shape == (2173, 10)
    np.testing.assert_allclose(f.image_train.sum(1), 1, atol=1e-6)
    assert set(np.unique(f.y_train)) == set(range(10))
    assert len(f.classes) == 10 and f.classes[0] == "art"
    lines = (data_dir / "wikipedia_info" / "testset_txt_img_cat.list").read_text().split("\n")
    first = lines[0].split("\t")
    assert f.text_ids_test[0] == first[0] and f.y_test[0] == int(first[2]) - 1


def test_every_article_parses_including_invalid_xml(data_dir):
    texts = sorted((data_dir / "wikipedia_dataset" / "texts").glob("*.xml"))
    assert len(texts) == 2866
    bodies = [read_article(p)[1] for p in texts]
    assert all(b.strip() for b in bodies)
    assert not any("&nbsp;" in b or "&amp;" in b for b in bodies)


@pytest.mark.parametrize("n_words", [2000, 3000])
def test_bow_vocabulary_and_counts(data_dir, n_words):
    b = load_wikipedia_bow(data_dir, n_words=n_words)
    assert len(b.vocabulary) == n_words == len(set(b.vocabulary))
    assert b.counts_train.shape == (2173, n_words) and b.counts_test.shape == (693, n_words)
    assert b.counts_train.dtype == np.float32
    data = b.counts_train.data
    assert (data > 0).all() and np.array_equal(data, np.round(data))
    assert not set(b.vocabulary) & stopwords(b.root)


def test_vocabulary_comes_from_training_articles_only(bow):
    root = bow.root
    stop = stopwords(root)
    texts = root / "wikipedia_dataset" / "texts"
    train_words = set()
    for tid in bow.text_ids_train:
        train_words.update(tokenize(read_article(texts / f"{tid}.xml")[1], stop))
    test_only = set()
    for tid in bow.text_ids_test:
        test_only.update(set(tokenize(read_article(texts / f"{tid}.xml")[1], stop)) - train_words)
    assert test_only, "expected some words that occur only in test articles"
    assert not test_only & set(bow.vocabulary)


def test_counts_match_a_direct_count(bow):
    texts = bow.root / "wikipedia_dataset" / "texts"
    tid = bow.text_ids_test[5]
    words = tokenize(read_article(texts / f"{tid}.xml")[1], stopwords(bow.root))
    row = bow.counts_test[5].toarray().ravel()
    for j in np.flatnonzero(row)[:20]:
        assert row[j] == words.count(bow.vocabulary[j])


def test_tokenize_and_determinism(data_dir, bow):
    assert tokenize("The Cat's 2 cats, a cat!", frozenset({"the"})) == ["cat", "cats", "cat"]
    again = load_wikipedia_bow(data_dir, n_words=2000)
    assert again.vocabulary == bow.vocabulary
    assert (again.counts_train != bow.counts_train).nnz == 0
    assert re.match(r"\w", bow.titles_train[0])


def test_missing_directory_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="--data"):
        load_wikipedia_features(tmp_path / "nowhere")


def test_rescale_documents_keeps_integer_counts_of_the_given_length():
    """No data needed: deepnet's adaptive prior on random counts."""
    rng = np.random.default_rng(0)
    dense = rng.poisson(0.3, size=(30, 50)).astype(np.float32)
    dense[3] = 0
    counts = sp.csr_matrix(dense)
    out = rescale_documents(counts, 100)
    lengths = np.asarray(out.sum(1)).ravel()
    nonempty = np.asarray(counts.sum(1)).ravel() > 0
    np.testing.assert_array_equal(lengths[nonempty], 100)
    assert lengths[3] == 0
    assert np.all(out.data == np.round(out.data)) and out.dtype == np.float32
    # proportional: no word is off by more than one from v * 100 / D
    ideal = dense * 100 / np.maximum(dense.sum(1, keepdims=True), 1)
    assert np.abs(out.toarray() - ideal).max() < 1
