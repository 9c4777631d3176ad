"""Result tables as bytes (TSV, CSV, JSON, JSONL, Parquet), and where bytes go.

Outputs behave like those of standard tools (``sort -o``, ``tee``, ``curl -o``):

- ``None`` or ``"-"``: standard output;
- a regular file, or a path that does not exist yet: written to a temp file beside it and
  renamed into place when complete (a symlink is followed, and its target replaced), so
  a failed or interrupted run leaves the old file, or nothing;
- anything else that exists (a character device such as ``/dev/null``, a FIFO, a
  process substitution ``>(gzip > x.gz)``, ``/dev/stdout``): opened and written directly;
- a directory: an error, before any work.

A ``.gz`` file name is written gzip-compressed. A write that fails (disk full, device
error) is one :class:`~gsea_plus.errors.OutputError`; nothing half-written is left.
"""

from __future__ import annotations

import io
import os
import re
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from gsea_plus.errors import OutputError

__all__ = [
    "BINARY_FORMATS",
    "FORMATS",
    "STDOUT",
    "check_figure_path",
    "check_output",
    "frame_to_bytes",
    "open_output",
    "output_kind",
    "printable",
    "show",
    "write_output",
]

#: The name of standard output as an output path.
STDOUT = "-"

# C0 and C1 control characters (escape sequences start with ESC or CSI) and the Unicode
# line and paragraph separators: never sent to a terminal as they are.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: object) -> str:
    r"""``text`` safe for a terminal: control characters written as escapes (``\x1b``)."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode(), str(text))


def show(text: object) -> str:
    """``text`` for a rich console: :func:`printable`, and rich markup escaped."""
    from rich.markup import escape

    return escape(printable(text))


FORMATS = ("tsv", "csv", "json", "jsonl", "parquet", "xlsx")
#: Formats that are not text: never written to a terminal.
BINARY_FORMATS = ("parquet", "xlsx")


def output_kind(path: str | os.PathLike[str] | None) -> str:
    """``"stdout"``, ``"file"`` (regular or new: replaced atomically) or ``"direct"``.

    Raises
    ------
    OutputError
        The path is a directory, or cannot be examined.
    """
    if path is None or os.fspath(path) == STDOUT:
        return "stdout"
    try:
        st = os.stat(path)  # follows symlinks: /dev/stdout, /dev/fd/N, links to files
    except FileNotFoundError:
        return "file"
    except OSError as exc:
        raise OutputError(f"cannot write {path} ({exc.strerror or exc})") from exc
    if stat.S_ISDIR(st.st_mode):
        raise OutputError(f"{path}: is a directory")
    return "file" if stat.S_ISREG(st.st_mode) else "direct"


def check_output(path: str | os.PathLike[str] | None) -> None:
    """Refuse an unusable output before any work (a directory, a missing stdout)."""
    if output_kind(path) == "stdout" and sys.stdout is None:
        raise OutputError("standard output is closed")


def check_figure_path(flag: str, path: str | os.PathLike[str], suffixes: tuple[str, ...]) -> None:
    """Refuse an unusable ``--plot``/``--report`` path before any work.

    A directory, an output that cannot be examined, or a file name whose suffix is not
    one of ``suffixes``; a device or FIFO (``/dev/null``, ``>(...)``) takes any name.
    """
    from gsea_plus.errors import InputError

    check_output(path)
    if output_kind(path) == "file" and Path(path).suffix.lower() not in suffixes:
        # the usual names (.htm is accepted, .html is what to write)
        usual = [s for s in suffixes if s != ".htm"]
        names = ", ".join(usual[:-1]) + " or " + usual[-1] if len(usual) > 1 else usual[0]
        raise InputError(f"{flag}: use a {names} file name, not {Path(path).name!r}")


def _os_error(path: object, exc: OSError) -> OutputError:
    where = "standard output" if path is None or str(path) == STDOUT else str(path)
    return OutputError(f"cannot write {where} ({exc.strerror or exc})")


@contextmanager
def open_output(
    path: str | os.PathLike[str] | None, *, compress: bool | None = None
) -> Iterator[IO[bytes]]:
    """A binary stream to ``path`` (see the module docstring); complete on a clean exit.

    Parameters
    ----------
    path
        The output: a file path, ``"-"`` or ``None`` (standard output).
    compress
        gzip the bytes; default: when the file name ends in ``.gz``.

    Raises
    ------
    OutputError
        The output cannot be opened or written; a regular file is left untouched.
    """
    from gsea_plus.files import discard, temp_beside, umask_mode

    kind = output_kind(path)
    if compress is None:
        compress = kind != "stdout" and str(path).lower().endswith(".gz")
    tmp: Path | None = None
    target: Path | None = None
    mode = umask_mode()
    raw: IO[bytes]
    if kind == "stdout":
        if sys.stdout is None:
            raise OutputError("standard output is closed")
        sys.stdout.flush()
        raw = sys.stdout.buffer
        if isinstance(raw, io.RawIOBase):
            # unbuffered stdout (python -u, PYTHONUNBUFFERED): a raw write may write only
            # part of the bytes (a pipe whose reader left); a buffered writer loops, and
            # the next write then fails with EPIPE instead of the data being cut silently
            raw = io.BufferedWriter(raw)
    elif kind == "direct":
        try:
            raw = open(path, "wb")  # type: ignore[arg-type]  # noqa: SIM115
        except OSError as exc:
            raise _os_error(path, exc) from exc
    else:
        target = Path(os.path.realpath(path))  # type: ignore[arg-type]
        if target.exists():
            mode = stat.S_IMODE(target.stat().st_mode)  # keep the file's permissions
        fd, tmp = temp_beside(target, error=OutputError)
        raw = os.fdopen(fd, "wb")
    stream: IO[bytes] = raw
    if compress:
        import gzip

        stream = gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0)  # type: ignore[assignment]
    done = False
    try:
        yield stream
        if stream is not raw:
            stream.close()
        if kind == "stdout":
            raw.flush()
            if raw is not sys.stdout.buffer:
                raw.detach()  # type: ignore[union-attr]  # keep stdout open
        else:
            raw.close()
        if tmp is not None and target is not None:
            os.chmod(tmp, mode)
            os.replace(tmp, target)
        done = True
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):
            raise
        raise _os_error(path, exc) from exc
    finally:
        if not done:  # a failure or an interrupt: leave nothing behind
            if stream is not raw:
                stream.fileobj = None  # type: ignore[attr-defined]  # no gzip trailer
            try:
                if kind != "stdout":
                    raw.close()
                elif raw is not sys.stdout.buffer:
                    raw.detach()  # type: ignore[union-attr]  # unflushed bytes are dropped
            except (OSError, ValueError):
                pass
            if tmp is not None:
                discard(tmp)


def write_output(
    path: str | os.PathLike[str] | None, data: bytes, *, compress: bool | None = None
) -> None:
    """Write ``data`` to an output (see :func:`open_output`)."""
    with open_output(path, compress=compress) as fh:
        fh.write(data)


def _columns(df) -> dict[str, list]:
    """Column name -> Python values, from a DataFrame or a mapping of columns."""
    if hasattr(df, "columns") and hasattr(df, "to_dict"):
        return {str(c): df[c].tolist() for c in df.columns}
    return {str(c): (v.tolist() if hasattr(v, "tolist") else list(v)) for c, v in df.items()}


def frame_to_bytes(df, fmt: str) -> bytes:
    """Serialize a result table (a DataFrame or a mapping of columns).

    Floats keep full precision (shortest round-trip text) so downstream tools read the
    same numbers; JSON is a list of records, JSONL one record per line. Only Parquet
    needs pandas (and pyarrow), so the command line stays fast.
    """
    if fmt in ("parquet", "xlsx"):
        import pandas as pd

        from gsea_plus.errors import require

        frame = df if isinstance(df, pd.DataFrame) else pd.DataFrame(_columns(df))
        buf = io.BytesIO()
        if fmt == "parquet":
            require("pyarrow", "parquet", "--format parquet")
            frame.to_parquet(buf, index=False)
        else:
            require("openpyxl", "excel", "an .xlsx workbook")
            frame.to_excel(buf, index=False, sheet_name="gsea-plus")
        return buf.getvalue()
    if fmt in ("tsv", "table", "csv") and not hasattr(df, "to_dict"):
        # a mapping of columns (the command line's tables): each distinct value is
        # formatted once and rows are joined in bulk, the same bytes as below
        from gsea_plus.columnar import text_bytes

        return b"".join(text_bytes(df, "csv" if fmt == "csv" else "tsv", header=True))
    from gsea_plus.columnar import cell_text as _cell

    cols = _columns(df)
    names = list(cols)
    rows = list(zip(*cols.values(), strict=True)) if names else []
    if fmt in ("tsv", "table"):
        lines = ["\t".join(names)]
        lines += ["\t".join(_cell(v) for v in row) for row in rows]
        return ("\n".join(lines) + "\n").encode()
    if fmt == "csv":
        import csv

        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(names)
        writer.writerows([_cell(v) for v in row] for row in rows)
        return text.getvalue().encode()
    if fmt in ("json", "jsonl"):
        import json

        from gsea_plus.columnar import is_missing

        records = [
            {k: None if is_missing(v) else v for k, v in zip(names, row, strict=True)}
            for row in rows
        ]  # NaN and pandas' NA are not JSON: null
        if fmt == "json":
            return (json.dumps(records, indent=1) + "\n").encode()
        return "".join(json.dumps(r) + "\n" for r in records).encode()
    raise ValueError(f"unknown format {fmt!r}")
