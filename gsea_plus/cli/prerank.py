"""``gsea-plus prerank``: preranked enrichment of a user's ranked signature."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gsea_plus.cli import params
from gsea_plus.cli.common import emit
from gsea_plus.cli.params import Format


def prerank_cmd(
    signature: Annotated[
        str,
        typer.Argument(
            metavar="SIGNATURE",
            help="Ranked signature: two columns, gene and score (tab, comma or space "
            "separated), or - for stdin.",
        ),
    ],
    library: params.Library = ["KEGG"],  # noqa: B006 (typer copies list defaults)
    min_size: Annotated[
        int,
        typer.Option(
            "--min-size", metavar="N", min=1, help="Smallest number of term genes in the signature."
        ),
    ] = 5,
    max_size: Annotated[
        int,
        typer.Option(
            "--max-size", metavar="N", min=1, help="Largest number of term genes in the signature."
        ),
    ] = 1000,
    permutations: Annotated[
        int,
        typer.Option(
            "--permutations", metavar="N", min=100, help="Random sets per anchor size for the null."
        ),
    ] = 2000,
    seed: Annotated[
        int, typer.Option("--seed", metavar="N", help="Seed of the null's random sets.")
    ] = 0,
    weight: Annotated[
        float,
        typer.Option(
            "--weight",
            metavar="X",
            min=0.0,
            help="Exponent on |score| in the running sum (1 = GSEA preranked, 0 = unweighted).",
        ),
    ] = 1.0,
    top: params.TerminalRows = 20,
    fmt: params.OutputFormat = Format.auto,
    output: params.Output = None,
    plot: Annotated[
        Path | None,
        typer.Option(
            "--plot", metavar="FILE", help="Draw the running-sum plot of a term (.png, .svg, .pdf)."
        ),
    ] = None,
    plot_term: Annotated[
        str | None,
        typer.Option("--plot-term", metavar="TERM", help="Term to plot (default: the top row)."),
    ] = None,
    offline: params.Offline = False,
) -> None:
    """Preranked enrichment (GSEA running sum) of a ranked signature.

    ES: the running-sum maximum deviation (hits weighted by |score|^weight). P-value: the
    same-sign tail of a gamma null fitted to the ES of random gene sets at anchor sizes and
    interpolated to each term's size (as blitzgsea does); NES = ES / mean same-sign null ES;
    FDR: Benjamini-Hochberg. Leading edge: the term's genes before the peak (after the
    trough for a negative ES).
    """
    from gsea_plus.prerank import prerank, read_signature

    sig = read_signature(signature)
    result = prerank(
        sig,
        library=list(library),
        min_size=min_size,
        max_size=max_size,
        permutations=permutations,
        weight=weight,
        seed=seed,
        offline=params.offline(offline),
    )
    if plot is not None:
        from gsea_plus.plot import plot_running_sum

        plot_running_sum(
            sig,
            result,
            plot,
            term=plot_term,
            library=list(library),
            offline=params.offline(offline),
        )
    summary = (
        f"[dim]signature: {len(sig)} genes; {len(result)} terms tested; "
        f"{int((result['FDR'] < 0.05).sum())} with FDR < 0.05[/dim]"
    )

    def table():
        from rich.table import Table

        from gsea_plus.output import show

        out = Table(header_style="bold")
        for col in ("#", "Term", "ES", "NES", "P-value", "FDR", "Size", "Leading edge"):
            out.add_column(
                col,
                justify="right" if col not in ("Term", "Leading edge") else "left",
                overflow="fold",
                max_width=48 if col == "Term" else None,
            )
        for i, r in enumerate(result.head(top).itertuples(index=False), start=1):
            edge = r[7].split(";")
            shown = ", ".join(edge[:6]) + (f" +{len(edge) - 6}" if len(edge) > 6 else "")
            out.add_row(
                str(i),
                show(r[0]),
                f"{r[1]:.3f}",
                f"{r[2]:.2f}",
                f"{r[3]:.2e}",
                f"{r[4]:.2e}",
                str(r[5]),
                show(shown),
            )
        return out

    emit(result, fmt=fmt, output=output, summary=summary, table=table)
