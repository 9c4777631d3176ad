"""Plots of enrichment results (matplotlib, the ``plot`` extra)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from gsea_plus.errors import InputError, require

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["check_plot_path", "plot_enrichment"]

_SUFFIXES = (".png", ".svg", ".pdf")


def check_plot_path(path: str | Path) -> Path:
    """Raise :class:`InputError` unless ``path`` ends in .png, .svg or .pdf."""
    path = Path(path)
    if path.suffix.lower() not in _SUFFIXES:
        raise InputError(f"--plot: use a .png, .svg or .pdf file name, not {path.name!r}")
    return path


def _pyplot():
    """The pyplot module on the file-only Agg backend (the ``plot`` extra)."""
    matplotlib = require("matplotlib", "plot", "--plot")
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    """Write the figure in the format of the file's suffix, atomically, and close it."""
    import io

    import matplotlib.pyplot as plt

    from gsea_plus.library.cache import atomic_write

    buf = io.BytesIO()
    try:
        fig.savefig(buf, format=path.suffix.lower().lstrip("."))
    finally:
        plt.close(fig)
    atomic_write(path, buf.getvalue())
    return path


def plot_enrichment(
    df: pd.DataFrame, path: str | Path, *, kind: str = "dot", top: int = 20
) -> Path:
    """Draw the top terms as a dot plot (x = -log10 p, size = overlap, colour = OR) or a bar plot.

    The file type follows the suffix (.png, .svg or .pdf); the file is written atomically.
    """
    path = check_plot_path(path)
    if df.empty:
        raise InputError("--plot: no enriched term to plot")
    import numpy as np

    plt = _pyplot()
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
    return _save(fig, path)


def plot_running_sum(
    signature,
    result: pd.DataFrame,
    path: str | Path,
    *,
    term: str | None = None,
    library=None,
    offline: bool | None = None,
) -> Path:
    """Draw GSEA's running-sum plot of one term (default: the top row of ``result``)."""
    path = check_plot_path(path)
    if result.empty:
        raise InputError("--plot: no term to plot")
    if term is None:
        row = result.iloc[0]
    else:
        match = result[result["Term"] == term]
        if match.empty:
            raise InputError(f"--plot-term: {term!r} is not among the tested terms")
        row = match.iloc[0]
    import numpy as np

    from gsea_plus.library import load_library
    from gsea_plus.prerank import running_sum

    plt = _pyplot()
    specs = library if isinstance(library, (list, tuple)) else [library]
    lib_name = row["Library"]
    lib = next(
        lb for lb in (load_library(s, offline=offline) for s in specs) if lb.name == lib_name
    )
    term_index = int(np.flatnonzero(lib.terms == row["Term"])[0])
    members = set(lib.term_genes(term_index))
    positions = np.flatnonzero(np.isin(signature.genes, list(members)))
    rs = running_sum(signature, positions)
    fig, (ax, ax_hits, ax_score) = plt.subplots(
        3, 1, figsize=(7, 5), sharex=True, gridspec_kw={"height_ratios": [3, 0.6, 1.4]}
    )
    ax.plot(rs, color="#2E8B57", lw=1.5)
    ax.axhline(0, color="grey", lw=0.6)
    peak = int(np.argmax(np.abs(rs)))
    ax.axvline(peak, color="red", ls="--", lw=0.8)
    ax.set_ylabel("running ES")
    ax.set_title(
        f"{row['Term']}\nNES {row['NES']:.2f}, p {row['P-value']:.2e}, FDR {row['FDR']:.2e}",
        fontsize=9,
    )
    ax_hits.vlines(positions, 0, 1, color="black", lw=0.5)
    ax_hits.set_yticks([])
    ax_score.fill_between(np.arange(len(signature)), signature.scores, color="#888888")
    ax_score.set_ylabel("score")
    ax_score.set_xlabel("rank in signature")
    fig.tight_layout()
    return _save(fig, path)
