"""One list's figure and report: clustering, ``--plot`` and ``--report`` of ``enrich``.

The command line clusters the result columns of :func:`gsea_plus.api.enrich_table` with
:func:`clustered_rows` (on the columns: :func:`gsea_plus.cluster.cluster_table`), writes
its table, then calls :func:`enrich_outputs`, which builds one DataFrame for the figures:
a figure that cannot be drawn never costs the user the table.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gsea_plus.options import EnrichOptions, FigureOptions

__all__ = [
    "check_figure_paths",
    "clustered_rows",
    "enrich_outputs",
    "report_model",
    "report_parameters",
]


def check_figure_paths(figures: FigureOptions) -> FigureOptions:
    """Refuse an unusable ``plot`` or ``report`` path before any work; the options back."""
    from gsea_plus.options import PLOT_SUFFIXES, REPORT_SUFFIXES
    from gsea_plus.output import check_figure_path

    if figures.plot is not None:
        check_figure_path("--plot", figures.plot, PLOT_SUFFIXES)
    if figures.report is not None:
        check_figure_path("--report", figures.report, REPORT_SUFFIXES)
    return figures


def report_parameters(options: EnrichOptions) -> dict[str, Any]:
    """The options a report lists (those that differ from the defaults, and the key ones)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(options):
        if not f.init or f.name in ("offline", "model"):
            continue
        value = getattr(options, f.name)
        if value != f.default or f.name in ("correction", "min_size"):
            out[f.name] = value if not isinstance(value, (set, frozenset)) else len(value)
    return out


def report_model(info: Any) -> dict[str, Any] | None:
    """The model part of a report's context, from ``EnrichInfo.per_library``."""
    for lib in getattr(info, "per_library", []):
        if lib.get("model_test"):
            return {
                "name": lib.get("model_name", ""),
                "source": lib.get("model_source", ""),
                "fingerprint": lib.get("model_fingerprint", ""),
                "test": lib.get("model_test", ""),
                "method": lib.get("method", ""),
                "null": lib.get("model_null", ""),
            }
    return None


def clustered_rows(
    table: Mapping[str, Any], figures: FigureOptions
) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    """One list's rows with their cluster columns when asked, and the rows to show.

    Clustering runs on the columns (:func:`gsea_plus.cluster.cluster_table`); the rows to
    write and show are only the representatives with ``representatives``.
    """
    from gsea_plus.cluster import cluster_table, representative_rows

    if not figures.clustered:
        return table, table
    rows = cluster_table(table, method=figures.cluster_method, threshold=figures.threshold)
    return rows, rows.take(representative_rows(rows)) if figures.representatives else rows


def enrich_outputs(
    table: Mapping[str, Any],
    info: Any,
    figures: FigureOptions,
    *,
    options: EnrichOptions,
    top: int | None = None,
    list_name: str = "",
    command_line: str = "",
) -> list[tuple[str, Path]]:
    """Draw the figure and write the report of one list's results, as ``figures`` asks.

    Parameters
    ----------
    table
        The result columns (:func:`gsea_plus.api.enrich_table`), clustered by
        :func:`clustered_rows` when the options cluster.
    info
        Its :class:`~gsea_plus.api.EnrichInfo` (the report's header).
    figures
        The figure, report and clustering options.
    options
        The run's options (listed in the report).
    top
        Terms per library in the figures (default 20).
    list_name
        The list's name in titles.
    command_line
        The command as typed, for the report (default: the Python call).

    Returns
    -------
    list
        ``(what, path)`` of each file written (``plot``, ``report``).
    """
    from gsea_plus.engine import to_frame
    from gsea_plus.output import output_kind

    written: list[tuple[str, Path]] = []
    if figures.plot is None and figures.report is None:
        return written
    frame = to_frame(table)
    if figures.plot is not None:
        from gsea_plus.plot import plot_enrichment

        plot_enrichment(
            frame, figures.plot, kind=figures.plot_kind, top=top or 20,
            color_by=figures.color_by, list_name=list_name,
            representatives=figures.representatives,
        )  # fmt: skip
        if output_kind(figures.plot) == "file":
            written.append(("plot", Path(figures.plot)))
    if figures.report is not None:
        _report(frame, info, figures, options=options, top=top, list_name=list_name,
                command_line=command_line)  # fmt: skip
        if output_kind(figures.report) == "file":
            written.append(("report", Path(figures.report)))
    return written


def _report(frame, info, figures: FigureOptions, *, options, top, list_name, command_line):
    from gsea_plus.report import ReportContext, write_enrich_report

    context = ReportContext.from_enrich_info(
        info,
        command_line=command_line or f"gsea_plus.enrich({list_name!r}, ...)",
        input=list_name,
        correction=options.correction,
        parameters=report_parameters(options),
        model=report_model(info),
    )
    write_enrich_report(
        figures.report,
        frame,
        context,
        list_name=list_name,
        top=top or 20,
        plot_kind=figures.plot_kind,
        color_by=figures.color_by,
        representatives=figures.representatives,
        cluster=(
            {"method": figures.cluster_method, "threshold": figures.threshold}
            if figures.clustered
            else None
        ),
    )
