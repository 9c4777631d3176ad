"""Result tables on a terminal: fitted to its width, no number cut, term IDs kept whole.

The column widths are worked out here from the terminal's width and the values shown,
not left to rich: numbers get exactly the width they need and never wrap; a term name
wraps at word boundaries over at most two lines and, when longer, ends in an ellipsis
followed by its identifier (``(GO:0006915)``); a gene list shows whole gene names and
``+N`` for the rest. Narrow terminals drop the least useful columns first (Combined
Score, P-value, Odds Ratio), never a number's digits.

Several libraries get one section each; with the gene set model, terms found by the
model alone (``Evidence`` = ``model``) get a section of their own under a caption that
says what that evidence is.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from gsea_plus.output import printable, show
from gsea_plus.terms import ELLIPSIS, split_id

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import RenderableType
    from rich.table import Table

__all__ = [
    "DEFAULT_ROWS",
    "enrich_sections",
    "fit_genes",
    "fit_term",
    "format_p",
    "rich_table",
]

#: Rows per library shown on a terminal unless ``--top`` says otherwise (a screen).
DEFAULT_ROWS = 10
#: Lines a term name or a gene list may take in a cell.
CELL_LINES = 2
#: Columns added by the table's frame for each column (two spaces of padding and a rule),
#: plus one for the outer edge.
_PER_COLUMN = 3


def format_p(value: float, log10: float | None = None) -> str:
    """A p-value in 3 significant digits; below 1e-308 from its log10, never ``0``."""
    if value != value:  # NaN
        return ""
    if value == 0.0 and log10 is not None and math.isfinite(log10):
        exponent = math.floor(log10)
        return f"{10 ** (log10 - exponent):.2f}e{exponent}"
    return f"{value:.2e}"


def _number(value: Any, spec: str) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""  # no meaning for this row (e.g. the odds ratio of a model-only term)
    return format(value, spec)


def fit_term(term: str, width: int, lines: int = CELL_LINES) -> str:
    r"""``term`` wrapped at word boundaries into ``lines`` lines of ``width`` at most.

    A name that does not fit ends in an ellipsis followed by its identifier, which is
    never cut (``Positive Regulation Of…\\n(GO:0043280)``).
    """
    term = printable(term)
    width = max(width, 8)
    wrapped = textwrap.wrap(term, width, break_long_words=False, break_on_hyphens=False)
    if len(wrapped) <= lines and all(len(w) <= width for w in wrapped):
        return "\n".join(wrapped)
    name, ident = split_id(term)
    ident = ident.strip()
    for room in range(len(name), 0, -1):
        text = name[:room].rstrip(" ,;-") + ELLIPSIS + (f" {ident}" if ident else "")
        wrapped = textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False)
        if len(wrapped) <= lines and all(len(w) <= width for w in wrapped):
            return "\n".join(wrapped)
    # an identifier longer than the cell: cut it by character (nothing else fits)
    return "\n".join(textwrap.wrap(term, width, break_long_words=True)[:lines])


def fit_genes(
    genes: Sequence[str],
    width: int,
    *,
    marked: Sequence[str] = (),
    lines: int = CELL_LINES,
) -> str:
    """Whole gene names, comma-separated, in ``lines`` lines of ``width``; ``+N`` for the rest.

    Genes in ``marked`` (predicted by the model) are shown as ``GENE*`` in magenta.
    Returns rich markup.
    """
    from rich.markup import escape

    marked_set = set(marked)
    names = [printable(g) + ("*" if g in marked_set else "") for g in genes]
    best: list[str] = []
    for i in range(len(names)):
        rest = len(names) - i - 1
        trial = ", ".join(names[: i + 1]) + (f" +{rest}" if rest else "")
        wrapped = textwrap.wrap(
            trial, max(width, 6), break_long_words=False, break_on_hyphens=False
        )
        if len(wrapped) > lines or any(len(w) > width for w in wrapped):
            break
        best = wrapped
    if not best and names:  # not even one name fits: the count alone
        return f"[dim]+{len(names)}[/]"
    text = escape("\n".join(best))
    for name in marked_set:
        text = text.replace(f"{escape(printable(name))}*", f"[bold magenta]{escape(name)}*[/]")
    return text.replace(" +", " [dim]+", 1) + "[/]" if " +" in text else text


def _rows(table: Any) -> list[dict[str, Any]]:
    """The rows of a DataFrame or a mapping of columns, as dicts."""
    if hasattr(table, "to_dict") and hasattr(table, "columns"):
        return table.to_dict("records")
    names = list(table)
    columns = [v.tolist() if hasattr(v, "tolist") else list(v) for v in table.values()]
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]


def _columns_for(rows: list[dict], width: int, *, compare: bool) -> list[tuple[str, str]]:
    """``[(header, key)]`` of the columns that fit, in order (Term and Genes flexible)."""
    model = bool(rows) and "Model P-value" in rows[0]
    cols: list[tuple[str, str]] = [("#", "#"), ("Term", "Term"), ("Overlap", "Overlap")]
    optional: list[tuple[int, tuple[str, str]]] = []  # (min terminal width, column)
    if model:
        cols += [("Adj. P", "Adjusted P-value"), ("Model P", "Model P-value")]
        optional += [(100, ("Class. P", "Classical P-value"))]
        if compare:
            cols += [("Class. rank", "Classical Rank"), ("Model rank", "Model Rank")]
        optional += [(130, ("OR", "Odds Ratio")), (150, ("Combined", "Combined Score"))]
    else:
        cols += [("Adj. P", "Adjusted P-value")]
        optional += [(70, ("OR", "Odds Ratio")), (100, ("P-value", "P-value"))]
        optional += [(120, ("Combined", "Combined Score"))]
    for need, col in optional:
        if width >= need:
            cols.append(col)
    cols.append(("Genes", "Genes"))
    order = [
        "#", "Term", "Overlap", "P-value", "Adj. P", "Class. P", "Model P",
        "Class. rank", "Model rank", "OR", "Combined", "Genes",
    ]  # fmt: skip
    return sorted(cols, key=lambda c: order.index(c[0]))


def _cell(row: dict, key: str, number: int) -> str:
    if key == "#":
        return str(number)
    if key == "Overlap":
        text = str(row["Overlap"])
        if "Predicted Overlap" in row and row.get("Predicted Genes"):
            text += f" +{row['Predicted Overlap']}*"
        return text
    if key == "P-value":
        return format_p(row["P-value"], row.get("Log10 P-value"))
    if key in ("Adjusted P-value", "Classical P-value", "Model P-value"):
        return format_p(row[key])
    if key == "Odds Ratio":
        return _number(row.get(key), ".3g")
    if key == "Combined Score":
        return _number(row.get(key), ".4g")
    if key in ("Classical Rank", "Model Rank"):
        return str(row.get(key, ""))
    raise KeyError(key)


def section_table(
    rows: list[dict],
    *,
    width: int,
    title: str | None = None,
    caption: str | None = None,
    compare: bool = False,
    start: int = 1,
) -> Table:
    """One table of result rows, fitted to ``width`` terminal columns."""
    from rich.markup import escape
    from rich.table import Table

    cols = _columns_for(rows, width, compare=compare)
    fixed: dict[str, list[str]] = {}
    for header, key in cols:
        if header in ("Term", "Genes"):
            continue
        fixed[header] = [_cell(r, key, start + i) for i, r in enumerate(rows)]
    widths = {h: max([len(v) for v in values] + [len(h)]) for h, values in fixed.items()}
    room = width - sum(widths.values()) - _PER_COLUMN * len(cols) - 1
    genes_w = max(10, int(room * 0.4))
    term_w = max(12, room - genes_w)
    table = Table(title=title, caption=caption, header_style="bold", expand=False)
    for header, _ in cols:
        if header == "Term":
            table.add_column(header, width=term_w, no_wrap=True, overflow="ignore")
        elif header == "Genes":
            table.add_column(header, width=genes_w, no_wrap=True, overflow="ignore")
        else:
            table.add_column(
                header,
                justify="right",
                width=widths[header],
                no_wrap=True,
                overflow="ignore",
                style="dim" if header == "#" else None,
            )
    for i, row in enumerate(rows):
        cells = []
        for header, _ in cols:
            if header == "Term":
                cells.append(escape(fit_term(row["Term"], term_w)))
            elif header == "Genes":
                genes = [g for g in str(row.get("Genes") or "").split(";") if g]
                predicted = [g for g in str(row.get("Predicted Genes") or "").split(";") if g]
                cells.append(fit_genes(genes + predicted, genes_w, marked=predicted))
            else:
                cells.append(fixed[header][i])
        adjusted = row.get("Adjusted P-value", 1.0)
        table.add_row(*cells, style="bold" if adjusted < 0.05 else None)
    return table


def enrich_sections(
    table: Any,
    *,
    width: int,
    top: int | None = None,
    libraries: Sequence[Mapping[str, Any]] = (),
    compare: bool = False,
) -> list[RenderableType]:
    """The terminal view of an ``enrich`` result: one section per library.

    Parameters
    ----------
    table
        The result (a DataFrame or a mapping of columns), sorted by p-value.
    width
        The terminal's width.
    top
        Rows per section (default :data:`DEFAULT_ROWS`).
    libraries
        ``EnrichInfo.per_library``: names, versions and, with the model, the caption of
        the model-only rows (``model_only_caption``).
    compare
        Show each evidence's own rank (``--compare``).
    """
    top = DEFAULT_ROWS if top is None else top
    rows = _rows(table)
    info = {str(lib.get("library")): lib for lib in libraries}
    names = list(dict.fromkeys([*info, *(str(r.get("Library", "")) for r in rows)]))
    several = len(names) > 1
    out: list[RenderableType] = []
    for name in names:
        mine = [r for r in rows if str(r.get("Library", "")) == name]
        lib = info.get(name, {})
        label = show(lib.get("version") or name)
        method = (mine[0].get("Method") if mine else None) or lib.get("method") or ""
        listed = [r for r in mine if r.get("Evidence", "list") != "model"]
        model_only = [r for r in mine if r.get("Evidence") == "model"]
        caption = None
        if method:
            caption = f"P-value: {show(method)} test"
            if any(r.get("Predicted Genes") for r in mine):
                caption += "; [bold magenta]GENE*[/] = predicted by the model"
        title = f"[bold]{label}[/]" if several or method else None
        if not mine:
            out.append(f"{label}: no term shares a gene with the list")
            continue
        if listed:
            out.append(
                section_table(
                    listed[:top], width=width, title=title, caption=caption, compare=compare
                )
            )
        if model_only:
            text = lib.get("model_only_caption") or (
                "Found by the gene set model alone: these terms hold none of the list's genes."
            )
            out.append(
                section_table(
                    model_only[:top],
                    width=width,
                    title=f"[bold]{label}[/]: terms found by the model alone",
                    caption=show(text),
                    compare=compare,
                )
            )
        hidden = max(len(listed) - top, 0) + max(len(model_only) - top, 0)
        if hidden:
            out.append(f"[dim]{hidden} more rows of {label}: -o FILE or -f tsv for all[/dim]")
    return out


def rich_table(
    df: Any,
    *,
    top: int = 20,
    title: str | None = None,
    show_library: bool = False,
    width: int = 200,
) -> Table:
    """One table of the first ``top`` rows, as :func:`section_table` lays them out."""
    rows = _rows(df)[:top]
    if show_library:
        for r in rows:
            r["Term"] = f"{r.get('Library', '')}: {r['Term']}"
    return section_table(rows, width=width, title=title)
