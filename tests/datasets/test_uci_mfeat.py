"""The UCI multiple-features reader on the real file (skipped when it is absent)."""

from __future__ import annotations

import numpy as np
import pytest

from boltz.datasets.uci_mfeat import MFEAT_VIEWS, load_uci_mfeat


@pytest.fixture(scope="module")
def mfeat(data_dir):
    if not (data_dir / "uci_mfeat" / "uci_all.mat").exists():
        pytest.skip(f"uci_mfeat/uci_all.mat not found under {data_dir}")
    return load_uci_mfeat(data_dir)


def test_shapes_labels_and_value_ranges(mfeat):
    dims = {"fourier": 76, "karhunen": 64, "pixel": 240}
    assert list(mfeat.train) == list(MFEAT_VIEWS) == list(dims)
    for v, d in dims.items():
        assert mfeat.train[v].shape == (1500, d) and mfeat.test[v].shape == (500, d)
        assert mfeat.train[v].dtype == np.float64
    assert mfeat.y_train.shape == (1500,) and mfeat.y_test.shape == (500,)
    assert set(mfeat.y_train) == set(range(10)) == set(mfeat.y_test)
    # pixel averages are integers 0..6; Fourier magnitudes are non-negative
    px = mfeat.train["pixel"]
    assert px.min() == 0 and px.max() == 6 and np.array_equal(px, np.round(px))
    assert (mfeat.train["fourier"] >= 0).all()


def test_same_root_from_the_dataset_folder(data_dir, mfeat):
    again = load_uci_mfeat(data_dir / "uci_mfeat")
    np.testing.assert_array_equal(again.test["karhunen"], mfeat.test["karhunen"])
    assert again.root == mfeat.root


def test_missing_file_names_the_places_tried(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"uci_mfeat/uci_all\.mat"):
        load_uci_mfeat(tmp_path / "nowhere")
