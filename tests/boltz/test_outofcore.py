"""Out-of-core training: fit streams batches from a memmap / row-indexable dataset."""

from __future__ import annotations

import numpy as np
import pytest

import boltz


class CountedRows:
    """A row-indexable dataset that refuses to hand out more than ``budget`` rows at once."""

    def __init__(self, array: np.ndarray, budget: int) -> None:
        self._a = array
        self.budget = budget
        self.shape = array.shape
        self.dtype = array.dtype
        self.max_rows = 0
        self.rows_read = 0

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, idx):
        block = self._a[idx]
        n = 1 if block.ndim == 1 else block.shape[0]
        if n > self.budget:
            raise MemoryError(f"asked for {n} rows at once; budget is {self.budget}")
        self.max_rows = max(self.max_rows, n)
        self.rows_read += n
        return np.array(block)


@pytest.fixture
def memmap(tmp_path):
    n, d = 40_000, 500  # 80 MB on disk
    mm = np.lib.format.open_memmap(tmp_path / "x.npy", mode="w+", dtype=np.float32, shape=(n, d))
    rng = np.random.default_rng(0)
    for s in range(0, n, 4096):
        mm[s : s + 4096] = rng.random((min(4096, n - s), d), dtype=np.float32) < 0.2
    mm.flush()
    return np.load(tmp_path / "x.npy", mmap_mode="r")


def test_fit_streams_from_a_budgeted_loader(memmap):
    budget = 5000  # 12.5% of the rows: the array never has to fit in memory
    data = CountedRows(memmap, budget)
    rbm = boltz.RBM(n_hidden=16, epochs=1, batch_size=256, progress=False, random_state=0)
    rbm.fit(data)
    assert data.max_rows <= budget
    assert rbm.transform(data).shape == (memmap.shape[0], 16)
    assert data.max_rows <= budget


def test_memmap_equals_in_memory(memmap):
    small = memmap[:3000]
    kw = dict(n_hidden=8, epochs=2, batch_size=100, progress=False, random_state=1)
    a = boltz.RBM(**kw).fit(small)
    b = boltz.RBM(**kw).fit(np.array(small))
    np.testing.assert_array_equal(a.weights_, b.weights_)
    assert not isinstance(a.history_, np.memmap)
