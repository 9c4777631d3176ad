"""Reading many gene lists: a directory, a GMT of lists, a long table, or standard input.

Inputs (:func:`read_batch`, format detected unless given):

a directory
    one gene list per file (any format :func:`gsea_plus.read_gene_list` reads); the list
    name is the file stem (``up.txt.gz`` -> ``up``); hidden files are ignored; lists come
    in file-name order.
a GMT of lists
    ``name<TAB>description<TAB>gene<TAB>gene...`` per line.
a long table
    ``list_id<TAB>gene`` per line, optional header (``list_id<TAB>gene``), rows of one
    list together (an id that comes back after other lists is an error).
``-``
    standard input, GMT or long table.

Lists are read lazily (:class:`BatchItem`: a name and unparsed genes) and parsed in the
chunk that scores them. A malformed line is an error naming the file and line; duplicate
list names are an error naming them (:func:`check_unique`).
"""

from __future__ import annotations

import gzip
import io
import os
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import IO, Any, cast

from gsea_plus.errors import InputError
from gsea_plus.options import INPUT_FORMATS

__all__ = [
    "BatchItem",
    "batch_items",
    "check_unique",
    "chunked",
    "read_batch",
    "to_gene_list",
]

_LONG_HEADER_IDS = frozenset({"LIST", "LIST_ID", "LISTID", "LIST_NAME", "LIST ID"})


@dataclass
class BatchItem:
    """One list of a batch before parsing: a name and its genes (tokens, text or GeneList)."""

    name: str
    tokens: Any
    where: str = ""


def to_gene_list(payload):
    """Parse a batch item's genes: tokens, file text, a path or a GeneList."""
    from gsea_plus.genes import GeneList, parse_gene_text, read_gene_list

    if isinstance(payload, GeneList):
        return payload
    if isinstance(payload, _Text):
        return parse_gene_text(payload.text)
    if isinstance(payload, (str, os.PathLike)):
        return read_gene_list(payload)
    items = payload if isinstance(payload, list) else list(payload)
    try:
        return parse_gene_text("\n".join(items))
    except TypeError as exc:  # "\n".join() met a non-string
        raise InputError("gene list items must be strings") from exc


@dataclass
class _Text:
    """The text of a list file (parsed like a gene list file)."""

    text: str


def _open_text(path: Path) -> IO[str]:
    try:
        fh = open(path, "rb")  # noqa: SIM115 (closed by the caller)
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such file or directory") from exc
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    raw: IO[bytes] = fh
    try:
        if fh.peek(2)[:2] == b"\x1f\x8b":
            fh.close()
            raw = cast(IO[bytes], gzip.open(path, "rb"))  # owns (and closes) its file
        return _decode_stream(raw, str(path))
    except BaseException:
        raw.close()
        raise


def _decode_stream(raw: IO[bytes], name: str) -> IO[str]:
    buffered = raw if isinstance(raw, io.BufferedReader) else io.BufferedReader(cast(Any, raw))
    try:
        head = buffered.peek(65536)[:65536]
    except (OSError, EOFError) as exc:
        raise InputError(f"{name}: cannot read ({exc})") from exc
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16 with a BOM (Excel "Unicode text")
        return io.TextIOWrapper(buffered, encoding="utf-16", newline=None)
    if b"\x00" in head[:4096]:
        raise InputError(f"{name}: looks like a binary file, not gene lists")
    try:
        head.decode("utf-8")
        encoding = "utf-8-sig"
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the peeked block is still UTF-8.
        encoding = "utf-8-sig" if exc.start >= len(head) - 3 else "latin-1"
    return io.TextIOWrapper(buffered, encoding=encoding, newline=None)


def _content_lines(lines: Iterable[str]) -> Iterator[tuple[int, list[str]]]:
    """``(line number, tab-separated fields)`` of non-blank, non-comment lines."""
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = line.split("\t")
        while len(fields) > 2 and not fields[-1].strip():
            fields.pop()
        yield number, fields


def _detect(lines: list[str]) -> str:
    """``gmt`` or ``long``, from the first content lines.

    A first line of 3+ fields is a GMT row. Otherwise the table is long when most of the
    first 50 lines have exactly 2 fields (``list_id<TAB>gene``): a stray extra column
    further down is then an error naming its line, not a reason to read the whole table
    as a GMT of one-gene lists.
    """
    counts = [len(fields) for _, fields in islice(_content_lines(lines), 50)]
    if not counts or counts[0] >= 3:
        return "gmt"
    return "long" if 2 * sum(c == 2 for c in counts) > len(counts) else "gmt"


def _iter_gmt(numbered: Iterable[tuple[int, list[str]]], name: str) -> Iterator[BatchItem]:
    for number, fields in numbered:
        list_name = fields[0].strip()
        if len(fields) < 2 or not list_name:
            raise InputError(
                f"{name}, line {number}: malformed GMT line (expected "
                "name<TAB>description<TAB>gene<TAB>gene...)"
            )
        yield BatchItem(list_name, fields[2:], f"{name}, line {number}")


def _iter_long(numbered: Iterable[tuple[int, list[str]]], name: str) -> Iterator[BatchItem]:
    from gsea_plus.genes import HEADER_WORDS

    current: str | None = None
    genes: list[str] = []
    start = 0
    done: set[str] = set()
    first = True
    for number, fields in numbered:
        if len(fields) != 2 or not fields[0].strip() or not fields[1].strip():
            raise InputError(
                f"{name}, line {number}: malformed line (expected list_id<TAB>gene, "
                f"got {len(fields)} field{'s' if len(fields) != 1 else ''})"
            )
        list_id, gene = fields[0].strip(), fields[1].strip()
        if first:
            first = False
            if gene.upper() in HEADER_WORDS or list_id.upper() in _LONG_HEADER_IDS:
                continue
        if list_id != current:
            if current is not None:
                yield BatchItem(current, genes, f"{name}, line {start}")
                done.add(current)
            if list_id in done:
                raise InputError(
                    f"{name}, line {number}: list {list_id!r} continues after other lists; "
                    "keep the rows of each list together (e.g. sort -s -t$'\\t' -k1,1)"
                )
            current, genes, start = list_id, [], number
        genes.append(gene)
    if current is not None:
        yield BatchItem(current, genes, f"{name}, line {start}")


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".gz",):
        name = name.removesuffix(suffix)
    return name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name


def _iter_dir(path: Path) -> Iterator[BatchItem]:
    from gsea_plus.genes import read_gene_text

    files = sorted(p for p in path.iterdir() if not p.name.startswith(".") and p.is_file())
    if not files:
        raise InputError(f"{path}: the directory holds no list files")
    for file in files:
        yield BatchItem(_stem(file), _Text(read_gene_text(file)), str(file))


def _safe_lines(fh: IO[str], name: str) -> Iterator[str]:
    """Lines of a stream; read errors (corrupt gzip, bad encoding) become InputError."""
    import zlib

    it = iter(fh)
    number = 0
    while True:
        try:
            line = next(it)
        except StopIteration:
            return
        except (OSError, EOFError, zlib.error, UnicodeDecodeError) as exc:
            raise InputError(f"{name}: cannot read after line {number} ({exc})") from exc
        number += 1
        yield line


def _iter_stream(fh: IO[str], name: str, input_format: str) -> Iterator[BatchItem]:
    fh = _safe_lines(fh, name)  # type: ignore[assignment]
    head = list(islice(fh, 200))
    fmt = _detect(head) if input_format == "auto" else input_format
    lines = _chain(head, fh)
    numbered = _content_lines(lines)
    if fmt == "gmt":
        yield from _iter_gmt(numbered, name)
    elif fmt == "long":
        yield from _iter_long(numbered, name)
    else:
        raise InputError(f"{name}: --input-format {fmt} needs a directory")


def _chain(head: list[str], rest: Iterable[str]) -> Iterator[str]:
    yield from head
    yield from rest


def read_batch(
    source: str | os.PathLike[str], *, input_format: str = "auto"
) -> Iterator[BatchItem]:
    """Read a batch of gene lists lazily (see the module docstring for the formats).

    Parameters
    ----------
    source
        A directory, a GMT or long-table file (gzip allowed), or ``"-"`` for stdin.
    input_format
        ``auto`` (a directory is ``dir``; a ``.gmt`` file is ``gmt``; otherwise ``gmt``
        when a line has 3+ tab-separated fields, else ``long``), ``dir``, ``gmt`` or
        ``long``.

    Yields
    ------
    BatchItem
        Name and unparsed genes of each list, in input order.

    Raises
    ------
    InputError
        Unreadable input, a malformed line (file and line named).
    """
    if input_format not in INPUT_FORMATS:
        choices = ", ".join(INPUT_FORMATS)
        raise InputError(f"unknown input format {input_format!r}; choose from {choices}")
    text = os.fspath(source)
    if text == "-":
        if sys.stdin is None:  # started with stdin closed (`<&-`)
            raise InputError("standard input is closed: give a file instead of -")
        raw = sys.stdin.buffer if hasattr(sys.stdin, "buffer") else None
        if raw is None:  # a text-only stdin (tests)
            fh: IO[str] = sys.stdin
        else:
            fh = _decode_stream(raw, "standard input")
        yield from _iter_stream(fh, "standard input", input_format)
        return
    path = Path(text)
    if path.is_dir():
        if input_format not in ("auto", "dir"):
            raise InputError(f"{path}: is a directory, not a {input_format} file")
        yield from _iter_dir(path)
        return
    if input_format == "dir":
        raise InputError(f"{path}: not a directory")
    fmt = input_format
    if fmt == "auto" and path.name.lower().removesuffix(".gz").endswith(".gmt"):
        fmt = "gmt"
    with _open_text(path) as fh:
        yield from _iter_stream(fh, str(path), fmt)


def batch_items(lists) -> Iterator[BatchItem]:
    """Normalize what :func:`enrich_many` accepts into batch items."""
    from gsea_plus.genes import GeneList

    if isinstance(lists, (str, os.PathLike)):
        yield from read_batch(lists)
        return
    if isinstance(lists, Mapping):
        for name, genes in lists.items():
            yield BatchItem(str(name), genes, str(name))
        return
    for i, item in enumerate(lists, start=1):
        if isinstance(item, BatchItem):
            yield item
        elif isinstance(item, GeneList) or (
            isinstance(item, (list, tuple))
            and all(isinstance(g, str) for g in item)
            and not (len(item) == 2 and not isinstance(item[1], str))
        ):
            yield BatchItem(f"list{i}", item, f"list {i}")
        elif isinstance(item, tuple) and len(item) == 2:
            yield BatchItem(str(item[0]), item[1], str(item[0]))
        else:
            raise InputError(
                f"item {i}: expected (name, genes) pairs, gene lists or a {{name: genes}} mapping"
            )


def check_unique(items: Iterable[BatchItem]) -> Iterator[BatchItem]:
    """Pass items through; on a repeated name, read on and name every duplicate."""
    seen: set[str] = set()
    it = iter(items)
    for item in it:
        if item.name in seen:
            dups = {item.name: [item.where]}
            for rest in it:
                if rest.name in seen or rest.name in dups:
                    dups.setdefault(rest.name, []).append(rest.where)
                seen.add(rest.name)
            shown = "; ".join(f"{n!r} (again at {', '.join(w[:3])})" for n, w in dups.items())
            raise InputError(f"duplicate list names: {shown}")
        seen.add(item.name)
        yield item


def chunked(items: Iterable[BatchItem], size: int) -> Iterator[list[BatchItem]]:
    """Consecutive chunks of ``size`` items (the last one shorter)."""
    it = iter(items)
    while True:
        chunk = list(islice(it, size))
        if not chunk:
            return
        yield chunk
