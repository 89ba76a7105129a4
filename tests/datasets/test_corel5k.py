"""The Corel5k reader on the shipped Mulan files (skipped when they are absent)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from boltz.datasets import load_corel5k, read_sparse_arff
from boltz.errors import DataError


@pytest.fixture(scope="module")
def corel_dir(data_dir):
    d = data_dir / "corel5k"
    if not (d / "Corel5k.xml").exists():
        pytest.skip(f"corel5k/ not found under {data_dir}")
    return d


@pytest.fixture(scope="module")
def corel(corel_dir):
    return load_corel5k(corel_dir.parent)


def test_shapes_vocabulary_and_counts(corel):
    assert corel.blobs_train.shape == (4500, 499) and corel.blobs_test.shape == (500, 499)
    assert corel.words_train.shape == (4500, 374) and corel.words_test.shape == (500, 374)
    assert len(corel.words) == 374 and corel.words[:3] == ["city", "mountain", "sky"]
    for m in (corel.blobs_train, corel.words_train, corel.blobs_test, corel.words_test):
        assert m.dtype == np.float32 and set(np.unique(m.data)) == {1.0}
    # the data README: 1-5 keywords per image (mean 3.5), 263 of the 374 words in the test set
    per_image = np.asarray(corel.words_train.sum(1)).ravel()
    assert per_image.min() >= 1 and per_image.max() <= 5
    assert 3.4 < per_image.mean() < 3.6
    assert int((np.asarray(corel.words_test.sum(0)).ravel() > 0).sum()) == 263


def test_first_row_matches_the_file(corel, corel_dir):
    # first data row of the training file: {19 1,93 1,143 1,149 1,259 1,329 1,379 1,461 1,499 1,...}
    text = (corel_dir / "Corel5k-train-sparse.arff").read_text()
    first = text.split("@data", 1)[1].strip().splitlines()[0]
    idx = [int(t.split()[0]) for t in first.strip("{}").split(",")]
    blobs = [i for i in idx if i < 499]
    words = [i - 499 for i in idx if i >= 499]
    assert list(corel.blobs_train[0].indices) == blobs
    assert list(corel.words_train[0].indices) == words


def test_folder_itself_is_accepted(corel, corel_dir):
    again = load_corel5k(corel_dir)
    assert (again.words_test != corel.words_test).nnz == 0


def _copy(corel_dir, tmp_path):
    dst = tmp_path / "corel5k"
    shutil.copytree(corel_dir, dst)
    return dst


def test_missing_split_file_is_named(corel_dir, tmp_path):
    dst = _copy(corel_dir, tmp_path)
    (dst / "Corel5k-test-sparse.arff").unlink()
    with pytest.raises(FileNotFoundError, match=r"Corel5k-test-sparse\.arff"):
        load_corel5k(tmp_path)


def test_missing_everything_names_the_places_tried(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"corel5k/Corel5k\.xml"):
        load_corel5k(tmp_path / "nowhere")


def test_malformed_row_names_file_and_line(corel_dir, tmp_path):
    dst = _copy(corel_dir, tmp_path)
    p = dst / "Corel5k-test-sparse.arff"
    lines = p.read_text().splitlines()
    at = lines.index("@data") + 2
    lines[at] = "0,1,0,1"
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(
        DataError, match=rf"Corel5k-test-sparse.arff:{at + 1}: expected a sparse row"
    ):
        load_corel5k(tmp_path)


def test_vocabulary_mismatch_is_an_error(corel_dir, tmp_path):
    dst = _copy(corel_dir, tmp_path)
    xml = dst / "Corel5k.xml"
    xml.write_text(xml.read_text().replace('<label name="city">', '<label name="town">'))
    with pytest.raises(DataError, match=r"keywords of Corel5k\.xml"):
        load_corel5k(tmp_path)


def test_broken_xml_is_an_error(corel_dir, tmp_path):
    dst = _copy(corel_dir, tmp_path)
    (dst / "Corel5k.xml").write_text("<labels><label name='a'>")
    with pytest.raises(DataError, match="well-formed"):
        load_corel5k(tmp_path)


def test_read_sparse_arff_small_file(tmp_path):
    p = tmp_path / "x.arff"
    p.write_text(
        "% comment\n@relation r\n@attribute 'a b' {0,1}\n@attribute c numeric\n@data\n"
        "{0 1}\n{}\n{1 2.5,0 1}\n"
    )
    names, m = read_sparse_arff(p)
    assert names == ["a b", "c"]
    np.testing.assert_array_equal(m.toarray(), [[1, 0], [0, 0], [1, 2.5]])


@pytest.mark.parametrize(
    "body, match",
    [
        ("{5 1}\n", "index 5 outside"),
        ("{0 x}\n", "non-numeric"),
        ("{0}\n", "malformed entry"),
    ],
)
def test_read_sparse_arff_rejects_bad_rows(tmp_path, body, match):
    p = tmp_path / "x.arff"
    p.write_text("@attribute a {0,1}\n@data\n" + body)
    with pytest.raises(DataError, match=match):
        read_sparse_arff(p)


def test_read_sparse_arff_needs_data_section(tmp_path):
    p = tmp_path / "x.arff"
    p.write_text("@attribute a {0,1}\n")
    with pytest.raises(DataError, match="no @data"):
        read_sparse_arff(p)
