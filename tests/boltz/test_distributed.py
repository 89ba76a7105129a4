"""Data-parallel CD/PCD with 2 CPU processes (gloo on localhost) equals one process."""

from __future__ import annotations

import socket
import sys

import numpy as np
import pytest

import boltz

torch = pytest.importorskip("torch")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _config(kind: str) -> tuple[dict, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.random((300, 12)).astype(np.float32)
    kw = dict(
        n_hidden=6,
        epochs=3,
        batch_size=40,
        learning_rate=0.05,
        progress=False,
        random_state=0,
        monitor_size=0,
        sparsity_target=0.2,
        sparsity_cost=0.1,
        weight_decay=1e-3,
    )
    if kind == "bernoulli-pcd":
        X = (X > 0.5).astype(np.float32)
        kw.update(persistent=True, n_chains=30)
    elif kind == "gaussian":
        kw.update(visible="gaussian", learning_rate=0.01)
    else:
        X = (X > 0.5).astype(np.float32)
    return kw, X


def _worker(rank: int, world: int, port: int, kind: str, out: str) -> None:
    import boltz.distributed as bd

    bd.init("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    kw, X = _config(kind)
    rbm = boltz.RBM(**kw)
    before = rbm.get_params()
    with bd.data_parallel():
        rbm.fit(X)
    np.save(f"{out}.{rank}.npy", rbm.weights_)
    unchanged = rbm.get_params() == before
    if kw.get("persistent"):  # the chains are split, the estimator's n_chains is not rewritten
        n_local = len(np.array_split(np.arange(kw["n_chains"]), world)[rank])
        unchanged &= rbm.estimator_.n_chains == kw["n_chains"]
        unchanged &= rbm.estimator_.chains.shape[0] == n_local
        unchanged &= not hasattr(rbm.estimator_, "n_chains_global")
    np.save(f"{out}.{rank}.params.npy", np.array(unchanged))
    torch.distributed.destroy_process_group()


@pytest.mark.skipif(sys.platform == "win32", reason="gloo over tcp on localhost")
@pytest.mark.parametrize("kind", ["bernoulli", "bernoulli-pcd", "gaussian"])
def test_two_processes_equal_one(tmp_path, kind):
    import torch.multiprocessing as mp

    out = str(tmp_path / "w")
    mp.start_processes(
        _worker, args=(2, _free_port(), kind, out), nprocs=2, join=True, start_method="spawn"
    )
    w0, w1 = np.load(f"{out}.0.npy"), np.load(f"{out}.1.npy")
    np.testing.assert_array_equal(w0, w1)  # identical parameters on every rank
    assert np.load(f"{out}.0.params.npy") and np.load(f"{out}.1.params.npy")  # fit sets no params
    kw, X = _config(kind)
    single = boltz.RBM(**kw).fit(X).weights_
    np.testing.assert_allclose(w0, single, atol=2e-5)


def test_data_parallel_needs_a_process_group():
    import boltz.distributed as bd

    with pytest.raises(RuntimeError, match="process group"):
        with bd.data_parallel():
            pass
    assert bd.rank() == 0 and bd.world_size() == 1
