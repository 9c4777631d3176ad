"""The per-user cache directory, atomic writes into it, and cleaning up after killed runs.

Temporary files are named ``.<target>.<host>-<pid>.<random>.part``: unique per writer (so
concurrent writers never collide), and traceable to the process that made them (so the
next run can delete those whose writer is gone, e.g. killed with ``kill -9``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

from gsea_plus.errors import CacheError, GseaPlusError
from gsea_plus.files import (  # noqa: F401 (the cache's own API, re-exported)
    _HOST,
    _TAGGED,
    STALE_AFTER_S,
    atomic_write,
    discard,
    stage,
    sweep_stale,
    temp_beside,
)

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
