"""Files that appear whole or not at all: tagged temp files, atomic replacement, clean-up.

A temp file is written beside its target, named ``.<name>.<host>-<pid>.<random>.part``
(unique per writer, so concurrent writers never share one), and renamed onto the target
when complete. A run that is killed leaves its temp file behind; :func:`sweep_stale`
deletes the temp files of writers that no longer run. The cache and the ``-o`` outputs
both build on this module.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import socket
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

from gsea_plus.errors import CacheError, GseaPlusError

log = logging.getLogger(__name__)

__all__ = [
    "STALE_AFTER_S",
    "atomic_write",
    "discard",
    "pid_alive",
    "stage",
    "sweep_stale",
    "temp_beside",
    "umask_mode",
]

#: Temp files of a writer that may still run (another host, a live process) are deleted
#: only after this long without a change.
STALE_AFTER_S = 24 * 3600.0
#: Temp files written by versions before the tags (``.name.XXXX.part``).
UNTAGGED_STALE_AFTER_S = 3600.0

_HOST = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:6]
_TAGGED = re.compile(r"^\..*\.(?P<host>[0-9a-f]{6})-(?P<pid>\d+)\.[^.]+\.part$")


def _tag() -> str:
    return f"{_HOST}-{os.getpid()}"


def umask_mode() -> int:
    """The permissions a plain ``open()`` would give a new file (0666 less the umask)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def temp_beside(path: Path, *, error: type[GseaPlusError] = CacheError) -> tuple[int, Path]:
    """Create a unique, writer-tagged temp file beside ``path``: ``(fd, temp path)``.

    Raises
    ------
    error
        The directory cannot be created or written.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # The name is cut so that prefix + random part + suffix stays under 255 bytes.
        fd, tmp = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name[:150]}.{_tag()}.", suffix=".part"
        )
    except OSError as exc:
        raise error(f"cannot write {path} ({exc.strerror or exc})") from exc
    return fd, Path(tmp)


#: What a file is made of: its bytes, or a function that writes them to a binary handle.
Content = bytes | Callable[[IO[bytes]], object]


def stage(path: Path, data: Content, *, error: type[GseaPlusError] = CacheError) -> Path:
    """Write ``data`` to a new temp file beside ``path``; return the temp file's path.

    ``data`` is the file's bytes, or a function that writes them to the open file
    (a file too large to hold in memory).

    The caller renames it onto ``path`` (``os.replace``) or :func:`discard` s it. A failure
    leaves nothing behind.

    Raises
    ------
    error
        The directory cannot be created or written (permissions, disk full).
    """
    path = Path(path)
    fd, tmp = temp_beside(path, error=error)
    try:
        with os.fdopen(fd, "wb") as fh:
            if isinstance(data, bytes):
                fh.write(data)
            else:
                data(fh)
        # mkstemp creates 0600; give the file the permissions a plain open() would.
        os.chmod(tmp, umask_mode())
    except BaseException as exc:
        discard(tmp)
        if isinstance(exc, OSError):
            raise error(f"cannot write {path} ({exc.strerror or exc})") from exc
        raise
    return tmp


def discard(path: Path) -> None:
    """Delete a file if it exists, ignoring errors (clean-up on a failure path)."""
    try:
        os.unlink(path)
    except OSError:
        pass


def atomic_write(path: Path, data: Content, *, error: type[GseaPlusError] = CacheError) -> None:
    """Write ``data`` (bytes or a writer, as :func:`stage`) to ``path`` through a temp file.

    A reader never sees a half-written file, and a failure leaves nothing behind.

    Raises
    ------
    error
        The file cannot be written (permissions, disk full...).
    """
    path = Path(path)
    tmp = stage(path, data, error=error)
    try:
        os.replace(tmp, path)
    except BaseException as exc:
        discard(tmp)
        if isinstance(exc, OSError):
            raise error(f"cannot write {path} ({exc.strerror or exc})") from exc
        raise


def pid_alive(pid: int) -> bool:
    """Whether a process of this id runs on this host (unknown: assumed alive)."""
    if os.name == "nt":  # os.kill(pid, 0) would send CTRL_C_EVENT there
        return True
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it exists, owned by someone else
        return True
    return True


def sweep_stale(directory: Path, *, now: float | None = None) -> list[Path]:
    """Delete temp files (``.*.part``) in ``directory`` whose writer is gone.

    A file tagged with this host and the id of a process that no longer runs is deleted
    at once; any other temp file once it has not been modified for a day (an hour for
    untagged files from older versions). Errors are ignored: this is housekeeping.

    Returns
    -------
    list of Path
        The files deleted.
    """
    removed: list[Path] = []
    now = time.time() if now is None else now
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        name = entry.name
        if not (name.startswith(".") and name.endswith(".part")):
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            age = now - entry.stat(follow_symlinks=False).st_mtime
        except OSError:
            continue
        match = _TAGGED.match(name)
        if match is None:
            stale = age > UNTAGGED_STALE_AFTER_S
        elif match["host"] == _HOST and not pid_alive(int(match["pid"])):
            stale = True
        else:
            stale = age > STALE_AFTER_S
        if stale:
            try:
                os.unlink(entry.path)
            except OSError:
                continue
            removed.append(Path(entry.path))
    if removed:
        log.info("removed %d temp files left by interrupted runs in %s", len(removed), directory)
    return removed
