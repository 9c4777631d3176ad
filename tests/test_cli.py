"""The command line: CliRunner, in-process run_app (error paths), real subprocesses and a pty."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess

import pytest
from conftest import (
    GSEA_PLUS_EXE,
    TINY_SETS,
    assert_one_error_line,
    cache_files,
    gmt_text,
    requires_shared,
    subprocess_env,
)
from typer.testing import CliRunner

from gsea_plus.cli import app

HEADER = (
    "Term\tOverlap\tP-value\tAdjusted P-value\tOdds Ratio\tCombined Score\tGenes\tLibrary\t"
    "Log10 P-value\tOverlap Size\tTerm Size\tList Size\tBackground Size"
)
GENES = "G1\ng2\nG3\nG9\nNOT_A_GENE\n"


@pytest.fixture
def files(tmp_path):
    gmt = tmp_path / "tiny.gmt"
    gmt.write_text(gmt_text(TINY_SETS))
    genes = tmp_path / "genes.txt"
    genes.write_text(GENES)
    return tmp_path, gmt, genes


def parse_tsv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text), delimiter="\t"))


def invoke(*args, input=None):
    result = CliRunner().invoke(app, [str(a) for a in args], input=input)
    return result


# --------------------------------------------------------------------------- CliRunner


def test_enrich_piped_is_tsv_sorted_by_p(files):
    _, gmt, genes = files
    result = invoke("enrich", genes, "-l", gmt)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == HEADER
    rows = parse_tsv(result.stdout)
    assert len(rows) == 5
    p = [float(r["P-value"]) for r in rows]
    assert p == sorted(p)
    assert rows[0]["Term"] == "T_alpha" and rows[0]["Overlap"] == "3/4"
    assert {r["Library"] for r in rows} == {"tiny"}
    assert {r["Background Size"] for r in rows} == {"12"}
    # warnings and the summary go to stderr, never into the table
    assert "NOT_A_GENE" in result.stderr
    assert "4 of 5 genes recognized" in result.stderr
    assert "NOT_A_GENE" not in result.stdout


def test_enrich_from_stdin(files):
    _, gmt, _ = files
    result = invoke("enrich", "-", "-l", gmt, input="G1,G2,G3\n")
    assert result.exit_code == 0, result.output
    assert parse_tsv(result.stdout)[0]["Genes"] == "G1;G2;G3"


def test_enrich_options_reach_the_engine(files):
    _, gmt, genes = files
    result = invoke(
        "enrich",
        genes,
        "-l",
        gmt,
        "--background",
        "100",
        "--correction",
        "bonferroni",
        "--min-size",
        "3",
        "--max-size",
        "9",
        "--min-overlap",
        "1",
    )
    assert result.exit_code == 0, result.output
    rows = parse_tsv(result.stdout)
    assert {r["Term"] for r in rows} == {"T_alpha", "T_beta", "T_delta"}
    assert {r["Background Size"] for r in rows} == {"100"}
    assert {r["List Size"] for r in rows} == {"5"}
    for r in rows:
        assert float(r["Adjusted P-value"]) == pytest.approx(min(1.0, 3 * float(r["P-value"])))


@pytest.mark.parametrize("fmt", ["tsv", "csv", "json", "jsonl", "parquet"])
def test_formats_to_stdout_and_file(files, fmt):
    import pandas as pd

    tmp, gmt, genes = files
    result = invoke("enrich", genes, "-l", gmt, "--format", fmt)
    assert result.exit_code == 0, result.output
    out = tmp / f"out.{fmt}"
    result2 = invoke("enrich", genes, "-l", gmt, "-f", fmt, "-o", out)
    assert result2.exit_code == 0, result2.output
    assert result2.stdout == ""  # the table went to the file
    raw = out.read_bytes()
    assert raw == result.stdout_bytes
    if fmt == "tsv":
        df = pd.read_csv(out, sep="\t")
    elif fmt == "csv":
        df = pd.read_csv(out)
    elif fmt == "json":
        df = pd.DataFrame(json.loads(raw))
    elif fmt == "jsonl":
        df = pd.DataFrame([json.loads(line) for line in raw.decode().splitlines()])
    else:
        assert raw[:4] == b"PAR1"
        df = pd.read_parquet(out)
    assert list(df.columns) == HEADER.split("\t")
    assert len(df) == 5
    assert df["Term"].iloc[0] == "T_alpha"
    assert df["P-value"].is_monotonic_increasing


def test_output_suffix_picks_the_format(files):
    tmp, gmt, genes = files
    out = tmp / "res.json"
    assert invoke("enrich", genes, "-l", gmt, "-o", out).exit_code == 0
    assert json.loads(out.read_text())[0]["Term"] == "T_alpha"
    out = tmp / "res.txt"
    assert invoke("enrich", genes, "-l", gmt, "-o", out).exit_code == 0
    assert out.read_text().splitlines()[0] == HEADER


@pytest.mark.parametrize(
    ("suffix", "magic"), [("png", b"\x89PNG"), ("svg", b"<?xml"), ("pdf", b"%PDF")]
)
def test_plot(files, suffix, magic):
    tmp, gmt, genes = files
    plot = tmp / f"top.{suffix}"
    kind = "bar" if suffix == "pdf" else "dot"
    result = invoke("enrich", genes, "-l", gmt, "--plot", plot, "--plot-kind", kind)
    assert result.exit_code == 0, result.output
    assert plot.read_bytes()[: len(magic)] == magic


def test_version_and_help():
    result = invoke("--version")
    assert result.exit_code == 0 and result.stdout.startswith("gsea-plus 0.")
    result = invoke("enrich", "--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    for needle in ("--background", "20000", "fdr_bh", "--min-overlap", "--offline", "max(b*c, 1)"):
        assert needle in text


# --------------------------------------------------------------------------- libraries


@requires_shared
def test_libraries_commands_against_loopback(enrichr, cache_root):
    result = invoke("libraries", "download", "KEGG", "Hallmark")
    assert result.exit_code == 0, result.output
    assert "KEGG_2021_Human: 320 terms" in result.stderr
    assert "MSigDB_Hallmark_2020: 50 terms" in result.stderr
    assert enrichr.count("KEGG_2021_Human") == 1

    result = invoke("libraries", "path", "KEGG")
    assert result.exit_code == 0
    path = result.stdout.strip()
    assert path == str(cache_root / "libraries" / "KEGG_2021_Human.gmt")
    with open(path, "rb") as fh:
        assert fh.read() == (enrichr.root / "KEGG_2021_Human.gmt").read_bytes()

    result = invoke("libraries", "info", "KEGG")
    assert result.exit_code == 0, result.output
    assert "name: KEGG_2021_Human" in result.stdout
    assert "terms: 320" in result.stdout
    assert "aliases: KEGG, KEGG_Human" in result.stdout
    assert "sha256: " in result.stdout

    result = invoke("libraries", "list", "-f", "tsv")
    assert result.exit_code == 0
    rows = {r["name"]: r for r in parse_tsv(result.stdout)}
    assert rows["KEGG_2021_Human"]["cached"] == "True"
    assert rows["GO_Molecular_Function_2025"]["cached"] == "False"
    assert "GO_MF" in rows["GO_Molecular_Function_2025"]["aliases"]

    # the cached library is used offline with the alias, without a request
    genes = cache_root.parent / "g.txt"
    genes.write_text("TP53\nMDM2\nCDKN1A\nATM\nCHEK2\n")
    before = enrichr.count()
    result = invoke("enrich", genes, "-l", "KEGG", "--offline")
    assert result.exit_code == 0, result.output
    assert parse_tsv(result.stdout)[0]["Library"] == "KEGG_2021_Human"
    assert enrichr.count() == before


def test_libraries_list_table(monkeypatch):
    from gsea_plus.cli import common

    monkeypatch.setattr(common, "resolve_format", lambda fmt, out: common.Format.table)
    result = invoke("libraries", "list")
    assert result.exit_code == 0
    assert "KEGG_2021_Human" in result.stdout and "aliases" in result.stdout


def test_libraries_info_of_a_gmt_path(files):
    _, gmt, _ = files
    result = invoke("libraries", "info", gmt)
    assert result.exit_code == 0, result.output
    assert "terms: 5" in result.stdout and "genes: 12" in result.stdout
    assert "term size: min 2, median 4, max 10" in result.stdout


# --------------------------------------------------------------------------- bad inputs


def test_error_empty_list(run_cli, files):
    tmp, gmt, _ = files
    empty = tmp / "empty.txt"
    empty.write_text("# nothing\n\n")
    code, out, err = run_cli("enrich", empty, "-l", gmt, "-o", tmp / "o.tsv")
    assert_one_error_line(code, err, "empty")
    assert out == b"" and not (tmp / "o.tsv").exists()
    code, out, err = run_cli("enrich", "-", "-l", gmt, stdin=b"")
    assert_one_error_line(code, err, "empty")


def test_error_no_recognized_genes(run_cli, files):
    tmp, gmt, _ = files
    genes = tmp / "none.txt"
    genes.write_text("FOO\nBAR\n")
    code, out, err = run_cli("enrich", genes, "-l", gmt, "-o", tmp / "o.tsv")
    assert_one_error_line(code, err, "none of the 2 input genes")
    assert not (tmp / "o.tsv").exists()


def test_error_unknown_library_offline_suggests(run_cli, files, cache_root, enrichr):
    tmp, _, genes = files
    code, out, err = run_cli("enrich", genes, "-l", "KEGGG", "--offline")
    assert_one_error_line(code, err, "KEGGG", "KEGG,")
    assert code == 2
    assert cache_files(cache_root) == []
    assert enrichr.count() == 0


def test_offline_says_what_is_missing(run_cli, files, cache_root, enrichr, monkeypatch):
    _, gmt, genes = files
    # (GO_BP and Hallmark are bundled: they load offline, so GO_MF stands in here)
    code, out, err = run_cli("enrich", genes, "-l", gmt, "-l", "GO_MF", "--offline")
    assert_one_error_line(
        code,
        err,
        "GO_Molecular_Function_2025 is not in the cache",
        "--offline",
        "gsea-plus libraries download GO_Molecular_Function_2025",
    )
    monkeypatch.setenv("GSEA_PLUS_OFFLINE", "1")
    code, out, err = run_cli("enrich", genes, "-l", "KEGG")
    assert_one_error_line(code, err, "KEGG_2021_Human is not in the cache")
    assert enrichr.count() == 0
    assert [f for f in cache_files(cache_root) if f.startswith("libraries/")] == []


def test_error_unknown_library_online_suggests(run_cli, files, enrichr, cache_root):
    _, _, genes = files
    code, out, err = run_cli("enrich", genes, "-l", "KEGGG")
    assert_one_error_line(code, err, "unknown library 'KEGGG'", "did you mean", "KEGG")
    assert enrichr.count("KEGGG") == 1
    assert cache_files(cache_root) == []


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (os.urandom(4096) + b"\x00", "binary"),
        (b"\x1f\x8b\x08\x00garbagegarbage", "gzip"),
        (b"", "empty"),
        (b"no tabs here\njust words\n", "no gene sets"),
    ],
    ids=["binary", "bad-gzip", "empty", "not-gmt"],
)
def test_error_corrupt_or_empty_gmt(run_cli, files, content, needle):
    tmp, _, genes = files
    bad = tmp / "bad.gmt"
    bad.write_bytes(content)
    code, out, err = run_cli("enrich", genes, "-l", bad, "-o", tmp / "o.tsv")
    assert_one_error_line(code, err, needle)
    assert not (tmp / "o.tsv").exists()


def test_error_unreadable_files(run_cli, files):
    tmp, gmt, genes = files
    for args, needle in (
        (("enrich", tmp / "missing.txt", "-l", gmt), "no such file"),
        (("enrich", tmp, "-l", gmt), "directory"),
        (("enrich", genes, "-l", tmp / "missing.gmt"), "no such library file"),
        (("enrich", genes, "-l", tmp), "directory"),
        (("enrich", genes, "-l", gmt, "-b", tmp / "missing_bg.txt"), "no such file"),
    ):
        code, out, err = run_cli(*args)
        assert_one_error_line(code, err, needle)


def test_error_network_down(run_cli, files, monkeypatch, closed_port, cache_root):
    _, _, genes = files
    monkeypatch.setenv("GSEA_PLUS_ENRICHR_URL", closed_port)
    code, out, err = run_cli("enrich", genes, "-l", "KEGG")
    assert_one_error_line(code, err, "cannot reach", "KEGG_2021_Human")
    assert code == 3
    assert cache_files(cache_root) == []


@pytest.mark.parametrize(
    ("fault", "needle"), [("500", "HTTP 500"), ("404", "HTTP 404"), ("truncated", "truncated")]
)
def test_error_http_and_truncated(run_cli, files, enrichr, cache_root, fault, needle):
    tmp, _, genes = files
    enrichr.extra["KEGG_2021_Human"] = gmt_text(TINY_SETS).encode()  # no shared data needed
    enrichr.faults["KEGG_2021_Human"] = [fault]
    code, out, err = run_cli("enrich", genes, "-l", "KEGG", "-o", tmp / "o.tsv")
    assert_one_error_line(code, err, needle)
    assert code == 3
    assert cache_files(cache_root) == []
    assert not (tmp / "o.tsv").exists()
    code, out, err = run_cli("libraries", "download", "KEGG")
    assert_one_error_line(code, err, needle)
    assert cache_files(cache_root) == []


def test_error_cache_not_writable(run_cli, files, monkeypatch, tmp_path, enrichr):
    _, _, genes = files
    blocker = tmp_path / "regular_file"
    blocker.write_text("x")
    monkeypatch.setenv("GSEA_PLUS_CACHE", str(blocker / "cache"))
    code, out, err = run_cli("enrich", genes, "-l", "KEGG")
    assert_one_error_line(code, err, "cache directory", "GSEA_PLUS_CACHE")
    code, out, err = run_cli("libraries", "download", "KEGG")
    assert_one_error_line(code, err, "cache directory")
    assert enrichr.count() == 0


def test_error_bad_correction(run_cli, files):
    tmp, gmt, genes = files
    code, out, err = run_cli("enrich", genes, "-l", gmt, "--correction", "BH", "-o", tmp / "o.tsv")
    assert_one_error_line(code, err, "unknown correction 'BH'", "fdr_bh")
    assert not (tmp / "o.tsv").exists()


def test_error_bad_plot_suffix(run_cli, files):
    tmp, gmt, genes = files
    code, out, err = run_cli(
        "enrich", genes, "-l", gmt, "--plot", tmp / "x.jpg", "-o", tmp / "o.tsv"
    )
    assert_one_error_line(code, err, ".png", "x.jpg")
    assert not (tmp / "x.jpg").exists()
    assert not (tmp / "o.tsv").exists()  # a failed command writes nothing


def test_error_bad_background(run_cli, files):
    _, gmt, genes = files
    code, out, err = run_cli("enrich", genes, "-l", gmt, "--background", "5")
    assert_one_error_line(code, err, "smaller than a term")


def test_error_libraries_path_not_cached(run_cli):
    code, out, err = run_cli("libraries", "path", "KEGG")
    assert_one_error_line(code, err, "KEGG_2021_Human is not cached")


def test_run_app_success_writes_tsv(run_cli, files):
    _, gmt, genes = files
    code, out, err = run_cli("enrich", genes, "-l", gmt)
    assert code == 0, err
    assert out.decode().splitlines()[0] == HEADER


# --------------------------------------------------------------------------- real processes


def test_subprocess_piped_tsv_and_error(files):
    tmp, gmt, genes = files
    assert GSEA_PLUS_EXE.is_file(), "the package is not installed (pip install -e .)"
    proc = subprocess.run(
        [str(GSEA_PLUS_EXE), "enrich", str(genes), "-l", str(gmt)],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == HEADER
    assert [r["Term"] for r in parse_tsv(proc.stdout)][0] == "T_alpha"
    assert "input: 5 genes" in proc.stderr
    assert "Traceback" not in proc.stderr

    proc = subprocess.run(
        [str(GSEA_PLUS_EXE), "enrich", str(genes), "-l", "KEGGG", "--offline"],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert_one_error_line(proc.returncode, proc.stderr, "KEGGG", "KEGG")


def test_subprocess_on_a_terminal_prints_a_rich_table(files):
    import pty

    tmp, gmt, genes = files
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(
            [str(GSEA_PLUS_EXE), "enrich", str(genes), "-l", str(gmt)],
            stdout=slave,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env=subprocess_env(COLUMNS="200", LINES="50", TERM="xterm"),
        )
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        stderr = proc.stderr.read().decode()
        proc.stderr.close()
        assert proc.wait(timeout=120) == 0, stderr
    finally:
        os.close(master)
    screen = b"".join(chunks).decode(errors="replace")
    assert "Term\t" not in screen  # not the TSV
    # (at 80 columns the raw P-value column gives way to the adjusted one, issue 11)
    for needle in ("Term", "Overlap", "Adj. P", "T_alpha", "3/4", "input: 5 genes", "N=12"):
        assert needle in screen, screen
    assert any(c in screen for c in "┃│━─")  # box drawing: a rich table


def test_rich_table_shows_tiny_p_from_log10():
    from rich.console import Console

    import gsea_plus
    from gsea_plus.terminal import rich_table

    term = [f"G{i}" for i in range(300)]
    df = gsea_plus.enrich(term, library={"all": term, "few": ["G1", "X"]}, background=20000)
    console = Console(record=True, width=200)
    console.print(rich_table(df, top=5))
    text = console.export_text()
    assert "1.43e-675" in text  # P(X >= 300) = 1 / C(20000, 300): not shown as 0
    row = next(line for line in text.splitlines() if " all " in line)
    assert row.split("│")[4].strip() == "1.43e-675"  # the P-value column
    # whole gene names, and a count of the rest (as many as fit in two lines)
    import re

    one = Console(record=True, width=200)
    one.print(rich_table(df, top=1))  # the row of "all": 300 genes
    first = one.export_text()
    assert "G0, G1" in first
    rest = int(re.search(r" \+(\d+)\b", first).group(1))
    shown = set(re.findall(r"\bG\d+\b", first))
    assert 0 < rest < 300 and len(shown) + rest == 300


def test_subprocess_reader_going_away_is_exit_141(tmp_path):
    # as `yes | head` (killed by SIGPIPE): 128 + 13, one line, no traceback (issue 10)
    sets = {f"T{i}": [f"G{j}" for j in range(i % 50, i % 50 + 20)] for i in range(3000)}
    gmt = tmp_path / "many.gmt"
    gmt.write_text(gmt_text(sets))
    genes = tmp_path / "genes.txt"
    genes.write_text("\n".join(f"G{j}" for j in range(0, 70, 3)))
    proc = subprocess.Popen(
        [str(GSEA_PLUS_EXE), "enrich", str(genes), "-l", str(gmt)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=subprocess_env(),
    )
    first = proc.stdout.readline().decode()
    proc.stdout.close()  # like `| head -1`
    stderr = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=120) == 141, stderr
    assert first.startswith("Term\tOverlap")
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr
    assert stderr.splitlines()[-1] == (
        "gsea-plus: error: the output was closed before the end (broken pipe)"
    )


def test_forced_overlap_prints_clean_numbers():
    # every list gene is forced into the term (n + K - N >= k): p = 1, combined score 0
    import gsea_plus
    from gsea_plus.output import frame_to_bytes

    df = gsea_plus.enrich(["G1", "G2"], library={"all": ["G1", "G2", "G3"], "x": ["G1", "G2"]})
    rows = {r["Term"]: r for r in parse_tsv(frame_to_bytes(df, "tsv").decode())}
    assert rows["all"]["P-value"] == "1.0"
    assert rows["all"]["Combined Score"] == "0.0"
    assert rows["all"]["Log10 P-value"] == "0.0"


# --------------------------------------------------------------------------- shared options


def test_offline_env_applies_to_every_command(run_cli, files, enrichr, monkeypatch, tmp_path):
    _, _, genes = files
    sig = tmp_path / "sig.tsv"
    sig.write_text("".join(f"G{i}\t{i}\n" for i in range(30)))
    monkeypatch.setenv("GSEA_PLUS_OFFLINE", "1")
    for args in (("enrich", genes, "-l", "KEGG"), ("prerank", sig, "-l", "KEGG")):
        code, out, err = run_cli(*args)
        assert_one_error_line(code, err, "KEGG_2021_Human is not in the cache")
    assert enrichr.count() == 0


def test_libraries_download_unknown_name_suggests(run_cli, enrichr, cache_root):
    code, out, err = run_cli("libraries", "download", "KEGG_2021_Humna")
    assert_one_error_line(code, err, "unknown library 'KEGG_2021_Humna'", "KEGG_2021_Human")
    assert cache_files(cache_root) == []


def test_gzipped_output_file(run_cli, files, tmp_path):
    import gzip

    _, gmt, genes = files
    out_path = tmp_path / "res.tsv.gz"
    code, out, err = run_cli("enrich", genes, "-l", gmt, "-o", out_path)
    assert code == 0, err
    text = gzip.decompress(out_path.read_bytes()).decode()
    assert text.startswith("Term\tOverlap\tP-value\t")
    code, out, err = run_cli("enrich", genes, "-l", gmt, "-o", tmp_path / "res.json.gz")
    import json

    rows = json.loads(gzip.decompress((tmp_path / "res.json.gz").read_bytes()))
    assert code == 0 and rows and "Term" in rows[0]
