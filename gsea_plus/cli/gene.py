"""``gsea-plus gene``: which terms would the model add a gene to."""

from __future__ import annotations

from typing import Annotated

import typer

from gsea_plus.cli import params
from gsea_plus.cli.common import emit
from gsea_plus.cli.params import Format


def gene_cmd(
    gene: Annotated[str, typer.Argument(metavar="GENE", help="A gene symbol, e.g. PLIN2.")],
    library: Annotated[
        str,
        typer.Option("--library", "-l", metavar="NAME", help="Library whose terms are scored."),
    ] = "GO_BP",
    model: params.Model = None,
    top: params.Top = 20,
    fmt: params.OutputFormat = Format.auto,
    output: params.Output = None,
    offline: params.Offline = False,
) -> None:
    """Predict a gene's functions: the terms the model would add it to.

    Every term of the library is run through the model; terms are ranked by the gene's
    predicted probability, with its rank among each term's predictions (1 = the model's
    first new candidate). Terms that already contain the gene are listed separately
    (on the terminal) or flagged in the 'Contains' column (files and pipes).
    """
    import pandas as pd

    from gsea_plus.api import gene_function

    candidates, members = gene_function(gene, library, model=model, offline=params.offline(offline))
    result = pd.concat(
        [candidates.assign(Contains=False), members.assign(Contains=True)], ignore_index=True
    )
    summary = (
        f"[dim]{gene.upper()}: {len(candidates)} candidate terms, already in {len(members)} "
        f"terms of {candidates['Library'].iloc[0] if len(candidates) else library}[/dim]"
    )

    def table():
        from rich.console import Group
        from rich.table import Table

        from gsea_plus.output import show

        def render(df, title):
            out = Table(title=title, header_style="bold")
            for col in ("#", "Term", "Probability", "Rank", "Term size"):
                out.add_column(col, justify="left" if col == "Term" else "right", overflow="fold")
            for i, r in enumerate(df.head(top).itertuples(index=False), start=1):
                out.add_row(str(i), show(r[0]), f"{r[1]:.3g}", str(r[2]), str(r[4]))
            return out

        parts = [render(candidates, f"terms the model would add {gene.upper()} to")]
        if len(members):
            parts.append(render(members, f"terms that already contain {gene.upper()}"))
        return Group(*parts)

    emit(result, fmt=fmt, output=output, summary=summary, table=table)
