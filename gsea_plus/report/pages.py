"""The three reports: ``enrich`` (one list), ``batch`` (many lists) and ``prerank``."""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gsea_plus.errors import InputError
from gsea_plus.report.context import ReportContext, check_report_path
from gsea_plus.report.methods import methods_section
from gsea_plus.report.sections import (
    Figures,
    cluster_rule,
    evidence_caption,
    gene_rows,
    header,
    page,
    results_section,
    significant_counts,
    with_evidence,
    write_html,
)
from gsea_plus.report.table import table_block

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "render_batch_report",
    "render_enrich_report",
    "render_prerank_report",
    "write_batch_report",
    "write_enrich_report",
    "write_prerank_report",
]

_e = html.escape


def _figures_section(figures: Figures, parts: list[str], summary: str) -> str:
    return (
        f'<section id="figures"><h2>Figures</h2>{summary}{"".join(parts)}{figures.note()}</section>'
    )


def _cut(df, max_rows: int | None) -> tuple[Any, str]:
    """``max_rows`` rows of ``df`` and a note saying so (``None``: every row, no note)."""
    if max_rows is None or len(df) <= max_rows:
        return df, ""
    note = (
        f'<p class="note warn">The table holds the first {max_rows:,} of {len(df):,} rows '
        "(by p-value); the full table is in the results file.</p>"
    )
    return df.head(max_rows), note


# ---------------------------------------------------------------------------- enrich


def _enrich_figures(result, context, figures: Figures, opts: dict) -> list[str]:
    """The dot or bar plot and, for clustered results, the enrichment map."""
    from gsea_plus.plot import enrichment_figure

    thr, top, kind = context.threshold, opts["top"], opts["plot_kind"]
    reps = opts["representatives"] and "Representative" in result.columns
    what = "Dot plot" if kind == "dot" else "Bar plot"
    caption = (
        f"{what} of the top {top} terms per library by adjusted p. x: -log10 adjusted "
        f"p-value; dashed line: adjusted p = {thr:g}; "
        + ("size: list genes in the term; " if kind == "dot" else "label: overlap; ")
        + ("colour: adjusted p-value." if opts["color_by"] == "p" else "colour: combined score.")
        + (
            " Cluster representatives only; (+k similar) counts the terms each stands for."
            if reps
            else ""
        )  # fmt: skip
        + evidence_caption(result.head(top))
    )
    parts = [
        figures.render(
            lambda: enrichment_figure(
                result,
                kind=kind,
                top=top,
                color_by=opts["color_by"],
                threshold=thr,
                list_name=opts["list_name"],
                representatives=reps,
            ),  # fmt: skip
            caption,
            label="enrichment",
        )
    ]
    if opts["want_map"]:
        rule = cluster_rule(result, opts["cluster"], force=True)
        parts.append(
            figures.enrichment_map(
                result,
                opts["cluster"],
                opts["list_name"],
                "Enrichment map: significant terms as nodes (the 30 most significant), "
                "edges where two terms share list genes beyond the clustering threshold, "
                "colour: cluster, size: overlap. " + _e(rule),
            )
        )
    return parts


def _clusters_section(result, rule: str) -> str:
    return (
        '<section id="clusters"><h2>Term clusters</h2>'
        f"<p>{int(result['Cluster'].notna().sum())} significant terms form "
        f"{int(result['Cluster'].nunique())} clusters. {_e(rule)} Tick 'cluster "
        "representatives only' above the table to see one term per cluster.</p></section>"
    )


def render_enrich_report(
    result: pd.DataFrame,
    context: ReportContext | None = None,
    *,
    list_name: str | None = None,
    top: int = 20,
    plot_kind: str = "dot",
    color_by: str = "p",
    representatives: bool = False,
    cluster: Mapping[str, Any] | None = None,
    max_rows: int | None = None,
) -> str:
    """The HTML report of one list's ``enrich`` results (see :mod:`gsea_plus.report`).

    Parameters
    ----------
    result
        ``enrich`` results (classical or model-based; clustered by
        :func:`gsea_plus.cluster.cluster_terms` for the enrichment map and the
        representatives filter).
    context
        The run (:class:`ReportContext`).
    list_name
        Name of the list, for titles.
    top
        Terms per library in the dot or bar plot.
    plot_kind
        ``"dot"``, ``"bar"`` or ``"map"`` (a dot plot and the enrichment map).
    color_by
        ``"p"`` or ``"combined"`` (see :func:`gsea_plus.plot.enrichment_figure`).
    representatives
        Figures show cluster representatives, and the table starts filtered to them.
    cluster
        The clustering options used (``method``, ``threshold``, ``p_cutoff``,
        ``full_sets``), for the captions and the methods text.
    max_rows
        Rows of the table (default: every row).
    """
    context = context or ReportContext()
    thr = context.threshold
    result = with_evidence(result)
    figures = Figures()
    rule = cluster_rule(result, cluster)
    n_libs = result["Library"].nunique() if "Library" in result.columns and len(result) else 1
    opts = {
        "top": top,
        "plot_kind": "bar" if plot_kind == "bar" else "dot",
        "color_by": color_by,
        "list_name": list_name,
        "representatives": representatives,
        "cluster": cluster,
        "want_map": plot_kind == "map" or "Cluster" in result.columns,
    }
    sections = [header(context, gene_rows(context))]
    parts = _enrich_figures(result, context, figures, opts) if len(result) else []
    summary = (
        f"<p>Significant at adjusted p &le; {thr:g}: {significant_counts(result, thr)}.</p>"
        if len(result)
        else '<p class="note">No term was reported.</p>'
    )
    sections.append(_figures_section(figures, parts, summary))
    if "Cluster" in result.columns:
        sections.append(_clusters_section(result, rule))
    shown, note = _cut(result, max_rows)
    sections.append(
        results_section(
            shown,
            threshold=thr,
            representatives=representatives,
            show_library=n_libs > 1,
            note=note,
        )  # fmt: skip
    )
    sections.append(methods_section(context, "enrich", cluster_rule=rule))
    title = context.title or "Gene set enrichment report"
    subtitle = _e(list_name or context.input or "") + (
        " &middot; model-based evidence" if context.model else ""
    )
    return page(title, subtitle, sections, context)


def write_enrich_report(
    path: str | Path, result: pd.DataFrame, context: ReportContext | None = None, **options
) -> Path:
    """Write :func:`render_enrich_report` to ``path`` (.html, atomically)."""
    check_report_path(path)
    return write_html(path, render_enrich_report(result, context, **options))


# ----------------------------------------------------------------------------- batch


def _batch_summary(results, summary, threshold: float):
    """The per-list summary: as given (the batch's records), else from the results."""
    import pandas as pd

    if summary is not None:
        return summary if isinstance(summary, pd.DataFrame) else pd.DataFrame(list(summary))
    rows = []
    p_col = "Adjusted P-value"
    for name, g in results.groupby("List", sort=False):
        best = g.sort_values(p_col, kind="stable").iloc[0] if len(g) else None
        rows.append(
            {
                "List": name,
                "List Size": int(g["List Size"].max()) if "List Size" in g.columns else None,
                "Terms Reported": len(g),
                "Significant": int((g[p_col] <= threshold).sum()),
                "Top Term": "" if best is None else best["Term"],
                "Top Adjusted P-value": None if best is None else best[p_col],
            }
        )
    return pd.DataFrame(rows)


def _list_order(results, frame) -> list[str]:
    """Every list once: the summary's order (empty lists too), then any other in the rows."""
    import pandas as pd

    names = [str(x) for x in pd.unique(results["List"])]
    listed = [str(x) for x in frame["List"]] if "List" in frame.columns else names
    return list(dict.fromkeys(listed + names))


def _lists_section(frame) -> str:
    cols = [c for c in frame.columns if c != "Status" or frame[c].astype(str).ne("ok").any()]
    block = table_block(frame, table_id="lists-table", columns=cols, links=True, page=25)
    return (
        '<section id="lists"><h2>Lists</h2><p class="note">Click a list to see its rows in '
        f"the Results table.</p>{block}</section>"
    )


def _list_figures(results, context, figures: Figures, opts: dict) -> str:
    """A dot (or bar) plot of each of the first ``max_list_figures`` lists."""
    from gsea_plus.plot import enrichment_figure

    thr, top = context.threshold, opts["list_top"]
    parts = []
    groups = {str(k): g for k, g in results.groupby("List", sort=False)}
    for i, name in enumerate(opts["order"][: opts["max_list_figures"]]):
        g = groups.get(name)
        link = f'<a href="#results" data-list="{_e(name)}">its rows in the Results table</a>'
        if g is None or len(g) == 0:
            parts.append(f'<h3>{_e(name)}</h3><p class="note">No term reported.</p>')
            continue
        g = g.reset_index(drop=True)
        fig = figures.render(
            lambda g=g, name=name: enrichment_figure(
                g,
                kind=opts["plot_kind"],
                top=top,
                color_by=opts["color_by"],
                threshold=thr,
                list_name=name,
                representatives=opts["representatives"] and "Representative" in g.columns,
            ),  # fmt: skip
            f"Top {top} terms per library by adjusted p; dashed line: adjusted p = {thr:g}."
            + evidence_caption(g.head(top)),
            label=f"list-{i + 1}",
        )
        parts.append(
            f'<h3 id="list-{i + 1}">{_e(name)}</h3><p>Significant at adjusted p &le; '
            f"{thr:g}: {significant_counts(g, thr)}; {link}.</p>{fig}"
        )
    more = len(opts["order"]) - opts["max_list_figures"]
    if more > 0:
        parts.append(
            f'<p class="note">Figures are drawn for the first {opts["max_list_figures"]} '
            f"lists; the other {more:,} are in the tables.</p>"
        )
    return '<section id="per-list"><h2>Each list</h2>' + "".join(parts) + "</section>"


def _comparison_section(results, thr: float, figures: Figures, top, color_by, reps) -> str:
    """The lists x terms figure (compareCluster's choice of terms)."""
    from gsea_plus.plot import comparison_figure

    comp = ""
    if len(results):
        comp = figures.render(
            lambda: comparison_figure(
                results, top=top, threshold=thr, color_by=color_by, representatives=reps
            ),
            f"The top {top} terms of each list (adjusted p &le; {thr:g}), side by side, as "
            "clusterProfiler's compareCluster chooses them; a dot where the term is "
            "significant in the list; size: gene ratio (list genes in the term / list "
            "size); colour: "
            + ("adjusted p-value." if color_by == "p" else "combined score.")
            + " Lists named GROUP:up and GROUP:down are drawn by group, side by side."
            + evidence_caption(results),
            label="comparison",
        )
    return (
        '<section id="comparison"><h2>Lists compared</h2>'
        + (comp or '<p class="note">No term was reported.</p>')
        + figures.note()
        + "</section>"
    )


def render_batch_report(
    results: pd.DataFrame,
    context: ReportContext | None = None,
    *,
    summary: pd.DataFrame | Iterable[Mapping[str, Any]] | None = None,
    top: int = 5,
    list_top: int = 10,
    plot_kind: str = "dot",
    color_by: str = "p",
    representatives: bool = False,
    cluster: Mapping[str, Any] | None = None,
    max_list_figures: int = 12,
    table: Any = None,
    table_note: str = "",
) -> str:
    """The HTML report of a batch: the lists, the comparison figure, each list, every row.

    Parameters
    ----------
    results
        Batch results (a ``List`` column; clustered or not): what the figures draw.
    context
        The run (:class:`ReportContext`); ``input_size`` is the number of lists.
    summary
        The per-list summary (:data:`gsea_plus.batch.SUMMARY_COLUMNS` records or frame);
        default: computed from ``results``.
    top
        Terms taken from each list for the comparison figure (compareCluster's rule).
    list_top
        Terms per library in each list's own dot plot.
    plot_kind, color_by, representatives, cluster
        As in :func:`render_enrich_report`.
    max_list_figures
        Lists that get their own figure (the first ones); all are in the tables.
    table
        The rows of the Results table, when they are more than ``results`` (a batch
        keeps each list's best rows for the figures and every row for the table): a
        DataFrame, a mapping of columns or an encoded
        :class:`~gsea_plus.columnar.ResultTable`. Default: ``results``.
    table_note
        HTML shown above the Results table (e.g. why some rows are not in it).
    """
    if "List" not in results.columns:
        raise InputError("a batch report needs batch results (a List column)")
    context = context or ReportContext()
    thr = context.threshold
    results = with_evidence(results)
    figures = Figures()
    frame = _batch_summary(results, summary, thr)
    order = _list_order(results, frame)
    rows = [("Lists", f"{len(order):,}")]
    rows += [r for r in gene_rows(context) if r[0] != "Genes read"]
    sections = [header(context, rows), _lists_section(frame)]
    reps = representatives and "Representative" in results.columns
    sections.append(_comparison_section(results, thr, figures, top, color_by, reps))
    opts = {
        "order": order, "list_top": list_top, "plot_kind": "bar" if plot_kind == "bar" else "dot",
        "color_by": color_by, "representatives": representatives,
        "max_list_figures": max_list_figures,
    }  # fmt: skip
    sections.append(_list_figures(results, context, figures, opts))
    n_libs = results["Library"].nunique() if "Library" in results.columns and len(results) else 1
    sections.append(
        results_section(
            results,
            threshold=thr,
            representatives=representatives,
            show_library=n_libs > 1,
            table=table,
            note=table_note,
        )  # fmt: skip
    )
    sections.append(methods_section(context, "batch", cluster_rule=cluster_rule(results, cluster)))
    title = context.title or "Gene set enrichment report: many lists"
    subtitle = f"{len(order):,} lists" + (f" &middot; {_e(context.input)}" if context.input else "")
    subtitle += " &middot; model-based evidence" if context.model else ""
    return page(title, subtitle, sections, context)


def write_batch_report(
    path: str | Path, results: pd.DataFrame, context: ReportContext | None = None, **options
) -> Path:
    """Write :func:`render_batch_report` to ``path`` (.html, atomically)."""
    check_report_path(path)
    return write_html(path, render_batch_report(results, context, **options))


# --------------------------------------------------------------------------- prerank


def _prerank_figures(result, context, figures: Figures, opts: dict) -> list[str]:
    """NES bars, the running sums, and the enrichment map of clustered leading edges."""
    from gsea_plus.plot import nes_figure, running_sum_figure

    thr, top, name = context.threshold, opts["top"], opts["signature_name"]
    parts = [
        figures.render(
            lambda: nes_figure(result, top=top, threshold=thr, signature_name=name),
            f"Normalized enrichment scores of the top {top} terms per library by FDR; "
            f"pale bars: FDR &gt; {thr:g}; colour: FDR.",
            label="nes",
        )
    ]
    if opts["signature"] is not None and (
        opts["gene_sets"] is not None or opts["library"] is not None
    ):
        if opts["plot_terms"]:
            sets = [list(opts["plot_terms"])]
        else:
            ranked = result.sort_values(["FDR", "P-value"], kind="stable")
            sets = [
                ranked[ranked["NES"] > 0]["Term"].head(3).tolist(),
                ranked[ranked["NES"] < 0]["Term"].head(3).tolist(),
            ]
        for terms in [t for t in sets if t]:
            parts.append(
                figures.render(
                    lambda terms=terms: running_sum_figure(
                        opts["signature"],
                        result,
                        terms=terms,
                        gene_sets=opts["gene_sets"],
                        library=opts["library"],
                        offline=opts["offline"],
                        weight=opts["weight"],
                        signature_name=name,
                    ),  # fmt: skip
                    "Running enrichment score along the ranked signature (as gseapy's "
                    "gseaplot2); shaded: leading edge; ticks: the term's genes, dark in "
                    "the leading edge; bottom: the ranked metric.",
                    label="running-sum",
                )
            )
    if "Cluster" in result.columns:
        parts.append(
            figures.enrichment_map(
                result,
                opts["cluster"],
                name,
                "Enrichment map of leading edges: terms as nodes, edges where their "
                "leading edges overlap beyond the threshold, colour: cluster, size: "
                "leading-edge genes. " + _e(cluster_rule(result, opts["cluster"])),
            )
        )
    return parts


def render_prerank_report(
    result: pd.DataFrame,
    context: ReportContext | None = None,
    *,
    signature=None,
    gene_sets: Mapping[str, Iterable[str]] | None = None,
    library=None,
    offline: bool | None = None,
    plot_terms: Sequence[str] | None = None,
    signature_name: str | None = None,
    weight: float = 1.0,
    top: int = 20,
    cluster: Mapping[str, Any] | None = None,
    max_rows: int | None = None,
) -> str:
    """The HTML report of a preranked analysis.

    Figures: NES of the top terms; running sums (``plot_terms``, or the 3 most
    significant terms with a positive NES and the 3 with a negative NES); the
    enrichment map of leading edges when ``result`` is clustered.

    Parameters
    ----------
    result
        :func:`gsea_plus.prerank.prerank` results.
    context
        The run (:class:`ReportContext`); ``input_size``: genes in the signature.
    signature
        The signature (needed for the running sums; without it they are left out).
    gene_sets, library, offline
        Where the terms' genes come from (as :func:`gsea_plus.plot.running_sum_figure`).
    plot_terms
        Terms for one running-sum figure (``--plot-term``, up to 6).
    signature_name
        For titles.
    weight
        The running sum's weight used by ``prerank``.
    top
        Terms per library in the NES figure.
    cluster
        The clustering options used, for captions and methods.
    max_rows
        Rows of the table (default: every row).
    """
    context = context or ReportContext()
    thr = context.threshold
    figures = Figures()
    rows = [
        ("Genes in signature", v) if k == "Genes read" else (k, v) for k, v in gene_rows(context)
    ]
    sections = [header(context, rows)]
    opts = {
        "top": top, "signature_name": signature_name, "signature": signature,
        "gene_sets": gene_sets, "library": library, "offline": offline,
        "plot_terms": plot_terms, "weight": weight, "cluster": cluster,
    }  # fmt: skip
    parts = _prerank_figures(result, context, figures, opts) if len(result) else []
    summary = (
        f"<p>Significant at FDR &le; {thr:g}: {significant_counts(result, thr)}.</p>"
        if len(result)
        else '<p class="note">No term was tested.</p>'
    )
    sections.append(_figures_section(figures, parts, summary))
    n_libs = result["Library"].nunique() if "Library" in result.columns and len(result) else 1
    shown, note = _cut(result, max_rows)
    sections.append(
        results_section(
            shown, threshold=thr, representatives=False, show_library=n_libs > 1, note=note
        )
    )
    sections.append(methods_section(context, "prerank", cluster_rule=cluster_rule(result, cluster)))
    title = context.title or "Preranked gene set enrichment report"
    return page(title, _e(signature_name or context.input or ""), sections, context)


def write_prerank_report(
    path: str | Path, result: pd.DataFrame, context: ReportContext | None = None, **options
) -> Path:
    """Write :func:`render_prerank_report` to ``path`` (.html, atomically)."""
    check_report_path(path)
    return write_html(path, render_prerank_report(result, context, **options))
