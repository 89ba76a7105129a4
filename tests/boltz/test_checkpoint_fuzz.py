"""Checkpoint loader fuzz over every boltz checkpoint format (RBM, DBN, MultimodalDBN;
format 2, and format 1 as written before the manifest).

* Byte damage (truncation, flipped / zeroed / inserted / deleted / swapped bytes): the
  load raises ``boltz.CheckpointError`` or gives the identical model -- never a
  different model, never another exception.
* Crafted files with valid checksums (wrong shapes, missing / extra arrays, wrong
  metadata types, NaN, pickles, ...): ``CheckpointError`` or a model that loads;
  nothing else escapes and no code runs.
"""

from __future__ import annotations

import json
import pickle
import zipfile

import numpy as np
import pytest

import boltz
from boltz.checkpoint import read_checkpoint

from .crafting import RAN, Evil, boltz_models, container, damage_tally, format1, model_state, npy


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    """name -> (file bytes, state of the model it holds)."""
    d = tmp_path_factory.mktemp("src")
    out = {}
    for name, m in boltz_models().items():
        out[name] = (m.save(d / f"{name}.npz").read_bytes(), model_state(m))
        out[name + "-v1"] = (format1(m), model_state(m))
    return out


def _load(tmp_path, blob):
    p = tmp_path / "c.npz"
    p.write_bytes(blob)
    try:
        return boltz.load(p)
    except boltz.CheckpointError:
        return None


def test_byte_damage_is_rejected_or_harmless(sources, tmp_path):
    counts = damage_tally(
        {n: sources[n][0] for n in sorted(sources)},
        600,
        np.random.default_rng(12345),
        lambda _, blob: _load(tmp_path, blob),
        lambda name, obj: model_state(obj) == sources[name][1],
    )
    assert counts["rejected"] > 500, counts


def _crafted(meta: dict, arrays: dict, rng: np.random.Generator) -> bytes:
    """A structurally wrong file whose checksums are right."""
    keys = sorted(arrays)
    k = keys[rng.integers(len(keys))]
    kind = rng.integers(0, 10)
    m, a = json.loads(json.dumps(meta)), dict(arrays)
    if kind == 0:  # wrong shape
        a[k] = np.zeros(tuple(int(s) for s in rng.integers(0, 7, rng.integers(0, 3))), np.float32)
    elif kind == 1:  # missing array
        a.pop(k)
    elif kind == 2:  # extra array
        a[f"x.{rng.integers(1e6)}"] = np.zeros(3, np.float32)
    elif kind == 3:  # NaN, or an integer dtype where floats belong
        a[k] = np.full(a[k].shape, np.nan, np.float32) if rng.random() < 0.5 else a[k].astype(int)
    elif kind == 4:  # newer format / foreign class
        m["format_version"] = (
            int(rng.integers(3, 100)) if rng.random() < 0.5 else m["format_version"]
        )
        m["class"] = (
            m["class"] if rng.random() < 0.5 else ["RBM", None, 3, {"a": 1}][rng.integers(4)]
        )
    elif kind == 5:  # a metadata value of the wrong type, anywhere at the top
        m[sorted(m)[rng.integers(len(m))]] = ["x", -1, None, [1, 2], {"a": 1}, 1e300][
            rng.integers(6)
        ]
    elif kind == 6:  # a metadata key missing
        m.pop(sorted(m)[rng.integers(len(m))])
    elif kind == 7:  # an object (pickle) member
        return container(m, a, members={"evil.npy": npy(np.array([Evil()], dtype=object))})
    elif kind == 8:  # raw pickle as the metadata
        return container(pickle.dumps(Evil()), a)
    else:  # deflated members
        return container(m, a, compression=zipfile.ZIP_DEFLATED)
    m.pop("format", None)
    return container(m, a)


def test_crafted_files_raise_checkpoint_error_or_load(sources, tmp_path):
    rng = np.random.default_rng(54321)
    names = sorted(n for n in sources if not n.endswith("-v1"))
    parsed = {}
    for n in names:
        p = tmp_path / f"{n}.npz"
        p.write_bytes(sources[n][0])
        parsed[n] = read_checkpoint(p)
    loaded = rejected = 0
    for i in range(400):
        meta, arrays = parsed[names[i % len(names)]]
        obj = _load(tmp_path, _crafted(meta, arrays, rng))
        if obj is None:
            rejected += 1
        else:
            loaded += 1
            assert type(obj).__name__ in ("RBM", "DBN", "MultimodalDBN")
    assert RAN == [], "a pickle inside a checkpoint was executed"
    assert rejected > 300, (loaded, rejected)


def test_the_undamaged_files_load_identically(sources, tmp_path):
    for raw, ref in sources.values():
        assert model_state(_load(tmp_path, raw)) == ref
