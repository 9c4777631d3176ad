"""``gsea-plus prerank``: preranked enrichment of a user's ranked signature."""

from __future__ import annotations

from pathlib import Path

import typer

from gsea_plus.cli.app import app
from gsea_plus.cli.common import Format, emit, offline_option
from gsea_plus.cli.enrich import LIBRARY_HELP


@app.command("prerank")
def prerank_cmd(
    signature: str = typer.Argument(
        ...,
        help="Ranked signature: two columns, gene and score (tab, comma or space "
        "separated), or - for stdin.",
    ),
    library: list[str] = typer.Option(["KEGG"], "--library", "-l", help=LIBRARY_HELP),
    min_size: int = typer.Option(
        5, "--min-size", help="Smallest number of term genes in the signature."
    ),
    max_size: int = typer.Option(
        1000, "--max-size", help="Largest number of term genes in the signature."
    ),
    permutations: int = typer.Option(
        2000, "--permutations", help="Random sets per anchor size for the null.", min=100
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the null's random sets."),
    weight: float = typer.Option(
        1.0,
        "--weight",
        help="Exponent on |score| in the running sum (1 = GSEA preranked, 0 = unweighted).",
        min=0.0,
    ),
    top: int = typer.Option(20, "--top", "-n", help="Rows shown in the terminal table.", min=1),
    fmt: Format = typer.Option(
        Format.auto, "--format", "-f", help="auto, table, tsv, csv, json, jsonl, parquet."
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write the full table to this file."
    ),
    plot: Path | None = typer.Option(
        None, "--plot", help="Draw the running-sum plot of a term (.png, .svg, .pdf)."
    ),
    plot_term: str | None = typer.Option(
        None, "--plot-term", help="Term to plot (default: the top row)."
    ),
    offline: bool = offline_option(),
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
        offline=offline,
    )
    if plot is not None:
        from gsea_plus.plot import plot_running_sum

        plot_running_sum(sig, result, plot, term=plot_term, library=list(library), offline=offline)
    summary = (
        f"[dim]signature: {len(sig)} genes; {len(result)} terms tested; "
        f"{int((result['FDR'] < 0.05).sum())} with FDR < 0.05[/dim]"
    )

    def table():
        from rich.markup import escape
        from rich.table import Table

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
                escape(r[0]),
                f"{r[1]:.3f}",
                f"{r[2]:.2f}",
                f"{r[3]:.2e}",
                f"{r[4]:.2e}",
                str(r[5]),
                escape(shown),
            )
        return out

    emit(result, fmt=fmt, output=output, summary=summary, table=table)
