"""HTML reports (gsea_plus.report): parsed as HTML, and rendered in headless Chromium."""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("matplotlib")

from test_plot import (  # noqa: E402
    LONG_A,
    NASTY,
    _batch,
    libraries,  # noqa: F401  (fixture)
    model_results,
    signature_and_result,  # noqa: F401  (fixture)
    synthetic_results,
)

from gsea_plus.cluster import cluster_terms  # noqa: E402
from gsea_plus.errors import InputError, MissingExtraError  # noqa: E402
from gsea_plus.report import (  # noqa: E402
    ReportContext,
    check_report_path,
    render_batch_report,
    render_enrich_report,
    render_prerank_report,
    write_batch_report,
    write_enrich_report,
    write_prerank_report,
)

SHA = "c40246c16d5ceaf1365333f142ca44bcc221d8433a41bdc0ca484a4024ad8eec"


def context(**extra) -> ReportContext:
    base = {
        "command_line": "gsea-plus enrich genes.txt -l GO_Test_2023.gmt -l KEGG_Test.gmt "
        "--cluster --report out.html",
        "input": "genes.txt",
        "input_size": 27,
        "libraries": [
            {
                "library": "GO_Test_2023",
                "version": "GO_Test_2023@c40246c16d5c",
                "sha256": SHA,
                "recognized": 26,
                "list_size": 26,
                "background": "200 (fixed size)",
                "terms_tested": 7,
            },
            {"library": "KEGG_Test", "recognized": 16, "background": "200 (fixed size)"},
        ],
        "converted": {"SEPT9": ("SEPTIN9",), "1-Mar": "MARCHF1"},
        "duplicates": ["G1"],
        "parameters": {"min_size": 1},
        "created": "2025-01-01T00:00:00+00:00",
    }
    base.update(extra)
    return ReportContext(**base)


class Page(HTMLParser):
    """Collects what the tests look at: tags with attributes, table rows, script and style."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.stack: list[str] = []
        self.text: list[str] = []
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in ("meta", "br", "input", "img", "use", "path", "rect", "circle", "stop"):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in self.stack:
            while self.stack and self.stack.pop() != tag:
                pass

    def handle_data(self, data):
        if self.stack and self.stack[-1] == "script":
            self.scripts.append(data)
        elif self.stack and self.stack[-1] == "style":
            self.styles.append(data)
        else:
            self.text.append(data)

    def find(self, tag, **attrs):
        return [
            a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())
        ]

    def classed(self, tag, cls):
        return [a for t, a in self.tags if t == tag and cls in (a.get("class") or "").split()]

    @property
    def all_text(self) -> str:
        return " ".join(self.text)


EXTERNAL = re.compile(r"^\s*(https?:|//|ftp:|file:)", re.I)


def assert_self_contained(text: str, page: Page) -> None:
    """No resource outside the file: no src/href/url() to another place, no @import."""
    for tag, attrs in page.tags:
        for key in ("src", "href", "xlink:href", "action", "data", "poster", "srcset"):
            value = attrs.get(key)
            if value is not None:
                assert not EXTERNAL.match(value), f"<{tag} {key}={value!r}>"
                assert value.startswith(("#", "data:")), f"<{tag} {key}={value!r}>"
    assert not page.find("link")
    assert not [a for t, a in page.tags if t == "script" and "src" in a]
    assert not [a for t, a in page.tags if t in ("iframe", "object", "embed")]
    css = " ".join(page.styles) + " ".join(a.get("style", "") for _, a in page.tags)
    for url in re.findall(r"url\(([^)]*)\)", css + text):
        assert url.strip("'\" ").startswith(("#", "data:")), url
    assert "@import" not in css
    # Stronger, for inputs that hold no address: no scheme at all anywhere in the file.
    assert "http://" not in text and "https://" not in text


# --------------------------------------------------------------------------- enrich


def test_enrich_report_structure(libraries, tmp_path):  # noqa: F811
    df = cluster_terms(synthetic_results(libraries))
    path = write_enrich_report(
        tmp_path / "r.html", df, context(), list_name="my <list>", cluster={"method": "kappa"}
    )
    text = path.read_text(encoding="utf-8")
    page = Page(text)
    assert text.startswith("<!DOCTYPE html>")
    assert_self_contained(text, page)
    # header
    words = page.all_text
    assert "gsea-plus enrich genes.txt -l GO_Test_2023.gmt" in words
    assert SHA in words and "GO_Test_2023@c40246c16d5c" in words
    assert "200 (fixed size)" in words
    assert "SEPT9" in words and "SEPTIN9" in words and "1-Mar" in words
    assert "GO_Test_2023: 26 of 27 (96%)" in words
    import gsea_plus

    assert gsea_plus.__version__ in words
    # the list name is escaped wherever it appears
    assert "my &lt;list&gt;" in text and "my <list>" not in text
    # results table: every row, sortable headers
    (table,) = page.find("table", id="results-table")
    rows = page.classed("tr", "rep") + [
        a for t, a in page.tags if t == "tr" and "data-sig" in a and "rep" not in a.get("class", "")
    ]
    assert len(rows) == len(df)
    headers = [a["data-col"] for t, a in page.tags if t == "th" and "data-col" in a]
    for col in ("#", "Term", "Library", "Overlap", "P-value", "Adjusted P-value", "Genes",
                "Cluster", "Representative"):  # fmt: skip
        assert col in headers
    assert "Log10 P-value" not in headers
    # figures: dot plot and enrichment map, inline SVG with legend text
    figures = page.find("figure")
    assert [f["data-figure"] for f in figures] == ["enrichment", "enrichment-map"]
    assert text.count("<svg") == 2
    assert "overlap (genes)" in words and "cluster: representative (terms)" in words
    ids = re.findall(r'\bid="([^"]+)"', text)
    assert len(ids) == len(set(ids))  # two inline SVGs, no id clash
    # clustering: representatives filter present, rule stated
    assert page.classed("input", "only-rep")
    assert "Cohen's kappa" in words and ">= 0.35" in words
    # methods paragraph
    (methods,) = page.find("div", id="methods-text")
    assert "hypergeometric" in words and "Benjamini-Hochberg" in words
    assert "GO_Test_2023 (sha256 c40246c16d5c)" in words
    assert "matplotlib" in words
    # one script, ours
    assert len(page.find("script")) == 1 and "sortBy" in page.scripts[0]


def test_user_strings_are_escaped(libraries, tmp_path):  # noqa: F811
    df = synthetic_results(libraries)
    assert NASTY in df["Term"].tolist()
    ctx = context(command_line="gsea-plus enrich '<b>x</b>' --report r.html", input="<i>in</i>")
    text = render_enrich_report(df, ctx)
    assert "<script>alert(1)</script>" not in text
    assert html.escape(NASTY) in text
    assert "<b>x</b>" not in text and "&lt;b&gt;x&lt;/b&gt;" in text
    assert "<i>in</i>" not in text
    page = Page(text)
    assert len(page.find("script")) == 1


def test_model_evidence_is_marked(libraries, tmp_path):  # noqa: F811
    df = model_results(synthetic_results(libraries))
    ctx = context(
        model={"name": "gsea-plus bundled", "fingerprint": "f" * 64, "test": "combined",
               "augment": 10},
    )  # fmt: skip
    text = render_enrich_report(df, ctx, color_by="combined")
    page = Page(text)
    words = page.all_text
    assert "f" * 64 in words  # the model fingerprint in the header
    assert "Evidence: gene set model." in words
    assert "weighted Bonferroni" in words  # the test's null, in the methods
    badges = page.classed("span", "badge")
    assert any("model" in (b.get("class") or "") for b in badges)
    model_rows = [a for t, a in page.tags if t == "tr" and a.get("data-evidence") == "model"]
    assert len(model_rows) == 2
    assert all("ev-model" in a["class"] for a in model_rows)
    assert page.classed("span", "pred")  # predicted genes marked
    assert page.classed("select", "evidence")
    assert "model only" in words  # the figure's legend


def test_report_without_matplotlib_still_writes_the_tables(libraries, tmp_path, monkeypatch):  # noqa: F811
    import gsea_plus.plot as plot

    def missing(*_a, **_k):
        raise MissingExtraError("plotting needs matplotlib: pip install 'gsea-plus[plot]'")

    monkeypatch.setattr(plot, "_new_figure", missing)
    text = render_enrich_report(synthetic_results(libraries), context())
    assert "<svg" not in text
    assert "Figures are missing" in text and "gsea-plus[plot]" in text
    assert 'id="results-table"' in text


def test_map_kind_draws_the_map_without_clustered_input(libraries):  # noqa: F811
    page = Page(render_enrich_report(synthetic_results(libraries), context(), plot_kind="map"))
    assert [f["data-figure"] for f in page.find("figure")] == ["enrichment", "enrichment-map"]
    assert "Cohen's kappa" in page.all_text


def test_empty_results_and_bad_path(tmp_path):
    empty = pd.DataFrame(columns=["Term", "Overlap", "P-value", "Adjusted P-value", "Genes"])
    text = render_enrich_report(empty, context())
    assert "No term was reported" in text and "<svg" not in text
    with pytest.raises(InputError, match=".html"):
        check_report_path(tmp_path / "r.txt")
    with pytest.raises(InputError, match=".html"):
        write_enrich_report(tmp_path / "r.pdf", empty, context())
    assert not (tmp_path / "r.pdf").exists()


def test_max_rows_cuts_the_table_and_says_so(libraries):  # noqa: F811
    df = synthetic_results(libraries)
    page = Page(render_enrich_report(df, context(), max_rows=3))
    assert len([a for t, a in page.tags if t == "tr" and "data-sig" in a]) == 3
    assert f"The first 3 of {len(df)} rows" in page.all_text


# ---------------------------------------------------------------------------- batch


def test_batch_report_has_a_section_per_list_and_the_comparison(libraries, tmp_path):  # noqa: F811
    res = cluster_terms(_batch(libraries))
    ctx = context(command_line="gsea-plus batch lists/ --report b.html", input="lists/")
    path = write_batch_report(tmp_path / "b.html", res, ctx, top=3)
    text = path.read_text(encoding="utf-8")
    page = Page(text)
    assert_self_contained(text, page)
    sections = page.classed("section", "list")
    assert [s["id"] for s in sections] == ["list-1", "list-2", "list-3", "list-4"]
    figures = [f["data-figure"] for f in page.find("figure")]
    assert figures[0] == "comparison"
    assert {"list-1", "list-2", "list-3"} <= set(figures)
    words = page.all_text
    for name in ("apoptosis_like", "mhc_like", "matrix_like", "noise"):
        assert name in words
    links = [a["href"] for a in page.find("a") if a.get("href", "").startswith("#list-")]
    assert len(links) == 4
    assert "each list on its own" in words  # the methods text
    tables = [a for t, a in page.tags if t == "table" and "results" in (a.get("class") or "")]
    assert len(tables) == 4


def test_batch_report_needs_a_list_column(libraries):  # noqa: F811
    with pytest.raises(InputError, match="List column"):
        render_batch_report(synthetic_results(libraries), context())


# --------------------------------------------------------------------------- prerank


def test_prerank_report(signature_and_result, tmp_path):  # noqa: F811
    sig, result, sets = signature_and_result
    ctx = ReportContext(
        command_line="gsea-plus prerank sig.tsv -l sets.gmt --report p.html",
        input="sig.tsv",
        input_size=len(sig),
        libraries=[{"library": "sets", "sha256": SHA}],
        parameters={"permutations": 200, "weight": 1},
    )
    path = write_prerank_report(
        tmp_path / "p.html", cluster_terms(result), ctx, signature=sig, gene_sets=sets,
        signature_name="toy signature",
    )  # fmt: skip
    text = path.read_text(encoding="utf-8")
    page = Page(text)
    assert_self_contained(text, page)
    figures = [f["data-figure"] for f in page.find("figure")]
    assert figures[0] == "nes" and figures.count("running-sum") == 2
    words = page.all_text
    assert "Genes in signature" in words and "400" in words
    assert "gamma distribution" in words and "200 random gene sets" in words
    assert "Leading Edge" in [a.get("data-col") for t, a in page.tags if t == "th"]
    one = render_prerank_report(result, ctx, signature=sig, gene_sets=sets, plot_terms=["Top set"])
    assert [f["data-figure"] for f in Page(one).find("figure")].count("running-sum") == 1


# ------------------------------------------------------------------- headless Chromium

CHROMIUM_NAMES = (
    "chromium-headless-shell",
    "chrome-headless-shell",
    "chromium",
    "chromium-browser",
    "google-chrome",
)


def _chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


CHROMIUM = _chromium()
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no headless Chromium (CI installs it: apt-get install -y chromium-headless-shell)",
)


def _browser(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "chromium-profile"
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        *args,
    ]
    env = dict(os.environ, HOME=str(tmp_path))
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)


def _dom(tmp_path: Path, url: str) -> Page:
    proc = _browser(tmp_path, "--virtual-time-budget=5000", "--dump-dom", url)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "<html" in proc.stdout, proc.stderr[-2000:]
    return Page(proc.stdout)


@pytest.fixture
def report_file(libraries, tmp_path):  # noqa: F811
    df = cluster_terms(synthetic_results(libraries))
    return df, write_enrich_report(tmp_path / "report.html", df, context(), list_name="my list")


@needs_chromium
def test_chromium_screenshot_is_not_blank(report_file, tmp_path):
    import matplotlib.image

    _, path = report_file
    shot = tmp_path / "shot.png"
    proc = _browser(tmp_path, f"--screenshot={shot}", "--window-size=1280,2000", path.as_uri())
    assert proc.returncode == 0 and shot.is_file(), proc.stderr[-2000:]
    img = matplotlib.image.imread(str(shot))[..., :3]
    assert img.shape[:2] == (2000, 1280)
    ink = (img < 0.94).any(axis=-1).mean()
    colours = len(np.unique((img * 15).round().reshape(-1, 3), axis=0))
    assert ink > 0.015, f"the page looks blank ({ink:.1%} ink)"
    assert colours > 30  # text, figure colours, table shading
    # the dot plot's colours (plasma) are on the page, so the inline SVG was drawn
    purple = (img[..., 2] > 0.4) & (img[..., 0] < 0.35) & (img[..., 1] < 0.2)
    assert purple.sum() > 50


@needs_chromium
def test_chromium_runs_the_table_script_sort_and_filters(report_file, tmp_path):
    df, path = report_file
    # sorted by adjusted p, descending, through the address
    page = _dom(tmp_path, path.as_uri() + "#sort=Adjusted%20P-value:desc")
    (root,) = page.find("html")
    assert root.get("data-script") == "ran"
    (table,) = page.find("table", id="results-table")
    assert table.get("data-ready") == "1"
    assert table.get("data-sorted") == "Adjusted P-value:desc"
    assert table.get("data-shown") == str(len(df))
    th = [a for t, a in page.tags if t == "th" and a.get("data-col") == "Adjusted P-value"]
    assert th[0].get("aria-sort") == "descending"
    # rows now run from the largest adjusted p down (the '#' cell keeps the original rank)
    ranks = _row_ranks(page)
    assert sorted(ranks) == list(range(1, len(df) + 1))
    shown = df["Adjusted P-value"].to_numpy()[np.array(ranks) - 1]
    assert (np.diff(shown) <= 0).all() and ranks != sorted(ranks)
    rows = [a for t, a in page.tags if t == "tr" and "data-sig" in a]
    assert rows[0].get("data-sig") == "0"
    # a text filter and the representatives switch
    page = _dom(tmp_path, path.as_uri() + "#filter=GO:0043280")
    (table,) = page.find("table", id="results-table")
    assert table.get("data-shown") == "1"
    page = _dom(tmp_path, path.as_uri() + "#rep=1")
    (table,) = page.find("table", id="results-table")
    assert table.get("data-shown") == str(int(df["Representative"].sum()))
    hidden = [a for t, a in page.tags if t == "tr" and "data-sig" in a and "hidden" in a]
    assert len(hidden) == len(df) - int(df["Representative"].sum())


def _row_ranks(page: Page) -> list[int]:
    """The '#' cell of each results row, in document order."""
    ranks, in_row = [], False
    for tag, attrs in page.tags:
        if tag == "tr":
            in_row = "data-sig" in attrs
        elif tag == "td" and in_row:
            ranks.append(int(attrs["data-v"]))
            in_row = False
    return ranks


def test_example_term_is_shortened_in_figures_but_whole_in_the_table(libraries):  # noqa: F811
    text = render_enrich_report(synthetic_results(libraries), context())
    assert html.escape(LONG_A) in text  # whole in the table
