"""bridge.models checkpoint fuzz: BimodalAE and SDML files, HRL directories.

* Byte damage (truncation, flipped / zeroed / inserted / deleted / swapped bytes) of
  the file, or of any one file of an HRL directory: ``CheckpointError`` or the
  identical model (same arrays, same metadata, same embeddings) -- never a model
  that differs, never another exception.
* Crafted files with valid checksums (wrong shapes, missing / extra / renamed
  tensors, wrong metadata types, foreign class, damaged spec, pickles, ...):
  ``CheckpointError`` or a model that loads and transforms; no code runs.
"""

from __future__ import annotations

import json
import pickle
import shutil

import numpy as np
import pytest

from boltz.container import read_container
from boltz.errors import CheckpointError
from bridge.models import HRL, SDML, BimodalAE
from bridge.synthetic import make_paired_views

from ..boltz.crafting import RAN, SMALL_HRL, Evil, container, damage_tally, model_state, npy


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    d = tmp_path_factory.mktemp("bridge_ckpt")
    V, y = make_paired_views(40, dims=(6, 5), latent=2, n_classes=2, names=["image", "text"])
    out = {}
    m = BimodalAE(n_components=3, hidden=(4,), epochs=1, batch_size=20, progress=False).fit(V)
    out["bae"] = (BimodalAE, m.save(d / "bae.pt").read_bytes(), V, model_state(m))
    s = SDML(hidden=(4,), epochs=1, batch_size=20, progress=False).fit(V, y)
    out["sdml"] = (SDML, s.save(d / "sdml.pt").read_bytes(), V, model_state(s))
    return out


@pytest.fixture(scope="module")
def hrl_dir(tmp_path_factory):
    V, y = make_paired_views(60, dims=(6, 5), n_classes=3, random_state=0, names=("image", "text"))
    m = HRL(**SMALL_HRL, random_state=0).fit(V, y)
    d = m.save(tmp_path_factory.mktemp("hrl") / "model")
    return d, V, m.transform(V)


def _load(cls, path):
    try:
        return cls.load(path)
    except CheckpointError:
        return None


def test_byte_damage_is_rejected_or_harmless(saved, tmp_path):
    def load(name, blob):
        path = tmp_path / "c.pt"
        path.write_bytes(blob)
        return _load(saved[name][0], path)

    def same(name, model):
        _, _, V, ref = saved[name]
        if model_state(model) != ref:
            return False
        model.transform(V)
        return True

    files = {n: saved[n][1] for n in sorted(saved)}
    counts = damage_tally(files, 500, np.random.default_rng(2024), load, same)
    assert counts["rejected"] > 400, counts


def test_byte_damage_to_any_file_of_an_hrl_directory(hrl_dir, tmp_path):
    src, V, ref = hrl_dir

    def load(name, blob):
        d = tmp_path / "m"
        shutil.copytree(src, d)
        (d / name).write_bytes(blob)
        try:
            return _load(HRL, d)
        finally:
            shutil.rmtree(d)

    def same(_, model):
        out = model.transform(V)
        return all(np.array_equal(out[k], ref[k]) for k in ref)

    files = {str(p.relative_to(src)): p.read_bytes() for p in sorted(src.rglob("*.npz"))}
    counts = damage_tally(files, 100, np.random.default_rng(7), load, same)
    assert counts["rejected"] > 80, counts


def _crafted(meta: dict, arrays: dict, rng: np.random.Generator) -> bytes:
    """One structured corruption whose checksums are valid."""
    m, a = json.loads(json.dumps(meta)), dict(arrays)
    state = sorted(k for k in a if k.startswith("state."))
    kind = rng.integers(12)
    if kind == 0:  # a metadata key missing
        m.pop(sorted(m)[rng.integers(len(m))])
    elif kind == 1:  # a tensor missing or renamed
        k = state[rng.integers(len(state))]
        t = a.pop(k)
        if rng.random() < 0.5:
            a[k + "_x"] = t
    elif kind == 2:  # a tensor of the wrong shape
        k = state[rng.integers(len(state))]
        a[k] = np.zeros((int(rng.integers(1, 5)), 3), np.float32)
    elif kind == 3:  # metadata values of the wrong type
        m[sorted(m)[rng.integers(len(m))]] = [None, 3, "x", {"a": 1}, 2.5, [1]][rng.integers(6)]
    elif kind == 4:  # a foreign class, library or newer format
        key = ["class", "library", "bridge_format"][rng.integers(3)]
        m[key] = ["SomethingElse9", 99, None][rng.integers(3)]
    elif kind == 5:  # a hyperparameter out of range
        params = m.get("params", {})
        params[sorted(params)[rng.integers(len(params))]] = [-7, "x", None, 1e9][rng.integers(4)]
    elif kind == 6:  # spec damaged
        spec = m["spec"]
        spec[sorted(spec)[rng.integers(len(spec))]] = ["??", 10**6, [], {}][rng.integers(4)]
    elif kind == 7:  # extra arrays
        a["surprise"] = np.ones(2)
        a["state.extra.weight"] = np.ones(1, np.float32)
    elif kind == 8:  # preprocessing / extra arrays of the wrong shape or values
        k = sorted(k for k in a if not k.startswith("state."))[0]
        a[k] = np.zeros(int(rng.integers(1, 4))) if rng.random() < 0.5 else -np.abs(a[k])
    elif kind == 9:  # view names / feature counts inconsistent
        m["view_names"] = ["image"] if rng.random() < 0.5 else ["a", "b", "c"]
        m["n_features_in"] = {"image": int(rng.integers(1, 10**9))}
    elif kind == 10:  # a pickled object member
        return container(m, a, members={"evil.npy": npy(np.array([Evil()], dtype=object))})
    else:  # metadata that is a pickle
        return container(pickle.dumps(Evil()), a)
    m.pop("format", None)
    return container(m, a)


def test_crafted_files_raise_checkpoint_error_or_load(saved, tmp_path):
    rng = np.random.default_rng(99)
    names = sorted(saved)
    parsed = {}
    for n in names:
        p = tmp_path / f"{n}.pt"
        p.write_bytes(saved[n][1])
        parsed[n] = read_container(p)
    outcomes = {"error": 0, "loaded": 0}
    for i in range(300):
        cls, _, V, _ = saved[names[i % len(names)]]
        path = tmp_path / "c.pt"
        path.write_bytes(_crafted(*parsed[names[i % len(names)]], rng))
        model = _load(cls, path)
        if model is None:
            outcomes["error"] += 1
        else:
            assert set(model.transform(V)) == set(V)
            outcomes["loaded"] += 1
    assert not RAN
    assert outcomes["error"] > 240, outcomes


def test_the_undamaged_files_round_trip(saved, tmp_path):
    for name, (cls, blob, _, ref) in saved.items():
        path = tmp_path / f"{name}.pt"
        path.write_bytes(blob)
        assert model_state(cls.load(path)) == ref
