"""Every enrichment option, once: its default, its environment fallback and its check.

The Python API (:func:`gsea_plus.enrich`, :func:`gsea_plus.enrich_many`), the batch
engines (local and Dask) and the command line all build and pass these frozen objects:

:class:`EnrichOptions`
    how one list is tested (background, correction, size filters, the model's evidence).
    Its model fields (``augment``, ``rank``, ``test``, ``compare``, ``model``) become a
    :class:`ModelOptions` (or ``None`` for a classical run) in
    :attr:`EnrichOptions.model_options`.
:class:`BatchOptions`
    how many lists are processed (top rows per list, chunks, the compute engine).

Adding an option is one field (with its default and its numpydoc line in the class's
``Attributes``), one check in ``__post_init__`` and one command-line alias in
:mod:`gsea_plus.cli.params`. :func:`with_options` gives the public functions one
keyword-only parameter per field, with the field's default, so nothing is declared twice.

This module imports nothing heavy (no numpy): the command line reads its defaults and
choices to build ``--help``.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from gsea_plus.errors import InputError

__all__ = [
    "BATCH_ENGINES",
    "CLUSTER_METHODS",
    "CLUSTER_THRESHOLDS",
    "COLOR_BY",
    "PLOT_KINDS",
    "PLOT_SUFFIXES",
    "REPORT_SUFFIXES",
    "CORRECTIONS",
    "DEFAULT_TEST",
    "HGNC_ENV",
    "INPUT_FORMATS",
    "MODEL_TESTS",
    "OFFLINE_ENV",
    "RANKS",
    "SPECIES",
    "BatchOptions",
    "canonical_background",
    "EnrichOptions",
    "FigureOptions",
    "ModelOptions",
    "ModelTest",
    "env_flag",
    "hgnc_default",
    "model_options",
    "offline_default",
    "with_options",
]

#: Environment variable: when set (1, true, yes), never touch the network.
OFFLINE_ENV = "GSEA_PLUS_OFFLINE"
#: Environment variable naming an HGNC complete-set table used for alias matching.
HGNC_ENV = "GSEA_PLUS_HGNC"

#: Multiple-testing corrections (statsmodels ``multipletests`` names), or ``none``.
CORRECTIONS = (
    "fdr_bh",
    "fdr_by",
    "bonferroni",
    "holm",
    "holm-sidak",
    "sidak",
    "hommel",
    "simes-hochberg",
    "fdr_tsbh",
    "fdr_tsbky",
    "none",
)
#: How terms are ranked: ``overlap`` (classical) or ``embedding`` (the model's evidence).
RANKS = ("overlap", "embedding")
#: Input formats of a batch (see :func:`gsea_plus.batch.read_batch`).
INPUT_FORMATS = ("auto", "dir", "gmt", "long")
#: Compute engines of a batch, by name.
BATCH_ENGINES = ("local", "dask")
#: Species whose gene identifiers can be read (mouse: mapped to human orthologs).
SPECIES = ("human", "mouse")
#: Kinds of ``--plot``: a dot or bar plot of the top terms, or an enrichment map.
PLOT_KINDS = ("dot", "bar", "map")
#: What colours a dot or bar plot (``--color-by``): adjusted p or the combined score.
COLOR_BY = ("p", "combined")
#: Similarities of two terms' genes for ``--cluster`` (:mod:`gsea_plus.cluster`).
CLUSTER_METHODS = ("kappa", "jaccard", "overlap")
#: Similarity at or above which terms group, per method (DAVID's kappa default 0.35).
CLUSTER_THRESHOLDS = {"kappa": 0.35, "jaccard": 0.35, "overlap": 0.5}


@dataclass(frozen=True)
class ModelTest:
    """A model-based test: what its p-value is compared against, and when to use it."""

    null: str
    summary: str


#: The model-based tests (``--model-test``), in the order the help lists them. The
#: README, ``--help`` and :mod:`gsea_plus.evidence` all describe the tests from this table.
MODEL_TESTS: dict[str, ModelTest] = {
    "combined": ModelTest(
        null="weighted Bonferroni of the classical and prediction p-values (classical "
        "weight w = 0.95 x the share of the list's genes in the library; the model 1 - w)",
        summary="min(1, classical p / w, prediction p / (1 - w)), w = 0.95 x the share of "
        "the list's genes that the library holds: keeps the classical test's strength, lets "
        "the model bring up a term the list barely touches, and tests genes no library holds "
        "yet by the model alone (the default, what benchmarks/augment_bench.py recommends)",
    ),
    "prediction": ModelTest(
        null="Pearson III fit to the term's log-rank moments over the model background "
        "(a random list of genes the model knows, drawn per stratum: in the library or not)",
        summary="the model alone, best for genes not yet annotated: the model is given each "
        "term's genes and ranks the vocabulary; the list's genes outside the term are "
        "scored by log rank against the term's background distribution",
    ),
    "fisher": ModelTest(
        null="Fisher's method on the classical and prediction p-values (random list)",
        summary="Fisher's method on the same two p-values (independent under the null)",
    ),
    "augmented": ModelTest(
        null="random background lists of the same size, augmented the same way",
        summary="Fisher on the list plus its top-N predicted genes, against random lists of "
        "the same size augmented the same way (needs --augment N)",
    ),
    "cosine": ModelTest(
        null="random background lists of the same size",
        summary="cosine of the model encodings of list and term, against random lists of "
        "the same size",
    ),
    "signature": ModelTest(
        null="random background lists of the same size (running-sum NES)",
        summary="the model's scores as a ranked signature, running-sum NES per term, "
        "against random lists of the same size",
    ),
    "naive": ModelTest(
        null="none valid: plain Fisher on the augmented list",
        summary="plain Fisher on the augmented list: not valid, to reproduce the benchmark "
        "only (needs --augment N)",
    ),
}
#: The recommended test, used by ``--augment`` and ``--rank embedding`` unless
#: ``--model-test`` says otherwise (see benchmarks/README.md, issue 4).
DEFAULT_TEST = "combined"
#: Tests that need predicted genes (``augment > 0``).
_NEEDS_AUGMENT = ("naive", "augmented")

_T = TypeVar("_T")

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")


def env_flag(name: str) -> bool:
    """A boolean environment variable (1/true/yes/on or 0/false/no/off/unset).

    Raises
    ------
    InputError
        For any other value, naming the variable.
    """
    value = os.environ.get(name, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise InputError(f"{name} must be 1 or 0 (true/false), not {os.environ[name]!r}")


def offline_default(offline: bool | None) -> bool:  # noqa: FBT001 (None means "not given")
    """``offline`` when given, else the ``GSEA_PLUS_OFFLINE`` environment variable."""
    return env_flag(OFFLINE_ENV) if offline is None else bool(offline)


def hgnc_default(hgnc: _T) -> _T | str:
    """``hgnc`` when given, else the ``GSEA_PLUS_HGNC`` environment variable (or None)."""
    if hgnc is None and os.environ.get(HGNC_ENV):
        return os.environ[HGNC_ENV]
    return hgnc


def _check_int(name: str, value: Any, *, low: int, optional: bool = False) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{name} must be an integer, not {value!r}")
    if value < low:
        raise InputError(f"{name} must be at least {low}, not {value}")


def _choice(name: str, value: Any, choices: Iterable[str]) -> None:
    choices = tuple(choices)
    if value not in choices:
        raise InputError(f"unknown {name} {value!r}; choose from {', '.join(choices)}")


_NUMBER = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")
#: The largest fixed background accepted (far above any genome; catches typos like 1e30).
MAX_BACKGROUND = 10**9


def canonical_background(value: Any) -> Any:
    """The background in canonical form: ``None``, a positive int, or genes / a path."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise InputError("background must be a number of genes or a list of genes")
    if isinstance(value, int) or (type(value).__module__ == "numpy" and hasattr(value, "item")):
        number = value.item() if hasattr(value, "item") else value
        if isinstance(number, bool) or not isinstance(number, int):
            raise InputError("background must be a number of genes or a list of genes")
        if number <= 0:
            raise InputError(f"background size must be positive, got {number}")
        if number > MAX_BACKGROUND:
            raise InputError(f"background size {number} is larger than any genome")
        return int(number)
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in ("library", "default", ""):
            return None
        if _NUMBER.match(text) and not os.path.exists(value):
            number = float(text)
            if number != int(number):
                raise InputError(f"background size must be a whole number of genes, not {text}")
            return canonical_background(int(number))
        return value
    return value


@dataclass(frozen=True, kw_only=True)
class ModelOptions:
    """How the gene set model's evidence is used (``--augment N``, ``--rank embedding``).

    Attributes
    ----------
    augment
        Predicted genes added per list (0: none; ``--rank embedding`` alone).
    test
        The model-based test, one of :data:`MODEL_TESTS`.
    compare
        Add each evidence's own adjusted p-value and rank, side by side.
    model
        A model directory, hub id or loaded model (default: the bundled model).
    null_lists
        Random lists per size for the size-matched nulls.
    seed
        Seed of the random null lists.
    """

    augment: int = 0
    test: str = DEFAULT_TEST
    compare: bool = False
    model: Any = None
    null_lists: int = 200
    seed: int = 0

    def __post_init__(self) -> None:
        _choice("model test", self.test, MODEL_TESTS)
        _check_int("--augment", self.augment, low=0)
        _check_int("null_lists", self.null_lists, low=4)
        if self.test in _NEEDS_AUGMENT and self.augment == 0:
            raise InputError(f"the {self.test} test needs --augment N (N > 0)")

    @property
    def method(self) -> str:
        """The ``Method`` column: test and augmentation."""
        return self.test + (f"+augment{self.augment}" if self.augment else "")


def model_options(
    *,
    augment: int = 0,
    rank: str = "overlap",
    test: str | None = None,
    compare: bool = False,
    model: Any = None,
    null_lists: int = 200,
    seed: int = 0,
) -> ModelOptions | None:
    """Options for a model-based run, or ``None`` for classical enrichment.

    ``test=None`` picks :data:`DEFAULT_TEST`; ``augment > 0`` implies the embedding rank.
    """
    _choice("rank", rank, RANKS)
    _check_int("--augment", augment, low=0)
    if rank == "overlap" and not augment:
        if compare or test is not None:
            raise InputError("--compare and --model-test need --augment N or --rank embedding")
        return None
    return ModelOptions(
        augment=int(augment),
        test=DEFAULT_TEST if test is None else test,
        compare=bool(compare),
        model=model,
        null_lists=null_lists,
        seed=seed,
    )


@dataclass(frozen=True, kw_only=True)
class EnrichOptions:
    """How a gene list is tested against a library.

    Attributes
    ----------
    background
        ``None`` (the library's genes, like gseapy), an integer ``N`` (a fixed background,
        like Enrichr's 20,000), or genes: an iterable or a file of the genes that could
        have been found (e.g. the expressed genes).
    correction
        Multiple-testing correction: a statsmodels ``multipletests`` method (see
        :data:`CORRECTIONS`) or ``"none"``; applied per list and library over the terms
        that pass the size filters and share a gene with the list (with the model: every
        term that passes the size filters).
    min_size, max_size
        Keep terms whose size (after the background) is within these bounds.
    min_overlap
        Only report terms with at least this many list genes (default 1; with the model
        0: every tested term, predicted genes counting too).
    offline
        Never download (default: the ``GSEA_PLUS_OFFLINE`` environment variable).
    hgnc
        An HGNC complete-set table (path) or an :class:`~gsea_plus.idmap.IdMap` that
        replaces the bundled identifier map (default: the ``GSEA_PLUS_HGNC`` environment
        variable, if set, else the map in the package).
    species
        The species of the input identifiers: ``"human"`` (symbols, aliases, previous
        symbols, Ensembl and Entrez IDs are converted to current symbols) or ``"mouse"``
        (mouse symbols and Entrez IDs are mapped to human orthologs).
    augment
        Add the model's top ``augment`` predicted genes (not in the list, within the
        background) and show which of them hit each term.
    rank
        ``"overlap"`` (classical) or ``"embedding"`` (terms ranked with the model's
        evidence). ``augment > 0`` implies ``"embedding"``.
    test
        The model-based test (:data:`MODEL_TESTS`); default :data:`DEFAULT_TEST`.
    compare
        Add each evidence's own adjusted p-value and rank, side by side.
    model
        A model directory, hub id or loaded model (default: the bundled model).
    """

    background: Any = None
    correction: str = "fdr_bh"
    min_size: int = 1
    max_size: int | None = None
    min_overlap: int | None = None
    offline: bool | None = None
    hgnc: Any = None
    species: str = "human"
    augment: int = 0
    rank: str = "overlap"
    test: str | None = None
    compare: bool = False
    model: Any = None
    model_options: ModelOptions | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        set_ = functools.partial(object.__setattr__, self)
        set_("background", canonical_background(self.background))
        _choice("correction", self.correction, CORRECTIONS)
        _check_int("--min-size", self.min_size, low=0)
        _check_int("--max-size", self.max_size, low=0, optional=True)
        if self.max_size is not None and self.max_size < self.min_size:
            raise InputError("need 0 <= --min-size <= --max-size")
        _check_int("--min-overlap", self.min_overlap, low=0, optional=True)
        set_("offline", offline_default(self.offline))
        set_("hgnc", hgnc_default(self.hgnc))
        _choice("species", self.species, SPECIES)
        set_(
            "model_options",
            model_options(
                augment=self.augment,
                rank=self.rank,
                test=self.test,
                compare=self.compare,
                model=self.model,
            ),
        )

    @property
    def overlap_floor(self) -> int:
        """The ``min_overlap`` in force: the option, else 1 (classical) or 0 (model)."""
        if self.min_overlap is not None:
            return self.min_overlap
        return 1 if self.model_options is None else 0


@dataclass(frozen=True, kw_only=True)
class BatchOptions:
    """How many lists are processed together.

    Attributes
    ----------
    top
        Keep each list's ``top`` best rows (per library); ``None`` keeps every row.
    chunk_size
        Lists per chunk (default: sized from the library to bound memory).
    engine
        ``"local"``, ``"dask"`` or a :class:`gsea_plus.batch.BatchEngine`.
    scheduler
        Dask scheduler address (``tcp://host:8786``); none starts a local cluster.
    workers
        Worker processes of the local Dask cluster (default: CPU count).
    input_format
        For a path: ``auto``, ``dir``, ``gmt`` or ``long`` (see :data:`INPUT_FORMATS`).
    """

    top: int | None = None
    chunk_size: int | None = None
    engine: Any = "local"
    scheduler: str | None = None
    workers: int | None = None
    input_format: str = "auto"

    def __post_init__(self) -> None:
        _check_int("--top", self.top, low=1, optional=True)
        _check_int("chunk size", self.chunk_size, low=1, optional=True)
        _check_int("--workers", self.workers, low=1, optional=True)
        _choice("input format", self.input_format, INPUT_FORMATS)
        if isinstance(self.engine, str):
            _choice("engine", self.engine, BATCH_ENGINES)
            if self.engine == "local" and self.scheduler is not None:
                raise InputError("--scheduler needs --engine dask")


#: File suffixes a figure can be written as (a device or FIFO gets PNG).
PLOT_SUFFIXES = (".png", ".svg", ".pdf")
#: File suffixes of an HTML report.
REPORT_SUFFIXES = (".html", ".htm")


@dataclass(frozen=True, kw_only=True)
class FigureOptions:
    """Figures, the HTML report and term clustering of a run.

    Attributes
    ----------
    plot
        Write a figure here (.png, .svg or .pdf; a device or FIFO gets PNG).
    plot_kind
        One list: ``dot`` or ``bar`` (the top terms) or ``map`` (an enrichment map of
        the clustered terms), see :data:`PLOT_KINDS`. A batch draws its lists side by side.
    color_by
        Colour of dots and bars: ``p`` (adjusted p) or ``combined`` (combined score).
    report
        Write a self-contained HTML report here (.html). The two paths are checked by
        :func:`gsea_plus.api.figures.check_figure_paths` before any work (an output
        check: this module imports nothing of the package's but its errors).
    cluster
        Group redundant significant terms (:mod:`gsea_plus.cluster`): adds the Cluster,
        Representative and Cluster Size columns.
    cluster_method
        Similarity of two terms' genes: one of :data:`CLUSTER_METHODS`.
    cluster_threshold
        Similarity at or above which terms group (default: :data:`CLUSTER_THRESHOLDS`).
    representatives
        Show one term per cluster (the lowest adjusted p) in tables, files, figures and
        the report; implies ``cluster``.
    """

    plot: Any = None
    plot_kind: str = "dot"
    color_by: str = "p"
    report: Any = None
    cluster: bool = False
    cluster_method: str = "kappa"
    cluster_threshold: float | None = None
    representatives: bool = False

    def __post_init__(self) -> None:
        _choice("--plot-kind", self.plot_kind, PLOT_KINDS)
        _choice("--color-by", self.color_by, COLOR_BY)
        _choice("--cluster-method", self.cluster_method, CLUSTER_METHODS)
        if self.cluster_threshold is not None:
            value = self.cluster_threshold
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise InputError(f"--cluster-threshold must be a number, not {value!r}")
            if not 0.0 <= float(value) <= 1.0:
                raise InputError(f"--cluster-threshold must be between 0 and 1, not {value}")

    @property
    def clustered(self) -> bool:
        """Whether terms are clustered (``cluster``, ``representatives`` or a map)."""
        return self.cluster or self.representatives or self.plot_kind == "map"

    @property
    def wanted(self) -> bool:
        """Whether anything beyond the table is asked for (clusters, a figure, a report)."""
        return self.clustered or self.plot is not None or self.report is not None

    @property
    def threshold(self) -> float:
        """The clustering threshold in force (the option, else the method's default)."""
        if self.cluster_threshold is not None:
            return float(self.cluster_threshold)
        return CLUSTER_THRESHOLDS[self.cluster_method]


OptionsT = TypeVar("OptionsT")
F = TypeVar("F", bound=Callable[..., Any])


def _field_docs(cls: type) -> dict[str, str]:
    """``{field: description}`` from the numpydoc ``Attributes`` section of ``cls``."""
    doc = inspect.getdoc(cls) or ""
    section = doc.split("Attributes\n----------\n", 1)[-1]
    out: dict[str, str] = {}
    names: list[str] = []
    for line in section.splitlines():
        if line and not line.startswith(" "):
            names = [n.strip() for n in line.split(",")]
            for n in names:
                out[n] = ""
        elif names:
            for n in names:
                out[n] = (out[n] + " " + line.strip()).strip()
    return out


def with_options(**option_classes: type) -> Callable[[F], F]:
    """Give a function one keyword-only parameter per field of its options classes.

    The decorated function declares ``name: OptionsClass`` keyword-only parameters (e.g.
    ``options: EnrichOptions``). Callers may pass such an object, any of its fields as
    keywords (which override the object's), or both; the function always receives one
    validated object per class. The public signature (``inspect.signature``, ``help``)
    lists every field with its default, so the options are declared once: in the class.
    """

    def decorate(func: F) -> F:
        sig = inspect.signature(func)
        own = [p for p in sig.parameters.values() if p.name not in option_classes]
        owners: dict[str, str] = {}
        extra: list[inspect.Parameter] = []
        docs: list[str] = []
        for arg, cls in option_classes.items():
            field_docs = _field_docs(cls)
            for f in dataclasses.fields(cls):
                if not f.init:
                    continue
                if f.name in owners or f.name in sig.parameters:
                    raise TypeError(f"option {f.name!r} is declared twice")
                owners[f.name] = arg
                extra.append(
                    inspect.Parameter(
                        f.name,
                        inspect.Parameter.KEYWORD_ONLY,
                        default=f.default,
                        annotation=f.type,
                    )
                )
                docs.append(f"{f.name}\n    {field_docs.get(f.name, '')}")
            extra.append(
                inspect.Parameter(
                    arg, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=cls.__name__
                )
            )
            docs.append(f"{arg}\n    A :class:`{cls.__name__}` holding the options above.")

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            given: dict[str, dict[str, Any]] = {arg: {} for arg in option_classes}
            for name in list(kwargs):
                if name in owners:
                    given[owners[name]][name] = kwargs.pop(name)
            for arg, cls in option_classes.items():
                base = kwargs.pop(arg, None)
                if base is not None and not isinstance(base, cls):
                    raise TypeError(f"{arg} must be a {cls.__name__}, not {type(base).__name__}")
                if base is None:
                    kwargs[arg] = cls(**given[arg])
                elif given[arg]:
                    values = {
                        f.name: getattr(base, f.name) for f in dataclasses.fields(cls) if f.init
                    }
                    kwargs[arg] = cls(**{**values, **given[arg]})
                else:
                    kwargs[arg] = base
            try:
                bound = sig.bind(*args, **kwargs)
            except TypeError as exc:
                raise TypeError(f"{func.__name__}(): {exc}") from None
            return func(*bound.args, **bound.kwargs)

        wrapper.__signature__ = sig.replace(  # type: ignore[attr-defined]
            parameters=[*own, *extra]
        )
        if func.__doc__:
            wrapper.__doc__ = (
                inspect.cleandoc(func.__doc__)
                + "\n\nOther Parameters\n----------------\n"
                + "\n".join(docs)
            )
        return wrapper  # type: ignore[return-value]

    return decorate
