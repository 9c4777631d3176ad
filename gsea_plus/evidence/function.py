"""Gene pages, as on the published GSFM site: the terms the model would add a gene to.

For every term of a library the model is given the term's genes and ranks the rest of its
vocabulary (:class:`~gsea_plus.evidence.view.TermPredictions`, computed once per model and
library, batched, cached on disk and shared with ``enrich --rank embedding``). A gene's
page lists, across libraries, the terms in whose predictions the gene ranks (its rank,
z-score and probability, computed exactly by running those terms through the model
again), the terms that already hold it (ranked with the gene held out), and each term's
own AUROC under the paper's protocol (:func:`term_aurocs`, cached too) as a confidence:
how well the model recovers that term's own genes.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

__all__ = [
    "AUROC_MIN_KNOWN",
    "AUROC_SPLITS",
    "GENE_COLUMNS",
    "GENE_COLUMN_DOCS",
    "TermAurocs",
    "gene_function",
    "gene_libraries",
    "term_aurocs",
]

#: Seeded 50/50 splits per term for :func:`term_aurocs`.
AUROC_SPLITS = 5
#: Known genes each half of a split needs (smaller terms get no AUROC).
AUROC_MIN_KNOWN = 2
#: Columns of a gene page, in order; :data:`GENE_COLUMN_DOCS` says what each one holds.
GENE_COLUMNS = [
    "Term",
    "Library",
    "Rank",
    "Candidates",
    "Z-score",
    "Probability",
    "In Term",
    "Term AUROC",
    "Term Size",
    "Input Genes",
]
#: What each gene page column holds (the README and ``gsea-plus gene --help`` say the same).
GENE_COLUMN_DOCS = {
    "Term": "the term (gene set)",
    "Library": "the library it belongs to",
    "Rank": "the gene's rank among the term's predictions: the model is given the term's "
    "genes (without the gene, when the term holds it) and ranks every other gene it knows; "
    "1 = the model's first candidate",
    "Candidates": "how many genes were ranked (the model's vocabulary minus its input)",
    "Z-score": "the gene's score minus the mean score of the candidates, in standard "
    "deviations of the candidates' scores",
    "Probability": "the model's probability for the gene given the term's genes (its "
    "autoencoder's output: a share of a softmax over the vocabulary, so small numbers)",
    "In Term": "whether the term already holds the gene (then Rank, Z-score and "
    "Probability are those of the gene held out: would the model have found it?)",
    "Term AUROC": "the term's own AUROC under the GSFM paper's protocol: half of the term's "
    "genes given to the model, the other half ranked among the library's other genes "
    f"(median over {AUROC_SPLITS} seeded splits): how far to trust the model on this term; "
    "empty for terms with too few genes the model knows",
    "Term Size": "genes in the term",
    "Input Genes": "the term's genes the model knows, given to it as input (Term Size minus "
    "genes outside its vocabulary, minus the gene itself when the term holds it)",
}


def gene_libraries() -> list[str]:
    """The libraries a gene page covers by default: every bundled and every cached library."""
    from gsea_plus.library import cached_names
    from gsea_plus.library.catalog import bundled_entries

    names = [e.name for e in bundled_entries()]
    for name in cached_names():
        if name not in names:
            names.append(name)
    return names


# ------------------------------------------------------------------------ term AUROCs


@dataclass
class TermAurocs:
    """Each term's own AUROC under the paper's protocol (NaN: too few known genes).

    Attributes
    ----------
    auroc
        Per term, the median AUROC over its valid splits.
    splits
        Per term, the number of valid splits.
    """

    auroc: np.ndarray
    splits: np.ndarray


def _fast_auroc(scores: np.ndarray, candidates: np.ndarray, positives: np.ndarray) -> float:
    """AUROC of the positives among the candidates (ties count one half), by sorting once."""
    cand = scores[candidates]
    pos = scores[positives]
    n_pos, n_neg = len(pos), len(cand) - len(pos)
    if n_pos == 0 or n_neg <= 0:
        return float("nan")
    ordered = np.sort(cand)
    left = np.searchsorted(ordered, pos, side="left")
    right = np.searchsorted(ordered, pos, side="right")
    rank_sum = float(((left + 1 + right) / 2.0).sum())  # average 1-based ranks
    return (rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)


def _split_tasks(view, *, splits: int, seed: int, min_known: int):
    """Per term, the paper's seeded 50/50 splits: (term, input ids, held-out ids)."""
    members = view.term_vocab_matrix().T.tocsr()  # terms x vocabulary
    rng = np.random.default_rng(seed)
    tasks = []
    for t in range(members.shape[0]):
        genes = members.indices[members.indptr[t] : members.indptr[t + 1]]
        if len(genes) < 2 * min_known:
            continue
        half = len(genes) // 2
        for _ in range(splits):
            perm = rng.permutation(genes)
            tasks.append((t, np.sort(perm[:half]), np.sort(perm[half:])))
    return tasks


def _compute_aurocs(view, *, splits: int, seed: int, min_known: int, batch: int) -> TermAurocs:
    from gsea_plus import progress

    n_terms = len(view.prepared.library.terms)
    background = np.flatnonzero(view.in_library)  # the library's genes the model knows
    tasks = _split_tasks(view, splits=splits, seed=seed, min_known=min_known)
    values: list[list[float]] = [[] for _ in range(n_terms)]
    name = view.prepared.library.name
    n_batches = -(-len(tasks) // batch)
    with progress.task(
        f"{name}: each term's AUROC (paper protocol, once)", total=n_batches
    ) as step:
        for start in range(0, len(tasks), batch):
            part = tasks[start : start + batch]
            scores = np.asarray(view.scorer.score_ids([p[1] for p in part]), dtype=np.float64)
            for row, (t, inputs, held) in zip(scores, part, strict=True):
                candidates = np.setdiff1d(background, inputs, assume_unique=True)
                values[t].append(_fast_auroc(row, candidates, held))
            step(1)
    auroc = np.array([np.median(v) if v else np.nan for v in values], dtype=np.float64)
    return TermAurocs(auroc, np.array([len(v) for v in values], dtype=np.int64))


def term_aurocs(
    view,
    *,
    splits: int = AUROC_SPLITS,
    seed: int = 0,
    min_known: int = AUROC_MIN_KNOWN,
    batch: int = 256,
) -> TermAurocs:
    """Each term's AUROC under the GSFM paper's protocol, cached per model and library.

    For every term, ``splits`` seeded random halves: one half (the term's genes the model
    knows) is the input, the other half the positives, ranked among the candidates (the
    library's genes the model knows, minus the input); ties count one half. A term's AUROC
    is the median over its splits; a term with fewer than ``2 * min_known`` known genes
    gets NaN. The result is kept as ``aurocs/<key>.npz`` (numpy, no pickle, written
    atomically) in the cache directory, keyed by the model's fingerprint, the library's
    terms and genes, and the protocol; a model without a fingerprint is not cached.
    """
    from gsea_plus.evidence.view import cached_arrays

    def compute() -> dict[str, np.ndarray]:
        result = _compute_aurocs(view, splits=splits, seed=seed, min_known=min_known, batch=batch)
        return {"auroc": result.auroc, "splits": result.splits}

    arrays = cached_arrays(
        view, "aurocs", f"{splits}:{seed}:{min_known}", compute, what="term AUROCs", background=True
    )
    return TermAurocs(arrays["auroc"], arrays["splits"])


# ------------------------------------------------------------------------- gene pages


def _resolve_gene(model, gene: str) -> int:
    import difflib

    from gsea_plus.errors import InputError

    symbol = str(gene).strip().upper()
    vocab = np.asarray(model.vocab)
    hits = np.flatnonzero(vocab == symbol)
    if len(hits) == 0:
        close = difflib.get_close_matches(symbol, vocab.tolist(), n=5, cutoff=0.75)
        more = f"; close symbols: {', '.join(close)}" if close else ""
        raise InputError(f"{symbol} is not in the model's vocabulary ({len(vocab)} genes){more}")
    return int(hits[0])


def _probabilities(model, ids, scores):
    """The autoencoder's probabilities when the model has one (a blend ranks by z-scores)."""
    if hasattr(model, "autoencoder"):
        return np.asarray(model.autoencoder.score_ids(ids), dtype=np.float64)
    return scores


def _library_page(view, g: int, *, batch: int, aurocs: TermAurocs) -> dict[str, Any]:
    """The gene's rows for one library: columns of :data:`GENE_COLUMNS`."""
    from gsea_plus import progress
    from gsea_plus.evidence.view import TermPredictions

    lib = view.prepared.library
    members = view.term_vocab_matrix().T.tocsr()  # terms x vocabulary
    own = [
        members.indices[members.indptr[t] : members.indptr[t + 1]] for t in range(len(lib.terms))
    ]
    contains = np.array([g in set(o.tolist()) for o in own])
    preds = TermPredictions.cached(view)
    # Terms whose kept predictions rank the gene (all terms when the whole vocabulary is
    # kept), and every term that holds it; those are run through the model again.
    ranked = np.asarray((preds.top == g).any(axis=1)).ravel()
    pick = np.flatnonzero((ranked | contains) & np.array([len(o) > 0 for o in own]))
    inputs = [own[t][own[t] != g] for t in pick]
    keep = np.array([len(i) > 0 for i in inputs], dtype=bool)
    pick = pick[keep]
    inputs = [i for i, k in zip(inputs, keep, strict=True) if k]
    n_vocab = len(view.allowed)
    rank = np.zeros(len(pick), dtype=np.int64)
    z = np.zeros(len(pick))
    prob = np.zeros(len(pick))
    n_cand = np.zeros(len(pick), dtype=np.int64)
    with progress.task(f"{lib.name}: terms for the gene", total=-(-len(pick) // batch)) as step:
        for start in range(0, len(pick), batch):
            ids = inputs[start : start + batch]
            scores = np.asarray(view.scorer.score_ids(ids), dtype=np.float64)
            probs = _probabilities(view.scorer, ids, scores)
            for row, mine in enumerate(ids):
                s = scores[row]
                cand = np.ones(n_vocab, dtype=bool)
                cand[mine] = False
                values = s[cand]
                i = start + row
                rank[i] = 1 + int(np.sum(values > s[g]))
                z[i] = (s[g] - values.mean()) / max(float(values.std()), 1e-12)
                prob[i] = probs[row, g]
                n_cand[i] = int(cand.sum())
            step(1)
    return {
        "Term": lib.terms.astype(object)[pick],
        "Library": np.full(len(pick), lib.name, dtype=object),
        "Rank": rank,
        "Candidates": n_cand,
        "Z-score": z,
        "Probability": prob,
        "In Term": contains[pick],
        "Term AUROC": aurocs.auroc[pick],
        "Term Size": lib.term_sizes[pick],
        "Input Genes": np.array([len(i) for i in inputs], dtype=np.int64),
    }


def gene_function(
    gene: str,
    library: Any = None,
    *,
    model=None,
    offline: bool | None = None,
    batch: int = 256,
):
    """A gene's page: the terms the model would add ``gene`` to, across libraries.

    Parameters
    ----------
    gene
        A gene symbol (case-insensitive).
    library
        One library spec, a list of them, or ``None``: every bundled and cached library
        (:func:`gene_libraries`).
    model
        A model or scorer (default: the bundled model).
    offline
        Never download a library.
    batch
        Terms run through the model at once.

    Returns
    -------
    pandas.DataFrame
        :data:`GENE_COLUMNS` (described in :data:`GENE_COLUMN_DOCS`), one row per term
        in whose kept predictions the gene ranks (every term of a library of up to ~400
        terms; the terms that rank it in their top ~8% for GO BP) and per term that holds
        it (``In Term``; ranked with the gene held out); sorted by ``Rank`` then
        ``Z-score``. Each library's term predictions and term AUROCs are computed once
        and cached.

    Raises
    ------
    InputError
        When the model does not know the gene (with close symbols).
    """
    import pandas as pd

    from gsea_plus.engine import prepare
    from gsea_plus.evidence.view import ModelView
    from gsea_plus.library import load_library
    from gsea_plus.model import load_model

    model = load_model(model) if model is None or isinstance(model, str) else model
    g = _resolve_gene(model, gene)
    if library is None:
        specs: Sequence[Any] = gene_libraries()
    elif isinstance(library, (list, tuple)):
        specs = library
    else:
        specs = [library]
    parts = []
    for spec in specs:
        lib = load_library(spec, offline=True if library is None else offline)
        view = ModelView.build(prepare(lib), model)
        aurocs = term_aurocs(view, batch=batch)
        parts.append(_library_page(view, g, batch=batch, aurocs=aurocs))
    data = {c: np.concatenate([p[c] for p in parts]) for c in GENE_COLUMNS}
    frame = pd.DataFrame(data, columns=GENE_COLUMNS)
    order = np.lexsort((-frame["Z-score"].to_numpy(), frame["Rank"].to_numpy()))
    return frame.iloc[order].reset_index(drop=True)
