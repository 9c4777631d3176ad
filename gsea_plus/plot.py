"""Figures of enrichment results (matplotlib, the ``plot`` extra).

Every figure has a ``*_figure`` function that returns a :class:`matplotlib.figure.Figure`
(for notebooks and the HTML report) and a ``plot_*`` function that writes it to a file
whose suffix picks the format (.png, .svg or .pdf; written atomically):

:func:`plot_enrichment` / :func:`enrichment_figure`
    dot plot (x = -log10 adjusted p, size = overlap, colour = adjusted p or combined
    score, a dashed line at the FDR threshold) or bar plot of the top terms, one panel
    per library.
:func:`plot_running_sum` / :func:`running_sum_figure`
    GSEA running sums of up to :data:`MAX_RUNNING_SUM_TERMS` terms stacked (as gseapy's
    ``gseaplot2``), leading edges shaded, hits and the ranked metric below.
:func:`plot_comparison` / :func:`comparison_figure`
    many lists side by side (``batch --plot``): lists x terms, size = gene ratio, colour
    = adjusted p, the top terms of each list chosen as clusterProfiler's compareCluster.
:func:`plot_enrichment_map` / :func:`enrichment_map_figure`
    terms as nodes, edges where their gene similarity passes the clustering threshold,
    colour = cluster (:mod:`gsea_plus.cluster`), size = overlap.

Model-based results (``--augment`` / ``--rank embedding``) are marked: the marker shape
says which evidence supports a term (``Evidence``: list, model, list+model) and the
caption says the evidence is the gene set model's. Odds ratios are never used for colour
(they are 0 or missing where the model brought a term up).

matplotlib is imported inside the functions, figures are built with the object API
(no pyplot state, no backend switch, no rcParams changed), so a notebook's own settings
are untouched.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gsea_plus.errors import InputError, require
from gsea_plus.options import COLOR_BY
from gsea_plus.terms import ELLIPSIS, LABEL_CHARS, TERM_ID, shorten_term, shorten_terms

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "COLOR_BY",
    "MAX_RUNNING_SUM_TERMS",
    "check_plot_path",
    "comparison_figure",
    "enrichment_figure",
    "enrichment_map_figure",
    "evidence_of",
    "figure_to_svg",
    "nes_figure",
    "plot_comparison",
    "plot_enrichment",
    "plot_enrichment_map",
    "plot_running_sum",
    "running_sum_figure",
    "save_figure",
    "select_compare_terms",
    "shorten_term",
    "shorten_terms",
]

_SUFFIXES = (".png", ".svg", ".pdf")
#: Terms one running-sum figure can stack.
MAX_RUNNING_SUM_TERMS = 6

# Evidence marks: shape per evidence kind (model-based results).
_EVIDENCE_MARKERS = {"list": "o", "list+model": "s", "model": "D"}
_EVIDENCE_LABELS = {
    "list": "list genes",
    "list+model": "list genes + model",
    "model": "model only",
}
_GREY = "#9a9a9a"
_LINE = "#555555"
_CLUSTER_COLORS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#393b79",
)


def check_plot_path(path: str | Path) -> Path:
    """Raise unless ``path`` can take a plot.

    A .png, .svg or .pdf file name, or a device or FIFO (written as PNG); never a directory.
    """
    from gsea_plus.output import output_kind

    path = Path(path)
    if output_kind(path) == "file" and path.suffix.lower() not in _SUFFIXES:
        raise InputError(f"--plot: use a .png, .svg or .pdf file name, not {path.name!r}")
    return path


def plot_format(path: str | Path) -> str:
    """The figure format of an output: its suffix (png, svg, pdf), else PNG (a device)."""
    suffix = Path(path).suffix.lower()
    return suffix.lstrip(".") if suffix in _SUFFIXES else "png"


def _mpl():
    """The matplotlib package (the ``plot`` extra); nothing global is changed."""
    return require("matplotlib", "plot", "plotting")


def _new_figure(width: float, height: float) -> Figure:
    _mpl()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)  # a renderer for measuring text; pyplot is never involved
    return fig


_RC: Any = {"svg.fonttype": "none", "pdf.fonttype": 42, "svg.hashsalt": "gsea-plus"}


def save_figure(fig: Figure, path: str | Path, *, dpi: int = 200) -> Path:
    """Write a figure in the format of the file's suffix (a file atomically; a device directly).

    SVG keeps text as text (searchable, editable), PDF embeds TrueType fonts (editable
    in Illustrator/Inkscape), PNG is drawn at ``dpi``. No date is written, so the same
    input gives the same file.
    """
    import io

    import matplotlib

    from gsea_plus.output import write_output

    path = check_plot_path(path)
    fmt = plot_format(path)
    metadata = {"png": {"Software": None}, "svg": {"Date": None}, "pdf": {"CreationDate": None}}
    buf = io.BytesIO()
    with matplotlib.rc_context(_RC):
        fig.savefig(buf, format=fmt, dpi=dpi, metadata=metadata[fmt])
    write_output(path, buf.getvalue(), compress=False)
    return path


def figure_to_svg(fig: Figure) -> str:
    """The figure as SVG text (text kept as text, no date)."""
    import io

    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context(_RC):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    return buf.getvalue()


# ---------------------------------------------------------------------------- helpers


def _text(value) -> str:
    """A user string that matplotlib shows literally (``$`` would start mathtext)."""
    return str(value).replace("$", r"\$")


def evidence_of(df: pd.DataFrame) -> pd.Series | None:
    """Which evidence supports each row: ``list``, ``model`` or ``list+model``; None if classical.

    The ``Evidence`` column of model-based results is used when present; older
    model-based tables (a ``Method`` column, no ``Evidence``) get it from their
    columns: ``model`` where the list has no gene in the term, ``list+model`` where the
    model also predicted term genes, else ``list``.
    """
    import pandas as pd

    if "Evidence" in df.columns:
        return df["Evidence"].astype(str).str.strip().str.lower()
    if "Method" not in df.columns and "Predicted Overlap" not in df.columns:
        return None
    listed = np.asarray(df.get("Overlap Size", pd.Series(0, index=df.index)), dtype=float) > 0
    predicted = (
        np.asarray(df.get("Predicted Overlap", pd.Series(0, index=df.index)), dtype=float) > 0
    )
    return pd.Series(
        np.where(listed & predicted, "list+model", np.where(listed, "list", "model")),
        index=df.index,
    )


def _method_of(df: pd.DataFrame) -> str:
    if "Method" in df.columns and len(df):
        methods = sorted({str(m) for m in df["Method"].dropna()})
        return ", ".join(methods)
    return ""


def _p_column(df: pd.DataFrame) -> str:
    for col in ("Adjusted P-value", "FDR"):
        if col in df.columns:
            return col
    raise InputError("the results have no 'Adjusted P-value' column")


def _neglog10(p) -> np.ndarray:
    p = np.asarray(p, dtype=np.float64)
    return -np.log10(np.clip(p, 1e-300, 1.0))


def _top_rows(df: pd.DataFrame, top: int, *, representatives: bool) -> pd.DataFrame:
    if representatives:
        if "Representative" not in df.columns:
            raise InputError("--representatives needs clustered results (--cluster)")
        df = df[df["Representative"].astype(bool)]
    p_col = _p_column(df)
    keys = [p_col] + (["P-value"] if "P-value" in df.columns else [])
    return df.sort_values(keys, kind="stable").head(top)


def _with_cluster_note(d: pd.DataFrame, labels: list[str], *, representatives: bool) -> list[str]:
    if not representatives or "Cluster Size" not in d.columns:
        return labels
    extra = [int(s) - 1 if s == s and s is not None else 0 for s in d["Cluster Size"].tolist()]
    return [f"{lab} (+{k} similar)" if k > 0 else lab for lab, k in zip(labels, extra, strict=True)]


def _p_cmap():
    """Dark = most significant; the light yellow end is cut so weak dots stay visible."""
    from matplotlib import colormaps
    from matplotlib.colors import ListedColormap

    return ListedColormap(colormaps["plasma"](np.linspace(0.0, 0.82, 256)), name="gsea_p")


def _color_scale(values: np.ndarray, color_by: str):
    """(values, norm, cmap, label) for the colour of dots/bars."""
    from matplotlib import colormaps
    from matplotlib.colors import LogNorm, Normalize

    finite = values[np.isfinite(values)]
    if color_by == "p":
        v = np.clip(values, 1e-300, 1.0)
        lo = float(np.nanmin(v)) if len(finite) else 1e-3
        hi = float(np.nanmax(v)) if len(finite) else 1.0
        if hi <= lo * 1.0001:
            lo, hi = lo / 10, min(1.0, hi * 10) if hi * 10 > lo else lo * 100
        return v, LogNorm(vmin=lo, vmax=hi), _p_cmap(), "adjusted p-value"
    positive = finite[finite > 0]
    hi = float(positive.max()) if len(positive) else 1.0
    lo = float(positive.min()) if len(positive) else 0.1
    cmap = colormaps["viridis"]
    if hi / max(lo, 1e-12) > 50:
        lo = max(lo, hi / 1e4)
        return np.clip(values, lo, None), LogNorm(vmin=lo, vmax=hi), cmap, "combined score"
    return values, Normalize(vmin=min(lo, 0.0), vmax=hi), cmap, "combined score"


def _size_scale(counts: np.ndarray):
    """Marker area (pt^2) for an overlap count, and nice legend values."""
    finite = counts[np.isfinite(counts)]
    top = max(float(finite.max()) if len(finite) else 1.0, 1.0)

    def area(k):
        return 25.0 + 275.0 * np.sqrt(np.clip(np.asarray(k, dtype=float), 0, None) / top) ** 2

    lo = max(float(finite.min()) if len(finite) else 1.0, 1.0)
    cand = sorted({int(round(x)) for x in np.geomspace(lo, top, 3)} | {int(top)})
    cand = [c for c in cand if c >= 1]
    if len(cand) > 3:
        cand = [cand[0], cand[len(cand) // 2], cand[-1]]
    return area, cand


def _overlap_counts(d: pd.DataFrame) -> tuple[np.ndarray, str]:
    if "Overlap Size" in d.columns:
        k = np.asarray(d["Overlap Size"], dtype=float)
        if "Predicted Overlap" in d.columns:
            return k + np.nan_to_num(np.asarray(d["Predicted Overlap"], dtype=float)), (
                "overlap (list + predicted genes)"
            )
        return k, "overlap (genes)"
    if "Leading Edge Size" in d.columns:
        return np.asarray(d["Leading Edge Size"], dtype=float), "leading edge (genes)"
    return np.ones(len(d)), "overlap"


def _library_groups(d: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    if "Library" not in d.columns:
        return [("", d)]
    import pandas as pd

    return [(str(lib), d[d["Library"] == lib]) for lib in pd.unique(d["Library"])]


def _default_title(libraries: Sequence[str], list_name: str | None, what: str, model: str) -> str:
    parts = [str(list_name)] if list_name else []
    if len(libraries) == 1 and libraries[0]:
        parts.append(libraries[0])
    head = " \u00b7 ".join(parts) if parts else "Enrichment"
    sub = what + (f"; model-based evidence ({model})" if model else "")
    return f"{head}\n{sub}"


# ------------------------------------------------------------------------- dot / bar


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
        e.g. model-only terms, are drawn grey).
    threshold
        FDR threshold drawn as a dashed line.
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
    if kind not in ("dot", "bar"):
        raise InputError(f"--plot-kind must be dot, bar or map, not {kind!r}")
    if color_by not in COLOR_BY:
        raise InputError(f"--color-by must be one of {', '.join(COLOR_BY)}, not {color_by!r}")
    if df is None or len(df) == 0:
        raise InputError("--plot: no enriched term to plot")
    if top < 1:
        raise InputError("--top must be at least 1")
    p_col = _p_column(df)
    groups = [
        (lib, _top_rows(g, top, representatives=representatives)) for lib, g in _library_groups(df)
    ]
    groups = [(lib, g) for lib, g in groups if len(g)]
    if not groups:
        raise InputError("--plot: no representative term to plot")
    import pandas as pd

    shown = pd.concat([g for _, g in groups])
    evidence = evidence_of(shown)
    model = _method_of(shown)
    if color_by == "combined" and "Combined Score" not in shown.columns:
        raise InputError("--color-by combined: the results have no Combined Score column")
    raw = np.asarray(shown[p_col] if color_by == "p" else shown["Combined Score"], dtype=np.float64)
    cvals, norm, cmap, clabel = _color_scale(raw, color_by)
    counts, size_label = _overlap_counts(shown)
    area, size_ticks = _size_scale(counts)
    xs_all = _neglog10(shown[p_col])
    xmax = max(float(np.nanmax(xs_all)), -math.log10(threshold)) * 1.08 + 0.05

    n_rows = sum(len(g) for _, g in groups)
    longest = max(len(lab) for _, g in groups for lab in shorten_terms(g["Term"], max_label))
    side = 1.7
    width = min(15.0, 3.4 + side + 0.062 * longest)
    height = 1.9 + 0.27 * n_rows + 0.35 * len(groups) + (0.35 if evidence is not None else 0)
    fig = _new_figure(width, height)
    outer = fig.add_gridspec(1, 2, width_ratios=[width - side, side])
    grid = outer[0, 0].subgridspec(len(groups), 1, height_ratios=[len(g) + 0.6 for _, g in groups])
    axes: list[Axes] = []
    offset = 0
    for i, (lib, g) in enumerate(groups):
        ax = fig.add_subplot(grid[i, 0], sharex=axes[0] if axes else None)
        axes.append(ax)
        d = g.iloc[::-1]
        sl = slice(offset, offset + len(g))
        c = cvals[sl][::-1]
        cnt = counts[sl][::-1]
        x = xs_all[sl][::-1]
        ev = evidence.iloc[sl].to_numpy()[::-1] if evidence is not None else None
        y = np.arange(len(d))
        missing = ~np.isfinite(c)
        colors = np.empty((len(d), 4))
        colors[~missing] = cmap(norm(c[~missing]))
        colors[missing] = (0.6, 0.6, 0.6, 1.0)
        if kind == "bar":
            ax.barh(y, x, color=colors, height=0.72, edgecolor="none")
            if ev is not None:
                for yy, xx, e in zip(y, x, ev, strict=True):
                    if e == "model":
                        ax.barh(yy, xx, height=0.72, fill=False, hatch="///", edgecolor="white")
            if "Overlap" in d.columns:
                for yy, xx, txt in zip(y, x, d["Overlap"].astype(str), strict=True):
                    ax.text(
                        xx + xmax * 0.01, float(yy), txt, va="center", fontsize=7, color="#333333"
                    )
        else:
            marks = ev if ev is not None else np.array(["list"] * len(d))
            for kind_ev, marker in _EVIDENCE_MARKERS.items():
                sel = marks == kind_ev
                if sel.any():
                    ax.scatter(
                        x[sel],
                        y[sel],
                        s=area(cnt[sel]),
                        c=colors[sel],
                        marker=marker,
                        edgecolors="#222222",
                        linewidths=0.5,
                        zorder=3,
                    )
        ax.axvline(-math.log10(threshold), color=_LINE, ls="--", lw=0.9, zorder=1)
        labels = _with_cluster_note(
            d, shorten_terms(d["Term"], max_label), representatives=representatives
        )
        ax.set_yticks(y, [_text(lab) for lab in labels], fontsize=8)
        ax.set_ylim(-0.7, len(d) - 0.3)
        ax.grid(axis="x", color="#e6e6e6", lw=0.6, zorder=0)
        ax.set_axisbelow(True)
        for spine in ("top", "right"):
            ax.spines[spine].set_visible(False)
        if len(groups) > 1:
            ax.set_title(_text(lib), loc="left", fontsize=9, fontweight="bold")
        if i < len(groups) - 1:
            ax.tick_params(axis="x", labelbottom=False)
        offset += len(g)
    axes[0].set_xlim(0, xmax)
    axes[-1].set_xlabel("-log10 adjusted p-value")
    key = fig.add_subplot(outer[0, 1])
    _draw_key(
        key,
        height,
        norm,
        cmap,
        clabel,
        color_by,
        _legend_entries(kind, area, size_ticks, size_label, threshold, evidence, color_by, raw),
        spacing=1.1 if kind == "dot" else 0.5,
    )
    libraries = [lib for lib, _ in groups]
    what = (
        f"representatives of the top {top} clusters by adjusted p"
        if representatives
        else f"top {top} terms by adjusted p"
    )
    fig.suptitle(
        _text(title if title is not None else _default_title(libraries, list_name, what, model)),
        fontsize=10,
        x=0.02,
        ha="left",
    )
    caption = _caption(evidence, kind, threshold)
    if caption:
        fig.supxlabel(caption, fontsize=7, color="#444444", x=0.02, ha="left")
    return fig


def _draw_key(key, height, norm, cmap, clabel, color_by, entries, *, spacing=0.6):
    """Colour bar and legends in the side axes ``key`` of a figure ``height`` inches tall."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullLocator

    key.axis("off")
    frac = min(0.42, 2.0 / max(height - 0.8, 1.0))
    cax = key.inset_axes((0.02, 1.0 - frac, 0.12, frac))
    cbar = key.figure.colorbar(ScalarMappable(norm=norm, cmap=cmap), cax=cax)
    cbar.set_label(clabel, fontsize=8)
    cbar.ax.tick_params(labelsize=7)
    if color_by == "p":
        decades = math.log10(norm.vmax / norm.vmin)
        if decades <= 3:
            cbar.ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        else:
            step = max(1, math.ceil(decades / 6))
            ticks = [10.0**e for e in range(math.floor(math.log10(norm.vmin)), 1, step)]
            cbar.ax.yaxis.set_major_locator(FixedLocator(ticks))
        cbar.ax.yaxis.set_minor_locator(NullLocator())
        cbar.ax.yaxis.set_major_formatter(
            FuncFormatter(lambda v, _: f"{v:.0e}" if v < 1e-3 else f"{v:g}")
        )
        cbar.ax.invert_yaxis()  # most significant at the top
    handles, names = entries
    legend = key.legend(
        handles,
        names,
        loc="upper left",
        bbox_to_anchor=(0.0, 1.0 - frac - 0.04),
        fontsize=7,
        frameon=False,
        labelspacing=spacing,
        borderpad=0.0,
        handletextpad=0.6,
    )
    for handle, text in zip(legend.legend_handles, legend.get_texts(), strict=True):
        if getattr(handle, "get_marker", lambda: "x")() in ("None", None, "") and (
            getattr(handle, "get_linestyle", lambda: "-")() in ("None", "none", "")
        ):
            text.set_fontweight("bold")


def _legend_entries(kind, area, size_ticks, size_label, threshold, evidence, color_by, raw):
    from matplotlib.lines import Line2D

    handles, names = [], []
    if kind == "dot":
        handles.append(Line2D([], [], ls="none"))
        names.append(size_label)
        for k in size_ticks:
            handles.append(
                Line2D(
                    [],
                    [],
                    ls="none",
                    marker="o",
                    markersize=math.sqrt(float(area(k))),
                    markerfacecolor="#bbbbbb",
                    markeredgecolor="#222222",
                    markeredgewidth=0.5,
                )
            )
            names.append(str(k))
    if evidence is not None:
        handles.append(Line2D([], [], ls="none"))
        names.append("evidence")
        for e in ("list", "list+model", "model"):
            if kind == "dot":
                h = Line2D(
                    [], [], ls="none", marker=_EVIDENCE_MARKERS[e], markersize=7,
                    markerfacecolor="#bbbbbb", markeredgecolor="#222222", markeredgewidth=0.5,
                )  # fmt: skip
            else:
                from matplotlib.patches import Patch

                h = Patch(
                    facecolor="#bbbbbb",
                    hatch="///" if e == "model" else None,
                    edgecolor="white",
                )
                if e == "list+model":
                    continue
            handles.append(h)
            names.append(_EVIDENCE_LABELS[e])
    if color_by == "combined" and np.isnan(raw).any():
        from matplotlib.patches import Patch

        handles.append(Patch(facecolor="#999999"))
        names.append("no combined score")
    handles.append(Line2D([], [], color=_LINE, ls="--", lw=0.9))
    names.append(f"adjusted p = {threshold:g}")
    return handles, names


def _caption(evidence, kind: str, threshold: float) -> str:
    if evidence is None:
        return ""
    return (
        "Evidence: gene set model. P-values combine the list's own overlap with the "
        "model's predictions; "
        + (
            "diamonds: terms found by the model alone."
            if kind == "dot"
            else "hatched bars: terms found by the model alone."
        )
    )


def plot_enrichment(
    df: pd.DataFrame,
    path: str | Path,
    *,
    kind: str = "dot",
    top: int = 20,
    color_by: str = "p",
    threshold: float = 0.05,
    title: str | None = None,
    list_name: str | None = None,
    representatives: bool = False,
    dpi: int = 200,
) -> Path:
    """Write :func:`enrichment_figure` to ``path`` (.png, .svg or .pdf, atomically).

    ``kind="map"`` draws :func:`enrichment_map_figure` instead (the ``top`` most
    significant clustered terms; ``df`` is clustered with the defaults unless it has a
    ``Cluster`` column), so ``--plot-kind`` can offer dot, bar and map.
    """
    path = check_plot_path(path)
    if kind == "map":
        if "List" in df.columns and df["List"].nunique() > 1:
            raise InputError("--plot-kind map draws one list; batch --plot draws the lists")
        fig = enrichment_map_figure(
            df, top=top, threshold=None, p_cutoff=threshold, title=title, list_name=list_name
        )
        return save_figure(fig, path, dpi=dpi)
    fig = enrichment_figure(
        df,
        kind=kind,
        top=top,
        color_by=color_by,
        threshold=threshold,
        title=title,
        list_name=list_name,
        representatives=representatives,
    )
    return save_figure(fig, path, dpi=dpi)


# ------------------------------------------------------------------------ running sum


def _resolve_terms(result: pd.DataFrame, terms) -> pd.DataFrame:
    if terms is None:
        return result.iloc[:1]
    if isinstance(terms, str):
        terms = [terms]
    terms = list(dict.fromkeys(terms))
    if len(terms) > MAX_RUNNING_SUM_TERMS:
        raise InputError(
            f"--plot-term: at most {MAX_RUNNING_SUM_TERMS} terms in one running-sum plot, "
            f"got {len(terms)}"
        )
    rows = []
    for term in terms:
        match = result[result["Term"] == term]
        if match.empty:
            raise InputError(f"--plot-term: {term!r} is not among the tested terms")
        rows.append(match.index[0])
    return result.loc[rows]


def _term_members(rows: pd.DataFrame, gene_sets, library, offline) -> list[set[str]]:
    if gene_sets is not None:
        out = []
        for term in rows["Term"]:
            if term not in gene_sets:
                raise InputError(f"--plot-term: {term!r} is not in the given gene sets")
            out.append({str(g).upper() for g in gene_sets[term]})
        return out
    if library is None:
        raise InputError("the running-sum plot needs the gene sets (gene_sets= or library=)")
    from gsea_plus.library import load_library

    specs = library if isinstance(library, (list, tuple)) else [library]
    libs = [load_library(s, offline=offline) for s in specs]
    out = []
    for _, row in rows.iterrows():
        lib = next((lb for lb in libs if lb.name == row.get("Library", lb.name)), libs[0])
        index = np.flatnonzero(lib.terms == row["Term"])
        if len(index) == 0:
            raise InputError(f"--plot-term: {row['Term']!r} is not in {lib.name}")
        out.append(set(lib.term_genes(int(index[0]))))
    return out


def _decimate(y: np.ndarray, bins: int = 700) -> tuple[np.ndarray, np.ndarray]:
    """Indices and values that draw the same line at figure resolution.

    A signature of 20,000 genes would write 20,000 points per curve into an SVG; the
    minimum and maximum of each of ``bins`` bins (plus both ends) look the same.
    """
    n = len(y)
    if n <= 4 * bins:
        return np.arange(n), y
    edges = np.linspace(0, n, bins + 1).astype(np.int64)
    starts = edges[:-1]
    lo = np.minimum.reduceat(y, starts)
    hi = np.maximum.reduceat(y, starts)
    seg = np.repeat(np.arange(bins), np.diff(edges))
    idx_lo = np.flatnonzero(y == lo[seg])
    idx_hi = np.flatnonzero(y == hi[seg])
    keep = np.zeros(n, dtype=bool)
    # first index reaching each bin's extreme
    first_lo = np.full(bins, -1)
    first_hi = np.full(bins, -1)
    first_lo[seg[idx_lo][::-1]] = idx_lo[::-1]
    first_hi[seg[idx_hi][::-1]] = idx_hi[::-1]
    keep[first_lo] = True
    keep[first_hi] = True
    keep[[0, n - 1]] = True
    idx = np.flatnonzero(keep)
    return idx, y[idx]


def running_sum_figure(
    signature,
    result: pd.DataFrame,
    *,
    terms: str | Sequence[str] | None = None,
    gene_sets: Mapping[str, Iterable[str]] | None = None,
    library=None,
    offline: bool | None = None,
    weight: float = 1.0,
    title: str | None = None,
    signature_name: str | None = None,
    max_label: int = 48,
) -> Figure:
    """GSEA running sums of one or a few terms, stacked (as gseapy's ``gseaplot2``).

    Top: the running sum of each term, its leading edge shaded (from the start to the
    peak for a positive ES, from the trough to the end for a negative one). Middle: the
    term's genes along the ranking, one row per term, leading-edge hits dark. Bottom:
    the ranked metric.

    Parameters
    ----------
    signature
        A :class:`gsea_plus.prerank.Signature` (or anything
        :func:`gsea_plus.prerank.read_signature` reads).
    result
        Results of :func:`gsea_plus.prerank.prerank`.
    terms
        A term or up to :data:`MAX_RUNNING_SUM_TERMS` terms (default: the top row).
    gene_sets
        ``{term: genes}``; otherwise the terms are read from ``library``.
    library, offline
        Library spec or specs to read the terms from, and whether downloads are barred.
    weight
        The running sum's weight (as given to ``prerank``).
    title, signature_name
        Figure title, or the signature's name for the default title.
    max_label
        Longest term label in the legend.
    """
    from gsea_plus.prerank import Signature, read_signature, running_sum

    if result is None or len(result) == 0:
        raise InputError("--plot: no term to plot")
    sig = signature if isinstance(signature, Signature) else read_signature(signature)
    rows = _resolve_terms(result.reset_index(drop=True), terms)
    members = _term_members(rows, gene_sets, library, offline)
    n = len(sig)
    k = len(rows)
    height = 3.9 + 0.22 * k
    fig = _new_figure(7.6, height)
    grid = fig.add_gridspec(3, 1, height_ratios=[3.0, 0.28 * k + 0.2, 1.2], hspace=0.02)
    ax = fig.add_subplot(grid[0])
    ax_hits = fig.add_subplot(grid[1], sharex=ax)
    ax_rank = fig.add_subplot(grid[2], sharex=ax)
    colors = _CLUSTER_COLORS if k > 1 else ("#2E8B57",)
    xs = np.arange(n)
    labels = shorten_terms(rows["Term"], max_label)
    for i, ((_, row), genes, label) in enumerate(
        zip(rows.iterrows(), members, labels, strict=True)
    ):
        color = colors[i % len(colors)]
        positions = np.flatnonzero(np.isin(sig.genes, list(genes)))
        if len(positions) == 0:
            raise InputError(f"--plot-term: no gene of {row['Term']!r} is in the signature")
        rs = running_sum(sig, positions, weight=weight)
        es_sign = float(row["ES"]) if "ES" in row.index else float(rs[np.argmax(np.abs(rs))])
        peak = int(np.argmax(rs)) if es_sign >= 0 else int(np.argmin(rs))
        edge = xs <= peak if es_sign >= 0 else xs >= peak
        stats = []
        if "NES" in row.index:
            stats.append(f"NES {float(row['NES']):.2f}")
        if "FDR" in row.index:
            stats.append(f"FDR {float(row['FDR']):.1e}")
        idx, shown = _decimate(rs)
        ax.plot(idx, shown, color=color, lw=1.4, label=_text(f"{label}  ({', '.join(stats)})"))
        ax.fill_between(
            idx, 0, shown, where=edge[idx], color=color, alpha=0.14, lw=0, rasterized=True
        )
        ax.plot([peak, peak], [0, rs[peak]], color=color, ls="--", lw=0.8)
        hit_edge = edge[positions]
        base = k - 1 - i
        ax_hits.vlines(
            positions[hit_edge], base + 0.1, base + 0.9, color=color, lw=0.7, rasterized=True
        )
        ax_hits.vlines(
            positions[~hit_edge],
            base + 0.1,
            base + 0.9,
            color=color,
            lw=0.5,
            alpha=0.35,
            rasterized=True,
        )
    ax.axhline(0, color="#888888", lw=0.6)
    ax.set_ylabel("running enrichment score")
    ax.legend(loc="best", fontsize=7, frameon=True, framealpha=0.85, edgecolor="none")
    ax.tick_params(axis="x", labelbottom=False)
    for spine in ("top", "right"):
        ax.spines[spine].set_visible(False)
    ax_hits.set_ylim(0, k)
    ax_hits.set_yticks([])
    ax_hits.tick_params(axis="x", labelbottom=False, length=0)
    for border in ax_hits.spines.values():
        border.set_color("#bbbbbb")
    scores = np.asarray(sig.scores, dtype=float)
    idx, shown = _decimate(scores)
    up = shown >= 0
    for side, color in ((up, "#c0392b"), (~up, "#2471a3")):
        ax_rank.fill_between(
            idx, 0, shown, where=side, color=color, alpha=0.75, lw=0, rasterized=True
        )
    cross = int(np.searchsorted(-scores, 0.0))
    if 0 < cross < n:
        ax_rank.axvline(cross, color="#666666", ls=":", lw=0.8)
        ax_rank.text(cross, 0, f" zero at {cross}", fontsize=7, color="#444444", va="bottom")
    ax_rank.set_ylabel("ranked metric", fontsize=8)
    ax_rank.set_xlabel(f"rank in signature ({n} genes)")
    ax_rank.set_xlim(0, n - 1)
    for spine in ("top", "right"):
        ax_rank.spines[spine].set_visible(False)
    head = title or (
        f"{signature_name} \u00b7 preranked GSEA" if signature_name else "Preranked GSEA"
    )
    libs = sorted({str(x) for x in rows.get("Library", [])})
    if title is None and libs:
        head += "\n" + ", ".join(libs)
    fig.suptitle(_text(head), fontsize=10, x=0.02, ha="left")
    fig.supxlabel(
        "Shaded: leading edge (genes before the peak, or after the trough for a negative ES); "
        "dark ticks: leading-edge genes.",
        fontsize=7,
        color="#444444",
        x=0.02,
        ha="left",
    )
    return fig


def plot_running_sum(
    signature,
    result: pd.DataFrame,
    path: str | Path,
    *,
    term: str | Sequence[str] | None = None,
    library=None,
    offline: bool | None = None,
    gene_sets: Mapping[str, Iterable[str]] | None = None,
    weight: float = 1.0,
    title: str | None = None,
    signature_name: str | None = None,
    dpi: int = 200,
) -> Path:
    """Write :func:`running_sum_figure` to ``path``; ``term`` is one term or a few."""
    path = check_plot_path(path)
    fig = running_sum_figure(
        signature,
        result,
        terms=term,
        gene_sets=gene_sets,
        library=library,
        offline=offline,
        weight=weight,
        title=title,
        signature_name=signature_name,
    )
    return save_figure(fig, path, dpi=dpi)


# ------------------------------------------------------------------ many lists (batch)


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
    p_col = _p_column(results)
    lib = results["Library"] if "Library" in results.columns else pd.Series("", results.index)
    chosen: dict[tuple[str, str], None] = {}
    for name in pd.unique(results["List"]):
        part = results[(results["List"] == name) & (results[p_col] <= threshold)]
        keys = [p_col] + (["P-value"] if "P-value" in part.columns else [])
        part = part.sort_values(keys, kind="stable").head(top)
        for key in zip(lib[part.index].astype(str), part["Term"].astype(str), strict=True):
            chosen.setdefault(key, None)
    return list(chosen)


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
    empty. Several libraries: one panel per library.

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
    import pandas as pd

    if color_by not in COLOR_BY:
        raise InputError(f"--color-by must be one of {', '.join(COLOR_BY)}, not {color_by!r}")
    if results is None or len(results) == 0:
        raise InputError("--plot: no result to plot")
    if "List" not in results.columns:
        raise InputError("the comparison figure needs batch results (a List column)")
    data = results
    if representatives:
        if "Representative" not in data.columns:
            raise InputError("--representatives needs clustered results (--cluster)")
        data = data[data["Representative"].astype(bool)]
    lists = [str(x) for x in pd.unique(results["List"])]
    chosen = select_compare_terms(data, top=top, threshold=threshold)
    if not chosen:
        raise InputError(f"--plot: no list has a term with adjusted p <= {threshold:g}")
    p_col = _p_column(results)
    lib_col = (
        results["Library"].astype(str)
        if "Library" in results.columns
        else pd.Series("", index=results.index)
    )
    key = pd.Series(list(zip(lib_col, results["Term"].astype(str), strict=True)), results.index)
    sig = results[key.isin(set(chosen)) & (results[p_col] <= threshold)]
    libraries = list(dict.fromkeys(lib for lib, _ in chosen))
    by_lib = {lib: [t for lb, t in chosen if lb == lib] for lib in libraries}
    if "List Size" in results.columns:
        sizes = results.groupby("List", sort=False)["List Size"].max()
    else:
        sizes = pd.Series(dtype=float)
    ratio_all = (
        np.asarray(sig["Overlap Size"], dtype=float) / np.asarray(sig["List Size"], dtype=float)
        if {"Overlap Size", "List Size"} <= set(sig.columns)
        else np.ones(len(sig))
    )
    raw_all = np.asarray(sig[p_col] if color_by == "p" else sig["Combined Score"], dtype=float)
    cvals, norm, cmap, clabel = _color_scale(raw_all, color_by)
    top_ratio = float(np.nanmax(ratio_all)) if len(ratio_all) else 1.0

    def area(r):
        return 12.0 + 230.0 * np.clip(np.asarray(r, dtype=float), 0, None) / max(top_ratio, 1e-9)

    n_terms = len(chosen)
    longest = max(len(lab) for lab in shorten_terms([t for _, t in chosen], max_label))
    side = 1.7
    width = min(30.0, 2.6 + side + 0.062 * longest + 0.42 * len(lists))
    height = 2.3 + 0.26 * n_terms + 0.35 * len(libraries) + 0.06 * max(len(x) for x in lists)
    fig = _new_figure(width, height)
    outer = fig.add_gridspec(1, 2, width_ratios=[width - side, side])
    grid = outer[0, 0].subgridspec(
        len(libraries), 1, height_ratios=[len(by_lib[lb]) + 0.8 for lb in libraries]
    )
    xpos = {name: i for i, name in enumerate(lists)}
    axes: list[Axes] = []
    for gi, lib in enumerate(libraries):
        ax = fig.add_subplot(grid[gi, 0], sharex=axes[0] if axes else None)
        axes.append(ax)
        terms = by_lib[lib]
        ypos = {t: len(terms) - 1 - j for j, t in enumerate(terms)}
        mine = (lib_col[sig.index] == lib).to_numpy()
        part = sig[mine]
        x = np.array([xpos[str(v)] for v in part["List"]], dtype=float)
        y = np.array([ypos[str(t)] for t in part["Term"]], dtype=float)
        c = cvals[mine]
        missing = ~np.isfinite(c)
        colors = np.empty((len(part), 4))
        colors[~missing] = cmap(norm(c[~missing]))
        colors[missing] = (0.6, 0.6, 0.6, 1.0)
        ax.scatter(
            x, y, s=area(ratio_all[mine]), c=colors, edgecolors="#222222", linewidths=0.5, zorder=3
        )
        ax.set_yticks(
            np.arange(len(terms))[::-1],
            [_text(lab) for lab in shorten_terms(terms, max_label)],
            fontsize=8,
        )
        ax.set_ylim(-0.7, len(terms) - 0.3)
        ax.set_xlim(-0.6, len(lists) - 0.4)
        ax.grid(color="#ececec", lw=0.6, zorder=0)
        ax.set_axisbelow(True)
        if len(libraries) > 1:
            ax.set_title(_text(lib), loc="left", fontsize=9, fontweight="bold")
        if gi < len(libraries) - 1:
            ax.tick_params(axis="x", labelbottom=False)
    rotate = max(len(x) for x in lists) > 6 or len(lists) > 8
    sep = " " if rotate else "\n"
    xlabels = [
        f"{name}{sep}({int(sizes[name])})"
        if name in sizes.index and sizes[name] == sizes[name]
        else name
        for name in lists
    ]
    axes[-1].set_xticks(np.arange(len(lists)), [_text(lab) for lab in xlabels], fontsize=8)
    if rotate:
        axes[-1].tick_params(axis="x", labelrotation=40)
        for lab in axes[-1].get_xticklabels():
            lab.set_horizontalalignment("right")
            lab.set_rotation_mode("anchor")
    from matplotlib.lines import Line2D

    ticks = sorted({round(float(v), 2) for v in np.linspace(top_ratio / 4, top_ratio, 3)})
    handles = [Line2D([], [], ls="none")] + [
        Line2D(
            [],
            [],
            ls="none",
            marker="o",
            markersize=math.sqrt(float(area(t))),
            markerfacecolor="#bbbbbb",
            markeredgecolor="#222222",
            markeredgewidth=0.5,
        )  # fmt: skip
        for t in ticks
    ]
    names = ["gene ratio (overlap / list)"] + [f"{t:g}" for t in ticks]
    key_ax = fig.add_subplot(outer[0, 1])
    _draw_key(key_ax, height, norm, cmap, clabel, color_by, (handles, names), spacing=1.1)
    what = (
        f"top {top} terms of each list"
        + (" (cluster representatives)" if representatives else "")
        + f"; a dot where adjusted p <= {threshold:g}; (n): genes recognized"
    )
    model = _method_of(results)
    fig.suptitle(
        _text(
            title
            if title is not None
            else _default_title(libraries, f"{len(lists)} lists", what, model)
        ),
        fontsize=10,
        x=0.02,
        ha="left",
    )
    empty = [name for name in lists if name not in set(sig["List"].astype(str))]
    if empty:
        shown = ", ".join(empty[:8]) + (f" (+{len(empty) - 8})" if len(empty) > 8 else "")
        fig.supxlabel(
            _text(f"No term at adjusted p <= {threshold:g}: {shown}"),
            fontsize=7, color="#444444", x=0.02, ha="left",
        )  # fmt: skip
    return fig


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
    path = check_plot_path(path)
    fig = comparison_figure(
        results,
        top=top,
        threshold=threshold,
        color_by=color_by,
        title=title,
        representatives=representatives,
    )
    return save_figure(fig, path, dpi=dpi)


# --------------------------------------------------------------------- enrichment map


def _spring(weights: np.ndarray, groups: np.ndarray, rng) -> np.ndarray:
    """Fruchterman-Reingold positions of one connected component, in [0, 1]^2."""
    n = len(weights)
    if n == 1:
        return np.array([[0.5, 0.5]])
    # Start each cluster on its own spot of a circle, so clusters begin apart.
    _, inv = np.unique(groups, return_inverse=True)
    angle = 2 * np.pi * inv / max(int(inv.max()) + 1, 1)
    pos = np.c_[np.cos(angle), np.sin(angle)] + rng.normal(scale=0.15, size=(n, 2))
    k = 1.0 / math.sqrt(n)
    iterations = 300
    temp = 0.1
    for it in range(iterations):
        delta = pos[:, None, :] - pos[None, :, :]
        dist = np.maximum(np.sqrt((delta**2).sum(-1)), 1e-3)
        force = k * k / dist**2 - weights * dist / k
        np.fill_diagonal(force, 0.0)
        disp = (delta * force[:, :, None]).sum(axis=1)
        length = np.maximum(np.sqrt((disp**2).sum(-1)), 1e-9)
        pos += disp / length[:, None] * np.minimum(length, temp)[:, None]
        temp = 0.1 * (1.0 - it / iterations) + 0.002
    pos -= pos.min(axis=0)
    return pos / max(float(pos.max()), 1e-9)


def _force_layout(weights: np.ndarray, groups: np.ndarray, *, seed: int = 0) -> np.ndarray:
    """Node positions: each connected component laid out by springs, components packed.

    Components are placed largest first in rows (boxes of side proportional to the
    square root of their size), so unconnected terms sit beside the map, not far away.
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(weights)
    rng = np.random.default_rng(seed)
    _, comp = connected_components(csr_matrix(weights > 0), directed=False)
    sizes = np.bincount(comp)
    order = np.argsort(-sizes, kind="stable")
    side = np.sqrt(sizes)
    row_width = max(float(side.max()), math.sqrt(float(sizes.sum())) * 1.4)
    pos = np.zeros((n, 2))
    x = y = row_height = 0.0
    for c in order.tolist():
        members = np.flatnonzero(comp == c)
        box = float(side[c])
        if x > 0 and x + box > row_width + 1e-9:
            x, y = 0.0, y - row_height - 0.35
            row_height = 0.0
        inner = _spring(weights[np.ix_(members, members)], groups[members], rng)
        pad = 0.2 if len(members) > 1 else 0.0
        pos[members] = np.c_[x + pad + inner[:, 0] * (box - pad), y - pad - inner[:, 1] * box]
        x += box + 0.35
        row_height = max(row_height, box)
    # Fill the square axes: scale each direction to [0, 1], but stretch one at most
    # twice as much as the other, and centre what is left.
    pos -= pos.min(axis=0)
    span = np.maximum(pos.max(axis=0), 1e-9)
    scale = 1.0 / span
    scale = np.minimum(scale, 2.0 * scale.min())
    pos *= scale
    return pos + (1.0 - pos.max(axis=0)) / 2.0


def _place_labels(fig, ax, pos: np.ndarray, radii: np.ndarray, texts: dict) -> None:
    """Move node labels clear of other labels and nodes.

    Each label (most significant node first) goes to the first of 8 directions and 2
    distances around its node that overlaps nothing, else to the least crowded one.
    """
    if not texts:
        return
    fig.draw_without_rendering()
    scale = fig.dpi / 72.0
    centers = ax.transData.transform(pos)
    discs = [(c[0], c[1], r * scale) for c, r in zip(centers, radii, strict=True)]
    placed: list[tuple[float, float, float, float]] = []
    dirs = [(0, 1), (0, -1), (1, 0), (-1, 0), (0.7, 0.7), (-0.7, 0.7), (0.7, -0.7), (-0.7, -0.7)]
    align = {-1: "right", 0: "center", 1: "left"}
    valign = {-1: "top", 0: "center", 1: "bottom"}

    def box(i, dx, dy, w, h):
        cx, cy = centers[i]
        x0 = cx + dx - (w / 2 if dx == 0 else (w if dx < 0 else 0))
        y0 = cy + dy - (h / 2 if dy == 0 else (h if dy < 0 else 0))
        return x0, y0, x0 + w, y0 + h

    def cost(b, i):
        total = 0.0
        for q in placed:
            w = min(b[2], q[2]) - max(b[0], q[0])
            h = min(b[3], q[3]) - max(b[1], q[1])
            if w > 0 and h > 0:
                total += w * h
        for j, (x, y, r) in enumerate(discs):
            if j != i and b[0] - r < x < b[2] + r and b[1] - r < y < b[3] + r:
                total += r * r
        ax_box = ax.get_window_extent()
        if b[0] < ax_box.x0 or b[2] > ax_box.x1 or b[1] < ax_box.y0 or b[3] > ax_box.y1:
            total += 1e6
        return total

    renderer = fig.canvas.get_renderer()
    for i, text in texts.items():
        ext = text.get_window_extent(renderer)
        w, h = ext.width, ext.height
        best: tuple[float, float, float, Any, float, float] | None = None
        for reach in (1.0, 2.2):
            for ux, uy in dirs:
                d = (radii[i] + 2) * scale * reach
                dx, dy = ux * d, uy * d
                b = box(i, dx, dy, w, h)
                c = cost(b, i)
                if best is None or c < best[0]:
                    best = (c, dx, dy, b, ux, uy)
            if best is not None and best[0] == 0:
                break
        assert best is not None  # dirs is never empty
        _, dx, dy, b, ux, uy = best
        text.set_position((dx / scale, dy / scale))
        text.set_ha(align[int(np.sign(round(ux)))])
        text.set_va(valign[int(np.sign(round(uy)))])
        placed.append(b)


def _wrap(text: str, width: int = 24) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width=width, break_long_words=False)) or text


def enrichment_map_figure(
    df: pd.DataFrame,
    *,
    top: int = 30,
    method: str = "kappa",
    threshold: float | None = None,
    p_cutoff: float = 0.05,
    gene_sets: Mapping[str, Iterable[str]] | None = None,
    title: str | None = None,
    list_name: str | None = None,
    label: str = "representatives",
    max_label: int = 60,
    seed: int = 0,
) -> Figure:
    """Enrichment map: terms as nodes, edges where their gene similarity passes the threshold.

    Nodes are the ``top`` most significant clustered terms; colour = cluster
    (:func:`gsea_plus.cluster.cluster_terms`, run here unless ``df`` already has a
    ``Cluster`` column), size = overlap (list genes; with the model, list + predicted
    genes; a preranked result: the leading edge). Edges join terms whose similarity (the
    clustering's measure over the same genes) is at least ``threshold``; width follows
    the similarity. Placement: a force-directed layout, fixed by ``seed``.

    Parameters
    ----------
    df
        Results of one list (``enrich`` or ``prerank``).
    top
        Nodes: the most significant clustered terms.
    method, threshold, p_cutoff, gene_sets
        As in :func:`gsea_plus.cluster.cluster_terms` (used when ``df`` is not
        clustered yet, and for the edges).
    title, list_name
        Figure title, or the list's name for the default title.
    label
        ``"representatives"`` (each cluster's representative named; every node when
        there are 12 or fewer) or ``"all"``.
    max_label
        Longest node label.
    seed
        Seed of the layout's starting positions.
    """
    from gsea_plus.cluster import (
        DEFAULT_THRESHOLDS,
        cluster_terms,
        describe_rule,
        kappa_universe,
        similarity_matrix,
        term_gene_sets,
    )

    if label not in ("representatives", "all"):
        raise InputError("label must be 'representatives' or 'all'")
    if df is None or len(df) == 0:
        raise InputError("--plot: no term for the enrichment map")
    if "List" in df.columns and df["List"].nunique() > 1:
        raise InputError("the enrichment map shows one list: select its rows first")
    if threshold is None:
        threshold = DEFAULT_THRESHOLDS[method]
    data = df
    if "Cluster" not in data.columns:
        data = cluster_terms(
            data, method=method, threshold=threshold, p_cutoff=p_cutoff, gene_sets=gene_sets
        )
    p_col = _p_column(data)
    data = data[data["Cluster"].notna()]
    if len(data) == 0:
        raise InputError(f"--plot: no term with adjusted p <= {p_cutoff:g} for the enrichment map")
    if len(data) < 2:
        raise InputError(
            f"--plot: the enrichment map needs at least 2 terms with adjusted p <= {p_cutoff:g}"
        )
    data = data.sort_values([p_col], kind="stable").head(top).reset_index(drop=True)
    sets = term_gene_sets(data, gene_sets=gene_sets)
    n = kappa_universe(data, sets, gene_sets)
    sim = similarity_matrix(sets, method=method, universe_size=n)
    adj = np.where(sim >= threshold, sim, 0.0)
    np.fill_diagonal(adj, 0.0)
    cluster = data["Cluster"].astype(int).to_numpy()
    pos = _force_layout(adj, cluster, seed=seed)
    counts, size_label = _overlap_counts(data)
    area, size_ticks = _size_scale(counts)
    order = list(dict.fromkeys(sorted(cluster.tolist())))
    colored = order[: len(_CLUSTER_COLORS)]
    color_of = {c: _CLUSTER_COLORS[i] for i, c in enumerate(colored)}
    node_colors = [color_of.get(c, "#cfcfcf") for c in cluster]

    n = len(data)
    fig = _new_figure(10.0, 7.2)
    grid = fig.add_gridspec(1, 2, width_ratios=[7.0, 3.0])
    ax = fig.add_subplot(grid[0, 0])
    ii, jj = np.nonzero(np.triu(adj))
    for a, b in zip(ii.tolist(), jj.tolist(), strict=True):
        ax.plot(
            pos[[a, b], 0], pos[[a, b], 1], color="#9a9a9a",
            lw=0.4 + 2.2 * (adj[a, b] - threshold) / max(1 - threshold, 1e-9),
            alpha=0.55, zorder=1, solid_capstyle="round",
        )  # fmt: skip
    evidence = evidence_of(data)
    marks = evidence.to_numpy() if evidence is not None else np.array(["list"] * n)
    for kind_ev, marker in _EVIDENCE_MARKERS.items():
        sel = marks == kind_ev
        if sel.any():
            ax.scatter(
                pos[sel, 0], pos[sel, 1], s=area(counts[sel]) * 1.3,
                c=[node_colors[i] for i in np.flatnonzero(sel)], marker=marker,
                edgecolors="#222222", linewidths=0.6, zorder=3,
            )  # fmt: skip
    rep = data["Representative"].astype(bool).to_numpy()
    show = np.ones(n, dtype=bool) if (label == "all" or n <= 12) else rep
    short = shorten_terms(data["Term"], max_label)
    ax.set_xlim(-0.1, 1.1)
    ax.set_ylim(-0.1, 1.1)
    radii = np.sqrt(area(counts) * 1.3) / 2  # points
    texts = {
        int(i): ax.annotate(
            _text(_wrap(short[i], 26)),
            pos[i],
            xytext=(0, radii[i] + 2),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=6.5,
            fontweight="bold" if rep[i] else "normal",
            zorder=4,
            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.75},
        )
        for i in np.flatnonzero(show)
    }
    _place_labels(fig, ax, pos, radii, texts)
    ax.axis("off")

    from matplotlib.lines import Line2D

    key = fig.add_subplot(grid[0, 1])
    key.axis("off")
    sizes_of = data.groupby("Cluster")["Cluster Size"].first()
    handles, names = [Line2D([], [], ls="none")], ["cluster: representative (terms)"]
    for c in colored:
        rep_term = data.loc[(cluster == c) & rep, "Term"]
        name = rep_term.iloc[0] if len(rep_term) else data.loc[cluster == c, "Term"].iloc[0]
        handles.append(
            Line2D([], [], ls="none", marker="o", markersize=7, markerfacecolor=color_of[c],
                   markeredgecolor="#222222", markeredgewidth=0.5)
        )  # fmt: skip
        plain = TERM_ID.sub("", str(name))
        plain = plain if len(plain) <= 38 else plain[:37].rstrip() + ELLIPSIS
        names.append(_text(f"{c}: {plain} ({int(sizes_of[c])})"))
    if len(order) > len(colored):
        handles.append(
            Line2D([], [], ls="none", marker="o", markersize=7, markerfacecolor="#cfcfcf",
                   markeredgecolor="#222222", markeredgewidth=0.5)
        )  # fmt: skip
        names.append(f"{len(order) - len(colored)} more clusters")
    handles.append(Line2D([], [], ls="none"))
    names.append(size_label)
    for k in size_ticks:
        handles.append(
            Line2D([], [], ls="none", marker="o", markersize=math.sqrt(float(area(k)) * 1.3),
                   markerfacecolor="#eeeeee", markeredgecolor="#222222", markeredgewidth=0.5)
        )  # fmt: skip
        names.append(str(k))
    if evidence is not None:
        handles.append(Line2D([], [], ls="none"))
        names.append("evidence")
        for e in ("list", "list+model", "model"):
            handles.append(
                Line2D([], [], ls="none", marker=_EVIDENCE_MARKERS[e], markersize=7,
                       markerfacecolor="#eeeeee", markeredgecolor="#222222")
            )  # fmt: skip
            names.append(_EVIDENCE_LABELS[e])
    legend = key.legend(
        handles, names, loc="upper left", fontsize=7, frameon=False, labelspacing=0.9,
        borderpad=0.0, handletextpad=0.6,
    )  # fmt: skip
    for handle, text in zip(legend.legend_handles, legend.get_texts(), strict=True):
        if getattr(handle, "get_marker", lambda: None)() in ("None", None, ""):
            text.set_fontweight("bold")
    libs = sorted({str(x) for x in data.get("Library", [])})
    what = f"enrichment map of the top {n} terms"
    fig.suptitle(
        _text(title if title is not None else _default_title(libs, list_name, what, "")),
        fontsize=10,
        x=0.02,
        ha="left",
    )
    caption = (
        f"Edges: {method} >= {threshold:g}. "
        + describe_rule(method, threshold, p_cutoff=p_cutoff, full_sets=gene_sets is not None)
        + (" Evidence: gene set model." if evidence is not None else "")
    )
    fig.supxlabel(_text(_wrap(caption, 150)), fontsize=7, color="#444444", x=0.02, ha="left")
    return fig


def plot_enrichment_map(
    df: pd.DataFrame,
    path: str | Path,
    *,
    top: int = 30,
    method: str = "kappa",
    threshold: float | None = None,
    p_cutoff: float = 0.05,
    gene_sets: Mapping[str, Iterable[str]] | None = None,
    title: str | None = None,
    list_name: str | None = None,
    dpi: int = 200,
) -> Path:
    """Write :func:`enrichment_map_figure` to ``path``."""
    path = check_plot_path(path)
    fig = enrichment_map_figure(
        df,
        top=top,
        method=method,
        threshold=threshold,
        p_cutoff=p_cutoff,
        gene_sets=gene_sets,
        title=title,
        list_name=list_name,
    )
    return save_figure(fig, path, dpi=dpi)


# --------------------------------------------------------------------------- prerank NES


def nes_figure(
    result: pd.DataFrame,
    *,
    top: int = 20,
    threshold: float = 0.05,
    title: str | None = None,
    signature_name: str | None = None,
    max_label: int = LABEL_CHARS,
) -> Figure:
    """The top terms of a preranked result as NES bars, one panel per library.

    Terms: the ``top`` lowest FDR (then p) per library, drawn in NES order; colour =
    FDR; terms above the FDR ``threshold`` are drawn pale.

    Parameters
    ----------
    result
        Results of :func:`gsea_plus.prerank.prerank`.
    top
        Terms per library.
    threshold
        FDR at or below which a term is significant.
    title, signature_name
        Figure title, or the signature's name for the default title.
    max_label
        Longest term label (IDs kept whole).
    """
    if result is None or len(result) == 0:
        raise InputError("--plot: no term to plot")
    groups = []
    for lib, g in _library_groups(result):
        g = g.sort_values(["FDR", "P-value"], kind="stable").head(top)
        groups.append((lib, g.sort_values("NES", kind="stable")))
    import pandas as pd

    shown = pd.concat([g for _, g in groups])
    fdr = np.asarray(shown["FDR"], dtype=float)
    cvals, norm, cmap, clabel = _color_scale(fdr, "p")
    clabel = "FDR"
    n_rows = len(shown)
    longest = max(len(lab) for lab in shorten_terms(shown["Term"], max_label))
    side = 1.7
    width = min(15.0, 3.6 + side + 0.062 * longest)
    height = 1.9 + 0.27 * n_rows + 0.35 * len(groups)
    fig = _new_figure(width, height)
    outer = fig.add_gridspec(1, 2, width_ratios=[width - side, side])
    grid = outer[0, 0].subgridspec(len(groups), 1, height_ratios=[len(g) + 0.6 for _, g in groups])
    nes_all = np.asarray(shown["NES"], dtype=float)
    lim = max(float(np.nanmax(np.abs(nes_all))), 1.0) * 1.08
    axes: list[Axes] = []
    offset = 0
    for i, (lib, g) in enumerate(groups):
        ax = fig.add_subplot(grid[i, 0], sharex=axes[0] if axes else None)
        axes.append(ax)
        sl = slice(offset, offset + len(g))
        y = np.arange(len(g))
        colors = cmap(norm(cvals[sl]))
        weak = fdr[sl] > threshold
        colors[weak, 3] = 0.35
        ax.barh(y, nes_all[sl], color=colors, height=0.72, edgecolor="none")
        ax.axvline(0, color=_LINE, lw=0.8)
        ax.set_yticks(y, [_text(lab) for lab in shorten_terms(g["Term"], max_label)], fontsize=8)
        ax.set_ylim(-0.7, len(g) - 0.3)
        ax.grid(axis="x", color="#e6e6e6", lw=0.6, zorder=0)
        ax.set_axisbelow(True)
        for spine in ("top", "right"):
            ax.spines[spine].set_visible(False)
        if len(groups) > 1:
            ax.set_title(_text(lib), loc="left", fontsize=9, fontweight="bold")
        if i < len(groups) - 1:
            ax.tick_params(axis="x", labelbottom=False)
        offset += len(g)
    axes[0].set_xlim(-lim, lim)
    axes[-1].set_xlabel("normalized enrichment score (NES)")
    from matplotlib.patches import Patch

    entries = (
        [Patch(facecolor="#555555"), Patch(facecolor="#555555", alpha=0.35)],
        [f"FDR <= {threshold:g}", f"FDR > {threshold:g}"],
    )
    _draw_key(fig.add_subplot(outer[0, 1]), height, norm, cmap, clabel, "p", entries)
    libraries = [lib for lib, _ in groups]
    head = title
    if head is None:
        head = _default_title(libraries, signature_name, f"top {top} terms by FDR", "")
    fig.suptitle(_text(head), fontsize=10, x=0.02, ha="left")
    return fig
