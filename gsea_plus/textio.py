"""Turning the bytes of user files into text: gzip, BOMs, UTF-16, binary detection."""

from __future__ import annotations

import gzip
import zlib

from gsea_plus.errors import GseaPlusError, InputError

__all__ = ["decode_text"]

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
