"""Turning the bytes of user files into text: gzip, BOMs, UTF-16, binary detection."""

from __future__ import annotations

import gzip
import os
import zlib

from gsea_plus.errors import GseaPlusError, InputError

__all__ = ["decode_text", "os_error", "read_user_bytes", "read_user_text"]

_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def decode_text(
    data: bytes | str, name: str, *, error: type[GseaPlusError] = InputError, what: str = "text"
) -> str:
    """Decode a user file's bytes to text.

    Gzip is detected by its magic number; then UTF-16 with a BOM (Excel's "Unicode
    text"), UTF-8 (BOM ok), else Latin-1. NUL bytes in other files mean binary content.

    Parameters
    ----------
    data
        The file's bytes (a ``str`` is returned unchanged).
    name
        The file name for messages.
    error
        The error class raised for corrupt gzip or binary content.
    what
        What the file should be, for the binary-content message (``"a gene list"``).
    """
    if isinstance(data, str):
        return data
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise error(f"{name}: corrupt gzip data ({exc})") from exc
    if data[:2] in _UTF16_BOMS:
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise error(f"{name}: cannot decode the UTF-16 text ({exc.reason})") from exc
    if b"\x00" in data[:65536]:
        raise error(f"{name}: looks like a binary file, not {what}")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def os_error(
    exc: OSError, path: str | os.PathLike, *, error: type[GseaPlusError], what: str
) -> GseaPlusError:
    """One clear message for an OS error on a user's file (missing, a directory, denied)."""
    if isinstance(exc, FileNotFoundError):
        return error(f"{path}: no such file")
    if isinstance(exc, IsADirectoryError):
        return error(f"{path}: is a directory, not {what}")
    return error(f"{path}: cannot read ({exc.strerror or exc})")


def read_user_bytes(
    path: str | os.PathLike, *, error: type[GseaPlusError] = InputError, what: str = "a file"
) -> bytes:
    """The bytes of a user's file, with OS errors turned into one clear ``error``."""
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError as exc:
        raise os_error(exc, path, error=error, what=what) from exc


def read_user_text(
    path: str | os.PathLike, *, error: type[GseaPlusError] = InputError, what: str = "a file"
) -> str:
    """:func:`read_user_bytes` then :func:`decode_text`; ``"-"`` reads standard input."""
    if os.fspath(path) == "-":
        import sys

        stdin = sys.stdin.buffer if hasattr(sys.stdin, "buffer") else sys.stdin
        return decode_text(stdin.read(), "standard input", error=error, what=what)
    data = read_user_bytes(path, error=error, what=what)
    return decode_text(data, os.fspath(path), error=error, what=what)
