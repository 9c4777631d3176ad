"""Figures (gsea_plus.plot): looked at through their SVG text and their PNG pixels."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import subprocess_env

pytest.importorskip("matplotlib")

from gsea_plus.cluster import cluster_terms  # noqa: E402
from gsea_plus.errors import InputError  # noqa: E402
from gsea_plus.plot import (  # noqa: E402
    comparison_figure,
    enrichment_figure,
    enrichment_map_figure,
    evidence_of,
    figure_to_svg,
    nes_figure,
    plot_comparison,
    plot_enrichment,
    plot_enrichment_map,
    plot_running_sum,
    running_sum_figure,
    select_compare_terms,
    shorten_term,
    shorten_terms,
)

LONG_A = (
    "Positive Regulation Of Cysteine-Type Endopeptidase Activity Involved In Apoptotic "
    "Process (GO:0043280)"
)
LONG_B = (
    "Positive Regulation Of Cysteine-Type Endopeptidase Activity Involved In Apoptotic "
    "Signaling Pathway (GO:2001269)"
)
NASTY = "<script>alert(1)</script> & $x^2$ term"

# Two synthetic libraries over G0..G199 with redundant groups of terms.
GO_SETS = {
    LONG_A: [f"G{i}" for i in range(0, 12)],
    LONG_B: [f"G{i}" for i in range(0, 10)] + ["G150", "G151"],
    "Antigen Processing And Presentation Of Peptide Antigen Via MHC Class II (GO:0002495)": [
        f"G{i}" for i in range(20, 32)
    ],
    "MHC Class II Protein Complex Assembly (GO:0002399)": [f"G{i}" for i in range(20, 28)],
    "Extracellular Matrix Organization (GO:0030198)": [f"G{i}" for i in range(40, 60)],
    "Collagen Fibril Organization (GO:0030199)": [f"G{i}" for i in range(40, 52)],
    NASTY: [f"G{i}" for i in range(60, 70)],
    "Unrelated Process (GO:0000001)": [f"G{i}" for i in range(100, 140)],
}
KEGG_SETS = {
    "p53 signaling pathway": [f"G{i}" for i in range(0, 8)] + ["G160", "G161"],
    "Antigen processing and presentation": [f"G{i}" for i in range(20, 30)] + ["G170"],
    "Ribosome": [f"G{i}" for i in range(140, 190)],
}
LIST = (
    [f"G{i}" for i in range(0, 9)]
    + [f"G{i}" for i in range(20, 27)]
    + [f"G{i}" for i in range(40, 47)]
    + ["G60", "G61", "G100", "G141"]
)


def _gmt(path, sets):
    path.write_text("".join(f"{t}\t\t" + "\t".join(g) + "\n" for t, g in sets.items()))
    return path


@pytest.fixture
def libraries(tmp_path):
    return [
        str(_gmt(tmp_path / "GO_Test_2023.gmt", GO_SETS)),
        str(_gmt(tmp_path / "KEGG_Test.gmt", KEGG_SETS)),
    ]


def synthetic_results(libraries) -> pd.DataFrame:
    """Classical ``enrich`` results of :data:`LIST` against the two test libraries."""
    import gsea_plus

    return gsea_plus.enrich(LIST, library=libraries, background=200, offline=True)


def model_results(df: pd.DataFrame) -> pd.DataFrame:
    """A model-based table as issue 13 shapes it: Evidence, NaN odds ratios for model rows."""
    out = df.copy()
    out["Classical P-value"] = out["P-value"]
    out["Model P-value"] = np.linspace(1e-4, 0.5, len(out))
    out["Model Score"] = np.linspace(3, -1, len(out))
    out["Predicted Overlap"] = [2] * len(out)
    out["Predicted Genes"] = "G150;G151"
    out["Method"] = "combined+augment10"
    extra = out.iloc[:2].copy()
    extra["Term"] = ["Model Only Term A (GO:0009999)", "Model Only Term B (GO:0009998)"]
    extra["Overlap"] = ["0/30", "0/25"]
    extra["Overlap Size"] = 0
    extra["Genes"] = ""
    extra["Predicted Genes"] = ["G150;G151;G152", "G150;G151"]
    out = pd.concat([out, extra], ignore_index=True)
    out["Evidence"] = np.where(out["Overlap Size"] > 0, "list+model", "model")
    out.loc[out["Evidence"] == "model", ["Odds Ratio", "Combined Score"]] = np.nan
    out.loc[2, "Evidence"] = "list"
    return out


def svg_texts(svg: str) -> str:
    """All text of an SVG written with svg.fonttype none, joined (XML entities decoded)."""
    import html

    return " ".join(html.unescape(t) for t in re.findall(r"<text[^>]*>(.*?)</text>", svg, re.S))


def png_stats(path):
    import matplotlib.image

    img = matplotlib.image.imread(str(path))
    rgb = img[..., :3]
    ink = (rgb < 0.94).any(axis=-1).mean()
    colours = len(np.unique((rgb * 15).round().reshape(-1, 3), axis=0))
    return img.shape, ink, colours


# ------------------------------------------------------------------------- labels


def test_shorten_keeps_ids_whole_and_terms_apart():
    short = shorten_term(LONG_A, 50)
    assert short.endswith("(GO:0043280)") and len(short) <= 50 and "\u2026" in short
    a, b = shorten_terms([LONG_A, LONG_B], 55)
    assert a != b
    assert a.endswith("(GO:0043280)") and b.endswith("(GO:2001269)")
    # the names differ only at the end: the middle is cut, so the ends show
    assert "Process" in a and "Pathway" in b
    reactome = "Signaling by EGFR in a very very long pathway name here R-HSA-177929"
    assert shorten_term(reactome, 40).endswith("R-HSA-177929")
    assert shorten_term("short (GO:0000001)", 60) == "short (GO:0000001)"
    same = shorten_terms(["x" * 80, "x" * 80 + "y", "x" * 80 + "z"], 30)
    assert len(set(same)) == 3


def test_evidence_of():
    df = pd.DataFrame({"Term": ["a"], "Overlap Size": [1]})
    assert evidence_of(df) is None
    old_model = pd.DataFrame(
        {"Overlap Size": [2, 0, 3], "Predicted Overlap": [0, 4, 1], "Method": "combined"}
    )
    assert evidence_of(old_model).tolist() == ["list", "model", "list+model"]
    assert evidence_of(pd.DataFrame({"Evidence": ["List", "model"]})).tolist() == [
        "list",
        "model",
    ]


# ------------------------------------------------------------------------- dot / bar


def test_dot_plot_svg_has_legends_threshold_title_and_whole_ids(libraries, tmp_path):
    df = synthetic_results(libraries)
    path = plot_enrichment(df, tmp_path / "dot.svg", top=8, list_name="my list", threshold=0.05)
    svg = path.read_text()
    assert path.stat().st_size > 10_000
    text = svg_texts(svg)
    assert "my list" in text
    assert "GO_Test_2023" in text and "KEGG_Test" in text  # one panel per library
    assert "overlap (genes)" in text
    assert "adjusted p = 0.05" in text
    assert "-log10 adjusted p-value" in text
    assert "adjusted p-value" in text  # the colour bar
    assert "Top enriched terms" not in text
    assert "(GO:0043280)" in text and "(GO:2001269)" in text
    assert "stroke-dasharray" in svg  # the dashed FDR line
    assert NASTY in text  # shown literally: no mathtext from '$', no markup
    assert "<script" not in svg


def test_dot_plot_png_is_not_blank(libraries, tmp_path):
    df = synthetic_results(libraries)
    path = plot_enrichment(df, tmp_path / "dot.png", top=10, dpi=80)
    (h, w, _), ink, colours = png_stats(path)
    assert w >= 500 and h >= 400
    assert 0.03 < ink < 0.6
    assert colours > 20


def test_bar_plot_writes_overlaps_and_colours_by_combined_score(libraries, tmp_path):
    df = synthetic_results(libraries)
    svg = figure_to_svg(enrichment_figure(df, kind="bar", top=5, color_by="combined"))
    text = svg_texts(svg)
    assert "combined score" in text
    assert re.search(r"\b\d+/\d+\b", text)  # overlap written at the bar ends
    path = plot_enrichment(df, tmp_path / "bar.pdf", kind="bar")
    assert path.read_bytes()[:4] == b"%PDF"


def test_model_results_are_marked_and_nan_odds_ratios_are_harmless(libraries):
    df = model_results(synthetic_results(libraries))
    for color_by in ("p", "combined"):
        svg = figure_to_svg(enrichment_figure(df, top=12, color_by=color_by))
        text = svg_texts(svg)
        assert "Evidence: gene set model" in text
        assert "model only" in text and "list genes + model" in text
        assert "model-based evidence (combined+augment10)" in text
        assert "log2 odds ratio" not in text
        assert not re.search(r"(?<![\d.e])[\u2212-]9(\.\d+)?\b", text)  # no colour bar to -9
    assert "no combined score" in svg_texts(
        figure_to_svg(enrichment_figure(df, top=12, color_by="combined"))
    )


def test_representatives_only_say_how_many_terms_they_stand_for(libraries):
    df = cluster_terms(synthetic_results(libraries))
    text = svg_texts(figure_to_svg(enrichment_figure(df, representatives=True)))
    assert "similar)" in text
    assert "representatives" in text
    with pytest.raises(InputError, match="--representatives needs"):
        enrichment_figure(synthetic_results(libraries), representatives=True)


def test_old_signature_and_errors_still_hold(libraries, tmp_path):
    df = synthetic_results(libraries)
    assert plot_enrichment(df, tmp_path / "a.png", kind="dot", top=3).is_file()
    with pytest.raises(InputError, match=".png, .svg or .pdf"):
        plot_enrichment(df, tmp_path / "a.jpg")
    with pytest.raises(InputError, match="no enriched term"):
        plot_enrichment(df.iloc[:0], tmp_path / "b.png")
    with pytest.raises(InputError, match="--plot-kind"):
        enrichment_figure(df, kind="pie")
    with pytest.raises(InputError, match="--color-by"):
        enrichment_figure(df, color_by="odds")


def test_plotting_changes_no_global_matplotlib_state(libraries, tmp_path):
    import matplotlib

    before = dict(matplotlib.rcParams)
    backend = matplotlib.get_backend()
    plot_enrichment(synthetic_results(libraries), tmp_path / "x.svg")
    assert dict(matplotlib.rcParams) == before
    assert matplotlib.get_backend() == backend


def test_importing_plot_does_not_import_matplotlib():
    code = (
        "import sys, gsea_plus.plot, gsea_plus.report, gsea_plus.cluster; "
        "print(sorted(m for m in ('matplotlib', 'pandas', 'scipy') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=subprocess_env()
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


# ----------------------------------------------------------------------- running sums


@pytest.fixture
def signature_and_result(tmp_path):
    from gsea_plus.prerank import Signature, prerank

    rng = np.random.default_rng(0)
    genes = [f"G{i}" for i in range(400)]
    scores = np.sort(rng.normal(size=400))[::-1] * 3
    sig = Signature(np.array(genes), scores)
    sets = {
        "Top set": [f"G{i}" for i in range(0, 60, 3)],
        "Bottom set": [f"G{i}" for i in range(340, 400, 3)],
        "Middle set": [f"G{i}" for i in range(150, 250, 5)],
        "Other": [f"G{i}" for i in range(1, 400, 20)],
    }
    result = prerank(sig, library=sets, permutations=200, min_size=5)
    return sig, result, sets


def test_running_sum_stacks_terms_and_shades_leading_edges(signature_and_result, tmp_path):
    sig, result, sets = signature_and_result
    terms = ["Top set", "Bottom set", "Middle set"]
    fig = running_sum_figure(sig, result, terms=terms, gene_sets=sets, signature_name="sig")
    svg = figure_to_svg(fig)
    text = svg_texts(svg)
    for term in terms:
        assert term in text
    assert "NES" in text and "FDR" in text
    assert "leading edge" in text.lower()
    assert "ranked metric" in text
    assert svg.count("<image") >= 3  # shaded leading edges and ticks (rasterized)
    path = plot_running_sum(sig, result, tmp_path / "rs.png", term=terms, gene_sets=sets, dpi=80)
    (_, w, _), ink, colours = png_stats(path)
    assert w > 400 and ink > 0.05 and colours > 20


def test_running_sum_default_term_and_errors(signature_and_result, tmp_path):
    sig, result, sets = signature_and_result
    text = svg_texts(figure_to_svg(running_sum_figure(sig, result, gene_sets=sets)))
    assert result["Term"].iloc[0] in text
    with pytest.raises(InputError, match="not among the tested terms"):
        running_sum_figure(sig, result, terms="Nope", gene_sets=sets)
    with pytest.raises(InputError, match="at most 6"):
        running_sum_figure(sig, result, terms=[f"t{i}" for i in range(7)], gene_sets=sets)
    with pytest.raises(InputError, match="needs the gene sets"):
        running_sum_figure(sig, result)


def test_nes_figure(signature_and_result):
    _, result, _ = signature_and_result
    text = svg_texts(figure_to_svg(nes_figure(result, signature_name="sig")))
    assert "normalized enrichment score (NES)" in text and "FDR" in text


# ------------------------------------------------------------------------ many lists


def _batch(libraries):
    import gsea_plus

    lists = {
        "apoptosis_like": [f"G{i}" for i in range(0, 10)],
        "mhc_like": [f"G{i}" for i in range(20, 30)],
        "matrix_like": [f"G{i}" for i in range(40, 55)],
        "noise": ["G101", "G177", "G188"],
    }
    return gsea_plus.enrich_many(lists, library=libraries, background=200, offline=True)


def test_select_compare_terms_follows_compare_cluster():
    df = pd.DataFrame(
        {
            "List": ["A", "A", "A", "B", "B", "B"],
            "Library": "L",
            "Term": ["t1", "t2", "t3", "t3", "t4", "t5"],
            "Adjusted P-value": [0.001, 0.01, 0.02, 0.001, 0.04, 0.2],
        }
    )
    assert select_compare_terms(df, top=2) == [("L", "t1"), ("L", "t2"), ("L", "t3"), ("L", "t4")]
    assert select_compare_terms(df, top=2, threshold=0.005) == [("L", "t1"), ("L", "t3")]


def test_comparison_figure_lists_by_terms(libraries, tmp_path):
    res = _batch(libraries)
    svg = figure_to_svg(comparison_figure(res, top=3))
    text = svg_texts(svg)
    for name in ("apoptosis_like", "mhc_like", "matrix_like", "noise"):
        assert name in text  # every list keeps its column
    assert "gene ratio (overlap / list)" in text
    assert "No term at adjusted p <= 0.05: noise" in text
    assert "(GO:0030198)" in text
    path = plot_comparison(res, tmp_path / "cmp.png", dpi=80)
    (_, w, _), ink, _ = png_stats(path)
    assert w > 400 and ink > 0.03
    with pytest.raises(InputError, match="List column"):
        comparison_figure(res.drop(columns="List"))
    # nothing significant: each list's best terms, every dot drawn, and the figure says so
    text = svg_texts(figure_to_svg(comparison_figure(res, top=2, threshold=1e-30)))
    assert "every dot drawn (none significant)" in text
    assert "No list has a term with adjusted p <= 1e-30" in text
    assert "a dot where adjusted p" not in text


# -------------------------------------------------------------------- enrichment map


def test_enrichment_map_nodes_edges_clusters(libraries, tmp_path):
    df = synthetic_results(libraries)
    svg = figure_to_svg(enrichment_map_figure(df, list_name="my list"))
    text = svg_texts(svg)
    assert "cluster: representative (nodes)" in text
    assert "kappa >= 0.35" in text
    assert "my list" in text
    clustered = cluster_terms(df)
    n_clusters = clustered["Cluster"].nunique()
    legend_rows = re.findall(r"\b\d+: [^(]+\(\d+( of \d+)?\)", text)
    assert len(legend_rows) == min(n_clusters, 10)
    assert plot_enrichment_map(clustered, tmp_path / "map.svg").read_text().count("<svg") == 1
    path = plot_enrichment(df, tmp_path / "map.png", kind="map", top=30, dpi=80)
    (_, w, _), ink, colours = png_stats(path)
    assert w > 500 and ink > 0.02 and colours > 10
    with pytest.raises(InputError, match="one list"):
        enrichment_map_figure(_batch(libraries))
    with pytest.raises(InputError, match="needs two"):
        enrichment_map_figure(df.head(1))


# ------------------------------------------------------- what a reader must be able to see


def _data_axes(fig):
    """Axes that hold dots (scatter collections), not the side key."""
    return [ax for ax in fig.axes if any(c.get_offsets().size for c in ax.collections)]


def _marker_of(collection) -> str:
    from matplotlib.markers import MarkerStyle

    for name in ("o", "s", "D", "^", "v", "P"):
        style = MarkerStyle(name)
        path = style.get_path().transformed(style.get_transform())
        drawn = collection.get_paths()[0].vertices
        if drawn.shape == path.vertices.shape and np.allclose(drawn, path.vertices):
            return name
    return "?"


def test_dot_marker_shapes_equal_the_size_legend_and_evidence_is_on_the_edges(libraries):
    fig = enrichment_figure(model_results(synthetic_results(libraries)), top=12)
    fig.draw_without_rendering()
    dots = [c for ax in _data_axes(fig) for c in ax.collections if c.get_offsets().size]
    assert {_marker_of(c) for c in dots} == {"o"}
    legend = next(ax.get_legend() for ax in fig.axes if ax.get_legend() is not None)
    texts = [t.get_text() for t in legend.get_texts()]
    sizes = texts.index("overlap (list + predicted genes)")
    size_handles = legend.legend_handles[sizes + 1 : texts.index("evidence")]
    assert size_handles and {h.get_marker() for h in size_handles} == {"o"}
    # the evidence is told by the dots' edges: three edge styles among the dots
    edges = {tuple(np.round(c.get_edgecolor()[0], 2)) for c in dots if c.get_sizes().min() > 20}
    assert len(edges) == 2  # dark (list) and magenta (list+model, model)
    assert any((c.get_facecolor()[:, :3] == 1).all() for c in dots)  # model-only centres


def _outlier_results(libraries):
    df = synthetic_results(libraries).copy()
    df.loc[df.index[0], "Adjusted P-value"] = 1e-90
    return df


def test_x_range_comes_from_the_data_and_keeps_the_fdr_line_in_view(libraries):
    df = _outlier_results(libraries)
    for kind in ("dot", "bar"):
        fig = enrichment_figure(df, kind=kind, top=10)
        fig.draw_without_rendering()
        (lo, hi) = fig.axes[0].get_xlim()
        line = -np.log10(0.05)
        assert hi < 20, f"{kind}: the axis runs to {hi:.0f}"  # was 97 before
        assert lo <= line <= hi and (line - lo) / (hi - lo) > 0.02
        labels = [t.get_text() for ax in fig.axes for t in ax.texts]
        assert any(t.startswith("90 ") for t in labels)  # the outlier's value, at the edge
    fig = enrichment_figure(synthetic_results(libraries), top=10)
    xs = np.concatenate([c.get_offsets()[:, 0] for c in fig.axes[0].collections])
    lo, hi = fig.axes[0].get_xlim()
    assert lo <= xs.min() and xs.max() <= hi  # nothing drawn outside


def test_colour_scale_is_not_set_by_one_extreme_value(libraries):
    from gsea_plus.plot._base import color_scale

    p = np.array([1e-90, 1e-6, 3e-6, 1e-5, 4e-5, 1e-4, 5e-4, 1e-3, 0.01, 0.03])
    scale = color_scale(p, "p")
    positions = np.asarray(scale.norm(p[1:]))
    assert np.ptp(positions) > 0.9  # the bulk spans the colour map
    assert scale.extend == "min" and "clipped" in scale.label
    fig = enrichment_figure(_outlier_results(libraries), top=12)
    colours = np.concatenate([c.get_facecolor() for c in fig.axes[0].collections])
    _, counts = np.unique(np.round(colours[:, :3], 1), axis=0, return_counts=True)
    assert counts.max() <= len(colours) / 2  # most dots are not one colour
    assert "adjusted p-value (clipped)" in svg_texts(figure_to_svg(fig))


def test_running_sum_legend_covers_no_curve(signature_and_result):
    from gsea_plus.prerank import prerank

    sig, _, _ = signature_and_result
    sets = {f"Set {i}": [f"G{j}" for j in range(i * 5, 400, 13 + i)] for i in range(6)}
    result = prerank(sig, library=sets, permutations=100, min_size=5)
    fig = running_sum_figure(sig, result, terms=list(sets), gene_sets=sets)
    fig.draw_without_rendering()
    (legend,) = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    assert len(legend.get_texts()) == 6
    box = legend.get_window_extent()
    curves = next(ax for ax in fig.axes if ax.get_ylabel() == "running enrichment score")
    assert not box.overlaps(curves.get_window_extent())
    for line in curves.get_lines():
        points = line.get_transform().transform(line.get_xydata())
        inside = (
            (points[:, 0] >= box.x0) & (points[:, 0] <= box.x1)
            & (points[:, 1] >= box.y0) & (points[:, 1] <= box.y1)
        )  # fmt: skip
        assert not inside.any()


def test_enrichment_map_names_every_node_and_counts_the_nodes_drawn(libraries):
    df = cluster_terms(synthetic_results(libraries))
    fig = enrichment_map_figure(df, top=4)
    (ax,) = [a for a in fig.axes if a.texts]
    names = {t.get_text().replace("\n", " ") for t in ax.texts}
    clustered = df[df["Cluster"].notna()].sort_values("Adjusted P-value", kind="stable").head(4)
    assert len(names) == 4
    assert not clustered["Representative"].all()  # non-representatives are named too
    legend_text = svg_texts(figure_to_svg(fig))
    counts = [int(m) for m in re.findall(r"\((\d+)(?: of \d+)?\)", legend_text)]
    assert sum(counts) == 4  # the legend counts the nodes drawn, not the cluster members
    drawn = clustered.groupby("Cluster").size()
    members = clustered.groupby("Cluster")["Cluster Size"].first()
    for c in drawn.index[drawn < members]:
        assert f"({drawn[c]} of {members[c]})" in legend_text


def test_figure_registry_offers_the_plot_kinds():
    from gsea_plus.options import PLOT_KINDS
    from gsea_plus.plot import FIGURES

    assert tuple(name for name, f in FIGURES.items() if f.one_list) == PLOT_KINDS


# ------------------------------------------------------------- up and down lists of groups


def test_up_and_down_lists_of_a_group_are_drawn_side_by_side(libraries):
    import gsea_plus
    from gsea_plus.plot import direction_groups

    assert direction_groups(["B:up", "B:down", "NK:up"]) == [
        ("B", ["B:up", "B:down"]),
        ("NK", ["NK:up"]),
    ]
    assert direction_groups(["B:up", "other"]) is None
    lists = {
        "T cells:up": [f"G{i}" for i in range(0, 10)],
        "T cells:down": [f"G{i}" for i in range(20, 30)],
        "B cells:up": [f"G{i}" for i in range(40, 55)],
        "B cells:down": [f"G{i}" for i in range(0, 8)] + ["G21", "G22"],
    }
    res = gsea_plus.enrich_many(lists, library=libraries, background=200, offline=True)
    fig = comparison_figure(res, top=3)
    fig.draw_without_rendering()
    bottom = _data_axes(fig)[-1]
    ticks = [t.get_text() for t in bottom.get_xticklabels()]
    assert [t.split(" ")[0] for t in ticks] == ["up", "down", "up", "down"]
    xs = bottom.get_xticks()
    assert xs[1] - xs[0] == 1 and xs[3] - xs[2] == 1 and xs[2] - xs[1] > 1
    from matplotlib.axes._secondary_axes import SecondaryAxis

    (top,) = [c for a in fig.axes for c in a.child_axes if isinstance(c, SecondaryAxis)]
    assert [t.get_text() for t in top.get_xticklabels()] == ["T cells", "B cells"]
    centres = top.get_xticks()
    assert centres[0] == (xs[0] + xs[1]) / 2 and centres[1] == (xs[2] + xs[3]) / 2
