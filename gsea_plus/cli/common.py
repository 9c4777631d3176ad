"""Helpers shared by the CLI commands: logging, errors, output format switching."""

from __future__ import annotations

import logging
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console

log = logging.getLogger("gsea_plus")


def offline_option() -> typer.models.OptionInfo:
    """The ``--offline`` option, shared by every command (env ``GSEA_PLUS_OFFLINE=1`` too)."""
    return typer.Option(
        False,
        "--offline",
        envvar="GSEA_PLUS_OFFLINE",
        help="Never use the network; fail, naming what is missing, if a library is not "
        "cached (also env GSEA_PLUS_OFFLINE=1).",
    )


MODEL_TEST_HELP = (
    "The model-based test. Default: combined, what benchmarks/augment_bench.py recommends. "
    "prediction (the model alone; best for genes not yet annotated): the model is given "
    "each term's genes and ranks the vocabulary; the list's genes outside the term are scored "
    "by log rank and tested against the term's background distribution (gamma null). "
    "combined: min(1, classical p / 0.9, prediction p / 0.1), a weighted Bonferroni that "
    "keeps the classical test's strength. fisher: Fisher's method on the same two p-values. "
    "augmented: Fisher on the list plus its top-N predicted genes, against random lists of "
    "the same size augmented the same way. cosine: cosine of the model encodings of list and "
    "term, against random lists of the same size. signature: the model's scores as a ranked "
    "signature, running-sum NES per term, against random lists of the same size. naive: "
    "plain Fisher on the augmented list (not valid; to reproduce the benchmark only)."
)


def model_cli_options() -> dict[str, typer.models.OptionInfo]:
    """The model-based enrichment options shared by ``enrich`` and ``batch``."""
    return {
        "augment": typer.Option(
            0,
            "--augment",
            "-a",
            min=0,
            help="Add the model's top N predicted genes (not in the list, within the "
            "background) and show which hit each term (Predicted Overlap/Genes, marked * in "
            "the table). P-values come from --model-test, never from plain Fisher on the "
            "augmented list (not valid: predicted genes are coherent with each other).",
        ),
        "rank": typer.Option(
            "overlap",
            "--rank",
            help="overlap (classical) or embedding: rank terms with the gene set foundation "
            "model's evidence (see --model-test); every term passing the size filters is "
            "tested and reported.",
        ),
        "test": typer.Option(None, "--model-test", help=MODEL_TEST_HELP, show_default=False),
        "compare": typer.Option(
            False,
            "--compare",
            help="Show the classical and the model evidence side by side: each with its own "
            "adjusted p-value and rank.",
        ),
        "model": typer.Option(
            None,
            "--model",
            help="Model directory or hub id (owner/name); default: the bundled model.",
        ),
    }


def model_options_from_cli(augment: int, rank: str, test: str | None, compare: bool):
    """:class:`gsea_plus.augment.ModelOptions` for the CLI flags, or ``None`` (classical)."""
    from gsea_plus.augment import model_options

    return model_options(augment=augment, rank=rank, test=test, compare=compare)


class Format(str, Enum):
    """Output formats. ``auto`` is a rich table on a terminal and TSV otherwise."""

    auto = "auto"
    table = "table"
    tsv = "tsv"
    csv = "csv"
    json = "json"
    jsonl = "jsonl"
    parquet = "parquet"


_console: Console | None = None


def err_console() -> Console:
    """A rich console on stderr (warnings, progress, summaries)."""
    global _console
    if _console is None:
        from rich.console import Console

        _console = Console(stderr=True, highlight=False)
    return _console


def out_console() -> Console:
    """A rich console on stdout (tables)."""
    from rich.console import Console

    return Console(highlight=False)


class _WarningHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        from rich.markup import escape

        level = record.levelname.lower()
        style = {"warning": "yellow", "error": "red"}.get(level, "dim")
        err_console().print(f"[{style}]{level}:[/{style}] {escape(record.getMessage())}")


def setup_logging(*, verbose: bool = False) -> None:
    """Send gsea_plus log records to stderr through rich (the CLI only)."""
    logger = logging.getLogger("gsea_plus")
    if not any(isinstance(h, _WarningHandler) for h in logger.handlers):
        logger.addHandler(_WarningHandler())
    logger.setLevel(logging.INFO if verbose else logging.WARNING)
    logger.propagate = False


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print one error line on stderr and return an Exit to raise."""
    print(f"gsea-plus: error: {message}", file=sys.stderr)
    return typer.Exit(code)


def run_app(app: typer.Typer) -> int:
    """Run the Typer app, turning known errors into one stderr line and an exit code."""
    from gsea_plus.errors import GseaPlusError

    try:
        app(standalone_mode=False)
    except GseaPlusError as exc:
        print(f"gsea-plus: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        print("gsea-plus: aborted", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("gsea-plus: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader (head, less) went away: not an error of ours.
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Exception as exc:  # click usage errors and the like
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            return exc.exit_code
        raise
    return 0


def resolve_format(fmt: Format, output: Path | None) -> Format:
    """Pick the concrete format: the option, else the output suffix, else TTY or TSV."""
    if fmt is not Format.auto:
        return fmt
    if output is not None:
        name = output.name.lower().removesuffix(".gz")
        suffix = name.rsplit(".", 1)[-1] if "." in name else ""
        if suffix in {"tsv", "txt", "tab"}:
            return Format.tsv
        if suffix in Format.__members__:
            return Format(suffix)
        return Format.tsv
    return Format.table if sys.stdout.isatty() else Format.tsv


def write_frame(df, fmt: Format, output: Path | None) -> None:
    """Write a table (DataFrame or mapping of columns) to ``output`` or stdout.

    A file is written atomically, so a failure leaves no half-written output.
    """
    from gsea_plus.output import frame_to_bytes

    data = frame_to_bytes(df, fmt.value)
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    from gsea_plus.library.cache import atomic_write

    if output.suffix.lower() == ".gz":
        import gzip

        data = gzip.compress(data, compresslevel=6, mtime=0)
    atomic_write(output, data)


def emit(result, *, fmt: Format, output: Path | None, summary: str, table) -> None:
    """Deliver a command's result: ``-o FILE`` and/or stdout, as a table or a format.

    On a terminal (``auto``) ``table()`` (a rich renderable) and the summary go to stdout;
    otherwise the summary goes to stderr and the machine-readable result to stdout
    unless ``-o`` took it.
    """
    chosen = resolve_format(fmt, output)
    if output is not None:
        write_frame(result, Format.tsv if chosen is Format.table else chosen, output)
    if chosen is Format.table:
        console = out_console()
        console.print(table())
        console.print(summary)
        return
    err_console().print(summary)
    if output is None:
        write_frame(result, chosen, None)
