"""Every command that can download honours GSEA_PLUS_OFFLINE (and says so, without a request).

The list of commands is read from the app: a new command must be classified here as one
that can download (with arguments that would make it download) or one that never does.
"""

from __future__ import annotations

import pytest
from conftest import assert_one_error_line

from gsea_plus.cli.app import app

#: A library that is neither bundled nor cached in the tests: loading it needs a download.
REMOTE = "KEGG_2021_Human"
#: A model hub id that is not cached.
HUB_ID = "someone/some-model"


def _commands() -> set[str]:
    names = {c.name for c in app.registered_commands}
    for group in app.registered_groups:
        names |= {f"{group.name} {c.name}" for c in group.typer_instance.registered_commands}
    return names


@pytest.fixture
def inputs(tmp_path):
    genes = tmp_path / "genes.txt"
    genes.write_text("TP53\nMDM2\nCDKN1A\n")
    lists = tmp_path / "lists.gmt"
    lists.write_text("a\t\tTP53\tMDM2\nb\t\tCDKN1A\tBAX\n")
    sig = tmp_path / "sig.tsv"
    sig.write_text("".join(f"G{i}\t{i}\n" for i in range(30)))
    return {"genes": genes, "lists": lists, "sig": sig}


def _downloading(inputs) -> dict[str, list]:
    return {
        "enrich": ["enrich", inputs["genes"], "-l", REMOTE],
        "batch": ["batch", inputs["lists"], "-l", REMOTE],
        "prerank": ["prerank", inputs["sig"], "-l", REMOTE],
        "gene": ["gene", "TP53", "-l", REMOTE],
        "predict": ["predict", inputs["genes"], "--model", HUB_ID],
        "libraries download": ["libraries", "download", REMOTE],
        "libraries info": ["libraries", "info", REMOTE, "--online"],
        "model info": ["model", "info", "--model", HUB_ID],
        "model download": ["model", "download", HUB_ID],
        "model evaluate": ["model", "evaluate", "-l", REMOTE],
    }


#: Commands that never touch the network.
NEVER = {"libraries list", "libraries path", "model corpus", "model train"}


def test_every_command_is_classified(inputs):
    assert _commands() == set(_downloading(inputs)) | NEVER


@pytest.mark.parametrize(
    "command",
    [
        "enrich",
        "batch",
        "prerank",
        "gene",
        "predict",
        "libraries download",
        "libraries info",
        "model info",
        "model download",
        "model evaluate",
    ],
)
def test_offline_env_stops_every_download(command, inputs, run_cli, enrichr, monkeypatch):
    monkeypatch.setenv("GSEA_PLUS_OFFLINE", "1")
    monkeypatch.setenv("GSEA_PLUS_HUB_URL", enrichr.url.rsplit("/", 1)[0])
    code, _, err = run_cli(*_downloading(inputs)[command])
    assert code == 2, err  # an input/cache error, not a network error (3)
    assert_one_error_line(code, err, "offline")
    assert enrichr.count() == 0, enrichr.requests


def test_offline_env_zero_allows_downloads(inputs, run_cli, enrichr, monkeypatch):
    # the same command goes to the (loopback) server when offline mode is off
    monkeypatch.setenv("GSEA_PLUS_OFFLINE", "0")
    code, out, err = run_cli(*_downloading(inputs)["enrich"])
    assert enrichr.count() >= 1
    assert code == 0 or "Traceback" not in err
