"""Helpers shared by the CLI commands: logging, errors, output format switching."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from gsea_plus.cli.params import Format

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console

log = logging.getLogger("gsea_plus")


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
    """Send gsea_plus log records to stderr through rich, and show progress on a terminal."""
    from gsea_plus import progress

    if sys.stderr.isatty():
        progress.enable(err_console())
    else:
        progress.disable()
    logger = logging.getLogger("gsea_plus")
    if not any(isinstance(h, _WarningHandler) for h in logger.handlers):
        logger.addHandler(_WarningHandler())
    logger.setLevel(logging.INFO if verbose else logging.WARNING)
    logger.propagate = False


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


def resolve_format(fmt: Format, output: Path | None, *, table: bool = True) -> Format:
    """Pick the concrete format: the option, else the output suffix, else TTY or TSV.

    With ``table=False`` (a command that streams, like ``batch``) a terminal gets TSV too.
    """
    if fmt is not Format.auto:
        return fmt
    if output is not None:
        name = output.name.lower().removesuffix(".gz")
        suffix = name.rsplit(".", 1)[-1] if "." in name else ""
        if suffix == "pq":
            return Format.parquet
        if suffix in Format.__members__ and suffix not in ("auto", "table"):
            return Format(suffix)
        return Format.tsv
    return Format.table if table and sys.stdout.isatty() else Format.tsv


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
