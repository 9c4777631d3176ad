"""Result tables whose string columns stay encoded until they are written or read.

A batch of thousands of lists yields millions of rows, and building the Python strings of
their ``Term``, ``Overlap`` and ``Genes`` cells (about 2 us a row) used to cost far more
than scoring them. A :class:`ResultTable` keeps those columns as integer arrays instead:

:class:`Codes`
    one code per row into a dictionary of strings (``Term``, ``Library``, ``List``);
:class:`Pairs`
    two integers per row written ``a/b`` (``Overlap``);
:class:`Ragged`
    a run of codes per row into a dictionary, joined by ``;`` (``Genes``: the overlapping
    genes, in library order).

A writer turns them into TSV/CSV bytes (:func:`text_bytes`) or Arrow arrays
(:func:`to_arrow`) with vectorized joins, never one Python string per cell; reading a
column as a mapping (``table["Genes"]``) builds the same object array
:func:`gsea_plus.engine.result_columns` returns, so every other user sees plain columns.

Text is written exactly as :func:`gsea_plus.output.frame_to_bytes` writes it: floats as
Python's ``repr`` (the shortest text that reads back the same float; each distinct value
is formatted once), integers in decimal, CSV quoted by the :mod:`csv` module's rules. Two
backends produce the same bytes: pyarrow's string kernels when pyarrow is installed and
the table is large, else numpy (byte gathers).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from typing import Any

import numpy as np

__all__ = [
    "Codes",
    "Pairs",
    "Ragged",
    "ResultTable",
    "arrow_text",
    "column_at",
    "spans",
    "cell_text",
    "is_missing",
    "is_text",
    "n_rows",
    "text_bytes",
    "to_arrow",
]


def _as_objects(values: np.ndarray) -> np.ndarray:
    return values if values.dtype == object else values.astype(object)


def _is_text(values: np.ndarray) -> bool:
    return values.dtype.kind in "OUS"


def _take_values(values: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """``values[codes]``; text as an object array, without a fixed-width copy per row."""
    if not _is_text(values) or values.dtype == object:
        return values[codes]
    if len(codes) * 4 < len(values):
        return np.asarray(values[codes].tolist() if len(codes) else [], dtype=object)
    return values.astype(object)[codes]


def _concat_values(parts: Sequence[np.ndarray]) -> np.ndarray:
    if any(_is_text(v) for v in parts):
        return np.concatenate([_as_objects(v) for v in parts])
    return np.concatenate(parts)


class Codes:
    """One code per row into ``values``: text (``Term``, ``List``) or numbers.

    Numbers held this way are a function of the code (the statistics of a row's table
    ``(k, K, n)``, :class:`gsea_plus.engine.TableIds`): a writer formats each value once.
    Columns that share one ``codes`` array are written as one cell run per code.
    """

    __slots__ = ("codes", "values")

    def __init__(self, values: np.ndarray, codes: np.ndarray):
        self.values = values
        self.codes = codes if codes.dtype == np.int64 else codes.astype(np.int64)

    def __len__(self) -> int:
        return len(self.codes)

    def materialize(self) -> np.ndarray:
        """The column as a numpy array (text as an object array of ``str``)."""
        return _take_values(self.values, self.codes)

    def take(self, rows: np.ndarray, codes: np.ndarray | None = None) -> Codes:
        """The rows ``rows`` (``codes``: ``self.codes[rows]`` when already gathered)."""
        return Codes(self.values, self.codes[rows] if codes is None else codes)

    @staticmethod
    def concat(parts: Sequence[Codes]) -> Codes:
        """The rows of ``parts`` one after another."""
        first = parts[0].values
        if all(p.values is first for p in parts):
            return Codes(first, np.concatenate([p.codes for p in parts]))
        shift = np.cumsum([0] + [len(p.values) for p in parts[:-1]])
        codes = np.concatenate([p.codes + s for p, s in zip(parts, shift, strict=True)])
        return Codes(_concat_values([p.values for p in parts]), codes)

    def compact(self) -> Codes:
        """The same column with only the used values (smaller to pickle)."""
        if len(self.values) <= len(self.codes):
            return self
        used, codes = np.unique(self.codes, return_inverse=True)
        return Codes(_take_values(self.values, used), codes.ravel())


class Pairs:
    """Two integers per row, written ``left/right`` (``Overlap``: ``k/K``)."""

    __slots__ = ("left", "right")

    def __init__(self, left: np.ndarray, right: np.ndarray):
        self.left = np.asarray(left, dtype=np.int64)
        self.right = np.asarray(right, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.left)

    def materialize(self) -> np.ndarray:
        """The column as an object array of ``str``."""
        return np.array(
            [f"{a}/{b}" for a, b in zip(self.left.tolist(), self.right.tolist(), strict=True)],
            dtype=object,
        )

    def take(self, rows: np.ndarray) -> Pairs:
        """The rows ``rows``."""
        return Pairs(self.left[rows], self.right[rows])

    @staticmethod
    def concat(parts: Sequence[Pairs]) -> Pairs:
        """The rows of ``parts`` one after another."""
        return Pairs(
            np.concatenate([p.left for p in parts]), np.concatenate([p.right for p in parts])
        )

    def compact(self) -> Pairs:
        """Itself (nothing to drop)."""
        return self


class Ragged:
    """Per row, ``codes[offsets[i]:offsets[i + 1]]`` into ``values``, joined by ``;``."""

    __slots__ = ("codes", "offsets", "values")

    SEP = ";"

    def __init__(self, values: np.ndarray, codes: np.ndarray, offsets: np.ndarray):
        self.values = values
        self.codes = np.asarray(codes, dtype=np.int64)
        self.offsets = np.asarray(offsets, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def materialize(self) -> np.ndarray:
        """The column as an object array of ``str``."""
        names = _take_values(self.values, self.codes).tolist()
        out = np.empty(len(self), dtype=object)
        join = self.SEP.join
        bounds = self.offsets.tolist()
        for i in range(len(self)):
            out[i] = join(names[bounds[i] : bounds[i + 1]])
        return out

    def take(self, rows: np.ndarray) -> Ragged:
        """The rows ``rows``."""
        rows = np.asarray(rows, dtype=np.int64)
        starts = self.offsets[rows]
        lens = self.offsets[rows + 1] - starts
        offsets = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lens, out=offsets[1:])
        return Ragged(self.values, self.codes[spans(starts, lens)], offsets)

    @staticmethod
    def concat(parts: Sequence[Ragged]) -> Ragged:
        """The rows of ``parts`` one after another."""
        first = parts[0].values
        same = all(p.values is first for p in parts)
        shift = np.cumsum([0] + [len(p.values) for p in parts[:-1]])
        values = first if same else _concat_values([p.values for p in parts])
        codes = np.concatenate(
            [p.codes if same else p.codes + s for p, s in zip(parts, shift, strict=True)]
        )
        base = np.cumsum([0] + [int(p.offsets[-1]) for p in parts[:-1]])
        offsets = np.concatenate(
            [parts[0].offsets[:1]] + [p.offsets[1:] + b for p, b in zip(parts, base, strict=True)]
        )
        return Ragged(values, codes, offsets)

    def compact(self) -> Ragged:
        """The same column with only the used values (smaller to pickle)."""
        if len(self.values) <= len(self.codes):
            return self
        used, codes = np.unique(self.codes, return_inverse=True)
        return Ragged(_take_values(self.values, used), codes.ravel(), self.offsets)


Encoded = Codes | Pairs | Ragged
_ENCODED = (Codes, Pairs, Ragged)


def spans(starts: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """``concatenate([arange(s, s + n) for s, n in zip(starts, lens)])``, vectorized."""
    total = int(lens.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(lens)
    return np.repeat(starts - ends + lens, lens) + np.arange(total, dtype=np.int64)


class ResultTable(MutableMapping):
    """Result columns, some held encoded (:class:`Codes`, :class:`Pairs`, :class:`Ragged`).

    As a mapping it gives every column as a numpy array (an encoded one is built on first
    access and kept); :meth:`raw` gives the stored form, which :func:`text_bytes` and
    :func:`to_arrow` write without building per-cell strings.
    """

    def __init__(self, columns: Mapping[str, Any], rows: int):
        self._columns: dict[str, Any] = dict(columns)
        self._built: dict[str, np.ndarray] = {}
        self.rows = int(rows)

    # mapping of plain columns
    def __getitem__(self, name: str) -> np.ndarray:
        col = self._columns[name]
        if not isinstance(col, _ENCODED):
            return col
        built = self._built.get(name)
        if built is None:
            built = self._built[name] = col.materialize()
        return built

    def __setitem__(self, name: str, values: Any) -> None:
        self._built.pop(name, None)
        self._columns[name] = values

    def __delitem__(self, name: str) -> None:
        self._built.pop(name, None)
        del self._columns[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns)

    def __len__(self) -> int:
        return len(self._columns)

    def __repr__(self) -> str:
        return f"ResultTable({list(self._columns)}, rows={self.rows})"

    # the stored form
    def raw(self, name: str) -> Any:
        """The column as stored: a numpy array or an encoded column."""
        return self._columns[name]

    def take(self, rows: np.ndarray) -> ResultTable:
        """The rows ``rows`` (an index array), every column still encoded."""
        rows = np.asarray(rows, dtype=np.int64)
        shared: dict[int, np.ndarray] = {}  # codes arrays shared by columns stay shared
        out: dict[str, Any] = {}
        for name, col in self._columns.items():
            if isinstance(col, Codes):
                codes = shared.get(id(col.codes))
                if codes is None:
                    codes = shared[id(col.codes)] = col.codes[rows]
                out[name] = col.take(rows, codes)
            elif isinstance(col, _ENCODED):
                out[name] = col.take(rows)
            else:
                out[name] = col[rows]
        return ResultTable(out, len(rows))

    @staticmethod
    def concat(tables: Sequence[ResultTable]) -> ResultTable:
        """Rows of ``tables`` one after another (same columns, same kinds)."""
        if len(tables) == 1:
            return tables[0]
        out: dict[str, Any] = {}
        shared: dict[tuple, np.ndarray] = {}
        for name, first in tables[0]._columns.items():
            parts = [t._columns[name] for t in tables]
            if not (isinstance(first, _ENCODED) and all(type(p) is type(first) for p in parts)):
                out[name] = np.concatenate([t[name] for t in tables])
                continue
            merged = type(first).concat(parts)
            if isinstance(merged, Codes) and isinstance(first, Codes):
                # codes shared by columns stay shared
                same = all(p.values is first.values for p in parts)
                sizes = () if same else tuple(len(p.values) for p in parts)
                key = (tuple(id(p.codes) for p in parts), sizes)
                merged.codes = shared.setdefault(key, merged.codes)
            out[name] = merged
        return ResultTable(out, sum(t.rows for t in tables))

    def with_first(self, name: str, column: Any) -> ResultTable:
        """A table with ``column`` added before the others."""
        return ResultTable({name: column, **self._columns}, self.rows)

    def __getstate__(self) -> dict:
        # sent between processes (Dask): only the dictionary entries used, no built copies
        cols = {c: v.compact() if isinstance(v, _ENCODED) else v for c, v in self._columns.items()}
        return {"columns": cols, "rows": self.rows}

    def __setstate__(self, state: dict) -> None:
        self._columns = state["columns"]
        self._built = {}
        self.rows = state["rows"]


def n_rows(table: Mapping[str, Any]) -> int:
    """Rows of a table, without building an encoded column."""
    if isinstance(table, ResultTable):
        return table.rows
    return len(next(iter(table.values()))) if table else 0


def column_at(table: Mapping[str, Any], name: str, rows: np.ndarray) -> list:
    """The values of one column at ``rows``, as Python objects (a few cells of a big table)."""
    rows = np.asarray(rows, dtype=np.int64)
    if isinstance(table, ResultTable):
        raw = table.raw(name)
        if isinstance(raw, _ENCODED):
            return raw.take(rows).materialize().tolist()
        return np.asarray(raw)[rows].tolist()
    return np.asarray(table[name])[rows].tolist()


# --------------------------------------------------------------------------- cell text


class _Text:
    """One column's cell text.

    Row ``i`` is ``texts[codes[i]]``; for a ragged column it is the run
    ``texts[codes[offsets[i]:offsets[i + 1]]]`` joined by ``sep``.
    """

    __slots__ = ("_arrow", "_bytes", "codes", "offsets", "sep", "texts")

    def __init__(
        self,
        texts: list[str],
        codes: np.ndarray,
        *,
        offsets: np.ndarray | None = None,
        sep: str = "",
    ):
        self.texts = texts
        self.codes = codes
        self.offsets = offsets
        self.sep = sep
        self._arrow: Any = None
        self._bytes: Any = None

    def entry_bytes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(buffer, starts, lengths)`` of the UTF-8 bytes of every entry (plus ``sep``)."""
        if self._bytes is None:
            tail = self.sep.encode()
            encoded = [t.encode() + tail for t in self.texts]
            lens = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
            starts = np.cumsum(lens) - lens
            buf = np.frombuffer(b"".join(encoded) or b"\0", dtype=np.uint8)
            self._bytes = (buf, starts, lens)
        return self._bytes


_CSV_SPECIAL = frozenset(',"\r\n')


def _csv_texts(texts: list[str]) -> list[str]:
    """Each text as the csv module writes it as one field among several."""
    if not any(_CSV_SPECIAL.intersection(t) for t in texts):
        return texts
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    out = []
    for t in texts:
        if _CSV_SPECIAL.intersection(t):
            buf.seek(0)
            buf.truncate()
            writer.writerow([t, ""])
            t = buf.getvalue()[:-2]  # the field, without the empty one after it and "\n"
        out.append(t)
    return out


def _dedupe(keys: np.ndarray, pa: Any) -> tuple[np.ndarray, np.ndarray]:
    """Distinct integers of ``keys`` and each key's position among them (codes).

    A dense table when the keys span a small range, else pyarrow's hash table when it is
    installed, else a sort.
    """
    if len(keys) == 0:
        return keys[:0], np.zeros(0, dtype=np.int64)
    lo, hi = int(keys.min()), int(keys.max())
    if hi - lo <= 4 * len(keys) + 1024:
        seen = np.zeros(hi - lo + 1, dtype=bool)
        shifted = keys - lo
        seen[shifted] = True
        uniq = np.flatnonzero(seen)
        rank = np.cumsum(seen) - 1
        return uniq + lo, rank[shifted]
    if pa is not None:
        enc = pa.compute.dictionary_encode(pa.array(keys))
        uniq = enc.dictionary.to_numpy(zero_copy_only=False)
        return uniq, enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    uniq, codes = np.unique(keys, return_inverse=True)
    return uniq, codes.ravel()


def _value_text(values: np.ndarray, fmt: str, pa: Any) -> _Text:
    """Cell text of a plain column: each distinct value formatted once."""
    kind = values.dtype.kind
    if kind == "f":
        # distinct bit patterns: -0.0 and 0.0 are written differently
        bits = values.view({2: np.int16, 4: np.int32, 8: np.int64}[values.dtype.itemsize])
        uniq, codes = _dedupe(bits.astype(np.int64), pa)
        return _Text(_format(uniq.astype(bits.dtype).view(values.dtype)), codes)
    if kind in "iu" and values.dtype.itemsize <= 8 and (kind == "i" or values.dtype.itemsize < 8):
        uniq, codes = _dedupe(values.astype(np.int64), pa)
        return _Text(_format(uniq.astype(values.dtype)), codes)
    # strings and other objects: the text of each cell as frame_to_bytes writes it (a
    # float, numpy's too, as its repr; anything else str), then equal texts coded once
    # when they repeat (a term or gene string column is mostly distinct: no dict then)
    items = values.tolist()
    if not all(type(v) is str for v in items):
        items = list(map(cell_text, items))
    sample = items[:4096]
    if len(set(sample)) * 2 > len(sample):
        texts, codes = items, np.arange(len(items), dtype=np.int64)
    else:
        index: dict[str, int] = {}
        codes = np.fromiter(
            (index.setdefault(t, len(index)) for t in items), dtype=np.int64, count=len(items)
        )
        texts = list(index)
    return _Text(_csv_texts(texts) if fmt == "csv" else texts, codes)


def _column_of(table: Mapping[str, Any]) -> Callable[[str], Any]:
    """A plain table's columns as arrays (a list becomes an object array, kept as is)."""

    def get(name: str) -> Any:
        values = table[name]
        return values if isinstance(values, np.ndarray) else np.asarray(values, dtype=object)

    return get


def _format(values: np.ndarray) -> list[str]:
    """Each value as ``frame_to_bytes`` writes a cell (a float as its ``repr``)."""
    items = values.tolist()
    if values.dtype == object and all(type(v) is str for v in items):
        return items
    return list(map(cell_text, items))


def cell_text(value: Any) -> str:
    """One cell as every text writer writes it.

    A float as its ``repr`` (the shortest text that reads back the same float), NaN (a
    value with no meaning for the row) as an empty cell, a missing value (``None``, or
    pandas' ``NA`` of a nullable column such as ``Cluster``) as an empty cell, anything
    else as ``str``.
    """
    if isinstance(value, float):
        return "" if value != value else repr(value)
    if is_missing(value):
        return ""
    return str(value)


def is_missing(value: Any) -> bool:
    """Whether a cell holds no value: ``None``, NaN, or pandas' ``NA`` (nullable columns)."""
    if value is None:
        return True
    if isinstance(value, float):
        return value != value
    return type(value).__name__ == "NAType"


def _column_text(col: Any, fmt: str, pa: Any) -> _Text:
    if isinstance(col, (Codes, Ragged)) and len(col.values) > 2 * len(col.codes):
        col = col.compact()  # a few rows of a large dictionary (500k term names)
    if isinstance(col, Codes):
        texts = _format(col.values)
        return _Text(_csv_texts(texts) if fmt == "csv" else texts, col.codes)
    if isinstance(col, Pairs):
        width = int(col.right.max(initial=0)) + 1
        uniq, codes = _dedupe(col.left * width + col.right, pa)
        left, right = (uniq // width).tolist(), (uniq % width).tolist()
        return _Text([f"{a}/{b}" for a, b in zip(left, right, strict=True)], codes)
    if isinstance(col, Ragged):
        texts = _format(col.values)
        if fmt == "csv" and any(_CSV_SPECIAL.intersection(t) for t in texts):
            return _value_text(col.materialize(), fmt, pa)  # a field to quote: rare
        return _Text(texts, col.codes, offsets=col.offsets, sep=Ragged.SEP)
    return _value_text(np.asarray(col), fmt, pa)


def _fuse(cols: list[_Text], sep: str) -> list[_Text]:
    """Merge neighbouring columns coded by the same array into one column of text.

    The statistics of a result row are functions of its table (k, K, n), so they share
    one codes array (:class:`gsea_plus.engine.TableIds`): each table's run of cells is
    joined once here, and rows then join fewer, longer cells.
    """
    out = [cols[0]]
    for col in cols[1:]:
        prev = out[-1]
        if prev.offsets is None and col.offsets is None and prev.codes is col.codes:
            texts = [a + sep + b for a, b in zip(prev.texts, col.texts, strict=True)]
            out[-1] = _Text(texts, col.codes)
        else:
            out.append(col)
    return out


#: Rows joined at once (bounds the temporaries of a block: about 16 MB of text).
_BLOCK_ROWS = 1 << 16
#: From this many rows on, pyarrow (when installed and already imported) joins the text.
ARROW_FROM_ROWS = 20_000
#: From this many rows on, a table written once imports pyarrow to join its text: below,
#: importing it (and the pandas that its first ``pa.array`` imports) costs more than it
#: saves (one list x a 500k-set library, 232k rows: 1.20 s with numpy, 1.23-1.49 s with
#: pyarrow; 434k rows: even).
ARROW_COLD_FROM_ROWS = 400_000


def _arrow_module() -> Any:
    try:
        import pyarrow as pa
        import pyarrow.compute  # noqa: F401
    except ImportError:
        return None
    return pa


def text_bytes(
    table: Mapping[str, Any],
    fmt: str,
    *,
    header: bool,
    backend: str = "auto",
    bulk: bool = False,
) -> Iterator[bytes | memoryview]:
    """TSV or CSV text of a table (plain or :class:`ResultTable`), in blocks of rows.

    The bytes equal :func:`gsea_plus.output.frame_to_bytes` (without the header line when
    ``header`` is false). ``backend``: ``"arrow"``, ``"numpy"`` or ``"auto"``: pyarrow when
    it is installed, for tables of :data:`ARROW_FROM_ROWS` rows when it is already
    imported (a batch writer imports it), or of :data:`ARROW_COLD_FROM_ROWS` when not. ``bulk``:
    one of many tables written by one process (distinct values are found with pyarrow's
    hash tables, whose first use costs more than a sort).
    """
    names = list(table)
    rows = n_rows(table)
    sep = "," if fmt == "csv" else "\t"
    if header:
        yield (sep.join(_csv_texts(names) if fmt == "csv" else names) + "\n").encode()
    if not names or rows == 0:
        return
    if backend == "auto":
        # importing pyarrow costs more than it saves on a table written once, unless large
        warm = "pyarrow" in sys.modules
        large = rows >= (ARROW_FROM_ROWS if warm else ARROW_COLD_FROM_ROWS)
        backend = "arrow" if large and _arrow_module() is not None else "numpy"
    pa = _arrow_module() if backend == "arrow" else None
    if backend == "arrow" and pa is None:
        raise ImportError("pyarrow is not installed")
    raw = table.raw if isinstance(table, ResultTable) else _column_of(table)
    # pyarrow's hash tables beat a sort once warm: for a writer of many chunks (bulk)
    hasher = pa if bulk else None
    cols = _fuse([_column_text(raw(c), fmt, hasher) for c in names], sep)
    join: Callable = _arrow_rows if pa is not None else _numpy_rows
    for lo in range(0, rows, _BLOCK_ROWS):
        yield join(cols, lo, min(rows, lo + _BLOCK_ROWS), sep)


# --------------------------------------------------------------------------- numpy backend


def _numpy_rows(cols: list[_Text], lo: int, hi: int, sep: str) -> bytes:
    """Rows ``lo:hi`` as bytes: each cell's bytes gathered into place, then separators."""
    parts: list[tuple[Any, ...]] = []
    lengths = []
    for col in cols:
        buf, starts, lens = col.entry_bytes()
        if col.offsets is None:
            codes = col.codes[lo:hi]
            n = lens[codes]
            parts.append((buf, starts[codes], n, None, None))
            lengths.append(n)
        else:  # a run of entries per row, each entry with the separator after it
            a, b = int(col.offsets[lo]), int(col.offsets[hi])
            codes = col.codes[a:b]
            n = lens[codes]
            cum = np.zeros(len(n) + 1, dtype=np.int64)
            np.cumsum(n, out=cum[1:])
            rel = col.offsets[lo : hi + 1] - a
            counts = np.diff(rel)
            parts.append((buf, starts[codes], n, counts, cum[rel[:-1]]))
            # the last entry's separator lands on the cell separator, written after it
            lengths.append(cum[rel[1:]] - cum[rel[:-1]] - (counts > 0))
    row_len = np.sum(lengths, axis=0) + len(cols)
    ends = np.cumsum(row_len)
    out = np.empty(int(ends[-1]), dtype=np.uint8)
    pos = ends - row_len
    seps = np.frombuffer((sep * (len(cols) - 1) + "\n").encode(), dtype=np.uint8)
    for j, ((buf, src, n, counts, row_first), length) in enumerate(
        zip(parts, lengths, strict=True)
    ):
        if counts is None:
            dst: np.ndarray = pos
        else:
            dst = np.repeat(pos - row_first, counts) + (np.cumsum(n) - n)
        _gather(out, dst, buf, src, n)
        pos = pos + length
        out[pos] = seps[j]
        pos = pos + 1
    return out.tobytes()


def _gather(
    out: np.ndarray, dst: np.ndarray, buf: np.ndarray, src: np.ndarray, n: np.ndarray
) -> None:
    """``out[dst[i]:dst[i] + n[i]] = buf[src[i]:src[i] + n[i]]`` for every ``i``."""
    total = int(n.sum())
    if total == 0:
        return
    # 32-bit byte indices where they fit: this is memory-bound
    wide = max(len(out), len(buf), total) >= 2**31
    itype = np.int64 if wide else np.int32
    first = np.cumsum(n) - n  # where each piece starts among the gathered bytes
    step = np.arange(total, dtype=itype)
    take = np.repeat((src - first).astype(itype), n)
    take += step
    put = np.repeat((dst - first).astype(itype), n)
    put += step
    out[put] = buf[take]


# --------------------------------------------------------------------------- arrow backend

_ARROW_VALUES: dict[int, tuple[Any, Any]] = {}


def _arrow_strings(pa: Any, texts: Any) -> Any:
    """``texts`` (a list of str) as an Arrow string array."""
    return pa.array(texts, type=pa.string())


def _arrow_column(pa: Any, col: _Text, lo: int, hi: int) -> Any:
    pc = pa.compute
    if col._arrow is None:
        col._arrow = _arrow_strings(pa, col.texts)
    if col.offsets is None:
        return col._arrow.take(pa.array(col.codes[lo:hi]))
    a, b = int(col.offsets[lo]), int(col.offsets[hi])
    values = col._arrow.take(pa.array(col.codes[a:b]))
    offsets = pa.array((col.offsets[lo : hi + 1] - a).astype(np.int32))
    return pc.binary_join(pa.ListArray.from_arrays(offsets, values), col.sep)


def _arrow_rows(cols: list[_Text], lo: int, hi: int, sep: str) -> memoryview:
    import pyarrow as pa
    import pyarrow.compute as pc

    arrays = [_arrow_column(pa, c, lo, hi) for c in cols]
    arrays[-1] = pc.binary_join_element_wise(arrays[-1], "", "\n")
    rows = pc.binary_join_element_wise(*arrays, sep) if len(arrays) > 1 else arrays[0]
    _, offsets, data = rows.buffers()
    bounds = np.frombuffer(offsets, dtype=np.int32)[rows.offset : rows.offset + len(rows) + 1]
    return memoryview(data)[int(bounds[0]) : int(bounds[-1])]


def to_arrow(table: Mapping[str, Any], schema: Any) -> Any:
    """A ``pyarrow.Table`` of ``table`` with ``schema`` (strings stay strings)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    raw = table.raw if isinstance(table, ResultTable) else table.__getitem__
    arrays = []
    rows = n_rows(table)
    for field in schema:
        col = raw(field.name)
        if isinstance(col, Codes) and not _is_text(col.values):
            arr = pa.array(col.materialize())
        elif isinstance(col, Codes):
            arr = _arrow_dictionary(pa, col.values).take(pa.array(col.codes))
        elif isinstance(col, Pairs):
            arr = pc.binary_join_element_wise(
                pc.cast(pa.array(col.left), pa.string()),
                pc.cast(pa.array(col.right), pa.string()),
                "/",
            )
        elif isinstance(col, Ragged):
            values = _arrow_dictionary(pa, col.values).take(pa.array(col.codes))
            offsets = pa.array(col.offsets.astype(np.int32))
            arr = pc.binary_join(pa.ListArray.from_arrays(offsets, values), Ragged.SEP)
        else:
            values = np.asarray(col)
            if values.dtype.kind in "UOS":
                values = np.asarray(values, dtype=object)
            arr = pa.array(values, type=field.type)
        if arr.type != field.type:
            arr = arr.cast(field.type)
        arrays.append(arr)
    assert all(len(a) == rows for a in arrays)
    return pa.Table.from_arrays(arrays, schema=schema)


def is_text(table: ResultTable, name: str) -> bool:
    """Whether a column of an encoded table is encoded text (not numbers)."""
    col = table.raw(name)
    if isinstance(col, Codes):
        return _is_text(col.values)
    return isinstance(col, (Pairs, Ragged))


def arrow_text(table: ResultTable, name: str) -> Any:
    """An encoded text column as an Arrow string array (built without Python strings)."""
    import pyarrow as pa

    return to_arrow(
        ResultTable({name: table.raw(name)}, table.rows), pa.schema([(name, pa.string())])
    ).column(0)


def is_ragged(table: Mapping[str, Any], name: str) -> bool:
    """Whether a column is a :class:`Ragged` run per row (the overlapping genes)."""
    return isinstance(table, ResultTable) and isinstance(table.raw(name), Ragged)


def distinct_columns(table: Mapping[str, Any], sample: int = 4096) -> set[str]:
    """Columns whose values rarely repeat, judged on a sample of rows.

    Not worth a dictionary encoding in Parquet.
    """
    out = set()
    for name in table:
        col = table.raw(name) if isinstance(table, ResultTable) else table[name]
        if isinstance(col, Ragged):
            out.add(name)
        elif not isinstance(col, _ENCODED):
            head = np.asarray(col)[:sample]
            if len(head) and len(set(head.tolist())) * 2 > len(head):
                out.add(name)
    return out


def arrow_type(pa: Any, table: Mapping[str, Any], name: str) -> Any:
    """The Arrow type a column is written with: ``string`` for text, else its numpy type."""
    col = table.raw(name) if isinstance(table, ResultTable) else table[name]
    if isinstance(col, Codes) and not _is_text(col.values):
        return pa.from_numpy_dtype(col.values.dtype)
    if isinstance(col, _ENCODED):
        return pa.string()
    values = np.asarray(col)
    kind = values.dtype.kind
    if kind == "O":
        # a nullable integer column (ints and None, e.g. Cluster) stays an integer column
        present = [v for v in values[:4096].tolist() if v is not None]
        if present and all(type(v) is int for v in present):
            return pa.int64()
    return pa.string() if kind in "UOS" else pa.from_numpy_dtype(values.dtype)


def _arrow_dictionary(pa: Any, values: np.ndarray) -> Any:
    """``values`` as an Arrow string array, kept for the next chunk of the same library."""
    hit = _ARROW_VALUES.get(id(values))
    if hit is not None and hit[0] is values:
        return hit[1]
    arr = pa.array(_as_objects(values), type=pa.string())
    if len(_ARROW_VALUES) >= 16:
        _ARROW_VALUES.clear()
    _ARROW_VALUES[id(values)] = (values, arr)
    return arr
