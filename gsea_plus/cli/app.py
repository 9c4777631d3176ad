"""Assembles the Typer app from the command modules and runs it with clean errors."""

from __future__ import annotations

import sys

import typer

from gsea_plus import __version__

app = typer.Typer(
    name="gsea-plus",
    help="Gene set enrichment analysis: exact, fast, offline, with a gene set foundation model.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gsea-plus {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log progress details."),
) -> None:
    """Gene set enrichment analysis: exact, fast, offline, with a gene set foundation model."""
    from gsea_plus.cli.common import setup_logging

    setup_logging(verbose=verbose)


def _register() -> None:
    # Each module adds its commands to `app` (or a sub-app) at import time.
    from gsea_plus.cli import enrich, libraries  # noqa: F401

    for optional in ("model", "batch", "prerank", "rank"):
        try:
            __import__(f"gsea_plus.cli.{optional}")
        except ModuleNotFoundError as exc:
            if exc.name != f"gsea_plus.cli.{optional}":
                raise


_register()


def main() -> None:
    """Entry point of the ``gsea-plus`` console script."""
    from gsea_plus.cli.common import run_app

    sys.exit(run_app(app))
