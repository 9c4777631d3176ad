"""``gsea-plus enrich``: over-representation analysis of one gene list."""

from __future__ import annotations

from typing import Annotated

import typer

from gsea_plus.cli import params
from gsea_plus.cli.common import emit
from gsea_plus.cli.params import ENRICH, PLOT_KINDS, Format


def enrich_cmd(
    genes: Annotated[
        str | None,
        typer.Argument(
            metavar="GENES",
            help="Gene list file (one per line, or comma/tab/space separated; symbols, "
            "Ensembl or Entrez IDs), or - for stdin.",
            show_default=False,
        ),
    ] = None,
    example: Annotated[
        bool,
        typer.Option(
            "--example",
            metavar="",
            help="Use the bundled example list instead of GENES: the 100 genes most "
            "up-regulated with age in human skeletal muscle (GTEx).",
        ),
    ] = False,
    library: params.Library = ["KEGG"],  # noqa: B006 (typer copies list defaults)
    background: params.Background = ENRICH["background"],
    correction: params.Correction = ENRICH["correction"],
    min_size: params.MinSize = ENRICH["min_size"],
    max_size: params.MaxSize = ENRICH["max_size"],
    min_overlap: params.MinOverlap = ENRICH["min_overlap"],
    augment: params.Augment = ENRICH["augment"],
    rank: params.Rank = ENRICH["rank"],
    test: params.ModelTest = ENRICH["test"],
    compare: params.Compare = ENRICH["compare"],
    model: params.Model = ENRICH["model"],
    top: params.Top = 20,
    fmt: params.OutputFormat = Format.auto,
    output: params.Output = None,
    plot: params.Plot = None,
    plot_kind: params.PlotKind = "dot",
    offline: params.Offline = False,
    hgnc: params.Hgnc = ENRICH["hgnc"],
    species: params.Species = ENRICH["species"],
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
    from gsea_plus.api import enrich_table
    from gsea_plus.errors import InputError

    options = params.enrich_options(locals())
    genes = _genes_argument(genes, example=example)
    if plot_kind not in PLOT_KINDS:
        raise InputError(f"--plot-kind must be one of {', '.join(PLOT_KINDS)}")
    if plot is not None:  # before any work, so a bad name leaves no -o file behind
        from gsea_plus.plot import check_plot_path

        check_plot_path(plot)
    result, info = enrich_table(genes, list(library), options=options)
    if plot is not None:
        from gsea_plus.engine import to_frame
        from gsea_plus.plot import plot_enrichment

        plot_enrichment(to_frame(result), plot, kind=plot_kind, top=top)

    def table():
        from gsea_plus.output import rich_table

        return rich_table(result, top=top, show_library=len(library) > 1)

    emit(result, fmt=fmt, output=output, summary=_summary(info), table=table)


def _genes_argument(genes: str | None, *, example: bool) -> str:
    from gsea_plus.errors import InputError

    if example:
        if genes is not None:
            raise InputError("give GENES or --example, not both")
        from gsea_plus.data import example_gene_list

        return str(example_gene_list())
    if genes is None:
        raise InputError("Missing argument 'GENES': a gene list file, - for stdin, or --example")
    return genes


def _summary(info) -> str:
    from gsea_plus.output import show

    parts = []
    for lib in info.per_library:
        tested = (
            f"{lib['terms_tested']} terms tested by the model ({lib['method']})"
            if lib.get("method")
            else f"{lib['terms_tested']} terms with overlap"
        )
        conversion = lib.get("conversion")
        converted = (
            f" ({show(conversion.summary(limit=3))})"
            if conversion is not None and conversion.summary()
            else ""
        )
        parts.append(
            f"{show(lib['version'])}: {lib['recognized']} of {info.input_size} genes recognized"
            f"{converted}, n={lib['list_size']}, background N={lib['background']}, {tested}"
        )
    extra = ""
    if info.mangled:
        fixed = ", ".join(f"{k}->{v[0]}" for k, v in info.mangled.items())
        extra += f"; spreadsheet-mangled symbols recognized: {show(fixed)}"
    if info.duplicates:
        extra += f"; {len(info.duplicates)} duplicates removed"
    return f"[dim]input: {info.input_size} genes; " + " | ".join(parts) + extra + "[/dim]"
