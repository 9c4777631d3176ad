"""Plots of enrichment results (matplotlib, the ``plot`` extra)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from gsea_plus.errors import InputError, require

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["plot_enrichment"]

_SUFFIXES = (".png", ".svg", ".pdf")


def plot_enrichment(df: pd.DataFrame, path: str | Path, *, kind: str = "dot", top: int = 20) -> Path:
    """Draw the top terms as a dot plot (x = -log10 p, size = overlap, colour = OR) or a bar plot.

    The file type follows the suffix (.png, .svg or .pdf); the file is written atomically.
    """
    path = Path(path)
    if path.suffix.lower() not in _SUFFIXES:
        raise InputError(f"--plot: use a .png, .svg or .pdf file name, not {path.name!r}")
    if df.empty:
        raise InputError("--plot: no enriched term to plot")
    matplotlib = require("matplotlib", "plot", "--plot")
    matplotlib.use("Agg", force=True)
    import io

    import matplotlib.pyplot as plt
    import numpy as np

    from gsea_plus.library.cache import atomic_write

    d = df.head(top).iloc[::-1]
    score = -d["Log10 P-value"].to_numpy()
    labels = [t if len(t) <= 60 else t[:57] + "..." for t in d["Term"].astype(str)]
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(d) + 1.5))
    y = np.arange(len(d))
    if kind == "bar":
        ax.barh(y, score, color="#4C72B0")
    else:
        sc = ax.scatter(
            score,
            y,
            s=30 + 12 * d["Overlap Size"].to_numpy(),
            c=np.log2(np.maximum(d["Odds Ratio"].to_numpy(), 1e-3)),
            cmap="viridis",
        )
        fig.colorbar(sc, ax=ax, label="log2 odds ratio")
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlabel("-log10 p-value")
    ax.set_title("Top enriched terms")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format=path.suffix.lower().lstrip("."))
    plt.close(fig)
    atomic_write(path, buf.getvalue())
    return path
