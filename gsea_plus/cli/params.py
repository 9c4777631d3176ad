"""The command-line options, declared once and shared by every command that takes them.

Each alias is an ``Annotated`` type: a command writes ``background: params.Background =
None`` and gets the same flag, help text and metavar as every other command. Parameters
are named after the fields of :class:`~gsea_plus.options.EnrichOptions` and
:class:`~gsea_plus.options.BatchOptions`, so :func:`enrich_options` and
:func:`batch_options` build the options objects from a command's arguments; the options
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
    CORRECTIONS,
    INPUT_FORMATS,
    MODEL_TESTS,
    OFFLINE_ENV,
    RANKS,
    SPECIES,
    BatchOptions,
    EnrichOptions,
)

#: Default of every :class:`EnrichOptions` / :class:`BatchOptions` field, for signatures.
ENRICH: dict[str, Any] = {f.name: f.default for f in dataclasses.fields(EnrichOptions) if f.init}
BATCH: dict[str, Any] = {f.name: f.default for f in dataclasses.fields(BatchOptions) if f.init}


def one_of(values: tuple[str, ...] | list[str]) -> str:
    """The metavar of a choice option: its choices.

    The options classes check the value; their messages name the option and every choice.
    """
    return "[" + "|".join(values) + "]"


#: Kinds of ``--plot``.
PLOT_KINDS = ("dot", "bar")


class Format(str, Enum):
    """Output formats. ``auto`` is a rich table on a terminal and TSV otherwise."""

    auto = "auto"
    table = "table"
    tsv = "tsv"
    csv = "csv"
    json = "json"
    jsonl = "jsonl"
    parquet = "parquet"


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
    int, typer.Option("--top", "-n", metavar="N", min=1, help="Rows shown in the terminal table.")
]
OutputFormat = Annotated[
    Format,
    typer.Option(
        "--format",
        "-f",
        help="Output format. auto: a rich table on a terminal, TSV when piped or redirected "
        "(or the -o file's suffix).",
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
    str, typer.Option("--plot-kind", metavar=one_of(PLOT_KINDS), help="Kind of plot.")
]

# ------------------------------------------------------------------------- batch

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


# ------------------------------------------------------------------------- clustering, reports

Cluster = Annotated[
    bool,
    typer.Option(
        "--cluster",
        metavar="",
        help="Group redundant significant terms (adjusted p or FDR <= 0.05) by the genes that "
        "make them significant (the list's genes in the term; for prerank, the leading edge): "
        "Cohen's kappa, average linkage, as DAVID and Metascape. Adds the columns Cluster, "
        "Representative and Cluster Size.",
    ),
]
ClusterThreshold = Annotated[
    float | None,
    typer.Option(
        "--cluster-threshold",
        metavar="X",
        min=-1.0,
        max=1.0,
        help="Kappa at or above which terms group (default 0.35, the middle of DAVID's and "
        "Metascape's range). Needs --cluster.",
        show_default=False,
    ),
]
Representatives = Annotated[
    bool,
    typer.Option(
        "--representatives",
        metavar="",
        help="Show and write only the representative (most significant term) of each "
        "cluster. Needs --cluster.",
    ),
]
Report = Annotated[
    Path | None,
    typer.Option(
        "--report",
        metavar="FILE.html",
        help="Write a self-contained HTML report: the run (input, libraries with versions "
        "and sha256, command line), figures, a sortable and filterable table, a methods "
        "paragraph. It loads nothing from the network.",
    ),
]
