"""Build checkpoint containers by hand, valid checksums included, to test what loading
checks beyond the checksums (types, sizes, consistency) -- and damaged ones."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from typing import Any

import numpy as np

from boltz.container import FORMAT


def npy(a: np.ndarray) -> bytes:
    b = io.BytesIO()
    np.lib.format.write_array(b, np.ascontiguousarray(a), allow_pickle=True)
    return b.getvalue()


def manifest(arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    out = {}
    for k, a in arrays.items():
        a = np.ascontiguousarray(a)
        out[k] = {
            "dtype": a.dtype.str,
            "shape": list(a.shape),
            "sha256": hashlib.sha256(a.tobytes()).hexdigest(),
        }
    return out


def container(
    meta: dict[str, Any] | bytes,
    arrays: dict[str, np.ndarray],
    *,
    members: dict[str, bytes] | None = None,
    compression: int = zipfile.ZIP_STORED,
) -> bytes:
    """A format-2 container of ``meta`` (a dict gets format tags and the manifest; raw
    bytes are used as they are) and ``arrays``, with a correct metadata SHA-256;
    ``members`` adds raw zip members."""
    if isinstance(meta, dict):
        meta = {**meta, "format": FORMAT, "format_version": 2, "manifest": manifest(arrays)}
        raw = json.dumps(meta).encode()
    else:
        raw = meta
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as z:
        z.writestr("__meta__.npy", npy(np.frombuffer(raw, np.uint8)))
        for k, a in arrays.items():
            z.writestr(k + ".npy", npy(a))
        for k, b in (members or {}).items():
            z.writestr(k, b)
        z.comment = b"boltz-checkpoint/2 meta-sha256=" + hashlib.sha256(raw).hexdigest().encode()
    return buf.getvalue()


DAMAGE = ("truncate", "flip", "zero", "insert", "delete", "swap")


def damage(raw: bytes, rng: np.random.Generator, kind: str | None = None) -> tuple[str, bytes]:
    """One random byte-level damage of a file: what storage and transfers do to files."""
    kind = kind or DAMAGE[int(rng.integers(len(DAMAGE)))]
    b = bytearray(raw)
    n = len(b)
    i = int(rng.integers(n))
    if kind == "truncate":
        return kind, bytes(b[: int(rng.integers(n))])
    if kind == "flip":  # 1-4 bytes anywhere, each XORed with a random non-zero value
        for j in rng.integers(0, n, int(rng.integers(1, 5))):
            b[int(j)] ^= int(rng.integers(1, 256))
    elif kind == "zero":
        m = min(int(rng.integers(1, 257)), n - i)
        b[i : i + m] = bytes(m)
    elif kind == "insert":
        b[i:i] = rng.integers(0, 256, int(rng.integers(1, 17)), dtype=np.uint8).tobytes()
    elif kind == "delete":
        del b[i : i + int(rng.integers(1, 17))]
    else:  # swap two 8-byte blocks
        j = int(rng.integers(n))
        if abs(i - j) >= 8 and max(i, j) + 8 <= n:
            b[i : i + 8], b[j : j + 8] = b[j : j + 8], b[i : i + 8]
        else:
            b[i] ^= 0xFF
    return kind, bytes(b)


def damage_tally(
    files: dict[str, bytes],
    n: int,
    rng: np.random.Generator,
    load: Callable[[str, bytes], Any],
    same: Callable[[str, Any], bool],
) -> dict[str, int]:
    """``n`` rounds of ``damage`` to the ``files`` (name -> bytes) in turn: ``load(name,
    blob)`` gives the model a damaged file holds or None where the loader rejected it;
    a model that loads must be the original one (``same(name, model)``)."""
    names = list(files)
    counts = {"rejected": 0, "identical": 0}
    for i in range(n):
        name = names[i % len(names)]
        kind, blob = damage(files[name], rng)
        model = load(name, blob)
        if model is None:
            counts["rejected"] += 1
            continue
        assert same(name, model), f"case {i} ({name}, {kind}) loaded a changed model"
        counts["identical"] += 1
    return counts


#: What an ``Evil`` object appends to when it is unpickled (the fuzz tests check it stays empty).
RAN: list[str] = []


class Evil:
    """An object whose unpickling would run code."""

    def __reduce__(self):
        return (RAN.append, ("pwned",))


# ----------------------------------------------------------------------------- fuzz sources
#: A very small HRL (two Gaussian views): the fuzz tests' and campaign's directory model.
SMALL_HRL = dict(
    visible={"image": "gaussian", "text": "gaussian"},
    friendly_hidden=(4,),
    mutual_hidden=(4,),
    joint_hidden=4,
    rbm_epochs=1,
    joint_ae_hidden=4,
    ff_hidden=(4,),
    n_bae_max=1,
    epochs=1,
    progress=False,
)


def _state(model: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(meta, arrays)``: boltz models' public protocol, bridge models' own method."""
    if hasattr(model, "checkpoint_state"):
        return model.checkpoint_state()
    return model._checkpoint_state()


def model_state(model: Any) -> tuple[str, dict[str, bytes]]:
    """Everything a checkpoint of ``model`` holds (metadata as JSON, array bytes)."""
    meta, arrays = _state(model)
    return json.dumps(meta, sort_keys=True), {k: np.asarray(v).tobytes() for k, v in arrays.items()}


def format1(model: Any) -> bytes:
    """The file boltz wrote before format 2 (np.savez, no manifest, no checksums)."""
    meta, arrays = _state(model)
    meta = {**meta, "format": FORMAT, "format_version": 1}
    buf = io.BytesIO()
    np.savez(buf, __meta__=np.frombuffer(json.dumps(meta).encode(), np.uint8), **arrays)
    return buf.getvalue()


def boltz_models() -> dict[str, Any]:
    """One small fitted model of every boltz checkpoint class."""
    import boltz

    X = (np.random.default_rng(0).random((120, 10)) > 0.5).astype(np.float32)
    G = np.random.default_rng(1).normal(size=(120, 4)) * 3 + 1
    quiet = dict(epochs=1, progress=False)
    return {
        "RBM": boltz.RBM(4, persistent=True, random_state=0, **quiet).fit(X),
        "RBM-gaussian": boltz.RBM(3, "gaussian", random_state=0, **quiet).fit(G),
        "DBN": boltz.DBN([boltz.RBM(6, **quiet), boltz.RBM(3, **quiet)], random_state=0).fit(X),
        "MultimodalDBN": boltz.MultimodalDBN(
            {
                "a": boltz.DBN([boltz.RBM(4, **quiet)], random_state=0),
                "b": boltz.DBN([boltz.RBM(4, **quiet)], random_state=1),
            },
            joint=boltz.RBM(5, random_state=2, **quiet),
        ).fit({"a": X[:, :5], "b": X[:, 5:]}),
    }
