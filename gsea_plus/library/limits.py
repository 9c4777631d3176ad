"""Limits on network transfers and decompression, read from the environment.

Every value is checked when it is used: a value that is not a positive, finite number
is an :class:`~gsea_plus.errors.InputError` naming the variable, never a silent default
(``nan`` would disable every comparison; ``inf`` would disable the limit).

``GSEA_PLUS_MAX_DOWNLOAD_BYTES``
    The most bytes one download may deliver (decoded). Default 512 MiB; for model hub
    files, 2 GiB unless the variable is set.
``GSEA_PLUS_MAX_INFLATE_BYTES``
    The most bytes gzip data may inflate to (local files, downloads). Default: the
    download cap.
``GSEA_PLUS_TIMEOUT``
    Seconds to wait for each connect and each read. Default 10 s to connect, 30 s per read.
``GSEA_PLUS_DEADLINE``
    Seconds one download (one file) may take in all, attempts and backoff included.
    Default 300 s.
"""

from __future__ import annotations

import math
import os

from gsea_plus.errors import InputError

__all__ = [
    "DEADLINE_ENV",
    "MAX_DOWNLOAD_BYTES_ENV",
    "MAX_INFLATE_BYTES_ENV",
    "TIMEOUT_ENV",
    "deadline",
    "max_download_bytes",
    "max_inflate_bytes",
    "timeouts",
]

MAX_DOWNLOAD_BYTES_ENV = "GSEA_PLUS_MAX_DOWNLOAD_BYTES"
MAX_INFLATE_BYTES_ENV = "GSEA_PLUS_MAX_INFLATE_BYTES"
TIMEOUT_ENV = "GSEA_PLUS_TIMEOUT"
DEADLINE_ENV = "GSEA_PLUS_DEADLINE"

DEFAULT_MAX_BYTES = 512 * 1024 * 1024
#: (connect, read) seconds: a stalled server fails in RETRIES x 30 s plus backoff.
DEFAULT_TIMEOUTS = (10.0, 30.0)
DEFAULT_DEADLINE = 300.0


def _env_int(name: str) -> int | None:
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number <= 0:
        raise InputError(f"{name} must be a positive whole number of bytes, not {value!r}")
    return number


def _env_seconds(name: str) -> float | None:
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or number <= 0:
        raise InputError(f"{name} must be a positive, finite number of seconds, not {value!r}")
    return number


def max_download_bytes(default: int = DEFAULT_MAX_BYTES) -> int:
    """The download size cap (``GSEA_PLUS_MAX_DOWNLOAD_BYTES``, else ``default``: 512 MiB)."""
    return _env_int(MAX_DOWNLOAD_BYTES_ENV) or default


def max_inflate_bytes() -> int:
    """The cap on inflated gzip data: ``GSEA_PLUS_MAX_INFLATE_BYTES``, else the download cap."""
    return _env_int(MAX_INFLATE_BYTES_ENV) or max_download_bytes()


def timeouts() -> tuple[float, float]:
    """``(connect, read)`` seconds; ``GSEA_PLUS_TIMEOUT`` sets both."""
    t = _env_seconds(TIMEOUT_ENV)
    return (t, t) if t is not None else DEFAULT_TIMEOUTS


def deadline() -> float:
    """Seconds one download may take, retries included (``GSEA_PLUS_DEADLINE``)."""
    return _env_seconds(DEADLINE_ENV) or DEFAULT_DEADLINE


def check_environment() -> None:
    """Check every limit variable now (a command can fail before doing any work)."""
    max_inflate_bytes()
    timeouts()
    deadline()
