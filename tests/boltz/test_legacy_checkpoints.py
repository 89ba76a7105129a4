"""Checkpoints written before the fitted-layer object (issue 17, step 4) still load.

``tests/boltz/legacy/`` holds an RBM (learned-sigma Gaussian; PCD replicated
softmax), a DBN and a MultimodalDBN (DBN, softmax and Passthrough pathways) saved
by the code before the change, with their outputs (``make_checkpoints.py``).  The
current code must load them, compute the same outputs bitwise, write the same
checkpoint content when saving them again, and train the same models from the same
seeds bitwise.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import boltz
from boltz.checkpoint import read_checkpoint
from tests.boltz.legacy import make_checkpoints as legacy

HERE = Path(legacy.__file__).resolve().parent
NAMES = ["rbm_gaussian", "rbm_softmax", "dbn", "mdbn"]
_VOLATILE = ("library_version", "seconds", "device")


def _strip(meta):
    """Metadata without what changes between runs and versions (and the load device)."""
    if isinstance(meta, dict):
        return {k: _strip(v) for k, v in meta.items() if k not in _VOLATILE}
    if isinstance(meta, list):
        return [_strip(v) for v in meta]
    return meta


def _same_content(path_a, path_b):
    meta_a, arrays_a = read_checkpoint(path_a)
    meta_b, arrays_b = read_checkpoint(path_b)
    assert _strip(meta_a) == _strip(meta_b)
    assert list(arrays_a) == list(arrays_b)
    for k in arrays_a:
        assert arrays_a[k].dtype == arrays_b[k].dtype, k
        np.testing.assert_array_equal(arrays_a[k], arrays_b[k], err_msg=k)


@pytest.mark.parametrize("name", NAMES)
def test_legacy_checkpoint_outputs_and_resave(name, tmp_path):
    model = boltz.load(HERE / f"{name}.npz", device="cpu")
    expected = np.load(HERE / f"{name}.outputs.npz")
    got = legacy.outputs(name, model, legacy.data())
    assert sorted(got) == sorted(expected.files)
    for k, v in got.items():
        np.testing.assert_array_equal(v, expected[k], err_msg=f"{name}.{k}")
    _same_content(HERE / f"{name}.npz", model.save(tmp_path / name))


def test_training_is_unchanged(tmp_path):
    for name, model in legacy.models(legacy.data()).items():
        _same_content(HERE / f"{name}.npz", model.save(tmp_path / name))
