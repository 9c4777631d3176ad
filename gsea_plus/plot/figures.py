"""Every figure, registered once (:data:`FIGURES`), and the one-list ``--plot-kind`` writer.

A new figure is one module of this package plus one entry here, as decoupler-py's ``pl/``
registers its plots.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gsea_plus.errors import InputError
from gsea_plus.plot._base import save_figure
from gsea_plus.plot.comparison import comparison_figure
from gsea_plus.plot.dot import enrichment_figure
from gsea_plus.plot.emap import enrichment_map_figure
from gsea_plus.plot.nes import nes_figure
from gsea_plus.plot.running_sum import running_sum_figure

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["FIGURES", "FigureSpec", "plot_enrichment"]


@dataclass(frozen=True)
class FigureSpec:
    """One figure: the function that draws it, what it shows, and who offers it.

    Attributes
    ----------
    name
        Its name (a ``--plot-kind`` value when ``one_list``).
    figure
        The ``*_figure`` function.
    shows
        What it shows, in a few words.
    one_list
        Drawn for one list's results: ``enrich --plot-kind`` offers it.
    adapt
        Turns the keywords every one-list figure takes (``top``, ``color_by``,
        ``threshold``, ``title``, ``list_name``, ``representatives``) into this
        figure's own.
    """

    name: str
    figure: Callable[..., Any]
    shows: str
    one_list: bool = False
    adapt: Callable[[dict[str, Any]], dict[str, Any]] | None = None

    def draw(self, results: Any, **common: Any) -> Any:
        """The figure of ``results``, from the common keywords."""
        return self.figure(results, **(self.adapt(common) if self.adapt else common))


def _kind(kind: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda common: {"kind": kind, **common}


def _as_map(common: dict[str, Any]) -> dict[str, Any]:
    # a map has no colour scale and draws every clustered term; its p cut-off is the
    # threshold of the other figures (its own threshold is the similarity's)
    return {
        "top": common.get("top", 30),
        "p_cutoff": common.get("threshold", 0.05),
        "title": common.get("title"),
        "list_name": common.get("list_name"),
    }


#: Every figure, by name: one module of this package each.
FIGURES: dict[str, FigureSpec] = {
    spec.name: spec
    for spec in (
        FigureSpec("dot", enrichment_figure, "the top terms as dots", True, _kind("dot")),
        FigureSpec("bar", enrichment_figure, "the top terms as bars", True, _kind("bar")),
        FigureSpec("map", enrichment_map_figure, "an enrichment map", True, _as_map),
        FigureSpec("comparison", comparison_figure, "many lists side by side"),
        FigureSpec("running-sum", running_sum_figure, "GSEA running sums"),
        FigureSpec("nes", nes_figure, "NES bars of a preranked result"),
    )
}


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
    """Write the one-list figure of ``kind`` to ``path`` (.png, .svg or .pdf, atomically).

    ``kind`` is a one-list figure of :data:`gsea_plus.plot.FIGURES` (``--plot-kind``):
    ``dot`` or ``bar`` (:func:`enrichment_figure`) or ``map``
    (:func:`~gsea_plus.plot.enrichment_map_figure` of the ``top`` most significant
    clustered terms; ``df`` is clustered with the defaults unless it has a ``Cluster``
    column).
    """
    spec = FIGURES.get(kind)
    if spec is None or not spec.one_list:
        kinds = ", ".join(name for name, f in FIGURES.items() if f.one_list)
        raise InputError(f"--plot-kind must be one of {kinds}, not {kind!r}")
    fig = spec.draw(
        df,
        top=top,
        color_by=color_by,
        threshold=threshold,
        title=title,
        list_name=list_name,
        representatives=representatives,
    )
    return save_figure(fig, path, dpi=dpi)
