"""Hypergeometric tails, odds ratio, combined score and multiple testing.

The one-sided Fisher exact test for enrichment is the hypergeometric upper tail
``P(X >= k)`` for ``X ~ Hypergeom(N, K, n)``: a background of ``N`` genes, a term of ``K``
genes, a list of ``n`` genes, an overlap of ``k``. It is computed here in log space, so
p-values far below 1e-300 keep their exponent instead of underflowing to 0:

* ``log pmf(k)`` comes from a table of ``log(i!)`` (``scipy.special.gammaln``);
* the tail is ``pmf(k) * S`` where ``S`` sums the ratios ``pmf(i)/pmf(k)`` obtained by the
  exact recurrence ``pmf(i+1)/pmf(i) = (K-i)(n-i) / ((i+1)(N-K-n+i+1))``, walking up from
  ``k`` until the terms no longer change the sum;
* when ``k`` is at or below the mode the upper tail is large and is computed as
  ``1 - P(X <= k-1)``, walking down from ``k-1`` instead (few terms either way).

The relative error against ``scipy.stats.hypergeom.sf`` stays below 1e-9 (the limit set
by float64 sums of log-factorials of numbers up to ~60,000; typically ~1e-12). Identical
``(k, K, n)`` triples are computed once, which makes batches of many lists cheap.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from gsea_plus.options import CORRECTIONS

__all__ = [
    "CORRECTIONS",
    "adjust_pvalues",
    "adjust_pvalues_grouped",
    "combined_score",
    "hypergeom_logsf",
    "odds_ratio",
]

_LN10 = np.log(10.0)
_TOL = 1e-17


@lru_cache(maxsize=8)
def _logfact(n_max: int) -> np.ndarray:
    # math.lgamma is correctly rounded to ~1 ulp and avoids importing scipy.special
    # (0.1 s) on the command line's start-up path.
    return np.array([math.lgamma(i + 1.0) for i in range(n_max + 1)], dtype=np.float64)


def _log_pmf(lf: np.ndarray, k, big_k, n, big_n):
    return (
        lf[big_k]
        - lf[k]
        - lf[big_k - k]
        + lf[big_n - big_k]
        - lf[n - k]
        - lf[big_n - big_k - n + k]
        - lf[big_n]
        + lf[n]
        + lf[big_n - n]
    )


def _upper_sum(k, big_k, n, big_n):
    """Sum over i >= k of pmf(i)/pmf(k), for k above the mode (terms decrease)."""
    total = np.ones(len(k), dtype=np.float64)
    term = np.ones(len(k), dtype=np.float64)
    hi = np.minimum(big_k, n)
    i = k.astype(np.float64)
    active = np.flatnonzero(k < hi)
    bk = big_k.astype(np.float64)
    nn = n.astype(np.float64)
    rest = (big_n - big_k - n).astype(np.float64)
    while active.size:
        ia = i[active]
        t = (
            term[active]
            * ((bk[active] - ia) * (nn[active] - ia))
            / ((ia + 1.0) * (rest[active] + ia + 1.0))
        )
        term[active] = t
        total[active] += t
        i[active] = ia + 1.0
        keep = (t > _TOL * total[active]) & (i[active] < hi[active])
        active = active[keep]
    return total


def _lower_sum(k, big_k, n, big_n):
    """Sum over i <= k of pmf(i)/pmf(k), for k at or below the mode (terms decrease downward)."""
    total = np.ones(len(k), dtype=np.float64)
    term = np.ones(len(k), dtype=np.float64)
    lo = np.maximum(0, n + big_k - big_n)
    i = k.astype(np.float64)
    active = np.flatnonzero(k > lo)
    bk = big_k.astype(np.float64)
    nn = n.astype(np.float64)
    rest = (big_n - big_k - n).astype(np.float64)
    while active.size:
        ia = i[active]
        t = (
            term[active]
            * (ia * (rest[active] + ia))
            / ((bk[active] - ia + 1.0) * (nn[active] - ia + 1.0))
        )
        term[active] = t
        total[active] += t
        i[active] = ia - 1.0
        keep = (t > _TOL * total[active]) & (i[active] > lo[active])
        active = active[keep]
    return total


def _logsf_unique(k, big_k, n, big_n):
    out = np.zeros(len(k), dtype=np.float64)  # log(1) for k <= lower bound
    lo = np.maximum(0, n + big_k - big_n)
    hi = np.minimum(big_k, n)
    impossible = k > hi
    out[impossible] = -np.inf
    todo = np.flatnonzero(~impossible & (k > lo))
    if todo.size == 0:
        return out
    kk, kb, nn, nb = k[todo], big_k[todo], n[todo], big_n[todo]
    lf = _logfact(int(nb.max()))
    mode = np.floor((nn + 1.0) * (kb + 1.0) / (nb + 2.0))
    upper = kk > mode
    res = np.empty(len(todo), dtype=np.float64)
    u = np.flatnonzero(upper)
    if u.size:
        s = _upper_sum(kk[u], kb[u], nn[u], nb[u])
        res[u] = _log_pmf(lf, kk[u], kb[u], nn[u], nb[u]) + np.log(s)
    d = np.flatnonzero(~upper)
    if d.size:
        km1 = kk[d] - 1
        s = _lower_sum(km1, kb[d], nn[d], nb[d])
        cdf = np.exp(_log_pmf(lf, km1, kb[d], nn[d], nb[d])) * s
        res[d] = np.log1p(-np.minimum(cdf, 1.0))
    out[todo] = res
    return out


def hypergeom_logsf(k, big_k, n, big_n) -> np.ndarray:
    """Natural log of the hypergeometric upper tail ``P(X >= k)``.

    Equal to ``log(scipy.stats.hypergeom.sf(k - 1, N, K, n))`` (and to the log p-value of
    ``scipy.stats.fisher_exact(table, alternative="greater")``) to within 1e-9 relative in
    ``p``, but finite far below the float64 range of ``p``.

    Parameters
    ----------
    k
        Overlaps (array-like of int).
    big_k
        Term sizes ``K``.
    n
        List sizes ``n``.
    big_n
        Background sizes ``N``.

    Returns
    -------
    numpy.ndarray
        ``log P(X >= k)``, shape of the broadcast inputs; ``0`` where ``k`` is at or below
        the smallest possible overlap and ``-inf`` where it exceeds the largest.
    """
    k, big_k, n, big_n = np.broadcast_arrays(
        *(np.asarray(a, dtype=np.int64) for a in (k, big_k, n, big_n))
    )
    shape = k.shape
    if k.size == 0:
        return np.zeros(shape, dtype=np.float64)
    if (big_k < 0).any() or (n < 0).any() or (big_k > big_n).any() or (n > big_n).any():
        raise ValueError("need 0 <= K <= N and 0 <= n <= N")
    flat = [a.ravel() for a in (k, big_k, n, big_n)]
    # Identical tables get one computation: pack them into a structured key.
    # (k is packed too: an impossible k >= 2**16 must not wrap around)
    fits = int(big_n.max()) < 1 << 16 and 0 <= int(k.min()) <= int(k.max()) < 1 << 16
    if flat[0].size > 64 and fits:
        packed = (
            (flat[0].astype(np.uint64) << np.uint64(48))
            | (flat[1].astype(np.uint64) << np.uint64(32))
            | (flat[2].astype(np.uint64) << np.uint64(16))
            | flat[3].astype(np.uint64)
        )
        uniq, inverse = np.unique(packed, return_inverse=True)
        mask = np.uint64(0xFFFF)
        parts = [((uniq >> np.uint64(s)) & mask).astype(np.int64) for s in (48, 32, 16, 0)]
        res = _logsf_unique(*parts)[inverse.ravel()]
    else:
        res = _logsf_unique(*flat)
    return res.reshape(shape)


def odds_ratio(k, big_k, n, big_n) -> np.ndarray:
    """Enrichr's odds ratio ``a*d / max(b*c, 1)``.

    With ``a = k`` (list genes in the term), ``b = K - k`` (term genes not in the list),
    ``c = n - k`` (list genes not in the term) and ``d = N - K - n + k``. The zero-cell
    rule: when ``b*c`` is 0 the denominator is 1, so the ratio stays finite
    (Enrichr's ``Math.max(b*c, 1)``); no pseudo-count is added.
    """
    k, big_k, n, big_n = (np.asarray(a, dtype=np.float64) for a in (k, big_k, n, big_n))
    a = k
    b = big_k - k
    c = n - k
    d = big_n - big_k - n + k
    return (a * d) / np.maximum(b * c, 1.0)


def combined_score(log_p, odds) -> np.ndarray:
    """Enrichr's combined score ``-ln(p) * OR``, from the natural-log p-value."""
    # (+ 0.0 turns the -0.0 of a p-value of 1 into 0.0, which is how it should print)
    return -np.asarray(log_p, dtype=np.float64) * np.asarray(odds, dtype=np.float64) + 0.0


def _ordered(p: np.ndarray):
    order = np.argsort(p)
    return order, p[order]


def _unsort(values: np.ndarray, order: np.ndarray) -> np.ndarray:
    out = np.empty_like(values)
    out[order] = values
    return out


def _step_up(p: np.ndarray, *, dependent: bool) -> np.ndarray:
    order, ps = _ordered(p)
    m = len(ps)
    factor = np.arange(1, m + 1, dtype=np.float64) / m
    if dependent:
        factor /= np.sum(1.0 / np.arange(1, m + 1))
    q = np.minimum.accumulate((ps / factor)[::-1])[::-1]
    return _unsort(np.minimum(q, 1.0), order)


def _step_down(p: np.ndarray, *, sidak: bool) -> np.ndarray:
    order, ps = _ordered(p)
    mult = np.arange(len(ps), 0, -1, dtype=np.float64)
    if sidak:
        with np.errstate(divide="ignore"):
            raw = -np.expm1(mult * np.log1p(-ps))
    else:
        raw = ps * mult
    q = np.maximum.accumulate(raw)
    return _unsort(np.minimum(q, 1.0), order)


def _sidak(p: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return -np.expm1(len(p) * np.log1p(-p))


# The common methods are written out in numpy, step for step as in statsmodels'
# multipletests, because importing statsmodels costs ~0.7 s (it loads scipy.stats) on
# every command-line run; tests assert they equal statsmodels' output. The rest are
# delegated to statsmodels.
_NUMPY_METHODS = {
    "fdr_bh": lambda p: _step_up(p, dependent=False),
    "fdr_by": lambda p: _step_up(p, dependent=True),
    "bonferroni": lambda p: np.minimum(p * len(p), 1.0),
    "sidak": lambda p: _sidak(p),
    "holm": lambda p: _step_down(p, sidak=False),
    "holm-sidak": lambda p: _step_down(p, sidak=True),
}


def _nothing_to_adjust(p: np.ndarray, method: str) -> bool:
    """Check the method name; True when the p-values come back unchanged."""
    if method not in CORRECTIONS:
        raise ValueError(f"unknown correction {method!r}; choose from {', '.join(CORRECTIONS)}")
    return method == "none" or p.size == 0


def adjust_pvalues(pvalues, method: str = "fdr_bh") -> np.ndarray:
    """Adjust the p-values of one family of tests, as statsmodels' ``multipletests``.

    Parameters
    ----------
    pvalues
        Raw p-values of one family of tests.
    method
        A statsmodels method name (see :data:`CORRECTIONS`), or ``"none"``.

    Returns
    -------
    numpy.ndarray
        Adjusted p-values, in the input order; equal to
        ``statsmodels.stats.multitest.multipletests(p, method=method)[1]``.
    """
    p = np.asarray(pvalues, dtype=np.float64)
    if _nothing_to_adjust(p, method):
        return p.copy()
    fast = _NUMPY_METHODS.get(method)
    if fast is not None:
        return fast(p)
    from statsmodels.stats.multitest import multipletests

    return multipletests(p, method=method)[1]


def _harmonic(m: int) -> float:
    # Written as in _step_up (and statsmodels) so the float result is the same.
    return float(np.sum(1.0 / np.arange(1, m + 1)))


def adjust_pvalues_grouped(p_sorted, bounds, method: str = "fdr_bh") -> np.ndarray:
    """Adjust many families of p-values at once, each as :func:`adjust_pvalues`.

    The batch path tests thousands of lists; a Python loop calling
    :func:`adjust_pvalues` per list spends most of its time in per-call overhead and
    per-list sorts. Here the families arrive already sorted, and the element-wise steps run
    once over all of them with the same float operations as statsmodels, so every adjusted
    value is identical to ``multipletests(p, method=method)[1]`` of its family.

    Parameters
    ----------
    p_sorted
        Raw p-values, family after family, each family sorted ascending.
    bounds
        Family ``i`` is ``p_sorted[bounds[i]:bounds[i + 1]]`` (``len(bounds) = families + 1``).
    method
        A method of :data:`CORRECTIONS`.

    Returns
    -------
    numpy.ndarray
        Adjusted p-values in the order of ``p_sorted``.
    """
    p = np.asarray(p_sorted, dtype=np.float64)
    bounds = np.asarray(bounds, dtype=np.int64)
    if _nothing_to_adjust(p, method):
        return p.copy()
    sizes = np.diff(bounds)
    m = np.repeat(sizes, sizes).astype(np.float64)
    # 1-based rank of each value within its family.
    j = np.arange(1, p.size + 1, dtype=np.float64) - np.repeat(bounds[:-1], sizes)
    spans = [
        (int(a), int(b))
        for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)
        if b > a
    ]
    if method in ("fdr_bh", "fdr_by"):
        factor = j / m
        if method == "fdr_by":
            distinct, inverse = np.unique(sizes, return_inverse=True)
            cm = np.array([_harmonic(int(x)) if x else 1.0 for x in distinct.tolist()])
            factor /= np.repeat(cm[inverse], sizes)
        raw = p / factor
        # Reverse cumulative minimum within each family (a reversed view keeps families
        # contiguous, so each one is a single ufunc call on a slice).
        rev = raw[::-1].copy()
        total = p.size
        for a, b in spans:
            seg = rev[total - b : total - a]
            np.minimum.accumulate(seg, out=seg)
        return np.minimum(rev[::-1], 1.0)
    if method == "bonferroni":
        return np.minimum(p * m, 1.0)
    if method == "sidak":
        with np.errstate(divide="ignore"):
            return -np.expm1(m * np.log1p(-p))
    if method in ("holm", "holm-sidak"):
        mult = m - j + 1.0
        if method == "holm-sidak":
            with np.errstate(divide="ignore"):
                raw = -np.expm1(mult * np.log1p(-p))
        else:
            raw = p * mult
        for a, b in spans:
            seg = raw[a:b]
            np.maximum.accumulate(seg, out=seg)
        return np.minimum(raw, 1.0)
    out = np.empty_like(p)
    for a, b in spans:
        out[a:b] = adjust_pvalues(p[a:b], method)
    return out
