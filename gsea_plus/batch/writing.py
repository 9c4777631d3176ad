"""Writing batch results as they come: TSV, CSV, JSON lines or Parquet, atomically."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import IO

import numpy as np

from gsea_plus.errors import InputError

__all__ = ["BATCH_FORMATS", "ResultWriter", "text_bytes"]

#: Output formats a batch can stream.
BATCH_FORMATS = ("tsv", "csv", "jsonl", "parquet")


def _cells(values) -> list[str]:
    """One column as text, as :func:`gsea_plus.output.frame_to_bytes` writes each cell."""
    # tolist() gives Python scalars, and str(float) is repr(float) (the shortest text
    # that reads back the same float), so str() writes every cell as _cell() does; NaN
    # (no meaning for the row) is an empty cell there too.
    values = np.asarray(values)
    cells = list(map(str, values.tolist()))
    if values.dtype.kind == "f":
        for i in np.flatnonzero(np.isnan(values)).tolist():
            cells[i] = ""
    return cells


def text_bytes(table: Mapping[str, np.ndarray], fmt: str, *, header: bool) -> bytes:
    """TSV/CSV bytes equal to ``frame_to_bytes`` (minus the header when asked).

    Built column by column: per-cell type checks dominate the cost for large batches.
    """
    names = list(table)
    rows = zip(*(_cells(v) for v in table.values()), strict=True)
    if fmt == "tsv":
        lines = ["\t".join(names)] if header else []
        lines.extend(map("\t".join, rows))
        return ("\n".join(lines) + "\n").encode() if lines else b""
    import csv

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    if header:
        writer.writerow(names)
    writer.writerows(rows)
    return buf.getvalue().encode()


class ResultWriter:
    """Stream batch tables to a file (atomically: temp file, then rename) or a stream.

    Parameters
    ----------
    path
        Output file, or ``None`` to write to ``stream``.
    fmt
        ``tsv``, ``csv``, ``jsonl`` or ``parquet``.
    stream
        Binary stream used when ``path`` is ``None`` (default: stdout).
    """

    def __init__(
        self, path: str | os.PathLike[str] | None, fmt: str, *, stream: IO[bytes] | None = None
    ):
        if fmt not in BATCH_FORMATS:
            choices = ", ".join(BATCH_FORMATS)
            raise InputError(f"unknown batch output format {fmt!r}; choose from {choices}")
        self.path = Path(path) if path is not None else None
        self.fmt = fmt
        self.rows = 0
        self._header_done = False
        self._tmp: str | None = None
        self._parquet = None
        self._schema = None
        if self.path is not None:
            import tempfile

            from gsea_plus.errors import CacheError

            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd, self._tmp = tempfile.mkstemp(
                    dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".part"
                )
            except OSError as exc:
                raise CacheError(f"cannot write {self.path} ({exc.strerror or exc})") from exc
            self._fh: IO[bytes] = os.fdopen(fd, "wb")
        else:
            self._fh = stream if stream is not None else sys.stdout.buffer

    def write(self, table: Mapping[str, np.ndarray]) -> None:
        """Append the rows of one table (columns in the same order every time)."""
        n = len(next(iter(table.values()))) if table else 0
        if self.fmt == "parquet":
            self._write_parquet(table)
        else:
            from gsea_plus.output import frame_to_bytes

            if n == 0 and self._header_done:
                return
            if self.fmt in ("tsv", "csv"):
                data = text_bytes(table, self.fmt, header=not self._header_done)
                self._header_done = True
            else:
                data = frame_to_bytes(table, self.fmt)
            self._fh.write(data)
        self.rows += n

    def _write_parquet(self, table: Mapping[str, np.ndarray]) -> None:
        from gsea_plus.errors import require

        pa = require("pyarrow", "parquet", "--format parquet")
        import pyarrow.parquet as pq

        columns = {
            c: (np.asarray(v, dtype=object) if np.asarray(v).dtype.kind in "UOS" else v)
            for c, v in table.items()
        }
        if self._schema is None:
            fields = []
            for c, v in columns.items():
                kind = np.asarray(v).dtype.kind
                typ = pa.string() if kind == "O" else pa.from_numpy_dtype(np.asarray(v).dtype)
                fields.append(pa.field(c, typ))
            self._schema = pa.schema(fields)
            self._parquet = pq.ParquetWriter(self._fh, self._schema)
        arrays = [pa.array(columns[f.name], type=f.type) for f in self._schema]
        self._parquet.write_table(pa.Table.from_arrays(arrays, schema=self._schema))

    def close(self) -> None:
        """Finish the file and move it into place."""
        if self.fmt == "parquet" and self._parquet is not None:
            self._parquet.close()
        if self.path is None:
            self._fh.flush()
            return
        self._fh.close()
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(self._tmp, 0o666 & ~umask)
        os.replace(self._tmp, self.path)
        self._tmp = None

    def abort(self) -> None:
        """Drop a partial file: a failed run leaves nothing behind."""
        if self._tmp is not None:
            try:
                self._fh.close()
            except OSError:
                pass
            try:
                os.unlink(self._tmp)
            except OSError:
                pass
            self._tmp = None

    def __enter__(self) -> ResultWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
