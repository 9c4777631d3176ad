"""Evaluation by the GSFM paper's protocol, and by a time split.

Paper protocol: for every term of a library with at least ``min_genes`` genes, draw
``repeats`` random 50/50 splits (seeded); give one half to the scorer, score every
gene; the candidates are the library's genes that the scorer knows, minus the input
half; the positives are the held-out half. Splits with fewer than ``min_known`` known
genes on either side are skipped. AUROC and average precision are computed per
split; a library's figure is the median over terms of the per-term median AUROC
(and the mean over terms of the per-term mean AP).

Time split: the input is a term's known genes in an old library version, the
positives are the known genes the new version added; candidates are the new
library's known genes minus the input.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gsea_plus.library.gmt import GeneSet
from gsea_plus.model.scorers import Genes, GeneScorer, lookup_ids

log = logging.getLogger(__name__)

__all__ = [
    "CORPUS_ENV",
    "TRAINING_ENV",
    "BaselineCorpus",
    "Task",
    "auroc",
    "average_precision",
    "default_corpus",
    "evaluate_tasks",
    "find_training_dir",
    "load_sets",
    "normalize_sets",
    "paper_tasks",
    "run_evaluation",
    "summarize",
    "time_split_tasks",
]


def auroc(scores: np.ndarray, positive: np.ndarray) -> float:
    """Area under the ROC curve (ties count one half), the Mann-Whitney U / (n+ n-).

    Parameters
    ----------
    scores
        One score per candidate.
    positive
        Boolean mask of the positive candidates.
    """
    from scipy.stats import rankdata

    positive = np.asarray(positive, dtype=bool)
    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(scores)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def average_precision(scores: np.ndarray, positive: np.ndarray) -> float:
    """Average precision: the mean of precision at each positive, scores descending.

    Ties are broken pessimistically (negatives first), so constant scores give the
    positive fraction's worst case rather than a lucky order.
    """
    positive = np.asarray(positive, dtype=bool)
    n_pos = int(positive.sum())
    if n_pos == 0:
        return float("nan")
    order = np.lexsort((positive, -np.asarray(scores)))
    hits = positive[order]
    ranks = np.flatnonzero(hits) + 1
    return float((np.arange(1, n_pos + 1) / ranks).mean())


@dataclass
class Task:
    """One scoring task: input columns, positive columns, candidate columns."""

    library: str
    term: str
    inputs: np.ndarray
    positives: np.ndarray
    candidates: np.ndarray


def paper_tasks(
    name: str,
    sets: Sequence[GeneSet],
    vocab: Genes,
    *,
    repeats: int = 5,
    seed: int = 0,
    max_terms: int | None = None,
    min_genes: int = 5,
    min_known: int = 5,
) -> list[Task]:
    """The paper's split tasks for one library (columns index into ``vocab``)."""
    index = {g: i for i, g in enumerate(np.asarray(vocab).tolist())}
    rng = np.random.default_rng(seed)
    terms = [s for s in sets if len(s.genes) >= min_genes]
    if max_terms is not None and len(terms) > max_terms:
        pick = np.sort(rng.choice(len(terms), size=max_terms, replace=False))
        terms = [terms[i] for i in pick]
    background = lookup_ids(index, sorted({g for s in sets for g in s.genes}))[0]
    tasks: list[Task] = []
    for s in terms:
        genes = np.array(s.genes)
        for _ in range(repeats):
            perm = rng.permutation(len(genes))
            half = len(genes) // 2
            inputs = lookup_ids(index, genes[perm[:half]].tolist())[0]
            held = lookup_ids(index, genes[perm[half:]].tolist())[0]
            if len(inputs) < min_known or len(held) < min_known:
                continue
            candidates = np.setdiff1d(background, inputs, assume_unique=True)
            tasks.append(Task(name, s.term, inputs, held, candidates))
    return tasks


_GO_ID = re.compile(r"\((GO:\d+)\)")
_KEGG_SUFFIX = re.compile(r"[_ ](homo sapiens|mus musculus)[_ ]\w+$", re.I)


def term_key(term: str) -> str:
    """A version-independent key: the GO id, else the name without species suffixes."""
    match = _GO_ID.search(term)
    if match:
        return match.group(1)
    return _KEGG_SUFFIX.sub("", term).strip().lower()


def time_split_tasks(
    name: str,
    old: Sequence[GeneSet],
    new: Sequence[GeneSet],
    vocab: Genes,
    *,
    seed: int = 0,
    max_terms: int | None = None,
    min_known: int = 5,
) -> list[Task]:
    """Tasks for an old -> new library version: input old genes, predict the added ones."""
    index = {g: i for i, g in enumerate(np.asarray(vocab).tolist())}
    old_by_key = {term_key(s.term): s for s in old}
    background = lookup_ids(index, sorted({g for s in new for g in s.genes}))[0]
    pairs = [(old_by_key[term_key(s.term)], s) for s in new if term_key(s.term) in old_by_key]
    rng = np.random.default_rng(seed)
    if max_terms is not None and len(pairs) > max_terms:
        pick = np.sort(rng.choice(len(pairs), size=max_terms, replace=False))
        pairs = [pairs[i] for i in pick]
    tasks: list[Task] = []
    for o, n in pairs:
        inputs = lookup_ids(index, o.genes)[0]
        added = lookup_ids(index, [g for g in n.genes if g not in set(o.genes)])[0]
        if len(inputs) < min_known or len(added) < min_known:
            continue
        candidates = np.setdiff1d(background, inputs, assume_unique=True)
        added = np.intersect1d(added, candidates)
        if len(added) >= min_known:
            tasks.append(Task(name, n.term, inputs, added, candidates))
    return tasks


def evaluate_tasks(
    scorer: GeneScorer,
    tasks: Sequence[Task],
    *,
    batch: int = 256,
    advance: Callable[[float], None] | None = None,
) -> pd.DataFrame:
    """Score every task; one row per task with its AUROC and average precision.

    ``advance(n)`` (a progress bar's) is called with the number of tasks each batch scored.
    """
    rows = []
    for start in range(0, len(tasks), batch):
        part = tasks[start : start + batch]
        scores = scorer.score_ids([t.inputs for t in part])
        if advance is not None:
            advance(len(part))
        for t, s in zip(part, scores, strict=True):
            cand = s[t.candidates]
            pos = np.isin(t.candidates, t.positives, assume_unique=True)
            rows.append(
                {
                    "library": t.library,
                    "term": t.term,
                    "auroc": auroc(cand, pos),
                    "ap": average_precision(cand, pos),
                }
            )
    return pd.DataFrame(rows, columns=["library", "term", "auroc", "ap"])


def summarize(per_task: pd.DataFrame, method: str) -> pd.DataFrame:
    """Per library: median over terms of per-term median AUROC, mean of per-term mean AP."""
    if per_task.empty:
        return pd.DataFrame(columns=["library", "method", "median_auroc", "mean_ap", "n_terms"])
    per_term = per_task.groupby(["library", "term"], sort=False).agg(
        auroc=("auroc", "median"), ap=("ap", "mean")
    )
    out = per_term.groupby(level="library", sort=False).agg(
        median_auroc=("auroc", "median"), mean_ap=("ap", "mean"), n_terms=("auroc", "size")
    )
    out = out.reset_index()
    out.insert(1, "method", method)
    return out


def load_sets(spec: str | Path) -> tuple[str, list[GeneSet]]:
    """A library's name and sets, from a GMT path or a library name (``load_library``)."""
    path = Path(spec)
    if path.exists():
        from gsea_plus.library.gmt import read_gmt

        name = path.name
        for suffix in (".gz", ".gmt", ".txt"):
            name = name[: -len(suffix)] if name.endswith(suffix) else name
        return name, read_gmt(path)
    from gsea_plus.library import load_library  # resolved lazily: the catalog is optional

    lib = load_library(str(spec))
    return lib.name, lib.gene_sets()


def normalize_sets(sets: Sequence[GeneSet], mapper) -> list[GeneSet]:
    """Map every gene through a :class:`~gsea_plus.genes.SymbolMapper` (or keep as is)."""
    if mapper is None:
        return list(sets)
    return [
        GeneSet(s.term, s.description, tuple(dict.fromkeys(mapper.normalize(g) for g in s.genes)))
        for s in sets
    ]


def run_evaluation(
    model: GeneScorer,
    libraries: Mapping[str, Sequence[GeneSet]],
    *,
    corpus: Sequence[Sequence[str]] | None = None,
    time_splits: Mapping[str, tuple[Sequence[GeneSet], Sequence[GeneSet]]] | None = None,
    repeats: int = 5,
    seed: int = 0,
    max_terms: int | None = None,
    cosine: bool = True,
    extra: dict[str, GeneScorer] | None = None,
    progress=None,
) -> pd.DataFrame:
    """Evaluate a model and the baselines on libraries and time splits, by the same code.

    Parameters
    ----------
    model
        The scorer evaluated as method ``model``.
    libraries
        ``{name: sets}`` for the paper protocol.
    corpus
        The training corpus; when given, co-occurrence baselines are computed over it
        (``cooccurrence``: mean count; ``cooccurrence_cosine``: cosine-normalized).
    time_splits
        ``{name: (old_sets, new_sets)}`` for the time-split protocol.
    repeats, seed, max_terms
        Splits per term, seed of every random choice, sample of terms per library.
    cosine
        Also report the cosine-normalized co-occurrence.
    extra
        More scorers to report, ``{method: scorer}``.
    progress
        Optional callable ``progress(message)``.

    Returns
    -------
    pandas.DataFrame
        One row per library and method: ``library``, ``protocol``, ``method``,
        ``median_auroc``, ``mean_ap``, ``n_terms``.
    """
    from gsea_plus.model.scorers import CooccurrenceScorer, RandomScorer

    vocab = np.asarray(model.vocab)
    tasks: dict[tuple[str, str], list[Task]] = {}
    for name, sets in libraries.items():
        tasks[(name, "paper")] = paper_tasks(
            name, sets, vocab, repeats=repeats, seed=seed, max_terms=max_terms
        )
    for name, (old, new) in (time_splits or {}).items():
        tasks[(name, "time_split")] = time_split_tasks(
            name, old, new, vocab, seed=seed, max_terms=max_terms
        )
    methods: dict[str, GeneScorer] = {"model": model}
    methods.update(extra or {})
    if corpus is not None:
        co = CooccurrenceScorer(corpus, vocab)
        n_tasks = sum(len(t) for t in tasks.values())
        if n_tasks > 2000 and len(vocab) <= 40000:
            co.gram()  # one dense product beats per-list sparse products at this size
        methods["cooccurrence"] = co
        if cosine:
            cos = CooccurrenceScorer.__new__(CooccurrenceScorer)
            cos.__dict__.update(co.__dict__)
            cos.normalize, cos.name = "cosine", "cooccurrence_cosine"
            methods["cooccurrence_cosine"] = cos
    methods["random"] = RandomScorer(vocab, seed=seed)
    from gsea_plus import progress as bars

    frames = []
    for (name, protocol), task_list in tasks.items():
        if not task_list:
            log.warning("%s (%s): no term has enough known genes", name, protocol)
            continue
        for method, scorer in methods.items():
            what = f"{name} ({protocol}): {method}, {len(task_list)} splits"
            if progress is not None:
                progress(what)
            with bars.task(what, total=len(task_list)) as advance:
                per_task = evaluate_tasks(scorer, task_list, advance=advance)
            summary = summarize(per_task, method)
            summary.insert(1, "protocol", protocol)
            frames.append(summary)
    if not frames:
        return pd.DataFrame(
            columns=["library", "protocol", "method", "median_auroc", "mean_ap", "n_terms"]
        )
    return pd.concat(frames, ignore_index=True)


#: A corpus GMT (from ``gsea-plus model corpus``) to compute the co-occurrence baselines on.
CORPUS_ENV = "GSEA_PLUS_CORPUS"
#: The training data directory the default corpus is built from.
TRAINING_ENV = "GSEA_PLUS_TRAINING_DATA"
_TRAINING_REL = Path("shared") / "data" / "training"

HOW_TO_GET_BASELINES = (
    "co-occurrence baselines skipped: no training corpus found. They need the corpus the "
    "model was trained on: build it with `gsea-plus model corpus TRAINING_DIR -o "
    "corpus.gmt.gz` and pass `--corpus corpus.gmt.gz`, or set "
    f"{CORPUS_ENV}=corpus.gmt.gz, or {TRAINING_ENV}=TRAINING_DIR (the default corpus is "
    "built from ../shared/data/training with its EXCLUDE.txt)."
)


@dataclass
class BaselineCorpus:
    """The corpus for the co-occurrence baselines, or why there is none.

    Attributes
    ----------
    sets
        The corpus gene sets (``None`` when no corpus was found).
    source
        The corpus file used (or ``""``).
    note
        One line for the user: where the corpus came from, or how to get one.
    """

    sets: list[tuple[str, ...]] | None
    source: str
    note: str


def find_training_dir(start: Path | None = None) -> Path | None:
    """The default training data directory, or ``None``.

    ``$GSEA_PLUS_TRAINING_DATA`` first; else ``shared/data/training`` beside the current
    directory or the package, or beside one of their first three parents.
    """
    env = os.environ.get(TRAINING_ENV)
    if env:
        path = Path(env).expanduser()
        return path if path.is_dir() else None
    bases = [Path(start) if start else Path.cwd(), Path(__file__).resolve().parent]
    for base in bases:
        for d in (base, *list(base.resolve().parents)[:4]):
            candidate = d / _TRAINING_REL
            if (candidate / "EXCLUDE.txt").exists():
                return candidate
    return None


def _training_key(training: Path) -> str:
    h = hashlib.sha256(str(training.resolve()).encode())
    for p in sorted(training.rglob("*")):
        if p.is_file():
            st = p.stat()
            h.update(f"{p.relative_to(training)}:{st.st_size}:{st.st_mtime_ns};".encode())
    return h.hexdigest()[:16]


def default_corpus(
    *,
    start: Path | None = None,
    build: bool = True,
    progress: Callable[[str], None] | None = None,
) -> BaselineCorpus:
    """Find (or build once and cache) the default corpus for the co-occurrence baselines.

    ``gsea-plus model evaluate`` calls this when ``--corpus`` is not given, so the
    baselines are printed by default wherever the default corpus can be had.

    Parameters
    ----------
    start
        Where to look for ``shared/data/training`` (default: the current directory).
    build
        Build the corpus from the training directory when it is not cached yet (about
        30 s; written to the cache as ``corpus/corpus-<hash>.gmt.gz``).
    progress
        Optional callable ``progress(message)``.

    Returns
    -------
    BaselineCorpus
        ``sets`` is ``None`` when no corpus could be found; ``note`` then says how to get
        the baselines.
    """
    from gsea_plus.library.gmt import read_gmt

    env = os.environ.get(CORPUS_ENV)
    if env:
        path = Path(env).expanduser()
        if path.is_file():
            return BaselineCorpus(
                [s.genes for s in read_gmt(path)], str(path), f"baseline corpus: {path}"
            )
        return BaselineCorpus(
            None, "", f"{CORPUS_ENV}={env}: no such file. " + HOW_TO_GET_BASELINES
        )
    training = find_training_dir(start)
    if training is None:
        return BaselineCorpus(None, "", HOW_TO_GET_BASELINES)
    from gsea_plus.library.cache import cache_dir

    cached = cache_dir("corpus") / f"corpus-{_training_key(training)}.gmt.gz"
    if not cached.exists():
        if not build:
            return BaselineCorpus(None, "", HOW_TO_GET_BASELINES)
        from gsea_plus.library.gmt import write_gmt
        from gsea_plus.model.corpus import build_corpus

        if progress is not None:
            progress(f"building the default corpus from {training} (once; cached)")
        mapping = training.parent / "mapping"
        hgnc = mapping / "hgnc_complete_set.subset.tsv.gz"
        ortho = mapping / "human_mouse_orthologs_homologene_2014.tsv.gz"
        exclude = training / "EXCLUDE.txt"
        corpus = build_corpus(
            [training],
            hgnc=hgnc if hgnc.exists() else None,
            orthologs=ortho if ortho.exists() else None,
            exclude=exclude if exclude.exists() else None,
        )
        from gsea_plus.files import discard

        tmp = cached.with_name(cached.name + ".part.gmt.gz")
        try:
            write_gmt(corpus.sets, tmp)
            tmp.replace(cached)
        finally:  # an interrupted build leaves nothing behind
            discard(tmp)
    sets = [s.genes for s in read_gmt(cached)]
    return BaselineCorpus(
        sets,
        str(cached),
        f"baseline corpus: {len(sets)} sets built from {training} (cached at {cached})",
    )
