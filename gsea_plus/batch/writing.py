"""Writing batch results as they come: TSV, CSV, JSON lines or Parquet."""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np

from gsea_plus import columnar
from gsea_plus.errors import InputError

__all__ = ["BATCH_FORMATS", "ResultWriter", "text_bytes"]

#: Output formats a batch can stream.
BATCH_FORMATS = ("tsv", "csv", "jsonl", "parquet")


def text_bytes(
    table: Mapping[str, np.ndarray], fmt: str, *, header: bool, backend: str = "auto"
) -> bytes:
    """TSV/CSV bytes equal to ``frame_to_bytes`` (minus the header when asked).

    Encoded columns (:class:`~gsea_plus.columnar.ResultTable`) are written without
    building per-cell strings; see :func:`gsea_plus.columnar.text_bytes`.
    """
    return b"".join(columnar.text_bytes(table, fmt, header=header, backend=backend))


class _Gate:
    """A binary stream that forwards writes until :meth:`shut`, then drops them."""

    def __init__(self, fh: IO[bytes]):
        self._fh = fh
        self._shut = False

    def shut(self) -> None:
        self._shut = True

    @property
    def closed(self) -> bool:
        return False

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self._shut:
            return len(memoryview(data))
        return self._fh.write(data)

    def flush(self) -> None:
        if not self._shut:
            self._fh.flush()

    def tell(self) -> int:
        return self._fh.tell()

    def close(self) -> None:
        """Nothing: the stream belongs to :func:`~gsea_plus.output.open_output`."""


class ResultWriter:
    """Stream batch tables to an output as they come (:func:`gsea_plus.output.open_output`).

    A regular file is written to a temp file and moved into place by :meth:`close`, so a
    failed or interrupted run leaves nothing at the path; standard output, devices and
    FIFOs are written directly. A ``.gz`` file name is gzip-compressed (text formats).

    With ``background`` (the default where there is more than one CPU), a thread turns
    each table into bytes and writes them while the caller scores the next chunk; tables
    are written in order, at most :data:`QUEUED` wait, and an error of the thread (a full
    disk, a closed pipe) is raised by the next :meth:`write` or by :meth:`close`.

    Parameters
    ----------
    path
        Output file, ``"-"`` or ``None`` (standard output).
    fmt
        ``tsv``, ``csv``, ``jsonl`` or ``parquet``.
    background
        Format and write in a thread; default: when ``os.cpu_count() > 1``.
    """

    #: Tables waiting for the writing thread (bounds memory: each is one chunk of rows).
    QUEUED = 1

    def __init__(
        self,
        path: str | os.PathLike[str] | None,
        fmt: str,
        *,
        background: bool | None = None,
    ):
        from gsea_plus.output import open_output

        if fmt not in BATCH_FORMATS:
            choices = ", ".join(BATCH_FORMATS)
            raise InputError(f"unknown batch output format {fmt!r}; choose from {choices}")
        self.path = Path(path) if path is not None else None
        self.fmt = fmt
        self.rows = 0
        self._header_done = False
        self._parquet: Any = None
        self._sink: Any = None
        self._schema: Any = None
        self._output = open_output(path, compress=False if fmt == "parquet" else None)
        self._fh: _Gate = _Gate(self._output.__enter__())
        self._open = True
        self._error: BaseException | None = None
        self._written = 0  # rows formatted so far (by the writing thread)
        self._thread: threading.Thread | None = None
        if background is None:
            background = (os.cpu_count() or 1) > 1
        if background:
            self._queue: queue.Queue = queue.Queue(maxsize=self.QUEUED)
            self._thread = threading.Thread(target=self._work, name="gsea-plus-writer", daemon=True)
            self._thread.start()

    def write(self, table: Mapping[str, Any]) -> None:
        """Append the rows of one table (columns, arrays or lists, in the same order every time)."""
        if self._error is not None:
            self._raise()
        n = columnar.n_rows(table)
        if self._thread is not None:
            self._queue.put(table)
        else:
            self._write_now(table)
        self.rows += n

    def _work(self) -> None:
        """The writing thread: tables in order until ``None``; after an error, drain."""
        while True:
            table = self._queue.get()
            if table is None:
                return
            if self._error is None and self._open:
                try:
                    self._write_now(table)
                except BaseException as exc:  # raised in the caller's thread
                    self._error = exc

    def _stop(self, *, cancel: bool = False) -> None:
        """End the thread: after the queued tables, or (``cancel``) dropping them."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        if not cancel:
            self._queue.put(None)
            thread.join()
            return
        while True:  # a failed or interrupted run: what is queued is not written
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        try:
            self._queue.put_nowait(None)
        except queue.Full:  # pragma: no cover - the queue was just drained
            pass
        # a thread stuck writing to a stalled pipe must not hang an interrupted run
        thread.join(timeout=1.0)

    def _raise(self) -> None:
        error, self._error = self._error, None
        assert error is not None
        raise error

    def _write_now(self, table: Mapping[str, np.ndarray]) -> None:
        n = columnar.n_rows(table)
        if self.fmt == "parquet":
            self._write_parquet(table)
            return
        if n == 0 and self._header_done:
            return
        if self.fmt in ("tsv", "csv"):
            header = not self._header_done
            # pyarrow joins text ~5x faster than numpy but costs ~0.2 s to import: worth it
            # from a large chunk on, or once the batch has written many rows
            self._written += n
            backend = "auto"
            big = n >= 100_000 or self._written >= 300_000
            if big and n >= columnar.ARROW_FROM_ROWS and columnar._arrow_module() is not None:
                backend = "arrow"
            blocks = columnar.text_bytes(table, self.fmt, header=header, backend=backend, bulk=True)
            for block in blocks:
                self._fh.write(block)
            self._header_done = True
        else:
            from gsea_plus.output import frame_to_bytes

            self._fh.write(frame_to_bytes(table, self.fmt))

    def _write_parquet(self, table: Mapping[str, np.ndarray]) -> None:
        from gsea_plus.errors import require

        pa = require("pyarrow", "parquet", "--format parquet")
        import pyarrow.parquet as pq

        if self._schema is None:
            fields = [pa.field(c, columnar.arrow_type(pa, table, c)) for c in table]
            self._schema = pa.schema(fields)
            # dictionary pages only where values repeat, and no min/max statistics for the
            # gene lists (long, all distinct): the same values, ~20% less time per chunk
            distinct = columnar.distinct_columns(table)
            # pages go to Python's file object in MB blocks, not one call per page
            self._sink = pa.BufferedOutputStream(pa.PythonFile(self._fh, mode="w"), 1 << 23)
            self._parquet = pq.ParquetWriter(
                self._sink,
                self._schema,
                use_dictionary=[c for c in table if c not in distinct],
                write_statistics=[c for c in table if not columnar.is_ragged(table, c)],
            )
        self._parquet.write_table(columnar.to_arrow(table, self._schema))

    def close(self) -> None:
        """Finish the output (a file moves into place)."""
        if not self._open:
            return
        try:
            self._stop()
            if self._error is not None:
                self._raise()
        except BaseException as exc:
            self.abort(exc)
            raise
        self._open = False
        try:
            if self._parquet is not None:
                self._parquet.close()
                self._sink.close()
        except BaseException as exc:
            self._output.__exit__(type(exc), exc, exc.__traceback__)
            raise
        self._output.__exit__(None, None, None)

    def abort(self, exc: BaseException | None = None) -> None:
        """Drop a partial output: a failed run leaves nothing behind at a file path."""
        if not self._open:
            return
        self._open = False
        # nothing more reaches the output: not the rest of a table the thread is writing,
        # and not the footer pyarrow's writer adds when it is destroyed
        self._fh.shut()
        self._stop(cancel=True)
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
