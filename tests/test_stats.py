"""gsea_plus.stats against scipy, statsmodels and exact integer arithmetic."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import fisher_exact, hypergeom
from statsmodels.stats.multitest import multipletests

from gsea_plus import stats
from gsea_plus.stats import (
    CORRECTIONS,
    adjust_pvalues,
    combined_score,
    hypergeom_logsf,
    odds_ratio,
)

RTOL = 1e-9  # the tolerance the module promises against scipy


def exact_log10_sf(k: int, big_k: int, n: int, big_n: int) -> float:
    """log10 P(X >= k) from exact integers (sum of C(K,i) C(N-K,n-i) / C(N,n))."""
    hi = min(big_k, n)
    num = sum(math.comb(big_k, i) * math.comb(big_n - big_k, n - i) for i in range(k, hi + 1))
    return math.log10(num) - math.log10(math.comb(big_n, n))


@st.composite
def tables(draw, max_n: int = 60000):
    big_n = draw(st.integers(1, max_n))
    big_k = draw(st.integers(0, big_n))
    n = draw(st.integers(0, big_n))
    lo, hi = max(0, n + big_k - big_n), min(big_k, n)
    # mostly valid overlaps, sometimes one past either end
    k = draw(st.integers(max(lo - 1, 0), hi + 1))
    return k, big_k, n, big_n


def _check_against_scipy(rows):
    k, big_k, n, big_n = (np.array(c, dtype=np.int64) for c in zip(*rows, strict=True))
    got = np.exp(hypergeom_logsf(k, big_k, n, big_n))
    ref = hypergeom.sf(k - 1, big_n, big_k, n)
    ok = ref > 1e-300  # below that scipy itself underflows; see the exact tests
    np.testing.assert_allclose(got[ok], ref[ok], rtol=RTOL, atol=0)
    # where the tail is impossible both say 0
    impossible = k > np.minimum(big_k, n)
    assert np.all(got[impossible] == 0.0)


@settings(max_examples=150, deadline=None)
@given(tables())
def test_logsf_matches_scipy_scalar(table):
    _check_against_scipy([table])


@settings(max_examples=30, deadline=None)
@given(st.lists(tables(max_n=60000), min_size=65, max_size=200))
def test_logsf_matches_scipy_vectorized(rows):
    # > 64 tables takes the de-duplicating path (packed keys, np.unique)
    _check_against_scipy(rows + rows[:10])


@settings(max_examples=40, deadline=None)
@given(tables(max_n=3000))
def test_logsf_matches_fisher_exact_greater(table):
    k, big_k, n, big_n = table
    if k > min(big_k, n) or k < max(0, n + big_k - big_n):
        return
    a, b, c = k, big_k - k, n - k
    d = big_n - big_k - n + k
    _, p_ref = fisher_exact([[a, b], [c, d]], alternative="greater")
    p = float(np.exp(hypergeom_logsf(k, big_k, n, big_n)))
    assert p == pytest.approx(p_ref, rel=RTOL, abs=1e-300)


@pytest.mark.parametrize(
    ("k", "big_k", "n", "big_n"),
    [
        (300, 300, 300, 20000),  # the whole list is the whole term: ~1e-675
        (250, 400, 300, 20000),
        (120, 120, 150, 60000),
        (250, 800, 260, 14000),
        (400, 1000, 420, 18000),
    ],
)
def test_tiny_pvalues_stay_finite_and_exact(k, big_k, n, big_n):
    log_p = float(hypergeom_logsf(k, big_k, n, big_n))
    ref = exact_log10_sf(k, big_k, n, big_n)
    assert ref < -300  # these really are below the float64 range of scipy
    assert hypergeom.sf(k - 1, big_n, big_k, n) < 1e-290  # scipy has underflowed (or nearly)
    assert math.isfinite(log_p)
    # 1e-9 relative in p is 1e-9 absolute in ln p
    assert log_p / math.log(10) == pytest.approx(ref, abs=1e-9 / math.log(10) * 10)


@settings(max_examples=60, deadline=None)
@given(tables(max_n=400))
def test_logsf_matches_exact_integers(table):
    k, big_k, n, big_n = table
    got = float(hypergeom_logsf(k, big_k, n, big_n))
    if k > min(big_k, n):
        assert got == -math.inf
        return
    if k <= max(0, n + big_k - big_n):
        assert got == 0.0
        return
    hi = min(big_k, n)
    num = sum(math.comb(big_k, i) * math.comb(big_n - big_k, n - i) for i in range(k, hi + 1))
    exact = Fraction(num, math.comb(big_n, n))
    assert math.exp(got) == pytest.approx(float(exact), rel=RTOL)


def test_logsf_edges_and_shapes():
    # P(X >= 0) = 1, impossible overlaps are -inf, broadcasting keeps the shape
    assert hypergeom_logsf(0, 10, 5, 100) == 0.0
    assert hypergeom_logsf(6, 10, 5, 100) == -np.inf
    assert hypergeom_logsf(11, 10, 20, 100) == -np.inf
    # forced overlap: with n + K > N at least n + K - N genes must overlap
    assert hypergeom_logsf(5, 10, 95, 100) == 0.0
    out = hypergeom_logsf(np.array([[1, 2], [3, 4]]), 10, 20, 100)
    assert out.shape == (2, 2)
    assert np.all(np.diff(out.ravel()) < 0)  # the tail shrinks as k grows
    assert hypergeom_logsf([], [], [], []).shape == (0,)
    with pytest.raises(ValueError):
        hypergeom_logsf(1, 20, 5, 10)  # K > N
    with pytest.raises(ValueError):
        hypergeom_logsf(1, 5, 20, 10)  # n > N


def test_logsf_impossible_overlaps_in_a_large_batch():
    # more than 64 tables take the packed path; an impossible k must stay impossible
    k = np.array([65537, 70000, 5, 11] * 20)
    out = hypergeom_logsf(k, 10, 10, 100)
    assert np.all(out[k > 10] == -np.inf)
    assert np.allclose(np.exp(out[k == 5]), hypergeom.sf(4, 100, 10, 10), rtol=RTOL)


def test_logsf_duplicate_tables_computed_once_are_still_right():
    rng = np.random.default_rng(0)
    big_n = 20000
    big_k = rng.integers(1, 600, size=500)
    n = rng.integers(1, 300, size=500)
    k = np.minimum(rng.integers(1, 12, size=500), np.minimum(big_k, n))
    k, big_k, n = (np.concatenate([a, a]) for a in (k, big_k, n))  # every table twice
    got = np.exp(hypergeom_logsf(k, big_k, n, big_n))
    np.testing.assert_allclose(got, hypergeom.sf(k - 1, big_n, big_k, n), rtol=RTOL)
    assert np.array_equal(got[:500], got[500:])


# --------------------------------------------------------------------------- odds, score


def enrichr_odds(k, big_k, n, big_n) -> float:
    a, b, c = k, big_k - k, n - k
    d = big_n - big_k - n + k
    return a * d / max(b * c, 1)


@settings(max_examples=100, deadline=None)
@given(tables(max_n=30000))
def test_odds_ratio_is_enrichrs(table):
    k, big_k, n, big_n = table
    if k > min(big_k, n) or k < max(0, n + big_k - big_n):
        return
    assert float(odds_ratio(k, big_k, n, big_n)) == pytest.approx(
        enrichr_odds(k, big_k, n, big_n), rel=1e-12
    )


def test_odds_ratio_zero_cell_rule():
    # b = 0 (the whole term is in the list): denominator 1, no pseudo-count
    assert odds_ratio(5, 5, 10, 100) == 5 * (100 - 5 - 10 + 5)
    # c = 0 (the whole list is in the term)
    assert odds_ratio(3, 40, 3, 1000) == 3 * (1000 - 40 - 3 + 3)
    # both zero
    assert odds_ratio(4, 4, 4, 50) == 4 * 46
    # an ordinary table
    assert odds_ratio(3, 10, 20, 1000) == pytest.approx(3 * 973 / (7 * 17))
    assert np.all(np.isfinite(odds_ratio([5, 3, 4], [5, 40, 4], [10, 3, 4], [100, 1000, 50])))


def test_combined_score_is_minus_ln_p_times_or():
    k, big_k, n, big_n = 3, 41, 3, 8078
    log_p = hypergeom_logsf(k, big_k, n, big_n)
    odds = odds_ratio(k, big_k, n, big_n)
    p = hypergeom.sf(k - 1, big_n, big_k, n)
    assert float(combined_score(log_p, odds)) == pytest.approx(-math.log(p) * odds, rel=1e-9)
    # p = 1 (log p = 0) scores 0, not -0.0 (which would print as "-0.0")
    assert math.copysign(1.0, float(combined_score(0.0, 3.0))) == 1.0
    # from the log p, so it stays finite where p underflows
    tiny = hypergeom_logsf(300, 300, 300, 20000)
    assert np.isfinite(combined_score(tiny, odds_ratio(300, 300, 300, 20000)))


# --------------------------------------------------------------------------- multiple testing

pvalue_lists = st.lists(
    st.one_of(
        st.floats(0.0, 1.0, allow_nan=False),
        st.sampled_from([0.0, 1.0, 1e-300, 0.05, 0.5]),  # ties and extremes
    ),
    min_size=1,
    max_size=60,
)


# (statsmodels' holm takes ~0.1 s a call, hence the modest number of examples)
@pytest.mark.parametrize("method", [m for m in CORRECTIONS if m != "none"])
@settings(max_examples=20, deadline=None)
@given(p=pvalue_lists)
def test_adjusted_equals_statsmodels(method, p):
    with np.errstate(divide="ignore"):  # statsmodels' sidak takes log1p(-1) at p = 1
        ref = multipletests(np.array(p), method=method)[1]
    got = adjust_pvalues(p, method)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-300)


def test_adjust_numpy_methods_are_the_fast_path_and_correct(monkeypatch):
    # the methods written out in numpy never import statsmodels; they must agree with it
    rng = np.random.default_rng(1)
    p = np.concatenate([rng.uniform(size=300), rng.uniform(size=50) ** 8, [0.0, 1.0, 1.0]])
    for method in stats._NUMPY_METHODS:
        with np.errstate(divide="ignore"):
            ref = multipletests(p, method=method)[1]
        np.testing.assert_allclose(adjust_pvalues(p, method), ref, rtol=1e-12)


def test_adjust_none_and_errors():
    p = np.array([0.01, 0.2, 0.03])
    assert np.array_equal(adjust_pvalues(p, "none"), p)
    assert adjust_pvalues([], "fdr_bh").shape == (0,)
    with pytest.raises(ValueError, match="unknown correction"):
        adjust_pvalues(p, "bh")
