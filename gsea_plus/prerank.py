"""Preranked gene set enrichment (GSEA's running sum), vectorized over terms.

For a signature sorted by score (descending), the enrichment score (ES) of a term is the
maximum deviation from zero of the weighted running sum: walking down the ranking it rises
by ``|s_i|^w / sum over the term's genes of |s|^w`` at each gene of the term and falls by
``1 / (N - m)`` at every other gene (``N`` signature genes, ``m`` term genes in it, weight
``w = 1`` as in GSEA preranked). Its extremes occur right after or right before a hit, so
the ES of every term comes from the hit positions alone: one segmented pass over all terms.

Null and p-values (the approach of blitzgsea, Lachmann et al. 2022, implemented here):
for a grid of set sizes ("anchors"), the ES of ``permutations`` random gene sets of that
size are computed (the same vectorized code); a gamma distribution is fitted (maximum
likelihood, location 0) to the positive ES and, separately, to the absolute negative ES.
The parameters are interpolated in log size to each term's size. A positive ES gets
``p = P(ES_null >= ES | ES_null > 0)``, a negative one the mirror, i.e. GSEA's
sign-conditional p-value, but from the fitted tail so that it does not stop at
``1/permutations``. NES = ES / mean of the same-sign null ES (GSEA's normalization).
FDR: Benjamini-Hochberg over all tested terms.

Input (:func:`read_signature`): a two-column file (gene, score) or a table of
differential expression; DESeq2, limma, edgeR and Seurat tables are recognised by their
headers and scored by their signed statistic (``stat``, ``t``) or fold change
(``logFC``, ``avg_log2FC``), another table by ``score=``. Before matching, identifiers
are converted per library as gene lists are (:func:`match_signature`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gsea_plus.errors import InputError

log = logging.getLogger(__name__)

__all__ = [
    "GENE_COLUMNS",
    "NA_VALUES",
    "PRERANK_COLUMNS",
    "PrerankInfo",
    "Signature",
    "SignatureMatch",
    "SignatureSource",
    "enrichment_scores",
    "match_signature",
    "prerank",
    "prerank_table",
    "read_signature",
    "running_sum",
    "segment_es",
]

PRERANK_COLUMNS = [
    "Term",
    "ES",
    "NES",
    "P-value",
    "FDR",
    "Size",
    "Leading Edge Size",
    "Leading Edge",
    "Library",
]


@dataclass(frozen=True)
class SignatureSource:
    """How :func:`read_signature` read a signature: which table, which columns.

    Attributes
    ----------
    kind
        ``"two-column"`` (gene, score), ``"DESeq2"``, ``"limma"``, ``"edgeR"``,
        ``"Seurat"``, ``"scanpy"``, ``"table"`` (another table) or ``"pairs"`` (a mapping
        or pairs).
    score_column, gene_column
        The columns used, as named in the header (``"row names"`` for R's unnamed
        first column); ``""`` for a mapping.
    score_position, gene_position
        Their 1-based column numbers in the file (0 when not from a table).
    rows
        Data rows read.
    missing
        Rows dropped for a missing score (``NA``, empty, infinite) or a missing gene.
    note
        What the reader should know about the choice (e.g. that edgeR has no signed
        statistic).
    chosen
        ``"option"`` when ``score=`` picked the column, ``"header"`` when the table was
        recognised by its header, ``"only"`` when it had one numeric column.
    """

    kind: str
    score_column: str = ""
    gene_column: str = ""
    score_position: int = 0
    gene_position: int = 0
    rows: int = 0
    missing: int = 0
    note: str = ""
    chosen: str = ""

    def describe(self) -> str:
        """One line: the table kind and the columns used (what the CLI prints)."""
        if self.kind == "pairs":
            text = "gene/score pairs"
        else:
            what = {
                "two-column": "two-column file",
                "table": "table",
                "DESeq2": "DESeq2 results table",
                "limma": "limma topTable",
                "edgeR": "edgeR topTags table",
                "Seurat": "Seurat FindMarkers table",
                "scanpy": "scanpy rank_genes_groups_df table",
            }.get(self.kind, self.kind)
            text = (
                f"{what}; score: {_column_label(self.score_column, self.score_position)}, "
                f"genes: {_column_label(self.gene_column, self.gene_position)}"
            )
        if self.rows:
            text += f"; {self.rows:,} rows"
        if self.missing:
            text += f", {self.missing:,} without a score or gene dropped"
        if self.note:
            text += f" ({self.note})"
        return text


def _column_label(name: str, position: int) -> str:
    if name == ROW_NAMES:
        return f"the row names (column {position})"
    return f"'{name}' (column {position})" if name else f"column {position}"


@dataclass
class Signature:
    """A ranked signature: genes sorted by score, highest first (upper-case symbols).

    Attributes
    ----------
    genes, scores
        Genes (upper-cased identifiers) and their scores, by decreasing score.
    source
        How the signature was read (:class:`SignatureSource`), when
        :func:`read_signature` read it.
    duplicates
        Genes given more than once (each kept once, with its largest ``|score|``).
    original
        Upper-cased gene -> the identifier as typed, where they differ (for the hint
        that a signature looks like mouse symbols).
    """

    genes: np.ndarray
    scores: np.ndarray
    source: SignatureSource | None = field(default=None, compare=False, repr=False)
    duplicates: list[str] = field(default_factory=list, compare=False, repr=False)
    original: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_pairs(
        cls, pairs: Iterable[tuple[str, float]], *, source: SignatureSource | None = None
    ) -> Signature:
        """Build from (gene, score) pairs; duplicates keep the largest absolute score."""
        best: dict[str, float] = {}
        original: dict[str, str] = {}
        dups: dict[str, None] = {}
        for gene, score in pairs:
            typed = str(gene).strip()
            g = typed.upper()
            s = float(score)
            if not g or not np.isfinite(s):
                continue
            if g in best:
                dups[g] = None
                if abs(s) <= abs(best[g]):
                    continue
            elif typed != g:
                original[g] = typed
            best[g] = s
        if dups:
            log.warning("%d duplicate genes in the signature: kept the largest |score|", len(dups))
        if len(best) < 2:
            raise InputError("the signature needs at least 2 genes with finite scores")
        genes = np.array(list(best), dtype=str)
        scores = np.array(list(best.values()), dtype=np.float64)
        order = np.lexsort((genes, -scores))
        return cls(
            genes[order], scores[order], source=source, duplicates=list(dups), original=original
        )

    def __len__(self) -> int:
        return len(self.genes)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


#: Cells read as a missing value (upper-cased): R's NA, pandas' NaN, spreadsheets' #N/A.
NA_VALUES = frozenset({"", "NA", "NAN", "-NAN", "N/A", "#N/A", "NULL", "NONE", "<NA>"})
#: The name given to R's unnamed first column (row names) of a table.
ROW_NAMES = "row names"
#: Header names of a gene column, in order of preference (compared case-insensitively).
GENE_COLUMNS = (
    "gene",
    "genes",
    "symbol",
    "gene_symbol",
    "gene.symbol",
    "genesymbol",
    "gene_name",
    "genename",
    "hgnc_symbol",
    "external_gene_name",
    "gene_id",
    "geneid",
    "ensembl_gene_id",
    "ensembl_id",
    "ensembl",
    "entrez",
    "entrez_id",
    "entrezid",
    "entrezgene_id",
    "id",
    "feature",
    "feature_id",
    "name",
    "names",
)


def _is_na(text: str) -> bool:
    return text.strip().upper() in NA_VALUES


def read_signature(
    source: str | os.PathLike | Mapping[str, float] | Iterable | Any,
    *,
    score: str | int | None = None,
    gene_column: str | int | None = None,
) -> Signature:
    """Read a ranked signature from a file, a table, a mapping or (gene, score) pairs.

    Files (tab-, comma- or space-separated, quoted fields, gzip allowed, ``-`` for
    standard input) are read in one of two ways:

    - a **two-column file** (gene, score), with or without a header line (a first line
      whose score is not a number, or whose gene column is a number while the next
      line's is not, is a header), and ``#`` comments;
    - a **table** of more columns, e.g. written by R's ``write.csv`` / ``write.table``
      (an unnamed first column of row names) or pandas. DESeq2 ``results()``, limma
      ``topTable``, edgeR ``topTags``, Seurat ``FindMarkers`` and scanpy
      ``rank_genes_groups_df`` tables are recognised by their headers and scored by, in
      that order: ``stat`` (DESeq2's Wald statistic; ``log2FoldChange`` when there is no
      ``stat``, as after ``lfcShrink``, or when ``stat`` is unsigned, as after an LRT),
      ``t`` (limma), ``logFC`` (edgeR, which has no signed statistic), ``avg_log2FC``
      (Seurat) and ``scores`` (scanpy). Another table is scored by
      its only numeric column (or one named ``score``); with several, ``score`` must
      say which.

    Rows whose score is missing (``NA``, empty, ``NaN``, infinite) or whose gene is
    missing are dropped and counted (:attr:`SignatureSource.missing`). A gene given
    more than once keeps its largest ``|score|``.

    Parameters
    ----------
    source
        A path, ``"-"``, a ``{gene: score}`` mapping (or a pandas Series), (gene, score)
        pairs, or a pandas DataFrame (its index is the row-name column unless it is a
        plain range).
    score
        The score column of a table: a header name (exact, else case-insensitive) or a
        1-based column number (the row-name column, when there is one, is column 1).
        Default: chosen from the header as above.
    gene_column
        The gene column, likewise. Default: the row names (when not numbers), else a
        column named gene, symbol, gene_symbol, gene_name, gene_id, ensembl_gene_id,
        entrez_id, id, ... (:data:`GENE_COLUMNS`), else the first non-numeric column.

    Raises
    ------
    InputError
        Unreadable input, a column that does not exist or is not numeric, a table whose
        score column cannot be chosen (the message lists the columns), fewer than 2
        genes with a score.
    """
    if _is_frame(source):
        return _read_frame(source, score=score, gene_column=gene_column)
    if not isinstance(source, (str, os.PathLike)):
        if score is not None or gene_column is not None:
            raise InputError("score= and gene_column= choose columns of a table (a file)")
        items: Any = source.items() if hasattr(source, "items") else source  # mapping, Series
        return Signature.from_pairs(items, source=SignatureSource("pairs"))

    from gsea_plus.textio import read_user_text

    name = os.fspath(source)
    text = read_user_text(name, error=InputError, what="a signature file")
    label = "standard input" if name == "-" else name
    rows = _split_table(text, label)
    if not rows:
        raise InputError(f"{label}: the signature is empty")
    if score is None and gene_column is None and _two_columns(rows, text):
        return _read_two_columns(text, label)
    return _read_table(rows, label, score=score, gene_column=gene_column)


def _two_columns(rows: list[tuple[int, list[str]]], text: str) -> bool:
    """Whether a file is a (gene, score) file.

    At most two fields per row after the first, read as a table or split as gsea-plus
    always split them (``TP53 2.5  # a note``).
    """
    if max(len(r) for _, r in rows[1:] or rows) <= 2:
        return True
    import re

    lines = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    fields = [len(re.split(r"[\t, ]+", line)) for line in lines if line]
    return max(fields[1:] or fields) <= 2


def _read_two_columns(text: str, name: str) -> Signature:
    """A (gene, score) file, read as before tables were known.

    Fields are split at tabs, commas and spaces; the first is the gene, the last the score.
    """
    import re

    rows: list[tuple[int, list[str]]] = []
    empty = set()  # lines whose score field is there but empty ("TP53<TAB>")
    for lineno, raw in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if line:
            rows.append((lineno, [f.strip().strip('"') for f in re.split(r"[\t, ]+", line)]))
            if re.search(r"[\t,]\s*$", raw.split("#", 1)[0]):
                empty.add(lineno)
    if not rows:
        raise InputError(f"{name}: the signature is empty")
    first = rows[0][1]
    if (
        len(first) < 2
        or not (_is_number(first[-1]) or _is_na(first[-1]))
        or (_is_number(first[0]) and len(rows) > 1 and not _is_number(rows[1][1][0]))
    ):
        rows = rows[1:]
    pairs = []
    missing = 0
    for lineno, fields in rows:
        if lineno in empty and len(fields) == 1:
            fields = [*fields, ""]
        if len(fields) >= 2 and _is_na(fields[-1]):
            missing += 1
            continue
        if len(fields) < 2 or not _is_number(fields[-1]):
            raise InputError(f"{name}, line {lineno}: expected 'gene<TAB>score'")
        if not np.isfinite(float(fields[-1])):
            missing += 1
            continue
        pairs.append((fields[0], float(fields[-1])))
    if missing:
        log.warning("%s: %d rows without a score (NA) dropped", name, missing)
    source = SignatureSource(
        "two-column",
        score_position=2,
        gene_position=1,
        rows=len(rows),
        missing=missing,
    )
    return Signature.from_pairs(pairs, source=source)


def _split_table(text: str, name: str) -> list[tuple[int, list[str]]]:
    """Rows of fields (with their line numbers), comment and blank lines left out.

    The separator is a tab if any of the first lines holds one, else a comma if any
    does, else runs of spaces; fields may be quoted (``"a b"``, ``""`` for a quote).
    """
    import csv

    from gsea_plus.textio import split_rows

    lines = [
        (i, line.strip())
        for i, line in enumerate(split_rows(text.lstrip("\ufeff")), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    head = [line for _, line in lines[:50]]
    delimiter = (
        "\t" if any("\t" in s for s in head) else "," if any("," in s for s in head) else " "
    )
    reader = csv.reader(
        (line for _, line in lines), delimiter=delimiter, skipinitialspace=True, strict=True
    )
    try:
        parsed = [[f.strip() for f in row] for row in reader]
    except csv.Error as exc:
        raise InputError(f"{name}, line {lines[reader.line_num - 1][0]}: {exc}") from exc
    return [(lineno, row) for (lineno, _), row in zip(lines, parsed, strict=True)]


@dataclass
class _Table:
    """A table's columns as text, with their names (``None``: no header)."""

    names: list[str] | None
    columns: list[list[str]]
    lines: list[int]  # the file line of each data row
    numeric: list[bool]

    def label(self, j: int) -> str:
        return self.names[j] if self.names is not None else ""

    def listing(self) -> str:
        return ", ".join(
            f"{j + 1} {self.label(j) or '(no name)'!s}" + ("" if self.numeric[j] else " [text]")
            for j in range(len(self.columns))
        )


def _to_floats(values: Sequence[str]) -> tuple[np.ndarray, int | None]:
    """The cells as numbers (missing: NaN), and the first cell that is not a number.

    The index of the first cell neither a number nor a missing value; ``None`` when none.
    """
    import pandas as pd

    arr = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(np.float64)
    for i in np.flatnonzero(np.isnan(arr)).tolist():
        if not _is_na(values[i]):
            return arr, i
    return arr, None


def _numeric_column(values: Sequence[str]) -> bool:
    """Every cell a number or missing, and at least one number."""
    arr, bad = _to_floats(values)
    return bad is None and bool((~np.isnan(arr)).any())


def _parse_table(rows: list[tuple[int, list[str]]], name: str) -> _Table:
    from collections import Counter

    body = rows[1:] if len(rows) > 1 else rows
    width = Counter(len(r) for _, r in body).most_common(1)[0][0]
    for lineno, r in body:
        if len(r) != width:
            raise InputError(f"{name}, line {lineno}: {len(r)} fields where the table has {width}")
    columns = [[r[j] for _, r in body] for j in range(width)]
    numeric = [_numeric_column(c) for c in columns]
    first_line, first = rows[0]
    names: list[str] | None
    if len(rows) == 1:
        names = None
    elif len(first) == width - 1:  # R's write.table: no name for the row-name column
        names = [ROW_NAMES, *first]
    elif len(first) != width:
        raise InputError(
            f"{name}, line {first_line}: {len(first)} fields where the table has {width}"
        )
    elif (
        any(numeric[j] and not _is_number(first[j]) and not _is_na(first[j]) for j in range(width))
        or not any(numeric)
        # a header of numbers ("0,1", pandas' default names) over a column of text
        or any(
            _is_number(first[j]) and not any(_is_number(v) for v in columns[j][:100])
            for j in range(width)
        )
    ):
        names = list(first)
    else:
        names = None
    if names is None:
        columns = [[r[j] for _, r in rows] for j in range(width)]
        numeric = [_numeric_column(c) for c in columns]
        lines = [lineno for lineno, _ in rows]
    else:
        # write.csv writes "" as the row-name column's name; pandas "" or "Unnamed: 0"
        if names[0] in ("", "Unnamed: 0"):
            names[0] = ROW_NAMES
        lines = [lineno for lineno, _ in body]
    return _Table(names, columns, lines, numeric)


def _find_column(table: _Table, wanted: str | int, what: str, name: str) -> int:
    """A column by 1-based number or header name (exact, else case-insensitive)."""
    n = len(table.columns)
    text = str(wanted).strip()
    if isinstance(wanted, int) or text.isdigit():
        j = int(text)
        if not 1 <= j <= n:
            raise InputError(f"{name}: {what} {j}: the table has columns 1-{n} ({table.listing()})")
        return j - 1
    if table.names is not None:
        if text in table.names:
            return table.names.index(text)
        folded = [c.casefold() for c in table.names]
        if text.casefold() in folded:
            return folded.index(text.casefold())
        if text.casefold() in ("row names", "rownames", "") and table.names[0] == ROW_NAMES:
            return 0
    raise InputError(f"{name}: {what} {text!r} is not a column; columns: {table.listing()}")


# Recognised tables: the header names that identify them, their score column(s) in
# order of preference, and what the reader should be told.
def _recognise(table: _Table) -> tuple[str, int | None, str]:
    """The table kind, the index of its score column (None: not decided) and a note."""
    names = table.names or []
    index = {c.casefold(): j for j, c in reversed(list(enumerate(names)))}

    def has(*cols: str) -> bool:
        return all(c.casefold() in index for c in cols)

    def col(c: str) -> int:
        return index[c.casefold()]

    if has("baseMean", "log2FoldChange"):
        if has("stat") and table.numeric[col("stat")] and table.numeric[col("log2FoldChange")]:
            stat = _floats(table.columns[col("stat")])
            lfc = _floats(table.columns[col("log2FoldChange")])
            if np.nanmin(stat) >= 0 and np.nanmin(lfc) < 0:
                return (
                    "DESeq2",
                    col("log2FoldChange"),
                    "stat is never negative (a likelihood-ratio test?): ranked by log2FoldChange",
                )
            return "DESeq2", col("stat"), "stat: DESeq2's Wald statistic"
        return (
            "DESeq2",
            col("log2FoldChange"),
            "no stat column (lfcShrink?): ranked by log2FoldChange",
        )
    if has("logFC", "AveExpr"):
        if has("t"):
            return "limma", col("t"), "t: the moderated t-statistic"
        return "limma", col("logFC"), "no t column: ranked by logFC"
    if has("logFC", "logCPM"):
        return "edgeR", col("logFC"), "edgeR has no signed statistic: ranked by logFC"
    for fc in ("avg_log2FC", "avg_logFC"):
        if has(fc) and (has("p_val") or has("pct.1")):
            return "Seurat", col(fc), ""
    if has("names", "scores", "logfoldchanges"):
        return "scanpy", col("scores"), "scores: the test statistic of rank_genes_groups"
    return "table", None, ""


def _floats(values: Sequence[str]) -> np.ndarray:
    return _to_floats(values)[0]


def _is_row_number(values: Sequence[str]) -> bool:
    """A column of row numbers (0, 1, 2, ... or 1, 2, 3, ...), as pandas writes its index."""
    try:
        arr = np.asarray(values, dtype=str).astype(np.float64)
    except ValueError:
        return False
    return len(arr) > 1 and bool(np.all(np.diff(arr) == 1)) and arr[0] in (0.0, 1.0)


def _choose_gene_column(table: _Table, score_col: int) -> int:
    """The default gene column.

    The row names (unless numbers), a column named like genes, the first text column;
    else the first column that is not a row number (Entrez IDs in the row names).
    """
    names = table.names
    rows_named = names is not None and names[0] == ROW_NAMES and score_col != 0
    if rows_named and not table.numeric[0]:
        return 0
    if names is not None:
        folded = {c.casefold(): j for j, c in reversed(list(enumerate(names)))}
        for candidate in GENE_COLUMNS:
            j = folded.get(candidate)
            if j is not None and j != score_col:
                return j
    for j, is_num in enumerate(table.numeric):
        if not is_num and j != score_col:
            return j
    for j in range(len(table.columns)):
        if j != score_col and not _is_row_number(table.columns[j]):
            return j
    raise InputError("no column holds the genes: say which with --gene-column COLUMN")


def _read_table(
    rows: list[tuple[int, list[str]]],
    name: str,
    *,
    score: str | int | None,
    gene_column: str | int | None,
) -> Signature:
    return _read_parsed(_parse_table(rows, name), name, score=score, gene_column=gene_column)


def _read_parsed(
    table: _Table, name: str, *, score: str | int | None, gene_column: str | int | None
) -> Signature:
    if len(table.columns) < 2:
        raise InputError(f"{name}: one column only; a signature needs a gene and a score")
    kind, score_col, note = _recognise(table)
    chosen = "header"
    if score is not None:
        score_col = _find_column(table, score, "--score", name)
        chosen, note = "option", ""
    gene_col = (
        _find_column(table, gene_column, "--gene-column", name) if gene_column is not None else None
    )
    if score_col is None:
        candidates = [
            j
            for j, is_num in enumerate(table.numeric)
            if is_num and j != gene_col and (table.names is None or table.names[j] != ROW_NAMES)
        ]
        named = [
            j
            for j in candidates
            if table.names is not None and table.names[j].casefold() == "score"
        ]
        if len(named) == 1:
            score_col, chosen = named[0], "header"
        elif len(candidates) == 1:
            score_col, chosen = candidates[0], "only"
        else:
            which = "no numeric column" if not candidates else "several numeric columns"
            raise InputError(
                f"{name}: a table with {which}: say which is the score with --score COLUMN "
                f"(a name or a 1-based number). Columns: {table.listing()}"
            )
    if gene_col is None:
        gene_col = _choose_gene_column(table, score_col)
    if gene_col == score_col:
        raise InputError(f"{name}: the gene and score columns are the same (column {gene_col + 1})")
    values = table.columns[score_col]
    scores, bad = _to_floats(values)
    if bad is not None:
        raise InputError(
            f"{name}, line {table.lines[bad]}: the score column "
            f"{_column_label(table.label(score_col), score_col + 1)} holds {values[bad]!r}, "
            "not a number"
        )
    genes = table.columns[gene_col]
    keep = np.isfinite(scores) & np.array([not _is_na(g) for g in genes], dtype=bool)
    if kind in ("Seurat", "scanpy"):
        _check_one_group(table, name, "cluster" if kind == "Seurat" else "group")
    source = SignatureSource(
        kind,
        score_column=table.label(score_col),
        gene_column=table.label(gene_col),
        score_position=score_col + 1,
        gene_position=gene_col + 1,
        rows=len(values),
        missing=int((~keep).sum()),
        note=note,
        chosen=chosen,
    )
    if source.missing:
        log.info("%s: %d rows without a score or gene dropped", name, source.missing)
    pairs = [(g, s) for g, s, k in zip(genes, scores.tolist(), keep.tolist(), strict=True) if k]
    return Signature.from_pairs(pairs, source=source)


def _check_one_group(table: _Table, name: str, column: str) -> None:
    """A FindAllMarkers (or all-groups scanpy) table holds several comparisons."""
    names = [c.casefold() for c in table.names or []]
    if column in names:
        groups = sorted(set(table.columns[names.index(column)]))
        if len(groups) > 1:
            shown = ", ".join(groups[:8]) + (", ..." if len(groups) > 8 else "")
            what = "a FindAllMarkers table" if column == "cluster" else "a table"
            raise InputError(
                f"{name}: {what} with {len(groups)} {column}s ({shown}): a signature is one "
                f"comparison; keep the rows of one {column}"
            )


def _is_frame(source: object) -> bool:
    return type(source).__name__ == "DataFrame" and hasattr(source, "columns")


def _read_frame(frame: Any, *, score: str | int | None, gene_column: str | int | None) -> Signature:
    """A pandas DataFrame as a table: the index is the row-name column unless a range."""
    import pandas as pd

    frame = frame.copy()
    if not isinstance(frame.index, pd.RangeIndex):
        index_name = ROW_NAMES if frame.index.name is None else str(frame.index.name)
        frame.insert(0, index_name, frame.index, allow_duplicates=True)
    names = [str(c) for c in frame.columns]
    columns = []
    numeric = []
    for j in range(frame.shape[1]):
        col = frame.iloc[:, j]
        is_num = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
        numeric.append(bool(is_num and col.notna().any()))
        columns.append(["" if pd.isna(v) else str(v) for v in col.tolist()])
    table = _Table(names, columns, list(range(2, len(frame) + 2)), numeric)
    return _read_parsed(table, "the table", score=score, gene_column=gene_column)


def segment_es(
    ranks: np.ndarray, weights: np.ndarray, ptr: np.ndarray, n_genes: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ES of many hit sets given as concatenated sorted ranks (segments by ``ptr``).

    Returns the ES, and the index (into ``ranks``) of the hit at the peak for each set:
    the last leading-edge hit for a positive ES, the first for a negative one.
    """
    sizes = np.diff(ptr)
    seg = np.repeat(np.arange(len(sizes)), sizes)
    cum = np.cumsum(weights)
    base = np.concatenate(([0.0], cum))[ptr[:-1]]
    total = cum[ptr[1:] - 1] - base
    cumw = (cum - base[seg]) / total[seg]
    wn = weights / total[seg]
    j = np.arange(len(ranks)) - ptr[:-1][seg] + 1  # 1-based hit number in its set
    miss = 1.0 / (n_genes - sizes)[seg]
    after = cumw - (ranks + 1 - j) * miss
    before = cumw - wn - (ranks - (j - 1)) * miss
    starts = ptr[:-1]
    top = np.maximum.reduceat(after, starts)
    bottom = np.minimum.reduceat(before, starts)
    es = np.where(top >= -bottom, top, bottom)
    # Peak hit: first position in each segment where the extreme is reached.
    pos_hit = np.flatnonzero(after == top[seg])
    neg_hit = np.flatnonzero(before == bottom[seg])
    first_pos = np.full(len(sizes), -1, dtype=np.int64)
    first_neg = np.full(len(sizes), -1, dtype=np.int64)
    first_pos[seg[pos_hit][::-1]] = pos_hit[::-1]
    first_neg[seg[neg_hit][::-1]] = neg_hit[::-1]
    peak = np.where(es >= 0, first_pos, first_neg)
    return es, peak, sizes


def enrichment_scores(
    signature: Signature, sets: Sequence[np.ndarray], *, weight: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """ES of each set of signature positions; also the peak hit index within each set."""
    if not sets:
        return np.zeros(0), np.zeros(0, dtype=np.int64)
    ranks = np.concatenate([np.sort(s) for s in sets]).astype(np.int64)
    ptr = np.zeros(len(sets) + 1, dtype=np.int64)
    np.cumsum([len(s) for s in sets], out=ptr[1:])
    w = np.abs(signature.scores) ** weight
    es, peak, _ = segment_es(ranks, w[ranks], ptr, len(signature))
    return es, np.where(peak >= 0, peak - ptr[:-1], -1)


def _random_prefixes(n: int, longest: int, permutations: int, rng) -> np.ndarray:
    """``permutations`` rows, each the first ``longest`` genes of a random ordering.

    The first ``m`` entries of a row are a uniform random ``m``-subset for every ``m``,
    so one draw serves all anchor sizes (the anchors' nulls share their random genes,
    which also makes the fitted parameters vary smoothly with size). Drawn by the first
    ``longest`` steps of a Fisher-Yates shuffle, vectorized over rows: ``longest`` random
    integers per row instead of ``n`` random keys and a partial sort.
    """
    out = np.empty((permutations, longest), dtype=np.int64)
    block = max(1, (1 << 22) // max(n, 1))
    itype = np.int32 if n < 2**31 else np.int64
    for lo in range(0, permutations, block):
        rows = min(block, permutations - lo)
        deck = np.tile(np.arange(n, dtype=itype), (rows, 1))
        picks = rng.integers(np.arange(longest), n, size=(rows, longest))
        at = np.arange(rows)
        for k in range(longest):
            j = picks[:, k]
            drawn = deck[at, j]
            deck[at, j] = deck[:, k]
            deck[:, k] = drawn
        out[lo : lo + rows] = deck[:, :longest]
    return out


def _null_es(abs_w: np.ndarray, prefixes: np.ndarray, size: int) -> np.ndarray:
    """ES of the random sets ``prefixes[:, :size]``: :func:`segment_es` on equal segments.

    All sets have ``size`` genes, so the running sums are rows of a matrix (no segment
    indices to build and gather).
    """
    n = len(abs_w)
    hits = np.sort(prefixes[:, :size], axis=1)
    w = abs_w[hits]
    cumw = np.cumsum(w, axis=1)
    total = cumw[:, -1:].copy()
    cumw /= total
    miss = 1.0 / (n - size)
    j = np.arange(1, size + 1)
    after = cumw - (hits + 1 - j) * miss
    top = after.max(axis=1)
    cumw -= w / total
    cumw -= (hits - (j - 1)) * miss
    bottom = cumw.min(axis=1)
    return np.where(top >= -bottom, top, bottom)


@dataclass
class GammaNull:
    """Gamma fits of the null ES at anchor sizes, interpolated in log size."""

    sizes: np.ndarray
    pos_shape: np.ndarray
    pos_scale: np.ndarray
    neg_shape: np.ndarray
    neg_scale: np.ndarray
    pos_mean: np.ndarray
    neg_mean: np.ndarray

    def params(self, size: np.ndarray) -> dict[str, np.ndarray]:
        """Interpolated parameters for each size."""
        x = np.log(np.asarray(size, dtype=np.float64))
        xs = np.log(self.sizes)
        return {
            name: np.interp(x, xs, getattr(self, name))
            for name in ("pos_shape", "pos_scale", "neg_shape", "neg_scale", "pos_mean", "neg_mean")
        }


def fit_null(
    signature: Signature,
    sizes: np.ndarray,
    *,
    permutations: int = 2000,
    anchors: int = 30,
    weight: float = 1.0,
    seed: int = 0,
) -> GammaNull:
    """Fit the gamma null at a grid of sizes spanning ``sizes`` (kept for reruns)."""
    lo, hi = int(sizes.min()), int(sizes.max())
    grid = np.unique(np.round(np.geomspace(max(lo, 1), max(hi, 1), anchors)).astype(int))
    grid = grid[grid < len(signature)]
    if len(grid) == 0:
        raise InputError("every term is as large as the signature")
    # the null depends only on the signature's weights and these settings: a rerun (or
    # another library with the same size range) reuses it, as blitzgsea does
    import hashlib

    digest = hashlib.sha1(np.ascontiguousarray(signature.scores).tobytes()).hexdigest()
    key = (digest, len(signature), tuple(grid.tolist()), permutations, weight, seed)
    cached = _NULLS.get(key)
    if cached is not None:
        return cached
    null = _fit_null(signature, grid, permutations=permutations, weight=weight, seed=seed)
    if len(_NULLS) >= 8:
        _NULLS.pop(next(iter(_NULLS)))
    _NULLS[key] = null
    return null


_NULLS: dict[tuple, GammaNull] = {}


def _fit_null(
    signature: Signature, grid: np.ndarray, *, permutations: int, weight: float, seed: int
) -> GammaNull:
    from scipy.stats import gamma

    rng = np.random.default_rng(seed)
    abs_w = np.abs(signature.scores) ** weight
    prefixes = _random_prefixes(len(signature), int(grid.max()), permutations, rng)
    rows = []
    for size in grid.tolist():
        es = _null_es(abs_w, prefixes, size)
        pos, neg = es[es > 0], -es[es < 0]
        fits = []
        for side in (pos, neg):
            side = side if len(side) >= 20 else np.abs(es[es != 0])
            shape, _, scale = gamma.fit(side, floc=0)
            fits.append((shape, scale, float(side.mean())))
        rows.append((size, *fits[0], *fits[1]))
    arr = np.array(rows, dtype=np.float64)
    if len(arr) == 1:
        arr = np.vstack([arr, arr])
        arr[1, 0] += 1
    return GammaNull(
        sizes=arr[:, 0],
        pos_shape=arr[:, 1],
        pos_scale=arr[:, 2],
        pos_mean=arr[:, 3],
        neg_shape=arr[:, 4],
        neg_scale=arr[:, 5],
        neg_mean=arr[:, 6],
    )


def _signature_sets(
    lib, position: Mapping[str, int], n: int, min_size: int, max_size: int
) -> tuple[list[np.ndarray], np.ndarray]:
    """Each term's genes as sorted signature positions, for the terms whose size fits.

    Vectorized over the library's membership: each library gene is looked up once.
    """
    of_gene = np.array([position.get(g, -1) for g in lib.genes.tolist()], dtype=np.int64)
    entries = of_gene[lib.indices]
    keep = entries >= 0
    rows = np.repeat(np.arange(len(lib), dtype=np.int64), lib.term_sizes)[keep]
    sizes = np.bincount(rows, minlength=len(lib))
    entries = np.sort(rows * n + entries[keep]) - np.repeat(np.arange(len(lib)) * n, sizes)
    ptr = np.concatenate(([0], np.cumsum(sizes)))
    kept = np.flatnonzero((sizes >= min_size) & (sizes <= max_size) & (sizes < n))
    return [entries[ptr[i] : ptr[i + 1]] for i in kept.tolist()], kept


def running_sum(signature: Signature, positions: np.ndarray, *, weight: float = 1.0) -> np.ndarray:
    """The full running sum of one set (for plots)."""
    n = len(signature)
    hit = np.zeros(n, dtype=bool)
    hit[positions] = True
    w = np.abs(signature.scores) ** weight
    step = np.where(hit, w / w[hit].sum(), -1.0 / (n - hit.sum()))
    return np.cumsum(step)


@dataclass
class SignatureMatch:
    """How a signature was matched to one library's gene names.

    Attributes
    ----------
    signature
        The signature in the library's names: converted identifiers, genes that became
        the same gene collapsed to their largest ``|score|``, re-sorted.
    conversion
        What :meth:`gsea_plus.idmap.IdMap.convert` did to the identifiers the library
        lacks (every identifier with ``species="mouse"``); ``None`` when none had to be.
    aliases
        Signature gene -> the library's older name for the same gene.
    collapsed
        Genes that several signature identifiers converted to (each kept once).
    recognized
        Signature genes in the library.
    """

    signature: Signature
    conversion: Any = None
    aliases: dict[str, str] = field(default_factory=dict)
    collapsed: list[str] = field(default_factory=list)
    recognized: int = 0

    def summary(self, *, limit: int = 3) -> str:
        """What was converted and collapsed, in one phrase (empty when nothing was)."""
        parts = []
        if self.conversion is not None and self.conversion.summary(limit=limit):
            parts.append(self.conversion.summary(limit=limit))
        if self.aliases:
            parts.append(f"{len(self.aliases)} matched through the library's older names")
        if self.collapsed:
            parts.append(
                f"{len(self.collapsed)} genes given by several identifiers: kept the largest "
                "|score|"
            )
        return "; ".join(parts)


def match_signature(
    signature: Signature,
    universe: Mapping[str, object],
    *,
    mapper: Any = None,
    species: str = "human",
) -> SignatureMatch:
    """The signature in a library's gene names, as gene lists are matched.

    The rule of :func:`gsea_plus.engine.convert_missing`: an identifier the library
    holds as it is stays as it is; the others (Ensembl IDs with or without a version
    suffix, Entrez IDs, previous symbols, aliases; every one with ``species="mouse"``)
    are converted to current symbols, and genes the library holds under an older name
    are matched to it. Identifiers that end up as the same gene keep the largest
    ``|score|``.

    Parameters
    ----------
    signature
        The signature as read.
    universe
        The library's genes (:attr:`gsea_plus.library.GeneSetLibrary.gene_index`).
    mapper
        An :class:`~gsea_plus.idmap.IdMap`; default: the bundled one.
    species
        ``"human"`` or ``"mouse"`` (:data:`gsea_plus.options.SPECIES`).
    """
    from gsea_plus.engine import convert_missing
    from gsea_plus.idmap import load_idmap

    mapper = load_idmap(mapper)
    genes = signature.genes.tolist()
    _, conversion = convert_missing(genes, universe, mapper, species, signature.original)
    rename = conversion.mapping if conversion is not None else {}
    renamed = [rename.get(g, g) for g in genes] if rename else genes
    aliases = mapper.match(renamed, universe)
    if aliases:
        renamed = [aliases.get(g, g) for g in renamed]
    recognized = sum(1 for g in dict.fromkeys(renamed) if g in universe)
    if not rename and not aliases:
        return SignatureMatch(signature, conversion, {}, [], recognized)
    best: dict[str, int] = {}
    collapsed: dict[str, None] = {}
    scores = signature.scores
    for i, g in enumerate(renamed):
        j = best.get(g)
        if j is None:
            best[g] = i
            continue
        collapsed[g] = None
        if abs(scores[i]) > abs(scores[j]):
            best[g] = i
    keep = np.array(sorted(best.values()), dtype=np.int64)
    new_genes = np.array([renamed[i] for i in keep.tolist()], dtype=str)
    new_scores = scores[keep]
    order = np.lexsort((new_genes, -new_scores))
    matched = Signature(
        new_genes[order],
        new_scores[order],
        source=signature.source,
        duplicates=signature.duplicates,
        original=signature.original,
    )
    return SignatureMatch(matched, conversion, aliases, list(collapsed), recognized)


@dataclass
class PrerankInfo:
    """What :func:`prerank_table` did, for summaries and reports.

    Attributes
    ----------
    signature
        The signature as read (:attr:`Signature.source` says from which columns).
    per_library
        One mapping per library: ``library`` (name), ``version``, ``sha256``,
        ``source``, ``terms`` (in the library), ``terms_tested``, ``recognized``
        (signature genes in the library), ``signature_size`` (genes after matching),
        ``match`` (:class:`SignatureMatch`).
    """

    signature: Signature
    per_library: list[dict[str, Any]] = field(default_factory=list)

    def matched(self, library: str | None = None) -> Signature:
        """The signature as matched to ``library`` (a name; default: the first library)."""
        for row in self.per_library:
            if library is None or row["library"] == library:
                return row["match"].signature
        return self.signature


def prerank(
    signature,
    library="KEGG",
    *,
    min_size: int = 5,
    max_size: int = 1000,
    permutations: int = 2000,
    anchors: int = 30,
    weight: float = 1.0,
    seed: int = 0,
    offline: bool | None = None,
    score: str | int | None = None,
    gene_column: str | int | None = None,
    species: str = "human",
    hgnc: str | os.PathLike | None = None,
):
    """Preranked enrichment of a ranked signature against one or more libraries.

    Before matching, the signature's identifiers are converted per library as gene
    lists are (:func:`match_signature`): those the library holds stay as they are;
    Ensembl (version suffixes too), Entrez, previous symbols and aliases become current
    symbols (with ``species="mouse"``, mouse symbols and Entrez IDs become their human
    orthologs); genes given by several identifiers keep the largest ``|score|``.

    Parameters
    ----------
    signature
        A path to a signature file or table (``"-"``: standard input; see
        :func:`read_signature`: two columns gene and score, or a DESeq2, limma, edgeR or
        Seurat table, or any table with ``score``), a pandas DataFrame, a
        ``{gene: score}`` mapping or Series, (gene, score) pairs, or a
        :class:`Signature`.
    library
        One library spec or a list of them (see :func:`gsea_plus.load_library`).
    min_size, max_size
        Keep terms with this many genes in the signature.
    permutations
        Random sets per anchor size for the null.
    anchors
        Number of anchor sizes at which the gamma null is fitted.
    weight
        Exponent on |score| in the running sum (1 as in GSEA preranked; 0 = unweighted KS).
    seed
        Seed of the null's random sets.
    offline
        Never download libraries (default: ``GSEA_PLUS_OFFLINE``).
    score
        The score column of a table: a header name or a 1-based column number (default:
        chosen from the header; see :func:`read_signature`).
    gene_column
        The gene column of a table, likewise (default: the row names, or a column named
        gene, symbol, gene_id, ...).
    species
        ``"human"`` or ``"mouse"``: the species of the signature's identifiers.
    hgnc
        An HGNC complete-set table to use instead of the bundled identifier map (default:
        ``GSEA_PLUS_HGNC``, else the bundled map).

    Returns
    -------
    pandas.DataFrame
        :data:`PRERANK_COLUMNS`, sorted by p-value then |NES|.
    """
    return prerank_table(
        signature,
        library,
        min_size=min_size,
        max_size=max_size,
        permutations=permutations,
        anchors=anchors,
        weight=weight,
        seed=seed,
        offline=offline,
        score=score,
        gene_column=gene_column,
        species=species,
        hgnc=hgnc,
    )[0]


def prerank_table(
    signature,
    library="KEGG",
    *,
    min_size: int = 5,
    max_size: int = 1000,
    permutations: int = 2000,
    anchors: int = 30,
    weight: float = 1.0,
    seed: int = 0,
    offline: bool | None = None,
    score: str | int | None = None,
    gene_column: str | int | None = None,
    species: str = "human",
    hgnc: str | os.PathLike | None = None,
) -> tuple[Any, PrerankInfo]:
    """:func:`prerank` and what it did (:class:`PrerankInfo`): the CLI and reports use it.

    The parameters are :func:`prerank`'s.
    """
    import pandas as pd
    from scipy.special import gammaincc

    from gsea_plus import progress
    from gsea_plus.idmap import load_idmap
    from gsea_plus.library import load_library
    from gsea_plus.options import SPECIES
    from gsea_plus.stats import adjust_pvalues

    if species not in SPECIES:
        raise InputError(f"species must be one of {', '.join(SPECIES)}, got {species!r}")
    if isinstance(signature, Signature):
        if score is not None or gene_column is not None:
            raise InputError("score= and gene_column= choose columns of a table, not a Signature")
        read = signature
    else:
        read = read_signature(signature, score=score, gene_column=gene_column)
    mapper = load_idmap(hgnc)
    info = PrerankInfo(read)
    specs = list(library) if isinstance(library, (list, tuple)) else [library]
    frames = []
    reported: set[str] = set()
    for spec in specs:
        lib = load_library(spec, offline=offline)
        with progress.task(f"{lib.name}: matching the signature's identifiers"):
            match = match_signature(read, lib.gene_index, mapper=mapper, species=species)
        _log_match(match, lib.name, reported)
        sig = match.signature
        position = {g: i for i, g in enumerate(sig.genes.tolist())}
        sets, kept = _signature_sets(lib, position, len(sig), min_size, max_size)
        names = lib.terms[kept].tolist()
        if not sets:
            raise InputError(
                f"{lib.name}: no term has {min_size}-{max_size} genes in the signature "
                f"({len(sig)} genes); check the gene symbols or lower --min-size"
            )
        with progress.task(f"{lib.name}: {len(sets)} terms, gamma null of random sets"):
            es, peak = enrichment_scores(sig, sets, weight=weight)
            sizes = np.array([len(s) for s in sets])
            null = fit_null(
                sig, sizes, permutations=permutations, anchors=anchors, weight=weight, seed=seed
            )
        par = null.params(sizes)
        positive = es >= 0
        shape = np.where(positive, par["pos_shape"], par["neg_shape"])
        scale = np.where(positive, par["pos_scale"], par["neg_scale"])
        pval = gammaincc(shape, np.abs(es) / scale)
        nes = np.where(positive, es / par["pos_mean"], es / par["neg_mean"])
        leading = []
        for s, pk, e in zip(sets, peak.tolist(), es.tolist(), strict=True):
            edge = s[: pk + 1] if e >= 0 else s[pk:]
            leading.append(";".join(sig.genes[edge].tolist()))
        frames.append(
            pd.DataFrame(
                {
                    "Term": names,
                    "ES": es,
                    "NES": nes,
                    "P-value": pval,
                    "FDR": adjust_pvalues(pval, "fdr_bh"),
                    "Size": sizes,
                    "Leading Edge Size": [x.count(";") + 1 if x else 0 for x in leading],
                    "Leading Edge": leading,
                    "Library": lib.name,
                },
                columns=PRERANK_COLUMNS,
            )
        )
        info.per_library.append(
            {
                "library": lib.name,
                "version": lib.version,
                "sha256": str(lib.meta.get("sha256", "")),
                "source": str(lib.meta.get("source", "")),
                "terms": len(lib),
                "terms_tested": len(sets),
                "recognized": match.recognized,
                "signature_size": len(sig),
                "match": match,
            }
        )
    result = pd.concat(frames, ignore_index=True)
    order = np.lexsort((-np.abs(result["NES"].to_numpy()), result["P-value"].to_numpy()))
    return result.iloc[order].reset_index(drop=True), info


def _log_match(match: SignatureMatch, library: str, reported: set[str]) -> None:
    """Log what matching did, as for gene lists; ``reported``: what earlier libraries said."""
    conversion = match.conversion
    if conversion is not None:
        if conversion.converted:
            log.info("%s: signature identifiers converted: %s", library, conversion.summary())
        ambiguous = [k for k in conversion.ambiguous if k not in reported]
        if ambiguous:
            reported.update(ambiguous)
            items = [f"{k} ({'|'.join(conversion.ambiguous[k])})" for k in ambiguous]
            shown = ", ".join(items[:10]) + (
                f", +{len(items) - 10} more" if len(items) > 10 else ""
            )
            log.warning(
                "%d ambiguous identifiers (several genes) left as they are: %s", len(items), shown
            )
        if conversion.hint and "<hint>" not in reported:
            reported.add("<hint>")
            log.warning("%s", conversion.hint)
    if match.collapsed:
        log.info(
            "%s: %d genes given by several identifiers in the signature: kept the largest "
            "|score| (%s)",
            library,
            len(match.collapsed),
            ", ".join(match.collapsed[:10]),
        )
