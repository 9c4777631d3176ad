"""Figures of enrichment results, one figure per module, all registered in :data:`FIGURES`.

Every figure has a ``*_figure`` function that returns a :class:`matplotlib.figure.Figure`
(for notebooks and the HTML report) and a ``plot_*`` function that writes it through the
one save helper, :func:`save_figure` (the file's suffix picks .png, .svg or .pdf; written
atomically, no date inside):

:mod:`~gsea_plus.plot.dot` -- :func:`enrichment_figure` / :func:`plot_enrichment`
    dot plot (x = -log10 adjusted p, size = overlap, colour = adjusted p or combined
    score, a dashed line at the FDR threshold) or bar plot of the top terms, one panel
    per library.
:mod:`~gsea_plus.plot.emap` -- :func:`enrichment_map_figure` / :func:`plot_enrichment_map`
    terms as nodes, edges where their gene similarity passes the clustering threshold,
    colour = cluster (:mod:`gsea_plus.cluster`), size = overlap.
:mod:`~gsea_plus.plot.comparison` -- :func:`comparison_figure` / :func:`plot_comparison`
    many lists side by side (``batch --plot``): lists x terms, size = gene ratio, colour
    = adjusted p, the top terms of each list chosen as clusterProfiler's compareCluster;
    ``GROUP:up`` / ``GROUP:down`` lists drawn by group, up and down side by side.
:mod:`~gsea_plus.plot.running_sum` -- :func:`running_sum_figure` / :func:`plot_running_sum`
    GSEA running sums of up to :data:`MAX_RUNNING_SUM_TERMS` terms stacked (as gseapy's
    ``gseaplot2``), leading edges shaded, hits and the ranked metric below.
:mod:`~gsea_plus.plot.nes` -- :func:`nes_figure`
    the NES of a preranked result's top terms.

Model-based results (``--augment`` / ``--rank embedding``) are marked on the dots' edges
(magenta: the model's predictions count; a white centre: the model alone found it), so
every dot keeps the one marker shape its size legend shows; the caption says the evidence
is the gene set model's. Odds ratios are never used for colour (they are 0 or missing
where the model brought a term up). Colour ranges and x ranges come from the bulk of the
values: an outlier is clipped (the colour bar says so) or drawn at the edge with its value.

A new figure is one module here plus one entry in :data:`FIGURES`
(:mod:`~gsea_plus.plot.figures`, as decoupler-py's ``pl/``): ``--plot-kind`` offers the
entries marked ``one_list``.
"""

from __future__ import annotations

from gsea_plus.options import COLOR_BY
from gsea_plus.plot._base import (
    check_plot_path,
    evidence_of,
    figure_to_svg,
    plot_format,
    save_figure,
)
from gsea_plus.plot.comparison import (
    comparison_figure,
    direction_groups,
    plot_comparison,
    select_compare_terms,
)
from gsea_plus.plot.dot import enrichment_figure
from gsea_plus.plot.emap import enrichment_map_figure, plot_enrichment_map
from gsea_plus.plot.figures import FIGURES, FigureSpec, plot_enrichment
from gsea_plus.plot.nes import nes_figure
from gsea_plus.plot.running_sum import MAX_RUNNING_SUM_TERMS, plot_running_sum, running_sum_figure
from gsea_plus.terms import shorten_term, shorten_terms

__all__ = [
    "COLOR_BY",
    "FIGURES",
    "MAX_RUNNING_SUM_TERMS",
    "FigureSpec",
    "check_plot_path",
    "comparison_figure",
    "direction_groups",
    "enrichment_figure",
    "enrichment_map_figure",
    "evidence_of",
    "figure_to_svg",
    "nes_figure",
    "plot_comparison",
    "plot_enrichment",
    "plot_enrichment_map",
    "plot_format",
    "plot_running_sum",
    "running_sum_figure",
    "save_figure",
    "select_compare_terms",
    "shorten_term",
    "shorten_terms",
]
