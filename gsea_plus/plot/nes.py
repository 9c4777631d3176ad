"""The top terms of a preranked result as normalized enrichment score bars."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from gsea_plus.errors import InputError
from gsea_plus.plot._base import (
    LINE,
    color_scale,
    default_title,
    draw_key,
    finish_axes,
    head_and_caption,
    library_groups,
    panels,
    text,
)
from gsea_plus.terms import LABEL_CHARS, shorten_terms

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = ["nes_figure"]


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
    import pandas as pd
    from matplotlib.patches import Patch

    groups = []
    for lib, g in library_groups(result):
        g = g.sort_values(["FDR", "P-value"], kind="stable").head(top)
        groups.append((lib, g.sort_values("NES", kind="stable")))
    shown = pd.concat([g for _, g in groups])
    fdr = np.asarray(shown["FDR"], dtype=float)
    scale = color_scale(fdr, "p")
    scale.label = "FDR" + (" (clipped)" if scale.extend != "neither" else "")
    longest = max(len(lab) for lab in shorten_terms(shown["Term"], max_label))
    side = 1.7
    width = min(15.0, 3.6 + side + 0.062 * longest)
    height = 1.9 + 0.27 * len(shown) + 0.35 * len(groups)
    fig, axes, key = panels(
        width, height, [len(g) + 0.6 for _, g in groups], side=side,
        titles=[lib for lib, _ in groups],
    )  # fmt: skip
    nes_all = np.asarray(shown["NES"], dtype=float)
    lim = max(float(np.nanmax(np.abs(nes_all))), 1.0) * 1.08
    offset = 0
    for ax, (_, g) in zip(axes, groups, strict=True):
        rows = slice(offset, offset + len(g))
        y = np.arange(len(g))
        colors = scale.colors(scale.values[rows])
        colors[fdr[rows] > threshold, 3] = 0.35
        ax.barh(y, nes_all[rows], color=colors, height=0.72, edgecolor="none")
        ax.axvline(0, color=LINE, lw=0.8)
        ax.set_yticks(y, [text(lab) for lab in shorten_terms(g["Term"], max_label)], fontsize=8)
        ax.set_ylim(-0.7, len(g) - 0.3)
        finish_axes(ax)
        offset += len(g)
    axes[0].set_xlim(-lim, lim)
    axes[-1].set_xlabel("normalized enrichment score (NES)")
    entries = (
        [Patch(facecolor="#555555"), Patch(facecolor="#555555", alpha=0.35)],
        [f"FDR <= {threshold:g}", f"FDR > {threshold:g}"],
    )
    draw_key(key, height, scale, "p", entries)
    libraries = [lib for lib, _ in groups]
    head = title
    if head is None:
        head = default_title(libraries, signature_name, f"top {top} terms by FDR", "")
    head_and_caption(fig, head)
    return fig
