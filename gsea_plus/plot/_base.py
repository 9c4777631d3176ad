"""What every figure shares: a canvas, the one save helper, scales, marks and the side key.

Figures are built with matplotlib's object API (no pyplot state, no backend switch, no
rcParams changed), so a notebook's own settings are untouched; matplotlib is imported
inside the functions, so importing :mod:`gsea_plus.plot` stays cheap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from gsea_plus.errors import InputError, MissingExtraError
from gsea_plus.options import PLOT_SUFFIXES

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.colors import Colormap, Normalize
    from matplotlib.figure import Figure

#: Marker of every dot (dot plot, comparison, map): the size legend draws the same shape.
MARKER = "o"
#: Evidence of a model-based row, drawn on the dot's edge (shape and size stay the data's);
#: a term the model alone found also gets a white centre (:data:`MODEL_ONLY_CENTRE`).
EVIDENCE_EDGES: dict[str, dict[str, Any]] = {
    "list": {"edgecolors": "#222222", "linewidths": 0.5},
    "list+model": {"edgecolors": "#a3208f", "linewidths": 1.6},
    "model": {"edgecolors": "#a3208f", "linewidths": 1.6},
}
#: Area of the white centre of a model-only dot, as a share of the dot's area.
MODEL_ONLY_CENTRE = 0.12
EVIDENCE_LABELS = {
    "list": "list genes",
    "list+model": "list genes + model",
    "model": "model only",
}
GREY = "#9a9a9a"
LINE = "#555555"
MODEL = "#a3208f"
CLUSTER_COLORS = (
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
    from gsea_plus.output import check_figure_path

    check_figure_path("--plot", path, PLOT_SUFFIXES)
    return Path(path)


def plot_format(path: str | Path) -> str:
    """The figure format of an output: its suffix (png, svg, pdf), else PNG (a device)."""
    suffix = Path(path).suffix.lower()
    return suffix.lstrip(".") if suffix in PLOT_SUFFIXES else "png"


def new_figure(width: float, height: float) -> Figure:
    """A figure with its own Agg canvas (a renderer for measuring text; no pyplot)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:  # a broken install: matplotlib is a dependency
        raise MissingExtraError(
            "plotting needs matplotlib, a dependency of gsea-plus: pip install matplotlib"
        ) from exc
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


_RC: Any = {"svg.fonttype": "none", "pdf.fonttype": 42, "svg.hashsalt": "gsea-plus"}


def save_figure(fig: Figure, path: str | Path, *, dpi: int = 200) -> Path:
    """Write a figure in the format of the file's suffix (a file atomically; a device directly).

    SVG keeps text as text (searchable, editable), PDF embeds TrueType fonts (editable
    in Illustrator/Inkscape), PNG is drawn at ``dpi``. No date is written, so the same
    input gives the same file. Every ``plot_*`` function writes through here.
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
    """The figure as SVG text (text kept as text, no date): what the report inlines."""
    import io

    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context(_RC):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    return buf.getvalue()


# ---------------------------------------------------------------------------- the data


def text(value) -> str:
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


def method_of(df: pd.DataFrame) -> str:
    """The model methods of the rows (``Method`` column), or "" for classical results."""
    if "Method" in df.columns and len(df):
        methods = sorted({str(m) for m in df["Method"].dropna()})
        return ", ".join(methods)
    return ""


def p_column(df: pd.DataFrame) -> str:
    """``Adjusted P-value`` (enrich, batch) or ``FDR`` (prerank)."""
    for col in ("Adjusted P-value", "FDR"):
        if col in df.columns:
            return col
    raise InputError("the results have no 'Adjusted P-value' column")


def neglog10(p) -> np.ndarray:
    """-log10 p, with p = 0 (underflow) drawn at 300."""
    p = np.asarray(p, dtype=np.float64)
    return -np.log10(np.clip(p, 1e-300, 1.0))


def top_rows(df: pd.DataFrame, top: int, *, representatives: bool) -> pd.DataFrame:
    """The ``top`` rows by adjusted p (then p); only representatives when asked for."""
    if representatives:
        if "Representative" not in df.columns:
            raise InputError("--representatives needs clustered results (--cluster)")
        df = df[df["Representative"].astype(bool)]
    p_col = p_column(df)
    keys = [p_col] + (["P-value"] if "P-value" in df.columns else [])
    return df.sort_values(keys, kind="stable").head(top)


def library_groups(d: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """``(library, rows)`` per library in order of appearance (one group without Library)."""
    if "Library" not in d.columns:
        return [("", d)]
    import pandas as pd

    return [(str(lib), d[d["Library"] == lib]) for lib in pd.unique(d["Library"])]


def overlap_counts(d: pd.DataFrame) -> tuple[np.ndarray, str]:
    """What a dot's size shows: the overlap (plus predicted genes), or the leading edge."""
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


def default_title(libraries, list_name: str | None, what: str, model: str) -> str:
    """Two lines: list and library, then what is shown (and the model's evidence)."""
    parts = [str(list_name)] if list_name else []
    if len(libraries) == 1 and libraries[0]:
        parts.append(libraries[0])
    head = " \u00b7 ".join(parts) if parts else "Enrichment"
    sub = what + (f"; model-based evidence ({model})" if model else "")
    return f"{head}\n{sub}"


def finish_axes(ax: Axes, *, grid: Literal["both", "x", "y"] = "x") -> None:
    """The look every panel shares: light grid behind the data, no top/right spines."""
    ax.grid(axis=grid, color="#e6e6e6", lw=0.6, zorder=0)
    ax.set_axisbelow(True)
    for spine in ("top", "right"):
        ax.spines[spine].set_visible(False)


# ------------------------------------------------------------------------------ scales


@dataclass
class ColorScale:
    """How values become colours: the values drawn, the norm, the map and the bar's text.

    ``extend`` is the colourbar's ``extend`` (``"min"``, ``"max"``, ``"both"`` or
    ``"neither"``): which ends were clipped so that one extreme value does not turn every
    other dot the same colour.
    """

    values: np.ndarray
    norm: Normalize
    cmap: Colormap
    label: str
    extend: str = "neither"

    def colors(self, values: np.ndarray) -> np.ndarray:
        """RGBA per value; missing values grey."""
        out = np.empty((len(values), 4))
        missing = ~np.isfinite(values)
        out[~missing] = self.cmap(self.norm(values[~missing]))
        out[missing] = (0.6, 0.6, 0.6, 1.0)
        return out


def p_cmap() -> Colormap:
    """Dark = most significant; the light yellow end is cut so weak dots stay visible."""
    from matplotlib import colormaps
    from matplotlib.colors import ListedColormap

    return ListedColormap(colormaps["plasma"](np.linspace(0.0, 0.82, 256)), name="gsea_p")


def robust_limits(logs: np.ndarray, *, fence: float = 1.5) -> tuple[float, float, str]:
    """Limits of a log-scale colour (or axis) range that outliers do not set.

    Tukey's fences on the values (``fence`` x the interquartile range, at least one unit
    wide): the limits are the most extreme values within the fences. Returns ``(low,
    high, extend)``, ``extend`` naming the ends where values lie beyond a limit.
    """
    finite = logs[np.isfinite(logs)]
    if len(finite) == 0:
        return -3.0, 0.0, "neither"
    q1, q3 = np.percentile(finite, [25, 75])
    iqr = max(q3 - q1, 1.0)
    inside = finite[(finite >= q1 - fence * iqr) & (finite <= q3 + fence * iqr)]
    lo, hi = float(inside.min()), float(inside.max())
    clipped_lo, clipped_hi = bool((finite < lo).any()), bool((finite > hi).any())
    extend = {(True, True): "both", (True, False): "min", (False, True): "max"}.get(
        (clipped_lo, clipped_hi), "neither"
    )
    return lo, hi, extend


def color_scale(values: np.ndarray, color_by: str) -> ColorScale:
    """The colour of dots/bars: adjusted p on a log scale, or the combined score.

    Limits come from the bulk of the values (:func:`robust_limits` in log space): a single
    p of 1e-90 among p-values of 1e-2..1e-6 is clipped (the colourbar gets a pointed end and
    its label says so) instead of squeezing every other dot into one colour.
    """
    from matplotlib import colormaps
    from matplotlib.colors import LogNorm, Normalize

    values = np.asarray(values, dtype=np.float64)
    if color_by == "p":
        v = np.clip(values, 1e-300, 1.0)
        lo, hi, extend = robust_limits(np.log10(v))
        if hi - lo < 0.3:  # one value, or all alike: a decade around them
            lo, hi = lo - 0.5, min(0.0, hi + 0.5) if hi + 0.5 > lo else lo + 1.0
        label = "adjusted p-value" + (" (clipped)" if extend != "neither" else "")
        norm = LogNorm(vmin=10.0**lo, vmax=10.0**hi, clip=False)
        return ColorScale(v, norm, p_cmap(), label, extend)
    cmap = colormaps["viridis"]
    finite = values[np.isfinite(values)]
    positive = finite[finite > 0]
    if len(positive) and positive.max() / max(positive.min(), 1e-12) > 50:
        lo, hi, extend = robust_limits(np.log10(positive))
        label = "combined score" + (" (clipped)" if extend != "neither" else "")
        clipped = np.where(np.isfinite(values), np.clip(values, 10.0**lo, None), values)
        return ColorScale(clipped, LogNorm(vmin=10.0**lo, vmax=10.0**hi), cmap, label, extend)
    hi = float(positive.max()) if len(positive) else 1.0
    lo = float(finite.min()) if len(finite) else 0.0
    return ColorScale(values, Normalize(vmin=min(lo, 0.0), vmax=hi), cmap, "combined score")


def size_scale(counts: np.ndarray, *, small: float = 36.0, big: float = 300.0):
    """Marker area (pt^2) for an overlap count, and nice legend values."""
    finite = counts[np.isfinite(counts)]
    top = max(float(finite.max()) if len(finite) else 1.0, 1.0)

    def area(k):
        k = np.clip(np.asarray(k, dtype=float), 0, None)
        return small + (big - small) * k / top

    lo = max(float(finite.min()) if len(finite) else 1.0, 1.0)
    cand = sorted({int(round(x)) for x in np.geomspace(lo, top, 3)} | {int(top)})
    cand = [c for c in cand if c >= 1]
    if len(cand) > 3:
        cand = [cand[0], cand[len(cand) // 2], cand[-1]]
    return area, cand


def value_limits(xs: np.ndarray, line: float, *, start_at_zero: bool) -> tuple[float, float, float]:
    """The x limits of -log10 p from the data, with the threshold line in view.

    The upper limit is the largest value within Tukey's far fence (3 x IQR above the
    upper quartile, at least 2 units): one term at p = 1e-90 does not stretch the axis to
    90 and squash every other dot and the FDR line against zero; values beyond it are
    drawn at the edge and labelled with their value. Returns ``(low, high, cut)`` where
    ``cut`` is the value above which rows are drawn at the edge (``inf``: none).
    """
    v = xs[np.isfinite(xs)]
    if len(v) == 0:
        return 0.0, line * 1.2, math.inf
    top = float(v.max())
    cut = math.inf
    if len(v) >= 4:
        q1, q3 = np.percentile(v, [25, 75])
        fence = q3 + 3.0 * max(q3 - q1, 2.0)
        if top > fence:
            top = float(v[v <= fence].max())
            cut = top
    # room at the right for the dots drawn at the edge (see ``edge``) and their values
    high = max(top, line) * (1.08 if math.isinf(cut) else 1.16) + 0.05
    if start_at_zero:
        low = 0.0
    else:
        low = max(0.0, min(float(v.min()), line) - 0.06 * (high - min(float(v.min()), line)))
    return low, high, cut


# --------------------------------------------------------------------------- the key


def size_handles(area, ticks, label: str, *, scale: float = 1.0) -> tuple[list, list[str]]:
    """Legend entries of dot sizes, in the dots' own marker shape (:data:`MARKER`)."""
    from matplotlib.lines import Line2D

    handles: list = [Line2D([], [], ls="none")]
    names = [label]
    for k in ticks:
        handles.append(
            Line2D(
                [], [], ls="none", marker=MARKER, markersize=math.sqrt(float(area(k)) * scale),
                markerfacecolor="#bbbbbb", markeredgecolor="#222222", markeredgewidth=0.5,
            )
        )  # fmt: skip
        names.append(f"{k:g}" if isinstance(k, float) else str(k))
    return handles, names


def evidence_handles(kinds=("list", "list+model", "model")) -> tuple[list, list[str]]:
    """Legend entries of the evidence edges (model-based results)."""
    from matplotlib.lines import Line2D

    handles: list = [Line2D([], [], ls="none")]
    names = ["evidence"]
    for e in kinds:
        edge = EVIDENCE_EDGES[e]
        dot = Line2D(
            [], [], ls="none", marker=MARKER, markersize=9, markerfacecolor="#bbbbbb",
            markeredgecolor=edge["edgecolors"], markeredgewidth=edge["linewidths"],
        )  # fmt: skip
        if e == "model":  # the white centre drawn over the dot, as in the figure
            centre = Line2D(
                [], [], ls="none", marker=MARKER, markeredgewidth=0, markerfacecolor="white",
                markersize=9 * math.sqrt(MODEL_ONLY_CENTRE),
            )  # fmt: skip
            handles.append((dot, centre))
        else:
            handles.append(dot)
        names.append(EVIDENCE_LABELS[e] + (" (white centre)" if e == "model" else ""))
    return handles, names


def scatter_by_evidence(ax: Axes, x, y, sizes, colors, evidence, **extra) -> None:
    """Dots in :data:`MARKER`; with model evidence, each kind with its own edge."""
    marks = np.asarray(evidence) if evidence is not None else np.full(len(x), "list")
    x, y, sizes = np.asarray(x), np.asarray(y), np.asarray(sizes)
    for kind, edge in EVIDENCE_EDGES.items():
        sel = marks == kind
        if sel.any():
            ax.scatter(
                x[sel], y[sel], s=sizes[sel], c=np.asarray(colors)[sel], marker=MARKER,
                zorder=3, **edge, **extra,
            )  # fmt: skip
    model = marks == "model"
    if model.any():
        ax.scatter(
            x[model], y[model], s=sizes[model] * MODEL_ONLY_CENTRE, c="white", marker=MARKER,
            linewidths=0, zorder=3.5,
        )  # fmt: skip


def draw_key(key: Axes, height: float, scale: ColorScale, color_by: str, entries, *, spacing=0.6):
    """Colour bar and legends in the side axes ``key`` of a figure ``height`` inches tall."""
    from matplotlib.cm import ScalarMappable

    key.axis("off")
    frac = min(0.42, 2.0 / max(height - 0.8, 1.0))
    cax = key.inset_axes((0.02, 1.0 - frac, 0.12, frac))
    cbar = key.figure.colorbar(
        ScalarMappable(norm=scale.norm, cmap=scale.cmap), cax=cax, extend=scale.extend
    )
    cbar.set_label(scale.label, fontsize=8)
    cbar.ax.tick_params(labelsize=7)
    if color_by == "p":
        _p_ticks(cbar)
    handles, names = entries
    legend = key.legend(
        handles, names, loc="upper left", bbox_to_anchor=(0.0, 1.0 - frac - 0.05), fontsize=7,
        frameon=False, labelspacing=spacing, borderpad=0.0, handletextpad=0.6,
    )  # fmt: skip
    bold_headings(legend)


def _p_ticks(cbar) -> None:
    """Decade ticks on a p-value colour bar, most significant at the top."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullLocator

    norm = cbar.norm
    decades = math.log10(norm.vmax / norm.vmin)
    if decades <= 3:
        cbar.ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    else:
        step = max(1, math.ceil(decades / 6))
        top = math.floor(math.log10(norm.vmax))
        ticks = [10.0**e for e in range(math.ceil(math.log10(norm.vmin)), top + 1, step)]
        cbar.ax.yaxis.set_major_locator(FixedLocator(ticks))
    cbar.ax.yaxis.set_minor_locator(NullLocator())
    cbar.ax.yaxis.set_major_formatter(
        FuncFormatter(lambda v, _: f"{v:.0e}" if v < 1e-3 else f"{v:g}")
    )
    cbar.ax.invert_yaxis()


def bold_headings(legend) -> None:
    """Legend rows with neither marker nor line are headings: bold."""
    for handle, label in zip(legend.legend_handles, legend.get_texts(), strict=True):
        marker = getattr(handle, "get_marker", lambda: "x")()
        style = getattr(handle, "get_linestyle", lambda: "-")()
        if marker in ("None", None, "") and style in ("None", "none", ""):
            label.set_fontweight("bold")


def threshold_handle(threshold: float) -> tuple[list, list[str]]:
    """The legend entry of the dashed adjusted-p line."""
    from matplotlib.lines import Line2D

    return [Line2D([], [], color=LINE, ls="--", lw=0.9)], [f"adjusted p = {threshold:g}"]


def panels(
    width: float, height: float, ratios: list[float], *, side: float, titles: list[str]
) -> tuple[Figure, list[Axes], Axes]:
    """A figure of stacked panels sharing x (one per library) and a side axes for the key.

    Panels are titled (when there are several) and only the last shows x tick labels.
    """
    fig = new_figure(width, height)
    outer = fig.add_gridspec(1, 2, width_ratios=[width - side, side])
    grid = outer[0, 0].subgridspec(len(ratios), 1, height_ratios=ratios)
    axes: list[Axes] = []
    for i, name in enumerate(titles):
        ax = fig.add_subplot(grid[i, 0], sharex=axes[0] if axes else None)
        axes.append(ax)
        if len(titles) > 1:
            ax.set_title(text(name), loc="left", fontsize=9, fontweight="bold")
        if i < len(titles) - 1:
            ax.tick_params(axis="x", labelbottom=False)
    return fig, axes, fig.add_subplot(outer[0, 1])


def head_and_caption(fig: Figure, head: str, caption: str = "", *, width: float = 0) -> None:
    """The figure's title (top left) and its caption (bottom left, wrapped to the width)."""
    fig.suptitle(text(head), fontsize=10, x=0.02, ha="left")
    if caption:
        import textwrap

        chars = int((width or fig.get_figwidth()) * 16)  # 7-pt text: ~16 characters an inch
        wrapped = "\n".join(textwrap.wrap(caption, chars, break_long_words=False))
        fig.supxlabel(text(wrapped), fontsize=7, color="#444444", x=0.02, ha="left")
