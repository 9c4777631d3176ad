"""``gsea-plus enrich``: over-representation analysis of one gene list."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import typer

from gsea_plus.cli import params
from gsea_plus.cli.common import emit
from gsea_plus.cli.params import ENRICH, Format


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
    top: params.Top = None,
    fmt: params.OutputFormat = Format.auto,
    output: params.Output = None,
    plot: params.Plot = None,
    plot_kind: params.PlotKind = "dot",
    color_by: params.ColorBy = "p",
    report: params.Report = None,
    cluster: params.Cluster = False,
    cluster_method: params.ClusterMethod = "kappa",
    cluster_threshold: params.ClusterThreshold = None,
    representatives: params.Representatives = False,
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
    from gsea_plus.api.figures import clustered_rows, enrich_outputs

    options = params.enrich_options(locals())
    genes = _genes_argument(genes, example=example)
    params.check_output(fmt, output)
    figures = params.figure_options(locals())  # checks --plot/--report before any work
    result, info = enrich_table(genes, list(library), options=options)
    if top is not None:  # --top given: each library's best rows in files and pipes too
        result = _top_per_library(result, top)
    clustered, result = clustered_rows(result, figures)

    def table():
        from rich.console import Group

        from gsea_plus.cli.common import out_console
        from gsea_plus.terminal import enrich_sections

        return Group(
            *enrich_sections(
                result,
                width=out_console().width,
                top=top,
                libraries=info.per_library,
                compare=compare,
            )
        )

    emit(result, fmt=fmt, output=output, summary=_summary(info), table=table)
    written = enrich_outputs(
        clustered,
        info,
        figures,
        options=options,
        top=top,
        list_name=_list_name(genes, example=example),
        command_line=params.command_line(),
    )
    _wrote(written)


def _wrote(written) -> None:
    """A "wrote" line on stderr for each figure and report file, as -o gets one."""
    from gsea_plus.cli.common import err_console
    from gsea_plus.output import show

    what = {"plot": "the plot", "report": "the report"}
    for kind, path in written:
        err_console().print(f"[dim]wrote {what[kind]} to {show(path)}[/dim]")


def _list_name(genes: str, *, example: bool) -> str:
    from pathlib import Path

    if example:
        return "example list (ageing muscle, up 100)"
    return "standard input" if genes == "-" else Path(genes).name


def _top_per_library(table: Mapping[str, Any], top: int) -> dict[str, Any]:
    """The first ``top`` rows of each library, in the table's order."""
    import numpy as np

    libraries = np.asarray(table["Library"], dtype=object)
    keep = np.zeros(len(libraries), dtype=bool)
    for name in dict.fromkeys(libraries.tolist()):
        keep[np.flatnonzero(libraries == name)[:top]] = True
    return {c: np.asarray(v)[keep] for c, v in table.items()}


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
