"""``gsea-plus prerank``: preranked enrichment of a user's ranked signature."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gsea_plus.cli import params
from gsea_plus.cli.common import emit, err_console
from gsea_plus.cli.params import ENRICH, Format

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from rich.console import Console, ConsoleOptions, RenderResult
    from rich.table import Table

    from gsea_plus.prerank import PrerankInfo, Signature

SCORE_HELP = (
    "The score column of a table: a header name or a 1-based column number (R's row "
    "names are column 1). Default: DESeq2 stat (log2FoldChange without it), limma t, edgeR "
    "logFC, Seurat avg_log2FC, recognised by their headers; a table's only numeric column, "
    "or its 'score' column. A table with several numeric columns needs it."
)
GENE_COLUMN_HELP = (
    "The gene column of a table: a header name or a 1-based number. Default: the row names, "
    "else a column named gene, symbol, gene_id, ensembl_gene_id, entrez_id, id, ..., else "
    "the first text column."
)


def prerank_cmd(
    signature: Annotated[
        str,
        typer.Argument(
            metavar="SIGNATURE",
            help="Ranked signature, or - for stdin: two columns, gene and score (tab, comma "
            "or space separated), or a table: a DESeq2, limma, edgeR or Seurat result "
            "written by R or pandas (recognised by its header), or any table with --score. "
            "Identifiers: symbols, Ensembl (version suffixes ok) or Entrez IDs.",
        ),
    ],
    library: params.Library = ["KEGG"],  # noqa: B006 (typer copies list defaults)
    score: Annotated[
        str | None,
        typer.Option("--score", metavar="COLUMN", help=SCORE_HELP, show_default=False),
    ] = None,
    gene_column: Annotated[
        str | None,
        typer.Option("--gene-column", metavar="COLUMN", help=GENE_COLUMN_HELP, show_default=False),
    ] = None,
    species: params.Species = ENRICH["species"],
    hgnc: params.Hgnc = ENRICH["hgnc"],
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
            "--plot",
            metavar="FILE",
            help="Draw running sums (.png, .svg, .pdf): the --plot-term terms, by default the "
            "most significant term with a positive NES and the one with a negative NES.",
        ),
    ] = None,
    plot_term: Annotated[
        list[str] | None,
        typer.Option(
            "--plot-term",
            metavar="TERM",
            help="A term to draw in the --plot (and --report) running sums; repeat for up "
            "to 6, stacked, each leading edge shaded.",
            show_default=False,
        ),
    ] = None,
    report: params.Report = None,
    cluster: params.Cluster = False,
    cluster_threshold: params.ClusterThreshold = None,
    representatives: params.Representatives = False,
    offline: params.Offline = False,
) -> None:
    """Preranked enrichment (GSEA running sum) of a ranked signature.

    ES: the running-sum maximum deviation (hits weighted by |score|^weight). P-value: the
    same-sign tail of a gamma null fitted to the ES of random gene sets at anchor sizes and
    interpolated to each term's size (as blitzgsea does); NES = ES / mean same-sign null ES;
    FDR: Benjamini-Hochberg. Leading edge: the term's genes before the peak (after the
    trough for a negative ES).

    Identifiers are converted per library before matching, as gene lists are: those the
    library holds stay; Ensembl, Entrez, previous symbols and aliases become current symbols
    (--species mouse: human orthologs); a gene given twice keeps its largest |score|.
    """
    from gsea_plus import progress
    from gsea_plus.prerank import prerank_table, read_signature

    terms = list(plot_term or [])
    _check_options(
        plot=plot,
        plot_term=terms,
        report=report,
        cluster=cluster,
        cluster_threshold=cluster_threshold,
        representatives=representatives,
    )
    with progress.task("reading the signature"):
        sig = read_signature(signature, score=score, gene_column=gene_column)
    source = sig.source
    if source is not None and (source.kind != "two-column" or source.missing):
        from gsea_plus.output import show

        err_console().print(f"signature: {show(source.describe())}")
    result, info = prerank_table(
        sig,
        library=list(library),
        min_size=min_size,
        max_size=max_size,
        permutations=permutations,
        weight=weight,
        seed=seed,
        offline=params.offline(offline),
        species=species,
        hgnc=hgnc,
    )
    cluster_options = None
    if cluster:
        from gsea_plus.cluster import DEFAULT_THRESHOLDS, P_CUTOFF, cluster_terms

        threshold = DEFAULT_THRESHOLDS["kappa"] if cluster_threshold is None else cluster_threshold
        cluster_options = {"method": "kappa", "threshold": threshold, "p_cutoff": P_CUTOFF}
        with progress.task("clustering redundant terms"):
            result = cluster_terms(result, threshold=threshold, universe_size=len(sig))
    shown = result
    if representatives:
        from gsea_plus.cluster import representatives as only_representatives

        shown = only_representatives(result)
    name = "standard input" if signature == "-" else Path(signature).name
    if plot is not None:
        _plot(
            plot,
            result,
            info,
            terms=terms or default_plot_terms(shown if len(shown) else result),
            library=list(library),
            offline=params.offline(offline),
            weight=weight,
            name=name,
        )
    if report is not None:
        _report(
            report,
            result,
            info,
            signature=signature,
            terms=terms,
            library=list(library),
            offline=params.offline(offline),
            cluster=cluster_options,
            parameters={
                "min_size": min_size,
                "max_size": max_size,
                "permutations": permutations,
                "weight": weight,
                "seed": seed,
                "species": species,
            },
            name=name,
        )
    emit(
        shown,
        fmt=fmt,
        output=output,
        summary=_summary(info, result, shown if representatives else None),
        table=lambda: PrerankTable(shown, top=top),
    )


def _check_options(
    *,
    plot: Path | None,
    plot_term: list[str],
    report: Path | None,
    cluster: bool,
    cluster_threshold: float | None,
    representatives: bool,
) -> None:
    """Refuse option combinations and output paths before any work."""
    from gsea_plus.errors import InputError

    if plot_term:
        from gsea_plus.plot import MAX_RUNNING_SUM_TERMS

        if plot is None and report is None:
            raise InputError("--plot-term chooses the terms of --plot FILE or --report FILE")
        if len(dict.fromkeys(plot_term)) > MAX_RUNNING_SUM_TERMS:
            raise InputError(
                f"--plot-term: at most {MAX_RUNNING_SUM_TERMS} terms in one running-sum plot, "
                f"got {len(plot_term)}"
            )
    if not cluster:
        if representatives:
            raise InputError("--representatives needs --cluster")
        if cluster_threshold is not None:
            raise InputError("--cluster-threshold needs --cluster")
    if plot is not None:
        from gsea_plus.plot import check_plot_path

        check_plot_path(plot)
    if report is not None:
        from gsea_plus.report import check_report_path

        check_report_path(report)


def default_plot_terms(result: pd.DataFrame) -> list[str]:
    """The most significant term with a positive NES and the one with a negative NES."""
    terms = []
    for positive in (True, False):
        side = result[(result["NES"] > 0) == positive]
        if len(side):
            terms.append(str(side["Term"].iloc[0]))
    return terms


def _signature_for(info: PrerankInfo, result: pd.DataFrame, terms: list[str]) -> Signature:
    """The signature as matched to the library of the first plotted term."""
    if terms and "Library" in result.columns:
        rows = result[result["Term"] == terms[0]]
        if len(rows):
            return info.matched(str(rows["Library"].iloc[0]))
    return info.matched()


def _plot(
    path: Path,
    result: pd.DataFrame,
    info: PrerankInfo,
    *,
    terms: list[str],
    library: list[str],
    offline: bool | None,
    weight: float,
    name: str,
) -> None:
    from gsea_plus import progress
    from gsea_plus.output import output_kind, show
    from gsea_plus.plot import plot_running_sum

    with progress.task("drawing the running sums"):
        plot_running_sum(
            _signature_for(info, result, terms),
            result,
            path,
            term=terms,
            library=library,
            offline=offline,
            weight=weight,
            signature_name=name,
        )
    if output_kind(path) == "file":
        err_console().print(f"[dim]wrote the running-sum plot to {show(path)}[/dim]")


def _report(
    path: Path,
    result: pd.DataFrame,
    info: PrerankInfo,
    *,
    signature: str,
    terms: list[str],
    library: list[str],
    offline: bool | None,
    cluster: dict[str, Any] | None,
    parameters: dict[str, Any],
    name: str,
) -> None:
    import shlex
    import sys

    from gsea_plus import progress
    from gsea_plus.output import output_kind, show
    from gsea_plus.report import ReportContext, write_prerank_report

    sig = info.signature
    converted: dict[str, tuple[str, ...]] = {}
    libraries: list[Mapping[str, Any]] = []
    for row in info.per_library:
        match = row["match"]
        if match.conversion is not None:
            for token, (symbol, _) in match.conversion.converted.items():
                converted.setdefault(token, (symbol,))
        for gene, target in match.aliases.items():
            converted.setdefault(gene, (target,))
        libraries.append(
            {k: row[k] for k in ("library", "version", "sha256", "source", "terms")}
            | {"terms_tested": row["terms_tested"], "recognized": row["recognized"]}
        )
    extra = {}
    if sig.source is not None and sig.source.kind != "pairs":
        extra["Signature table"] = sig.source.describe()
    collapsed = sorted({g for row in info.per_library for g in row["match"].collapsed})
    if collapsed:
        extra["Genes given by several identifiers"] = (
            f"{len(collapsed)}, each kept with its largest |score|: "
            + ", ".join(collapsed[:20])
            + (f", +{len(collapsed) - 20} more" if len(collapsed) > 20 else "")
        )
    context = ReportContext(
        command_line=shlex.join(["gsea-plus", *sys.argv[1:]]),
        input="standard input" if signature == "-" else signature,
        input_size=len(sig),
        libraries=libraries,
        converted=converted,
        duplicates=list(sig.duplicates),
        correction="fdr_bh",
        parameters=parameters,
        extra=extra,
    )
    with progress.task("writing the report"):
        write_prerank_report(
            path,
            result,
            context,
            signature=_signature_for(info, result, terms),
            library=library,
            offline=offline,
            plot_terms=terms or None,
            signature_name=name,
            weight=float(parameters["weight"]),
            cluster=cluster,
        )
    if output_kind(path) == "file":
        err_console().print(f"[dim]wrote the report to {show(path)}[/dim]")


def _summary(info: PrerankInfo, result: pd.DataFrame, shown: pd.DataFrame | None) -> str:
    from gsea_plus.output import show

    parts = []
    for row in info.per_library:
        lib = result[result["Library"] == row["library"]]
        matched = row["match"].summary(limit=3)
        parts.append(
            f"{show(row['version'])}: {row['recognized']:,} genes in the library"
            + (f" ({show(matched)})" if matched else "")
            + f", {row['terms_tested']} terms tested, {int((lib['FDR'] < 0.05).sum())} with "
            "FDR < 0.05"
        )
    text = f"signature: {len(info.signature):,} genes | " + " | ".join(parts)
    if "Cluster" in result.columns:
        clusters = int(result["Cluster"].max()) if result["Cluster"].notna().any() else 0
        text += f"; {clusters} clusters of significant terms"
        if shown is not None:
            text += " (representatives shown)"
    return f"[dim]{text}[/dim]"


# ------------------------------------------------------------------------ the terminal table

_NUMBER_COLUMNS = ("#", "ES", "NES", "P-value", "FDR", "Size", "Cluster")


class PrerankTable:
    """The terminal table of prerank results, laid out for the console's width.

    Numbers and term IDs are never cut: the columns that do not fit are left out (in
    this order: Leading edge, ES, Cluster, Library), and term names are shortened with
    an ellipsis that keeps their trailing ID (``"Regulation Of… (GO:0010468)"``).
    """

    #: Narrowest Term column before optional columns are left out.
    TERM_MIN = 30
    #: Widest Term column.
    TERM_MAX = 60
    #: Narrowest Leading edge column worth showing.
    EDGE_MIN = 16

    def __init__(self, result: pd.DataFrame, *, top: int = 20) -> None:
        self.result = result
        self.top = top

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.table(options.max_width)

    def _cells(self) -> dict[str, list[str]]:
        import pandas as pd

        from gsea_plus.output import printable

        rows = self.result.head(self.top)
        cells: dict[str, list[str]] = {
            "#": [str(i) for i in range(1, len(rows) + 1)],
            "Term": [printable(t) for t in rows["Term"]],
            "ES": [f"{x:.3f}" for x in rows["ES"]],
            "NES": [f"{x:.2f}" for x in rows["NES"]],
            "P-value": [f"{x:.2e}" for x in rows["P-value"]],
            "FDR": [f"{x:.2e}" for x in rows["FDR"]],
            "Size": [str(int(x)) for x in rows["Size"]],
            "Leading edge": [printable(x) for x in rows["Leading Edge"]],
        }
        if "Library" in rows.columns and self.result["Library"].nunique() > 1:
            cells["Library"] = [printable(x) for x in rows["Library"]]
        if "Cluster" in rows.columns:
            cells["Cluster"] = [
                "" if pd.isna(x) else str(int(x)) for x in rows["Cluster"].astype(object)
            ]
        return cells

    @staticmethod
    def _overhead(columns: int) -> int:
        # box borders (columns + 1) and one space each side of a cell, not at the edges
        return 3 * columns - 1

    def layout(self, width: int) -> tuple[list[str], dict[str, int]]:
        """The columns shown at this width, and the widths of Term, Library, Leading edge."""
        cells = self._cells()
        natural = {c: max([len(c), *map(len, v)]) for c, v in cells.items()}
        term_need = min(natural["Term"], self.TERM_MAX)
        term_min = min(natural["Term"], self.TERM_MIN)
        columns = ["#", "Term", "NES", "P-value", "FDR", "Size"]
        widths = {"Library": min(natural.get("Library", 0), 24)}

        def room(cols: list[str]) -> int:
            fixed = sum(
                widths.get(c, natural[c]) for c in cols if c not in ("Term", "Leading edge")
            )
            return width - self._overhead(len(cols)) - fixed

        for optional in ("Library", "Cluster", "ES"):
            if optional in cells and room([*columns, optional]) >= term_min:
                columns.append(optional)
        edge_room = room([*columns, "Leading edge"])  # for Term and Leading edge together
        term = min(term_need, 48)
        if edge_room - term >= self.EDGE_MIN:
            columns.append("Leading edge")
            widths["Leading edge"] = min(natural["Leading edge"], edge_room - term)
            widths["Term"] = min(term_need, edge_room - widths["Leading edge"])
        else:
            widths["Term"] = max(min(term_need, room(columns)), min(term_min, 12))
        order = ["#", "Library", "Term", "ES", "NES", "P-value", "FDR", "Size", "Cluster"]
        shown = [c for c in order if c in columns] + (
            ["Leading edge"] if "Leading edge" in columns else []
        )
        return shown, widths

    def table(self, width: int) -> Table:
        """The rich table for a console ``width`` characters wide."""
        from rich.markup import escape
        from rich.table import Table

        from gsea_plus.plot import shorten_term

        cells = self._cells()
        columns, widths = self.layout(width)
        out = Table(header_style="bold", pad_edge=False, expand=False)
        for col in columns:
            if col in _NUMBER_COLUMNS:
                w = max([len(col), *map(len, cells[col])])
                out.add_column(col, justify="right", no_wrap=True, min_width=w)
            else:
                out.add_column(col, overflow="fold", max_width=widths[col])
        fdr = self.result.head(self.top)["FDR"].to_numpy()
        for i in range(len(cells["#"])):
            row = []
            for col in columns:
                value = cells[col][i]
                if col == "Term":
                    value = shorten_term(value, widths["Term"])
                elif col == "Library":
                    value = _clip(value, widths["Library"])
                elif col == "Leading edge":
                    value = _genes(value, widths["Leading edge"])
                row.append(value if col in _NUMBER_COLUMNS else escape(value))
            out.add_row(*row, style="bold" if fdr[i] < 0.05 else None)
        return out


def _clip(text: str, width: int) -> str:
    """``text`` in ``width`` characters, its end kept (a library's year: ``GO_Bio…_2023``)."""
    if len(text) <= width:
        return text
    tail = 5 if width >= 12 else 0
    return text[: max(width - 1 - tail, 1)] + "\u2026" + (text[-tail:] if tail else "")


def _genes(joined: str, width: int) -> str:
    """The first genes of a leading edge that fit in ``width``, and how many are left."""
    genes = [g for g in joined.split(";") if g]
    text = ""
    for k, gene in enumerate(genes):
        candidate = f"{text}, {gene}" if text else gene
        rest = len(genes) - k - 1
        more = f" +{rest}" if rest else ""
        if len(candidate) + len(more) > width:
            left = len(genes) - k
            return f"{text} +{left}" if text else f"+{left}"
        text = candidate
    return text
