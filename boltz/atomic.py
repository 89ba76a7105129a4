"""Atomic writes of checkpoint files and checkpoint directories.

A file is written under a temporary name next to its target and renamed over it
only once it is complete and on disk (``fsync``), so a reader sees either the old
file or the new one, never a mix.  A directory (e.g. :meth:`bridge.models.HRL.save`)
is built complete under a temporary name and swapped with the old one in one step
(``renameat2(RENAME_EXCHANGE)`` on Linux; elsewhere two renames a few microseconds
apart, recovered automatically at the next save if a crash falls between them).

Temporary names are ``<target name>.boltz-tmp.<host>.<pid>.<random>``: they never
end in ``.npz`` (so globs and ``boltz info`` ignore them) and say who made them.  A
failed write removes its temporary; one left by a killed process (SIGKILL, power
loss) is removed by the next save of the same target on the same host once that
process is gone.  New files and directories get the usual permissions of the
caller's umask (``0o666 & ~umask``), like ``open(path, "w")``.

A full disk raises ``OSError`` with ``errno.ENOSPC`` (or ``EDQUOT``) and a message
that names the target; the previous file is left untouched.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import logging
import os
import re
import secrets
import shutil
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

logger = logging.getLogger(__name__)

__all__ = ["TMP_TAG", "atomic_directory", "atomic_file", "clean_stale", "is_temporary"]

TMP_TAG = ".boltz-tmp."
OLD_TAG = ".boltz-old."
_FULL = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:40] or "host"


def _side_name(target: Path, tag: str) -> Path:
    return target.with_name(f"{target.name}{tag}{_host()}.{os.getpid()}.{secrets.token_hex(4)}")


def is_temporary(name: str) -> bool:
    """Whether a file name is one of this module's temporaries."""
    return TMP_TAG in name or OLD_TAG in name


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # another user's process (or not a pid we can judge): leave it
    return True


def _remove(p: Path) -> None:
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            p.unlink()


def clean_stale(target: Path) -> None:
    """Remove temporaries of ``target`` left by dead processes of this host.

    A directory swap interrupted between its two renames (platforms without
    ``RENAME_EXCHANGE``) left the old directory under an ``OLD_TAG`` name and no
    target: it is renamed back first.
    """
    parent = target.parent
    try:
        entries = list(parent.iterdir())
    except OSError:
        return
    host = _host()
    for entry in entries:
        for tag in (TMP_TAG, OLD_TAG):
            prefix = target.name + tag
            if not entry.name.startswith(prefix):
                continue
            parts = entry.name[len(prefix) :].split(".")
            if len(parts) != 3 or parts[0] != host or not parts[1].isdigit():
                continue
            if _pid_alive(int(parts[1])):
                continue
            if tag == OLD_TAG:
                if not target.exists():
                    try:
                        os.rename(entry, target)
                        logger.warning("recovered %s from an interrupted save", target)
                    except OSError:
                        pass
                    continue
            logger.info("removing %s, left by an interrupted save", entry)
            _remove(entry)


def disk_full(e: OSError, target: Path, nbytes: int | None = None) -> OSError:
    """The ``OSError`` to raise for a write to ``target`` that failed with ``e``.

    ENOSPC / EDQUOT become one clear message (same errno); other errors come back as
    they are.
    """
    if e.errno not in _FULL:
        return e
    need = f" (about {nbytes / 1e6:.1f} MB needed)" if nbytes else ""
    return OSError(
        e.errno,
        f"no space left on the device to write the checkpoint {str(target)!r}{need}; free some "
        "space or save to another directory (the previous file, if any, is unchanged)",
        str(target),
    )


def _fsync_dir(d: Path) -> None:
    try:
        fd = os.open(d, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_file(target: Path, nbytes: int | None = None) -> Iterator[BinaryIO]:
    """Open a temporary file for ``target``; on a clean exit it replaces ``target``.

    Parameters
    ----------
    target : Path
        The final path (its directory must exist).
    nbytes : int, optional
        Expected size, only for the message of a full disk.

    Yields
    ------
    file object opened for binary writing.  Raising inside the block removes the
    temporary and leaves ``target`` as it was.
    """
    target = Path(target)
    clean_stale(target)
    tmp = _side_name(target, TMP_TAG)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    except OSError as e:
        raise disk_full(e, target, nbytes) from e
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError) and e.errno in _FULL:
            raise disk_full(e, target, nbytes) from e
        raise
    _fsync_dir(target.parent)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two existing paths (Linux ``renameat2``); False if unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    rc = fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EPERM, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


@contextlib.contextmanager
def atomic_directory(target: Path, owned: Callable[[str], bool]) -> Iterator[Path]:
    """Build a directory under a temporary name; on a clean exit swap it in for ``target``.

    Parameters
    ----------
    target : Path
        The checkpoint directory.  Its parent is created when missing.
    owned : callable
        ``owned(name)`` says whether an entry of an existing ``target`` belongs to
        the checkpoint.  An existing ``target`` holding anything else is refused
        (``FileExistsError``): swapping it would delete the user's other files.

    Yields
    ------
    Path of the (empty) temporary directory to fill.  Raising inside the block
    removes it and leaves ``target`` as it was.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(target)
    if target.exists():
        if not target.is_dir():
            raise FileExistsError(
                f"{str(target)!r} exists and is not a directory; pick a new path for the model."
            )
        foreign = sorted(e.name for e in target.iterdir() if not owned(e.name))
        if foreign:
            raise FileExistsError(
                f"{str(target)!r} holds files that are not part of this checkpoint "
                f"({', '.join(foreign[:5])}); save the model into a new or empty directory."
            )
    tmp = _side_name(target, TMP_TAG)
    try:
        os.mkdir(tmp)  # mode 0o777 & ~umask
    except OSError as e:
        raise disk_full(e, target) from e
    try:
        yield tmp
        for root, _, files in os.walk(tmp):
            _fsync_dir(Path(root))
            del files
        if not target.exists():
            os.rename(tmp, target)
        elif _exchange(tmp, target):
            _remove(tmp)  # now the old directory
        else:
            old = _side_name(target, OLD_TAG)
            os.rename(target, old)
            os.rename(tmp, target)
            _remove(old)
    except BaseException as e:
        _remove(tmp)
        if isinstance(e, OSError) and e.errno in _FULL:
            raise disk_full(e, target) from e
        raise
    _fsync_dir(target.parent)
