"""Model-based enrichment tables: ``--augment N`` and ``--rank embedding``.

Both run the classical test on the input list, ask the gene set foundation model for
its view of the list, and report one p-value per term from a stated null. The test
behind that p-value (``test``; the default chosen by ``benchmarks/augment_bench.py``):

``combined`` (the default of ``--augment`` and ``--rank embedding``)
    weighted Bonferroni of two p-values: ``min(1, p_classical / w, p_prediction / (1 - w))``
    (valid whatever their dependence), with ``w = 0.95 x`` the share of the list's genes
    (those the library or the model knows) that the library holds
    (:func:`classical_weights`). The classical hypergeometric p of the list's genes
    inside the term keeps its strength; the model can still bring up a term whose genes
    the list does not contain but whose prediction ranks the list's genes high; a list of
    genes no library holds yet is tested by the model alone.
``prediction`` (the model alone; best on genes not yet annotated)
    each term's genes are given to the model, which ranks the rest of the vocabulary;
    the list's genes outside the term are scored by their log ranks, and the sum is
    tested against the term's own background distribution (a shifted gamma with the
    exact mean, variance and skewness of a random list of the model background, drawn
    per stratum: library genes, and genes the model knows that the library does not
    hold). Terms are ranked by the model alone; genes a term already contains are left
    to the classical test.
``fisher``
    Fisher's method on the same two p-values (independent under the null of a random
    list: the prediction p uses only the genes outside the term).
``augmented``
    the Fisher -log10 p of the list augmented with its top-N predicted genes,
    standardized per term and compared with the same statistic for random lists of the
    same size, augmented the same way (a size-matched null, pooled over terms).
``cosine``
    cosine between the model encodings of the list and of the term, against the same
    size-matched null.
``signature``
    the model's scores for the list as a ranked signature, with the unweighted
    running-sum (GSEA) test per term, vectorized over terms; its NES is compared with the
    NES of random lists of the same size (size-matched null). The usual gene-set null
    (a gamma fitted to random sets, as in blitzgsea) is not valid here: the model's
    scores share a popularity prior across lists, so terms of well-studied genes top
    every list (with it, 100% of random lists had significant terms).
``naive``
    plain Fisher on the augmented list. Not valid (random lists come out significant);
    available to reproduce the benchmark only.

Every row says which evidence supports it (``Evidence``, :data:`EVIDENCE`): ``list``,
``list+model`` or ``model``. Rows of terms that hold no list gene (``model``) leave
``Odds Ratio`` and ``Combined Score`` empty (NaN): both are the list's own (the classical
p and odds ratio, as Enrichr defines them) and have no meaning there.

With ``augment = N`` the top-N predicted genes (not in the list, within the background)
are shown per term (``Predicted Overlap``, ``Predicted Genes``); ``Overlap``,
``Overlap Size`` and ``Genes`` stay the input list's own. The family for multiple
testing is every term that passes the size filters (the model scores every term).
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gsea_plus.engine import (
    SIGNIFICANT,
    EvidenceTable,
    ListMatch,
    PreparedLibrary,
    Scores,
    dense_overlaps,
    keep_top,
    overlap_genes_many,
    result_columns,
)
from gsea_plus.evidence.statistics import (
    combine_bonferroni,
    combine_fisher,
    model_statistics,
    prediction_test,
    term_null,
)
from gsea_plus.evidence.view import ModelView, model_scores, predicted_genes, vocab_ids
from gsea_plus.options import MODEL_TESTS, ModelOptions
from gsea_plus.stats import adjust_pvalues_grouped

log = logging.getLogger(__name__)

__all__ = [
    "CLASSICAL_WEIGHT",
    "COMPARE_COLUMNS",
    "EVIDENCE",
    "MODEL_COLUMNS",
    "MODEL_ONLY_CAPTION",
    "NULLS",
    "TESTS",
    "ModelEvidence",
    "classical_weights",
    "dense_scores",
    "evidence_labels",
    "model_evidence",
    "model_table",
    "model_view",
]

#: Tests selectable with ``test=`` / ``--model-test`` (described in
#: :data:`gsea_plus.options.MODEL_TESTS`).
TESTS = tuple(MODEL_TESTS)
#: What each test's p-value is compared against.
NULLS = {name: test.null for name, test in MODEL_TESTS.items()}
#: Weight of the classical p in ``combined`` for a list whose genes are all in the library
#: (the model p gets the rest); see :func:`classical_weights`.
CLASSICAL_WEIGHT = 0.95
#: Columns added after :data:`gsea_plus.engine.COLUMNS` in model-based results.
MODEL_COLUMNS = [
    "Evidence",
    "Classical P-value",
    "Model P-value",
    "Model Score",
    "Predicted Overlap",
    "Predicted Genes",
    "Method",
]
#: The values of the ``Evidence`` column, what each means (the README says the same).
EVIDENCE = {
    "list": "the term holds genes of the list; the model's own evidence for it is not "
    "significant (its adjusted Model P-value is 0.05 or more)",
    "list+model": "the term holds genes of the list, and the model's own evidence, from "
    "the list's genes outside the term, is significant on its own (adjusted Model P-value "
    "< 0.05)",
    "model": "the term holds no gene of the list: its P-value is the model's alone (the "
    "genes it predicts for the term include the list's); Odds Ratio and Combined Score are "
    "left empty",
}
#: Caption of the model-only rows (Evidence ``model``) on the terminal, in plots and
#: reports; ``{background}`` is :meth:`ModelEvidence.model_background`.
MODEL_ONLY_CAPTION = (
    "Found by the gene set model, not by overlap: these terms hold none of the list's "
    "genes. Each term's genes were given to the model, which ranked every other gene; the "
    "list's genes ranked high. The P-value compares their ranks with random genes of the "
    "model's background: {background}."
)
#: Columns added by ``compare=True``: each evidence with its own correction and rank.
COMPARE_COLUMNS = [
    "Classical Adjusted P-value",
    "Classical Rank",
    "Model Adjusted P-value",
    "Model Rank",
]


_VIEWS: dict = {}


def model_view(prepared: PreparedLibrary, model=None) -> ModelView:
    """The library seen through the model (cached per prepared library and model)."""
    from gsea_plus.model import load_model

    if isinstance(model, os.PathLike):
        model = os.fspath(model)
    scorer = load_model(model) if model is None or isinstance(model, str) else model
    key = (id(prepared), id(scorer))
    hit = _VIEWS.get(key)
    if hit is None or hit[0] is not prepared or hit[1].scorer is not scorer:
        if len(_VIEWS) > 8:
            _VIEWS.clear()
        hit = (prepared, ModelView.build(prepared, scorer))
        _VIEWS[key] = hit
    return hit[1]


def dense_scores(
    scores: Scores, n_lists: int, n_terms: int, values: np.ndarray, fill: float = 0.0
) -> np.ndarray:
    """A (lists x terms) array of ``values`` (one per entry of ``scores``), ``fill`` elsewhere."""
    out = np.full((n_lists, n_terms), fill, dtype=values.dtype)
    out[scores.list_idx, scores.term_idx] = values
    return out


def _by_size(matches: Sequence[ListMatch]) -> dict[int, list[int]]:
    groups: dict[int, list[int]] = {}
    for i, m in enumerate(matches):
        groups.setdefault(max(m.size, 1), []).append(i)
    return groups


def _null_calibrated(view, matches, statistic: str, opts: ModelOptions, n_add: int):
    """Pooled-null p (log) and z of ``statistic`` for each list, null matched by list size."""
    observed = model_statistics(view, matches, statistic=statistic, n_add=n_add)
    z = np.zeros_like(observed)
    log_p = np.zeros_like(observed)
    for size, rows in _by_size(matches).items():
        null = term_null(
            view,
            size,
            statistic=statistic,
            n_add=n_add,
            null_lists=opts.null_lists,
            seed=opts.seed,
        )
        z[rows] = null.z(observed[rows])
        log_p[rows] = np.log(null.pooled_p(observed[rows]))
    return z, log_p


def classical_weights(view: ModelView, matches: Sequence[ListMatch]) -> np.ndarray:
    """Per list (a column), the classical p's weight in ``combined``.

    ``CLASSICAL_WEIGHT x a / (a + b)``: ``a`` list genes are in the library (the classical
    test sees them), ``b`` more are known only to the model. A list the library knows
    whole gets 0.95 (the model 0.05); a list of genes no library holds yet gets 0 and is
    tested by the model alone. The weight depends only on ``a`` and ``b``, which both
    tests' nulls condition on, so the weighted Bonferroni stays valid.
    """
    ids = vocab_ids(view, matches)
    a = np.array([len(m.columns) for m in matches], dtype=np.float64)
    b = np.array([int((~view.in_library[i]).sum()) for i in ids], dtype=np.float64)
    share = np.divide(a, a + b, out=np.zeros_like(a), where=(a + b) > 0)
    return (CLASSICAL_WEIGHT * share)[:, None]


def model_evidence(view, matches, classical_log_p: np.ndarray, opts: ModelOptions):
    """Per (list, term): the test's log p, its score (a z or NES) and the model's own log p.

    For ``combined`` and ``fisher`` the model's own log p is the prediction p before it is
    combined; for the other tests it is the test's p.
    """
    test = opts.test
    if test in ("combined", "fisher", "prediction"):
        z, log_p, _ = prediction_test(view, matches)
        if test == "combined":
            weights = classical_weights(view, matches)
            return combine_bonferroni(classical_log_p, log_p, weights), z, log_p
        if test == "fisher":
            return combine_fisher(classical_log_p, log_p), z, log_p
        return log_p, z, log_p
    if test in ("augmented", "cosine"):
        if test == "augmented":
            z, log_p = _null_calibrated(view, matches, "augment", opts, opts.augment)
        else:  # the encoding cosine does not depend on N: one null for every N
            z, log_p = _null_calibrated(view, matches, "embedding", opts, 0)
    elif test == "signature":
        z, log_p = _null_calibrated(view, matches, "prerank", opts, 0)
    else:  # naive: -log10 p of the augmented list, taken at face value
        z = model_statistics(view, matches, statistic="augment", n_add=opts.augment)
        log_p = -z * np.log(10.0)
    return log_p, z, log_p


def _predicted(view, matches, n_add: int) -> list[np.ndarray]:
    """Library columns of each list's top ``n_add`` predicted genes (in rank order)."""
    scores = model_scores(view, matches, [list(m.genes) for m in matches])
    top = predicted_genes(view, scores, matches, n_add)
    cols = [view.vocab_to_lib[t] for t in top]
    return [c[c >= 0] for c in cols]


def model_table(
    view,
    scores: Scores,
    matches: Sequence[ListMatch],
    opts: ModelOptions,
    *,
    correction: str = "fdr_bh",
    min_overlap: int = 0,
    top: int | None = None,
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Model-based result columns for a chunk of lists, each list sorted by its p-value.

    ``scores`` are the classical results of the same lists (:func:`engine.score_lists`).
    Returns the columns (:data:`engine.COLUMNS` + :data:`MODEL_COLUMNS` [+
    :data:`COMPARE_COLUMNS`]), each row's list position (like
    :func:`engine.table_for_lists`), and per list the number of terms with adjusted
    p < 0.05 (before ``min_overlap`` and ``top``).
    """
    prepared: PreparedLibrary = view.prepared
    if opts.test == "naive":
        warnings.warn(
            "the naive test is plain Fisher on an augmented list: its p-values are not "
            "valid (random lists come out significant)",
            stacklevel=2,
        )
    n_lists, n_terms = len(matches), len(prepared.library.terms)
    classical = dense_scores(scores, n_lists, n_terms, scores.log_p)
    log_p, score, model_log_p = model_evidence(view, matches, classical, opts)
    if opts.augment:
        predicted = _predicted(view, matches, opts.augment)
    else:
        predicted = [np.zeros(0, dtype=np.int64) for _ in matches]
    pred_k = dense_overlaps(prepared, predicted)
    input_k = dense_scores(scores, n_lists, n_terms, scores.overlap)
    mask = prepared.term_mask
    li, ti = np.nonzero(np.broadcast_to(mask, (n_lists, n_terms)))
    entry_log_p = log_p[li, ti]
    order = np.lexsort((ti, entry_log_p, li))
    bounds = np.searchsorted(li[order], np.arange(n_lists + 1))
    adjusted = np.empty(len(li))
    adjusted[order] = adjust_pvalues_grouped(np.exp(entry_log_p[order]), bounds, correction)
    big_k = prepared.term_sizes[ti]
    sizes = np.array([m.size for m in matches], dtype=np.int64)
    entries = Scores(
        li,
        ti,
        input_k[li, ti],
        big_k,
        sizes[li],
        entry_log_p,
        adjusted,
        prepared.background_size,
        order,
    )
    significant = np.bincount(li[adjusted < SIGNIFICANT], minlength=n_lists)
    sel = order[(input_k[li, ti] + pred_k[li, ti])[order] >= min_overlap]
    owner = li[sel]
    keep = keep_top(owner, top)
    sel, owner = sel[keep], owner[keep]
    table = result_columns(prepared, entries, sel, [m.columns for m in matches], owner)
    terms = ti[sel]
    listed = table["Overlap Size"] > 0
    # Odds Ratio and Combined Score are the list's own (Enrichr's -ln(p) * OR with the
    # classical p); a term that holds no list gene has neither.
    odds = np.where(listed, table["Odds Ratio"], np.nan)
    table["Odds Ratio"] = odds
    with np.errstate(invalid="ignore"):
        table["Combined Score"] = np.where(listed, -classical[owner, terms] * odds + 0.0, np.nan)
    model_adjusted = _adjust_per_list(model_log_p, mask, correction)
    table["Evidence"] = evidence_labels(listed, model_adjusted[owner, terms])
    table["Classical P-value"] = np.exp(classical[owner, terms])
    table["Model P-value"] = np.exp(model_log_p[owner, terms])
    table["Model Score"] = score[owner, terms]
    table["Predicted Overlap"] = pred_k[owner, terms]
    table["Predicted Genes"] = np.array(
        overlap_genes_many(prepared, predicted, owner, terms), dtype=object
    )
    table["Method"] = np.full(len(sel), opts.method, dtype=object)
    if opts.compare:
        _add_compare(table, classical, model_log_p, mask, owner, terms, correction)
    return table, owner, significant


def evidence_labels(listed: np.ndarray, model_adjusted: np.ndarray) -> np.ndarray:
    """The ``Evidence`` of each row (see :data:`EVIDENCE`)."""
    labels = np.where(model_adjusted < SIGNIFICANT, "list+model", "list")
    return np.where(listed, labels, "model").astype(object)


def _adjust_per_list(log_p: np.ndarray, mask: np.ndarray, correction: str) -> np.ndarray:
    """(lists x terms) adjusted p of ``log_p`` per list over the tested terms (1 elsewhere)."""
    n_lists = log_p.shape[0]
    li, ti = np.nonzero(np.broadcast_to(mask, log_p.shape))
    values = log_p[li, ti]
    order = np.lexsort((ti, values, li))
    bounds = np.searchsorted(li[order], np.arange(n_lists + 1))
    adjusted = np.ones(log_p.shape)
    flat = np.empty(len(li))
    flat[order] = adjust_pvalues_grouped(np.exp(values[order]), bounds, correction)
    adjusted[li, ti] = flat
    return adjusted


def _add_compare(table, classical, model, mask, owner, terms, correction):
    """Each evidence's own per-list correction and rank over the tested terms."""
    for label, log_p in (("Classical", classical), ("Model", model)):
        adjusted = np.ones_like(log_p)
        rank = np.zeros(log_p.shape, dtype=np.int64)
        for i, row in enumerate(log_p):
            p = np.exp(row[mask])
            adjusted[i, mask] = adjust_pvalues_grouped(
                np.sort(p), np.array([0, len(p)]), correction
            )[np.argsort(np.argsort(p, kind="stable"), kind="stable")]
            r = np.empty(len(p), dtype=np.int64)
            r[np.lexsort((np.arange(len(p)), p))] = np.arange(1, len(p) + 1)
            rank[i, mask] = r
        table[f"{label} Adjusted P-value"] = adjusted[owner, terms]
        table[f"{label} Rank"] = rank[owner, terms]


#: Upper bound on lists x vocabulary cells the model scores at once (dense matrices).
MODEL_CELLS = 4_000_000


@dataclass
class ModelEvidence:
    """The gene set model's evidence for one library: an :class:`~gsea_plus.engine.Evidence`.

    Attributes
    ----------
    view
        The library seen through the model.
    options
        The model options (test, augmentation, comparison).
    """

    view: ModelView
    options: ModelOptions

    @classmethod
    def build(cls, prepared: PreparedLibrary, options: ModelOptions) -> ModelEvidence:
        """The evidence of ``options.model`` (default: the bundled model) for a library."""
        return cls(model_view(prepared, options.model), options)

    @property
    def method(self) -> str:
        """The ``Method`` column: test and augmentation."""
        return self.options.method

    def tables(
        self,
        prepared: PreparedLibrary,
        scores: Scores,
        matches: Sequence[ListMatch],
        *,
        correction: str,
        min_overlap: int,
        top: int | None,
    ) -> EvidenceTable:
        """:func:`model_table` for a chunk; every term passing the size filters is tested."""
        if prepared is not self.view.prepared:
            raise ValueError("the evidence was built for another prepared library")
        table, owner, significant = model_table(
            self.view,
            scores,
            matches,
            self.options,
            correction=correction,
            min_overlap=min_overlap,
            top=top,
        )
        tested = np.full(len(matches), int(prepared.term_mask.sum()), dtype=np.int64)
        return EvidenceTable(table=table, owner=owner, tested=tested, significant=significant)

    def chunk_limit(self) -> int | None:
        """Lists per chunk that keep the model's dense (lists x vocabulary) arrays bounded."""
        return max(16, MODEL_CELLS // max(len(self.view.allowed), 1))

    def recognized(self, matches: Sequence[ListMatch]) -> np.ndarray:
        """Lists with a gene in the library or in the model background: both are tested."""
        known = vocab_ids(self.view, matches)
        return np.array(
            [len(m.columns) > 0 or len(k) > 0 for m, k in zip(matches, known, strict=True)],
            dtype=bool,
        )

    def model_background(self) -> str:
        """The model test's background, in words (see :class:`ModelView`)."""
        if self.options.test in ("combined", "fisher", "prediction"):
            return self.view.describe_model_background()
        return f"random lists of the same size from {self.view.prepared.describe()}"

    def caption(self) -> str:
        """:data:`MODEL_ONLY_CAPTION` with this library's model background filled in."""
        return MODEL_ONLY_CAPTION.format(background=self.model_background())

    def info(self, match: ListMatch) -> dict:
        """What the summary says of the model test for one list (``EnrichInfo.per_library``).

        Keys: ``model_test`` (the test), ``model_null`` (what its p-value is compared
        with, :data:`NULLS`), ``model_background`` (the model test's background, in
        words), ``model_background_size`` (genes in it), ``model_recognized`` (the list's
        genes the model test uses), ``model_only_genes`` (those of them that are not in
        the library: the classical columns cannot see them), ``model_only_caption``
        (:data:`MODEL_ONLY_CAPTION` filled in), ``model_name``, ``model_source`` and
        ``model_fingerprint`` (which model, exactly).
        """
        (ids,) = vocab_ids(self.view, [match])
        outside = ids[~self.view.in_library[ids]]
        vocab = np.asarray(self.view.scorer.vocab)
        background = self.model_background()
        return {
            "model_test": self.options.test,
            "model_null": NULLS[self.options.test],
            "model_background": background,
            "model_background_size": int(self.view.model_background.sum()),
            "model_recognized": int(len(ids)),
            "model_only_genes": sorted(vocab[outside].tolist()),
            "model_only_caption": self.caption(),
            "model_name": str(getattr(self.view.scorer, "name", "")),
            "model_source": str(getattr(self.view.scorer, "source", "")),
            "model_fingerprint": str(getattr(self.view.scorer, "fingerprint", "")),
        }
