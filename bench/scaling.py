"""Data-parallel CD-1 speed-up: 1 process vs N processes (torch.distributed, gloo, CPU).

Run: ``.venv/bin/python -m bench.scaling [--procs 2] [--shape 1024x1024]``.  Each
process gets ``cores // procs`` BLAS threads, so 1 x 2 threads is compared with
2 x 1 thread on the same cores.
"""

from __future__ import annotations

import argparse
import os
import socket

import numpy as np

from .cd_step import boltz_rate


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _fit(V: int, H: int, n: int, batch: int) -> float:
    X = (np.random.default_rng(0).random((n, V)) < 0.3).astype(np.float32)
    return n / boltz_rate(X, H, batch)


def _worker(rank: int, world: int, port: int, V: int, H: int, n: int, batch: int, out: str):
    from threadpoolctl import threadpool_limits

    import boltz.distributed as bd

    bd.init("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    with threadpool_limits(max(1, (os.cpu_count() or 1) // world)), bd.data_parallel():
        dt = _fit(V, H, n, batch)
    if rank == 0:
        with open(out, "w") as f:
            f.write(str(dt))
    import torch.distributed as dist

    dist.destroy_process_group()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--procs", type=int, default=2)
    p.add_argument("--shape", default="1024x1024")
    p.add_argument("--batch", type=int, default=512, help="global batch")
    p.add_argument("--samples", type=int, default=512 * 20)
    a = p.parse_args(argv)
    V, H = (int(x) for x in a.shape.split("x"))
    one = _fit(V, H, a.samples, a.batch)
    import tempfile

    import torch.multiprocessing as mp

    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "t")
        mp.start_processes(
            _worker,
            args=(a.procs, _port(), V, H, a.samples, a.batch, out),
            nprocs=a.procs,
            join=True,
            start_method="spawn",
        )
        many = float(open(out).read())
    bytes_per_step = 4 * (V * H + V + H) * 2  # all-reduce of the fp32 statistics (ring: ~2x)
    print(f"{V}x{H}, global batch {a.batch}, {a.samples} samples")
    print(f"  1 process : {a.samples / one:9.0f} samples/s")
    print(f"  {a.procs} processes: {a.samples / many:9.0f} samples/s  (speed-up {one / many:.2f}x)")
    print(f"  all-reduce traffic per step ~ {bytes_per_step / 1e6:.1f} MB per process")


if __name__ == "__main__":
    main()
