"""``gsea-plus batch``: enrichment of many gene lists, streamed to one long table."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from gsea_plus.cli.app import app
from gsea_plus.cli.common import err_console, model_options_from_cli
from gsea_plus.cli.enrich import (
    BACKGROUND_HELP,
    CORRECTION_HELP,
    LIBRARY_HELP,
    MIN_OVERLAP_HELP,
    MODEL_OPTIONS,
)

if TYPE_CHECKING:  # pragma: no cover
    from rich.progress import ProgressColumn

_SHOWN_SUMMARY_ROWS = 20


@app.command("batch")
def batch_cmd(
    source: str = typer.Argument(
        ...,
        metavar="INPUT",
        help="A directory of list files (list name = file stem), a GMT of lists "
        "(name<TAB>description<TAB>genes...), a long table (list_id<TAB>gene, optional "
        "header), or - for stdin.",
    ),
    library: list[str] = typer.Option(["KEGG"], "--library", "-l", help=LIBRARY_HELP),
    output: Path | None = typer.Option(
        None,
        "--output",
        "-o",
        help="Write the results here (atomically: nothing is left if the run fails). "
        "Default: stdout.",
    ),
    fmt: str = typer.Option(
        "auto",
        "--format",
        "-f",
        help="tsv, csv, jsonl or parquet. auto: from the -o suffix, else tsv.",
    ),
    top: int | None = typer.Option(
        None, "--top", "-n", help="Keep each list's K best terms.", min=1
    ),
    engine: str = typer.Option("local", "--engine", help="local, or dask (a Dask cluster)."),
    scheduler: str | None = typer.Option(
        None,
        "--scheduler",
        help="Dask scheduler address (tcp://host:8786). Without it, --engine dask starts a "
        "local cluster.",
    ),
    workers: int | None = typer.Option(
        None, "--workers", help="Worker processes of the local Dask cluster (default: CPUs).", min=1
    ),
    background: str | None = typer.Option(None, "--background", "-b", help=BACKGROUND_HELP),
    correction: str = typer.Option("fdr_bh", "--correction", help=CORRECTION_HELP),
    min_size: int = typer.Option(1, "--min-size", help="Smallest term size kept.", min=0),
    max_size: int | None = typer.Option(None, "--max-size", help="Largest term size kept."),
    min_overlap: int | None = typer.Option(None, "--min-overlap", help=MIN_OVERLAP_HELP, min=0),
    augment: int = MODEL_OPTIONS["augment"],
    rank: str = MODEL_OPTIONS["rank"],
    model_test: str | None = MODEL_OPTIONS["test"],
    compare: bool = MODEL_OPTIONS["compare"],
    model: str | None = MODEL_OPTIONS["model"],
    summary: Path | None = typer.Option(
        None,
        "--summary",
        help="Write the per-list summary (recognized genes, terms tested, significant terms "
        "at adjusted p < 0.05, top term) as TSV here; otherwise its first rows go to stderr.",
    ),
    input_format: str = typer.Option(
        "auto", "--input-format", help="auto, dir, gmt or long (list_id<TAB>gene)."
    ),
    chunk_size: int | None = typer.Option(
        None, "--chunk-size", help="Lists per chunk (default: sized to bound memory).", min=1
    ),
    offline: bool = typer.Option(
        False, "--offline", help="Never use the network; fail if a library is not cached."
    ),
    hgnc: Path | None = typer.Option(
        None,
        "--hgnc",
        envvar="GSEA_PLUS_HGNC",
        help="HGNC complete-set table: match genes missing from a library through aliases and "
        "previous symbols.",
    ),
) -> None:
    """Enrich many gene lists against the same libraries, as one long table.

    Each list is tested exactly as 'gsea-plus enrich' would (same p-values, per-list
    multiple testing); the output has a List column first, then the enrich columns, list
    after list in input order, each sorted by p-value. Empty lists are reported and
    skipped. Results stream to the output, so memory stays bounded for any number of lists.
    """
    from gsea_plus.batch import BATCH_FORMATS, ResultWriter, iter_enrich_many
    from gsea_plus.errors import InputError

    chosen = _format(fmt, output)
    if chosen not in BATCH_FORMATS:
        raise InputError(f"--format must be one of {', '.join(BATCH_FORMATS)} (or auto)")
    if output is None and chosen == "parquet" and sys.stdout.isatty():
        raise InputError("refusing to write parquet to a terminal; use -o FILE")
    options = model_options_from_cli(augment, rank, model_test, compare)
    results = iter_enrich_many(
        source,
        library=list(library),
        background=background,
        correction=correction,
        min_size=min_size,
        max_size=max_size,
        min_overlap=min_overlap,
        top=top,
        chunk_size=chunk_size,
        engine=engine,
        scheduler=scheduler,
        workers=workers,
        offline=offline,
        hgnc=hgnc,
        input_format=input_format,
        model_options=options,
        model=model,
    )
    totals = _Totals()
    progress = _progress() if sys.stderr.isatty() else None
    task = progress.add_task("enriching", total=None) if progress is not None else None
    summary_writer = ResultWriter(summary, "tsv") if summary is not None else None
    try:
        with ResultWriter(output, chosen) as writer:
            if progress is not None:
                progress.start()
            for result in results:
                writer.write(result.table)
                totals.add(result.summary)
                if summary_writer is not None and result.summary:
                    summary_writer.write(_columns(result.summary))
                if progress is not None:
                    progress.update(task, advance=result.n_lists)
            if progress is not None:
                progress.stop()
        if summary_writer is not None:
            summary_writer.close()
    except BaseException:
        if progress is not None:
            progress.stop()
        if summary_writer is not None:
            summary_writer.abort()
        raise
    totals.print(rows=writer.rows, output=output, summary=summary)


def _format(fmt: str, output: Path | None) -> str:
    fmt = fmt.lower()
    if fmt != "auto":
        return fmt
    if output is not None:
        suffix = output.suffix.lower().lstrip(".")
        if suffix in ("csv", "jsonl", "parquet"):
            return suffix
        if suffix == "pq":
            return "parquet"
    return "tsv"


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
        from rich.markup import escape
        from rich.table import Table

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
            for col in cols:
                table.add_column(
                    col,
                    overflow="ellipsis",
                    no_wrap=True,
                    min_width=8 if col == "Top term" else len(col),
                    max_width=48 if col == "Top term" else 24,
                )
            for r in self.rows:
                top = (
                    escape(str(r["Top Term"]))
                    if r["Status"] == "ok"
                    else f"[dim]{r['Status']}[/dim]"
                )
                table.add_row(
                    escape(str(r["List"])),
                    *([escape(str(r["Library"]))] if multi else []),
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
        where = f" to {escape(str(output))}" if output is not None else ""
        extra = f"; {self.empty} empty lists skipped" if self.empty else ""
        if self.unrecognized_all:
            extra += f"; {self.unrecognized_all} list/library pairs with no gene recognized"
        console.print(
            f"[dim]{self.n_records} list/library pairs, {self.significant_lists} with a term at "
            f"adjusted p < 0.05; {rows} rows written{where}{extra}[/dim]"
        )
