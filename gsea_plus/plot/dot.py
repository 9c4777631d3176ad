"""The top terms of one list: a dot plot or a bar plot, one panel per library."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from gsea_plus.errors import InputError
from gsea_plus.options import COLOR_BY
from gsea_plus.plot._base import (
    LINE,
    ColorScale,
    color_scale,
    default_title,
    draw_key,
    evidence_handles,
    evidence_of,
    finish_axes,
    head_and_caption,
    library_groups,
    method_of,
    neglog10,
    overlap_counts,
    p_column,
    panels,
    scatter_by_evidence,
    size_handles,
    size_scale,
    text,
    threshold_handle,
    top_rows,
    value_limits,
)
from gsea_plus.terms import LABEL_CHARS, shorten_terms

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["enrichment_figure"]


@dataclass
class _Shown:
    """The rows a dot or bar plot draws, with what every panel shares."""

    groups: list[tuple[str, Any]]
    frame: Any
    evidence: Any
    colors: ColorScale
    counts: np.ndarray
    size_label: str
    x: np.ndarray
    limits: tuple[float, float, float]


def _shown(df, *, kind, top, color_by, threshold, representatives) -> _Shown:
    """Check the arguments and pick each library's top rows."""
    if kind not in ("dot", "bar"):
        raise InputError(f"--plot-kind must be dot, bar or map, not {kind!r}")
    if color_by not in COLOR_BY:
        raise InputError(f"--color-by must be one of {', '.join(COLOR_BY)}, not {color_by!r}")
    if df is None or len(df) == 0:
        raise InputError("--plot: no enriched term to plot")
    if top < 1:
        raise InputError("--top must be at least 1")
    p_col = p_column(df)
    groups = [
        (lib, top_rows(g, top, representatives=representatives)) for lib, g in library_groups(df)
    ]
    groups = [(lib, g) for lib, g in groups if len(g)]
    if not groups:
        raise InputError("--plot: no representative term to plot")
    import pandas as pd

    shown = pd.concat([g for _, g in groups])
    if color_by == "combined" and "Combined Score" not in shown.columns:
        raise InputError("--color-by combined: the results have no Combined Score column")
    raw = np.asarray(shown[p_col] if color_by == "p" else shown["Combined Score"], dtype=float)
    counts, size_label = overlap_counts(shown)
    x = neglog10(shown[p_col])
    limits = value_limits(x, -math.log10(threshold), start_at_zero=kind == "bar")
    return _Shown(
        groups, shown, evidence_of(shown), color_scale(raw, color_by), counts, size_label, x, limits
    )


def enrichment_figure(
    df: pd.DataFrame,
    *,
    kind: str = "dot",
    top: int = 20,
    color_by: str = "p",
    threshold: float = 0.05,
    title: str | None = None,
    list_name: str | None = None,
    representatives: bool = False,
    max_label: int = LABEL_CHARS,
) -> Figure:
    """The top terms as a dot plot or a bar plot, one panel per library.

    Parameters
    ----------
    df
        Results of ``enrich`` (classical or model-based; a clustered result may add
        ``Cluster``/``Representative``).
    kind
        ``"dot"``: x = -log10 adjusted p, size = overlap, colour = ``color_by``.
        ``"bar"``: bar length = -log10 adjusted p, colour = ``color_by``, overlap/term
        size written at the end of the bar.
    top
        Terms shown per library (the lowest adjusted p).
    color_by
        ``"p"`` (adjusted p-value) or ``"combined"`` (combined score; rows without one,
        e.g. model-only terms, are drawn grey). The colour range comes from the bulk of
        the values; an outlier is clipped and the colour bar says so.
    threshold
        FDR threshold drawn as a dashed line (always inside the x range, which comes
        from the data: an outlying term is drawn at the edge with its value written).
    title
        Figure title (default: list name, library, what is shown).
    list_name
        Name of the gene list, for the default title.
    representatives
        Only the representative of each cluster (needs :func:`gsea_plus.cluster.cluster_terms`);
        labels say how many similar terms each stands for.
    max_label
        Longest term label; longer names are shortened, their IDs kept whole.
    """
    s = _shown(
        df,
        kind=kind,
        top=top,
        color_by=color_by,
        threshold=threshold,
        representatives=representatives,
    )
    longest = max(len(lab) for _, g in s.groups for lab in shorten_terms(g["Term"], max_label))
    side = 1.8
    width = min(15.0, 3.4 + side + 0.062 * longest)
    height = 1.9 + 0.27 * len(s.frame) + 0.35 * len(s.groups) + 0.35 * (s.evidence is not None)
    fig, axes, key = panels(
        width, height, [len(g) + 0.6 for _, g in s.groups], side=side,
        titles=[lib for lib, _ in s.groups],
    )  # fmt: skip
    area, size_ticks = size_scale(s.counts)
    offset = 0
    for ax, (_, g) in zip(axes, s.groups, strict=True):
        _panel(ax, s, g, slice(offset, offset + len(g)), kind=kind, area=area, threshold=threshold)
        labels = _with_cluster_note(
            g, shorten_terms(g["Term"], max_label), representatives=representatives
        )
        ax.set_yticks(np.arange(len(g))[::-1], [text(lab) for lab in labels], fontsize=8)
        offset += len(g)
    axes[0].set_xlim(s.limits[0], s.limits[1])
    axes[-1].set_xlabel("-log10 adjusted p-value")
    entries = _legend_entries(kind, area, size_ticks, s, threshold, color_by)
    draw_key(key, height, s.colors, color_by, entries, spacing=1.1)
    what = (
        f"representatives of the top {top} clusters by adjusted p"
        if representatives
        else f"top {top} terms by adjusted p"
    )
    libraries = [lib for lib, _ in s.groups]
    head = title if title is not None else default_title(libraries, list_name, what, method_of(df))
    head_and_caption(fig, head, _caption(s.evidence, kind), width=width)
    return fig


def _panel(ax: Axes, s: _Shown, g, rows: slice, *, kind, area, threshold) -> None:
    """One library's rows: dots or bars, the threshold line, values beyond the axis."""
    y = np.arange(len(g))[::-1].astype(float)
    x = s.x[rows]
    _, high, cut = s.limits
    beyond = x > cut
    drawn = np.where(beyond, cut + 0.6 * (high - cut), x)
    colors = s.colors.colors(s.colors.values[rows])
    ev = s.evidence.iloc[rows].to_numpy() if s.evidence is not None else None
    if kind == "bar":
        ax.barh(y, drawn, color=colors, height=0.72, edgecolor="none")
        if ev is not None:
            model = ev == "model"
            ax.barh(y[model], drawn[model], height=0.72, fill=False, hatch="///", edgecolor="white")
        if "Overlap" in g.columns:
            for yy, xx, txt, out in zip(y, drawn, g["Overlap"].astype(str), beyond, strict=True):
                if not out:
                    ax.text(xx + high * 0.01, yy, txt, va="center", fontsize=7, color="#333333")
    else:
        scatter_by_evidence(ax, drawn, y, area(s.counts[rows]), colors, ev)
    for yy, xx, value in zip(y[beyond], drawn[beyond], x[beyond], strict=True):
        ax.annotate(
            f"{value:.0f} \u25b8", (xx, yy), xytext=(-9, 0), textcoords="offset points",
            ha="right", va="center", fontsize=6.5, color="#222222", zorder=4,
            bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8},
        )  # fmt: skip
    ax.axvline(-math.log10(threshold), color=LINE, ls="--", lw=0.9, zorder=1)
    ax.set_ylim(-0.7, len(g) - 0.3)
    finish_axes(ax)


def _with_cluster_note(d, labels: list[str], *, representatives: bool) -> list[str]:
    if not representatives or "Cluster Size" not in d.columns:
        return labels
    extra = [int(s) - 1 if s == s and s is not None else 0 for s in d["Cluster Size"].tolist()]
    return [f"{lab} (+{k} similar)" if k > 0 else lab for lab, k in zip(labels, extra, strict=True)]


def _legend_entries(kind, area, size_ticks, s: _Shown, threshold, color_by):
    from matplotlib.patches import Patch

    handles: list = []
    names: list[str] = []
    if kind == "dot":
        h, n = size_handles(area, size_ticks, s.size_label)
        handles += h
        names += n
    if s.evidence is not None:
        if kind == "dot":
            h, n = evidence_handles()
        else:
            h = [Patch(facecolor="none", edgecolor="none"), Patch(facecolor="#bbbbbb")]
            h.append(Patch(facecolor="#bbbbbb", hatch="///", edgecolor="white"))
            n = ["evidence", "list genes (+ model)", "model only"]
        handles += h
        names += n
    raw = s.colors.values
    if color_by == "combined" and np.isnan(raw).any():
        handles.append(Patch(facecolor="#999999"))
        names.append("no combined score")
    h, n = threshold_handle(threshold)
    return handles + h, names + n


def _caption(evidence, kind: str) -> str:
    if evidence is None:
        return ""
    return (
        "Evidence: gene set model. P-values combine the list's own overlap with the "
        "model's predictions; "
        + (
            "magenta edges: the model's predictions count; a white centre: the model alone."
            if kind == "dot"
            else "hatched bars: terms found by the model alone."
        )
    )
