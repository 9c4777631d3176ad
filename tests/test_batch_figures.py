"""batch --plot, --report, --cluster and --representatives, run as users run them.

Through the installed console script, on the bundled Hallmark library (offline), with lists
named ``GROUP:up`` / ``GROUP:down`` as a batch of differential-expression tables makes
them: one run is checked many ways (files, figure, report, messages).
"""

from __future__ import annotations

import gzip
import html
import importlib.metadata
import io
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import report_table, run_exe

from gsea_plus.library import load_library

#: Groups of the up/down lists: each draws its "up" genes from one Hallmark set and its
#: "down" genes from another, so every list has significant terms.
GROUPS = {
    "T cells": ("Interferon Gamma Response", "Myc Targets V1"),
    "B cells": ("Allograft Rejection", "Oxidative Phosphorylation"),
    "Monocytes": ("Inflammatory Response", "E2F Targets"),
}


@pytest.fixture(scope="module")
def updown_table(tmp_path_factory):
    """A long table (list_id<TAB>gene) of GROUP:up and GROUP:down lists."""
    hallmark = load_library("Hallmark", offline=True).to_dict()
    lines = ["list_id\tgene"]
    for group, (up, down) in GROUPS.items():
        for direction, term in (("up", up), ("down", down)):
            genes = sorted(hallmark[term])[:40] + ["NOT_A_GENE"]
            lines += [f"{group}:{direction}\t{g}" for g in genes]
    path = tmp_path_factory.mktemp("updown") / "de_lists.tsv"
    path.write_text("\n".join(lines) + "\n")
    return path


def _svg_text(svg: str) -> str:
    return " ".join(html.unescape(t) for t in re.findall(r"<text[^>]*>(.*?)</text>", svg, re.S))


def test_batch_figures_report_and_clusters_through_the_console_script(updown_table, tmp_path):
    out, summary = tmp_path / "out.tsv", tmp_path / "summary.tsv"
    plot, report = tmp_path / "compare.svg", tmp_path / "batch.html"
    code, _, err = run_exe(
        "batch", updown_table, "-l", "Hallmark", "--offline", "--cluster",
        "--representatives", "--plot", plot, "--report", report, "-o", out,
        "--summary", summary,
    )  # fmt: skip
    assert code == 0, err
    assert "internal error" not in err and "Traceback" not in err
    assert "list T cells:up: 1 of 41 genes" in err  # as typed: ":up:" is no emoji
    assert "\N{SQUARED UP WITH EXCLAMATION MARK}" not in err
    assert f"wrote the comparison plot to {plot}" in err
    assert f"wrote the report to {report}" in err
    # the table: representatives only, with their cluster numbers; no "<NA>" anywhere
    rows = pd.read_csv(out, sep="\t")
    text = out.read_text()
    assert "<NA>" not in text and "None" not in text
    assert rows["Representative"].all() and rows["Cluster"].notna().all()
    assert (rows.groupby("List")["Cluster"].apply(lambda c: c.is_unique)).all()
    assert rows["Adjusted P-value"].max() <= 0.05
    lists = [f"{g}:{d}" for g in GROUPS for d in ("up", "down")]
    assert list(dict.fromkeys(rows["List"])) == lists
    assert pd.read_csv(summary, sep="\t")["List"].tolist() == lists
    # the figure: groups named once above their pair of columns, up and down below
    svg = _svg_text(plot.read_text())
    for group in GROUPS:
        assert svg.count(group) == 1, group
    assert len(re.findall(r"\bup \(\d+\)", svg)) == 3 and len(re.findall(r"\bdown \(\d+\)", svg))
    assert "3 groups, up and down" in svg
    # the report: every clustered row (not only the representatives the file holds)
    page = report.read_text()
    data = report_table(page)
    assert data["rows"] > len(rows)
    assert sum(data["flags"]["rep"]) == len(rows)
    assert 'data-figure="comparison"' in page and "Cohen's kappa" in html.unescape(page)


def test_batch_cluster_json_lines_and_enrich_json_through_the_console_script(
    updown_table, tmp_path
):
    out = tmp_path / "out.jsonl"
    code, _, err = run_exe(
        "batch", updown_table, "-l", "Hallmark", "--offline", "--cluster", "-o", out
    )
    assert code == 0, err
    records = [json.loads(line) for line in out.read_text().splitlines()]
    clusters = [r["Cluster"] for r in records]
    assert None in clusters and {type(c) for c in clusters if c is not None} == {int}
    assert all((r["Cluster"] is None) == (r["Cluster Size"] is None) for r in records)
    # to standard output, as a pipe gets it, with a figure beside it
    code, body, err = run_exe(
        "batch", updown_table, "-l", "Hallmark", "--offline", "--cluster", "--plot",
        tmp_path / "p.png",
    )  # fmt: skip
    assert code == 0, err
    piped = pd.read_csv(io.BytesIO(body), sep="\t")
    assert len(piped) == len(records) and "Cluster" in piped.columns
    assert (tmp_path / "p.png").stat().st_size > 10_000
    genes = tmp_path / "genes.txt"
    hallmark = load_library("Hallmark", offline=True).to_dict()
    genes.write_text("\n".join(sorted(hallmark["Hypoxia"])[:40]))
    code, body, err = run_exe(
        "enrich", genes, "-l", "Hallmark", "--offline", "--cluster", "-f", "json"
    )
    assert code == 0, err
    table = json.loads(body)
    assert {r["Cluster"] is None for r in table} == {True, False}


def test_batch_with_nothing_significant_still_draws_and_reports(tmp_path):
    """Two halves of the example list on Hallmark: no term passes, the figure still comes."""
    example = (
        (Path(__file__).resolve().parents[1] / "gsea_plus/data/examples/ageing_muscle_up100.txt")
        .read_text()
        .split()
    )
    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "a.txt").write_text("\n".join(example[:60]) + "\n")
    (lists / "b.txt").write_text("\n".join(example[-60:]) + "\n")
    plot, report = tmp_path / "b.svg", tmp_path / "b.html"
    code, _, err = run_exe(
        "batch", lists, "-l", "Hallmark", "--offline", "--cluster", "-o", tmp_path / "b.tsv",
        "--plot", plot, "--report", report,
    )  # fmt: skip
    assert code == 0, err
    assert "0 with a term at adjusted p < 0.05" in err
    assert "every dot drawn (none significant)" in _svg_text(plot.read_text())
    assert report.stat().st_size > 0


def test_matplotlib_is_a_dependency_of_the_installed_package():
    """A plain install brings matplotlib: --plot and --report are a main feature."""
    requires = importlib.metadata.requires("gsea-plus") or []
    core = [r for r in requires if "extra ==" not in r]
    assert any(re.match(r"matplotlib\b", r) for r in core), requires


def test_enrich_many_streams_to_a_file_from_python(updown_table, tmp_path):
    import gsea_plus

    run = gsea_plus.enrich_many(
        str(updown_table), "Hallmark", offline=True, output=tmp_path / "r.csv.gz",
        summary=tmp_path / "s.tsv", cluster=True, plot=tmp_path / "c.png",
    )  # fmt: skip
    with gzip.open(tmp_path / "r.csv.gz", "rt") as fh:
        written = pd.read_csv(fh)
    assert run.rows == len(written) and run.records == 6
    assert [w for w, _ in run.written] == ["results", "summary", "plot"]
    same = gsea_plus.enrich_many(str(updown_table), "Hallmark", offline=True, cluster=True)
    assert same["Term"].tolist() == written["Term"].tolist()
    np.testing.assert_array_equal(same["Cluster"].fillna(0), written["Cluster"].fillna(0))
    import matplotlib.image

    img = matplotlib.image.imread(str(tmp_path / "c.png"))
    assert (img[..., :3] < 0.94).any(axis=-1).mean() > 0.02
