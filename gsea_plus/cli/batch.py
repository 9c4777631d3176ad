"""``gsea-plus batch``: enrichment of many gene lists, streamed to one long table."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gsea_plus.cli import params
from gsea_plus.cli.common import err_console, resolve_format
from gsea_plus.cli.params import BATCH, ENRICH, Format

if TYPE_CHECKING:  # pragma: no cover
    from rich.progress import ProgressColumn

_SHOWN_SUMMARY_ROWS = 20


def batch_cmd(
    source: Annotated[
        str,
        typer.Argument(
            metavar="INPUT",
            help="A directory of list files (list name = file stem), a GMT of lists "
            "(name<TAB>description<TAB>genes...), a long table (list_id<TAB>gene, optional "
            "header), or - for stdin.",
        ),
    ],
    library: params.Library = ["KEGG"],  # noqa: B006 (typer copies list defaults)
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Write the results here (atomically: nothing is left if the run fails). "
            "Default: stdout.",
        ),
    ] = None,
    fmt: Annotated[
        Format,
        typer.Option(
            "--format",
            "-f",
            metavar="FORMAT",
            help="tsv, csv, jsonl or parquet. auto: from the -o suffix, else tsv.",
        ),
    ] = Format.auto,
    top: params.BatchTop = BATCH["top"],
    engine: params.Engine = BATCH["engine"],
    scheduler: params.Scheduler = BATCH["scheduler"],
    workers: params.Workers = BATCH["workers"],
    background: params.Background = ENRICH["background"],
    correction: params.Correction = ENRICH["correction"],
    min_size: params.MinSize = ENRICH["min_size"],
    max_size: params.MaxSize = ENRICH["max_size"],
    min_overlap: params.MinOverlap = ENRICH["min_overlap"],
    augment: params.Augment = ENRICH["augment"],
    rank: params.Rank = ENRICH["rank"],
    test: params.ModelTest = ENRICH["test"],
    compare: params.Compare = ENRICH["compare"],
    model: params.Model = ENRICH["model"],
    summary: Annotated[
        Path | None,
        typer.Option(
            "--summary",
            metavar="FILE",
            help="Write the per-list summary (recognized genes, terms tested, significant "
            "terms at adjusted p < 0.05, top term) as TSV here; otherwise its first rows go "
            "to stderr.",
        ),
    ] = None,
    input_format: params.InputFormat = BATCH["input_format"],
    chunk_size: params.ChunkSize = BATCH["chunk_size"],
    plot: Annotated[
        Path | None,
        typer.Option(
            "--plot",
            metavar="FILE",
            help="Draw the lists x terms dot plot (.png, .svg, .pdf): size = overlap / list "
            "size, colour = adjusted p; each list's top terms, as clusterProfiler's "
            "compareCluster chooses them.",
        ),
    ] = None,
    color_by: params.ColorBy = "p",
    report: params.Report = None,
    cluster: params.Cluster = False,
    cluster_method: params.ClusterMethod = "kappa",
    cluster_threshold: params.ClusterThreshold = None,
    representatives: params.Representatives = False,
    offline: params.Offline = False,
    hgnc: params.Hgnc = ENRICH["hgnc"],
    species: params.Species = ENRICH["species"],
) -> None:
    """Enrich many gene lists against the same libraries, as one long table.

    Each list is tested exactly as 'gsea-plus enrich' would (same p-values, per-list
    multiple testing); the output has a List column first, then the enrich columns, list
    after list in input order, each sorted by p-value. Empty lists are reported and
    skipped. Results stream to the output, so memory stays bounded for any number of lists.
    """
    from gsea_plus.api import iter_enrich_many
    from gsea_plus.batch import BATCH_FORMATS
    from gsea_plus.errors import InputError

    options = params.enrich_options(locals())
    batch = params.batch_options(locals())
    figures = params.figure_options(locals())  # checks --plot/--report before any work
    chosen = resolve_format(fmt, output, table=False).value
    if chosen not in BATCH_FORMATS:
        raise InputError(f"--format must be one of {', '.join(BATCH_FORMATS)} (or auto)")
    if output is None and chosen == "parquet" and sys.stdout.isatty():
        raise InputError("refusing to write parquet to a terminal; use -o FILE")
    results = iter_enrich_many(source, list(library), options=options, batch=batch)
    totals = _Totals()
    kept = _Kept() if plot is not None or report is not None else None
    with _ProgressBar() as progress:
        rows = _write(results, output, chosen, summary, totals, progress, figures, kept)
    if kept is not None:
        _figures(kept, figures, totals, options, source)
    totals.print(rows=rows, output=output, summary=summary)


#: Rows of each list kept in memory for the figures and the report.
_KEEP_PER_LIST = 200


class _Kept:
    """The best rows of each list (for ``--plot`` and ``--report``), and the summaries."""

    def __init__(self) -> None:
        self.frames: list = []
        self.summary: list[dict] = []

    def add(self, frame, summary: list[dict]) -> None:
        import numpy as np

        lists = frame["List"].to_numpy()
        change = np.r_[True, lists[1:] != lists[:-1]] if len(lists) else np.zeros(0, bool)
        start = np.maximum.accumulate(np.where(change, np.arange(len(lists)), 0))
        self.frames.append(frame[(np.arange(len(lists)) - start) < _KEEP_PER_LIST])
        self.summary.extend(summary)

    def frame(self):
        import pandas as pd

        return pd.concat(self.frames, ignore_index=True) if self.frames else None


def _figures(kept: _Kept, figures, totals, options, source) -> None:
    """``--plot`` (the comparison figure) and ``--report`` of a finished batch."""
    frame = kept.frame()
    if frame is None or frame.empty:
        return
    if figures.plot is not None:
        from gsea_plus.plot import plot_comparison

        plot_comparison(
            frame,
            figures.plot,
            color_by=figures.color_by,
            representatives=figures.representatives,
        )
    if figures.report is not None:
        from gsea_plus.report import ReportContext, write_batch_report

        context = ReportContext(
            command_line=params.command_line(),
            input=str(source),
            input_size=totals.n_records,
            correction=options.correction,
            parameters=params.report_parameters(options),
        )
        write_batch_report(
            figures.report,
            frame,
            context,
            summary=kept.summary,
            color_by=figures.color_by,
            representatives=figures.representatives,
            cluster=figures.cluster_options,
        )


def _write(results, output, fmt, summary, totals, progress, figures, kept) -> int:
    """Stream each chunk to the output (and the summary file); return the rows written."""
    from gsea_plus.batch import ResultWriter

    summary_writer = ResultWriter(summary, "tsv") if summary is not None else None
    try:
        with ResultWriter(output, fmt) as writer:
            for result in results:
                table = result.table
                if figures.clustered or kept is not None:
                    import pandas as pd

                    frame = figures.cluster(pd.DataFrame(table))  # each list on its own
                    if kept is not None:
                        kept.add(frame, result.summary)
                    frame = figures.shown(frame)
                    table = {c: frame[c].to_numpy() for c in frame.columns}
                writer.write(table)
                totals.add(result.summary)
                if summary_writer is not None and result.summary:
                    summary_writer.write(_columns(result.summary))
                progress.advance(result.n_lists)
        if summary_writer is not None:
            summary_writer.close()
    except BaseException:
        if summary_writer is not None:
            summary_writer.abort()
        raise
    return writer.rows


class _ProgressBar:
    """A transient rich progress bar on stderr when it is a terminal, else nothing."""

    def __init__(self) -> None:
        self.progress = _progress() if sys.stderr.isatty() else None
        self.task = None

    def __enter__(self) -> _ProgressBar:
        if self.progress is not None:
            self.task = self.progress.add_task("enriching", total=None)
            self.progress.start()
        return self

    def advance(self, n: int) -> None:
        if self.progress is not None:
            self.progress.update(self.task, advance=n)

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()


def _columns(records: list[dict]) -> dict[str, list]:
    from gsea_plus.batch import SUMMARY_COLUMNS

    return {c: [r[c] for r in records] for c in SUMMARY_COLUMNS}


def _progress():
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,.0f} lists"),
        _rate_column(),
        TimeElapsedColumn(),
        console=err_console(),
        transient=True,
    )


def _rate_column() -> ProgressColumn:
    from rich.progress import ProgressColumn
    from rich.text import Text

    class RateColumn(ProgressColumn):
        """Lists per second."""

        def render(self, task) -> Text:
            speed = task.finished_speed or task.speed
            text = f"{speed:,.0f} lists/s" if speed else "- lists/s"
            return Text(text, style="progress.data.speed")

    return RateColumn()


class _Totals:
    """Keeps the first summary rows and running totals (never all rows: batches are big)."""

    def __init__(self) -> None:
        self.rows: list[dict] = []
        self.lists: set[str] = set()
        self.n_records = 0
        self.empty = 0
        self.unrecognized_all = 0
        self.significant_lists = 0

    def add(self, records: list[dict]) -> None:
        for r in records:
            self.n_records += 1
            if len(self.rows) < _SHOWN_SUMMARY_ROWS:
                self.rows.append(r)
            if r["Status"].startswith("empty"):
                self.empty += 1
            elif r["Recognized"] == 0:
                self.unrecognized_all += 1
            if r["Significant"] > 0:
                self.significant_lists += 1

    def print(self, *, rows: int, output: Path | None, summary: Path | None) -> None:
        from rich.table import Table

        from gsea_plus.output import show

        console = err_console()
        if summary is None and self.rows:
            multi = len({r["Library"] for r in self.rows}) > 1
            table = Table(title="per-list summary", header_style="bold", pad_edge=False)
            cols = [
                "List",
                *(["Library"] if multi else []),
                "Recognized",
                "Tested",
                "Significant",
                "Top term",
            ]
            from rich.markup import escape

            from gsea_plus.output import printable
            from gsea_plus.terminal import fit_term

            width = console.width
            term_w = max(16, min(48, width - 60))
            for col in cols:
                if col in ("List", "Library"):  # whole names: they wrap, never cut
                    table.add_column(col, overflow="fold", max_width=32)
                elif col == "Top term":
                    table.add_column(col, width=term_w, no_wrap=True, overflow="ignore")
                else:
                    table.add_column(col, justify="right", no_wrap=True)
            for r in self.rows:
                if r["Status"] == "ok":
                    top = escape(fit_term(r["Top Term"], term_w))
                else:
                    top = f"[dim]{escape(r['Status'])}[/dim]"
                table.add_row(
                    escape(printable(r["List"])),
                    *([escape(printable(r["Library"]))] if multi else []),
                    f"{r['Recognized']}/{r['Input Genes']}",
                    str(r["Terms Tested"]),
                    str(r["Significant"]),
                    top,
                )
            console.print(table)
            if self.n_records > len(self.rows):
                console.print(
                    f"[dim]... {self.n_records - len(self.rows)} more rows: "
                    "use --summary FILE for all of them[/dim]"
                )
        where = f" to {show(output)}" if output is not None else ""
        extra = f"; {self.empty} empty lists skipped" if self.empty else ""
        if self.unrecognized_all:
            extra += f"; {self.unrecognized_all} list/library pairs with no gene recognized"
        console.print(
            f"[dim]{self.n_records} list/library pairs, {self.significant_lists} with a term at "
            f"adjusted p < 0.05; {rows} rows written{where}{extra}[/dim]"
        )
