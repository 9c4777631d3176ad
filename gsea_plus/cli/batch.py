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

    from gsea_plus.api.batch import BatchRun


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
    output: params.BatchOutput = None,
    fmt: params.BatchFormat = Format.auto,
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
    summary: params.Summary = None,
    input_format: params.InputFormat = BATCH["input_format"],
    chunk_size: params.ChunkSize = BATCH["chunk_size"],
    plot: params.BatchPlot = None,
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
    from gsea_plus.api import write_many
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
    with _ProgressBar() as progress:
        run = write_many(
            source,
            list(library),
            options=options,
            batch=batch,
            figures=figures,
            output=output,
            fmt=chosen,
            summary=summary,
            command_line=params.command_line(),
            progress=progress.advance,
        )
    _print(run, output=output, summary=summary)


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


_WHAT = {"plot": "the comparison plot", "report": "the report", "summary": "the summary"}


def _print(run: BatchRun, *, output: Path | None, summary: Path | None) -> None:
    """The per-list summary table (unless --summary took it), the totals, the files."""
    from gsea_plus.output import show

    console = err_console()
    if summary is None and run.summary:
        console.print(_summary_table(run.summary, console.width))
        if run.records > len(run.summary):
            console.print(
                f"[dim]... {run.records - len(run.summary)} more rows: "
                "use --summary FILE for all of them[/dim]"
            )
    where = f" to {show(output)}" if output is not None else ""
    extra = f"; {run.empty} empty lists skipped" if run.empty else ""
    if run.unrecognized:
        extra += f"; {run.unrecognized} list/library pairs with no gene recognized"
    console.print(
        f"[dim]{run.records} list/library pairs, {run.significant} with a term at "
        f"adjusted p < 0.05; {run.rows} rows written{where}{extra}[/dim]"
    )
    for what, path in run.written:
        if what in _WHAT:
            console.print(f"[dim]wrote {_WHAT[what]} to {show(path)}[/dim]")


def _summary_table(rows: list[dict], width: int):
    from rich.markup import escape
    from rich.table import Table

    from gsea_plus.output import printable
    from gsea_plus.terminal import fit_term

    multi = len({r["Library"] for r in rows}) > 1
    table = Table(title="per-list summary", header_style="bold", pad_edge=False)
    cols = ["List", *(["Library"] if multi else []), "Recognized", "Tested", "Significant"]
    term_w = max(16, min(48, width - 60))
    for col in cols + ["Top term"]:
        if col in ("List", "Library"):  # whole names: they wrap, never cut
            table.add_column(col, overflow="fold", max_width=32)
        elif col == "Top term":
            table.add_column(col, width=term_w, no_wrap=True, overflow="ignore")
        else:
            table.add_column(col, justify="right", no_wrap=True)
    for r in rows:
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
    return table
