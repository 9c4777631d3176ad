"""Helpers shared by the CLI commands: logging, errors, output format switching."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sized
from pathlib import Path
from typing import TYPE_CHECKING, Any

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

        # Log lines stay whole when stderr is a file or a pipe (grep needs them whole);
        # on a terminal rich wraps them to its width.
        # emoji=False: a list named "B:up" prints as it is, not as "B" and an emoji
        _console = Console(
            stderr=True, highlight=False, emoji=False, soft_wrap=not sys.stderr.isatty()
        )
    return _console


def out_console() -> Console:
    """A rich console on stdout (tables)."""
    from rich.console import Console

    return Console(highlight=False, emoji=False)


class _WarningHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        from gsea_plus.output import show

        level = record.levelname.lower()
        style = {"warning": "yellow", "error": "red"}.get(level, "dim")
        err_console().print(f"[{style}]{level}:[/{style}] {show(record.getMessage())}")


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


#: Exit codes of the ``gsea-plus`` command (the README and ``--help`` list them).
EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_NETWORK = 3
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141
EXIT_TERMINATED = 143

EXIT_CODES_HELP = (
    "Exit codes: 0 success; 2 usage, input, library, cache or output error; 3 network error; "
    "130 interrupted (Ctrl-C); 141 output closed by its reader; 143 terminated (SIGTERM); "
    "1 internal error (set GSEA_PLUS_DEBUG=1 for the traceback)."
)
#: Environment variable: when set, an unexpected error shows its traceback.
DEBUG_ENV = "GSEA_PLUS_DEBUG"


class Terminated(BaseException):
    """SIGTERM, raised like KeyboardInterrupt so that every clean-up runs."""


def _on_sigterm(signum, frame) -> None:
    raise Terminated()


def _error(message: str) -> None:
    try:
        print(f"gsea-plus: error: {message}", file=sys.stderr, flush=True)
    except (OSError, ValueError, AttributeError):  # stderr closed: the code still tells
        pass


def _quiet_stdout() -> None:
    """Point stdout at /dev/null so that the final flush cannot fail again."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def _usage_error(exc) -> int:
    from typer._click.exceptions import NoArgsIsHelpError

    ctx = getattr(exc, "ctx", None)
    if isinstance(exc, NoArgsIsHelpError):  # (the help was printed as it was raised)
        return EXIT_USAGE
    message = " ".join(exc.format_message().split())
    where = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
    _error(message + where)
    return getattr(exc, "exit_code", EXIT_USAGE) or EXIT_USAGE


def help_if_bare(ctx: typer.Context) -> None:
    """In a command group's callback: no subcommand means its help on stderr and exit 2."""
    if ctx.invoked_subcommand is None and not ctx.resilient_parsing:
        import contextlib

        with contextlib.redirect_stdout(sys.stderr):
            text = ctx.get_help()  # typer's rich help prints itself, to (redirected) stdout
        if text.strip():
            typer.echo(text, err=True)
        raise typer.Exit(EXIT_USAGE)


def run_app(app: typer.Typer, args: list[str] | None = None) -> int:
    """Run the command line; every outcome is an exit code and at most one stderr line.

    Usage errors, input and library errors, network errors, a closed output pipe,
    Ctrl-C and SIGTERM each get their code (:data:`EXIT_CODES_HELP`); clean-up (temp
    files, partial outputs) runs before the process exits. An unexpected exception is one
    line too, unless ``GSEA_PLUS_DEBUG`` is set.
    """
    import os
    import signal

    from typer._click.exceptions import ClickException

    from gsea_plus.errors import GseaPlusError

    previous = None
    try:
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread (tests running the app in a thread)
        pass
    try:
        command = typer.main.get_command(app)
        with command.make_context("gsea-plus", list(sys.argv[1:] if args is None else args)) as ctx:
            command.invoke(ctx)
    except GseaPlusError as exc:
        _error(str(exc))
        return exc.exit_code
    except ClickException as exc:
        return _usage_error(exc)
    except typer.Exit as exc:
        return exc.exit_code
    except (KeyboardInterrupt, typer.Abort):
        _error("interrupted")
        return EXIT_INTERRUPTED
    except Terminated:
        _error("terminated")
        return EXIT_TERMINATED
    except BrokenPipeError:
        _quiet_stdout()
        _error("the output was closed before the end (broken pipe)")
        return EXIT_BROKEN_PIPE
    except MemoryError:
        _error("out of memory")
        return EXIT_INTERNAL
    except Exception as exc:
        if os.environ.get(DEBUG_ENV):
            raise
        _error(
            f"internal error: {type(exc).__name__}: {exc} "
            f"(please report it; {DEBUG_ENV}=1 shows the traceback)"
        )
        return EXIT_INTERNAL
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return EXIT_OK


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
        if suffix in _TEXT_SUFFIXES or "." not in name or _is_device(output):
            return Format.tsv
        from gsea_plus.errors import InputError

        formats = ", ".join(f.value for f in Format if f not in (Format.auto, Format.table))
        raise InputError(
            f"cannot tell the format of {output.name!r} from its suffix: name the file "
            f".tsv, .csv, .json, .jsonl, .parquet or .xlsx, or give -f ({formats})"
        )
    return Format.table if table and sys.stdout.isatty() else Format.tsv


#: ``-o`` suffixes written as TSV.
_TEXT_SUFFIXES = ("txt", "tab", "tsv", "text", "out")


def _is_device(path: Path) -> bool:
    from gsea_plus.output import output_kind

    return output_kind(path) != "file"


def write_frame(df, fmt: Format, output: Path | str | None) -> None:
    """Write a table (DataFrame or mapping of columns) to ``output`` (``-``/None: stdout).

    A file is replaced atomically; devices and FIFOs are written directly
    (:func:`gsea_plus.output.open_output`).
    """
    from gsea_plus.output import frame_to_bytes, write_output

    write_output(output, frame_to_bytes(df, fmt.value))


def emit(result, *, fmt: Format, output: Path | None, summary: str, table) -> None:
    """Deliver a command's result: ``-o FILE`` and/or stdout, as a table or a format.

    On a terminal (``auto``) ``table()`` (a rich renderable) and the summary go to stdout;
    otherwise the summary goes to stderr and the machine-readable result to stdout
    unless ``-o`` took it.
    """
    from gsea_plus.output import STDOUT, output_kind, show

    if output is not None and str(output) == STDOUT:
        output = None  # -o - is standard output
    chosen = resolve_format(fmt, output)
    from gsea_plus.errors import InputError
    from gsea_plus.output import BINARY_FORMATS

    if chosen.value in BINARY_FORMATS and output is None and sys.stdout.isatty():
        raise InputError(f"refusing to write {chosen.value} to a terminal; use -o FILE")
    if output is not None:
        write_frame(result, Format.tsv if chosen is Format.table else chosen, output)
        if output_kind(output) == "file":
            err_console().print(f"[dim]wrote {_rows(result)} rows to {show(output)}[/dim]")
    if chosen is Format.table:
        console = out_console()
        console.print(table())
        console.print(summary)
        return
    err_console().print(summary)
    if output is None:
        write_frame(result, chosen, None)


def _rows(table: Any) -> int:
    if hasattr(table, "shape"):
        return int(table.shape[0])
    first: Sized = next(iter(table.values()), [])
    return len(first)
