"""Writing batch results as they come: TSV, CSV, JSON lines or Parquet."""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

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
    """Stream batch tables to an output as they come (:func:`gsea_plus.output.open_output`).

    A regular file is written to a temp file and moved into place by :meth:`close`, so a
    failed or interrupted run leaves nothing at the path; standard output, devices and
    FIFOs are written directly. A ``.gz`` file name is gzip-compressed (text formats).

    Parameters
    ----------
    path
        Output file, ``"-"`` or ``None`` (standard output).
    fmt
        ``tsv``, ``csv``, ``jsonl`` or ``parquet``.
    """

    def __init__(self, path: str | os.PathLike[str] | None, fmt: str):
        from gsea_plus.output import open_output

        if fmt not in BATCH_FORMATS:
            choices = ", ".join(BATCH_FORMATS)
            raise InputError(f"unknown batch output format {fmt!r}; choose from {choices}")
        self.path = Path(path) if path is not None else None
        self.fmt = fmt
        self.rows = 0
        self._header_done = False
        self._parquet: Any = None
        self._schema: Any = None
        self._output = open_output(path, compress=False if fmt == "parquet" else None)
        self._fh: IO[bytes] = self._output.__enter__()
        self._open = True

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
        """Finish the output (a file moves into place)."""
        if not self._open:
            return
        self._open = False
        try:
            if self._parquet is not None:
                self._parquet.close()
        except BaseException as exc:
            self._output.__exit__(type(exc), exc, exc.__traceback__)
            raise
        self._output.__exit__(None, None, None)

    def abort(self, exc: BaseException | None = None) -> None:
        """Drop a partial output: a failed run leaves nothing behind at a file path."""
        if not self._open:
            return
        self._open = False
        if self._parquet is not None:
            # no footer: a partial Parquet file must not look complete (and pyarrow must
            # not write to the closed file when the writer is collected)
            self._parquet.is_open = False
            self._parquet = None
        error = exc if exc is not None else RuntimeError("aborted")
        try:
            self._output.__exit__(type(error), error, error.__traceback__)
        except BaseException:  # the error that aborted the run is the one to report
            pass

    def __enter__(self) -> ResultWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort(exc)
