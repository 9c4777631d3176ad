"""Many lists to files: the batch streamed to one table, with its summary, figure and report.

:func:`write_many` is what ``gsea-plus batch`` runs and what
``gsea_plus.enrich_many(..., output=PATH)`` calls: chunks of lists are scored
(:func:`gsea_plus.api.iter_enrich_many`), clustered on their columns when asked
(:func:`gsea_plus.cluster.cluster_table`: no DataFrame per chunk, the encoded columns stay
encoded), written as they come (:class:`gsea_plus.batch.ResultWriter`), and kept, bounded,
for the comparison figure and the report:

- each list's best :data:`KEEP_PER_LIST` rows for the figures;
- every row for the report's table, up to :data:`REPORT_MAX_ROWS` (beyond that the lists
  that follow keep only their best rows, and the report and the log say so).
"""

from __future__ import annotations

import logging
import os
import shlex
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gsea_plus.columnar import ResultTable, n_rows
from gsea_plus.errors import InputError
from gsea_plus.options import EnrichOptions, FigureOptions

log = logging.getLogger(__name__)

__all__ = [
    "KEEP_PER_LIST",
    "REPORT_MAX_ROWS",
    "BatchRun",
    "as_result_table",
    "collect_results",
    "first_rows_per_list",
    "format_of",
    "load_libraries",
    "write_results",
]

#: Rows of each list kept for the comparison figure and each list's own figure.
KEEP_PER_LIST = 200
#: Rows embedded in a batch report's table (every row up to this many).
REPORT_MAX_ROWS = 1_000_000
#: Summary records a :class:`BatchRun` keeps to show (all go to the summary file).
SHOWN_SUMMARY_ROWS = 20


@dataclass
class BatchRun:
    """What a batch written to files did: counts, the first summary records, the files.

    Attributes
    ----------
    rows
        Result rows written.
    records
        List/library pairs (summary records).
    empty
        Empty lists (skipped).
    unrecognized
        List/library pairs with no gene recognized.
    significant
        List/library pairs with a term at adjusted p < 0.05.
    summary
        The first :data:`SHOWN_SUMMARY_ROWS` summary records (all are in the summary file).
    written
        ``(what, path)`` of each file written: ``results``, ``summary``, ``plot``, ``report``.
    """

    rows: int = 0
    records: int = 0
    empty: int = 0
    unrecognized: int = 0
    significant: int = 0
    summary: list[dict] = field(default_factory=list)
    written: list[tuple[str, Path]] = field(default_factory=list)

    def add(self, records: Iterable[Mapping[str, Any]]) -> None:
        """Count a chunk's summary records (and keep the first few)."""
        for r in records:
            self.records += 1
            if len(self.summary) < SHOWN_SUMMARY_ROWS:
                self.summary.append(dict(r))
            if str(r["Status"]).startswith("empty"):
                self.empty += 1
            elif r["Recognized"] == 0:
                self.unrecognized += 1
            if r["Significant"] > 0:
                self.significant += 1


def as_result_table(table: Mapping[str, Any]) -> ResultTable:
    """A chunk's table as a :class:`ResultTable` (plain columns are kept as they are)."""
    if isinstance(table, ResultTable):
        return table
    return ResultTable(dict(table), n_rows(table))


def first_rows_per_list(table: ResultTable, k: int) -> np.ndarray:
    """Row numbers of each list's first ``k`` rows (its best: a list's rows are by p)."""
    from gsea_plus.cluster import list_groups

    groups = [rows[:k] for rows in list_groups(table)]
    return np.sort(np.concatenate(groups)) if groups else np.zeros(0, dtype=np.int64)


class _Kept:
    """The rows kept for the figures and the report, and what the report says of libraries."""

    def __init__(self, *, report: bool):
        self.figure_parts: list[ResultTable] = []
        self.table_parts: list[ResultTable] = []
        self.report = report
        self.table_rows = 0
        self.cut_after: str | None = None  # the last list whose rows are all in the report
        self.summary: list[dict] = []
        self.libraries: dict[str, dict[str, Any]] = {}

    def add(self, table: ResultTable, summary: list[dict]) -> None:
        best = first_rows_per_list(table, KEEP_PER_LIST)
        self.figure_parts.append(table.take(best))
        if self.report:
            self.summary.extend(summary)
            if self.cut_after is None and self.table_rows + table.rows <= REPORT_MAX_ROWS:
                self.table_parts.append(table)
                self.table_rows += table.rows
            else:
                if self.cut_after is None:
                    self.cut_after = str(summary[0]["List"]) if summary else ""
                self.table_parts.append(table.take(best))
                self.table_rows += len(best)
        self._library_facts(table, summary)

    def _library_facts(self, table: ResultTable, summary: list[dict]) -> None:
        """Per library: the range of backgrounds and of terms tested over the lists."""
        if table.rows and "Background Size" in table and "Library" in table:
            libs = np.asarray(table["Library"], dtype=object)
            sizes = np.asarray(table["Background Size"], dtype=np.float64)
            for name in dict.fromkeys(libs.tolist()):
                values = sizes[libs == name]
                self._widen(str(name), "background_size", float(values.min()))
                self._widen(str(name), "background_size", float(values.max()))
        for r in summary:
            if r.get("Status") == "ok":
                self._widen(str(r["Library"]), "terms_tested", float(r["Terms Tested"]))

    def _widen(self, library: str, key: str, value: float) -> None:
        facts = self.libraries.setdefault(library, {})
        lo, hi = facts.get(key, (value, value))
        facts[key] = (min(lo, int(value)), max(hi, int(value)))

    def frame(self) -> Any:
        """The kept rows for the figures, as one DataFrame (built once, at the end)."""
        from gsea_plus.engine import to_frame

        parts = [p for p in self.figure_parts if p.rows]
        return to_frame(ResultTable.concat(parts)) if parts else None

    def table(self) -> ResultTable | None:
        parts = [p for p in self.table_parts if p.rows]
        return ResultTable.concat(parts) if parts else None


def load_libraries(library: Any, options: EnrichOptions) -> list[Any]:
    """Each library loaded once (the report names its version, checksum and source)."""
    from gsea_plus.library import load_library

    specs = list(library) if isinstance(library, (list, tuple)) else [library]
    if not specs:
        raise InputError("no library given")
    return [load_library(spec, offline=options.offline) for spec in specs]


def _clustered(table: ResultTable, figures: FigureOptions) -> ResultTable:
    """A chunk with its cluster columns when asked (each list clustered on its own)."""
    if not figures.clustered:
        return table
    from gsea_plus.cluster import cluster_table

    return cluster_table(table, method=figures.cluster_method, threshold=figures.threshold)


def write_results(
    results: Iterable[Any],
    *,
    libraries: list[Any],
    lists: Any,
    options: EnrichOptions,
    figures: FigureOptions,
    output: str | os.PathLike[str] | None,
    fmt: str,
    summary: str | os.PathLike[str] | None = None,
    command_line: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> BatchRun:
    """Stream a batch's results to ``output`` (see the module docstring).

    Parameters
    ----------
    results
        The chunks' :class:`~gsea_plus.batch.BatchResult` (from
        :func:`gsea_plus.api.iter_enrich_many`), consumed as they come.
    libraries
        The loaded libraries they were scored against (:func:`load_libraries`).
    lists
        What the lists came from (named in the report).
    options, figures
        The run's options and what to draw.
    output, fmt
        Where the table goes, and its format (:data:`gsea_plus.batch.BATCH_FORMATS`).
    summary
        A TSV of one record per list and library.
    command_line
        The command as typed, for the report (default: the Python call).
    progress
        Called with the lists of each finished chunk.

    Returns
    -------
    BatchRun
        Counts, the first summary records and the files written.
    """
    from gsea_plus.batch import BATCH_FORMATS, ResultWriter

    if fmt not in BATCH_FORMATS:
        raise InputError(f"--format must be one of {', '.join(BATCH_FORMATS)} for a batch")
    run = BatchRun()
    kept = _Kept(report=figures.report is not None) if figures.plot or figures.report else None
    summary_writer = ResultWriter(summary, "tsv") if summary is not None else None
    try:
        with ResultWriter(output, fmt) as writer:
            for result in results:
                table = _clustered(as_result_table(result.table), figures)
                if kept is not None:
                    kept.add(table, result.summary)
                writer.write(_shown(table, figures))
                run.add(result.summary)
                if summary_writer is not None and result.summary:
                    summary_writer.write(_summary_columns(result.summary))
                if progress is not None:
                    progress(result.n_lists)
        if summary_writer is not None:
            summary_writer.close()
    except BaseException:
        if summary_writer is not None:
            summary_writer.abort()
        raise
    run.rows = writer.rows
    _note_written(run, "results", output)
    _note_written(run, "summary", summary)
    if kept is not None:
        _draw(kept, run, figures, options, libraries, lists, command_line)
    return run


def collect_results(
    results: Iterable[Any],
    *,
    libraries: list[Any],
    lists: Any,
    options: EnrichOptions,
    figures: FigureOptions,
    command_line: str | None = None,
) -> Any:
    """A batch's results in memory, as one DataFrame, with their figure and report.

    Clustered on each chunk's columns; the figure and the report are drawn as
    :func:`write_results` draws them.
    """
    from gsea_plus.engine import to_frame

    run = BatchRun()
    kept = _Kept(report=figures.report is not None) if figures.plot or figures.report else None
    parts = []
    for result in results:
        table = _clustered(as_result_table(result.table), figures)
        if kept is not None:
            kept.add(table, result.summary)
        parts.append(_shown(table, figures))
        run.add(result.summary)
    if kept is not None:
        _draw(kept, run, figures, options, libraries, lists, command_line)
    return to_frame(ResultTable.concat(parts))


def format_of(output: Any) -> str:
    """A batch output's format from its suffix (``.csv``, ``.jsonl``, ``.parquet``...), else TSV."""
    from gsea_plus.batch import BATCH_FORMATS

    if output is None:
        return "tsv"
    name = Path(output).name.lower().removesuffix(".gz")
    suffix = name.rsplit(".", 1)[-1] if "." in name else ""
    if suffix == "pq":
        return "parquet"
    return suffix if suffix in BATCH_FORMATS else "tsv"


def _shown(table: ResultTable, figures: FigureOptions) -> ResultTable:
    if not figures.representatives:
        return table
    from gsea_plus.cluster import representative_rows

    return table.take(representative_rows(table))


def _summary_columns(records: list[dict]) -> dict[str, list]:
    from gsea_plus.batch import SUMMARY_COLUMNS

    return {c: [r[c] for r in records] for c in SUMMARY_COLUMNS}


def _note_written(run: BatchRun, what: str, path: Any) -> None:
    from gsea_plus.output import output_kind

    if path is not None and output_kind(path) == "file":
        run.written.append((what, Path(path)))


def _draw(kept: _Kept, run: BatchRun, figures, options, loaded, lists, command_line) -> None:
    """The comparison figure (``plot``) and the report of a finished batch."""
    frame = kept.frame()
    if frame is None or frame.empty:
        log.warning("no result to draw: the figure and the report are not written")
        return
    if figures.plot is not None:
        from gsea_plus.plot import plot_comparison

        plot_comparison(
            frame, figures.plot, color_by=figures.color_by, representatives=figures.representatives
        )
        _note_written(run, "plot", figures.plot)
    if figures.report is not None:
        from gsea_plus.report import write_batch_report

        write_batch_report(
            figures.report,
            frame,
            _context(kept, run, options, loaded, lists, command_line),
            summary=kept.summary,
            color_by=figures.color_by,
            representatives=figures.representatives,
            cluster=_cluster_options(figures),
            table=kept.table(),
            table_note=_cut_note(kept),
        )
        _note_written(run, "report", figures.report)


def _cluster_options(figures: FigureOptions) -> dict[str, Any] | None:
    if not figures.clustered:
        return None
    return {"method": figures.cluster_method, "threshold": figures.threshold}


def _cut_note(kept: _Kept) -> str:
    if kept.cut_after is None:
        return ""
    import html

    log.warning(
        "the report's table holds every row up to %d; from list %s on, each list's best "
        "%d rows (the results file has them all)",
        REPORT_MAX_ROWS,
        kept.cut_after,
        KEEP_PER_LIST,
    )
    return (
        f'<p class="note warn">The table holds every row of the lists before '
        f"{html.escape(kept.cut_after)} ({REPORT_MAX_ROWS:,} rows at most); from that list on, "
        f"each list's best {KEEP_PER_LIST} rows. The results file has every row.</p>"
    )


def _context(kept: _Kept, run: BatchRun, options, loaded, lists, command_line):
    """The report's header: the lists, each library's facts over the lists, the options."""
    from gsea_plus.api.figures import report_parameters
    from gsea_plus.report import ReportContext

    libraries: list[Mapping[str, Any]] = []
    for lib in loaded:
        facts = kept.libraries.get(lib.name, {})
        libraries.append(
            {
                "library": lib.name,
                "version": lib.version,
                "sha256": str(lib.meta.get("sha256", "")),
                "source": str(lib.meta.get("source", "")),
                "terms": len(lib.terms),
                "terms_tested": facts.get("terms_tested"),
                "background_size": facts.get("background_size"),
                "background_kind": _background_kind(options.background),
                "method": options.model_options.method if options.model_options else "",
            }
        )
    model = None
    if options.model_options is not None:
        m = options.model_options
        model = {"test": m.test, "augment": m.augment, "name": str(m.model or "")}
    source = str(lists) if isinstance(lists, (str, os.PathLike)) else "lists given in Python"
    return ReportContext(
        command_line=command_line or _python_call(source),
        input=source,
        input_size=run.records // max(len(loaded), 1),
        libraries=libraries,
        correction=options.correction,
        parameters=report_parameters(options),
        model=model,
    )


def _background_kind(background: Any) -> str:
    if background is None:
        return "library"
    return "size" if isinstance(background, int) else "genes"


def _python_call(source: str) -> str:
    return f"gsea_plus.enrich_many({shlex.quote(source)}, ...)"
