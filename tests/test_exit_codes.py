"""Exit codes and usage errors, as the installed console script gives them.

The contract (README "Reliability", ``gsea-plus --help``): 0 success; 2 usage, input,
library, cache or output error; 3 network error; 130 interrupted; 141 output closed by
its reader; 143 terminated; 1 internal error. An error is one ``gsea-plus: error:`` line
on stderr, never a traceback.
"""

from __future__ import annotations

import subprocess

import pytest
from conftest import GSEA_PLUS_EXE, TINY_SETS, assert_one_error_line, gmt_text, subprocess_env
from conftest import run_exe as gsea_plus


@pytest.fixture
def files(tmp_path):
    gmt = tmp_path / "tiny.gmt"
    gmt.write_text(gmt_text(TINY_SETS))
    genes = tmp_path / "genes.txt"
    genes.write_text("G1\nG2\nG3\n")
    return gmt, genes


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["enrich"], "Missing argument 'GENES'"),
        (["enrich", "{genes}", "-l", "{gmt}", "--no-such-option"], "No such option"),
        (["frobnicate"], "No such command 'frobnicate'"),
        (["enrich", "{genes}", "-l", "{gmt}", "--top", "abc"], "'--top'"),
        (["enrich", "{genes}", "-l", "{gmt}", "--min-size", "-3"], "'--min-size'"),
        (["enrich", "{genes}", "-l", "{gmt}", "-b", "-5"], "background size must be positive"),
        (["enrich", "{genes}", "-l", "{gmt}", "-b", "1e30"], "larger than any genome"),
        (["enrich", "{genes}", "-l", "{gmt}", "--correction", "BH"], "unknown correction"),
        (["batch", "{genes}", "-l", "{gmt}", "--engine", "spark"], "unknown engine"),
        (["predict", "{genes}", "--top", "-1"], "'--top'"),
        (["libraries", "path"], "Missing argument"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(files, args, needle):
    gmt, genes = files
    args = [a.format(gmt=gmt, genes=genes) for a in args]
    code, out, err = gsea_plus(*args)
    assert code == 2
    assert_one_error_line(code, err, needle)
    assert len(err.strip().splitlines()) <= 2, err  # the error, and at most one warning
    assert out == b""


@pytest.mark.parametrize("args", [[], ["libraries"], ["model"]])
def test_a_bare_command_prints_its_help_and_exits_2(args):
    code, out, err = gsea_plus(*args)
    assert code == 2
    assert "Usage: gsea-plus" in err and "Traceback" not in err
    assert out == b""


def test_help_lists_the_exit_codes():
    code, out, _ = gsea_plus("--help")
    text = " ".join(out.decode().split())
    assert code == 0
    for fragment in ("0 success", "2 usage", "3 network", "130 interrupted", "143 terminated"):
        assert fragment in text, fragment


def test_success_is_0(files):
    gmt, genes = files
    code, out, err = gsea_plus("enrich", genes, "-l", gmt)
    assert code == 0, err
    assert out.startswith(b"Term\t")


def test_network_error_is_3(files, closed_port):
    _, genes = files
    code, _, err = gsea_plus(
        "enrich", genes, "-l", "KEGG", env=subprocess_env(GSEA_PLUS_ENRICHR_URL=closed_port)
    )
    assert code == 3
    assert_one_error_line(code, err, "cannot reach")


def test_closed_stdin_is_one_line(files):
    gmt, _ = files
    proc = subprocess.run(
        [str(GSEA_PLUS_EXE), "enrich", "-", "-l", str(gmt)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=subprocess_env(),
        timeout=60,
    )
    # an empty stdin: an empty gene list, one line
    assert_one_error_line(proc.returncode, proc.stderr.decode(), "empty")
    # stdin closed altogether (`<&-`): the shell runs the command with fd 0 closed
    proc = subprocess.run(
        ["bash", "-c", f"exec {GSEA_PLUS_EXE} enrich - -l {gmt} <&-"],
        capture_output=True,
        env=subprocess_env(),
        timeout=60,
    )
    assert proc.returncode == 2
    assert_one_error_line(proc.returncode, proc.stderr.decode(), "standard input is closed")


def test_internal_errors_are_one_line_and_exit_1(run_cli, files, monkeypatch):
    import gsea_plus.api

    gmt, genes = files

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(gsea_plus.api, "enrich_table", broken)
    code, _, err = run_cli("enrich", genes, "-l", gmt)
    assert code == 1
    assert "internal error: RuntimeError: a bug" in err and "Traceback" not in err
    assert "GSEA_PLUS_DEBUG=1" in err
    monkeypatch.setenv("GSEA_PLUS_DEBUG", "1")
    with pytest.raises(RuntimeError, match="a bug"):
        run_cli("enrich", genes, "-l", gmt)
