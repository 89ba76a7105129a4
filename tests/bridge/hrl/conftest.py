"""Fixtures of the HRL tests: the tiny data, a fitted step 1 and a fitted HRL (per module)."""

from __future__ import annotations

import pytest

from bridge.models.hrl import HRL, HRLStage1

from .tiny import TINY, TINY_STAGE1, make_data


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One BLAS and torch thread: tiny models on a shared machine run faster so."""
    import torch
    from threadpoolctl import threadpool_limits

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(1):
        yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def data():
    return make_data()


@pytest.fixture(scope="module")
def stage1(data):
    V, _ = data["train"]
    return HRLStage1(**TINY_STAGE1, random_state=0).fit(V)


@pytest.fixture(scope="module")
def fitted(data, stage1):
    (V, y), (Vv, yv) = data["train"], data["val"]
    return HRL(stage1=stage1, **TINY, random_state=0).fit(V, y, Vv, yv)
