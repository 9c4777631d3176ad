"""Classical over-representation analysis: one list or a chunk of many, one code path.

Overlaps for a chunk of lists come from one sparse product (lists x genes) . (genes x
terms); p-values are computed only where the overlap is at least 1 (see
:mod:`gsea_plus.stats`), multiple testing runs per list and per library.

This module knows nothing of the gene set model. What a result table holds per library
is chosen by an :class:`Evidence` object: :class:`ClassicalEvidence` here, or the model's
evidence from :mod:`gsea_plus.evidence`; the API picks one per library, and the batch
code calls it without knowing which.

Backgrounds (:func:`prepare`):

``None`` (default, like gseapy)
    the library's genes: ``N`` = genes in any term; the list is intersected with them.
an integer ``N`` (like Enrichr's 20,000)
    a fixed background size; every unique input gene counts in ``n`` (like Enrichr),
    terms are used whole. Input genes that are in no term are still listed in a warning.
a collection of genes (e.g. the expressed genes)
    ``N`` = number of background genes; the list and every term are intersected with
    the background, like Enrichr's background mode.

The family for multiple testing is every term that passes the size filters and has an
overlap of at least 1 with the list; ``min_overlap`` only filters the rows shown.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol

import numpy as np

from gsea_plus.columnar import Codes, Pairs, Ragged, ResultTable, arrow_text, is_text, spans
from gsea_plus.errors import InputError
from gsea_plus.genes import GeneList, read_gene_list
from gsea_plus.idmap import Conversion, IdMap
from gsea_plus.library import GeneSetLibrary
from gsea_plus.library.core import stable_order
from gsea_plus.options import canonical_background
from gsea_plus.stats import (
    adjust_pvalues_grouped,
    combined_score,
    hypergeom_logsf,
    odds_ratio,
)

log = logging.getLogger(__name__)

__all__ = [
    "COLUMNS",
    "SIGNIFICANT",
    "ClassicalEvidence",
    "Evidence",
    "EvidenceTable",
    "ListMatch",
    "PreparedLibrary",
    "Scores",
    "TableIds",
    "concat_tables",
    "convert_missing",
    "count_overlaps",
    "dense_overlaps",
    "enrich_chunk",
    "keep_top",
    "match_lists",
    "overlap_gene_indices",
    "overlap_genes_many",
    "prepare",
    "result_columns",
    "result_table",
    "score_lists",
    "table_for_lists",
    "to_frame",
    "warn_unmatched",
]

#: Result columns, Enrichr/gseapy-compatible first, extras after.
COLUMNS = [
    "Term",
    "Overlap",
    "P-value",
    "Adjusted P-value",
    "Odds Ratio",
    "Combined Score",
    "Genes",
    "Library",
    "Log10 P-value",
    "Overlap Size",
    "Term Size",
    "List Size",
    "Background Size",
]
#: Adjusted p-value below which a term counts as significant in summaries.
SIGNIFICANT = 0.05


@dataclass
class PreparedLibrary:
    """A library with its background applied and size filters evaluated, ready to score.

    Attributes
    ----------
    library
        The library, restricted to the background genes when the background is a gene set.
    background_size
        ``N``.
    kind
        ``"library"``, ``"size"`` or ``"genes"``.
    background_genes
        The background gene set when ``kind == "genes"`` (upper-case), else ``None``.
    term_mask
        Terms that pass ``min_size``/``max_size``.
    """

    library: GeneSetLibrary
    background_size: int
    kind: str
    background_genes: frozenset[str] | None
    term_mask: np.ndarray

    @property
    def term_sizes(self) -> np.ndarray:
        """``K`` per term (after background restriction)."""
        return self.library.term_sizes

    @cached_property
    def size_ids(self) -> tuple[np.ndarray, np.ndarray]:
        """The distinct term sizes, and each term's position among them (once per batch)."""
        values, ids = np.unique(self.term_sizes, return_inverse=True)
        return values, ids.ravel()

    def describe(self) -> str:
        """One line: background kind and size."""
        what = {
            "library": "library genes",
            "size": "fixed size",
            "genes": "user background",
        }[self.kind]
        return f"{self.background_size} ({what})"


def _read_background(background) -> int | frozenset[str] | None:
    bg = canonical_background(background)
    if bg is None or isinstance(bg, int):
        return bg
    if isinstance(bg, (str, os.PathLike)):
        return frozenset(read_gene_list(os.fspath(bg)).genes)
    return frozenset(read_gene_list(list(bg)).genes)


def prepare(
    library: GeneSetLibrary,
    *,
    background=None,
    min_size: int = 1,
    max_size: int | None = None,
    mapper: IdMap | None = None,
    species: str = "human",
) -> PreparedLibrary:
    """Apply a background and size filters to a library; see the module docstring.

    With an ID map, background genes the library lacks are converted to current symbols
    as list genes are (:func:`convert_missing`).
    """
    bg = _read_background(background)
    if isinstance(bg, frozenset) and mapper is not None:
        named, conversion = convert_missing(sorted(bg), library.gene_index, mapper, species)
        if conversion is not None and conversion.converted:
            log.info("background: %s", conversion.summary())
        bg = frozenset(named)
    if min_size < 0 or (max_size is not None and max_size < min_size):
        raise InputError("need 0 <= --min-size <= --max-size")
    genes: frozenset[str] | None = None
    if bg is None:
        lib, n_bg, kind = library, len(library.genes), "library"
    elif isinstance(bg, int):
        if bg < len(library.genes):
            log.warning(
                "background size %d is smaller than the library's %d genes",
                bg,
                len(library.genes),
            )
        lib, n_bg, kind = library, bg, "size"
    else:
        lib = library.restrict(bg)
        n_bg, kind, genes = len(bg), "genes", bg
        covered = len(lib.genes)
        if covered == 0:
            raise InputError(f"{library.name}: no background gene is in the library")
        if covered < 0.5 * len(bg):
            log.info("%s covers %d of %d background genes", library.name, covered, len(bg))
    if int(lib.term_sizes.max(initial=0)) > n_bg:
        raise InputError(f"background size {n_bg} is smaller than a term of {library.name}")
    sizes = lib.term_sizes
    mask = sizes >= max(min_size, 1)
    if max_size is not None:
        mask &= sizes <= max_size
    return PreparedLibrary(
        library=lib,
        background_size=n_bg,
        kind=kind,
        background_genes=genes,
        term_mask=mask,
    )


@dataclass
class ListMatch:
    """How one gene list maps onto a prepared library.

    Attributes
    ----------
    name
        The list's name (batch) or ``""``.
    genes
        Unique input genes (after mangled-name resolution).
    columns
        Library gene indices of the recognized genes (sorted).
    size
        ``n``, the list size used in the test.
    unrecognized
        Input genes not in the library (``library``/``size`` backgrounds) or not in
        the background (``genes`` background).
    outside_library
        Input genes in the background but in no term (``genes``/``size`` backgrounds).
    mangled
        Spreadsheet-mangled names re-pointed to the candidate the library has.
    aliases
        Input symbol -> the library's older name of the same gene.
    conversion
        What identifier conversion did to the identifiers the library lacked.
    """

    name: str
    genes: list[str]
    columns: np.ndarray
    size: int
    unrecognized: list[str]
    outside_library: list[str]
    mangled: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    conversion: Conversion | None = None


def convert_missing(
    genes: Sequence[str],
    universe: Mapping[str, object] | frozenset[str],
    mapper: IdMap,
    species: str = "human",
    originals: Mapping[str, str] | None = None,
) -> tuple[list[str], Conversion | None]:
    """Convert the identifiers ``universe`` lacks to current symbols (all, for mouse).

    An identifier the library holds as it is stays as it is, so a custom library's own
    names win over the ID map. Returns the genes (renamed, in order, unique) and what
    the conversion did (``None`` when nothing had to be converted).
    """
    todo = list(genes) if species != "human" else [g for g in genes if g not in universe]
    if not todo:
        return list(genes), None
    conversion = mapper.convert(todo, species=species, originals=originals)
    rename = {t: s for t, s in zip(todo, conversion.symbols, strict=True) if s != t}
    if rename:
        genes = list(dict.fromkeys(rename.get(g, g) for g in genes))
    return list(genes), conversion


def match_lists(
    prepared: PreparedLibrary,
    lists: Sequence[GeneList],
    names: Sequence[str] | None = None,
    *,
    mapper: IdMap | None = None,
    species: str = "human",
) -> list[ListMatch]:
    """Map gene lists onto the library's gene index and compute each list's ``n``.

    With an :class:`~gsea_plus.idmap.IdMap`, the input identifiers the library does not
    hold as they are (Ensembl and Entrez IDs, previous symbols, aliases; every one with
    ``species="mouse"``) are converted to current symbols (reported in ``conversion``),
    and library genes under older names are matched through previous symbols and aliases
    (reported in ``aliases``). An identifier the library holds as it is stays as it is
    (a custom library's own names win). The gene lists are not changed: each match holds
    its own renamed genes.
    """
    index = prepared.library.gene_index
    bg = prepared.background_genes
    out: list[ListMatch] = []
    for i, gl in enumerate(lists):
        mangled = gl.mangled_fixes(index) if gl.mangled else {}
        genes = [mangled.get(g, g) for g in gl.genes] if mangled else gl.genes
        conversion = None
        if mapper is not None:
            genes, conversion = convert_missing(genes, index, mapper, species, gl.original)
        aliases = mapper.match(genes, index) if mapper is not None else {}
        if aliases:
            genes = list(dict.fromkeys(aliases.get(g, g) for g in genes))
        unrecognized: list[str] = []
        outside: list[str] = []
        found = list(map(index.get, genes))
        cols: list[int]
        if None in found:
            cols = []
            for g, j in zip(genes, found, strict=True):
                if j is not None:
                    cols.append(j)
                elif bg is not None and g in bg:
                    outside.append(g)
                elif prepared.kind == "size":
                    outside.append(g)
                else:
                    unrecognized.append(g)
        else:  # every gene found (batches of library genes): no per-gene branching
            cols = found  # type: ignore[assignment]
        if prepared.kind == "library":
            n = len(cols)
        elif prepared.kind == "genes":
            n = len(cols) + len(outside)
        else:
            n = len(genes)
        if n > prepared.background_size:
            raise InputError(
                f"the list has {n} genes, more than the background of {prepared.background_size}"
            )
        out.append(
            ListMatch(
                name=names[i] if names is not None else "",
                genes=list(genes),
                columns=np.sort(np.array(cols, dtype=np.int64)),
                size=n,
                unrecognized=unrecognized,
                outside_library=outside,
                mangled=mangled,
                aliases=aliases,
                conversion=conversion,
            )
        )
    return out


@dataclass
class TableIds:
    """The distinct tables ``(k, K, n)`` of a chunk's entries, and each entry's table.

    Every statistic of an entry but its adjusted p-value is a function of its table, and
    a chunk holds few of them: result columns are built once per table and gathered
    (:func:`result_table`), and a writer formats each table's cells once.

    Attributes
    ----------
    entry
        Per entry, its table (``0 .. len(k) - 1``).
    k, big_k, n, log_p
        Per table: overlap, term size, list size and ``log P(X >= k)``.
    """

    entry: np.ndarray
    k: np.ndarray
    big_k: np.ndarray
    n: np.ndarray
    log_p: np.ndarray


@dataclass
class Scores:
    """Long-format results for a chunk of lists against one library.

    One entry per (list, term) pair with overlap >= 1 among terms passing the size
    filters, grouped by list; :attr:`order` lists the entries by list, then p-value, then
    term (the order of the result tables). :attr:`tables` gives each entry's table
    ``(k, K, n)``; :attr:`genes`, when kept, each entry's overlapping genes.
    """

    list_idx: np.ndarray
    term_idx: np.ndarray
    overlap: np.ndarray
    term_size: np.ndarray
    list_size: np.ndarray
    log_p: np.ndarray
    adjusted: np.ndarray
    background_size: int
    order: np.ndarray
    tables: TableIds | None = None
    genes: Ragged | None = None

    @property
    def odds(self) -> np.ndarray:
        """Odds ratio of every entry (computed on demand: output rows need only theirs)."""
        return odds_ratio(self.overlap, self.term_size, self.list_size, self.background_size)


#: Upper bound on lists x terms cells counted at once (bounds memory per chunk).
_CELLS_PER_BLOCK = 1 << 21
#: From this many (gene, term) entries on, scipy's sparse product is faster than bincount.
_SPARSE_FROM = 1 << 20


def count_overlaps(
    prepared: PreparedLibrary, columns: Sequence[np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Overlaps of every list with every term: the sparse product (lists x genes).(genes x terms).

    Small chunks (one list) use numpy: each recognized gene of each list contributes the
    terms that contain it (the library's column-compressed index), and ``bincount`` adds
    them up per (list, term) cell, a block of lists at a time; this keeps scipy off the
    command line's start-up path. Large chunks (batches) use scipy's sparse matrix
    product, about twice as fast. Both give the same exact integer counts.

    Parameters
    ----------
    prepared
        The prepared library.
    columns
        Per list, the sorted library gene indices of its genes (:attr:`ListMatch.columns`).

    Returns
    -------
    list_idx, term_idx, overlap
        One entry per cell with overlap >= 1, sorted by list (and by term within a list,
        except for large chunks).
    """
    li, ti, k, _ = _count_overlaps(prepared, columns, with_genes=False)
    return li, ti, k


def _count_overlaps(
    prepared: PreparedLibrary, columns: Sequence[np.ndarray], *, with_genes: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """:func:`count_overlaps`, and (``with_genes``, numpy path) each cell's genes.

    The genes come out of the same walk over the lists' genes and their terms: ordered
    by cell (list, then term, as the entries) and, within a cell, by gene (a stable sort
    of the walk, which goes through each list's genes in ascending order). ``None`` when
    the sparse product counted the cells.
    """
    col_ptr, col_terms = prepared.library.gene_terms
    n_terms = len(prepared.library)
    if not len(columns):
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, (empty if with_genes else None)
    cols_all = [np.asarray(c, dtype=np.int64) for c in columns]
    sizes = np.array([len(c) for c in cols_all], dtype=np.int64)
    cols = np.concatenate(cols_all) if len(cols_all) > 1 else cols_all[0]
    n_lists = len(cols_all)
    entries = int((col_ptr[cols + 1] - col_ptr[cols]).sum())
    if n_lists > 1 and entries >= _SPARSE_FROM and entries * 4 < n_lists * n_terms:
        # many lists with sparse overlaps; a dense overlap (a large library) is counted
        # faster by bincount, a block of lists at a time
        return (*_count_sparse(prepared, cols, sizes), None)
    block = max(1, _CELLS_PER_BLOCK // max(n_terms, 1))
    ends = np.cumsum(sizes)
    out_l, out_t, out_k, out_g = [], [], [], []
    for lo in range(0, n_lists, block):
        hi = min(lo + block, n_lists)
        a = int(ends[lo - 1]) if lo else 0
        chunk_cols = cols[a : int(ends[hi - 1])]
        owner = np.repeat(np.arange(hi - lo, dtype=np.int64), sizes[lo:hi])
        starts = col_ptr[chunk_cols]
        lens = col_ptr[chunk_cols + 1] - starts
        total = int(lens.sum())
        # Positions of every (gene, term) entry of the chosen genes in `col_terms`.
        offsets = np.repeat(starts - np.cumsum(lens) + lens, lens) + np.arange(total)
        keys = np.repeat(owner, lens) * n_terms + col_terms[offsets]
        counts = np.bincount(keys, minlength=(hi - lo) * n_terms)
        cells = np.flatnonzero(counts)
        out_l.append(cells // n_terms + lo)
        out_t.append(cells % n_terms)
        out_k.append(counts[cells])
        if with_genes:
            genes = np.repeat(chunk_cols, lens)
            out_g.append(genes[stable_order(keys, (hi - lo) * n_terms)])
    return (
        np.concatenate(out_l).astype(np.int64),
        np.concatenate(out_t).astype(np.int64),
        np.concatenate(out_k).astype(np.int64),
        np.concatenate(out_g).astype(np.int64, copy=False) if with_genes else None,
    )


def _count_sparse(
    prepared: PreparedLibrary, cols: np.ndarray, sizes: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The sparse product over the genes the chunk uses, entries in (list, term) order.

    Only the used genes' rows of the (genes x terms) matrix are built: a library of
    500k sets holds ~90M memberships, a chunk of lists touches a few million.
    """
    import scipy.sparse as sp

    lib = prepared.library
    n_terms = len(lib)
    col_ptr, col_terms = lib.gene_terms
    used, local = np.unique(cols, return_inverse=True)
    starts = col_ptr[used]
    lens = col_ptr[used + 1] - starts
    sub_ptr = np.zeros(len(used) + 1, dtype=np.int64)
    np.cumsum(lens, out=sub_ptr[1:])
    big = max(int(sub_ptr[-1]), len(cols), n_terms) >= 2**31 - 1
    itype = np.int64 if big else np.int32
    ptr = np.zeros(len(sizes) + 1, dtype=itype)
    np.cumsum(sizes, out=ptr[1:])
    lists = sp.csr_matrix(
        (np.ones(len(cols), dtype=np.int32), local.ravel().astype(itype), ptr),
        shape=(len(sizes), len(used)),
    )
    gene_terms = sp.csr_matrix(
        (
            np.ones(int(sub_ptr[-1]), dtype=np.int32),
            col_terms[spans(starts, lens)].astype(itype, copy=False),
            sub_ptr.astype(itype),
        ),
        shape=(len(used), n_terms),
    )
    prod = (lists @ gene_terms).tocsr()
    li = np.repeat(np.arange(len(sizes), dtype=np.int64), np.diff(prod.indptr))
    ti = prod.indices.astype(np.int64)
    # Columns come unsorted within a row; a stable radix sort by (list, term) is cheaper
    # than scipy's sort and gives the numpy path's order.
    order = stable_order(li * n_terms + ti, len(sizes) * n_terms)
    return li[order], ti[order], prod.data.astype(np.int64)[order]


def dense_overlaps(prepared: PreparedLibrary, columns: Sequence[np.ndarray]) -> np.ndarray:
    """Dense (lists x terms) overlap counts of the given sets of library gene indices."""
    li, ti, k = count_overlaps(prepared, columns)
    out = np.zeros((len(columns), len(prepared.library.terms)), dtype=np.int64)
    out[li, ti] = k
    return out


def _tails(
    li: np.ndarray, k: np.ndarray, ti: np.ndarray, list_sizes: np.ndarray, prepared: PreparedLibrary
) -> tuple[np.ndarray, np.ndarray, TableIds]:
    """``log P(X >= k)`` per entry, the dense rank of that value, and the entries' tables.

    A chunk of lists holds few distinct tables ``(k, K, n)``: they are found with a dense
    lookup over small integer ids (no sort of all entries), computed once each with
    :func:`~gsea_plus.stats.hypergeom_logsf` (element-wise, so the values are the same
    whatever else is in the chunk), and gathered back.
    """
    n_vals, n_inv = np.unique(list_sizes, return_inverse=True)
    k_vals, k_inv = prepared.size_ids
    n_id = n_inv.ravel()[li]
    big_k_id = k_inv[ti]
    width = int(k.max()) + 1
    key = (n_id * len(k_vals) + big_k_id) * width + k
    space = len(n_vals) * len(k_vals) * width
    if space <= max(4 * len(key), 1 << 22):
        seen = np.zeros(space, dtype=bool)
        seen[key] = True
        ukeys = np.flatnonzero(seen)
        inverse = None
    else:
        ukeys, inverse = np.unique(key, return_inverse=True)
    uk = ukeys % width
    rest = ukeys // width
    u_log_p = hypergeom_logsf(
        uk, k_vals[rest % len(k_vals)], n_vals[rest // len(k_vals)], prepared.background_size
    )
    _, u_rank = np.unique(u_log_p, return_inverse=True)
    u_rank = u_rank.ravel()
    if inverse is None:
        ids = np.empty(space, dtype=np.int64)
        ids[ukeys] = np.arange(len(ukeys))
        inverse = ids[key]
    else:
        inverse = inverse.ravel()
    tables = TableIds(
        entry=inverse,
        k=uk,
        big_k=k_vals[rest % len(k_vals)],
        n=n_vals[rest // len(k_vals)],
        log_p=u_log_p,
    )
    return u_log_p[inverse], u_rank[inverse], tables


def score_lists(
    prepared: PreparedLibrary,
    matches: Sequence[ListMatch],
    *,
    correction: str = "fdr_bh",
    with_genes: bool = False,
) -> Scores:
    """Test every list of a chunk against every term: the shared engine of enrich and batch.

    P-values are computed only for entries with overlap >= 1; multiple testing runs per
    list over those entries (:func:`~gsea_plus.stats.adjust_pvalues_grouped`, identical
    to statsmodels per list). ``with_genes`` keeps each entry's overlapping genes from the
    counting walk (:attr:`Scores.genes`), for tables that output most entries.
    """
    li, ti, k, hits = _count_overlaps(prepared, [m.columns for m in matches], with_genes=with_genes)
    genes = None
    if hits is not None:
        ptr = np.zeros(len(k) + 1, dtype=np.int64)
        np.cumsum(k, out=ptr[1:])
        genes = Ragged(prepared.library.gene_names, hits, ptr)
    if not prepared.term_mask.all():
        keep = prepared.term_mask[ti]
        li, ti, k = li[keep], ti[keep], k[keep]
        if genes is not None:
            genes = genes.take(np.flatnonzero(keep))
    big_k = prepared.term_sizes[ti]
    list_sizes = np.array([m.size for m in matches], dtype=np.int64)
    n = list_sizes[li]
    big_n = prepared.background_size
    tables = None
    if len(k):
        log_p, rank, tables = _tails(li, k, ti, list_sizes, prepared)
        n_ranks, n_terms = int(rank.max()) + 1, len(prepared.library)
        if _sorted_by_list_and_term(li, ti, n_terms) and len(matches) * n_ranks < 1 << 62:
            # entries come by (list, term): a stable radix sort by (list, rank of p) gives
            # (list, p, term) without comparing terms (16-bit passes)
            order = stable_order(li * n_ranks + rank, len(matches) * n_ranks)
        elif len(matches) * n_ranks * n_terms < 1 << 62:
            # One integer key (list, rank of p, term) when it fits, else a lexsort.
            order = np.argsort((li * n_ranks + rank) * n_terms + ti)
        else:
            order = np.lexsort((ti, rank, li))
    else:
        log_p = np.zeros(0, dtype=np.float64)
        order = np.zeros(0, dtype=np.int64)
    bounds = np.searchsorted(li, np.arange(len(matches) + 1))
    adjusted = np.empty_like(log_p)
    adjusted[order] = adjust_pvalues_grouped(np.exp(log_p)[order], bounds, correction)
    return Scores(li, ti, k, big_k, n, log_p, adjusted, big_n, order, tables, genes)


def _sorted_by_list_and_term(li: np.ndarray, ti: np.ndarray, n_terms: int) -> bool:
    """Whether entries are in (list, term) order (the numpy count's order; not the sparse)."""
    if len(li) < 2:
        return True
    key = li * n_terms + ti
    return bool((key[1:] > key[:-1]).all())


def overlap_genes_many(
    prepared: PreparedLibrary,
    columns: Sequence[np.ndarray],
    owner: np.ndarray,
    terms: np.ndarray,
) -> list[str]:
    """``;``-joined overlapping genes of list ``owner[i]`` with term ``terms[i]``, per row.

    Parameters
    ----------
    prepared
        The prepared library.
    columns
        Sorted library gene indices of each list (:attr:`ListMatch.columns`).
    owner
        For each row, the position in ``columns`` of its list.
    terms
        For each row, its term index.
    """
    if len(terms) == 0:
        return []
    hits, offsets = overlap_gene_indices(prepared, columns, owner, terms)
    return Ragged(prepared.library.gene_names, hits, offsets).materialize().tolist()


def overlap_gene_indices(
    prepared: PreparedLibrary,
    columns: Sequence[np.ndarray],
    owner: np.ndarray,
    terms: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The overlapping genes of each row as library gene indices, in library order.

    Parameters are those of :func:`overlap_genes_many`.

    Returns
    -------
    genes, offsets
        Row ``i``'s genes are ``genes[offsets[i]:offsets[i + 1]]`` (ascending).
    """
    lib = prepared.library
    offsets = np.zeros(len(terms) + 1, dtype=np.int64)
    if len(terms) == 0:
        return np.zeros(0, dtype=np.int64), offsets
    terms = np.asarray(terms, dtype=np.int64)
    owner = np.asarray(owner, dtype=np.int64)
    sizes = np.array([len(c) for c in columns], dtype=np.int64)
    cols = np.concatenate([np.asarray(c, dtype=np.int64) for c in columns])
    col_ptr, _ = lib.gene_terms
    # Two ways to the same genes (in library order): walk each output term's genes and
    # keep the list's, or walk each list gene's terms and keep the output rows'. The first
    # is cheaper for a few rows per list (--top), the second for all rows.
    by_term = int((lib.indptr[terms + 1] - lib.indptr[terms]).sum())
    by_list = int((col_ptr[cols + 1] - col_ptr[cols]).sum())
    if by_list < by_term:
        hits, counts = _overlaps_by_list(prepared, cols, sizes, owner, terms)
    else:
        hits, counts = _overlaps_by_term(prepared, cols, sizes, owner, terms)
    np.cumsum(counts, out=offsets[1:])
    return hits.astype(np.int64, copy=False), offsets


#: Entries handled per block when building gene strings (bounds memory).
_GENE_BLOCK = 1 << 22


def _overlaps_by_term(prepared, cols, sizes, owner, terms):
    """Per row, the list genes among the term's genes: (gene indices by row, counts)."""
    lib = prepared.library
    n_genes, n_lists = len(lib.genes), len(sizes)
    members = cols + np.repeat(np.arange(n_lists, dtype=np.int64) * n_genes, sizes)
    # 32-bit indices where they fit: this walk is memory-bound.
    itype = np.int32 if n_lists * n_genes < 2**31 and len(lib.indices) < 2**31 else np.int64
    indices = lib.indices.astype(itype, copy=False)
    own = owner.astype(itype)
    dense = n_lists * n_genes <= 1 << 26  # a membership mask of <= 64 MB
    if dense:
        inlist = np.zeros(n_lists * n_genes, dtype=bool)
        inlist[members] = True
    all_lens = lib.indptr[terms + 1] - lib.indptr[terms]
    ends = np.cumsum(all_lens)
    hits, counts = [], []
    a = 0
    while a < len(terms):
        base = int(ends[a - 1]) if a else 0
        b = max(a + 1, int(np.searchsorted(ends, base + _GENE_BLOCK, side="right")))
        starts = lib.indptr[terms[a:b]].astype(itype)
        lens = all_lens[a:b].astype(itype)
        total = int(lens.sum())
        offsets = np.repeat(starts - np.cumsum(lens, dtype=itype) + lens, lens)
        offsets += np.arange(total, dtype=itype)
        entries = indices[offsets]
        row = np.repeat(np.arange(b - a, dtype=itype), lens)
        probe = own[a:b][row] * itype(n_genes) + entries
        if dense:
            hit = inlist[probe]
        elif len(members) == 0:
            hit = np.zeros(len(probe), dtype=bool)
        else:
            pos = np.minimum(np.searchsorted(members, probe), len(members) - 1)
            hit = members[pos] == probe
        hits.append(entries[hit])
        counts.append(np.bincount(row[hit], minlength=b - a))
        a = b
    return np.concatenate(hits), np.concatenate(counts)


def _overlaps_by_list(prepared, cols, sizes, owner, terms):
    """Per row, the list genes whose terms include the row's term (same result as by term)."""
    lib = prepared.library
    n_terms, n_lists = len(lib.terms), len(sizes)
    col_ptr, col_terms = lib.gene_terms
    n_rows = len(terms)
    # (list, term) -> output row; -1 where the cell is not output.
    if n_lists * n_terms <= 1 << 25:
        table = np.full(n_lists * n_terms, -1, dtype=np.int64)
        table[owner * n_terms + terms] = np.arange(n_rows)

        def lookup(keys):
            return table[keys]
    else:
        row_keys = owner * n_terms + terms
        by_key = np.argsort(row_keys)
        sorted_keys = row_keys[by_key]

        def lookup(keys):
            pos = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
            return np.where(sorted_keys[pos] == keys, by_key[pos], -1)

    degree = col_ptr[cols + 1] - col_ptr[cols]
    list_of_col = np.repeat(np.arange(n_lists, dtype=np.int64), sizes)
    ends = np.cumsum(degree)
    rows_parts, genes_parts = [], []
    a = 0
    while a < len(cols):  # blocks of list genes, in order (list, then gene)
        base = int(ends[a - 1]) if a else 0
        b = max(a + 1, int(np.searchsorted(ends, base + _GENE_BLOCK, side="right")))
        starts, lens = col_ptr[cols[a:b]], degree[a:b]
        total = int(lens.sum())
        offsets = np.repeat(starts - np.cumsum(lens) + lens, lens) + np.arange(total)
        keys = np.repeat(list_of_col[a:b], lens) * n_terms + col_terms[offsets]
        row = lookup(keys)
        keep = row >= 0
        rows_parts.append(row[keep])
        genes_parts.append(np.repeat(cols[a:b], lens)[keep])
        a = b
    rows = np.concatenate(rows_parts) if rows_parts else np.zeros(0, np.int64)
    gene_of = np.concatenate(genes_parts) if genes_parts else np.zeros(0, np.int64)
    # A stable sort by row keeps each row's genes in list order (ascending gene index).
    order = np.argsort(rows, kind="stable")
    return gene_of[order], np.bincount(rows, minlength=n_rows)


def result_columns(
    prepared: PreparedLibrary,
    scores: Scores,
    sel: np.ndarray,
    columns: Sequence[np.ndarray],
    owner: np.ndarray,
) -> dict[str, np.ndarray]:
    """The result columns (:data:`COLUMNS`) of the entries ``sel`` of ``scores``.

    Parameters
    ----------
    prepared
        The prepared library.
    scores
        Entries (list, term) with their overlaps, p-values and adjusted p-values.
    sel
        The entries to output, in output order.
    columns
        Per list, its library gene indices (for the ``Genes`` strings).
    owner
        Per output row, the position of its list in ``columns``.
    """
    return dict(result_table(prepared, scores, sel, columns, owner).items())


def result_table(
    prepared: PreparedLibrary,
    scores: Scores,
    sel: np.ndarray,
    columns: Sequence[np.ndarray],
    owner: np.ndarray,
) -> ResultTable:
    """:func:`result_columns` with ``Term``, ``Overlap``, ``Genes`` and ``Library`` encoded.

    The strings are not built: the table holds term codes, overlap counts and the
    overlapping genes' indices (:mod:`gsea_plus.columnar`), which a batch writer turns
    into text or Arrow arrays in bulk. Read as a mapping, it gives the same columns as
    :func:`result_columns`.
    """
    lib = prepared.library
    n = len(sel)
    terms = scores.term_idx[sel]
    if scores.genes is not None:  # kept by score_lists: only reordered here
        genes = scores.genes.take(sel)
    else:
        hits, offsets = overlap_gene_indices(prepared, columns, owner, terms)
        genes = Ragged(lib.gene_names, hits, offsets)
    big_n = prepared.background_size
    if scores.tables is not None:
        # every column but the adjusted p-value is a function of the entry's table (k, K, n):
        # computed once per table (the same floating-point operations), gathered on use
        t = scores.tables
        row = t.entry[sel]
        odds = odds_ratio(t.k, t.big_k, t.n, big_n)
        overlap = [f"{a}/{b}" for a, b in zip(t.k.tolist(), t.big_k.tolist(), strict=True)]
        return ResultTable(
            {
                "Term": Codes(lib.terms, terms),
                "Overlap": Codes(np.array(overlap, dtype=object), row),
                "P-value": Codes(np.exp(t.log_p), row),
                "Adjusted P-value": scores.adjusted[sel],
                "Odds Ratio": Codes(odds, row),
                "Combined Score": Codes(combined_score(t.log_p, odds), row),
                "Genes": genes,
                "Library": Codes(np.full(len(t.k), lib.name, dtype=object), row),
                "Log10 P-value": Codes(t.log_p / np.log(10.0), row),
                "Overlap Size": Codes(t.k, row),
                "Term Size": Codes(t.big_k, row),
                "List Size": Codes(t.n, row),
                "Background Size": Codes(np.full(len(t.k), big_n, dtype=np.int64), row),
            },
            n,
        )
    k, big_k, log_p = scores.overlap[sel], scores.term_size[sel], scores.log_p[sel]
    list_size = scores.list_size[sel]
    odds = odds_ratio(k, big_k, list_size, big_n)
    return ResultTable(
        {
            "Term": Codes(lib.terms, terms),
            "Overlap": Pairs(k, big_k),
            "P-value": np.exp(log_p),
            "Adjusted P-value": scores.adjusted[sel],
            "Odds Ratio": odds,
            "Combined Score": combined_score(log_p, odds),
            "Genes": genes,
            "Library": Codes(np.array([lib.name], dtype=object), np.zeros(n, dtype=np.int64)),
            "Log10 P-value": log_p / np.log(10.0),
            "Overlap Size": k,
            "Term Size": big_k,
            "List Size": list_size,
            "Background Size": np.full(n, big_n, dtype=np.int64),
        },
        n,
    )


def keep_top(owner: np.ndarray, top: int | None) -> np.ndarray:
    """Mask of the rows to keep: the first ``top`` rows of each list.

    ``owner`` gives each row's list; rows are grouped by list in ascending list order
    and sorted within a list (best first). ``top=None`` keeps every row.
    """
    if top is None:
        return np.ones(len(owner), dtype=bool)
    first = np.searchsorted(owner, owner, side="left")
    return np.arange(len(owner)) - first < top


def table_for_lists(
    prepared: PreparedLibrary,
    scores: Scores,
    matches: Sequence[ListMatch],
    *,
    min_overlap: int = 1,
    top: int | None = None,
    encoded: bool = False,
) -> tuple[Mapping[str, np.ndarray], np.ndarray]:
    """The result columns for every list of a chunk, list after list, each sorted by p.

    Rows are sorted by p-value (the exact log p), ties by term order; each list's rows are
    the same whatever else is in the chunk. With ``top`` only each list's first ``top``
    rows are kept, before the gene strings are built. ``encoded`` returns a
    :class:`~gsea_plus.columnar.ResultTable` (:func:`result_table`) instead of a dict.

    Returns
    -------
    table, owner
        The columns, and for each row the position of its list in ``matches``.
    """
    sel = scores.order[scores.overlap[scores.order] >= min_overlap]
    owner = scores.list_idx[sel]
    keep = keep_top(owner, top)
    sel, owner = sel[keep], owner[keep]
    build = result_table if encoded else result_columns
    table = build(prepared, scores, sel, [m.columns for m in matches], owner)
    return table, owner


@dataclass
class EvidenceTable:
    """What an :class:`Evidence` makes of a chunk of lists against one library.

    Attributes
    ----------
    table
        Result columns, list after list (chunk order), each list sorted by its p-value.
    owner
        For each row, the position of its list in the chunk.
    tested
        Per list, the number of terms tested (the multiple-testing family).
    significant
        Per list, the number of terms with adjusted p < :data:`SIGNIFICANT`.
    """

    table: Mapping[str, np.ndarray]
    owner: np.ndarray
    tested: np.ndarray
    significant: np.ndarray


class Evidence(Protocol):
    """How a library's result rows are made from the classical scores of a chunk of lists.

    :class:`ClassicalEvidence` reports the classical test; the model's evidence
    (:class:`gsea_plus.evidence.ModelEvidence`) adds the gene set model's. The API picks
    one per library; :func:`gsea_plus.api.enrich` and the batch engines call it alike.
    """

    @property
    def method(self) -> str:
        """The ``Method`` of the rows ("" for classical)."""
        ...

    def tables(
        self,
        prepared: PreparedLibrary,
        scores: Scores,
        matches: Sequence[ListMatch],
        *,
        correction: str,
        min_overlap: int,
        top: int | None,
    ) -> EvidenceTable:
        """The result rows of every list of the chunk."""
        ...

    def chunk_limit(self) -> int | None:
        """The most lists a chunk should hold (memory), or ``None`` for no limit."""
        ...

    def recognized(self, matches: Sequence[ListMatch]) -> np.ndarray:
        """Per list, whether this evidence can test it (it knows one of its genes)."""
        ...


@dataclass(frozen=True)
class ClassicalEvidence:
    """The classical one-sided Fisher test of each list against each term.

    Its tables are :class:`~gsea_plus.columnar.ResultTable` objects (``encoded``): the
    same columns as a dict of arrays when read, written in bulk by the writers
    (``encoded=False`` gives plain dicts).
    """

    method: str = ""
    encoded: bool = True

    def tables(
        self,
        prepared: PreparedLibrary,
        scores: Scores,
        matches: Sequence[ListMatch],
        *,
        correction: str,
        min_overlap: int,
        top: int | None,
    ) -> EvidenceTable:
        """:func:`table_for_lists`, with each list's tested and significant counts."""
        table, owner = table_for_lists(
            prepared, scores, matches, min_overlap=min_overlap, top=top, encoded=self.encoded
        )
        n = len(matches)
        shown = scores.overlap >= min_overlap
        return EvidenceTable(
            table=table,
            owner=owner,
            tested=np.bincount(scores.list_idx, minlength=n),
            significant=np.bincount(
                scores.list_idx[shown & (scores.adjusted < SIGNIFICANT)], minlength=n
            ),
        )

    def chunk_limit(self) -> int | None:
        """No limit: the chunk size bounds the classical tables already."""
        return None

    def recognized(self, matches: Sequence[ListMatch]) -> np.ndarray:
        """Lists with a gene in the library (the others have nothing to test)."""
        return np.array([len(m.columns) > 0 for m in matches], dtype=bool)


def enrich_chunk(
    prepared: PreparedLibrary,
    evidence: Evidence,
    matches: Sequence[ListMatch],
    *,
    correction: str,
    min_overlap: int,
    top: int | None,
) -> tuple[Scores, EvidenceTable]:
    """Score a chunk of matched lists and make their rows: the one path of enrich and batch."""
    # all rows: the genes of every entry come with the counting; a few rows per list
    # (--top) are cheaper to look up afterwards
    scores = score_lists(prepared, matches, correction=correction, with_genes=top is None)
    table = evidence.tables(
        prepared, scores, matches, correction=correction, min_overlap=min_overlap, top=top
    )
    return scores, table


def concat_tables(tables: Sequence[Mapping[str, np.ndarray]]) -> Mapping[str, np.ndarray]:
    """Concatenate result tables and sort all rows by p-value (stable).

    Encoded tables (:class:`~gsea_plus.columnar.ResultTable`) stay encoded.
    """
    if len(tables) == 1:
        return tables[0]
    if all(isinstance(t, ResultTable) for t in tables):
        encoded = ResultTable.concat(tables)  # type: ignore[arg-type]
        return encoded.take(np.argsort(encoded["Log10 P-value"], kind="stable"))
    merged = {c: np.concatenate([t[c] for t in tables]) for c in tables[0]}
    order = np.argsort(merged["Log10 P-value"], kind="stable")
    return {c: v[order] for c, v in merged.items()}


def to_frame(table: Mapping[str, np.ndarray]):
    """A pandas DataFrame with the table's columns in order.

    Where pandas keeps strings in Arrow arrays (its default from 3.0), the text columns
    of an encoded table go to it as Arrow arrays, not through Python strings: the same
    frame.
    """
    import pandas as pd

    if isinstance(table, ResultTable) and table.rows:
        dtype = _arrow_str_dtype()
        if dtype is not None:
            data = {
                c: pd.array(arrow_text(table, c), dtype=dtype) if is_text(table, c) else table[c]
                for c in table
            }
            return pd.DataFrame(data, columns=list(table))
    return pd.DataFrame({c: table[c] for c in table}, columns=list(table))


_STR_DTYPE: list = []


def _arrow_str_dtype():
    """The default pandas string dtype when it is stored in Arrow arrays, else ``None``."""
    if not _STR_DTYPE:
        import pandas as pd

        dtype = pd.Series(["x"]).dtype
        arrow = isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"
        _STR_DTYPE.append(dtype if arrow else None)
    return _STR_DTYPE[0]


def warn_unmatched(match: ListMatch, prepared: PreparedLibrary, *, label: str = "") -> None:
    """Log which input genes were not used or not annotated: never dropped silently."""
    where = f"{label}: " if label else ""
    lib = prepared.library.name
    conversion = match.conversion
    if conversion is not None:
        if conversion.converted:
            pairs = [f"{t}->{s}" for t, (s, _) in conversion.converted.items()]
            log.info("%sidentifiers converted to current symbols: %s", where, _preview(pairs))
        if conversion.ambiguous:
            items = [f"{k} ({'|'.join(v)})" for k, v in conversion.ambiguous.items()]
            log.warning(
                "%s%d ambiguous identifiers (several genes) left as they are: %s",
                where,
                len(items),
                _preview(items),
            )
        if conversion.hint:
            log.warning("%s%s", where, conversion.hint)
    for orig, new in match.mangled.items():
        log.info("%s%s resolved to %s", where, orig, new)
    if match.aliases:
        log.warning(
            "%s%d genes matched through HGNC aliases/previous symbols: %s",
            where,
            len(match.aliases),
            _preview([f"{a}->{b}" for a, b in match.aliases.items()]),
        )
    if match.unrecognized:
        scope = "the background" if prepared.kind == "genes" else f"library {lib}"
        log.warning(
            "%s%d of %d genes not in %s (not tested): %s",
            where,
            len(match.unrecognized),
            len(match.genes),
            scope,
            _preview(match.unrecognized),
        )
    if match.outside_library:
        log.warning(
            "%s%d genes are in no term of %s (counted in the list size): %s",
            where,
            len(match.outside_library),
            lib,
            _preview(match.outside_library),
        )


def _preview(genes: list[str], limit: int = 20) -> str:
    shown = ", ".join(genes[:limit])
    return shown + (f", ... (+{len(genes) - limit})" if len(genes) > limit else "")
