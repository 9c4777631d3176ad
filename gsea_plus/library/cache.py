"""The per-user cache directory, atomic writes into it, and cleaning up after killed runs.

Temporary files are named ``.<target>.<host>-<pid>.<random>.part``: unique per writer (so
concurrent writers never collide), and traceable to the process that made them (so the
next run can delete those whose writer is gone, e.g. killed with ``kill -9``).
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

from gsea_plus.errors import CacheError, GseaPlusError

log = logging.getLogger(__name__)

__all__ = [
    "CACHE_ENV",
    "atomic_write",
    "cache_dir",
    "discard",
    "optional_cache_write",
    "stage",
    "sweep_stale",
    "temp_beside",
]

#: Environment variable that overrides the cache location.
CACHE_ENV = "GSEA_PLUS_CACHE"
#: A temp file whose writer cannot be checked (another host, an older version) is
#: deleted once it has not been modified for this long.
STALE_AFTER_S = 24 * 3600.0
#: Temp files without a writer tag (written by older versions) go after an hour.
UNTAGGED_STALE_AFTER_S = 3600.0

_HOST = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:6]
_TAGGED = re.compile(r"^\..*\.(?P<host>[0-9a-f]{6})-(?P<pid>\d+)\.[^.]+\.part$")
_SWEPT: set[str] = set()
_WARNED: set[str] = set()


def cache_dir(sub: str | None = None, *, create: bool = True) -> Path:
    """The cache directory (``$GSEA_PLUS_CACHE`` or the platform's user cache dir).

    The first call for an existing directory in a process also deletes temp files left
    there by killed runs (:func:`sweep_stale`).

    Parameters
    ----------
    sub
        Optional sub-directory (``"libraries"``, ``"models"``...).
    create
        Create the directory if missing; raise :class:`CacheError` when impossible.
    """
    root = os.environ.get(CACHE_ENV)
    if root:
        base = Path(root).expanduser()
    else:
        from platformdirs import user_cache_dir

        base = Path(user_cache_dir("gsea-plus", appauthor=False))
    path = base / sub if sub else base
    if create:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "strerror", None) or exc
            raise CacheError(
                f"cache directory {path} cannot be created ({reason}); "
                f"set {CACHE_ENV} to a writable directory"
            ) from exc
        if not os.access(path, os.W_OK | os.X_OK):
            raise CacheError(
                f"cache directory {path} is not writable; set {CACHE_ENV} to a writable directory"
            )
    if str(path) not in _SWEPT:
        _SWEPT.add(str(path))
        sweep_stale(path)
    return path


def _tag() -> str:
    return f"{_HOST}-{os.getpid()}"


def temp_beside(path: Path) -> tuple[int, Path]:
    """Create a unique, writer-tagged temp file beside ``path``: ``(fd, temp path)``.

    Raises
    ------
    CacheError
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
        raise CacheError(f"cannot write {path} ({exc.strerror or exc})") from exc
    return fd, Path(tmp)


def stage(path: Path, data: bytes) -> Path:
    """Write ``data`` to a new temp file beside ``path``; return the temp file's path.

    The caller renames it onto ``path`` (``os.replace``) or :func:`discard` s it. A failure
    leaves nothing behind.

    Raises
    ------
    CacheError
        The directory cannot be created or written (permissions, disk full).
    """
    path = Path(path)
    fd, tmp = temp_beside(path)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        # mkstemp creates 0600; give the file the permissions a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
    except BaseException as exc:
        discard(tmp)
        if isinstance(exc, OSError):
            raise CacheError(f"cannot write {path} ({exc.strerror or exc})") from exc
        raise
    return tmp


def discard(path: Path) -> None:
    """Delete a file if it exists, ignoring errors (cleanup on a failure path)."""
    try:
        os.unlink(path)
    except OSError:
        pass


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory.

    A reader never sees a half-written file, and a failure leaves nothing behind.

    Raises
    ------
    CacheError
        The file cannot be written (permissions, disk full...).
    """
    path = Path(path)
    tmp = stage(path, data)
    try:
        os.replace(tmp, path)
    except BaseException as exc:
        discard(tmp)
        if isinstance(exc, OSError):
            raise CacheError(f"cannot write {path} ({exc.strerror or exc})") from exc
        raise


def optional_cache_write(write: Callable[[], object], path: Path, *, what: str) -> bool:
    """Run a cache write that only saves time; on failure, warn once and go on.

    Parameters
    ----------
    write
        Does the write (raises :class:`CacheError`, another ``GseaPlusError`` or
        ``OSError`` on failure).
    path
        The file written, for the message.
    what
        What is lost, e.g. ``"the parsed-library cache"``.

    Returns
    -------
    bool
        Whether the write succeeded.
    """
    try:
        write()
    except (GseaPlusError, OSError) as exc:
        key = str(Path(path).parent)
        log_at = log.info if key in _WARNED else log.warning
        _WARNED.add(key)
        log_at("not writing %s: %s; continuing without it (slower next time)", what, exc)
        return False
    return True


def _pid_alive(pid: int) -> bool:
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
        elif match["host"] == _HOST and not _pid_alive(int(match["pid"])):
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
