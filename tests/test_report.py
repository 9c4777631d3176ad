"""HTML reports (gsea_plus.report): parsed as HTML, and rendered in headless Chromium."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import report_table
from test_plot import (
    LONG_A,
    NASTY,
    _batch,
    libraries,  # noqa: F401  (fixture)
    model_results,
    signature_and_result,  # noqa: F401  (fixture)
    synthetic_results,
)

from gsea_plus.cluster import cluster_terms
from gsea_plus.errors import InputError
from gsea_plus.report import (
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
        self.events: list[tuple[str, str | None, dict, str | None]] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self.events.append(("start", tag, dict(attrs), None))
        if tag not in ("meta", "br", "input", "img", "use", "path", "rect", "circle", "stop"):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        self.events.append(("end", tag, {}, None))
        if tag in self.stack:
            while self.stack and self.stack.pop() != tag:
                pass

    def handle_data(self, data):
        self.events.append(("data", None, {}, data))
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


def library_cells(page: Page) -> dict[str, dict[str, str]]:
    """The Libraries table as {library: {column key: text}}, read from the parsed page."""
    out: dict[str, dict[str, str]] = {}
    current = None
    key = None
    for event in page.events:
        kind, tag, attrs, data = event
        if kind == "start" and tag == "tr" and "data-library" in attrs:
            current = out.setdefault(attrs["data-library"], {})
        elif kind == "start" and tag == "td" and current is not None:
            key = attrs.get("data-col") or attrs.get("class", "")
            current.setdefault(key, "")
        elif kind == "data" and current is not None and key is not None:
            current[key] += data
        elif kind == "end" and tag == "tr":
            current, key = None, None
    return out


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
    words = page.all_text
    assert "gsea-plus enrich genes.txt -l GO_Test_2023.gmt" in words
    assert SHA in words and "GO_Test_2023@c40246c16d5c" in words
    assert "200 (fixed size)" in words
    assert "SEPT9" in words and "SEPTIN9" in words and "1-Mar" in words
    assert "GO_Test_2023: 26 of 27 (96%)" in words
    import gsea_plus

    assert gsea_plus.__version__ in words
    assert "my &lt;list&gt;" in text and "my <list>" not in text
    # the table embeds every row, with the columns a reader sorts by
    data = report_table(text)
    assert data["rows"] == len(df)
    assert data["columns"]["Term"] == df["Term"].tolist()
    shown = [s["name"] for s in data["specs"] if not s.get("hidden")]
    for col in ("#", "Term", "Library", "Overlap", "P-value", "Adjusted P-value", "Genes",
                "Cluster", "Representative"):  # fmt: skip
        assert col in shown
    assert "Log10 P-value" not in shown  # a sort key only
    assert data["flags"]["sig"] == (df["Adjusted P-value"] <= 0.05).astype(int).tolist()
    assert data["flags"]["rep"] == df["Representative"].astype(int).tolist()
    # figures: dot plot and enrichment map, inline SVG with legend text, no id clash
    assert [f["data-figure"] for f in page.find("figure")] == ["enrichment", "enrichment-map"]
    assert text.count("<svg") == 2
    assert "overlap (genes)" in words and "cluster: representative (nodes)" in words
    ids = re.findall(r'\bid="([^"]+)"', text)
    assert len(ids) == len(set(ids))
    assert page.classed("input", "only-rep")
    assert "Cohen's kappa" in words and ">= 0.35" in words
    assert page.find("div", id="methods-text")
    assert "hypergeometric" in words and "Benjamini-Hochberg" in words
    assert "GO_Test_2023 (sha256 c40246c16d5c)" in words and "matplotlib" in words
    assert len(page.find("script")) == 2  # the page's script and the table's data
    assert any("sortBy" in s for s in page.scripts)


def test_user_strings_are_escaped(libraries):  # noqa: F811
    df = synthetic_results(libraries)
    assert NASTY in df["Term"].tolist()
    ctx = context(command_line="gsea-plus enrich '<b>x</b>' --report r.html", input="<i>in</i>")
    text = render_enrich_report(df, ctx)
    assert "<script>alert(1)</script>" not in text  # not in the HTML, not in the data
    assert NASTY in report_table(text)["columns"]["Term"]
    assert html.escape(NASTY) in text  # the figure's label
    assert "<b>x</b>" not in text and "&lt;b&gt;x&lt;/b&gt;" in text
    assert "<i>in</i>" not in text
    assert len(Page(text).find("script")) == 2


def test_model_evidence_is_marked(libraries):  # noqa: F811
    df = model_results(synthetic_results(libraries))
    ctx = context(
        model={"name": "gsea-plus bundled", "fingerprint": "f" * 64, "test": "combined",
               "augment": 10},
        libraries=[{"library": "GO_Test_2023", "background_size": 200, "background_kind": "size",
                    "terms_tested": 8, "method": "combined+augment10"}],
    )  # fmt: skip
    text = render_enrich_report(df, ctx, color_by="combined")
    page = Page(text)
    words = page.all_text
    assert "f" * 64 in words
    assert "Evidence: gene set model." in words
    assert "weighted Bonferroni" in words  # the test's null, in the methods
    # the model tests every term: the methods say so, not "share at least one gene"
    assert "terms that share no gene with the list included" in words
    assert "share at least one gene" not in words
    data = report_table(text)
    assert data["columns"]["Evidence"].count("model") == 2
    assert {"Predicted Genes", "Evidence"} <= set(data["columns"])
    assert page.classed("select", "evidence")
    assert "model only" in words  # the figure's legend


def test_map_kind_draws_the_map_without_clustered_input(libraries):  # noqa: F811
    page = Page(render_enrich_report(synthetic_results(libraries), context(), plot_kind="map"))
    assert [f["data-figure"] for f in page.find("figure")] == ["enrichment", "enrichment-map"]
    assert "Cohen's kappa" in page.all_text


def test_empty_results_bad_path_and_a_cut_table(libraries, tmp_path):  # noqa: F811
    empty = pd.DataFrame(columns=["Term", "Overlap", "P-value", "Adjusted P-value", "Genes"])
    text = render_enrich_report(empty, context())
    assert "No term was reported" in text and "<svg" not in text
    assert report_table(text)["rows"] == 0
    with pytest.raises(InputError, match=".html"):
        check_report_path(tmp_path / "r.txt")
    with pytest.raises(InputError, match=".html"):
        write_enrich_report(tmp_path / "r.pdf", empty, context())
    assert not (tmp_path / "r.pdf").exists()
    df = synthetic_results(libraries)
    cut = render_enrich_report(df, context(), max_rows=3)
    assert report_table(cut)["rows"] == 3
    assert f"the first 3 of {len(df)} rows" in Page(cut).all_text


def test_a_large_table_is_compressed_and_holds_every_row(libraries, monkeypatch):  # noqa: F811
    import gsea_plus.report.table as table

    df = synthetic_results(libraries)
    monkeypatch.setattr(table, "COMPRESS_FROM", 0)
    text = render_enrich_report(df, context())
    assert 'data-encoding="gzip-base64"' in text
    assert report_table(text)["columns"]["Term"] == df["Term"].tolist()


# ------------------------------------------------------------------------- methods


def test_methods_text_states_each_library_as_its_header_row_does(libraries):  # noqa: F811
    """Two libraries of different backgrounds: each sentence has its own row's values."""
    from test_plot import LIST

    from gsea_plus.api import enrich_table

    table, info = enrich_table(LIST, libraries, offline=True)
    sizes = [lib["background_size"] for lib in info.per_library]
    assert len(set(sizes)) == 2  # the two libraries have different gene universes
    text = render_enrich_report(pd.DataFrame(dict(table)), ReportContext.from_enrich_info(info))
    page = Page(text)
    header = library_cells(page)
    spans = {
        a["data-library"]: text_of(text, a["data-library"])
        for t, a in page.tags
        if t == "span" and "library-method" in (a.get("class") or "")
    }
    assert set(spans) == set(header) == {lib["library"] for lib in info.per_library}
    for lib in info.per_library:
        row, sentence = header[lib["library"]], spans[lib["library"]]
        assert row["background"].startswith(f"{lib['background_size']:,} genes")
        assert row["background"] in sentence
        assert f"the {row['terms_tested']} terms" in sentence
        assert int(row["terms_tested"]) == lib["terms_tested"]
        other = next(x for x in info.per_library if x is not lib)
        assert f"{other['background_size']:,} genes" not in sentence


def text_of(text: str, library: str) -> str:
    m = re.search(
        rf'<span class="library-method" data-library="{re.escape(html.escape(library))}">'
        r"(.*?)</span>",
        text,
    )
    assert m
    return html.unescape(m.group(1))


# ---------------------------------------------------------------------------- batch


def test_batch_report_has_the_lists_the_comparison_and_every_row(libraries, tmp_path):  # noqa: F811
    res = cluster_terms(_batch(libraries))
    ctx = context(command_line="gsea-plus batch lists/ --report b.html", input="lists/")
    path = write_batch_report(tmp_path / "b.html", res, ctx, top=3)
    text = path.read_text(encoding="utf-8")
    page = Page(text)
    assert_self_contained(text, page)
    figures = [f["data-figure"] for f in page.find("figure")]
    assert figures[0] == "comparison"
    assert {"list-1", "list-2", "list-3"} <= set(figures)
    lists = report_table(text, "lists-table")
    assert lists["columns"]["List"] == ["apoptosis_like", "mhc_like", "matrix_like", "noise"]
    assert next(s for s in lists["specs"] if s["name"] == "List")["kind"] == "list"
    rows = report_table(text)
    assert rows["rows"] == len(res) and rows["columns"]["List"] == res["List"].tolist()
    assert page.classed("select", "list")
    links = [a["data-list"] for a in page.find("a") if "data-list" in a]
    assert links == ["apoptosis_like", "mhc_like", "matrix_like", "noise"]  # per-list parts
    assert "each list" in page.all_text  # the methods text


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
    assert "Leading Edge" in report_table(text)["columns"]
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


def browser(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
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


#: Run in the page after its tables are drawn: measures the layout and works the controls
#: as a user would, and leaves what it saw in an attribute of <html> (read from the DOM).
PROBE = """<script>
(function () {
  function fire(el, type) { el.dispatchEvent(new Event(type)); }
  function probe() {
    var de = document.documentElement, out = {scrollWidth: de.scrollWidth,
      innerWidth: window.innerWidth, error: document.querySelector("[data-error]") ? 1 : 0};
    out.tables = Array.prototype.map.call(document.querySelectorAll("table"), function (t) {
      var box = t.parentElement, r = t.getBoundingClientRect(), b = box.getBoundingClientRect();
      return {id: t.id, right: r.right, boxRight: b.right,
              overflow: getComputedStyle(box).overflowX,
              scrolls: box.scrollWidth > box.clientWidth};
    });
    var t = document.getElementById("results-table");
    var wrap = t.closest(".results-block");
    out.rows = t.getAttribute("data-rows");
    out.sorted = t.getAttribute("data-sorted");
    out.first = Array.prototype.map.call(t.tBodies[0].rows, function (r) {
      return Number(r.cells[0].getAttribute("data-v")); });
    var search = wrap.querySelector("input[type=search]");
    search.value = QUERY; fire(search, "input");
    out.filtered = t.getAttribute("data-shown");
    search.value = ""; fire(search, "input");
    var rep = wrap.querySelector("input.only-rep");
    if (rep) { rep.checked = true; fire(rep, "change"); out.reps = t.getAttribute("data-shown");
               rep.checked = false; fire(rep, "change"); }
    var link = document.querySelector("a[data-list]");
    if (link) { link.click(); out.list = t.getAttribute("data-shown");
                out.hash = window.location.hash; }
    de.setAttribute("data-probe", JSON.stringify(out));
  }
  var tries = 0;
  (function wait() {
    if (document.documentElement.getAttribute("data-tables") === "ready" || tries++ > 250) {
      probe();
    } else { setTimeout(wait, 20); }
  })();
})();
</script>"""


def probe(tmp_path: Path, path: Path, *, query: str, width: int, anchor: str = "") -> dict:
    """Open a report in headless Chromium, let the probe work it, return what it saw."""
    probed = path.with_name("probed-" + path.name)
    text = path.read_text(encoding="utf-8")
    probed.write_text(
        text.replace("</body>", PROBE.replace("QUERY", json.dumps(query)) + "</body>")
    )
    proc = browser(
        tmp_path, "--virtual-time-budget=10000", f"--window-size={width},900", "--dump-dom",
        probed.as_uri() + anchor,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    (root,) = Page(proc.stdout).find("html")
    assert root.get("data-script") == "ran" and root.get("data-tables") == "ready"
    return json.loads(root["data-probe"])


def assert_fits(seen: dict) -> None:
    """No page-wide horizontal scroll: every table fits, or scrolls inside its own box."""
    assert seen["scrollWidth"] <= seen["innerWidth"], seen
    for t in seen["tables"]:
        if t["right"] > seen["innerWidth"] + 0.5:
            assert t["overflow"] in ("auto", "scroll"), t
            assert t["boxRight"] <= seen["innerWidth"] + 0.5 and t["scrolls"], t


@needs_chromium
def test_chromium_enrich_report_at_1024_px(libraries, tmp_path, monkeypatch):  # noqa: F811
    """One load: the compressed data unpacks, the layout fits, sort and filters work."""
    import gsea_plus.report.table as table

    monkeypatch.setattr(table, "COMPRESS_FROM", 0)  # the gzip path, on a small table
    df = cluster_terms(model_results(synthetic_results(libraries)))
    long_source = "copied from /data/" + "a-long-folder-name/" * 12 + "GO_Test_2023.gmt"
    ctx = context(libraries=[{**context().libraries[0], "source": long_source}])
    path = write_enrich_report(tmp_path / "report.html", df, ctx, list_name="my list")
    seen = probe(
        tmp_path, path, query="GO:0043280", width=1024, anchor="#sort=Adjusted%20P-value:desc"
    )
    assert seen["error"] == 0 and seen["rows"] == str(len(df))
    assert_fits(seen)
    assert seen["sorted"] == "Adjusted P-value:desc"
    shown = df["Adjusted P-value"].to_numpy()[np.array(seen["first"]) - 1]
    assert (np.diff(shown) <= 0).all() and seen["first"] != sorted(seen["first"])
    assert seen["filtered"] == "1"
    assert seen["reps"] == str(int(df["Representative"].sum()))


@needs_chromium
def test_chromium_batch_report_lists_and_screenshot(libraries, tmp_path):  # noqa: F811
    import matplotlib.image

    res = cluster_terms(_batch(libraries))
    path = write_batch_report(tmp_path / "b.html", res, context(input="lists/"), top=3)
    seen = probe(tmp_path, path, query="mhc_like", width=1024)
    assert seen["error"] == 0 and seen["rows"] == str(len(res))
    assert_fits(seen)
    per_list = res.groupby("List", sort=False).size()
    assert seen["filtered"] == str(per_list["mhc_like"])  # the text filter reads the List
    assert seen["list"] == str(per_list.iloc[0]) and "list=apoptosis_like" in seen["hash"]
    shot = tmp_path / "shot.png"
    proc = browser(
        tmp_path, f"--screenshot={shot}", "--window-size=1400,2000",
        "--virtual-time-budget=5000", path.as_uri(),
    )  # fmt: skip
    assert proc.returncode == 0 and shot.is_file(), proc.stderr[-2000:]
    img = matplotlib.image.imread(str(shot))[..., :3]
    assert img.shape[:2] == (2000, 1400)
    ink = (img < 0.94).any(axis=-1).mean()
    assert ink > 0.015, f"the page looks blank ({ink:.1%} ink)"
    assert len(np.unique((img * 15).round().reshape(-1, 3), axis=0)) > 30
    purple = (img[..., 2] > 0.4) & (img[..., 0] < 0.35) & (img[..., 1] < 0.2)
    assert purple.sum() > 50  # the comparison figure's colours: the inline SVG was drawn


def test_example_term_is_shortened_in_figures_but_whole_in_the_table(libraries):  # noqa: F811
    text = render_enrich_report(synthetic_results(libraries), context())
    assert LONG_A in report_table(text)["columns"]["Term"]  # whole in the table
