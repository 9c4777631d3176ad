"""Batch enrichment: many gene lists, one library load, bounded memory.

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

An empty list is reported and skipped; duplicate list names are an error naming them; a
malformed line is an error naming the file and line.

Lists are processed in chunks: each chunk goes through the same functions as
:func:`gsea_plus.enrich` (:func:`~gsea_plus.engine.match_lists`,
:func:`~gsea_plus.engine.score_lists`, :func:`~gsea_plus.engine.table_for_lists`), so
every list's rows are identical to enriching it alone, and only one chunk of results is
in memory at a time (:func:`iter_enrich_many` yields them; :class:`ResultWriter`
streams them to a file). Chunks run on an engine: :class:`LocalEngine` in this process,
or :class:`gsea_plus.distributed.DaskEngine` on a Dask cluster.
"""

from __future__ import annotations

import gzip
import io
import logging
import os
import re
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO, Any

import numpy as np

from gsea_plus.errors import InputError

log = logging.getLogger(__name__)

__all__ = [
    "BatchEngine",
    "BatchResult",
    "LocalEngine",
    "ResultWriter",
    "SUMMARY_COLUMNS",
    "enrich_many",
    "get_engine",
    "iter_enrich_many",
    "read_batch",
]

#: Input formats of :func:`read_batch`.
INPUT_FORMATS = ("auto", "dir", "gmt", "long")
#: Output formats a batch can stream.
BATCH_FORMATS = ("tsv", "csv", "jsonl", "parquet")
#: Adjusted p-value below which a term counts as significant in the summary.
SIGNIFICANT = 0.05
#: Columns of the per-list summary.
SUMMARY_COLUMNS = [
    "List",
    "Library",
    "Input Genes",
    "Recognized",
    "List Size",
    "Unrecognized",
    "Terms Tested",
    "Significant",
    "Top Term",
    "Top Adjusted P-value",
    "Status",
]

_LONG_HEADER_IDS = frozenset({"LIST", "LIST_ID", "LISTID", "LIST_NAME", "LIST ID"})


# ----------------------------------------------------------------------------- reading


def _gene_list_from_tokens(tokens: list[str]):
    r"""``parse_gene_text("\n".join(tokens))``, fast for plain symbols.

    Batches hold millions of tokens; most are plain symbols for which parsing reduces to
    upper-casing and de-duplicating. Anything else (separators, quotes, comments, numbers,
    spreadsheet-mangled names, a header word first, non-ASCII) goes through
    :func:`~gsea_plus.genes.parse_gene_text` itself, so the result is always the same.
    """
    from gsea_plus.genes import HEADER_WORDS, GeneList, parse_gene_text

    text = "\n".join(tokens)
    if _NOT_PLAIN.search(text) is None:
        upper = text.upper()
        if _SPECIAL_TOKEN.search(upper) is None:
            symbols = [t for t in upper.split("\n") if t]
            if not symbols:
                return GeneList(genes=[])
            if symbols[0] not in HEADER_WORDS:
                genes = list(dict.fromkeys(symbols))
                dups: list[str] = []
                if len(genes) < len(symbols):
                    seen: set[str] = set()
                    dups = sorted({s for s in symbols if s in seen or seen.add(s)})
                return GeneList(genes=genes, duplicates=dups)
    return parse_gene_text(text)


# Characters that parse_gene_text treats specially (separators, comments, quotes,
# whitespace, line breaks other than \n) or that upper() might change unexpectedly.
_NOT_PLAIN = re.compile(r"[^A-Za-z0-9_.\-\n/:+@()\[\]|*]")
# Whole tokens that are numbers (dropped) or spreadsheet-mangled names (resolved).
_SPECIAL_TOKEN = re.compile(
    r"^(?:[-+]?(?:\d+\.?\d*|\.\d+)(?:E[-+]?\d+)?|[-+]?(?:INF|NAN)"
    r"|\d{1,2}-[A-Z]{3}|[A-Z]{3}-\d{1,2})$",
    re.M,
)


@dataclass
class BatchItem:
    """One list of a batch before parsing: a name and its genes (tokens, text or GeneList)."""

    name: str
    tokens: Any
    where: str = ""


def _to_gene_list(payload):
    from gsea_plus.genes import GeneList, parse_gene_text, read_gene_list

    if isinstance(payload, GeneList):
        return payload
    if isinstance(payload, _Text):
        if _NOT_PLAIN.search(payload.text.lstrip("\ufeff")) is None:
            return _gene_list_from_tokens(payload.text.lstrip("\ufeff").split("\n"))
        return parse_gene_text(payload.text)
    if isinstance(payload, (str, os.PathLike)):
        return read_gene_list(payload)
    items = payload if isinstance(payload, list) else list(payload)
    try:
        return _gene_list_from_tokens(items)
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
            raw = gzip.open(path, "rb")  # owns (and closes) its file
        return _decode_stream(raw, str(path))
    except BaseException:
        raw.close()
        raise


def _decode_stream(raw: IO[bytes], name: str) -> IO[str]:
    import io

    buffered = raw if isinstance(raw, io.BufferedReader) else io.BufferedReader(raw)  # type: ignore[arg-type]
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
    """``gmt`` when any of the first content lines has 3+ fields, else ``long``."""
    for _, fields in islice(_content_lines(lines), 50):
        if len(fields) >= 3:
            return "gmt"
    return "long"


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


def _items(lists) -> Iterator[BatchItem]:
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


def _check_unique(items: Iterable[BatchItem]) -> Iterator[BatchItem]:
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


# ----------------------------------------------------------------------------- engines


class BatchEngine(ABC):
    """Where chunks of lists are scored: maps a function over chunks, in order.

    The seam between the batch logic and the compute backend (as PyDESeq2's inference
    classes): :class:`LocalEngine` runs chunks in this process;
    :class:`gsea_plus.distributed.DaskEngine` sends them to a Dask cluster with the
    shared data broadcast once.
    """

    name = "abstract"

    @abstractmethod
    def map(
        self, func: Callable[[Any, Any], Any], chunks: Iterable[Any], shared: Any
    ) -> Iterator[Any]:
        """Yield ``func(chunk, shared)`` for each chunk, in the order of ``chunks``."""

    def close(self) -> None:  # noqa: B027 (optional hook, nothing to release by default)
        """Release resources (clusters, clients)."""

    def __enter__(self) -> BatchEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LocalEngine(BatchEngine):
    """Run chunks one after another in this process (memory: one chunk at a time)."""

    name = "local"

    def map(self, func, chunks, shared):
        """Yield ``func(chunk, shared)`` for each chunk, lazily."""
        for chunk in chunks:
            yield func(chunk, shared)


def get_engine(
    engine: str | BatchEngine = "local",
    *,
    scheduler: str | None = None,
    workers: int | None = None,
) -> BatchEngine:
    """An engine by name: ``local`` or ``dask`` (``scheduler`` address, or a local cluster)."""
    if isinstance(engine, BatchEngine):
        return engine
    if engine == "local":
        if scheduler is not None:
            raise InputError("--scheduler needs --engine dask")
        return LocalEngine()
    if engine == "dask":
        from gsea_plus.distributed import DaskEngine

        return DaskEngine(scheduler=scheduler, workers=workers)
    raise InputError(f"unknown engine {engine!r}; choose local or dask")


# ----------------------------------------------------------------------------- scoring


@dataclass
class _Shared:
    """What every chunk needs: prepared libraries and options (broadcast once on Dask)."""

    prepared: list
    correction: str
    min_overlap: int
    top: int | None
    mapper: Any = None
    model_options: Any = None  # gsea_plus.augment.ModelOptions for model-based runs
    views: list | None = None  # per library, its ModelView (model-based runs)


@dataclass
class BatchResult:
    """The results of one chunk of lists.

    Attributes
    ----------
    table
        Result columns: ``List`` then :data:`gsea_plus.engine.COLUMNS`, list after list
        (input order), each list sorted by p-value.
    summary
        One record per (list, library) with :data:`SUMMARY_COLUMNS` keys.
    unmatched
        Per library, :class:`~gsea_plus.engine.ListMatch` of the lists with genes that
        were not tested (for warnings); their ``columns`` are dropped.
    n_lists, n_empty
        Lists in the chunk, and how many of them were empty (skipped).
    """

    table: dict[str, np.ndarray]
    summary: list[dict]
    unmatched: list[list]
    n_lists: int
    n_empty: int
    recognized_any: bool = False
    empty_names: list[str] = field(default_factory=list)


def _match_named(prepared, gene_lists, names, mapper):
    from gsea_plus.engine import match_lists

    try:
        return match_lists(prepared, gene_lists, names, mapper=mapper)
    except InputError:
        from gsea_plus.genes import GeneList

        for gl, name in zip(gene_lists, names, strict=True):
            one = GeneList(list(gl.genes), mangled=dict(gl.mangled))
            try:
                match_lists(prepared, [one], [name], mapper=mapper)
            except InputError as exc:
                raise InputError(f"list {name!r}: {exc}") from exc
        raise


def process_chunk(chunk: list[BatchItem], shared: _Shared) -> BatchResult:
    """Parse, match and score one chunk of lists against every library.

    The same functions as :func:`gsea_plus.enrich` run on the whole chunk at once.
    """
    from gsea_plus.engine import score_lists, table_for_lists
    from gsea_plus.genes import GeneList

    names: list[str] = []
    lists: list = []
    summary: list[dict] = []
    empty: list[str] = []
    layout: list = []  # per input item: its summary rows (empty) or its index in `names`
    for item in chunk:
        try:
            gl = _to_gene_list(item.tokens)
        except InputError as exc:
            raise InputError(f"list {item.name!r} ({item.where}): {exc}") from exc
        if not gl.genes:
            empty.append(item.name)
            layout.append(
                [
                    _summary_row(item.name, prepared, 0, None, status="empty (skipped)")
                    for prepared in shared.prepared
                ]
            )
            continue
        layout.append(len(names))
        names.append(item.name)
        lists.append(gl)
    tables = []
    owners = []
    unmatched = []
    per_lib_rows: list[list[dict]] = []
    recognized_any = False
    for prepared in shared.prepared:
        # Fresh copies per library, as run_enrich does: matching re-points mangled names.
        copies = [GeneList(list(g.genes), mangled=dict(g.mangled)) for g in lists]
        matches = _match_named(prepared, copies, names, shared.mapper)
        scores = score_lists(prepared, matches, correction=shared.correction)
        if shared.model_options is not None:
            from gsea_plus.augment import model_table

            table, owner, significant = model_table(
                shared.views[len(tables)],
                scores,
                matches,
                shared.model_options,
                correction=shared.correction,
                min_overlap=shared.min_overlap,
                top=shared.top,
            )
            tested = np.full(len(matches), int(prepared.term_mask.sum()))
        else:
            table, owner = table_for_lists(
                prepared, scores, matches, min_overlap=shared.min_overlap, top=shared.top
            )
            tested = np.bincount(scores.list_idx, minlength=len(matches))
            shown = scores.overlap >= shared.min_overlap
            significant = np.bincount(
                scores.list_idx[shown & (scores.adjusted < SIGNIFICANT)], minlength=len(matches)
            )
        tables.append(table)
        owners.append(owner)
        rows = _chunk_summary(prepared, matches, table, owner, tested, significant)
        per_lib_rows.append(rows)
        recognized_any |= any(len(m.columns) for m in matches)
        unmatched.append(
            [
                _light(m)
                for m in matches
                if m.unrecognized or m.outside_library or m.mangled or m.aliases
            ]
        )
    # Summary rows in input order, libraries in order within a list.
    for entry in layout:
        if isinstance(entry, list):
            summary.extend(entry)
        else:
            summary.extend(rows[entry] for rows in per_lib_rows)
    if len(tables) == 1:
        table, owner = tables[0], owners[0]
    else:
        table, owner = _merge_libraries(tables, owners, shared.top)
    out = {"List": np.asarray(names, dtype=object)[owner]}
    out.update(table)
    return BatchResult(
        table=out,
        summary=summary,
        unmatched=unmatched,
        n_lists=len(chunk),
        n_empty=len(empty),
        recognized_any=recognized_any,
        empty_names=empty,
    )


def _light(match):
    from dataclasses import replace

    return replace(match, columns=np.zeros(0, dtype=np.int64))


def _merge_libraries(tables, owners, top):
    """Per list, rows of all libraries sorted by p (stable), as engine.concat_tables."""
    merged = {c: np.concatenate([t[c] for t in tables]) for c in tables[0]}
    owner = np.concatenate(owners)
    order = np.lexsort((merged["Log10 P-value"], owner))
    owner = owner[order]
    if top is not None:
        first = np.searchsorted(owner, owner, side="left")
        keep = np.arange(len(owner)) - first < top
        order, owner = order[keep], owner[keep]
    return {c: v[order] for c, v in merged.items()}, owner


def _summary_row(
    name,
    prepared,
    input_genes,
    match,
    *,
    status="ok",
    tested=0,
    significant=0,
    top_term="",
    top_adj=float("nan"),
) -> dict:
    return {
        "List": name,
        "Library": prepared.library.name,
        "Input Genes": int(input_genes),
        "Recognized": int(len(match.columns)) if match is not None else 0,
        "List Size": int(match.size) if match is not None else 0,
        "Unrecognized": int(len(match.unrecognized)) if match is not None else 0,
        "Terms Tested": int(tested),
        "Significant": int(significant),
        "Top Term": top_term,
        "Top Adjusted P-value": float(top_adj),
        "Status": status,
    }


def _chunk_summary(prepared, matches, table, owner, tested, sig) -> list[dict]:
    n = len(matches)
    first = np.searchsorted(owner, np.arange(n))
    has = first < len(owner)
    has[has] = owner[first[has]] == np.arange(n)[has]
    rows = []
    terms = table["Term"]
    adj = table["Adjusted P-value"]
    for i, m in enumerate(matches):
        status = "ok" if len(m.columns) else "no gene recognized"
        rows.append(
            _summary_row(
                m.name,
                prepared,
                len(m.genes),
                m,
                status=status,
                tested=tested[i],
                significant=sig[i],
                top_term=str(terms[first[i]]) if has[i] else "",
                top_adj=adj[first[i]] if has[i] else float("nan"),
            )
        )
    return rows


def _chunks(items: Iterable[BatchItem], size: int) -> Iterator[list[BatchItem]]:
    it = iter(items)
    while True:
        chunk = list(islice(it, size))
        if not chunk:
            return
        yield chunk


#: Upper bound on lists x vocabulary cells the model scores at once (model-based batches).
_MODEL_CELLS = 4_000_000


def _default_chunk_size(prepared: list, top: int | None) -> int:
    # Full output keeps every (list, term) row of a chunk in memory until written: bound
    # the cells per chunk. With --top the rows kept are few and larger chunks are faster.
    terms = sum(len(p.library.terms) for p in prepared)
    budget = 8_000_000 if top is not None else 1_000_000
    return int(min(2000, max(16, budget // max(terms, 1))))


def iter_enrich_many(
    lists,
    *,
    library="KEGG",
    background=None,
    correction: str = "fdr_bh",
    min_size: int = 1,
    max_size: int | None = None,
    min_overlap: int | None = None,
    top: int | None = None,
    chunk_size: int | None = None,
    engine: str | BatchEngine = "local",
    scheduler: str | None = None,
    workers: int | None = None,
    offline: bool | None = None,
    hgnc=None,
    input_format: str = "auto",
    model_options=None,
    model=None,
) -> Iterator[BatchResult]:
    """Enrich many lists chunk by chunk, yielding each chunk's results (streaming).

    Parameters are those of :func:`enrich_many`; ``model_options``
    (:class:`gsea_plus.augment.ModelOptions`) makes the run model-based, with ``model``
    (default: the bundled one) scoring each chunk's lists in one batch. Memory holds one
    chunk of lists and results at a time (several with the Dask engine, a bounded window).

    Yields
    ------
    BatchResult
        Per chunk, in input order.
    """
    from gsea_plus.engine import load_mapper, prepare
    from gsea_plus.library import load_library
    from gsea_plus.stats import CORRECTIONS

    if correction not in CORRECTIONS:
        raise InputError(f"unknown correction {correction!r}; choose from {', '.join(CORRECTIONS)}")
    if top is not None and top < 1:
        raise InputError("--top must be at least 1")
    if chunk_size is not None and chunk_size < 1:
        raise InputError("chunk size must be at least 1")
    specs = list(library) if isinstance(library, (list, tuple)) else [library]
    if not specs:
        raise InputError("no library given")
    prepared = [
        prepare(
            load_library(s, offline=offline),
            background=background,
            min_size=min_size,
            max_size=max_size,
        )
        for s in specs
    ]
    if min_overlap is None:
        min_overlap = 0 if model_options is not None else 1
    shared = _Shared(prepared, correction, min_overlap, top, load_mapper(hgnc), model_options)
    if model_options is not None:
        from gsea_plus.augment import model_view

        shared.views = [model_view(p, model) for p in prepared]
    size = chunk_size or _default_chunk_size(prepared, top)
    if model_options is not None and chunk_size is None:
        # the model scores a chunk as dense (lists x vocabulary) matrices
        size = min(size, max(16, _MODEL_CELLS // len(shared.views[0].allowed)))
    if isinstance(lists, (str, os.PathLike)):
        items: Iterable[BatchItem] = read_batch(lists, input_format=input_format)
    else:
        items = _items(lists)
    chunks = _chunks(_check_unique(items), size)
    recognized_any = False
    total = 0
    warnings = _Warnings()
    with get_engine(engine, scheduler=scheduler, workers=workers) as runner:
        for result in runner.map(process_chunk, chunks, shared):
            recognized_any |= result.recognized_any
            total += result.n_lists
            warnings.add(result, prepared)
            yield result
    warnings.finish()
    if total == 0:
        raise InputError("the batch holds no gene list")
    if not recognized_any:
        libs = ", ".join(p.library.name for p in prepared)
        raise InputError(f"no gene of any list is in {libs}")


class _Warnings:
    """Aggregates per-list warnings: a few in full, then a count (batches are large)."""

    def __init__(self, *, limit: int = 5):
        self.limit = limit
        self.shown = 0
        self.more = 0
        self.empty: list[str] = []

    def add(self, result: BatchResult, prepared: list) -> None:
        from gsea_plus.engine import warn_unmatched

        self.empty.extend(result.empty_names)
        for lib_prepared, matches in zip(prepared, result.unmatched, strict=True):
            for m in matches:
                if not (m.unrecognized or m.outside_library or m.aliases):
                    continue
                if self.shown < self.limit:
                    warn_unmatched(m, lib_prepared, label=f"list {m.name}")
                    self.shown += 1
                else:
                    self.more += 1

    def finish(self) -> None:
        if self.more:
            log.warning(
                "%d more lists have genes that were not tested; see the summary "
                "(Unrecognized column, --summary FILE)",
                self.more,
            )
        if self.empty:
            shown = ", ".join(self.empty[:10]) + (", ..." if len(self.empty) > 10 else "")
            log.warning("%d empty lists skipped: %s", len(self.empty), shown)


def enrich_many(
    lists,
    *,
    augment: int = 0,
    rank: str = "overlap",
    test: str | None = None,
    compare: bool = False,
    **options,
):
    """Over-representation analysis of many gene lists at once.

    Every list's rows are identical to :func:`gsea_plus.enrich` on that list alone (same
    engine, per-list multiple testing); only the work is shared.

    Parameters
    ----------
    lists
        A ``{name: genes}`` mapping, an iterable of ``(name, genes)`` pairs or of gene
        lists (named ``list1``, ``list2``...), or a path: a directory of list files, a
        GMT of lists, a long table ``list_id<TAB>gene``, or ``"-"`` (stdin). Genes are
        anything :func:`gsea_plus.enrich` takes (symbols, a file path, a GeneList).
    augment, rank, test, compare
        Model-based enrichment, as in :func:`gsea_plus.enrich`; the model scores each
        chunk of lists in one batch.
    **options
        Keywords of :func:`iter_enrich_many`: ``library``, ``background``,
        ``correction``, ``min_size``, ``max_size``, ``min_overlap``, ``offline``,
        ``hgnc``, ``model`` (as in :func:`gsea_plus.enrich`); ``top`` (keep each list's
        best rows), ``chunk_size`` (lists per chunk; default sized from the library),
        ``engine`` (``"local"``, ``"dask"`` or a :class:`BatchEngine`), ``scheduler``
        (Dask scheduler address; none starts a local cluster), ``workers`` (local Dask
        workers), ``input_format`` (for a path: ``auto``, ``dir``, ``gmt``, ``long``).

    Returns
    -------
    pandas.DataFrame
        ``List`` then :data:`gsea_plus.engine.COLUMNS` (plus the model columns of
        :mod:`gsea_plus.augment` when model-based), list by list in input order, each
        sorted by p-value. Empty lists are skipped with a warning.

    Raises
    ------
    InputError
        Duplicate list names (all named), a malformed line (file and line), no list, or
        no gene of any list in the libraries.
    """
    import pandas as pd

    from gsea_plus.augment import model_options

    opts = model_options(augment=augment, rank=rank, test=test, compare=compare)
    parts: dict[str, list] = {}
    for result in iter_enrich_many(lists, model_options=opts, **options):
        for c, values in result.table.items():
            parts.setdefault(c, []).append(values)
    if not parts:  # every list empty is an error above; keep the columns for safety
        from gsea_plus.engine import COLUMNS

        parts = {c: [np.zeros(0)] for c in ["List", *COLUMNS]}
    data = {c: np.concatenate(v) for c, v in parts.items()}
    data["Term"] = data["Term"].astype(object)
    return pd.DataFrame(data, columns=list(parts))


# ----------------------------------------------------------------------------- writing


def _cells(values) -> list[str]:
    """One column as text, as :func:`gsea_plus.output.frame_to_bytes` writes each cell."""
    # tolist() gives Python scalars, and str(float) is repr(float) (the shortest text
    # that reads back the same float), so str() writes every cell as _cell() does.
    return list(map(str, np.asarray(values).tolist()))


def _text_bytes(table: Mapping[str, np.ndarray], fmt: str, *, header: bool) -> bytes:
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
                data = _text_bytes(table, self.fmt, header=not self._header_done)
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
