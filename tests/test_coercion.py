"""Values without pydantic (gsea_plus.cli.coercion) against typer's own coercion.

Every value is run through a typer command twice, with typer's pydantic path and with
the fast path that ``gsea-plus`` installs; the command must receive the same values, or
fail with the same exit code and message.
"""

from __future__ import annotations

import enum
import sys
from pathlib import Path
from typing import Annotated

import pytest
import typer
from conftest import run_exe, subprocess_env
from typer import _coercion
from typer import core as typer_core
from typer.testing import CliRunner

from gsea_plus.cli import coercion


class Colour(str, enum.Enum):
    red = "red"
    green = "green"


def _app(received: dict) -> typer.Typer:
    app = typer.Typer(add_completion=False)

    @app.command()
    def cmd(
        top: Annotated[int | None, typer.Option("--top", min=1)] = None,
        size: Annotated[int, typer.Option("--size", min=0, max=50)] = 5,
        fdr: Annotated[float, typer.Option("--fdr", min=0.0, max=1.0)] = 0.05,
        name: Annotated[str, typer.Option("--name")] = "x",
        colour: Annotated[Colour, typer.Option("--colour", case_sensitive=False)] = Colour.red,
        lib: Annotated[list[str] | None, typer.Option("--lib", "-l")] = None,
        sizes: Annotated[list[int] | None, typer.Option("--n")] = None,
        out: Annotated[Path | None, typer.Option("--out", dir_okay=False)] = None,
        flag: Annotated[bool, typer.Option("--flag")] = False,
    ) -> None:
        received.update(
            top=top, size=size, fdr=fdr, name=name, colour=colour, lib=lib, sizes=sizes,
            out=out, flag=flag,
        )  # fmt: skip

    @app.command("other")
    def other() -> None:  # two commands: typer keeps the subcommand
        pass

    return app


CASES = [
    [],
    ["--top", "3"],
    ["--top", "0"],
    ["--top", "abc"],
    ["--top", "+4"],
    ["--top", "007"],
    ["--top", " 5"],
    ["--size", "50"],
    ["--size", "51"],
    ["--size", "-1"],
    ["--fdr", "0.1"],
    ["--fdr", "1e-3"],
    ["--fdr", "2"],
    ["--fdr", "nan"],
    ["--fdr", ".5"],
    ["--name", ""],
    ["--name", "tab\there"],
    ["--colour", "GREEN"],
    ["--colour", "blue"],
    ["-l", "KEGG", "-l", "GO_BP"],
    ["--n", "1", "--n", "x"],
    ["--n", "3", "--n", "4"],
    ["--out", "a/b.tsv"],
    ["--out", ""],
    ["--flag"],
]


def _run(args: list[str]) -> tuple[int, str, dict]:
    received: dict = {}
    result = CliRunner().invoke(_app(received), ["cmd", *args])
    return result.exit_code, result.output, received


@pytest.mark.parametrize("args", CASES, ids=lambda a: " ".join(a) or "defaults")
def test_fast_path_gives_what_typer_gives(args, monkeypatch):
    assert coercion.install()  # gsea-plus installs it; installing again changes nothing
    assert getattr(typer_core.build_runtime_param, "gsea_plus_fast", False)
    fast = _run(args)
    monkeypatch.setattr(typer_core, "build_runtime_param", _coercion.build_runtime_param)
    slow = _run(args)
    assert fast == slow
    if not args:
        assert fast[0] == 0 and fast[2]["colour"] is Colour.red


def test_a_valid_command_line_never_imports_pydantic(tmp_path):
    """The console script: a whole `enrich` run without pydantic; with the escape hatch, with."""
    code = (
        "import sys; sys.argv = ['gsea-plus'] + sys.argv[1:]\n"
        "from gsea_plus.cli import main\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    code = exc.code\n"
        "print('PYDANTIC', 'pydantic' in sys.modules, code)\n"
    )
    argv = ["enrich", "--example", "-l", "Hallmark", "-n", "5", "-o", str(tmp_path / "o.tsv")]
    import subprocess

    for extra, expected in (({}, "False"), ({coercion.KEEP_TYPER_ENV: "1"}, "True")):
        proc = subprocess.run(
            [sys.executable, "-c", code, *argv],
            capture_output=True,
            text=True,
            env={**subprocess_env(), **extra},
            timeout=120,
        )
        assert f"PYDANTIC {expected} 0" in proc.stdout, proc.stderr
    # a bad value still gets typer's own message, through the console script
    rc, _, err = run_exe("enrich", "--example", "-l", "Hallmark", "--top", "abc")
    assert rc == 2
    assert "Input should be a valid integer" in err
    assert "Traceback" not in err
