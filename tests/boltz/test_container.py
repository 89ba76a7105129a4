"""The checkpoint container (boltz.container) and atomic writes (boltz.atomic)."""

from __future__ import annotations

import errno
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest

import boltz
from boltz import atomic
from boltz.container import read_container, read_container_bytes, write_container
from boltz.errors import CheckpointError

from .crafting import container, npy

ROOT = Path(__file__).resolve().parents[2]  # the checkout whose boltz is under test


def _rbm(tmp_path, name="rbm.npz", **kw):
    X = (np.random.default_rng(0).random((60, 8)) > 0.5).astype(np.float32)
    return boltz.RBM(4, epochs=1, random_state=0, progress=False, **kw).fit(X).save(tmp_path / name)


# ------------------------------------------------------------------------------- format
def test_round_trip_keeps_dtypes_shapes_and_values(tmp_path):
    arrays = {
        "f32": np.arange(6, dtype=np.float32).reshape(2, 3),
        "f64": np.linspace(0, 1, 5),
        "i8": np.array([-1, 2], np.int8),
        "b": np.array([True, False]),
        "empty": np.zeros((0, 3)),
        "fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
    }
    p = write_container(tmp_path / "c.npz", {"x": [1, "a", None]}, arrays)
    meta, back = read_container(p)
    assert meta["x"] == [1, "a", None] and meta["format_version"] == 2
    assert "manifest" not in meta and sorted(back) == sorted(arrays)
    for k, a in arrays.items():
        assert back[k].dtype == a.dtype and back[k].shape == a.shape
        np.testing.assert_array_equal(back[k], a)
        assert back[k].flags.writeable
    with np.load(p) as z:  # still a plain .npz for NumPy
        np.testing.assert_array_equal(z["f64"], arrays["f64"])


def test_every_single_byte_change_is_rejected_or_harmless(tmp_path):
    """Each byte of a small RBM checkpoint flipped in turn: CheckpointError, or (bytes
    of zip bookkeeping that carry no content, e.g. timestamps) an identical load."""
    p = _rbm(tmp_path)
    raw = p.read_bytes()
    ref_meta, ref = read_container(p)
    outcomes = {"rejected": 0, "identical": 0}
    for i in range(len(raw)):
        b = bytearray(raw)
        b[i] ^= 0xFF
        try:
            meta, arrays = read_container_bytes(bytes(b))
        except CheckpointError:
            outcomes["rejected"] += 1
            continue
        assert meta == ref_meta and sorted(arrays) == sorted(ref), f"byte {i} changed content"
        for k in ref:
            assert arrays[k].tobytes() == ref[k].tobytes(), f"byte {i} changed {k}"
        outcomes["identical"] += 1
    assert outcomes["rejected"] > 0.9 * len(raw), outcomes


def test_changed_array_bytes_fail_the_sha256_even_with_a_fixed_crc(tmp_path):
    """Damage the zip CRC cannot see (CRC recomputed): the manifest's SHA-256 does."""
    p = _rbm(tmp_path)
    with zipfile.ZipFile(p) as z:
        members = {n: z.read(n) for n in z.namelist()}
        comment = z.comment
    w = bytearray(members["params.weights.npy"])
    w[-1] ^= 1
    members["params.weights.npy"] = bytes(w)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for n, v in members.items():
            z.writestr(n, v)
        z.comment = comment
    with pytest.raises(CheckpointError, match="SHA-256"):
        read_container_bytes(buf.getvalue())


def test_damaged_metadata_fails_its_sha256(tmp_path):
    p = _rbm(tmp_path)
    meta, arrays = read_container(p)
    raw = json.dumps({**meta, "epoch": 7}).encode()
    blob = container(raw, arrays)  # metadata changed after hashing: comment is stale
    good_comment = zipfile.ZipFile(p).comment
    buf = io.BytesIO(blob)
    with zipfile.ZipFile(buf, "a") as z:
        z.comment = good_comment
    with pytest.raises(CheckpointError, match="SHA-256"):
        read_container_bytes(buf.getvalue())


@pytest.mark.parametrize(
    "edit",
    [
        lambda m: m.__setitem__("class", ["RBM"]),  # d05: unhashable class
        lambda m: m.__setitem__("class", {"a": 1}),
        lambda m: m.__setitem__("config", "x"),
        lambda m: m.__setitem__("n_hidden", 99),  # arrays do not fit
    ],
)
def test_crafted_metadata_with_valid_checksums_raises_checkpoint_error(tmp_path, edit):
    meta, arrays = read_container(_rbm(tmp_path))
    edit(meta)
    bad = tmp_path / "bad.npz"
    bad.write_bytes(container(meta, arrays))
    with pytest.raises(CheckpointError):
        boltz.load(bad)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"format": "boltz-checkpoint", "format_version": 2, "deep": '
        + b"[" * 100_000
        + b"]" * 100_000
        + b"}",  # d06: RecursionError in json
        b'{"format": "boltz-checkpoint", "format_version": 2, "epoch": ' + b"9" * 5000 + b"}",
        b"\xff\xfe not utf-8",
        b"[1, 2]",
    ],
)
def test_hostile_json_raises_checkpoint_error(tmp_path, raw):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(container(raw, {}))
    with pytest.raises(CheckpointError):
        boltz.load(bad)


def test_compressed_members_are_refused_before_decompression(tmp_path):
    """d08: a deflated member of 256 MB of zeros (a ~250 KB file) is refused from its zip
    header, without decompressing or allocating."""
    meta, arrays = read_container(_rbm(tmp_path))
    buf = io.BytesIO(container(meta, arrays))
    with zipfile.ZipFile(buf, "a", compression=zipfile.ZIP_DEFLATED) as z:
        hdr = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            hdr, {"descr": "<f8", "fortran_order": False, "shape": (1 << 25,)}
        )
        with z.open("pad.npy", "w") as f:
            f.write(hdr.getvalue())
            for _ in range(16):
                f.write(b"\0" * (1 << 24))
    bomb = tmp_path / "bomb.npz"
    bomb.write_bytes(buf.getvalue())
    assert bomb.stat().st_size < 2 << 20
    tracemalloc.start()
    try:
        with pytest.raises(CheckpointError, match="compressed"):
            boltz.load(bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20


def test_sizes_are_checked_before_allocation(tmp_path):
    """An .npy header declaring 10**12 floats in a few-byte member is refused without
    allocating; so are members that claim more bytes than the file has."""
    hdr = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        hdr, {"descr": "<f4", "fortran_order": False, "shape": (10**6, 10**6)}
    )
    meta, arrays = read_container(_rbm(tmp_path))
    blob = container(meta, arrays, members={"huge.npy": hdr.getvalue() + b"\0" * 16})
    tracemalloc.start()
    try:
        with pytest.raises(CheckpointError):
            read_container_bytes(blob)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20


@pytest.mark.parametrize(
    "member",
    [
        npy(np.array([object()], dtype=object)),  # a pickle inside an .npy
        b"\x80\x04\x95 pickled bytes",
    ],
)
def test_pickles_and_non_npy_members_are_refused(tmp_path, member):
    meta, arrays = read_container(_rbm(tmp_path))
    with pytest.raises(CheckpointError):
        read_container_bytes(container(meta, arrays, members={"x.npy": member}))
    with pytest.raises(CheckpointError):
        read_container_bytes(container(meta, arrays, members={"x.bin": member}))


def test_nan_is_refused_on_write_and_on_read(tmp_path):
    p = write_container(tmp_path / "c.npz", {}, {"a": np.zeros(3)})
    before = p.read_bytes()
    with pytest.raises(CheckpointError, match="NaN or inf"):
        write_container(p, {}, {"a": np.array([0.0, np.inf])})
    assert p.read_bytes() == before and sorted(os.listdir(tmp_path)) == ["c.npz"]
    crafted = tmp_path / "nan.npz"
    write_container(crafted, {}, {"a": np.array([np.nan])}, check_finite=False)
    with pytest.raises(CheckpointError, match="NaN or inf"):
        read_container(crafted)


def test_foreign_files_name_what_they_are(tmp_path):
    (tmp_path / "notes.npz").write_text("hello")
    np.save(tmp_path / "a.npy", np.zeros(3))
    import torch

    torch.save({"a": torch.zeros(2)}, tmp_path / "old.pt")
    for name, match in (("notes.npz", "not a checkpoint"), ("a.npy", "not a checkpoint")):
        with pytest.raises(CheckpointError, match=match):
            boltz.load(tmp_path / name)
    with pytest.raises(CheckpointError, match=r"torch\.save"):
        boltz.load(tmp_path / "old.pt")


def test_format_version_1_files_still_load(tmp_path):
    """Checkpoints written before the manifest (np.savez, format 1) load as before."""
    r = boltz.load(_rbm(tmp_path))
    meta, arrays = r.checkpoint_state()
    buf = io.BytesIO()
    meta = {**meta, "format": "boltz-checkpoint", "format_version": 1}
    np.savez(buf, __meta__=np.frombuffer(json.dumps(meta).encode(), np.uint8), **arrays)
    old = tmp_path / "v1.npz"
    old.write_bytes(buf.getvalue())
    X = (np.random.default_rng(1).random((5, 8)) > 0.5).astype(np.float32)
    np.testing.assert_array_equal(boltz.load(old).transform(X), r.transform(X))


# ------------------------------------------------------------------------------- errors
def test_missing_and_unreadable_files_raise_the_builtin_errors(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError):
        boltz.load(tmp_path / "nope.npz")
    p = _rbm(tmp_path)
    with pytest.raises(IsADirectoryError):
        boltz.load(tmp_path)

    def denied(path, *a, **k):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr("boltz.container.open", denied, raising=False)
    with pytest.raises(PermissionError):  # d15: not a CheckpointError
        boltz.load(p)


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX permissions")
def test_unreadable_file_is_a_permission_error_for_real(tmp_path):
    p = _rbm(tmp_path)
    os.chmod(p, 0)
    try:
        code = f"import boltz; boltz.load({str(p)!r})"
        cmd = [sys.executable, "-c", code]
        if os.geteuid() == 0:  # root reads anything: drop the capability that allows it
            if shutil.which("setpriv") is None:
                pytest.skip("running as root without setpriv")
            cmd = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", *cmd]
        r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        if os.geteuid() == 0 and "Operation not permitted" in r.stderr:
            pytest.skip("setpriv cannot drop capabilities here")
        assert r.returncode != 0 and "PermissionError" in r.stderr, r.stderr[-500:]
    finally:
        os.chmod(p, 0o644)


def test_full_disk_is_an_enospc_oserror_and_keeps_the_old_file(tmp_path, monkeypatch):
    p = _rbm(tmp_path)
    before = p.read_bytes()

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np.lib.format, "write_array", full)
    with pytest.raises(OSError, match="no space left") as e:
        boltz.load(p).save(p)
    assert e.value.errno == errno.ENOSPC
    assert p.read_bytes() == before and sorted(os.listdir(tmp_path)) == ["rbm.npz"]


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o077])
def test_new_files_follow_the_umask(tmp_path, umask):
    """d17: 0o666 & ~umask, like open(); not the 0o600 of mkstemp."""
    old = os.umask(umask)
    try:
        p = _rbm(tmp_path)
        with atomic.atomic_directory(tmp_path / "d", lambda n: True) as d:
            (d / "f").write_text("x")
    finally:
        os.umask(old)
    assert os.stat(p).st_mode & 0o777 == 0o666 & ~umask
    assert os.stat(tmp_path / "d").st_mode & 0o777 == 0o777 & ~umask


# ------------------------------------------------------------------------------- temporaries
def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_stale_temporaries_of_dead_processes_are_removed_at_the_next_save(tmp_path):
    target = tmp_path / "rbm.npz"
    host = atomic._host()
    dead = tmp_path / f"rbm.npz{atomic.TMP_TAG}{host}.{_dead_pid()}.0000"
    live = tmp_path / f"rbm.npz{atomic.TMP_TAG}{host}.{os.getpid()}.0001"
    other_host = tmp_path / f"rbm.npz{atomic.TMP_TAG}elsewhere.{_dead_pid()}.0002"
    for f in (dead, live, other_host):
        f.write_bytes(b"partial")
    _rbm(tmp_path)
    assert target.exists() and not dead.exists()
    assert live.exists() and other_host.exists()  # may still be in use: kept


def test_a_kill_mid_write_keeps_the_old_file_and_the_next_save_cleans_up(tmp_path):
    """d16 for real: SIGKILL while the temporary is written (inside fsync)."""
    flag = tmp_path / "in_save"
    code = textwrap.dedent(
        f"""
        import os, time, numpy as np, boltz
        X = (np.random.default_rng(0).random((200, 50)) > .5).astype(float)
        r = boltz.RBM(20, epochs=1, progress=False, random_state=0).fit(X)
        r.save({str(tmp_path / "ck.npz")!r})
        real = os.fsync
        os.fsync = lambda fd: (open({str(flag)!r}, "w").close(), time.sleep(60), real(fd))
        r.save({str(tmp_path / "ck.npz")!r})
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-c", code], env=env)
    try:
        deadline = time.monotonic() + 120
        while not flag.exists() and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert flag.exists(), "the child never reached the write"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    flag.unlink()
    names = sorted(os.listdir(tmp_path))
    assert len(names) == 2 and any(atomic.TMP_TAG in n for n in names)  # the orphan
    good = boltz.load(tmp_path / "ck.npz")  # the old file survived
    good.save(tmp_path / "ck.npz")
    assert sorted(os.listdir(tmp_path)) == ["ck.npz"]


def test_atomic_directory_failure_keeps_the_old_directory(tmp_path):
    target = tmp_path / "model"
    with atomic.atomic_directory(target, lambda n: n == "a") as d:
        (d / "a").write_text("old")
    with pytest.raises(RuntimeError, match="midway"):
        with atomic.atomic_directory(target, lambda n: n == "a") as d:
            (d / "a").write_text("new")
            raise RuntimeError("midway")
    assert (target / "a").read_text() == "old" and sorted(os.listdir(tmp_path)) == ["model"]


@pytest.mark.parametrize("exchange", [True, False])
def test_atomic_directory_replaces_the_old_one(tmp_path, monkeypatch, exchange):
    if not exchange:  # platforms without renameat2(RENAME_EXCHANGE): two renames
        monkeypatch.setattr(atomic, "_exchange", lambda a, b: False)
    target = tmp_path / "model"
    for text in ("one", "two"):
        with atomic.atomic_directory(target, lambda n: n == "a") as d:
            (d / "a").write_text(text)
    assert (target / "a").read_text() == "two" and sorted(os.listdir(tmp_path)) == ["model"]


def test_atomic_directory_refuses_to_swap_away_other_files(tmp_path):
    target = tmp_path / "model"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match=r"notes\.txt"):
        with atomic.atomic_directory(target, lambda n: n == "a"):
            pass
    assert (target / "notes.txt").read_text() == "mine"


def test_an_interrupted_two_rename_swap_is_recovered(tmp_path):
    """A crash between the two renames leaves only the old directory, renamed: the next
    save puts it back first."""
    target = tmp_path / "model"
    old = tmp_path / f"model{atomic.OLD_TAG}{atomic._host()}.{_dead_pid()}.0000"
    old.mkdir()
    (old / "a").write_text("old")
    atomic.clean_stale(target)
    assert (target / "a").read_text() == "old" and not old.exists()
