"""Checkpoint loader fuzz: 1000 generated corruptions either load correctly or raise
``boltz.CheckpointError`` (a ValueError); nothing else escapes and no code runs."""

from __future__ import annotations

import io
import json
import pickle
import zipfile

import numpy as np
import pytest

import boltz
from boltz.checkpoint import read_checkpoint

RAN = []


class _Evil:
    def __reduce__(self):  # would run code if the loader ever unpickled
        return (RAN.append, ("pwned",))


def _npz(meta, arrays):
    buf = io.BytesIO()
    blob = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez(buf, __meta__=blob, **arrays)
    return buf.getvalue()


def _npy(a):
    b = io.BytesIO()
    np.lib.format.write_array(b, a, allow_pickle=True)
    return b.getvalue()


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    d = tmp_path_factory.mktemp("src")
    X = (np.random.default_rng(0).random((120, 10)) > 0.5).astype(np.float32)
    out = {
        "rbm": boltz.RBM(n_hidden=4, epochs=1, persistent=True, progress=False, random_state=0)
        .fit(X)
        .save(d / "rbm.npz")
    }
    dbn = boltz.DBN(
        [boltz.RBM(6, epochs=1, progress=False), boltz.RBM(3, epochs=1, progress=False)],
        random_state=0,
    ).fit(X)
    out["dbn"] = dbn.save(d / "dbn.npz")
    mdbn = boltz.MultimodalDBN(
        {
            "a": boltz.DBN([boltz.RBM(4, epochs=1, progress=False)], random_state=0),
            "b": boltz.DBN([boltz.RBM(4, epochs=1, progress=False)], random_state=1),
        },
        joint=boltz.RBM(5, epochs=1, progress=False, random_state=2),
    ).fit({"a": X[:, :5], "b": X[:, 5:]})
    out["mdbn"] = mdbn.save(d / "mdbn.npz")
    return out


def _mutate(raw: bytes, meta: dict, arrays: dict, rng: np.random.Generator) -> bytes:
    kind = rng.integers(0, 10)
    keys = sorted(arrays)
    if kind == 0:  # truncation
        return raw[: rng.integers(0, len(raw))]
    if kind == 1:  # flipped bytes
        b = bytearray(raw)
        for i in rng.integers(0, len(b), rng.integers(1, 20)):
            b[i] ^= int(rng.integers(1, 256))
        return bytes(b)
    if kind == 2:  # wrong shape
        k = keys[rng.integers(len(keys))]
        shape = tuple(int(s) for s in rng.integers(0, 7, rng.integers(0, 3)))
        return _npz(meta, {**arrays, k: np.zeros(shape, np.float32)})
    if kind == 3:  # missing key
        k = keys[rng.integers(len(keys))]
        return _npz(meta, {kk: v for kk, v in arrays.items() if kk != k})
    if kind == 4:  # extra key
        return _npz(meta, {**arrays, f"x.{rng.integers(1e6)}": np.zeros(3, np.float32)})
    if kind == 5:  # object array member
        zb = io.BytesIO()
        with zipfile.ZipFile(zb, "w") as z:
            z.writestr("__meta__.npy", _npy(np.frombuffer(json.dumps(meta).encode(), np.uint8)))
            z.writestr(keys[0] + ".npy", _npy(np.array([_Evil()], dtype=object)))
        return zb.getvalue()
    if kind == 6:  # a pickle inside
        zb = io.BytesIO()
        with zipfile.ZipFile(zb, "w") as z:
            z.writestr("__meta__.npy", pickle.dumps(_Evil()))
        return zb.getvalue()
    if kind == 7:  # newer format version or wrong types in metadata
        m = dict(meta)
        choice = rng.integers(0, 4)
        if choice == 0:
            m["format_version"] = int(rng.integers(2, 100))
        elif choice == 1:
            m["epoch"] = "many"
        elif choice == 2:
            m["config"] = [1, 2]
        else:
            m.pop(sorted(m)[rng.integers(len(m))])
        return _npz(m, arrays)
    if kind == 8:  # values: NaN / wrong dtype
        k = keys[rng.integers(len(keys))]
        a = arrays[k]
        bad = np.full(a.shape, np.nan, np.float32) if rng.random() < 0.5 else a.astype(np.int8)
        return _npz(meta, {**arrays, k: bad})
    return raw  # unchanged: must load


def test_fuzz_1000_cases(sources, tmp_path):
    rng = np.random.default_rng(12345)
    loaded = raised = 0
    names = sorted(sources)
    for i in range(1000):
        src = sources[names[i % len(names)]]
        raw = src.read_bytes()
        meta, arrays = read_checkpoint(src)
        blob = _mutate(raw, meta, arrays, rng)
        p = tmp_path / f"c{i}.npz"
        p.write_bytes(blob)
        try:
            obj = boltz.load(p, device="cpu")
        except boltz.CheckpointError:
            raised += 1
            continue
        loaded += 1
        assert type(obj).__name__ in ("RBM", "DBN", "MultimodalDBN")
    assert RAN == [], "a pickle inside a checkpoint was executed"
    assert loaded > 50 and raised > 500
