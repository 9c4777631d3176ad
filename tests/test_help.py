"""Every help page is readable: metavars say what an option takes, choices are listed.

No ``<bool>`` after flags, no ``<str>``/``<int range>``/``<list[str]>`` type labels, no
``{ARG}`` braces in usage lines, one naming style for arguments (upper case), and the
choices of every choice option in its metavar or help.
"""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from gsea_plus.cli.app import app


def _commands() -> list[list[str]]:
    out = [[]]
    out += [[c.name] for c in app.registered_commands]
    for group in app.registered_groups:
        out.append([group.name])
        out += [[group.name, c.name] for c in group.typer_instance.registered_commands]
    return out


COMMANDS = _commands()


def _help(args: list[str]) -> str:
    result = CliRunner().invoke(app, [*args, "--help"], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    return result.output


def test_every_command_is_listed():
    names = {" ".join(c) for c in COMMANDS}
    assert {"enrich", "batch", "prerank", "predict", "gene", "libraries list"} <= names


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a) or "gsea-plus")
def test_help_page_is_readable(args):
    text = _help(args)
    for label in ("<bool>", "<str>", "<int", "<float", "<list", "<path"):
        assert label not in text, (label, text)
    usage = next(line for line in text.splitlines() if "Usage:" in line)
    assert "{" not in usage, usage
    # arguments in one style: upper-case names
    arguments = re.search(r"\[OPTIONS\]\s*(.*)$", usage.strip())
    for arg in arguments.group(1).split() if arguments else []:
        if arg not in ("COMMAND", "[ARGS]..."):
            assert arg.strip("[].") == arg.strip("[].").upper(), usage


@pytest.mark.parametrize(
    ("args", "option", "choices"),
    [
        (["enrich"], "--rank", ("overlap", "embedding")),
        (["enrich"], "--model-test", ("combined", "prediction", "fisher", "naive")),
        (["enrich"], "--plot-kind", ("dot", "bar", "map")),
        (["enrich"], "--correction", ("fdr_bh", "bonferroni", "none")),
        (["enrich"], "--species", ("human", "mouse")),
        (["enrich"], "--format", ("tsv", "csv", "json", "parquet", "xlsx")),
        (["batch"], "--engine", ("local", "dask")),
        (["batch"], "--input-format", ("auto", "dir", "gmt", "long")),
    ],
)
def test_choice_options_list_their_choices(args, option, choices):
    text = " ".join(_help(args).split())
    start = text.index(f"│ {option} ")  # its row in the options panel
    block = text[start : start + 1500]
    for choice in choices:
        assert choice in block, (option, choice)


def test_exit_codes_and_defaults_are_stated():
    text = " ".join(_help(["enrich"]).split())
    assert "[default: KEGG]" in text and "[default: fdr_bh]" in text
    assert "Exit codes:" in " ".join(_help([]).split())
