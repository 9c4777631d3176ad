"""Turning result tables into bytes (TSV, CSV, JSON, JSONL, Parquet) and rich tables."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from rich.table import Table

__all__ = ["FORMATS", "frame_to_bytes", "rich_table"]

FORMATS = ("tsv", "csv", "json", "jsonl", "parquet")


Table = "Mapping[str, Sequence] | pandas.DataFrame"


def _columns(df) -> dict[str, list]:
    """Column name -> Python values, from a DataFrame or a mapping of columns."""
    if hasattr(df, "columns") and hasattr(df, "to_dict"):
        return {str(c): df[c].tolist() for c in df.columns}
    return {str(c): (v.tolist() if hasattr(v, "tolist") else list(v)) for c, v in df.items()}


def _cell(value) -> str:
    if isinstance(value, float):
        if value != value:  # NaN: a value with no meaning for this row, an empty cell
            return ""
        return repr(value)  # shortest text that reads back to the same float
    return str(value)


def frame_to_bytes(df, fmt: str) -> bytes:
    """Serialize a result table (a DataFrame or a mapping of columns).

    Floats keep full precision (shortest round-trip text) so downstream tools read the
    same numbers; JSON is a list of records, JSONL one record per line. Only Parquet
    needs pandas (and pyarrow), so the command line stays fast.
    """
    if fmt == "parquet":
        import pandas as pd

        from gsea_plus.errors import require

        require("pyarrow", "parquet", "--format parquet")
        frame = df if isinstance(df, pd.DataFrame) else pd.DataFrame(_columns(df))
        buf = io.BytesIO()
        frame.to_parquet(buf, index=False)
        return buf.getvalue()
    cols = _columns(df)
    names = list(cols)
    rows = list(zip(*cols.values(), strict=True)) if names else []
    if fmt in ("tsv", "table"):
        lines = ["\t".join(names)]
        lines += ["\t".join(_cell(v) for v in row) for row in rows]
        return ("\n".join(lines) + "\n").encode()
    if fmt == "csv":
        import csv

        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(names)
        writer.writerows([_cell(v) for v in row] for row in rows)
        return buf.getvalue().encode()
    if fmt in ("json", "jsonl"):
        import json

        records = [
            {
                k: None if isinstance(v, float) and v != v else v
                for k, v in zip(names, row, strict=True)
            }
            for row in rows
        ]  # NaN is not JSON: null
        if fmt == "json":
            return (json.dumps(records, indent=1) + "\n").encode()
        return "".join(json.dumps(r) + "\n" for r in records).encode()
    raise ValueError(f"unknown format {fmt!r}")


def _fmt_p(value: float, log10: float | None = None) -> str:
    if value == 0.0 and log10 is not None:
        mant = 10 ** (log10 - int(log10 // 1))
        return f"{mant:.2f}e{int(log10 // 1)}"
    return f"{value:.2e}"


def _truncate_genes(genes: str, limit: int, marked: set[str] | None = None) -> str:
    from rich.markup import escape

    parts = [g for g in genes.split(";") if g]
    shown = parts[:limit]
    text = ", ".join(
        f"[bold magenta]{escape(g)}*[/]" if marked and g in marked else escape(g) for g in shown
    )
    if len(parts) > limit:
        text += f" [dim]+{len(parts) - limit}[/]"
    return text


def rich_table(
    df,
    *,
    top: int = 20,
    title: str | None = None,
    show_library: bool = False,
    gene_limit: int = 8,
) -> Table:
    """A rich table of the top rows of an enrichment result."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=title, header_style="bold", expand=False, pad_edge=False)
    table.add_column("#", justify="right", style="dim")
    if show_library:
        table.add_column("Library", overflow="fold", max_width=24)
    table.add_column("Term", overflow="fold", max_width=48)
    table.add_column("Overlap", justify="right")
    table.add_column("P-value", justify="right")
    table.add_column("Adj. P", justify="right")
    table.add_column("OR", justify="right")
    table.add_column("Combined", justify="right")
    cols = _columns(df)
    names = list(cols)
    model = "Predicted Genes" in cols
    if model:
        table.add_column("Classical P", justify="right")
        table.add_column("Model P", justify="right")
        table.caption = (
            f"P-value: {cols['Method'][0] if cols['Method'] else 'model'} test; "
            "[bold magenta]GENE*[/] = predicted by the model, not in the input"
        )
    table.add_column("Genes", overflow="fold", max_width=60)
    for i, row in enumerate(list(zip(*cols.values(), strict=True))[:top], start=1):
        r = dict(zip(names, row, strict=True))
        adj = r["Adjusted P-value"]
        style = "bold" if adj < 0.05 else None
        cells = [str(i)]
        if show_library:
            cells.append(escape(str(r["Library"])))
        cells += [
            escape(str(r["Term"])),
            str(r["Overlap"]),
            _fmt_p(r["P-value"], r.get("Log10 P-value")),
            f"{adj:.2e}",
            f"{r['Odds Ratio']:.3g}",
            f"{r['Combined Score']:.4g}",
        ]
        genes = str(r["Genes"])
        if model:
            cells[-5] = f"{r['Overlap']} [bold magenta]+{r['Predicted Overlap']}*[/]"
            cells += [_fmt_p(r["Classical P-value"], None), _fmt_p(r["Model P-value"], None)]
            predicted = str(r["Predicted Genes"])
            text = _truncate_genes(genes, gene_limit)
            if predicted:
                more = _truncate_genes(predicted, 4, set(predicted.split(";")))
                text = f"{text}, {more}" if text else more
            cells.append(text)
        else:
            cells.append(_truncate_genes(genes, gene_limit))
        table.add_row(*cells, style=style)
    return table
