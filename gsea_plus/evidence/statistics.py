"""Model-based statistics per (list, term), each with a stated null.

An augmented list is not an independent sample: predicted genes are coherent with each
other, so a plain Fisher p-value on it is not valid (random lists come out
"significant"). The statistics here are therefore calibrated: the ``prediction`` test
against each term's own background distribution of log ranks (:func:`prediction_test`),
the others against a **size-matched null**: ``null_lists`` random lists of the same size
drawn from the background go through exactly the same pipeline (scoring, augmentation,
statistic), each term's observed statistic is standardized with that term's null mean and
standard deviation, and its p-value is read off the pooled null z-scores
(:func:`term_null`). The null depends only on the list size, so it is computed once per
size and cached.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gsea_plus.engine import ListMatch, dense_overlaps
from gsea_plus.evidence.view import (
    ModelView,
    TermPredictions,
    augment_matches,
    model_scores,
    predicted_genes,
    random_matches,
    vocab_ids,
)
from gsea_plus.stats import hypergeom_logsf

log = logging.getLogger(__name__)

__all__ = [
    "STATISTICS",
    "TermNull",
    "combine_bonferroni",
    "combine_fisher",
    "model_statistics",
    "prediction_test",
    "signature_prerank_test",
    "term_null",
]


STATISTICS = ("signature", "embedding", "augment", "prerank")


def model_statistics(
    view: ModelView,
    matches: Sequence[ListMatch],
    *,
    statistic: str,
    n_add: int = 50,
) -> np.ndarray:
    """The per-term statistic (lists x terms) of ``statistic`` for each list.

    ``signature``: mean percentile (0-1) of the model's scores over the term's genes that
    are not in the list. ``embedding``: cosine between the model encodings of the list
    and the term. ``augment``: -log10 Fisher p of the list augmented with the top
    ``n_add`` predicted genes. ``prerank``: the NES of the running-sum test of the term on
    the list's model scores (:func:`signature_prerank_test`).
    """
    prepared = view.prepared
    genes = [list(m.genes) for m in matches]
    if statistic == "prerank":
        return signature_prerank_test(view, matches)[0]
    if statistic == "embedding":
        enc = np.asarray(view.scorer.encode(genes), dtype=np.float64)
        enc /= np.maximum(np.linalg.norm(enc, axis=1, keepdims=True), 1e-12)
        return enc @ view.term_encodings().T
    scores = model_scores(view, matches, genes)
    if statistic == "signature":
        order = np.argsort(np.argsort(scores, axis=1, kind="stable"), axis=1, kind="stable")
        pct = (order + 0.5) / scores.shape[1]
        for row, own in zip(pct, vocab_ids(view, matches), strict=True):
            row[own] = 0.0
        m = view.term_vocab_matrix()
        total = np.asarray((m.T @ pct.T).T)
        sizes = np.asarray(m.sum(axis=0)).ravel()
        inside = np.zeros_like(total)
        for i, own in enumerate(vocab_ids(view, matches)):
            if len(own):
                inside[i] = np.asarray(m[own].sum(axis=0)).ravel()
        counts = sizes[None, :] - inside
        return np.where(counts > 0, total / np.maximum(counts, 1), 0.0)
    if statistic == "augment":
        aug = augment_matches(view, matches, predicted_genes(view, scores, matches, n_add))
        k = dense_overlaps(prepared, [m.columns for m in aug])
        big_k = prepared.term_sizes[None, :]
        n = np.array([m.size for m in aug], dtype=np.int64)[:, None]
        logp = hypergeom_logsf(
            k,
            np.broadcast_to(big_k, k.shape),
            np.broadcast_to(n, k.shape),
            prepared.background_size,
        )
        return -logp / np.log(10.0)
    raise ValueError(f"unknown statistic {statistic!r}; choose from {', '.join(STATISTICS)}")


@dataclass
class TermNull:
    """Per-term null mean and standard deviation of a statistic, for one list size."""

    mean: np.ndarray
    sd: np.ndarray
    n_lists: int
    pooled: np.ndarray  # sorted z-scores of the null lists, pooled over terms

    def z(self, observed: np.ndarray) -> np.ndarray:
        """Per-term standardized statistic."""
        return (observed - self.mean) / self.sd

    def pooled_p(self, observed: np.ndarray) -> np.ndarray:
        """Upper-tail p of each z against the pooled null z distribution."""
        z = self.z(observed)
        above = len(self.pooled) - np.searchsorted(self.pooled, z, side="left")
        return (1.0 + above) / (1.0 + len(self.pooled))


def term_null(
    view: ModelView,
    size: int,
    *,
    statistic: str,
    n_add: int = 50,
    null_lists: int = 200,
    seed: int = 0,
    chunk: int = 100,
) -> TermNull:
    """The size-matched null of ``statistic`` (cached per size and settings)."""
    key = ("null", statistic, size, n_add, null_lists, seed)
    cached = view._cache.get(key)
    if cached is not None:
        return cached
    matches = random_matches(view.prepared, size, null_lists, seed + 7919 * size)
    parts = [
        model_statistics(view, matches[i : i + chunk], statistic=statistic, n_add=n_add)
        for i in range(0, len(matches), chunk)
    ]
    stats = np.vstack(parts)
    # Half of the null lists estimate each term's mean and spread; the other half,
    # standardized with those, form the pooled null. A fresh list is then exchangeable
    # with the pooled lists (standardizing lists with their own moments would shrink
    # their z-scores and make the pooled null too narrow).
    half = max(len(stats) // 2, 2)
    fit, pool = stats[:half], stats[half:] if len(stats) > half else stats
    mean = fit.mean(axis=0)
    sd = fit.std(axis=0, ddof=1)
    # A statistic that never moved in the null (e.g. a term no random list reaches)
    # gets the smallest spread seen among terms, so it cannot produce infinite z.
    positive = sd[sd > 0]
    floor = float(np.quantile(positive, 0.05)) if positive.size else 1.0
    sd = np.maximum(sd, floor)
    mask = view.prepared.term_mask
    pooled = np.sort(((pool - mean) / sd)[:, mask].ravel())
    result = TermNull(mean, sd, null_lists, pooled)
    view._cache[key] = result
    return result


def _tail_fill(depth: int, n_ranked: np.ndarray) -> np.ndarray:
    """E[-log U | U > c] for U uniform and c = depth / n_ranked: the value of an unranked gene."""
    c = np.minimum(depth / np.maximum(n_ranked, 1), 1.0 - 1e-12)
    return (1.0 - c + c * np.log(c)) / (1.0 - c)


@dataclass
class PredictionParts:
    """What the ``prediction`` test needs of a library, computed once per view.

    Attributes
    ----------
    weights
        Sparse (terms x vocabulary) log-rank excess over the fill.
    fill
        Per term, the value of a gene below the kept ranks.
    mean, var, third
        Per stratum (rows: library genes, other genes of the model background) and term,
        the mean, variance and third central moment of one background gene's log-rank
        score (genes of the term excluded).
    """

    weights: Any
    fill: np.ndarray
    mean: np.ndarray
    var: np.ndarray
    third: np.ndarray


def _prediction_parts(view: ModelView) -> PredictionParts:
    """Sparse (terms x vocabulary) log-rank excess over the fill, fills and null moments.

    A gene ranked ``r`` (0-based) among the ``R_t`` genes of term ``t``'s predictions
    scores ``-log((r + 1) / R_t)``: about Exp(1) for a gene the model ranks at random.
    Genes below the kept depth score the conditional mean of that tail. The null moments
    are those of one gene drawn from a stratum of the model background (library genes not
    in the term; genes the library does not hold).
    """
    cached = view._cache.get("prediction_parts")
    if cached is not None:
        return cached
    import scipy.sparse as sp

    preds = view._cache.get("term_predictions")
    if preds is None:
        preds = TermPredictions.cached(view)
        view._cache["term_predictions"] = preds
    n_terms, depth = preds.top.shape
    n_vocab = len(view.allowed)
    fill = _tail_fill(depth, preds.n_ranked)
    ranked = np.minimum(preds.n_ranked, depth)
    background = view.model_background
    strata = np.stack([background & view.in_library, background & ~view.in_library])
    # (terms x vocabulary) CSR of log-rank excess over the fill, built a block of terms at
    # a time (a big library keeps ~12M cells: no full-size temporaries).
    indptr = np.zeros(n_terms + 1, dtype=np.int64)
    np.cumsum(ranked, out=indptr[1:])
    indices = np.empty(int(indptr[-1]), dtype=np.int32)
    data = np.empty(int(indptr[-1]), dtype=np.float64)
    sums = np.zeros((3, 2, n_terms))  # power, stratum, term
    block = max(1, (1 << 22) // max(depth, 1))
    for lo in range(0, n_terms, block):
        hi = min(lo + block, n_terms)
        rank = np.arange(depth)[None, :]
        keep = rank < ranked[lo:hi, None]
        excess = -np.log((rank + 1.0) / np.maximum(preds.n_ranked[lo:hi], 1)[:, None])
        excess -= fill[lo:hi, None]
        top = preds.top[lo:hi].astype(np.int64)
        for k, stratum in enumerate(strata):
            bg = np.where(keep & stratum[top], excess, 0.0)
            sums[0, k, lo:hi] = bg.sum(axis=1)  # null moments over ranked background genes
            sums[1, k, lo:hi] = (bg * bg).sum(axis=1)
            sums[2, k, lo:hi] = (bg * bg * bg).sum(axis=1)
        indices[indptr[lo] : indptr[hi]] = top[keep]
        data[indptr[lo] : indptr[hi]] = excess[keep]
    weights = sp.csr_matrix((data, indices, indptr), shape=(n_terms, n_vocab))
    # Null moments: one gene drawn from a stratum of the model background, not in t.
    members = view.term_vocab_matrix()
    counts = np.stack(
        [s.sum() - np.asarray(members.T @ s.astype(np.float64)).ravel() for s in strata]
    )
    counts = np.maximum(counts, 1.0)
    m1, m2, m3 = sums / counts[None]  # raw moments of the excess
    var = np.maximum(m2 - m1**2, 1e-12)
    third = m3 - 3 * m1 * m2 + 2 * m1**3  # central: the same for the log ranks
    parts = PredictionParts(weights, fill, fill[None, :] + m1, var, third)
    view._cache["prediction_parts"] = parts
    return parts


def prediction_test(view: ModelView, matches: Sequence[ListMatch]) -> tuple[np.ndarray, ...]:
    """Does each term's model prediction rank the list's genes high? (lists x terms).

    For term ``t`` the model is given the term's genes and ranks the rest of the
    vocabulary; the list's genes outside ``t`` are scored by their log ranks and summed
    (``S``). The null is a random list of the model background, drawn per stratum: the
    list's library genes are a random draw of the library's genes (outside ``t``), its
    other genes a random draw of the genes the model knows and the library does not hold.
    Conditioning on how many list genes fall in each stratum keeps the test valid for a
    list of unannotated genes, which the model ranks lower on average than annotated ones.
    ``S`` is then a sum of independent draws whose exact mean, variance and third moment
    (per stratum, added) give a shifted gamma (Pearson type III) upper tail; this is
    exactly Gamma(n_t, 1) when the model ranks background genes uniformly. Matching the
    skewness keeps the far tail calibrated: a plain gamma fit on mean and variance gave 3x
    too many p < 1e-4 on GWAS_Catalog_2023. The genes of the list inside ``t`` are left to
    the classical test, so the two p-values are independent under the null and can be
    combined (:func:`combine_fisher`).

    Returns
    -------
    z, log_p, n_used
        Standardized statistic, natural-log p-value (0 where no gene is used) and the
        number of list genes used, per (list, term).
    """
    from scipy import stats as st

    from gsea_plus.model.scorers import multi_hot

    parts = _prediction_parts(view)
    ids = vocab_ids(view, matches)
    x = multi_hot(ids, len(view.allowed))
    inside = np.asarray((x @ view.term_vocab_matrix()).todense())
    n_lib = np.array([view.in_library[i].sum() for i in ids], dtype=np.float64)[:, None]
    n_other = np.array([len(i) for i in ids], dtype=np.float64)[:, None] - n_lib
    n_in = n_lib - inside  # library genes of the list outside the term
    n_used = n_in + n_other
    total = np.asarray((parts.weights @ x.T).T.todense(), dtype=np.float64)
    total += parts.fill[None, :] * n_used
    expected = n_in * parts.mean[0][None, :] + n_other * parts.mean[1][None, :]
    variance = n_in * parts.var[0][None, :] + n_other * parts.var[1][None, :]
    third = n_in * parts.third[0][None, :] + n_other * parts.third[1][None, :]
    spread = np.sqrt(np.maximum(variance, 1e-12))
    z = np.where(n_used > 0, (total - expected) / spread, 0.0)
    used = np.maximum(n_used, 1.0)
    skew = np.maximum(third / spread**3, 1e-3 / np.sqrt(used))
    shape = 4.0 / skew**2
    scale = spread * skew / 2.0
    loc = expected - shape * scale
    log_p = np.where(n_used > 0, st.gamma.logsf((total - loc) / scale, shape), 0.0)
    return z, np.minimum(log_p, 0.0), n_used.astype(np.int64)


def signature_prerank_test(
    view: ModelView,
    matches: Sequence[ListMatch],
    *,
    permutations: int = 1000,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """The list's model scores as a ranked signature, with a preranked test per term.

    The vocabulary genes not in the list are ranked by the model's score for the list;
    each term's genes among them get the classic (unweighted) running-sum enrichment
    score, vectorized over terms (:mod:`gsea_plus.prerank`). With unit weights the null of
    the ES depends only on the signature length and the set size, so one gamma null (as
    in blitzgsea, fitted at anchor sizes from random sets) serves every list. The test is
    one-sided: terms at the top of the signature.

    Returns
    -------
    nes, log_p
        Normalized ES and natural-log p per (list, term); terms without genes get 0.
    """
    from scipy.special import gammaincc

    from gsea_plus.prerank import Signature, fit_null, segment_es

    genes = [list(m.genes) for m in matches]
    scores = model_scores(view, matches, genes)
    ids = vocab_ids(view, matches)
    members = view.term_vocab_matrix().T.tocsr()  # terms x vocabulary
    n_terms = members.shape[0]
    nes = np.zeros((len(matches), n_terms))
    log_p = np.zeros((len(matches), n_terms))
    for i, (row, own) in enumerate(zip(scores, ids, strict=True)):
        keep = np.ones(len(row), dtype=bool)
        keep[own] = False
        order = np.flatnonzero(keep)[np.argsort(-row[keep], kind="stable")]
        position = np.full(len(row), -1, dtype=np.int64)
        position[order] = np.arange(len(order))
        pos = position[members.indices]
        seg = np.repeat(np.arange(n_terms), np.diff(members.indptr))
        ok = pos >= 0
        pos, seg = pos[ok], seg[ok]
        sizes = np.bincount(seg, minlength=n_terms)
        usable = (sizes > 0) & (sizes < len(order))
        sel = usable[seg]
        pos, seg = pos[sel], seg[sel]
        srt = np.lexsort((pos, seg))
        pos, seg = pos[srt], seg[srt]
        ptr = np.concatenate([[0], np.cumsum(sizes[usable])])
        es, _, _ = segment_es(pos, np.ones(len(pos)), ptr, len(order))
        key = ("prerank_null", len(order), permutations, seed)
        null = view._cache.get(key)
        if null is None:
            dummy = Signature(np.arange(len(order)).astype(str), np.ones(len(order)))
            grid = np.array([1, max(int(sizes.max()), 2)])
            null = fit_null(dummy, grid, permutations=permutations, seed=seed)
            view._cache[key] = null
        par = null.params(sizes[usable])
        p = np.where(es > 0, gammaincc(par["pos_shape"], np.maximum(es, 0) / par["pos_scale"]), 1.0)
        nes[i, usable] = np.where(es >= 0, es / par["pos_mean"], es / par["neg_mean"])
        log_p[i, usable] = np.log(np.clip(p, 1e-300, 1.0))
    return nes, log_p


def combine_bonferroni(log_p1: np.ndarray, log_p2: np.ndarray, weight) -> np.ndarray:
    """Weighted Bonferroni of two p-values, in natural logs: ``min(1, p1/w, p2/(1-w))``.

    A valid p-value whatever the dependence between the two: P(min <= a) <= w a +
    (1 - w) a = a. ``weight`` is a number or one per row (a column, lists x 1); a weight of
    0 gives ``p2`` alone. The weights must not depend on the p-values (here they depend
    only on how many list genes the library holds, which both nulls condition on).
    """
    w = np.asarray(weight, dtype=np.float64)
    with np.errstate(divide="ignore"):
        a = np.asarray(log_p1, dtype=np.float64) - np.log(w)
        b = np.asarray(log_p2, dtype=np.float64) - np.log1p(-w)
    return np.minimum(np.minimum(a, b), 0.0)


def combine_fisher(log_p1: np.ndarray, log_p2: np.ndarray) -> np.ndarray:
    """Fisher's method for two independent p-values, in natural logs.

    ``X = -2 (log p1 + log p2)`` is chi-square with 4 degrees of freedom, whose upper tail
    is ``exp(-X/2) (1 + X/2)``: ``log p = s + log(1 - s)`` with ``s = log p1 + log p2``.
    """
    s = np.asarray(log_p1, dtype=np.float64) + np.asarray(log_p2, dtype=np.float64)
    return np.minimum(s + np.log1p(-s), 0.0)
