"""The public enrichment API: options -> libraries -> evidence per library -> engine -> tables.

This is the one module that knows both kinds of evidence: for each library it picks the
classical test (:class:`~gsea_plus.engine.ClassicalEvidence`) or, when the options ask
for the gene set model, :class:`~gsea_plus.evidence.ModelEvidence`, and hands it to the
engine (one list) or to the batch engines (many lists, local or Dask). Every option is
declared once, in :mod:`gsea_plus.options`; :func:`~gsea_plus.options.with_options`
turns its fields into keyword-only parameters here.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

import gsea_plus.engine as engine
from gsea_plus.errors import InputError
from gsea_plus.genes import GeneList, read_gene_list
from gsea_plus.idmap import IdMap, load_idmap
from gsea_plus.library import load_library
from gsea_plus.options import BatchOptions, EnrichOptions, FigureOptions, with_options

log = logging.getLogger(__name__)

if TYPE_CHECKING:  # the batch package loads only for many lists
    from gsea_plus.batch import BatchEngine, BatchResult

__all__ = [
    "EnrichInfo",
    "enrich",
    "enrich_many",
    "enrich_table",
    "evidence_for",
    "gene_function",
    "get_engine",
    "iter_enrich_many",
    "prepare_libraries",
    "write_many",
]


def evidence_for(prepared: engine.PreparedLibrary, options: EnrichOptions) -> engine.Evidence:
    """The evidence that makes a library's rows: classical, or the model's when asked for."""
    if options.model_options is None:
        return engine.ClassicalEvidence()
    from gsea_plus.evidence import ModelEvidence

    return ModelEvidence.build(prepared, options.model_options)


def prepare_libraries(
    library: Any, options: EnrichOptions, *, idmap: IdMap | None = None
) -> list[tuple[engine.PreparedLibrary, engine.Evidence]]:
    """Load, prepare (background, size filters) and pick the evidence of each library.

    Background genes are converted to current symbols as list genes are (``idmap``,
    default: the options' map).
    """
    specs = list(library) if isinstance(library, (list, tuple)) else [library]
    if not specs:
        raise InputError("no library given")
    idmap = idmap or load_idmap(options.hgnc)
    out = []
    for spec in specs:
        prepared = engine.prepare(
            load_library(spec, offline=options.offline),
            background=options.background,
            min_size=options.min_size,
            max_size=options.max_size,
            mapper=idmap,
            species=options.species,
        )
        out.append((prepared, evidence_for(prepared, options)))
    return out


def _model_details(evidence: engine.Evidence, match: engine.ListMatch) -> dict:
    """The model test's part of a library's summary (empty for the classical test)."""
    info = getattr(evidence, "info", None)
    return info(match) if info is not None else {}


def _warn_unmatched(match: engine.ListMatch, prepared: engine.PreparedLibrary, details: dict):
    """:func:`engine.warn_unmatched`; with the model, genes only it knows are not "not tested"."""
    only_model = set(details.get("model_only_genes", ()))
    if not only_model:
        engine.warn_unmatched(match, prepared)
        return
    rest = [g for g in match.unrecognized if g not in only_model]
    engine.warn_unmatched(dataclasses.replace(match, unrecognized=rest), prepared)
    log.warning(
        "%d genes are not in %s but the model knows them: the model test uses them, "
        "the classical columns cannot: %s",
        len(only_model),
        prepared.library.name,
        ", ".join(sorted(only_model)[:20]) + (" ..." if len(only_model) > 20 else ""),
    )


def _as_gene_list(genes: Any) -> GeneList:
    if isinstance(genes, GeneList):
        return genes
    if isinstance(genes, (str, os.PathLike)):
        return read_gene_list(os.fspath(genes))
    return read_gene_list(list(genes))


@dataclass
class EnrichInfo:
    """Summary of one enrichment run, for the command line's one-line summary.

    Attributes
    ----------
    input_size
        Unique input genes.
    per_library
        Per library: ``library``, ``version``, ``recognized`` (input genes in the library),
        ``list_size``, ``background`` (the classical test's), ``terms_tested`` and
        ``method`` ("" for classical). With the model, also the keys of
        :meth:`gsea_plus.evidence.ModelEvidence.info`: ``model_test``, ``model_null``,
        ``model_background`` (the model test's background, in words),
        ``model_background_size``, ``model_recognized`` (input genes the model test uses),
        ``model_only_genes`` (of those, the ones the library does not hold) and
        ``model_only_caption`` (the caption of the model-only rows); ``conversion``:
        what identifier conversion did (an :class:`~gsea_plus.idmap.Conversion` or None).
    mangled
        Spreadsheet-mangled names recognized (token -> candidates).
    duplicates
        Genes given more than once.
    """

    input_size: int
    per_library: list[dict]
    mangled: dict[str, tuple[str, ...]]
    duplicates: list[str]


@with_options(options=EnrichOptions)
def enrich_table(
    genes: Any, library: Any = "KEGG", *, options: EnrichOptions
) -> tuple[Mapping[str, np.ndarray], EnrichInfo]:
    """:func:`enrich` without pandas: the result columns and a summary (the CLI uses it)."""
    gene_list = _as_gene_list(genes)
    idmap = load_idmap(options.hgnc)
    tables = []
    per_library = []
    recognized_any = False
    for prepared, evidence in prepare_libraries(library, options, idmap=idmap):
        (match,) = engine.match_lists(prepared, [gene_list], mapper=idmap, species=options.species)
        details = _model_details(evidence, match)
        _warn_unmatched(match, prepared, details)
        recognized_any |= bool(evidence.recognized([match])[0])
        _, result = engine.enrich_chunk(
            prepared,
            evidence,
            [match],
            correction=options.correction,
            min_overlap=options.overlap_floor,
            top=None,
        )
        tables.append(result.table)
        per_library.append(
            {
                "library": prepared.library.name,
                "version": prepared.library.version,
                "recognized": int(len(match.columns)),
                "list_size": int(match.size),
                "background": prepared.describe(),
                "background_size": int(prepared.background_size),
                "background_kind": prepared.kind,
                "source": str(prepared.library.meta.get("source", "")),
                "terms_tested": int(result.tested[0]),
                "method": evidence.method,
                "sha256": str(prepared.library.meta.get("sha256", "")),
                "terms": len(prepared.library.terms),
                "conversion": match.conversion,
                **details,
            }
        )
    if not recognized_any:
        names = ", ".join(p["library"] for p in per_library)
        known = " nor known to the gene set model" if options.model_options else ""
        raise InputError(f"none of the {len(gene_list.genes)} input genes is in {names}{known}")
    info = EnrichInfo(
        input_size=len(gene_list.genes),
        per_library=per_library,
        mangled=gene_list.mangled,
        duplicates=gene_list.duplicates,
    )
    return engine.concat_tables(tables), info


@with_options(options=EnrichOptions)
def enrich(genes: Any, library: Any = "KEGG", *, options: EnrichOptions) -> Any:
    """Over-representation analysis of one gene list against one or more libraries.

    Parameters
    ----------
    genes
        A path to a gene list file, ``"-"`` for stdin, or an iterable of symbols.
    library
        One library spec or a list of them: alias (``"KEGG"``), Enrichr name, GMT path,
        ``{term: genes}`` mapping or :class:`~gsea_plus.library.GeneSetLibrary`.
    options
        An :class:`~gsea_plus.options.EnrichOptions`; the keywords below override its fields.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`gsea_plus.engine.COLUMNS` (plus :data:`gsea_plus.evidence.MODEL_COLUMNS`
        with the model), sorted by p-value (ties by term order).
    """
    table, _ = enrich_table(genes, library, options=options)
    return engine.to_frame(table)


def get_engine(
    engine: str | BatchEngine = "local",
    *,
    scheduler: str | None = None,
    workers: int | None = None,
) -> BatchEngine:
    """A compute engine by name, or an engine as is.

    ``local`` runs chunks here; ``dask`` connects to a ``scheduler`` address, or starts a
    local cluster of ``workers`` processes (dask is imported only then).
    """
    from gsea_plus.batch import BatchEngine, LocalEngine

    if isinstance(engine, BatchEngine):
        return engine
    BatchOptions(engine=engine, scheduler=scheduler, workers=workers)  # the same checks
    if engine == "dask":
        from gsea_plus.distributed import DaskEngine

        return DaskEngine(scheduler=scheduler, workers=workers)
    return LocalEngine()


@with_options(options=EnrichOptions, batch=BatchOptions)
def iter_enrich_many(
    lists: Any, library: Any = "KEGG", *, options: EnrichOptions, batch: BatchOptions
) -> Iterator[BatchResult]:
    """Enrich many lists chunk by chunk, yielding each chunk's results (streaming).

    Parameters are those of :func:`enrich_many`. Memory holds one chunk of lists and
    results at a time (several with the Dask engine, a bounded window).

    Yields
    ------
    BatchResult
        Per chunk, in input order.
    """
    from gsea_plus.batch import (
        ChunkContext,
        WarningSummary,
        batch_items,
        check_unique,
        chunked,
        default_chunk_size,
        process_chunk,
        read_batch,
    )

    idmap = load_idmap(options.hgnc)
    libraries = prepare_libraries(library, options, idmap=idmap)
    ctx = ChunkContext(
        libraries,
        options.correction,
        options.overlap_floor,
        batch.top,
        idmap,
        options.species,
    )
    size = batch.chunk_size or default_chunk_size(libraries, batch.top)
    items: Iterable = (
        read_batch(lists, input_format=batch.input_format)
        if isinstance(lists, (str, os.PathLike))
        else batch_items(lists)
    )
    prepared = [p for p, _ in libraries]
    recognized_any = False
    total = 0
    warnings = WarningSummary()
    runner = get_engine(batch.engine, scheduler=batch.scheduler, workers=batch.workers)
    with runner:
        for result in runner.map(process_chunk, chunked(check_unique(items), size), ctx):
            recognized_any |= result.recognized_any
            total += result.n_lists
            warnings.add(result, prepared)
            yield result
    warnings.finish()
    if total == 0:
        raise InputError("the batch holds no gene list")
    if not recognized_any:
        libs = ", ".join(p.library.name for p in prepared)
        known = " nor known to the gene set model" if options.model_options else ""
        raise InputError(f"no gene of any list is in {libs}{known}")


@with_options(options=EnrichOptions, batch=BatchOptions, figures=FigureOptions)
def enrich_many(
    lists: Any,
    library: Any = "KEGG",
    *,
    output: str | os.PathLike[str] | None = None,
    format: str | None = None,
    summary: str | os.PathLike[str] | None = None,
    options: EnrichOptions,
    batch: BatchOptions,
    figures: FigureOptions,
) -> Any:
    """Over-representation analysis of many gene lists at once.

    Every list's rows are identical to :func:`gsea_plus.enrich` on that list alone (same
    engine, per-list multiple testing); only the work is shared. With the model, it
    scores each chunk of lists in one batch.

    Parameters
    ----------
    lists
        A ``{name: genes}`` mapping, an iterable of ``(name, genes)`` pairs or of gene
        lists (named ``list1``, ``list2``...), or a path: a directory of list files, a
        GMT of lists, a long table ``list_id<TAB>gene``, or ``"-"`` (stdin). Genes are
        anything :func:`gsea_plus.enrich` takes (symbols, a file path, a GeneList).
    library
        One library spec or a list of them, as in :func:`gsea_plus.enrich`.
    output
        Stream the results to this file (``"-"``: standard output) instead of returning
        them: memory stays bounded for any number of lists, and a failed run leaves no
        file behind.
    format
        The ``output``'s format: ``tsv``, ``csv``, ``jsonl`` or ``parquet`` (default: from
        its suffix, else ``tsv``).
    summary
        Write the per-list summary here (TSV: recognized genes, terms tested, significant
        terms, top term per list and library).
    options, batch, figures
        An :class:`~gsea_plus.options.EnrichOptions`, a
        :class:`~gsea_plus.options.BatchOptions` and a
        :class:`~gsea_plus.options.FigureOptions` (``cluster``, ``plot``: the lists side
        by side, ``report``: the HTML report); the keywords below override their fields.

    Returns
    -------
    pandas.DataFrame or BatchRun
        ``List`` then the :func:`gsea_plus.enrich` columns, list by list in input order,
        each sorted by p-value (with ``cluster``, the cluster columns; with
        ``representatives``, only their rows). Empty lists are skipped with a warning.
        With ``output`` or ``summary``: a :class:`~gsea_plus.api.batch.BatchRun` (rows
        written, counts, the files written) instead.

    Raises
    ------
    InputError
        Duplicate list names (all named), a malformed line (file and line), no list, or
        no gene of any list in the libraries.
    """
    if output is not None or summary is not None:
        return write_many(
            lists, library, options=options, batch=batch, figures=figures, output=output,
            fmt=format, summary=summary,
        )  # fmt: skip
    if figures.wanted:
        return _collect_many(lists, library, options=options, batch=batch, figures=figures)
    import pandas as pd

    parts: dict[str, list] = {}
    for result in iter_enrich_many(lists, library, options=options, batch=batch):
        for c, values in result.table.items():
            parts.setdefault(c, []).append(values)
    data = {c: np.concatenate(v) for c, v in parts.items()}
    data["Term"] = data["Term"].astype(object)
    return pd.DataFrame(data, columns=list(parts))


def write_many(
    lists: Any,
    library: Any,
    *,
    options: EnrichOptions,
    batch: BatchOptions,
    figures: FigureOptions,
    output: str | os.PathLike[str] | None = None,
    fmt: str | None = None,
    summary: str | os.PathLike[str] | None = None,
    command_line: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> Any:
    """Enrich many lists to files: the table streamed, the summary, the figure, the report.

    What ``gsea-plus batch`` runs. Parameters are those of :func:`enrich_many` (the
    options objects, ``fmt`` for its ``format``; ``output=None``: standard output), plus
    ``command_line`` (for the report) and ``progress`` (called with the lists of each
    finished chunk).

    Returns
    -------
    BatchRun
        Rows written, counts, the first summary records and the files written.
    """
    from gsea_plus.api import batch as sink
    from gsea_plus.api.figures import check_figure_paths

    check_figure_paths(figures)
    libraries = sink.load_libraries(library, options)
    results = iter_enrich_many(lists, libraries, options=options, batch=batch)
    return sink.write_results(
        results, libraries=libraries, lists=lists, options=options, figures=figures,
        output=output, fmt=fmt or sink.format_of(output), summary=summary,
        command_line=command_line, progress=progress,
    )  # fmt: skip


def _collect_many(lists, library, *, options, batch, figures) -> Any:
    """:func:`enrich_many` in memory with figure options: one DataFrame, figure, report."""
    from gsea_plus.api import batch as sink
    from gsea_plus.api.figures import check_figure_paths

    check_figure_paths(figures)
    libraries = sink.load_libraries(library, options)
    results = iter_enrich_many(lists, libraries, options=options, batch=batch)
    return sink.collect_results(
        results, libraries=libraries, lists=lists, options=options, figures=figures
    )


def gene_function(
    gene: str,
    library: Any = None,
    *,
    model: Any = None,
    offline: bool | None = None,
    batch: int = 256,
) -> Any:
    """A gene's page: the terms the gene set model would add ``gene`` to, across libraries.

    ``library=None`` covers every bundled and cached library. See
    :func:`gsea_plus.evidence.gene_function` for the parameters and
    :data:`gsea_plus.evidence.GENE_COLUMNS` for the columns; the model evidence is
    imported only when this is called.
    """
    from gsea_plus.evidence import gene_function as run

    return run(gene, library, model=model, offline=offline, batch=batch)
