"""The checkpoint container: one ``.npz`` (zip) file of numeric arrays and JSON metadata.

Every checkpoint of the project -- boltz RBM / DBN / MultimodalDBN, every
``bridge.models`` model, the index files of an HRL directory -- is this container.
It is a plain ``.npz`` (``numpy.load`` opens it) with these rules:

* members are ``.npy`` files stored uncompressed (``ZIP_STORED``); ``__meta__.npy``
  holds the metadata as UTF-8 JSON bytes (a 1-D uint8 array);
* the metadata carries a ``manifest``: for every array its dtype, shape and the
  SHA-256 of its data bytes; the zip comment carries the SHA-256 of the metadata
  bytes.  So every byte of every array and of the metadata is covered by a
  SHA-256 checked on load (format version 2; version-1 files, written by boltz
  before the manifest existed, are still read, checked by the zip CRC-32 only);
* reading never unpickles (``allow_pickle`` is never on) and validates before it
  allocates: member names, sizes and ``.npy`` headers are checked against the
  manifest and against the file size, so no member can ask for more memory than
  the file holds (no zip bombs), then each array is read once into a buffer of
  exactly its validated size, hashed and checked for NaN / inf.

Errors: a damaged, truncated, foreign or newer-format file raises
:class:`boltz.errors.CheckpointError` (a ``ValueError``); a missing file
``FileNotFoundError``; an unreadable one ``PermissionError`` (or the ``OSError`` the
system gives); a full disk on write ``OSError(ENOSPC)`` (see :mod:`boltz.atomic`).
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import math
import os
import re
import zipfile
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from .atomic import atomic_file
from .errors import CheckpointError

__all__ = [
    "CONTENT_ERRORS",
    "FORMAT",
    "FORMAT_VERSION",
    "MAX_META_BYTES",
    "check_version",
    "check_writable",
    "file_sha256",
    "files_manifest",
    "read_container",
    "safe_member_name",
    "verify_files",
    "write_container",
]

FORMAT = "boltz-checkpoint"
FORMAT_VERSION = 2
META_KEY = "__meta__"
MAX_META_BYTES = 64 << 20
_MAX_HEADER = 1 << 16
_COMMENT = re.compile(rb"^boltz-checkpoint/(\d+) meta-sha256=([0-9a-f]{64})$")


def _sha256(a: np.ndarray) -> str:
    a = np.ascontiguousarray(a)
    return hashlib.sha256(memoryview(a.reshape(-1)).cast("B") if a.size else b"").hexdigest()


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a whole file (hex), read in 1 MB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_writable(path: str | os.PathLike) -> Path:
    """``path`` as a Path; a clear OSError now if its directory cannot take a checkpoint."""
    p = Path(path)
    d = p.parent if str(p.parent) else Path(".")
    if not d.is_dir():
        raise FileNotFoundError(f"checkpoint directory {str(d)!r} does not exist; create it first.")
    if not os.access(d, os.W_OK):
        raise PermissionError(f"checkpoint directory {str(d)!r} is not writable.")
    return p


#: Exceptions that, raised while rebuilding a model from a verified container, mean
#: content that does not fit together: loaders turn them into CheckpointError.
CONTENT_ERRORS = (
    KeyError,
    TypeError,
    ValueError,
    AttributeError,
    IndexError,
    OverflowError,
    RecursionError,
)


def _check_array(name: str, v: Any, check_finite: bool = True) -> np.ndarray:
    a = np.ascontiguousarray(v)
    if a.dtype.kind not in "fiub" or a.dtype.fields is not None:
        raise CheckpointError(
            f"array {name!r} has dtype {a.dtype}; checkpoints hold plain numeric arrays only."
        )
    if check_finite and a.dtype.kind == "f" and a.size and not np.isfinite(a).all():
        raise CheckpointError(
            f"refusing to write array {name!r}: it contains NaN or inf (did training diverge? "
            "lower the learning rate); the file on disk is unchanged."
        )
    return a


def write_container(
    path: str | os.PathLike,
    meta: dict[str, Any],
    arrays: dict[str, Any],
    *,
    check_finite: bool = True,
) -> Path:
    """Atomically write ``meta`` (JSON-able dict) and ``arrays`` to ``path`` (exact path).

    The metadata gets ``format``, ``format_version`` and the ``manifest`` (dtype,
    shape and SHA-256 of every array).  Float arrays must be finite: a model whose
    parameters hold NaN or inf is refused (``CheckpointError``) rather than written
    over a good file (``check_finite=False`` lets tests craft such a file to check
    that loading refuses it).  On any failure the previous file at ``path`` is untouched and
    no temporary is left behind.
    """
    p = check_writable(path)
    if META_KEY in arrays:
        raise CheckpointError(f"{META_KEY!r} is reserved for the metadata.")
    checked = {str(k): _check_array(str(k), v, check_finite) for k, v in arrays.items()}
    meta = dict(meta)
    meta["format"] = FORMAT
    meta["format_version"] = FORMAT_VERSION
    meta["manifest"] = {
        k: {"dtype": a.dtype.str, "shape": list(a.shape), "sha256": _sha256(a)}
        for k, a in checked.items()
    }
    try:
        raw = json.dumps(meta, allow_nan=True).encode("utf-8")
    except (TypeError, ValueError) as e:
        raise CheckpointError(f"checkpoint metadata is not JSON-able: {e}") from e
    if len(raw) > MAX_META_BYTES:
        raise CheckpointError(
            f"checkpoint metadata is {len(raw)} bytes; at most {MAX_META_BYTES} are allowed."
        )
    blob = np.frombuffer(raw, dtype=np.uint8)
    nbytes = len(raw) + sum(a.nbytes for a in checked.values())
    with atomic_file(p, nbytes) as f:
        with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as z:
            for k, a in ((META_KEY, blob), *checked.items()):
                with z.open(k + ".npy", "w", force_zip64=a.nbytes > (1 << 30)) as m:
                    np.lib.format.write_array(m, a, allow_pickle=False)
            z.comment = f"{FORMAT}/{FORMAT_VERSION} meta-sha256=".encode() + hashlib.sha256(
                raw
            ).hexdigest().encode("ascii")
    return p


# ----------------------------------------------------------------------------- reading


def _npy_header(f: BinaryIO, where: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    try:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(
                f, max_header_size=_MAX_HEADER
            )
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(
                f, max_header_size=_MAX_HEADER
            )
        else:
            raise ValueError(f"unsupported .npy version {version}")
    except CheckpointError:
        raise
    except zipfile.BadZipFile as e:  # the member fails its CRC-32 (zipfile reads ahead)
        raise CheckpointError(f"{where}: damaged ({e}).") from e
    except Exception as e:  # ValueError, SyntaxError, struct.error, ...
        raise CheckpointError(f"{where}: not a valid .npy header ({type(e).__name__}: {e})") from e
    if dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None:
        raise CheckpointError(f"{where}: dtype {dtype} is not a plain numeric dtype (pickle?).")
    if dtype.kind not in "fiub":
        raise CheckpointError(f"{where}: dtype {dtype}; expected a numeric array.")
    if not all(isinstance(s, int) and s >= 0 for s in shape):
        raise CheckpointError(f"{where}: invalid shape {shape!r}.")
    return tuple(shape), bool(fortran), dtype


def _read_member(z: zipfile.ZipFile, info: zipfile.ZipInfo, where: str) -> tuple[np.ndarray, str]:
    """One member's array (validated header, exactly-sized buffer) and the SHA-256 of its data."""
    with z.open(info) as f:
        shape, fortran, dtype = _npy_header(f, where)
        nbytes = dtype.itemsize * math.prod(shape)
        if f.tell() + nbytes != info.file_size:
            raise CheckpointError(
                f"{where}: the .npy header declares {shape} {dtype} ({nbytes} bytes) but the "
                f"member holds {info.file_size - f.tell()} data bytes."
            )
        a = np.empty(shape[::-1] if fortran else shape, dtype=dtype)
        h = hashlib.sha256()
        if nbytes:
            buf = memoryview(a.reshape(-1)).cast("B")
            got = 0
            while got < nbytes:
                n = f.readinto(buf[got:])
                if not n:
                    raise CheckpointError(f"{where}: truncated data.")
                got += n
            h.update(buf)
        if f.read(1):
            raise CheckpointError(f"{where}: trailing bytes after the array data.")
    return (a.T if fortran else a), h.hexdigest()


def _parse_meta(raw: bytes, where: str) -> dict[str, Any]:
    try:
        meta = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:  # JSONDecodeError, long ints
        raise CheckpointError(
            f"{where}: the metadata is not valid JSON ({type(e).__name__}: {str(e)[:100]})"
        ) from e
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{where} is not a boltz checkpoint (format tag missing).")
    check_version(meta, "format_version", FORMAT_VERSION, where)
    return meta


def check_version(meta: dict[str, Any], key: str, supported: int, where: str) -> int:
    """``meta[key]``: a positive int no newer than ``supported``, else CheckpointError."""
    ver = meta.get(key)
    if not isinstance(ver, int) or isinstance(ver, bool) or ver < 1:
        raise CheckpointError(f"{where}: {key} must be a positive int; got {ver!r}.")
    if ver > supported:
        raise CheckpointError(
            f"{where} has {key} {ver}, newer than this boltz reads ({supported}); upgrade "
            "boltz to read it."
        )
    return ver


def _manifest(meta: dict[str, Any], where: str) -> dict[str, tuple[str, tuple[int, ...], str]]:
    man = meta.pop("manifest", None)
    if not isinstance(man, dict):
        raise CheckpointError(f"{where}: the metadata has no array manifest.")
    out = {}
    for k, e in man.items():
        ok = (
            isinstance(e, dict)
            and isinstance(e.get("dtype"), str)
            and isinstance(e.get("shape"), list)
            and all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in e["shape"])
            and isinstance(e.get("sha256"), str)
        )
        if not ok:
            raise CheckpointError(f"{where}: manifest entry {k!r} is malformed.")
        out[k] = (e["dtype"], tuple(e["shape"]), e["sha256"])
    return out


def _foreign(names: list[str]) -> str | None:
    if any(n.endswith("data.pkl") for n in names):
        return (
            "a torch.save file (pickle inside): a bridge.models checkpoint of the old format "
            "'bridge.models/1' or a foreign .pt. This version reads only the checked .npz "
            "container; refit the model and save it again"
        )
    return None


def read_container(path: str | os.PathLike) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read and verify a checkpoint container; returns ``(meta, arrays)``.

    ``meta`` is the metadata without its ``manifest``; ``arrays`` maps names to
    writable NumPy arrays, each verified against the manifest (dtype, shape,
    SHA-256) and free of NaN / inf.

    Raises
    ------
    FileNotFoundError, PermissionError, IsADirectoryError
        The file is missing or cannot be opened (the system's own errors).
    CheckpointError
        Anything wrong with the content: not a zip, truncated, damaged, foreign,
        pickled or compressed members, sizes that do not add up, a hash mismatch,
        NaN / inf, a newer format version.
    """
    p = Path(path)
    where = repr(str(p))
    try:
        f = open(p, "rb")
    except FileNotFoundError as e:  # missing / unreadable: the built-in errors
        raise FileNotFoundError(e.errno, f"no checkpoint at {str(p)!r}", str(p)) from None
    with f:
        try:
            return _read(f, where)
        except CheckpointError:
            raise
        except OSError as e:
            if e.errno not in (None, errno.EINVAL):
                raise  # an I/O error of the device (EIO, ...), not of the content
            raise CheckpointError(
                f"{where} is damaged or not a checkpoint ({type(e).__name__}: {e})"
            ) from e
        except Exception as e:  # zlib.error, struct.error, EOFError, ... from damaged bytes
            raise CheckpointError(
                f"{where} is damaged or not a checkpoint ({type(e).__name__}: {e})"
            ) from e


def _read(f: BinaryIO, where: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    size = f.seek(0, io.SEEK_END)
    f.seek(0)
    try:
        z = zipfile.ZipFile(f)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as e:
        raise CheckpointError(
            f"{where} is not a checkpoint (.npz zip file): {type(e).__name__}: {e}"
        ) from e
    with z:
        infos = z.infolist()
        names = [i.filename for i in infos]
        why = _foreign(names)
        if why:
            raise CheckpointError(f"{where} is {why}.")
        if len(set(names)) != len(names):
            raise CheckpointError(f"{where}: duplicate members.")
        total = 0
        for i in infos:
            if not i.filename.endswith(".npy"):
                raise CheckpointError(f"{where}: member {i.filename!r} is not a .npy array.")
            if i.compress_type != zipfile.ZIP_STORED or i.compress_size != i.file_size:
                raise CheckpointError(
                    f"{where}: member {i.filename!r} is compressed; boltz checkpoints store "
                    "arrays uncompressed."
                )
            total += i.file_size
            if i.header_offset < 0 or i.header_offset + i.file_size > size or total > size:
                raise CheckpointError(f"{where}: member sizes exceed the file size (damaged).")
        by_name = {n[: -len(".npy")]: i for n, i in zip(names, infos)}
        if META_KEY not in by_name:
            raise CheckpointError(f"{where} is not a boltz checkpoint (no {META_KEY} entry).")
        info = by_name.pop(META_KEY)
        if info.file_size > MAX_META_BYTES + _MAX_HEADER:
            raise CheckpointError(f"{where}: the metadata member is too large.")
        blob, _ = _read_member(z, info, f"{where} metadata")
        if blob.dtype != np.uint8 or blob.ndim != 1:
            raise CheckpointError(f"{where}: metadata must be a 1-D uint8 array of UTF-8 JSON.")
        raw = blob.tobytes()
        m = _COMMENT.match(z.comment or b"")
        if m is not None and hashlib.sha256(raw).hexdigest() != m.group(2).decode():
            raise CheckpointError(f"{where}: the metadata fails its SHA-256 check (damaged).")
        meta = _parse_meta(raw, where)
        version = meta["format_version"]
        if version >= 2:
            if m is None or int(m.group(1)) != version:
                raise CheckpointError(f"{where}: the metadata checksum is missing (damaged).")
            manifest = _manifest(meta, where)
            if set(manifest) != set(by_name):
                missing = sorted(set(manifest) - set(by_name))[:5]
                extra = sorted(set(by_name) - set(manifest))[:5]
                raise CheckpointError(
                    f"{where}: the members do not match the manifest (missing {missing}, "
                    f"unlisted {extra})."
                )
        else:
            manifest = None
        arrays: dict[str, np.ndarray] = {}
        for k, info in by_name.items():
            a, digest = _read_member(z, info, f"{where} array {k!r}")
            if manifest is not None:
                dt, shape, sha = manifest[k]
                if a.dtype.str != dt or tuple(a.shape) != shape:
                    raise CheckpointError(
                        f"{where}: array {k!r} is {a.shape} {a.dtype.str}, the manifest says "
                        f"{shape} {dt}."
                    )
                if digest != sha:
                    raise CheckpointError(
                        f"{where}: array {k!r} fails its SHA-256 check (damaged)."
                    )
            if a.dtype.kind == "f" and a.size and not np.isfinite(a).all():
                raise CheckpointError(f"{where}: array {k!r} contains NaN or inf.")
            arrays[k] = a
    return meta, arrays


def read_container_bytes(blob: bytes, where: str = "<bytes>") -> tuple[dict, dict]:
    """:func:`read_container` for an in-memory file (tests, fuzzing)."""
    try:
        return _read(io.BytesIO(blob), repr(where))
    except CheckpointError:
        raise
    except Exception as e:
        raise CheckpointError(f"{where} is damaged ({type(e).__name__}: {e})") from e


# ----------------------------------------------------------------------------- directories


def safe_member_name(name: Any) -> bool:
    """Whether ``name`` can name a file inside a checkpoint directory (no path tricks)."""
    return (
        isinstance(name, str)
        and bool(name)
        and not name.startswith(".")
        and not any(c in name for c in "/\\\0")
    )


def files_manifest(root: Path, names: list[str]) -> dict[str, dict[str, Any]]:
    """``{name: {"sha256", "size"}}`` of the files ``root / name`` (for an index file)."""
    return {n: {"sha256": file_sha256(root / n), "size": (root / n).stat().st_size} for n in names}


def verify_files(root: Path, manifest: Any, expected: list[str], where: str) -> None:
    """Check that the files of a checkpoint directory are the ones its index recorded.

    Raises CheckpointError when ``manifest`` does not list exactly ``expected`` or a
    file's size or SHA-256 differs (a damaged file, or a directory that mixes two
    saves); FileNotFoundError when a listed file is missing.
    """
    if not isinstance(manifest, dict) or sorted(manifest) != sorted(expected):
        listed = sorted(manifest)[:6] if isinstance(manifest, dict) else manifest
        raise CheckpointError(
            f"{where}: the index lists the files {listed!r}; expected {sorted(expected)}."
        )
    for name in expected:
        e = manifest[name]
        if not isinstance(e, dict) or not isinstance(e.get("sha256"), str):
            raise CheckpointError(f"{where}: the index entry of {name!r} is malformed.")
        p = root / name
        if p.stat().st_size != e.get("size") or file_sha256(p) != e["sha256"]:
            raise CheckpointError(
                f"{where}: {name} is not the file this checkpoint was saved with (its SHA-256 "
                "differs): the directory is damaged or mixes files of two saves."
            )
