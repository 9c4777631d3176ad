"""The command-line options, declared once and shared by every command that takes them.

Each alias is an ``Annotated`` type: a command writes ``background: params.Background =
None`` and gets the same flag, help text and metavar as every other command. Parameters
are named after the fields of :class:`~gsea_plus.options.EnrichOptions`,
:class:`~gsea_plus.options.BatchOptions` and :class:`~gsea_plus.options.FigureOptions`, so
:func:`enrich_options`, :func:`batch_options` and :func:`figure_options` build the options
objects from a command's arguments; the options
classes own the defaults (:data:`ENRICH`, :data:`BATCH`), the environment fallbacks and
the checks. Choices come from the tuples in :mod:`gsea_plus.options`.
"""

from __future__ import annotations

import dataclasses
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from gsea_plus.options import (
    BATCH_ENGINES,
    CLUSTER_METHODS,
    COLOR_BY,
    CORRECTIONS,
    INPUT_FORMATS,
    MODEL_TESTS,
    OFFLINE_ENV,
    PLOT_KINDS,
    RANKS,
    SPECIES,
    BatchOptions,
    EnrichOptions,
    FigureOptions,
)

#: Default of every :class:`EnrichOptions` / :class:`BatchOptions` field, for signatures.
ENRICH: dict[str, Any] = {f.name: f.default for f in dataclasses.fields(EnrichOptions) if f.init}
BATCH: dict[str, Any] = {f.name: f.default for f in dataclasses.fields(BatchOptions) if f.init}


def one_of(values: tuple[str, ...] | list[str]) -> str:
    """The metavar of a choice option: its choices.

    The options classes check the value; their messages name the option and every choice.
    """
    return "[" + "|".join(values) + "]"


class Format(str, Enum):
    """Output formats. ``auto`` is a rich table on a terminal and TSV otherwise."""

    auto = "auto"
    table = "table"
    tsv = "tsv"
    csv = "csv"
    json = "json"
    jsonl = "jsonl"
    parquet = "parquet"
    xlsx = "xlsx"


LIBRARY_HELP = (
    "Library: a short alias (KEGG, GO_BP, GO_MF, GO_CC, ChEA, GWAS, Reactome, WikiPathways, "
    "Hallmark, ...; see 'gsea-plus libraries list'), an Enrichr library name "
    "(KEGG_2021_Human), or a GMT file (any extension, gzipped or not). Repeat to test several."
)
BACKGROUND_HELP = (
    "Background (universe). Default: the library's genes (N = genes in any term; the list is "
    "intersected with them, like gseapy). An integer, e.g. 20000: a fixed N like Enrichr "
    "(every unique input gene counts in n; terms are used whole). A file of genes (e.g. the "
    "expressed genes): N = its size, and the list and every term are intersected with it, "
    "like Enrichr's background mode."
)
CORRECTION_HELP = (
    "Multiple-testing correction (statsmodels multipletests names, or none). Applied per "
    "library over the terms that pass --min-size/--max-size and share at least 1 gene with "
    "the list; --min-overlap only filters the rows shown."
)
MIN_OVERLAP_HELP = (
    "Report terms with >= this many list genes (default 1; with the model 0, every term, "
    "predicted genes counting too)."
)
MODEL_TEST_HELP = "The model-based test (default: combined). " + " ".join(
    f"{name}: {test.summary}." for name, test in MODEL_TESTS.items()
)

# ------------------------------------------------------------------------- enrichment

Library = Annotated[list[str], typer.Option("--library", "-l", metavar="NAME", help=LIBRARY_HELP)]
Background = Annotated[
    str | None, typer.Option("--background", "-b", metavar="N|FILE", help=BACKGROUND_HELP)
]
Correction = Annotated[
    str,
    typer.Option(
        "--correction",
        metavar="METHOD",
        help=CORRECTION_HELP + " One of: " + ", ".join(CORRECTIONS) + ".",
    ),
]
MinSize = Annotated[
    int, typer.Option("--min-size", metavar="N", min=0, help="Smallest term size kept.")
]
MaxSize = Annotated[
    int | None, typer.Option("--max-size", metavar="N", min=0, help="Largest term size kept.")
]
MinOverlap = Annotated[
    int | None, typer.Option("--min-overlap", metavar="N", min=0, help=MIN_OVERLAP_HELP)
]
Offline = Annotated[
    bool,
    typer.Option(
        "--offline",
        metavar="",
        help=f"Never use the network; fail, naming what is missing, if a library is not "
        f"cached (also env {OFFLINE_ENV}=1).",
    ),
]
Hgnc = Annotated[
    Path | None,
    typer.Option(
        "--hgnc",
        metavar="FILE",
        help="An HGNC complete-set table (hgnc_complete_set.txt, gz ok) to use instead of the "
        "identifier map in the package (a newer one; also env GSEA_PLUS_HGNC).",
    ),
]

Species = Annotated[
    str,
    typer.Option(
        "--species",
        metavar=one_of(SPECIES),
        help="Species of the input identifiers. human: symbols, aliases, previous symbols, "
        "Ensembl and Entrez IDs are converted to current HGNC symbols. mouse: mouse symbols "
        "and Entrez IDs are mapped to their human orthologs (for human libraries).",
    ),
]

# ------------------------------------------------------------------------- the model

Augment = Annotated[
    int,
    typer.Option(
        "--augment",
        "-a",
        metavar="N",
        min=0,
        help="Add the model's top N predicted genes (not in the list, within the background) "
        "and show which hit each term (Predicted Overlap/Genes, marked * in the table). "
        "P-values come from --model-test, never from plain Fisher on the augmented list (not "
        "valid: predicted genes are coherent with each other).",
    ),
]
Rank = Annotated[
    str,
    typer.Option(
        "--rank",
        metavar=one_of(RANKS),
        help="overlap (classical) or embedding: rank terms with the gene set foundation "
        "model's evidence (see --model-test); every term passing the size filters is tested "
        "and reported.",
    ),
]
ModelTest = Annotated[
    str | None,
    typer.Option("--model-test", metavar="TEST", help=MODEL_TEST_HELP, show_default=False),
]
Compare = Annotated[
    bool,
    typer.Option(
        "--compare",
        metavar="",
        help="Show the classical and the model evidence side by side: each with its own "
        "adjusted p-value and rank.",
    ),
]
Model = Annotated[
    str | None,
    typer.Option(
        "--model",
        "-m",
        metavar="DIR|ID",
        help="Model directory or hub id (owner/name); default: the bundled model.",
    ),
]

# ------------------------------------------------------------------------- output

Top = Annotated[
    int | None,
    typer.Option(
        "--top",
        "-n",
        metavar="N",
        min=1,
        help="Rows per library: on the terminal (default 10), and in -o files and pipes "
        "when given (default: every row).",
        show_default=False,
    ),
]
TerminalRows = Annotated[
    int,
    typer.Option("--top", "-n", metavar="N", min=1, help="Rows shown in the terminal table."),
]
OutputFormat = Annotated[
    Format,
    typer.Option(
        "--format",
        "-f",
        metavar="FORMAT",
        help="Output format: " + ", ".join(f.value for f in Format) + ". auto: a rich table on "
        "a terminal, TSV when piped or redirected, or the -o file's suffix.",
    ),
]
Output = Annotated[
    Path | None,
    typer.Option("--output", "-o", metavar="FILE", help="Write the full table to this file."),
]
Plot = Annotated[
    Path | None,
    typer.Option("--plot", metavar="FILE", help="Draw a plot of the top terms (.png, .svg, .pdf)."),
]
PlotKind = Annotated[
    str,
    typer.Option(
        "--plot-kind",
        metavar=one_of(PLOT_KINDS),
        help="dot or bar: the top terms (x = -log10 adjusted p, size = overlap); map: an "
        "enrichment map of the clustered terms (edges where they share genes).",
    ),
]
ColorBy = Annotated[
    str,
    typer.Option(
        "--color-by",
        metavar=one_of(COLOR_BY),
        help="Colour of the dots or bars: adjusted p, or the combined score.",
    ),
]
Report = Annotated[
    Path | None,
    typer.Option(
        "--report",
        metavar="FILE.html",
        help="Write a self-contained HTML report: header (input, libraries with checksums, "
        "command line, versions), a sortable table, the figures, a methods paragraph.",
    ),
]
Cluster = Annotated[
    bool,
    typer.Option(
        "--cluster",
        metavar="",
        help="Group redundant significant terms by the list genes they share (Cohen's kappa "
        "as in DAVID, average linkage): adds Cluster and Representative columns.",
    ),
]
ClusterMethod = Annotated[
    str,
    typer.Option(
        "--cluster-method",
        metavar=one_of(CLUSTER_METHODS),
        help="Similarity of two terms' genes for --cluster.",
    ),
]
ClusterThreshold = Annotated[
    float | None,
    typer.Option(
        "--cluster-threshold",
        metavar="X",
        min=0.0,
        max=1.0,
        help="Similarity at or above which terms group (default: 0.35 for kappa and "
        "Jaccard, 0.5 for overlap).",
        show_default=False,
    ),
]
Representatives = Annotated[
    bool,
    typer.Option(
        "--representatives",
        metavar="",
        help="Show one term per cluster (the lowest adjusted p): in the table, -o file, "
        "plot and report (implies --cluster).",
    ),
]

# ------------------------------------------------------------------------- batch

BatchOutput = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        metavar="FILE",
        help="Write the results here (atomically: nothing is left if the run fails). "
        "Default: stdout.",
    ),
]
BatchFormat = Annotated[
    Format,
    typer.Option(
        "--format",
        "-f",
        metavar="FORMAT",
        help="tsv, csv, jsonl or parquet. auto: from the -o suffix, else tsv.",
    ),
]
Summary = Annotated[
    Path | None,
    typer.Option(
        "--summary",
        metavar="FILE",
        help="Write the per-list summary (recognized genes, terms tested, significant "
        "terms at adjusted p < 0.05, top term) as TSV here; otherwise its first rows go "
        "to stderr.",
    ),
]
BatchPlot = Annotated[
    Path | None,
    typer.Option(
        "--plot",
        metavar="FILE",
        help="Draw the lists x terms dot plot (.png, .svg, .pdf): size = overlap / list "
        "size, colour = adjusted p; each list's top terms, as clusterProfiler's "
        "compareCluster chooses them. Lists named GROUP:up and GROUP:down are drawn by "
        "group, up and down side by side.",
    ),
]
BatchTop = Annotated[
    int | None,
    typer.Option("--top", "-n", metavar="N", min=1, help="Keep each list's N best terms."),
]
Engine = Annotated[
    str,
    typer.Option(
        "--engine",
        metavar=one_of(BATCH_ENGINES),
        help="Where chunks run: here, or a Dask cluster.",
    ),
]
Scheduler = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        metavar="ADDRESS",
        help="Dask scheduler address (tcp://host:8786). Without it, --engine dask starts a "
        "local cluster.",
    ),
]
Workers = Annotated[
    int | None,
    typer.Option(
        "--workers",
        metavar="N",
        min=1,
        help="Worker processes of the local Dask cluster (default: CPUs).",
    ),
]
InputFormat = Annotated[
    str,
    typer.Option(
        "--input-format",
        metavar=one_of(INPUT_FORMATS),
        help="How INPUT is laid out (long: list_id<TAB>gene; auto: detected).",
    ),
]
ChunkSize = Annotated[
    int | None,
    typer.Option(
        "--chunk-size",
        metavar="N",
        min=1,
        help="Lists per chunk (default: sized to bound memory).",
    ),
]


def _build(cls: type, arguments: dict[str, Any]) -> Any:
    values = {
        f.name: arguments[f.name] for f in dataclasses.fields(cls) if f.init and f.name in arguments
    }
    return cls(**values)


def enrich_options(arguments: dict[str, Any]) -> EnrichOptions:
    """The :class:`EnrichOptions` of a command's arguments (``locals()`` of the command).

    A flag left off (``--offline`` absent) is passed as "not given", so the options'
    environment fallback (``GSEA_PLUS_OFFLINE``) applies.
    """
    arguments = dict(arguments)
    if arguments.get("offline") is False:
        arguments["offline"] = None
    return _build(EnrichOptions, arguments)


def batch_options(arguments: dict[str, Any]) -> BatchOptions:
    """The :class:`BatchOptions` of a command's arguments (``locals()`` of the command)."""
    return _build(BatchOptions, arguments)


def offline(flag: bool) -> bool | None:
    """``--offline`` as the options take it: ``None`` when absent (the environment decides)."""
    return True if flag else None


def figure_options(arguments: dict[str, Any]) -> FigureOptions:
    """The :class:`FigureOptions` of a command's arguments, checked before any work."""
    from gsea_plus.api.figures import check_figure_paths

    return check_figure_paths(_build(FigureOptions, arguments))


def check_output(fmt: Format, output: Path | None) -> None:
    """Refuse an output before any work: an unknown suffix, a directory, a closed stdout."""
    from gsea_plus.cli.common import resolve_format
    from gsea_plus.output import STDOUT
    from gsea_plus.output import check_output as usable

    if output is not None and str(output) != STDOUT:
        resolve_format(fmt, output)
    usable(output)


def command_line() -> str:
    """The command as typed (for reports): ``gsea-plus`` and its arguments, shell-quoted."""
    import shlex
    import sys

    return shlex.join(["gsea-plus", *sys.argv[1:]])
