"""``gsea-plus gene``: a gene's page, the terms the model would add it to."""

from __future__ import annotations

from typing import Annotated

import typer

from gsea_plus.cli import params
from gsea_plus.cli.common import emit
from gsea_plus.cli.params import Format


def gene_cmd(
    gene: Annotated[str, typer.Argument(metavar="GENE", help="A gene symbol, e.g. PLIN2.")],
    library: Annotated[
        list[str] | None,
        typer.Option(
            "--library",
            "-l",
            metavar="NAME",
            help="Library whose terms are scored (repeatable; default: every bundled and "
            "cached library).",
        ),
    ] = None,
    model: params.Model = None,
    top: params.TerminalRows = 20,
    fmt: params.OutputFormat = Format.auto,
    output: params.Output = None,
    offline: params.Offline = False,
) -> None:
    """A gene's page: the terms the model would add it to, across libraries.

    For every term the model is given the term's genes and ranks every other gene it
    knows (once per library, cached). Rows: the terms whose predictions rank the gene,
    best rank first, with its Rank among the Candidates, Z-score and Probability; the
    terms that already hold it (In Term, ranked with the gene held out); and each term's
    own AUROC under the GSFM paper's protocol (how well the model recovers that term's
    genes: a confidence). Files and pipes get every row; the terminal the top rows.
    """
    from gsea_plus.api import gene_function

    params.check_output(fmt, output)

    specs = library or None
    page = gene_function(gene, specs, model=model, offline=params.offline(offline))
    symbol = gene.strip().upper()
    candidates = page[~page["In Term"]]
    members = page[page["In Term"]]
    libraries = list(dict.fromkeys(page["Library"])) or list(library or [])
    summary = (
        f"[dim]{symbol}: {len(candidates)} terms keep it among their top predictions, "
        f"{len(members)} already hold it; libraries: {', '.join(libraries)}[/dim]"
    )

    def table():
        from rich.console import Group
        from rich.table import Table

        from gsea_plus.output import show

        def render(df, title):
            out = Table(title=title, header_style="bold")
            heads = ("#", "Term", "Library", "Rank", "Z-score", "Probability", "Term AUROC")
            for col in heads:
                out.add_column(col, justify="left" if col in heads[1:3] else "right")
            for i, r in enumerate(df.head(top).to_dict("records"), start=1):
                auroc = r["Term AUROC"]
                out.add_row(
                    str(i),
                    show(r["Term"]),
                    show(r["Library"]),
                    f"{r['Rank']} / {r['Candidates']}",
                    f"{r['Z-score']:.2f}",
                    f"{r['Probability']:.3g}",
                    "" if auroc != auroc else f"{auroc:.2f}",
                )
            return out

        parts = [render(candidates, f"Terms the model would add {symbol} to")]
        if len(members):
            parts.append(render(members, f"Terms that already hold {symbol} (rank held out)"))
        return Group(*parts)

    emit(page, fmt=fmt, output=output, summary=summary, table=table)
