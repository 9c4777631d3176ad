"""The per-user cache directory and atomic writes into it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from gsea_plus.errors import CacheError

__all__ = ["CACHE_ENV", "atomic_write", "cache_dir"]

#: Environment variable that overrides the cache location.
CACHE_ENV = "GSEA_PLUS_CACHE"


def cache_dir(sub: str | None = None, *, create: bool = True) -> Path:
    """The cache directory (``$GSEA_PLUS_CACHE`` or the platform's user cache dir).

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
        except OSError as exc:
            raise CacheError(
                f"cache directory {path} cannot be created ({exc.strerror or exc}); "
                f"set {CACHE_ENV} to a writable directory"
            ) from exc
        if not os.access(path, os.W_OK | os.X_OK):
            raise CacheError(
                f"cache directory {path} is not writable; set {CACHE_ENV} to a writable directory"
            )
    return path


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory.

    A reader never sees a half-written file, and a failure leaves nothing behind.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    except OSError as exc:
        raise CacheError(f"cannot write {path} ({exc.strerror or exc})") from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        # mkstemp creates 0600; give the file the permissions a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise CacheError(f"cannot write {path} ({exc.strerror or exc})") from exc
        raise
