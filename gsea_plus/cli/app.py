"""The Typer app, composed from the command modules, and the console script's entry point.

Each command module defines its commands (or a sub-app) and registers nothing itself;
this module adds them to :data:`app`. A broken command module fails loudly on import.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from gsea_plus._version import __version__
from gsea_plus.cli import batch, coercion, enrich, gene, libraries, model, prerank
from gsea_plus.cli.common import EXIT_CODES_HELP


def _readable_help() -> None:
    """Help pages without typer's type labels where a metavar says more.

    typer 0.29 prints ``<bool>`` after every flag (``--help`` too), ``<str>`` after
    every argument whatever its metavar, type names (``<int range>``, ``<list[str]>``) for
    options without one, and ``{GENES}`` in the usage line. A flag takes no value, an
    argument's metavar (``GENES``) says what it takes, and an option without a metavar
    shows ``N``, ``X``, ``TEXT`` or ``PATH``. (A test reads every help page for them.)
    """
    import re

    from typer import core

    option_type = core.TyperOption.display_type_rich
    argument_type = core.TyperArgument.display_type_rich
    plain = {"int": "N", "float": "X", "str": "TEXT", "path": "PATH", "file": "FILE"}

    def readable(label: str | None) -> str | None:
        if label is None:
            return None
        m = re.fullmatch(r"<(?:list\[)?(\w+)(?: range)?\]?>(\.\.\.)?", label)
        if m is None:
            return label
        return plain.get(m.group(1).lower(), m.group(1).upper()) + (m.group(2) or "")

    def option_display(self, ctx):
        if getattr(self, "is_flag", False):
            return None
        return readable(option_type(self, ctx))

    def argument_display(self, ctx):
        return None if self.metavar else readable(argument_type(self, ctx))

    def usage_name(self) -> str:
        name = self.display_name_raw if self.metavar else self.display_name_raw.upper()
        name = name if self.required else f"[{name}]"
        return name + ("..." if self.nargs != 1 else "")

    core.TyperOption.display_type_rich = option_display  # type: ignore[method-assign]
    core.TyperArgument.display_type_rich = argument_display  # type: ignore[method-assign]
    core.TyperArgument._usage_display_name = usage_name  # type: ignore[method-assign]


def _defer(module: str, names: tuple[str, ...]) -> None:
    """Stand in for ``module`` until something really uses it.

    typer 0.29's help renderer imports ``rich.markdown`` (with markdown_it) for a markup
    mode gsea-plus does not use, and ``rich.traceback`` (with pygments) for tracebacks
    gsea-plus does not print: about 60 ms of ``gsea-plus --help``. The stand-in's
    ``names`` are classes that build (or answer for) the real ones, and any other name
    loads the real module, which then replaces the stand-in.
    """
    import importlib
    import types

    if module in sys.modules:
        return
    stub = types.ModuleType(module, "stand-in until the module is used")

    def load() -> types.ModuleType:
        if sys.modules.get(module) is stub:
            del sys.modules[module]
        return importlib.import_module(module)

    class Lazy(type):
        def __getattr__(cls, attr: str) -> Any:  # class attributes: Traceback.from_exception
            return getattr(getattr(load(), cls.__name__), attr)

    def new(cls: type, *args: Any, **kwargs: Any) -> Any:
        return getattr(load(), cls.__name__)(*args, **kwargs)

    for name in names:
        setattr(stub, name, Lazy(name, (), {"__new__": new, "__module__": module}))

    def __getattr__(name: str) -> object:
        if name.startswith("__"):  # the import system asks for __path__ and the like
            raise AttributeError(name)
        return getattr(load(), name)

    stub.__getattr__ = __getattr__  # type: ignore[method-assign]
    sys.modules[module] = stub


_readable_help()
_defer("rich.markdown", ("Markdown",))
_defer("rich.traceback", ("Traceback",))
coercion.install()  # values without pydantic: about 100 ms off every command

app = typer.Typer(
    name="gsea-plus",
    help="Gene set enrichment analysis: exact, fast, offline, with a gene set foundation model.",
    invoke_without_command=True,  # a bare `gsea-plus`: help on stderr, exit 2 (_root)
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=EXIT_CODES_HELP,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gsea-plus {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            metavar="",
            callback=_version,
            is_eager=True,
            help="Show the version and exit.",
        ),
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", metavar="", help="Log progress details.")
    ] = False,
) -> None:
    """Gene set enrichment analysis: exact, fast, offline, with a gene set foundation model."""
    from gsea_plus.cli.common import help_if_bare, setup_logging

    setup_logging(verbose=verbose)
    help_if_bare(ctx)


app.command("enrich")(enrich.enrich_cmd)
app.command("batch")(batch.batch_cmd)
app.command("prerank")(prerank.prerank_cmd)
app.command("predict")(model.predict_cmd)
app.command("gene")(gene.gene_cmd)
app.add_typer(libraries.libraries_app, name="libraries")
app.add_typer(model.model_app, name="model")


def main() -> None:
    """Entry point of the ``gsea-plus`` console script."""
    from gsea_plus.cli.common import run_app

    sys.exit(run_app(app))
