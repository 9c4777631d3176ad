"""GSEA running sums of a few terms, stacked (as gseapy's ``gseaplot2``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gsea_plus.errors import InputError
from gsea_plus.plot._base import (
    CLUSTER_COLORS,
    head_and_caption,
    new_figure,
    save_figure,
    text,
)
from gsea_plus.terms import shorten_terms

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["MAX_RUNNING_SUM_TERMS", "plot_running_sum", "running_sum_figure"]

#: Terms one running-sum figure can stack.
MAX_RUNNING_SUM_TERMS = 6


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

    Top: the legend (term, NES, FDR), in its own row so that it never covers a curve.
    Then the running sum of each term, its leading edge shaded (from the start to the
    peak for a positive ES, from the trough to the end for a negative one); the term's
    genes along the ranking, one row per term, leading-edge hits dark; the ranked metric.

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
    from gsea_plus.prerank import Signature, read_signature

    if result is None or len(result) == 0:
        raise InputError("--plot: no term to plot")
    sig = signature if isinstance(signature, Signature) else read_signature(signature)
    rows = _resolve_terms(result.reset_index(drop=True), terms)
    members = _term_members(rows, gene_sets, library, offline)
    k = len(rows)
    fig, (ax_key, ax, ax_hits, ax_rank) = _canvas(k)
    colors = CLUSTER_COLORS if k > 1 else ("#2E8B57",)
    labels = shorten_terms(rows["Term"], max_label)
    for i, ((_, row), genes, label) in enumerate(
        zip(rows.iterrows(), members, labels, strict=True)
    ):
        _one_term(ax, ax_hits, sig, row, genes, label, colors[i % len(colors)], k - 1 - i, weight)
    ax.axhline(0, color="#888888", lw=0.6)
    ax.set_ylabel("running enrichment score")
    ax.tick_params(axis="x", labelbottom=False)
    for spine in ("top", "right"):
        ax.spines[spine].set_visible(False)
    handles, names = ax.get_legend_handles_labels()
    ax_key.axis("off")
    ax_key.legend(
        handles, names, loc="lower left", fontsize=7, frameon=False, borderaxespad=0.0,
        ncols=1, handlelength=1.6,
    )  # fmt: skip
    _hits_frame(ax_hits, k)
    _ranked_metric(ax_rank, sig)
    head = title or (
        f"{signature_name} \u00b7 preranked GSEA" if signature_name else "Preranked GSEA"
    )
    libs = sorted({str(x) for x in rows.get("Library", [])})
    if title is None and libs:
        head += "\n" + ", ".join(libs)
    head_and_caption(
        fig, head, "Shaded: leading edge (genes before the peak, or after the trough for a "
        "negative ES); dark ticks: leading-edge genes.",
    )  # fmt: skip
    return fig


def _canvas(k: int) -> tuple[Figure, list[Axes]]:
    """Rows top to bottom: the legend, the running sums, the hits of ``k`` terms, the metric."""
    fig = new_figure(7.6, 4.3 + 0.38 * k)
    grid = fig.add_gridspec(
        4, 1, height_ratios=[0.2 + 0.19 * k, 3.0, 0.28 * k + 0.2, 1.2], hspace=0.02
    )
    ax = fig.add_subplot(grid[1])
    key = fig.add_subplot(grid[0])
    return fig, [key, ax, fig.add_subplot(grid[2], sharex=ax), fig.add_subplot(grid[3], sharex=ax)]


def _hits_frame(ax_hits: Axes, k: int) -> None:
    ax_hits.set_ylim(0, k)
    ax_hits.set_yticks([])
    ax_hits.tick_params(axis="x", labelbottom=False, length=0)
    for border in ax_hits.spines.values():
        border.set_color("#bbbbbb")


def _one_term(ax: Axes, ax_hits: Axes, sig, row, genes, label, color, base, weight) -> None:
    """One term's running sum (leading edge shaded, peak marked) and its hits."""
    from gsea_plus.prerank import running_sum

    xs = np.arange(len(sig))
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
    ax.plot(idx, shown, color=color, lw=1.4, label=text(f"{label}  ({', '.join(stats)})"))
    ax.fill_between(idx, 0, shown, where=edge[idx], color=color, alpha=0.14, lw=0, rasterized=True)
    ax.plot([peak, peak], [0, rs[peak]], color=color, ls="--", lw=0.8)
    hit_edge = edge[positions]
    ax_hits.vlines(
        positions[hit_edge], base + 0.1, base + 0.9, color=color, lw=0.7, rasterized=True
    )
    ax_hits.vlines(
        positions[~hit_edge], base + 0.1, base + 0.9, color=color, lw=0.5, alpha=0.35,
        rasterized=True,
    )  # fmt: skip


def _ranked_metric(ax_rank: Axes, sig) -> None:
    """The ranked metric below the hits: positive red, negative blue, the zero crossing."""
    n = len(sig)
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
