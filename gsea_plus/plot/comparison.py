"""Many lists side by side (``batch --plot``), as clusterProfiler's compareCluster dot plot.

Lists named ``GROUP:up`` and ``GROUP:down`` (what a batch of differential-expression
tables makes, one pair per group or contrast) are drawn as
``compareCluster(gene ~ group + direction)`` is: the groups along the x axis, named above
the panel, each with its up and down lists in adjacent columns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gsea_plus.errors import InputError
from gsea_plus.options import COLOR_BY
from gsea_plus.plot._base import (
    ColorScale,
    color_scale,
    default_title,
    draw_key,
    evidence_handles,
    evidence_of,
    finish_axes,
    head_and_caption,
    method_of,
    p_column,
    panels,
    save_figure,
    scatter_by_evidence,
    size_handles,
    text,
)
from gsea_plus.terms import shorten_terms

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["comparison_figure", "direction_groups", "plot_comparison", "select_compare_terms"]

#: ``GROUP:up`` / ``GROUP:down``: a group's lists of up- and down-regulated genes.
DIRECTION = re.compile(r"^(?P<group>.+):(?P<direction>up|down)$", re.IGNORECASE)
_DIRECTION_COLORS = {"up": "#b2182b", "down": "#2166ac"}


def direction_groups(lists: list[str]) -> list[tuple[str, list[str]]] | None:
    """``[(group, [its lists, up first])]`` when every list is ``GROUP:up`` or ``GROUP:down``.

    Groups keep the order in which they first appear; ``None`` when any list is named
    otherwise (the lists are then drawn one column each, in input order).
    """
    if not lists:
        return None
    groups: dict[str, dict[str, str]] = {}
    for name in lists:
        m = DIRECTION.match(name)
        if m is None:
            return None
        groups.setdefault(m["group"], {})[m["direction"].lower()] = name
    return [
        (group, [found[d] for d in ("up", "down") if d in found]) for group, found in groups.items()
    ]


def select_compare_terms(
    results: pd.DataFrame, *, top: int = 5, threshold: float = 0.05
) -> list[tuple[str, str]]:
    """The terms of a lists x terms figure, chosen as clusterProfiler's compareCluster.

    Each list's significant terms (adjusted p <= ``threshold``) are sorted by adjusted p
    and its first ``top`` are taken; the figure shows the union, as ``(Library, Term)``
    pairs, ordered by the first list (in input order) that selected them, then by
    adjusted p in that list.
    """
    import pandas as pd

    if "List" not in results.columns:
        raise InputError("the comparison figure needs batch results (a List column)")
    p_col = p_column(results)
    lib = results["Library"] if "Library" in results.columns else pd.Series("", results.index)
    chosen: dict[tuple[str, str], None] = {}
    for name in pd.unique(results["List"]):
        part = results[(results["List"] == name) & (results[p_col] <= threshold)]
        keys = [p_col] + (["P-value"] if "P-value" in part.columns else [])
        part = part.sort_values(keys, kind="stable").head(top)
        for key in zip(lib[part.index].astype(str), part["Term"].astype(str), strict=True):
            chosen.setdefault(key, None)
    return list(chosen)


@dataclass
class _Columns:
    """Where each list is drawn: its x, its tick label, and the groups above the pairs."""

    x: dict[str, float]
    labels: list[tuple[float, str, str]]  # (x, text, direction or "")
    groups: list[tuple[float, float, str]] = field(default_factory=list)  # (lo, hi, name)

    @property
    def span(self) -> tuple[float, float]:
        xs = list(self.x.values())
        return min(xs) - 0.6, max(xs) + 0.6


def _columns(lists: list[str], sizes) -> _Columns:
    def size(name: str) -> str:
        n = sizes.get(name)
        return f" ({int(n)})" if n is not None and n == n else ""

    paired = direction_groups(lists)
    if paired is None:
        return _Columns(
            {name: float(i) for i, name in enumerate(lists)},
            [(float(i), name + size(name), "") for i, name in enumerate(lists)],
        )
    x: dict[str, float] = {}
    labels = []
    groups = []
    pos = 0.0
    for group, members in paired:
        start = pos
        for name in members:
            direction = DIRECTION.match(name)["direction"].lower()  # type: ignore[index]
            x[name] = pos
            labels.append((pos, direction + size(name), direction))
            pos += 1.0
        groups.append((start, pos - 1.0, group))
        pos += 0.5  # a gap between groups
    return _Columns(x, labels, groups)


@dataclass
class _Comparison:
    """Everything the panels of a comparison figure share."""

    lists: list[str]
    chosen: list[tuple[str, str]]
    sig: Any
    lib_col: Any
    libraries: list[str]
    by_lib: dict[str, list[str]]
    columns: _Columns
    ratio: np.ndarray
    colors: ColorScale
    top_ratio: float
    evidence: Any
    note: str = ""
    with_terms: set[str] = field(default_factory=set)
    #: Adjusted p at or below which a dot is drawn (1 when no list has a significant term).
    drawn_at: float = 0.05

    def area(self, r) -> np.ndarray:
        """Dot area (pt^2) for a gene ratio."""
        r = np.clip(np.asarray(r, dtype=float), 0, None)
        return 12.0 + 230.0 * r / max(self.top_ratio, 1e-9)


#: Lists one comparison figure draws (the first ones; the report's table has them all).
MAX_LISTS = 60
#: Terms one comparison figure draws (those significant in the most lists).
MAX_TERMS = 50


def _first_lists(results, max_lists: int) -> tuple[Any, str]:
    """The rows of the first ``max_lists`` lists, and a note when lists were left out."""
    import pandas as pd

    lists = pd.unique(results["List"])
    if len(lists) <= max_lists:
        return results, ""
    kept = results[results["List"].isin(set(lists[:max_lists]))]
    return kept, f"The first {max_lists} of {len(lists):,} lists are drawn. "


def _most_shared(chosen, results, p_col: str, threshold: float, max_terms: int):
    """At most ``max_terms`` of the chosen terms: those significant in the most lists."""
    if len(chosen) <= max_terms:
        return chosen, ""
    import pandas as pd

    sig = results[results[p_col] <= threshold]
    lib = sig["Library"].astype(str) if "Library" in sig.columns else pd.Series("", sig.index)
    counts: dict[tuple[str, str], int] = {}
    best: dict[tuple[str, str], float] = {}
    for key, p in zip(
        zip(lib, sig["Term"].astype(str), strict=True), sig[p_col].tolist(), strict=True
    ):
        counts[key] = counts.get(key, 0) + 1
        best[key] = min(best.get(key, 1.0), float(p))
    ranked = sorted(chosen, key=lambda k: (-counts.get(k, 0), best.get(k, 1.0)))
    keep = set(ranked[:max_terms])
    note = f"The {max_terms} of {len(chosen)} chosen terms significant in the most lists. "
    return [k for k in chosen if k in keep], note


def _comparison_data(
    results, *, top, threshold, color_by, representatives, max_lists=MAX_LISTS,
    max_terms=MAX_TERMS,
) -> _Comparison:  # fmt: skip
    import pandas as pd

    if color_by not in COLOR_BY:
        raise InputError(f"--color-by must be one of {', '.join(COLOR_BY)}, not {color_by!r}")
    if results is None or len(results) == 0:
        raise InputError("--plot: no result to plot")
    if "List" not in results.columns:
        raise InputError("the comparison figure needs batch results (a List column)")
    results, lists_note = _first_lists(results, max_lists)
    data = results
    if representatives:
        if "Representative" not in data.columns:
            raise InputError("--representatives needs clustered results (--cluster)")
        data = data[data["Representative"].astype(bool)]
    lists = [str(x) for x in pd.unique(results["List"])]
    chosen = select_compare_terms(data, top=top, threshold=threshold)
    none_note = ""
    if not chosen:
        # As the one-list dot plot does, a batch with nothing significant still gets its
        # figure: each list's best terms, every dot drawn, and the caption says so.
        chosen = select_compare_terms(data, top=top, threshold=1.0)
        if not chosen:
            raise InputError("--plot: no list has a tested term")
        none_note = (
            f"No list has a term with adjusted p <= {threshold:g}: each list's "
            f"{top} best terms are drawn, none of them significant. "
        )
        threshold = 1.0
    p_col = p_column(results)
    chosen, terms_note = _most_shared(chosen, data, p_col, threshold, max_terms)
    lib_col = (
        results["Library"].astype(str)
        if "Library" in results.columns
        else pd.Series("", index=results.index)
    )
    key = pd.Series(list(zip(lib_col, results["Term"].astype(str), strict=True)), results.index)
    sig = results[key.isin(set(chosen)) & (results[p_col] <= threshold)]
    libraries = list(dict.fromkeys(lib for lib, _ in chosen))
    sizes = (
        results.groupby("List", sort=False)["List Size"].max().to_dict()
        if "List Size" in results.columns
        else {}
    )
    ratio = (
        np.asarray(sig["Overlap Size"], dtype=float) / np.asarray(sig["List Size"], dtype=float)
        if {"Overlap Size", "List Size"} <= set(sig.columns)
        else np.ones(len(sig))
    )
    raw = np.asarray(sig[p_col] if color_by == "p" else sig["Combined Score"], dtype=float)
    return _Comparison(
        lists=lists,
        chosen=chosen,
        sig=sig,
        lib_col=lib_col,
        libraries=libraries,
        by_lib={lib: [t for lb, t in chosen if lb == lib] for lib in libraries},
        columns=_columns(lists, {str(k): v for k, v in sizes.items()}),
        ratio=ratio,
        colors=color_scale(raw, color_by),
        top_ratio=float(np.nanmax(ratio)) if len(ratio) else 1.0,
        evidence=evidence_of(sig),
        note=none_note + lists_note + terms_note,
        with_terms=set(data.loc[data[p_col] <= threshold, "List"].astype(str)),
        drawn_at=threshold,
    )


def comparison_figure(
    results: pd.DataFrame,
    *,
    top: int = 5,
    threshold: float = 0.05,
    color_by: str = "p",
    title: str | None = None,
    representatives: bool = False,
    max_label: int = 55,
) -> Figure:
    """Many lists in one figure: lists x terms, as clusterProfiler's compareCluster dot plot.

    Terms: :func:`select_compare_terms` (each list's ``top`` most significant, united).
    A dot is drawn where the term is significant (adjusted p <= ``threshold``) in the
    list, as compareCluster does; size = gene ratio (overlap / list size), colour =
    adjusted p (or combined score). Lists without a significant term keep their column,
    empty. Several libraries: one panel per library. Lists named ``GROUP:up`` /
    ``GROUP:down`` are drawn by group, up and down side by side
    (:func:`direction_groups`). A large batch draws its first :data:`MAX_LISTS` lists and
    the :data:`MAX_TERMS` chosen terms significant in the most of them (the caption says
    so), which keeps the figure readable and quick to draw.

    Parameters
    ----------
    results
        Batch results (a ``List`` column, then the ``enrich`` columns).
    top
        Terms taken from each list.
    threshold
        Adjusted p at or below which a term is significant in a list.
    color_by
        ``"p"`` (adjusted p-value) or ``"combined"`` (combined score).
    title
        Figure title (default: the number of lists, the library, what is shown).
    representatives
        Choose among cluster representatives only (clustered batch results).
    max_label
        Longest term label.
    """
    c = _comparison_data(
        results, top=top, threshold=threshold, color_by=color_by, representatives=representatives
    )
    longest = max(len(lab) for lab in shorten_terms([t for _, t in c.chosen], max_label))
    lo, hi = c.columns.span
    side = 1.9
    label_room = 0.06 * max(len(lab) for _, lab, _ in c.columns.labels)
    width = min(30.0, 2.6 + side + 0.062 * longest + 0.42 * (hi - lo))
    height = 2.3 + 0.26 * len(c.chosen) + 0.35 * len(c.libraries) + label_room
    height += 0.3 if c.columns.groups else 0.0
    fig, axes, key = panels(
        width, height, [len(c.by_lib[lb]) + 0.8 for lb in c.libraries], side=side,
        titles=c.libraries,
    )  # fmt: skip
    for ax, lib in zip(axes, c.libraries, strict=True):
        _panel(ax, c, lib, max_label)
    _list_axis(axes, c.columns)
    draw_key(key, height, c.colors, color_by, _key_entries(c), spacing=1.1)
    what = (
        f"top {top} terms of each list"
        + (" (cluster representatives)" if representatives else "")
        + (
            f"; a dot where adjusted p <= {threshold:g}"
            if c.drawn_at == threshold
            else "; every dot drawn (none significant)"
        )
        + "; (n): genes recognized"
    )
    n = f"{len(c.columns.groups)} groups, up and down" if c.columns.groups else f"{len(c.lists)}"
    head = title if title is not None else default_title(
        c.libraries, f"{n} lists" if not c.columns.groups else n, what, method_of(results)
    )  # fmt: skip
    empty = [name for name in c.lists if name not in c.with_terms]
    shown = ", ".join(empty[:8]) + (f" (+{len(empty) - 8})" if len(empty) > 8 else "")
    caption = c.note + (f"No term at adjusted p <= {threshold:g}: {shown}" if empty else "")
    head_and_caption(fig, head, caption, width=width)
    return fig


def _panel(ax: Axes, c: _Comparison, lib: str, max_label: int) -> None:
    """One library's terms (rows) x lists (columns)."""
    terms = c.by_lib[lib]
    ypos = {t: len(terms) - 1 - j for j, t in enumerate(terms)}
    mine = (c.lib_col[c.sig.index] == lib).to_numpy()
    part = c.sig[mine]
    x = np.array([c.columns.x[str(v)] for v in part["List"]], dtype=float)
    y = np.array([ypos[str(t)] for t in part["Term"]], dtype=float)
    colors = c.colors.colors(c.colors.values[mine])
    ev = c.evidence.to_numpy()[mine] if c.evidence is not None else None
    for i, (lo, hi, _) in enumerate(c.columns.groups):
        if i % 2 == 0:
            ax.axvspan(lo - 0.5, hi + 0.5, color="#f3f4f7", zorder=0, lw=0)
    scatter_by_evidence(ax, x, y, c.area(c.ratio[mine]), colors, ev)
    labels = [text(lab) for lab in shorten_terms(terms, max_label)]
    ax.set_yticks(np.arange(len(terms))[::-1], labels, fontsize=8)
    ax.set_ylim(-0.7, len(terms) - 0.3)
    ax.set_xlim(*c.columns.span)
    finish_axes(ax, grid="both")
    for spine in ("top", "right"):
        ax.spines[spine].set_visible(True)
        ax.spines[spine].set_color("#dddddd")


def _list_axis(axes: list[Axes], columns: _Columns) -> None:
    """List names (with their sizes) under the last panel; group names over the first."""
    last = axes[-1]
    xs = [x for x, _, _ in columns.labels]
    last.set_xticks(xs, [text(lab) for _, lab, _ in columns.labels], fontsize=8)
    rotate = max(len(lab) for _, lab, _ in columns.labels) > 6 or len(xs) > 8
    for tick, (_, _, direction) in zip(last.get_xticklabels(), columns.labels, strict=True):
        if direction:
            tick.set_color(_DIRECTION_COLORS[direction])
        if rotate:
            tick.set_rotation(40)
            tick.set_horizontalalignment("right")
            tick.set_rotation_mode("anchor")
    if columns.groups:
        top = axes[0].secondary_xaxis("top")
        centers = [(lo + hi) / 2 for lo, hi, _ in columns.groups]
        top.set_xticks(centers, [text(name) for _, _, name in columns.groups], fontsize=8.5)
        top.tick_params(axis="x", length=0)
        if max(len(name) for _, _, name in columns.groups) > 12:
            for tick in top.get_xticklabels():
                tick.set_rotation(40)
                tick.set_horizontalalignment("left")
                tick.set_rotation_mode("anchor")
        top.spines["top"].set_visible(False)


def _key_entries(c: _Comparison):
    ticks = sorted({round(float(v), 2) for v in np.linspace(c.top_ratio / 4, c.top_ratio, 3)})
    ticks = [t for t in ticks if t > 0] or [round(c.top_ratio, 3)]
    handles, names = size_handles(c.area, ticks, "gene ratio (overlap / list)")
    if c.evidence is not None:
        h, n = evidence_handles()
        handles, names = handles + h, names + n
    return handles, names


def plot_comparison(
    results: pd.DataFrame,
    path: str | Path,
    *,
    top: int = 5,
    threshold: float = 0.05,
    color_by: str = "p",
    title: str | None = None,
    representatives: bool = False,
    dpi: int = 200,
) -> Path:
    """Write :func:`comparison_figure` (``batch --plot``) to ``path``."""
    fig = comparison_figure(
        results,
        top=top,
        threshold=threshold,
        color_by=color_by,
        title=title,
        representatives=representatives,
    )
    return save_figure(fig, path, dpi=dpi)
