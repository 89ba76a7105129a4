"""bridge.models checkpoint fuzz: 1000 damaged files either load or raise CheckpointError.

The files are ``torch.save`` archives read with ``torch.load(weights_only=True)``.
Byte-level damage (truncation, flipped bytes, zeroed blocks) and structured damage
(missing / extra / renamed keys, wrong shapes, wrong types, a foreign class or format,
a pickled object inside) must end in :class:`boltz.errors.CheckpointError` -- or in a
model that loads and transforms -- and never run code.
"""

from __future__ import annotations

import io
import json
import pickle

import numpy as np
import pytest
import torch

from boltz.errors import CheckpointError
from bridge.models import SDML, BimodalAE
from bridge.synthetic import make_paired_views

RAN: list[str] = []


class _Evil:
    def __reduce__(self):  # would run code if the loader ever unpickled it
        return (RAN.append, ("pwned",))


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    torch.set_num_threads(1)
    d = tmp_path_factory.mktemp("bridge_ckpt")
    V, y = make_paired_views(40, dims=(6, 5), latent=2, n_classes=2, names=["image", "text"])
    out = {}
    m = BimodalAE(n_components=3, hidden=(4,), epochs=1, batch_size=20, progress=False)
    m.fit(V)
    m.save(d / "bae.pt")
    out["bae"] = (BimodalAE, (d / "bae.pt").read_bytes(), V, m.transform(V))
    s = SDML(hidden=(4,), epochs=1, batch_size=20, progress=False).fit(V, y)
    s.save(d / "sdml.pt")
    out["sdml"] = (SDML, (d / "sdml.pt").read_bytes(), V, s.transform(V))
    return out


def _payload(blob: bytes) -> dict:
    return torch.load(io.BytesIO(blob), map_location="cpu", weights_only=True)


def _blob(payload: dict) -> bytes:
    buf = io.BytesIO()
    torch.save(payload, buf)
    return buf.getvalue()


def _structured(payload: dict, rng: np.random.Generator) -> dict:
    """One structured corruption of a valid payload."""
    p = {k: (dict(v) if isinstance(v, dict) else v) for k, v in payload.items()}
    meta = json.loads(p["meta"])
    kind = rng.integers(12)
    if kind == 0:  # a top-level key missing
        p.pop(list(p)[rng.integers(len(p))])
    elif kind == 1:  # a meta key missing
        meta.pop(list(meta)[rng.integers(len(meta))])
    elif kind == 2:  # a state_dict tensor missing or renamed
        k = list(p["state_dict"])[rng.integers(len(p["state_dict"]))]
        t = p["state_dict"].pop(k)
        if rng.random() < 0.5:
            p["state_dict"][k + "_x"] = t
    elif kind == 3:  # a tensor of the wrong shape
        k = list(p["state_dict"])[rng.integers(len(p["state_dict"]))]
        p["state_dict"][k] = torch.zeros(int(rng.integers(1, 5)), 3)
    elif kind == 4:  # meta values of the wrong type
        key = list(meta)[rng.integers(len(meta))]
        meta[key] = [None, 3, "x", {"a": 1}, 2.5][rng.integers(5)]
    elif kind == 5:  # a foreign class or a newer format
        meta["class" if rng.random() < 0.5 else "format"] = "SomethingElse9"
    elif kind == 6:  # a hyperparameter out of range
        params = meta.get("params", {})
        if params:
            params[list(params)[rng.integers(len(params))]] = -7
    elif kind == 7:  # spec damaged
        spec = meta.get("spec")
        if isinstance(spec, dict) and spec:
            spec[list(spec)[rng.integers(len(spec))]] = "??"
    elif kind == 8:  # meta not JSON
        p["meta"] = "{not json"
        return p
    elif kind == 9:  # extra keys everywhere
        p["surprise"] = torch.ones(2)
        meta["surprise"] = 1
        p["state_dict"]["extra.weight"] = torch.ones(1)
    elif kind == 10:  # preprocessing arrays of the wrong shape
        arrays = p.get("arrays", {})
        if arrays:
            k = list(arrays)[rng.integers(len(arrays))]
            arrays[k] = torch.zeros(int(rng.integers(1, 4)))
    else:  # view names / feature counts inconsistent
        meta["view_names"] = ["image"] if rng.random() < 0.5 else ["a", "b", "c"]
    p["meta"] = json.dumps(meta)
    return p


def _bytes(blob: bytes, rng: np.random.Generator) -> bytes:
    b = bytearray(blob)
    kind = rng.integers(3)
    if kind == 0:
        return bytes(b[: int(rng.integers(0, len(b)))])
    if kind == 1:
        for _ in range(int(rng.integers(1, 8))):
            b[int(rng.integers(len(b)))] ^= 1 << int(rng.integers(8))
        return bytes(b)
    start = int(rng.integers(len(b)))
    b[start : start + int(rng.integers(1, 256))] = bytes(min(255, len(b) - start))
    return bytes(b)[: len(blob)]


def _try(cls, path, V, ref):
    """Load ``path``: CheckpointError, or a model that transforms the views."""
    try:
        model = cls.load(path)
    except CheckpointError:
        return "error"
    emb = model.transform(V)
    assert set(emb) == set(ref)
    return "loaded"


def test_a_thousand_damaged_checkpoints_raise_checkpoint_error(saved, tmp_path):
    rng = np.random.default_rng(2024)
    outcomes = {"error": 0, "loaded": 0}
    names = sorted(saved)
    for i in range(1000):
        cls, blob, V, ref = saved[names[i % len(names)]]
        damaged = _blob(_structured(_payload(blob), rng)) if i % 2 else _bytes(blob, rng)
        path = tmp_path / f"c{i}.pt"
        path.write_bytes(damaged)
        outcomes[_try(cls, path, V, ref)] += 1
    assert not RAN
    assert outcomes["error"] > 500, outcomes  # most corruptions are detected


@pytest.mark.filterwarnings("ignore:Detected pickle protocol:UserWarning")
def test_a_pickled_object_inside_is_refused_without_running(saved, tmp_path):
    cls, blob, _, _ = saved["bae"]
    p = _payload(blob)
    p["evil"] = _Evil()
    path = tmp_path / "evil.pt"
    with open(path, "wb") as f:
        torch.save(p, f)
    with pytest.raises(CheckpointError):
        cls.load(path)
    raw = tmp_path / "raw.pt"
    raw.write_bytes(pickle.dumps(_Evil()))
    with pytest.raises(CheckpointError):
        cls.load(raw)
    assert not RAN


def test_the_undamaged_files_round_trip(saved, tmp_path):
    for name, (cls, blob, V, ref) in saved.items():
        path = tmp_path / f"{name}.pt"
        path.write_bytes(blob)
        emb = cls.load(path).transform(V)
        for k in ref:
            np.testing.assert_array_equal(emb[k], ref[k])
