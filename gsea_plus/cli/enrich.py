"""``gsea-plus enrich``: over-representation analysis of one gene list."""

from __future__ import annotations

from pathlib import Path

import typer

from gsea_plus.cli.app import app
from gsea_plus.cli.common import (
    Format,
    emit,
    model_cli_options,
    model_options_from_cli,
    offline_option,
)

BACKGROUND_HELP = (
    "Background (universe). Default: the library's genes (N = genes in any term; the list is "
    "intersected with them, like gseapy). An integer, e.g. 20000: a fixed N like Enrichr "
    "(every unique input gene counts in n; terms are used whole). A file of genes (e.g. the "
    "expressed genes): N = its size, and the list and every term are intersected with it, "
    "like Enrichr's background mode."
)
CORRECTION_HELP = (
    "Multiple-testing correction (statsmodels multipletests: fdr_bh, fdr_by, bonferroni, "
    "holm, holm-sidak, sidak, hommel, simes-hochberg, or none). Applied per library over the "
    "terms that pass --min-size/--max-size and share at least 1 gene with the list; "
    "--min-overlap only filters the rows shown."
)
MIN_OVERLAP_HELP = (
    "Report terms with >= this many list genes (default 1; with the model 0, every term, "
    "predicted genes counting too)."
)
MODEL_OPTIONS = model_cli_options()
LIBRARY_HELP = (
    "Library: a short alias (KEGG, GO_BP, GO_MF, GO_CC, ChEA, GWAS, Reactome, WikiPathways, "
    "Hallmark, ...; see 'gsea-plus libraries list'), an Enrichr library name "
    "(KEGG_2021_Human), or a GMT file (any extension, gzipped or not). Repeat to test several."
)


@app.command("enrich")
def enrich_cmd(
    genes: str = typer.Argument(
        ..., help="Gene list file (one per line, or comma/tab/space separated), or - for stdin."
    ),
    library: list[str] = typer.Option(["KEGG"], "--library", "-l", help=LIBRARY_HELP),
    background: str | None = typer.Option(None, "--background", "-b", help=BACKGROUND_HELP),
    correction: str = typer.Option("fdr_bh", "--correction", help=CORRECTION_HELP),
    min_size: int = typer.Option(1, "--min-size", help="Smallest term size kept.", min=0),
    max_size: int | None = typer.Option(None, "--max-size", help="Largest term size kept."),
    min_overlap: int | None = typer.Option(None, "--min-overlap", help=MIN_OVERLAP_HELP, min=0),
    augment: int = MODEL_OPTIONS["augment"],
    rank: str = MODEL_OPTIONS["rank"],
    model_test: str | None = MODEL_OPTIONS["test"],
    compare: bool = MODEL_OPTIONS["compare"],
    model: str | None = MODEL_OPTIONS["model"],
    top: int = typer.Option(20, "--top", "-n", help="Rows shown in the terminal table.", min=1),
    fmt: Format = typer.Option(
        Format.auto,
        "--format",
        "-f",
        help="Output format. auto: a rich table on a terminal, TSV when piped or redirected.",
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write the full table to this file."
    ),
    plot: Path | None = typer.Option(
        None, "--plot", help="Draw a dot plot of the top terms (.png, .svg, .pdf)."
    ),
    plot_kind: str = typer.Option("dot", "--plot-kind", help="dot or bar."),
    offline: bool = offline_option(),
    hgnc: Path | None = typer.Option(
        None,
        "--hgnc",
        envvar="GSEA_PLUS_HGNC",
        help="HGNC complete-set table (hgnc_complete_set.txt, gz ok): match input genes missing "
        "from a library through HGNC aliases and previous symbols.",
    ),
) -> None:
    """Test a gene list for over-representation in gene set libraries (one-sided Fisher).

    P-values are exact hypergeometric upper tails (equal to scipy's hypergeom.sf), with a
    log10 column that does not underflow. Odds Ratio follows Enrichr: a*d / max(b*c, 1),
    where a = overlap, b = term genes not in the list, c = list genes not in the term,
    d = the rest of the background. Combined Score = -ln(p) * Odds Ratio. Rows are sorted
    by p-value.

    With --augment N or --rank embedding, the gene set foundation model adds its evidence
    (see --model-test): every term passing the size filters is tested, the P-value is the
    model-based test's, and Classical P-value, Model P-value, Model Score (a z-score),
    Predicted Overlap and Predicted Genes are added. Overlap and Genes stay the input's own.
    """
    from gsea_plus.engine import run_enrich
    from gsea_plus.stats import CORRECTIONS

    if correction not in CORRECTIONS:
        from gsea_plus.errors import InputError

        raise InputError(f"unknown correction {correction!r}; choose from {', '.join(CORRECTIONS)}")
    if plot_kind not in ("dot", "bar"):
        from gsea_plus.errors import InputError

        raise InputError("--plot-kind must be dot or bar")
    if plot is not None:  # before any work, so a bad name leaves no -o file behind
        from gsea_plus.plot import check_plot_path

        check_plot_path(plot)
    options = model_options_from_cli(augment, rank, model_test, compare)
    result, info = run_enrich(
        genes,
        library=list(library),
        background=background,
        correction=correction,
        min_size=min_size,
        max_size=max_size,
        min_overlap=min_overlap,
        offline=offline,
        hgnc=hgnc,
        model_options=options,
        model=model,
    )
    if plot is not None:
        from gsea_plus.engine import to_frame
        from gsea_plus.plot import plot_enrichment

        plot_enrichment(to_frame(result), plot, kind=plot_kind, top=top)

    def table():
        from gsea_plus.output import rich_table

        return rich_table(result, top=top, show_library=len(library) > 1)

    emit(result, fmt=fmt, output=output, summary=_summary(info), table=table)


def _summary(info) -> str:
    from rich.markup import escape

    parts = []
    for lib in info.per_library:
        tested = (
            f"{lib['terms_tested']} terms tested by the model ({lib['method']})"
            if lib.get("method")
            else f"{lib['terms_tested']} terms with overlap"
        )
        parts.append(
            f"{escape(lib['version'])}: {lib['recognized']} of {info.input_size} genes recognized, "
            f"n={lib['list_size']}, background N={lib['background']}, {tested}"
        )
    extra = ""
    if info.mangled:
        fixed = ", ".join(f"{k}->{v[0]}" for k, v in info.mangled.items())
        extra += f"; spreadsheet-mangled symbols recognized: {escape(fixed)}"
    if info.duplicates:
        extra += f"; {len(info.duplicates)} duplicates removed"
    return f"[dim]input: {info.input_size} genes; " + " | ".join(parts) + extra + "[/dim]"
