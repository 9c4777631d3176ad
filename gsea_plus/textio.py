"""Turning the bytes of user files into text: gzip, BOMs, UTF-16, binary detection.

Gzip data is inflated in bounded steps and refused past a cap
(``GSEA_PLUS_MAX_INFLATE_BYTES``, else ``GSEA_PLUS_MAX_DOWNLOAD_BYTES``), so a small
compressed file cannot exhaust memory. Text that is not UTF-8 is read as Windows-1252
(what spreadsheets on Windows write; byte 0x85 is an ellipsis there, not the NEL line
break of Latin-1), else Latin-1.
"""

from __future__ import annotations

import os
import zlib

from gsea_plus.errors import GseaPlusError, InputError

__all__ = [
    "GZIP_MAGIC",
    "decode_text",
    "gunzip",
    "os_error",
    "read_user_bytes",
    "read_user_text",
    "split_rows",
]

_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
GZIP_MAGIC = b"\x1f\x8b"
#: Inflate in steps of this many bytes; also how much is looked at to detect binary data.
_STEP = 1 << 16


def decode_text(
    data: bytes | bytearray | str,
    name: str,
    *,
    error: type[GseaPlusError] = InputError,
    what: str = "text",
) -> str:
    """Decode a user file's bytes to text.

    Gzip is detected by its magic number (and inflated up to the cap of
    :func:`gunzip`); then UTF-16 with a BOM (Excel's "Unicode text"), UTF-8 (BOM ok),
    else Windows-1252, else Latin-1. NUL bytes in other files mean binary content.

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
    if data[:2] == GZIP_MAGIC:
        data = gunzip(data, name, error=error, what=what)
    if data[:2] in _UTF16_BOMS:
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise error(f"{name}: cannot decode the UTF-16 text ({exc.reason})") from exc
    if _looks_binary(data):
        raise error(f"{name}: looks like a binary file, not {what}")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            pass
    return data.decode("latin-1")


def _looks_binary(head: bytes | bytearray) -> bool:
    return head[:2] not in _UTF16_BOMS and b"\x00" in head[:_STEP]


def gunzip(
    data: bytes | bytearray,
    name: str,
    *,
    error: type[GseaPlusError] = InputError,
    what: str = "text",
    limit: int | None = None,
) -> bytearray:
    """Inflate gzip ``data`` (every member), refusing output larger than ``limit``.

    Memory stays within the limit plus one step whatever the compression ratio; binary
    content (NUL bytes in the first 64 KiB) is refused as soon as it is seen.

    Parameters
    ----------
    data
        The gzip bytes.
    name
        The file name for messages.
    error
        The error class raised for corrupt, oversized or binary content.
    what
        What the data should be, for the binary-content message.
    limit
        The most inflated bytes accepted; default
        :func:`~gsea_plus.library.limits.max_inflate_bytes`.
    """
    from gsea_plus.library.limits import MAX_INFLATE_BYTES_ENV, max_inflate_bytes

    cap = max_inflate_bytes() if limit is None else limit
    out = bytearray()
    rest = bytes(data)
    checked = False
    while True:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        pending = rest
        try:
            while not inflater.eof:
                chunk = inflater.decompress(pending, _STEP)
                if not chunk and inflater.unconsumed_tail == pending:
                    break  # no input left before the end of the stream: truncated
                pending = inflater.unconsumed_tail
                out += chunk
                if len(out) > cap:
                    raise error(
                        f"{name}: the gzip data inflates to more than {cap} bytes "
                        f"(raise {MAX_INFLATE_BYTES_ENV} to allow it)"
                    )
                if not checked and len(out) >= _STEP:
                    checked = True
                    if _looks_binary(out):
                        raise error(f"{name}: looks like a binary file, not {what}")
        except zlib.error as exc:
            raise error(f"{name}: corrupt gzip data ({exc})") from exc
        if not inflater.eof:
            raise error(f"{name}: corrupt gzip data (the compressed stream is cut short)")
        # gzip allows several members back to back, and zero padding after the last one
        rest = inflater.unused_data.lstrip(b"\x00")
        if not rest:
            return out
        if rest[:2] != GZIP_MAGIC:
            raise error(f"{name}: corrupt gzip data (unexpected bytes after the end)")


def split_rows(text: str) -> list[str]:
    r"""The rows of ``text``: split at ``"\n"`` only, a trailing ``"\r"`` removed.

    Unlike ``str.splitlines``, form feeds, lone carriage returns, NEL (U+0085) and the
    Unicode line and paragraph separators do not end a row: in user files they sit
    inside names (a term, a gene description), and splitting there cuts the name in two.
    """
    return [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]


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

        if sys.stdin is None:  # started with stdin closed (`<&-`)
            raise error("standard input is closed: give a file instead of -")
        stdin = sys.stdin.buffer if hasattr(sys.stdin, "buffer") else sys.stdin
        try:
            data = stdin.read()
        except OSError as exc:
            raise error(f"cannot read standard input ({exc.strerror or exc})") from exc
        return decode_text(data, "standard input", error=error, what=what)
    data = read_user_bytes(path, error=error, what=what)
    return decode_text(data, os.fspath(path), error=error, what=what)
