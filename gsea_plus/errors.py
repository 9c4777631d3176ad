"""Exceptions raised by gsea-plus.

Every error a user can cause derives from :class:`GseaPlusError`; the CLI turns
these into one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations


class GseaPlusError(Exception):
    """Base class of errors caused by input, data or the environment."""

    exit_code = 2


class InputError(GseaPlusError, ValueError):
    """A gene list, signature or option value cannot be used (also a ``ValueError``)."""


class LibraryError(GseaPlusError):
    """A gene set library is unknown, missing, corrupt or unreadable."""


class NetworkError(GseaPlusError):
    """A download failed (network down, HTTP error, truncated body)."""

    exit_code = 3


class NotFoundError(NetworkError):
    """The server has no such resource (HTTP 404, or Enrichr's empty answer)."""


class CacheError(GseaPlusError):
    """The cache directory cannot be used, or a file cannot be written into it."""


class CorruptCacheError(LibraryError):
    """A cached library failed its checks (checksum, metadata, content).

    Loading a library downloads it again on its own; offline, the message says to run
    ``gsea-plus libraries download NAME --force``.
    """


class OutputError(GseaPlusError):
    """An output (``-o``, ``--plot``, ``--report``, standard output) cannot be written."""


class ModelError(GseaPlusError):
    """A model checkpoint is missing, corrupt or does not match its vocabulary."""


class MissingExtraError(GseaPlusError, ImportError):
    """An optional dependency is needed; the message names the extra to install."""


def require(module: str, extra: str, purpose: str):
    """Import an optional module, or raise :class:`MissingExtraError` naming the extra.

    Parameters
    ----------
    module
        Module to import, e.g. ``"matplotlib.pyplot"``.
    extra
        The gsea-plus extra that provides it, e.g. ``"plot"``.
    purpose
        What it is needed for, used in the message.
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        package = module.split(".")[0]
        raise MissingExtraError(
            f"{purpose} needs {package}: pip install 'gsea-plus[{extra}]' (from a checkout: "
            f"pip install -e '.[{extra}]', or pip install {package})"
        ) from exc
