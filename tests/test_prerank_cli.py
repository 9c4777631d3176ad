"""``gsea-plus prerank`` as users run it: tables, the column line, plots, reports, clusters.

Most tests run the installed console script in a subprocess (what a pipeline sees: exit
code, stdout, stderr); the terminal table is checked through rich at 80 and 120 columns.
"""

from __future__ import annotations

import html.parser
import io
import re

import numpy as np
import pandas as pd
import pytest
from conftest import assert_one_error_line, gmt_text, report_table, run_exe

N_GENES = 1500
EDGE_GENES = 60


def gsea_plus(*args):
    code, out, err = run_exe(*args)
    return code, out.decode(), err


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """A signature, the same signature as a DESeq2 table, and a GO-like library."""
    root = tmp_path_factory.mktemp("prerank_cli")
    rng = np.random.default_rng(0)
    genes = [f"SYN{i:04d}X" for i in range(N_GENES)]
    scores = rng.normal(size=N_GENES) * 3
    order = np.argsort(-scores)
    sets = {
        f"Regulation Of Something Rather Long Number {i} (GO:{1000 + i:07d})": [
            genes[j] for j in rng.choice(N_GENES, 30, replace=False)
        ]
        for i in range(40)
    }
    up = "Positive Regulation Of Extracellular Matrix Organization In Ageing Muscle (GO:0001234)"
    down = "Mitochondrial Respiratory Chain Complex I Assembly (GO:0032981)"
    sets[up] = [genes[j] for j in rng.choice(order[:200], 40, replace=False)]
    sets[down] = [genes[j] for j in rng.choice(order[-200:], 40, replace=False)]
    gmt = root / "go_like.gmt"
    gmt.write_text(gmt_text(sets))
    plain = root / "signature.tsv"
    plain.write_text("".join(f"{g}\t{s!r}\n" for g, s in zip(genes, scores.tolist(), strict=True)))
    deseq2 = root / "deseq2_results.csv"
    lines = ['"","baseMean","log2FoldChange","lfcSE","stat","pvalue","padj"']
    for g, s in zip(genes, scores.tolist(), strict=True):
        base = rng.uniform(5, 5e4)
        lines.append(f'"{g}",{base!r},{s / 4 + rng.normal()!r},0.2,{s!r},{rng.uniform()!r},NA')
    lines.append('"NOCOUNTS1X",0,NA,NA,NA,NA,NA')
    deseq2.write_text("\n".join(lines) + "\n")
    return {"gmt": gmt, "plain": plain, "deseq2": deseq2, "up": up, "down": down, "root": root}


def common(data):
    return ["-l", data["gmt"], "--permutations", "300", "--min-size", "5"]


# --------------------------------------------------------------------------- tables


def test_deseq2_table_prints_its_columns_and_gives_the_plain_result(data):
    code, out, err = gsea_plus("prerank", data["deseq2"], *common(data), "-f", "tsv")
    assert code == 0, err
    line = next(x for x in err.splitlines() if x.startswith("signature: DESeq2"))
    assert "score: 'stat' (column 5)" in line and "genes: the row names (column 1)" in line
    assert "1 without a score or gene dropped" in line
    code, plain_out, plain_err = gsea_plus("prerank", data["plain"], *common(data), "-f", "tsv")
    assert code == 0, plain_err
    assert out == plain_out  # the same result, byte for byte
    assert not any(x.startswith("signature: two-column") for x in plain_err.splitlines())
    table = pd.read_csv(io.StringIO(out), sep="\t")
    assert set(table["Term"].head(2)) == {data["up"], data["down"]}
    # --score by name and by number read the same column
    for score in ("stat", "5"):
        code, again, _ = gsea_plus(
            "prerank", data["deseq2"], *common(data), "--score", score, "-f", "tsv"
        )
        assert code == 0 and again == out


def test_ambiguous_table_is_refused_listing_its_columns(data, tmp_path):
    path = tmp_path / "table.tsv"
    path.write_text("gene\teffect\tmean\nSYN0001X\t1.5\t3\nSYN0002X\t-2\t4\nSYN0003X\t0.5\t9\n")
    code, out, err = gsea_plus("prerank", path, *common(data))
    assert code == 2 and out == ""
    assert_one_error_line(code, err, "--score COLUMN", "1 gene [text], 2 effect, 3 mean")
    code, out, err = gsea_plus("prerank", path, *common(data), "--score", "pvalue")
    assert_one_error_line(code, err, "--score 'pvalue' is not a column")


# --------------------------------------------------------------------------- figures, report


class _Html(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.tags: list[str] = []
        self.rows = 0
        self._in = {"tbody": 0}

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "action", "srcset", "xlink:href") and value:
                self.links.append(value)
        if tag == "tbody":
            self._in["tbody"] += 1
        if tag == "tr" and self._in["tbody"]:
            self.rows += 1

    def handle_endtag(self, tag):
        if tag == "tbody":
            self._in["tbody"] -= 1


def test_report_is_self_contained_and_has_every_row(data, tmp_path):
    report = tmp_path / "prerank.html"
    code, out, err = gsea_plus(
        "prerank", data["deseq2"], *common(data), "--report", report, "--cluster", "-f", "tsv"
    )
    assert code == 0, err
    assert f"wrote the report to {report}" in err
    text = report.read_text()
    page = _Html()
    page.feed(text)
    assert "link" not in page.tags  # no stylesheet, font or icon from outside
    external = [u for u in page.links if not u.startswith(("#", "data:"))]
    assert external == []
    assert not re.search(r"\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//", text)
    table = pd.read_csv(io.StringIO(out), sep="\t")
    assert report_table(text)["rows"] == len(table) == 42
    assert "Cluster" in table.columns
    for needle in (
        "Signature table",
        "DESeq2 results table; score: &#x27;stat&#x27; (column 5)",
        "gsea-plus prerank",
        "--report",
        data["up"],
        "sha256",
    ):
        assert needle in text, needle


def test_plot_term_twice_draws_both_terms(data, tmp_path):
    svg = tmp_path / "running.svg"
    code, out, err = gsea_plus(
        "prerank",
        data["plain"],
        *common(data),
        "--plot",
        svg,
        "--plot-term",
        data["up"],
        "--plot-term",
        data["down"],
        "-f",
        "tsv",
    )
    assert code == 0, err
    drawn = svg.read_text()
    # term names are text in the SVG (the legend keeps each GO ID whole)
    assert "(GO:0001234)" in drawn and "(GO:0032981)" in drawn
    assert "Mitochondrial Respiratory Chain" in drawn and "Positive Regulation Of" in drawn
    png = tmp_path / "default.png"
    code, _, err = gsea_plus("prerank", data["plain"], *common(data), "--plot", png, "-f", "tsv")
    assert code == 0, err
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--plot-term", "X"], "--plot-term chooses the terms of --plot FILE or --report FILE"),
        (["--plot", "p.png", *[f"--plot-term=T{i}" for i in range(7)]], "at most 6 terms"),
        (["--plot", "p.txt"], "use a .png, .svg or .pdf file name"),
        (["--report", "r.txt"], "use a .html file name"),
        (["--representatives"], "--representatives needs --cluster"),
        (["--cluster-threshold", "0.5"], "--cluster-threshold needs --cluster"),
        (["--species", "rat"], "species must be one of"),
    ],
)
def test_bad_options_are_refused_before_any_work(run_cli, data, tmp_path, extra, needle):
    extra = [str(tmp_path / x) if x in ("p.png", "p.txt", "r.txt") else x for x in extra]
    code, out, err = run_cli("prerank", data["plain"], *common(data), *extra)
    assert_one_error_line(code, err, needle)
    assert out == b"" and not list(tmp_path.iterdir())


def test_unknown_plot_term_names_the_term(run_cli, data, tmp_path):
    code, _, err = run_cli(
        "prerank", data["plain"], *common(data), "--plot", tmp_path / "p.png", "--plot-term", "Nope"
    )
    assert_one_error_line(code, err, "'Nope' is not among the tested terms")


def test_cluster_and_representatives(run_cli, data):
    code, out, err = run_cli("prerank", data["plain"], *common(data), "--cluster", "-f", "tsv")
    assert code == 0, err
    clustered = pd.read_csv(io.BytesIO(out), sep="\t")
    assert {"Cluster", "Representative", "Cluster Size"} <= set(clustered.columns)
    assert clustered.loc[clustered["FDR"] <= 0.05, "Cluster"].notna().all()
    assert "clusters of significant terms" in err
    code, out, err = run_cli(
        "prerank", data["plain"], *common(data), "--cluster", "--representatives", "-f", "tsv"
    )
    assert code == 0, err
    reps = pd.read_csv(io.BytesIO(out), sep="\t")
    assert reps["Representative"].all() and len(reps) == clustered["Representative"].sum()
    assert "(representatives shown)" in err


def test_species_and_conversion_in_the_summary(run_cli, tmp_path):
    sets = {
        "p53 targets": ["TP53", "CDKN1A", "MDM2", "BAX", "GADD45A", "SESN2"],
        "other": ["ACTB", "GAPDH", "TUBB", "RPL13A", "EEF1A1", "PPIA"],
    }
    gmt = tmp_path / "lib.gmt"
    gmt.write_text(gmt_text(sets))
    mouse = ["Trp53", "Cdkn1a", "Mdm2", "Bax", "Gadd45a", "Sesn2"]
    mouse += ["Actb", "Gapdh", "Tubb5", "Rpl13a", "Eef1a1", "Ppia"]
    sig = tmp_path / "mouse.tsv"
    sig.write_text("".join(f"{g}\t{6 - i}\n" for i, g in enumerate(mouse)))
    code, out, err = run_cli(
        "prerank", sig, "-l", gmt, "--min-size", "3", "--species", "mouse", "-f", "tsv"
    )
    assert code == 0, err
    assert "converted" in err and "mouse ortholog" in err
    table = pd.read_csv(io.BytesIO(out), sep="\t")
    assert table.loc[table["Term"] == "p53 targets", "NES"].iloc[0] > 0


# --------------------------------------------------------------------------- terminal table


def _result(long_edges: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    terms = [
        "Positive Regulation Of Cysteine-Type Endopeptidase Activity Involved In Apoptotic "
        "Process (GO:0043280)",
        "Cell Cycle (hsa04110)",
        "Epithelial Mesenchymal Transition",
        "Regulation Of Transcription By RNA Polymerase II (GO:0006357)",
        "Antigen Processing And Presentation Of Exogenous Peptide Antigen Via MHC Class II "
        "(GO:0019886)",
        "Mitochondrial Respiratory Chain Complex I Assembly (GO:0032981)",
    ]
    n = len(terms)
    edges = [";".join(f"GENE{j}{i}" for j in range(40 if long_edges else 3)) for i in range(n)]
    return pd.DataFrame(
        {
            "Term": terms,
            "ES": rng.uniform(-1, 1, n),
            "NES": [-2.53, 3.94, 1.5, -1.234, 2.0, -0.5],
            "P-value": [1.234e-22, 3.3e-300, 0.0123, 0.5, 1e-5, 0.99],
            "FDR": [9.61e-19, 1.0e-297, 0.0456, 0.7, 2e-4, 0.99],
            "Size": [339, 1234, 200, 45, 87, 12],
            "Leading Edge Size": [40] * n,
            "Leading Edge": edges,
            "Library": ["GO_Biological_Process_2023", "KEGG_2021_Human"] * (n // 2),
        }
    )


@pytest.mark.parametrize("width", [80, 100, 120, 200])
@pytest.mark.parametrize("clustered", [False, True])
def test_terminal_table_fits_and_keeps_numbers_and_ids_whole(width, clustered):
    from rich.console import Console

    from gsea_plus.cli.prerank import PrerankTable

    result = _result()
    if clustered:
        result = result.assign(Cluster=pd.array([1, 2, None, 1, 3, None], dtype="Int64"))
    console = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    console.print(PrerankTable(result, top=20))
    text = console.export_text()
    lines = text.splitlines()
    assert max(len(x) for x in lines) <= width
    one_line_per_row = len(lines) == len(result) + 4  # top, header, rule, rows, bottom
    assert one_line_per_row, text
    for _, row in result.iterrows():
        for number in (f"{row['NES']:.2f}", f"{row['P-value']:.2e}", f"{row['FDR']:.2e}"):
            assert re.search(rf"(?<![\d.e-]){re.escape(number)}(?![\d])", text), number
        assert re.search(rf"\b{row['Size']}\b", text)
        ident = re.search(r"\((GO:\d+|hsa\d+)\)$", row["Term"])
        if ident:
            assert ident.group(0) in text, ident.group(0)
    if width >= 120:
        assert "Library" in text
    if width >= 200:
        assert "ES" in text.split("\n")[1] and "Leading edge" in text
        assert "GENE00, GENE10" in text and re.search(r"\+\d+", text)
    if clustered and width >= 100:
        assert "Cluster" in text
