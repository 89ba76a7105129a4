"""bridge.models checkpoints on boltz's container (bridge/models/_checkpoint.py), the
save/load of the torch models and of HRL directories."""

from __future__ import annotations

import errno
import os
import shutil

import numpy as np
import pytest
import torch

import boltz
from boltz.container import read_container
from boltz.errors import CheckpointError, ConfigError, DivergenceError
from bridge.models import HRL, SDML, BimodalAE
from bridge.models.hrl import HRLStage1
from bridge.synthetic import make_paired_views

from ..boltz.crafting import SMALL_HRL, container


@pytest.fixture(scope="module")
def views():
    return make_paired_views(
        120, dims=(10, 8), n_classes=3, random_state=0, names=("image", "text")
    )


@pytest.fixture(scope="module")
def bae(views):
    return BimodalAE(n_components=4, hidden=(16,), epochs=2, progress=False).fit(views[0])


@pytest.fixture(scope="module")
def hrl_pair(views):
    V, y = views
    return (
        HRL(**SMALL_HRL, random_state=0).fit(V, y),
        HRL(**SMALL_HRL, random_state=1).fit(V, y),
    )


def _craft(tmp_path, src, edit=None, arrays_edit=None, name="crafted.pt"):
    """A copy of ``src`` with its metadata / arrays edited and valid checksums."""
    meta, arrays = read_container(src)
    if edit:
        edit(meta)
    if arrays_edit:
        arrays_edit(arrays)
    p = tmp_path / name
    p.write_bytes(container(meta, arrays))
    return p


def test_round_trip_is_exact_and_the_file_is_the_boltz_container(tmp_path, bae, views):
    p = bae.save(tmp_path / "bae.pt")
    back = BimodalAE.load(p)
    for k, z in bae.transform(views[0]).items():
        np.testing.assert_array_equal(back.transform(views[0])[k], z)
    meta, arrays = read_container(p)
    assert meta["library"] == "bridge.models" and meta["class"] == "BimodalAE"
    assert any(k.startswith("state.") for k in arrays)
    with pytest.raises(CheckpointError, match=r"bridge\.models BimodalAE"):
        boltz.load(p)
    with pytest.raises(CheckpointError, match="not a SDML"):
        SDML.load(p)


def test_a_flipped_weight_byte_or_a_nan_is_refused(tmp_path, bae):
    """d04 / d11: damage inside a tensor used to load silently with other embeddings."""
    p = bae.save(tmp_path / "bae.pt")
    raw = bytearray(p.read_bytes())
    at = raw.find(b"state.")  # somewhere in the member data after the first state name
    raw[len(raw) // 2] ^= 0x20
    bad = tmp_path / "flip.pt"
    bad.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError):
        BimodalAE.load(bad)
    assert at > 0

    def nan(arrays):
        k = next(k for k in arrays if k.startswith("state.") and k.endswith("weight"))
        arrays[k] = np.full_like(arrays[k], np.nan)

    with pytest.raises(CheckpointError, match="NaN or inf"):
        BimodalAE.load(_craft(tmp_path, p, arrays_edit=nan))

    def nan_mean(arrays):
        arrays["preprocess.image.mean"] = np.full_like(arrays["preprocess.image.mean"], np.nan)

    with pytest.raises(CheckpointError, match="NaN or inf"):
        BimodalAE.load(_craft(tmp_path, p, arrays_edit=nan_mean))


@pytest.mark.parametrize(
    "params", [{"epochs": "x"}, {"n_components": -5}, {"hidden": "abc"}, {"evil": 1}]
)
def test_invalid_hyperparameters_are_refused_at_load(tmp_path, bae, params):
    p = bae.save(tmp_path / "bae.pt")
    with pytest.raises(CheckpointError, match="hyperparameters"):
        BimodalAE.load(_craft(tmp_path, p, lambda m: m["params"].update(params)))


def test_a_huge_declared_width_is_refused_without_allocating(tmp_path, bae, monkeypatch):
    """d09 / d10: n_features_in = 1e12, or a 20000 x 20000 layer in the spec with small
    weights, are refused before any real allocation (the network is first built on
    torch's meta device)."""
    p = bae.save(tmp_path / "bae.pt")
    with pytest.raises(CheckpointError, match="matches no saved array"):
        BimodalAE.load(_craft(tmp_path, p, lambda m: m["n_features_in"].update(image=10**12)))

    devices = []
    real = BimodalAE._build

    def spy(self, spec):
        devices.append(torch.empty(0).device.type)
        return real(self, spec)

    monkeypatch.setattr(BimodalAE, "_build", spy)
    huge = _craft(tmp_path, p, lambda m: m["spec"]["encoders"][0].update(sizes=[20000, 20000]))
    with pytest.raises(CheckpointError, match="do not fit the saved spec"):
        BimodalAE.load(huge)
    assert devices == ["meta"]


def test_the_old_torch_format_is_named(tmp_path):
    torch.save({"meta": "{}", "state_dict": {}, "arrays": {}}, tmp_path / "old.pt")
    with pytest.raises(CheckpointError, match=r"torch\.save"):
        BimodalAE.load(tmp_path / "old.pt")


def test_save_on_a_full_disk_is_enospc_and_keeps_the_old_file(tmp_path, bae, monkeypatch):
    """d14: it was a RuntimeError from inside torch.save."""
    p = bae.save(tmp_path / "bae.pt")
    before = p.read_bytes()

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np.lib.format, "write_array", full)
    with pytest.raises(OSError, match="no space left") as e:
        bae.save(p)
    assert e.value.errno == errno.ENOSPC
    assert p.read_bytes() == before and os.listdir(tmp_path) == ["bae.pt"]


def test_files_follow_the_umask(tmp_path, bae, hrl_pair):
    old = os.umask(0o022)
    try:
        p = bae.save(tmp_path / "bae.pt")
        d = hrl_pair[0].save(tmp_path / "hrl")
    finally:
        os.umask(old)
    assert os.stat(p).st_mode & 0o777 == 0o644
    assert os.stat(d).st_mode & 0o777 == 0o755
    assert os.stat(d / "hrl.npz").st_mode & 0o777 == 0o644


def test_pretrained_for_an_unknown_view_is_an_error(views):
    """d26: a misspelled view name used to be ignored silently."""
    V, _ = views
    dbn = boltz.DBN([boltz.RBM(6, "gaussian", epochs=1, progress=False)]).fit(V["image"])
    with pytest.raises(ConfigError, match="imgae"):
        BimodalAE(n_components=4, hidden=(6,), epochs=1, pretrained={"imgae": dbn}).fit(V)


def test_a_network_too_large_for_memory_is_a_memory_error(views):
    """d25: a clear MemoryError that counts the parameters, not torch's RuntimeError."""
    with pytest.raises(MemoryError, match=r"parameters .* GiB .* smaller layers"):
        BimodalAE(n_components=4, hidden=(10**6, 10**6), epochs=1).fit(views[0])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_diverging_bridge_fit_raises_divergence_error(views):
    with pytest.raises(DivergenceError, match="learning_rate"):
        BimodalAE(n_components=4, hidden=(16,), epochs=20, learning_rate=1e30, progress=False).fit(
            views[0]
        )


# ------------------------------------------------------------------------------- HRL
def test_hrl_round_trip(tmp_path, hrl_pair, views):
    a, _ = hrl_pair
    d = a.save(tmp_path / "m")
    assert sorted(os.listdir(d)) == ["hrl.npz", "stage1"]
    assert sorted(os.listdir(d / "stage1")) == [
        "mdbn.npz",
        "srbm.image.npz",
        "srbm.text.npz",
        "stage1.npz",
    ]
    back = HRL.load(d)
    for k, z in a.transform(views[0]).items():
        np.testing.assert_array_equal(back.transform(views[0])[k], z)
    assert isinstance(boltz.load(d / "stage1" / "mdbn.npz"), boltz.MultimodalDBN)


def test_hrl_save_failing_midway_keeps_the_old_model(tmp_path, hrl_pair, views, monkeypatch):
    """d13: a failure while writing hrl.npz over a good model left the new stage1/ with
    the old torch stages, which loaded silently."""
    a, b = hrl_pair
    d = a.save(tmp_path / "m")
    za = a.transform(views[0])["image"]
    import bridge.models.hrl.checkpoint as hrl_mod

    real = hrl_mod.write_container

    def failing(path, meta, arrays, **kw):
        if str(path).endswith("hrl.npz"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, meta, arrays, **kw)

    monkeypatch.setattr(hrl_mod, "write_container", failing)
    with pytest.raises(OSError, match="no space left"):
        b.save(d)
    monkeypatch.undo()
    np.testing.assert_array_equal(HRL.load(d).transform(views[0])["image"], za)
    assert sorted(os.listdir(tmp_path)) == ["m"]  # no temporary directory left
    b.save(d)  # and a good save replaces it
    np.testing.assert_array_equal(
        HRL.load(d).transform(views[0])["image"], b.transform(views[0])["image"]
    )


def test_a_directory_mixing_two_saves_is_refused(tmp_path, hrl_pair):
    """d12: stage1/ of another HRL used to load, then fail in transform."""
    a, b = hrl_pair
    da, db = a.save(tmp_path / "a"), b.save(tmp_path / "b")
    shutil.rmtree(da / "stage1")
    shutil.copytree(db / "stage1", da / "stage1")
    with pytest.raises(CheckpointError, match="mixes files of two saves"):
        HRL.load(da)
    shutil.copy(db / "stage1" / "mdbn.npz", tmp_path / "mdbn.npz")
    mixed = a.stage1_.save(tmp_path / "s1")
    shutil.copy(tmp_path / "mdbn.npz", mixed / "mdbn.npz")
    with pytest.raises(CheckpointError, match="mixes files of two saves"):
        HRLStage1.load(mixed)


@pytest.mark.parametrize(
    ("target", "edit"),
    [
        ("stage1/stage1.npz", lambda m: m.pop("params")),
        ("stage1/stage1.npz", lambda m: m["params"].__setitem__("evil", 1)),
        ("stage1/stage1.npz", lambda m: m["n_features_in"].__setitem__("image", "x")),
        ("stage1/stage1.npz", lambda m: m.__setitem__("units", [1, 2])),
        ("stage1/stage1.npz", lambda m: m.__setitem__("view_names", ["../x", "text"])),
        ("hrl.npz", lambda m: m.pop("view_names")),
        ("hrl.npz", lambda m: m["params"].__setitem__("epochs", -1)),
        ("hrl.npz", lambda m: m["spec"].__setitem__("baes", [[{"image": 99}, 3]])),
        ("hrl.npz", lambda m: m.__setitem__("classes", [0])),
    ],
)
def test_crafted_hrl_indexes_raise_checkpoint_error(tmp_path, hrl_pair, target, edit):
    """d12: raw KeyError / TypeError used to escape (here the checksums are even valid,
    so the loader's own checks are what catch it)."""
    d = hrl_pair[0].save(tmp_path / "m")
    meta, arrays = read_container(d / target)
    edit(meta)
    (d / target).write_bytes(container(meta, arrays))
    if target.startswith("stage1/"):  # keep the outer checksum valid
        meta, arrays = read_container(d / "hrl.npz")
        from boltz.container import files_manifest

        meta["files"] = files_manifest(d, ["stage1/stage1.npz"])
        (d / "hrl.npz").write_bytes(container(meta, arrays))
    with pytest.raises(CheckpointError):
        HRL.load(d)


def test_hrl_directories_refuse_old_layouts_and_foreign_files(tmp_path, hrl_pair):
    old = tmp_path / "old"
    old.mkdir()
    (old / "hrl.pt").write_bytes(b"x")
    with pytest.raises(CheckpointError, match="old layout"):
        HRL.load(old)
    hrl_pair[0].save(old)  # an old-layout directory may be overwritten
    HRL.load(old)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match=r"notes\.txt"):
        hrl_pair[0].save(mine)
    assert (mine / "notes.txt").read_text() == "keep me"
    with pytest.raises(FileNotFoundError):
        HRL.load(tmp_path / "nothing")
