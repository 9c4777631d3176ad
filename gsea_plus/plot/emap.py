"""The enrichment map of one list: terms as nodes, edges where their genes agree."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gsea_plus.errors import InputError
from gsea_plus.plot._base import (
    CLUSTER_COLORS,
    MARKER,
    bold_headings,
    default_title,
    evidence_handles,
    evidence_of,
    head_and_caption,
    new_figure,
    overlap_counts,
    p_column,
    save_figure,
    scatter_by_evidence,
    size_handles,
    size_scale,
    text,
)
from gsea_plus.plot.layout import force_layout, place_labels, wrap
from gsea_plus.terms import ELLIPSIS, TERM_ID, shorten_terms

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["enrichment_map_figure", "plot_enrichment_map"]


@dataclass
class _Map:
    """The nodes of a map, their edges and where they go."""

    data: Any
    adj: np.ndarray
    cluster: np.ndarray
    rep: np.ndarray
    pos: np.ndarray
    counts: np.ndarray
    size_label: str
    evidence: Any
    threshold: float

    @property
    def n(self) -> int:
        return len(self.data)

    def colors(self) -> dict[int, str]:
        """A colour for each of the first clusters (the rest are drawn grey)."""
        colored = list(dict.fromkeys(sorted(self.cluster.tolist())))[: len(CLUSTER_COLORS)]
        return {c: CLUSTER_COLORS[i] for i, c in enumerate(colored)}


def _map_data(df, *, top, method, threshold, p_cutoff, gene_sets, seed) -> _Map:
    """The ``top`` most significant clustered terms, their similarity edges and layout."""
    from gsea_plus.cluster import (
        DEFAULT_THRESHOLDS,
        cluster_terms,
        kappa_universe,
        similarity_matrix,
        term_gene_sets,
    )

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
    p_col = p_column(data)
    data = data[data["Cluster"].notna()]
    if len(data) < 2:
        what = "no term" if len(data) == 0 else "only one term"
        raise InputError(
            f"--plot: {what} with adjusted p <= {p_cutoff:g}; the enrichment map needs two"
        )
    data = data.sort_values([p_col], kind="stable").head(top).reset_index(drop=True)
    sets = term_gene_sets(data, gene_sets=gene_sets)
    sim = similarity_matrix(
        sets, method=method, universe_size=kappa_universe(data, sets, gene_sets)
    )
    adj = np.where(sim >= threshold, sim, 0.0)
    np.fill_diagonal(adj, 0.0)
    cluster = data["Cluster"].astype(int).to_numpy()
    counts, size_label = overlap_counts(data)
    return _Map(
        data=data,
        adj=adj,
        cluster=cluster,
        rep=data["Representative"].astype(bool).to_numpy(),
        pos=force_layout(adj, cluster, seed=seed),
        counts=counts,
        size_label=size_label,
        evidence=evidence_of(data),
        threshold=float(threshold),
    )


def enrichment_map_figure(
    df: pd.DataFrame,
    *,
    top: int = 30,
    method: str = "kappa",
    threshold: float | None = None,
    p_cutoff: float = 0.05,
    gene_sets=None,
    title: str | None = None,
    list_name: str | None = None,
    label: str = "all",
    max_label: int = 60,
    seed: int = 0,
) -> Figure:
    """Enrichment map: terms as nodes, edges where their gene similarity passes the threshold.

    Nodes are the ``top`` most significant clustered terms; colour = cluster
    (:func:`gsea_plus.cluster.cluster_terms`, run here unless ``df`` already has a
    ``Cluster`` column), size = overlap (list genes; with the model, list + predicted
    genes; a preranked result: the leading edge). Edges join terms whose similarity (the
    clustering's measure over the same genes) is at least ``threshold``; width follows
    the similarity. Placement: a force-directed layout, fixed by ``seed``. The legend
    counts the nodes drawn per cluster (and the cluster's size when it has more terms).

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
        ``"all"`` (every node named: representatives in bold and placed first, then the
        others by significance) or ``"representatives"`` (each cluster's
        representative only).
    max_label
        Longest node label.
    seed
        Seed of the layout's starting positions.
    """
    from gsea_plus.cluster import describe_rule

    if label not in ("representatives", "all"):
        raise InputError("label must be 'representatives' or 'all'")
    m = _map_data(
        df,
        top=top,
        method=method,
        threshold=threshold,
        p_cutoff=p_cutoff,
        gene_sets=gene_sets,
        seed=seed,
    )
    color_of = m.colors()
    area, size_ticks = size_scale(m.counts)
    fig = new_figure(10.0, 7.4)
    grid = fig.add_gridspec(1, 2, width_ratios=[7.0, 3.0])
    ax = fig.add_subplot(grid[0, 0])
    _edges(ax, m)
    node_colors = [color_of.get(c, "#cfcfcf") for c in m.cluster]
    scatter_by_evidence(ax, m.pos[:, 0], m.pos[:, 1], area(m.counts) * 1.3, node_colors, m.evidence)
    ax.set_xlim(-0.1, 1.1)
    ax.set_ylim(-0.1, 1.1)
    ax.axis("off")
    _labels(fig, ax, m, np.sqrt(area(m.counts) * 1.3) / 2, label=label, max_label=max_label)
    _key(fig.add_subplot(grid[0, 1]), m, color_of, area, size_ticks)
    libs = sorted({str(x) for x in m.data.get("Library", [])})
    what = f"enrichment map of the top {m.n} terms"
    head = title if title is not None else default_title(libs, list_name, what, "")
    caption = (
        f"Edges: {method} >= {m.threshold:g}. "
        + describe_rule(method, m.threshold, p_cutoff=p_cutoff, full_sets=gene_sets is not None)
        + (" Evidence: gene set model." if m.evidence is not None else "")
    )
    head_and_caption(fig, head, caption, width=9.4)
    return fig


def _edges(ax: Axes, m: _Map) -> None:
    ii, jj = np.nonzero(np.triu(m.adj))
    for a, b in zip(ii.tolist(), jj.tolist(), strict=True):
        ax.plot(
            m.pos[[a, b], 0], m.pos[[a, b], 1], color="#9a9a9a",
            lw=0.4 + 2.2 * (m.adj[a, b] - m.threshold) / max(1 - m.threshold, 1e-9),
            alpha=0.55, zorder=1, solid_capstyle="round",
        )  # fmt: skip


def _labels(fig, ax: Axes, m: _Map, radii: np.ndarray, *, label: str, max_label: int) -> None:
    """Name the nodes: representatives first (bold), then the rest by significance."""
    shown = np.ones(m.n, dtype=bool) if label == "all" else m.rep
    order = [i for i in range(m.n) if shown[i] and m.rep[i]]
    order += [i for i in range(m.n) if shown[i] and not m.rep[i]]
    short = shorten_terms(m.data["Term"], max_label)
    texts = {
        i: ax.annotate(
            text(wrap(short[i], 26)),
            m.pos[i],
            xytext=(0, radii[i] + 2),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=6.5 if m.rep[i] else 6.0,
            fontweight="bold" if m.rep[i] else "normal",
            zorder=4,
            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8},
        )  # fmt: skip
        for i in order
    }
    place_labels(fig, ax, m.pos, radii, texts)


def _key(key: Axes, m: _Map, color_of: dict[int, str], area, size_ticks) -> None:
    """The side legend: clusters (nodes drawn of their terms), sizes, evidence."""
    from matplotlib.lines import Line2D

    colored = list(color_of)
    key.axis("off")
    clusters = m.data["Cluster"].astype(int)
    sizes = dict(zip(clusters, m.data["Cluster Size"].astype(int), strict=True))
    handles: list = [Line2D([], [], ls="none")]
    names = ["cluster: representative (nodes)"]
    for c in colored:
        members = m.cluster == c
        reps = m.data.loc[members & m.rep, "Term"]
        name = reps.iloc[0] if len(reps) else m.data.loc[members, "Term"].iloc[0]
        plain = TERM_ID.sub("", str(name))
        plain = plain if len(plain) <= 34 else plain[:33].rstrip() + ELLIPSIS
        drawn, total = int(members.sum()), int(sizes[c])
        count = f"{drawn} of {total}" if total > drawn else f"{drawn}"
        handles.append(_dot(color_of[c]))
        names.append(text(f"{c}: {plain} ({count})"))
    rest = m.n - int(np.isin(m.cluster, colored).sum())
    if rest:
        handles.append(_dot("#cfcfcf"))
        others = len(set(m.cluster.tolist()) - set(colored))
        names.append(f"{others} more clusters ({rest} nodes)")
    h, n = size_handles(area, size_ticks, m.size_label, scale=1.3)
    handles, names = handles + h, names + n
    if m.evidence is not None:
        h, n = evidence_handles()
        handles, names = handles + h, names + n
    legend = key.legend(
        handles, names, loc="upper left", fontsize=7, frameon=False, labelspacing=0.9,
        borderpad=0.0, handletextpad=0.6,
    )  # fmt: skip
    bold_headings(legend)


def _dot(color: str):
    from matplotlib.lines import Line2D

    return Line2D(
        [], [], ls="none", marker=MARKER, markersize=7, markerfacecolor=color,
        markeredgecolor="#222222", markeredgewidth=0.5,
    )  # fmt: skip


def plot_enrichment_map(
    df: pd.DataFrame,
    path: str | Path,
    *,
    top: int = 30,
    method: str = "kappa",
    threshold: float | None = None,
    p_cutoff: float = 0.05,
    gene_sets=None,
    title: str | None = None,
    list_name: str | None = None,
    dpi: int = 200,
) -> Path:
    """Write :func:`enrichment_map_figure` to ``path``."""
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
