"""bridge.batches: the one minibatch draw of single-process and data-parallel training."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from bridge.batches import batch_sizes, minibatches  # noqa: E402
from bridge.distributed import BatchShardSampler  # noqa: E402


@pytest.mark.parametrize(("n", "batch_size"), [(1, 1), (7, 3), (9, 3), (10, 25), (203, 25)])
def test_minibatches_cover_every_row_once_in_batch_sizes(n, batch_size):
    batches = minibatches(n, batch_size, torch.Generator().manual_seed(0))
    assert [len(b) for b in batches] == batch_sizes(n, batch_size)
    assert sorted(torch.cat(batches).tolist()) == list(range(n))


def test_a_short_last_batch_is_merged_into_the_one_before():
    assert batch_sizes(203, 25) == [25] * 7 + [28]
    assert batch_sizes(10, 25) == [10]
    assert min(batch_sizes(59, 20)) >= 20


def test_the_sampler_shards_the_same_batches():
    n, b, world = 53, 10, 2
    single = minibatches(n, b, torch.Generator().manual_seed(3))
    rows = []
    for rank in range(world):
        s = BatchShardSampler(n, b, torch.Generator().manual_seed(3), num_replicas=world, rank=rank)
        s.set_epoch(0)
        assert len(s) == sum(len(sh.index) for sh in s.shards())
        rows.append([sh.index for sh in s.shards()])
    for i, batch in enumerate(single):
        assert torch.equal(torch.cat([rows[r][i] for r in range(world)]), batch)
