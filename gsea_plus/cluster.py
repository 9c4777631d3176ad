"""Grouping redundant terms by the genes they share (``--cluster``).

GO and pathway libraries hold many terms that say the same thing: a parent and its
child, "Regulation Of X" and "Positive Regulation Of X", KEGG's and Hallmark's p53
pathways. When they are enriched, they are enriched by the same genes of the list.
This module groups significant terms whose genes overlap and marks one representative
per group, as DAVID's functional annotation clustering, Metascape's term clusters and
clusterProfiler's ``simplify`` / ``emapplot`` do.

The rule (stated once here; the CLI, the report and the figures say the same)
--------------------------------------------------------------------------------
Genes of a term
    the genes that make the term significant: the list's genes in the term (``Genes``;
    for a model-based result also the model's ``Predicted Genes``; for a preranked result
    the ``Leading Edge``). Two terms are redundant *for this list* when the same list
    genes drive both, whatever the sizes of the terms in the library. (Passing
    ``gene_sets`` compares the terms' full gene sets instead.)
Similarity: Cohen's kappa (default), as DAVID and Metascape
    Each term is a yes/no vector over the ``n`` genes of the list (the recognized list
    size, ``List Size``); kappa is the agreement of two such vectors beyond chance,
    ``(p_observed - p_chance) / (1 - p_chance)``. Unlike Jaccard it does not call two
    terms similar merely because each covers most of the list, and a child whose genes
    are a subset of its parent's still scores high (3 of 8 shared genes in a 76-gene
    list: kappa 0.52, Jaccard 0.38). ``method="jaccard"`` (``|A & B| / |A | B|``,
    clusterProfiler's ``emapplot`` default) and ``method="overlap"``
    (``|A & B| / min(|A|, |B|)``, Cytoscape EnrichmentMap's overlap coefficient) are
    available.
Threshold: 0.35 for kappa (the middle of DAVID's and Metascape's 0.3-0.5 range)
    Groups are formed by average-linkage hierarchical clustering on ``1 - similarity``,
    cut at ``1 - threshold``: two groups merge while the *average* similarity of their
    terms, pair by pair, is at least the threshold. Single linkage would chain unrelated
    terms through one shared gene; complete linkage would split a parent from a child
    that its siblings do not resemble. Defaults: kappa 0.35, Jaccard 0.35, overlap 0.5
    (:data:`DEFAULT_THRESHOLDS`).

    Measured on GO Biological Process 2023 (54 lists: the 50 Hallmark sets and four
    ageing-muscle lists; 9,242 significant terms; pairs "Positive/Negative Regulation
    Of X" with "Regulation Of X", an is_a relation in GO, both significant in one list):
    kappa 0.35 puts 67% of 1,496 parent/child pairs in the same cluster, 90% of those
    whose list genes agree (pair kappa >= 0.5), against 2.8% of random pairs of
    significant terms, and turns 9,242 terms into 2,338 clusters. Single linkage at the
    same threshold reaches 99% of the pairs only by putting 90% of random pairs together
    (one giant cluster); greedy "join the best earlier representative" (as ``simplify``)
    keeps 77% of the agreeing pairs. The parent/child pairs that split mostly share few
    list genes: Enrichr's GO libraries are not propagated up the ontology, so a parent
    and its child can be enriched by different genes. ``tests/test_cluster.py`` checks
    that the MHC class II parent and child terms of an ageing-muscle list fall together.
Which terms
    rows with adjusted p (``FDR`` for a preranked result) at most ``p_cutoff``
    (default 0.05), at most ``max_terms`` of them (the most significant), across all
    libraries together (a KEGG and a Hallmark p53 pathway do fall together); each list
    of a batch (``List`` column) on its own. Other rows get no cluster.
Representative
    the term with the lowest adjusted p of its cluster (ties: lower p, then larger
    overlap, then the earlier row). Clusters are numbered 1, 2, ... by their
    representative's rank, so cluster 1 holds the most significant term.

Output columns: ``Cluster`` (nullable integer; missing for rows not clustered),
``Representative`` (boolean) and ``Cluster Size`` (terms in the row's cluster).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from gsea_plus.columnar import Codes, ResultTable, column_at, n_rows
from gsea_plus.errors import InputError
from gsea_plus.options import CLUSTER_METHODS, CLUSTER_THRESHOLDS

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

#: A result table: a DataFrame, a mapping of columns, or an encoded ResultTable.
Table = Any

__all__ = [
    "CLUSTER_COLUMNS",
    "DEFAULT_THRESHOLDS",
    "METHODS",
    "cluster_columns",
    "cluster_table",
    "cluster_terms",
    "describe_rule",
    "list_groups",
    "nullable",
    "representative_rows",
    "representatives",
    "kappa_universe",
    "similarity_matrix",
    "term_gene_sets",
]

#: Similarity measures.
METHODS = CLUSTER_METHODS
#: Default threshold of each measure (see the module docstring).
DEFAULT_THRESHOLDS = CLUSTER_THRESHOLDS
#: Columns added by :func:`cluster_terms`.
CLUSTER_COLUMNS = ["Cluster", "Representative", "Cluster Size"]
#: Default adjusted-p cut-off of the terms that are clustered.
P_CUTOFF = 0.05

_METHOD_NAMES = {
    "kappa": "Cohen's kappa",
    "jaccard": "Jaccard index",
    "overlap": "overlap coefficient",
}


def _split(value) -> list[str]:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    return [g for g in str(value).split(";") if g]


def _column(table: Table, *names: str, what: str) -> str:
    for col in names:
        if col in table:
            return col
    quoted = " (or ".join(f"'{n}'" for n in names) + ")" * (len(names) - 1)
    raise InputError(f"the results have no {quoted} column to {what}")


def _p_column(table: Table) -> str:
    return _column(table, "Adjusted P-value", "FDR", what="cluster by")


def _genes_column(table: Table) -> str:
    return _column(table, "Genes", "Leading Edge", what="cluster by")


def _floats(table: Table, name: str) -> np.ndarray:
    return np.asarray(table[name], dtype=np.float64)


def _cells(table: Table, name: str, rows: np.ndarray) -> list:
    """The values of ``name`` at ``rows`` (only those cells are built for an encoded table)."""
    if isinstance(table, ResultTable) or not hasattr(table, "iloc"):
        return column_at(table, name, rows)
    return table[name].iloc[rows].tolist()


def _row_gene_sets(
    table: Table,
    rows: np.ndarray,
    *,
    gene_sets: Mapping[str, Iterable[str]] | None = None,
    include_predicted: bool = True,
) -> list[frozenset[str]]:
    """:func:`term_gene_sets` of the rows ``rows`` of a table."""
    if gene_sets is not None:
        out = []
        for term in map(str, _cells(table, "Term", rows)):
            if term not in gene_sets:
                raise InputError(f"--cluster: term {term!r} is not in the given gene sets")
            out.append(frozenset(str(g).upper() for g in gene_sets[term]))
        return out
    genes = [set(_split(v)) for v in _cells(table, _genes_column(table), rows)]
    if include_predicted and "Predicted Genes" in table:
        for s, v in zip(genes, _cells(table, "Predicted Genes", rows), strict=True):
            s.update(_split(v))
    return [frozenset(s) for s in genes]


def term_gene_sets(
    df: Table,
    *,
    gene_sets: Mapping[str, Iterable[str]] | None = None,
    include_predicted: bool = True,
) -> list[frozenset[str]]:
    """The genes of each row that the similarity compares (see the module docstring).

    Parameters
    ----------
    df
        Results (a DataFrame or a mapping of columns): ``Genes`` (or ``Leading Edge``)
        holds ``;``-joined genes.
    gene_sets
        ``{term: genes}`` of the library (e.g. ``GeneSetLibrary.to_dict()``): compare
        the terms' full gene sets instead of the list's genes in them.
    include_predicted
        Add the model's ``Predicted Genes`` where that column exists.
    """
    rows = np.arange(_n_rows(df))
    return _row_gene_sets(df, rows, gene_sets=gene_sets, include_predicted=include_predicted)


def similarity_matrix(
    sets: Sequence[Iterable[str]],
    *,
    method: str = "kappa",
    universe_size: int | None = None,
) -> np.ndarray:
    """Pairwise similarity of gene sets (``len(sets)`` x ``len(sets)``, diagonal 1).

    Parameters
    ----------
    sets
        Gene sets.
    method
        ``"kappa"``, ``"jaccard"`` or ``"overlap"`` (see the module docstring).
    universe_size
        ``n`` for kappa: the genes each set is a yes/no vector over. At least the
        number of distinct genes in ``sets`` (which is the default).
    """
    if method not in METHODS:
        raise InputError(f"unknown similarity {method!r}; choose from {', '.join(METHODS)}")
    sets = [frozenset(s) for s in sets]
    m = len(sets)
    if m == 0:
        return np.zeros((0, 0))
    vocab = {g: i for i, g in enumerate(sorted(set().union(*sets)))}
    member = np.zeros((m, len(vocab)), dtype=np.float64)
    for i, s in enumerate(sets):
        member[i, [vocab[g] for g in s]] = 1.0
    size = member.sum(axis=1)
    shared = member @ member.T
    si, sj = size[:, None], size[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "jaccard":
            sim = shared / (si + sj - shared)
        elif method == "overlap":
            sim = shared / np.minimum(si, sj)
        else:
            n = float(max(universe_size or 0, len(vocab)))
            observed = (n - si - sj + 2 * shared) / n
            chance = (si * sj + (n - si) * (n - sj)) / (n * n)
            sim = (observed - chance) / (1.0 - chance)
            # Both vectors constant (empty or the whole universe): agreement is all there is.
            sim = np.where(chance >= 1.0, (observed >= 1.0).astype(float), sim)
    sim = np.nan_to_num(sim, nan=0.0)
    np.fill_diagonal(sim, 1.0)
    return sim


def _universe(table: Table, rows: np.ndarray, sets: Sequence[frozenset[str]], gene_sets) -> int:
    """``n`` for kappa at ``rows``: the list (or the background for full term gene sets)."""
    col = "Background Size" if gene_sets is not None else "List Size"
    n = 0
    if col in table:
        sizes = _floats(table, col)[rows]
        sizes = sizes[np.isfinite(sizes)]
        n = int(sizes.max()) if len(sizes) else 0
    if gene_sets is None and "Predicted Genes" in table:
        listed = set().union(*[set(_split(v)) for v in _cells(table, _genes_column(table), rows)])
        predicted = set().union(*[set(_split(v)) for v in _cells(table, "Predicted Genes", rows)])
        n += len(predicted - listed)
    return max(n, len(set().union(*sets)) if sets else 0)


def kappa_universe(df: Table, sets: Sequence[frozenset[str]], gene_sets) -> int:
    """``n`` for kappa: the list (or the background when full term gene sets are compared)."""
    return _universe(df, np.arange(_n_rows(df)), sets, gene_sets)


def _groups(sim: np.ndarray, threshold: float) -> np.ndarray:
    """Average-linkage clusters of ``1 - sim`` cut at ``1 - threshold`` (labels from 0)."""
    m = len(sim)
    if m == 1:
        return np.zeros(1, dtype=np.int64)
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    dist = np.clip(1.0 - sim, 0.0, None)
    dist = (dist + dist.T) / 2.0
    np.fill_diagonal(dist, 0.0)
    tree = linkage(squareform(dist, checks=False), method="average")
    # A tiny tolerance so that a pair exactly at the threshold merges.
    return fcluster(tree, t=1.0 - threshold + 1e-12, criterion="distance").astype(np.int64) - 1


def _rank_key(table: Table, rows: np.ndarray, p_col: str) -> np.ndarray:
    """Order of ``rows`` for choosing representatives: adjusted p, p, then larger overlap."""
    padj = _floats(table, p_col)[rows]
    p = _floats(table, "P-value")[rows] if "P-value" in table else padj
    if "Overlap Size" in table:
        size = _floats(table, "Overlap Size")[rows]
    elif "NES" in table:
        size = np.abs(_floats(table, "NES")[rows])
    else:
        size = np.zeros(len(rows))
    big = np.inf
    return np.lexsort(
        (
            np.arange(len(rows)),
            -np.nan_to_num(size),
            np.nan_to_num(p, nan=big),
            np.nan_to_num(padj, nan=big),
        )
    )


def _n_rows(table: Table) -> int:
    if isinstance(table, ResultTable):
        return table.rows
    if hasattr(table, "iloc"):
        return len(table)
    return n_rows(table)


def list_groups(table: Table) -> list[np.ndarray]:
    """The rows of each list (``List`` column), lists in order of first appearance.

    An encoded ``List`` (:class:`~gsea_plus.columnar.Codes`) is grouped by its codes, so
    no list name is built per row; a table without ``List`` is one group.
    """
    n = _n_rows(table)
    if "List" not in table:
        return [np.arange(n)] if n else []
    raw = table.raw("List") if isinstance(table, ResultTable) else table["List"]
    if isinstance(raw, Codes):
        codes = raw.codes
    else:
        values = np.asarray(raw, dtype=object).astype(str)
        _, codes = np.unique(values, return_inverse=True)
        codes = codes.ravel()
    if n == 0:
        return []
    _, first = np.unique(codes, return_index=True)
    order = np.argsort(codes, kind="stable")
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    groups = np.split(order, bounds)
    return [groups[i] for i in np.argsort([g[0] for g in groups], kind="stable")]


def cluster_columns(
    table: Table,
    *,
    method: str = "kappa",
    threshold: float | None = None,
    p_cutoff: float | None = P_CUTOFF,
    max_terms: int = 500,
    gene_sets: Mapping[str, Iterable[str]] | None = None,
    include_predicted: bool = True,
    universe_size: int | None = None,
) -> dict[str, np.ndarray]:
    """The cluster columns of every row of a result table, computed on its columns.

    The table may be a DataFrame, a mapping of columns or an encoded
    :class:`~gsea_plus.columnar.ResultTable` (a batch chunk): only the rows that are
    clustered have their genes read, and an encoded table stays encoded. Parameters are
    those of :func:`cluster_terms`.

    Returns
    -------
    dict
        ``Cluster`` and ``Cluster Size`` (int64; 0 for rows not clustered) and
        ``Representative`` (bool), aligned with the table's rows.
    """
    if method not in METHODS:
        raise InputError(f"unknown similarity {method!r}; choose from {', '.join(METHODS)}")
    if threshold is None:
        threshold = DEFAULT_THRESHOLDS[method]
    if not -1.0 <= float(threshold) <= 1.0:
        raise InputError(f"--cluster-threshold must be between -1 and 1, got {threshold}")
    if max_terms < 1:
        raise InputError("max_terms must be at least 1")
    n = _n_rows(table)
    cluster = np.zeros(n, dtype=np.int64)  # 0: not clustered
    rep = np.zeros(n, dtype=bool)
    csize = np.zeros(n, dtype=np.int64)
    if n == 0:
        return {"Cluster": cluster, "Representative": rep, "Cluster Size": csize}
    p_col = _p_column(table)
    padj_all = _floats(table, p_col)
    for rows in list_groups(table):
        padj = padj_all[rows]
        keep = np.isfinite(padj) if p_cutoff is None else padj <= p_cutoff
        if not keep.any():
            continue
        order = _rank_key(table, rows, p_col)
        chosen = rows[order[keep[order]][:max_terms]]
        sets = _row_gene_sets(
            table, chosen, gene_sets=gene_sets, include_predicted=include_predicted
        )
        size = universe_size or _universe(table, chosen, sets, gene_sets)
        labels = _groups(similarity_matrix(sets, method=method, universe_size=size), threshold)
        # chosen is in rank order: the first row of each label is its representative,
        # and numbering labels by first appearance numbers clusters by significance.
        _, first = np.unique(labels, return_index=True)
        number = np.empty(labels.max() + 1, dtype=np.int64)
        number[labels[np.sort(first)]] = np.arange(1, len(first) + 1)
        cluster[chosen] = number[labels]
        csize[chosen] = np.bincount(labels)[labels]
        rep[chosen[first]] = True
    return {"Cluster": cluster, "Representative": rep, "Cluster Size": csize}


def nullable(values: np.ndarray) -> np.ndarray:
    """An int64 column with 0 for "none" as an object column: ints, and ``None`` for 0.

    Every writer leaves ``None`` empty (TSV/CSV), null (JSON, Parquet), so rows that
    were not clustered have no cluster rather than a made-up number.
    """
    out = values.astype(object)
    out[values == 0] = None
    return out


def cluster_table(table: Mapping[str, Any], **options) -> ResultTable:
    """A result table (encoded or not) with the cluster columns added (replaced if present).

    ``options`` are those of :func:`cluster_terms`. The table is not copied: its columns
    are shared, and encoded ones stay encoded (a plain mapping of columns becomes a
    :class:`~gsea_plus.columnar.ResultTable` of the same columns).
    """
    if not isinstance(table, ResultTable):
        table = ResultTable(dict(table), n_rows(table))
    columns = cluster_columns(table, **options)
    out = ResultTable({c: table.raw(c) for c in table if c not in CLUSTER_COLUMNS}, table.rows)
    out["Cluster"] = nullable(columns["Cluster"])
    out["Representative"] = columns["Representative"]
    out["Cluster Size"] = nullable(columns["Cluster Size"])
    return out


def cluster_terms(
    df: pd.DataFrame,
    *,
    method: str = "kappa",
    threshold: float | None = None,
    p_cutoff: float | None = P_CUTOFF,
    max_terms: int = 500,
    gene_sets: Mapping[str, Iterable[str]] | None = None,
    include_predicted: bool = True,
    universe_size: int | None = None,
) -> pd.DataFrame:
    """Group redundant significant terms; add ``Cluster``, ``Representative``, ``Cluster Size``.

    The rule, threshold and columns are described in the module docstring
    (:mod:`gsea_plus.cluster`); :func:`describe_rule` gives it as one sentence.

    Parameters
    ----------
    df
        Results of ``enrich``, ``batch`` (a ``List`` column: each list clustered on its
        own) or ``prerank``. Not modified.
    method
        ``"kappa"`` (default), ``"jaccard"`` or ``"overlap"``.
    threshold
        Similarity at or above which terms group (default
        :data:`DEFAULT_THRESHOLDS` of the method).
    p_cutoff
        Only rows with adjusted p (or FDR) at most this are clustered; ``None``: all.
    max_terms
        At most this many rows (the most significant) per list are clustered.
    gene_sets
        ``{term: genes}``: compare full term gene sets instead of the list's genes.
    include_predicted
        Count the model's ``Predicted Genes`` as the term's genes (model-based results).
    universe_size
        ``n`` of kappa (default: ``List Size``, or ``Background Size`` with
        ``gene_sets``; a preranked result: the genes in any leading edge).

    Returns
    -------
    pandas.DataFrame
        A copy of ``df`` (same rows, same order) with :data:`CLUSTER_COLUMNS` added
        (replaced if present).
    """
    import pandas as pd

    out = df.drop(columns=[c for c in CLUSTER_COLUMNS if c in df.columns]).reset_index(drop=True)
    columns = cluster_columns(
        out,
        method=method,
        threshold=threshold,
        p_cutoff=p_cutoff,
        max_terms=max_terms,
        gene_sets=gene_sets,
        include_predicted=include_predicted,
        universe_size=universe_size,
    )
    missing = columns["Cluster"] == 0
    out["Cluster"] = pd.arrays.IntegerArray(columns["Cluster"], missing)
    out["Representative"] = columns["Representative"]
    out["Cluster Size"] = pd.arrays.IntegerArray(columns["Cluster Size"], missing)
    return out


def representative_rows(table: Table) -> np.ndarray:
    """The row numbers of the representatives of a clustered table."""
    if "Representative" not in table:
        raise InputError("--representatives needs clustered results (--cluster)")
    return np.flatnonzero(np.asarray(table["Representative"], dtype=bool))


def representatives(df: pd.DataFrame) -> pd.DataFrame:
    """Only the representative rows of a clustered result (``--representatives``).

    Rows that were not clustered (not significant) are dropped too: a representatives
    view lists one term per group of significant terms.
    """
    return df.iloc[representative_rows(df)].reset_index(drop=True)


def describe_rule(
    method: str = "kappa",
    threshold: float | None = None,
    *,
    p_cutoff: float | None = P_CUTOFF,
    full_sets: bool = False,
) -> str:
    """The clustering rule as one sentence, for figure captions and the methods text."""
    if threshold is None:
        threshold = DEFAULT_THRESHOLDS[method]
    which = "all terms" if p_cutoff is None else f"terms with adjusted p <= {p_cutoff:g}"
    genes = "their full gene sets" if full_sets else "the list genes they contain"
    return (
        f"{which[0].upper()}{which[1:]} were grouped by the {_METHOD_NAMES[method]} of "
        f"{genes} (average-linkage clustering, groups joined while their mean similarity "
        f"is >= {threshold:g}); each group is represented by its term with the lowest "
        "adjusted p."
    )
