"""``gsea-plus gene``: which terms would the model add a gene to."""

from __future__ import annotations

from pathlib import Path

import typer

from gsea_plus.cli.app import app
from gsea_plus.cli.common import Format, emit, offline_option


@app.command("gene")
def gene_cmd(
    gene: str = typer.Argument(..., help="A gene symbol, e.g. PLIN2."),
    library: str = typer.Option("GO_BP", "--library", "-l", help="Library whose terms are scored."),
    model: str | None = typer.Option(
        None, "--model", help="Model directory or hub id (default: the bundled model)."
    ),
    top: int = typer.Option(20, "--top", "-n", help="Rows shown in the terminal table.", min=1),
    fmt: Format = typer.Option(
        Format.auto, "--format", "-f", help="auto, table, tsv, csv, json, jsonl."
    ),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the full table here."),
    offline: bool = offline_option(),
) -> None:
    """Predict a gene's functions: the terms the model would add it to.

    Every term of the library is run through the model; terms are ranked by the gene's
    predicted probability, with its rank among each term's predictions (1 = the model's
    first new candidate). Terms that already contain the gene are listed separately
    (on the terminal) or flagged in the 'Contains' column (files and pipes).
    """
    import pandas as pd

    from gsea_plus.rank import gene_function

    candidates, members = gene_function(gene, library, model=model, offline=offline)
    result = pd.concat(
        [candidates.assign(Contains=False), members.assign(Contains=True)], ignore_index=True
    )
    summary = (
        f"[dim]{gene.upper()}: {len(candidates)} candidate terms, already in {len(members)} "
        f"terms of {candidates['Library'].iloc[0] if len(candidates) else library}[/dim]"
    )

    def table():
        from rich.console import Group
        from rich.markup import escape
        from rich.table import Table

        def render(df, title):
            out = Table(title=title, header_style="bold")
            for col in ("#", "Term", "Probability", "Rank", "Term size"):
                out.add_column(col, justify="left" if col == "Term" else "right", overflow="fold")
            for i, r in enumerate(df.head(top).itertuples(index=False), start=1):
                out.add_row(str(i), escape(str(r[0])), f"{r[1]:.3g}", str(r[2]), str(r[4]))
            return out

        parts = [render(candidates, f"terms the model would add {gene.upper()} to")]
        if len(members):
            parts.append(render(members, f"terms that already contain {gene.upper()}"))
        return Group(*parts)

    emit(result, fmt=fmt, output=output, summary=summary, table=table)
