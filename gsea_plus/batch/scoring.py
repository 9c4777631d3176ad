"""Scoring chunks of lists: the same engine as one list, many lists at once.

Each chunk goes through the functions :func:`gsea_plus.enrich` uses
(:func:`~gsea_plus.engine.match_lists`, :func:`~gsea_plus.engine.enrich_chunk` with the
library's :class:`~gsea_plus.engine.Evidence`), so every list's rows are identical to
enriching it alone, and only one chunk of results is in memory at a time.
:func:`process_chunk` is what a :class:`~gsea_plus.batch.BatchEngine` maps over chunks.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from gsea_plus.batch.reading import BatchItem, to_gene_list
from gsea_plus.columnar import Codes, ResultTable, column_at
from gsea_plus.engine import (
    ClassicalEvidence,
    Evidence,
    ListMatch,
    PreparedLibrary,
    enrich_chunk,
    keep_top,
    match_lists,
    warn_unmatched,
)
from gsea_plus.errors import InputError

log = logging.getLogger(__name__)

__all__ = [
    "SUMMARY_COLUMNS",
    "BatchResult",
    "ChunkContext",
    "WarningSummary",
    "default_chunk_size",
    "process_chunk",
]

#: Columns of the per-list summary.
SUMMARY_COLUMNS = [
    "List",
    "Library",
    "Input Genes",
    "Converted",
    "Recognized",
    "List Size",
    "Unrecognized",
    "Terms Tested",
    "Significant",
    "Top Term",
    "Top Adjusted P-value",
    "Status",
]


@dataclass
class ChunkContext:
    """What every chunk needs (broadcast once on Dask).

    Attributes
    ----------
    libraries
        Per library, the prepared library and the evidence that makes its rows.
    correction
        The multiple-testing correction.
    min_overlap
        Rows shown need at least this overlap (``EnrichOptions.overlap_floor``).
    top
        Keep each list's ``top`` best rows (per library), or every row.
    idmap
        The identifier map (:class:`~gsea_plus.idmap.IdMap`): lists are converted to
        current symbols, and library symbols matched through previous symbols.
    species
        The species of the lists' identifiers.
    """

    libraries: list[tuple[PreparedLibrary, Evidence]]
    correction: str
    min_overlap: int
    top: int | None
    idmap: Any = None
    species: str = "human"


@dataclass
class BatchResult:
    """The results of one chunk of lists.

    Attributes
    ----------
    table
        Result columns: ``List`` then the enrich columns, list after list (input order),
        each list sorted by p-value.
    summary
        One record per (list, library) with :data:`SUMMARY_COLUMNS` keys.
    unmatched
        Per library, :class:`~gsea_plus.engine.ListMatch` of the lists with genes that
        were not tested (for warnings); their ``columns`` are dropped.
    n_lists
        Lists in the chunk (empty ones included).
    recognized_any
        Whether any list could be tested against any library (a gene in the library, or
        with the model's evidence, a gene the model knows).
    empty_names
        The empty lists (skipped).
    """

    table: Mapping[str, np.ndarray]
    summary: list[dict]
    unmatched: list[list]
    n_lists: int
    recognized_any: bool = False
    empty_names: list[str] = field(default_factory=list)


def _match_named(prepared, gene_lists, names, mapper, species) -> list[ListMatch]:
    """:func:`match_lists`, naming the list when one is bad."""
    try:
        return match_lists(prepared, gene_lists, names, mapper=mapper, species=species)
    except InputError:
        for gl, name in zip(gene_lists, names, strict=True):
            try:
                match_lists(prepared, [gl], [name], mapper=mapper, species=species)
            except InputError as exc:
                raise InputError(f"list {name!r}: {exc}") from exc
        raise


def process_chunk(chunk: list[BatchItem], ctx: ChunkContext) -> BatchResult:
    """Parse, match and score one chunk of lists against every library."""
    names: list[str] = []
    lists: list = []
    empty: list[str] = []
    layout: list = []  # per input item: its summary rows (empty) or its index in `names`
    for item in chunk:
        try:
            gl = to_gene_list(item.tokens)
        except InputError as exc:
            raise InputError(f"list {item.name!r} ({item.where}): {exc}") from exc
        if not gl.genes:
            empty.append(item.name)
            layout.append(
                [
                    _summary_row(item.name, prepared, 0, None, status="empty (skipped)")
                    for prepared, _ in ctx.libraries
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
    for prepared, evidence in ctx.libraries:
        matches = _match_named(prepared, lists, names, ctx.idmap, ctx.species)
        if isinstance(evidence, ClassicalEvidence) and not evidence.encoded:
            # the rows as codes: the writers format them in bulk (gsea_plus.columnar)
            evidence = replace(evidence, encoded=True)
        _, result = enrich_chunk(
            prepared,
            evidence,
            matches,
            correction=ctx.correction,
            min_overlap=ctx.min_overlap,
            top=ctx.top,
        )
        tables.append(result.table)
        owners.append(result.owner)
        per_lib_rows.append(
            _chunk_summary(
                prepared,
                matches,
                result.table,
                result.owner,
                result.tested,
                result.significant,
            )
        )
        recognized_any |= bool(evidence.recognized(matches).any())
        unmatched.append(
            [
                replace(m, columns=np.zeros(0, dtype=np.int64))
                for m in matches
                if m.unrecognized
                or m.outside_library
                or m.mangled
                or m.aliases
                or (m.conversion is not None and m.conversion.changed)
            ]
        )
    summary: list[dict] = []
    for entry in layout:  # input order, libraries in order within a list
        if isinstance(entry, list):
            summary.extend(entry)
        else:
            summary.extend(rows[entry] for rows in per_lib_rows)
    if len(tables) == 1:
        table, owner = tables[0], owners[0]
    else:
        table, owner = _merge_libraries(tables, owners, ctx.top)
    list_names = np.asarray(names, dtype=object)
    out: Mapping[str, np.ndarray]
    if isinstance(table, ResultTable):
        out = table.with_first("List", Codes(list_names, owner))
    else:
        out = {"List": list_names[owner], **table}
    return BatchResult(
        table=out,
        summary=summary,
        unmatched=unmatched,
        n_lists=len(chunk),
        recognized_any=recognized_any,
        empty_names=empty,
    )


def _merge_libraries(tables, owners, top):
    """Per list, rows of all libraries sorted by p (stable), as engine.concat_tables."""
    owner = np.concatenate(owners)
    if all(isinstance(t, ResultTable) for t in tables):
        encoded = ResultTable.concat(tables)
        order = np.lexsort((encoded["Log10 P-value"], owner))
        owner = owner[order]
        keep = keep_top(owner, top)
        return encoded.take(order[keep]), owner[keep]
    merged = {c: np.concatenate([t[c] for t in tables]) for c in tables[0]}
    order = np.lexsort((merged["Log10 P-value"], owner))
    owner = owner[order]
    keep = keep_top(owner, top)
    order, owner = order[keep], owner[keep]
    return {c: v[order] for c, v in merged.items()}, owner


def _summary_row(
    name,
    prepared,
    input_genes,
    match,
    *,
    status="ok",
    converted=0,
    tested=0,
    significant=0,
    top_term="",
    top_adj=float("nan"),
) -> dict:
    return {
        "List": name,
        "Library": prepared.library.name,
        "Input Genes": int(input_genes),
        "Converted": int(converted),
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
    # only each list's first row is read: an encoded table builds just those cells
    firsts = first[has]
    terms = dict(zip(firsts.tolist(), column_at(table, "Term", firsts), strict=True))
    adj = dict(zip(firsts.tolist(), column_at(table, "Adjusted P-value", firsts), strict=True))
    for i, m in enumerate(matches):
        status = "ok" if len(m.columns) else "no gene recognized"
        rows.append(
            _summary_row(
                m.name,
                prepared,
                len(m.genes),
                m,
                status=status,
                converted=len(m.conversion.converted) if m.conversion is not None else 0,
                tested=tested[i],
                significant=sig[i],
                top_term=str(terms[int(first[i])]) if has[i] else "",
                top_adj=adj[int(first[i])] if has[i] else float("nan"),
            )
        )
    return rows


def default_chunk_size(
    libraries: Sequence[tuple[PreparedLibrary, Evidence]], top: int | None
) -> int:
    """Lists per chunk: bounds the (list, term) entries held before rows are written.

    Full output keeps every (list, term) row of a chunk in memory until written; with
    ``top`` the rows kept are few and larger chunks are faster, but every list still
    scores its entries: against a large library a list shares a gene with most terms
    (~400k entries per 200-gene list against 500k sets), so the budget counts the
    entries a list of :data:`TYPICAL_LIST` genes makes (the genes' mean number of terms),
    not the terms. An evidence may bound the chunk further (the model scores a chunk as
    dense lists x vocabulary arrays).
    """
    per_list = 0.0
    for prepared, _ in libraries:
        lib = prepared.library
        degree = len(lib.indices) / max(len(lib.genes), 1)
        per_list += min(float(len(lib)), TYPICAL_LIST * degree)
    terms = sum(len(p.library) for p, _ in libraries)
    budget = 2_000_000 if top is not None else 500_000
    cells = max(terms, per_list) if top is None else per_list
    size = int(min(2000, max(4, budget // max(cells, 1))))
    for _, evidence in libraries:
        limit = evidence.chunk_limit()
        if limit is not None:
            size = min(size, limit)
    return size


#: The list size a chunk is sized for (a batch of longer lists makes larger chunks).
TYPICAL_LIST = 300


class WarningSummary:
    """Aggregates per-list warnings: a few in full, then a count (batches are large)."""

    def __init__(self, *, limit: int = 5):
        self.limit = limit
        self.shown = 0
        self.more = 0
        self.empty: list[str] = []

    def add(self, result: BatchResult, prepared: Sequence[PreparedLibrary]) -> None:
        """Log the warnings of a chunk's lists (the first few in full)."""
        self.empty.extend(result.empty_names)
        for lib_prepared, matches in zip(prepared, result.unmatched, strict=True):
            for m in matches:
                converted = m.conversion is not None and bool(
                    m.conversion.ambiguous or m.conversion.hint
                )
                if not (m.unrecognized or m.outside_library or m.aliases or converted):
                    continue
                if self.shown < self.limit:
                    warn_unmatched(m, lib_prepared, label=f"list {m.name}")
                    self.shown += 1
                else:
                    self.more += 1

    def finish(self) -> None:
        """Log the counts of the warnings not shown, and the empty lists."""
        if self.more:
            log.warning(
                "%d more lists have genes that were not tested; see the summary "
                "(Unrecognized column, --summary FILE)",
                self.more,
            )
        if self.empty:
            shown = ", ".join(self.empty[:10]) + (", ..." if len(self.empty) > 10 else "")
            log.warning("%d empty lists skipped: %s", len(self.empty), shown)
