"""The enrichment engine: backgrounds, correction family, filters, parity on real libraries."""

from __future__ import annotations

import math
import zlib

import numpy as np
import pytest
from conftest import TINY_SETS, benchmark_gmts, requires_shared
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import fisher_exact, hypergeom
from statsmodels.stats.multitest import multipletests

import gsea_plus
from gsea_plus import api, engine
from gsea_plus.api import enrich
from gsea_plus.engine import COLUMNS
from gsea_plus.errors import InputError
from gsea_plus.genes import parse_gene_text
from gsea_plus.library import GeneSetLibrary
from gsea_plus.stats import CORRECTIONS

HEADER = ["Term", "Overlap", "P-value", "Adjusted P-value", "Odds Ratio", "Combined Score", "Genes"]

# TINY_SETS plus a term that shares nothing with the lists below
SETS = {**TINY_SETS, "T_none": ["G12", "G11"]}


@pytest.fixture
def lib():
    return GeneSetLibrary.from_gene_sets("tiny", SETS)


def check_rows(df, *, correction="fdr_bh", family=None):
    """Every number in the table against scipy / statsmodels / Enrichr's formulas."""
    assert list(df.columns) == COLUMNS
    k = df["Overlap Size"].to_numpy()
    big_k = df["Term Size"].to_numpy()
    n = df["List Size"].to_numpy()
    big_n = df["Background Size"].to_numpy()
    assert list(df["Overlap"]) == [f"{a}/{b}" for a, b in zip(k, big_k, strict=True)]
    ref = hypergeom.sf(k - 1, big_n, big_k, n)
    np.testing.assert_allclose(df["P-value"], ref, rtol=1e-9)
    np.testing.assert_allclose(df["Log10 P-value"], np.log10(ref), rtol=1e-9, atol=1e-12)
    a, b, c = k, big_k - k, n - k
    d = big_n - big_k - n + k
    np.testing.assert_allclose(df["Odds Ratio"], a * d / np.maximum(b * c, 1), rtol=1e-12)
    np.testing.assert_allclose(df["Combined Score"], -np.log(ref) * df["Odds Ratio"], rtol=1e-9)
    assert (df["Genes"].str.count(";") + 1 == k).all()
    p = df["P-value"].to_numpy()
    assert list(p) == sorted(p)
    if family is None:
        family = p
    adj = multipletests(family, method=correction)[1] if correction != "none" else family
    lookup = dict(zip(family, adj, strict=True))
    np.testing.assert_allclose(df["Adjusted P-value"], [lookup[x] for x in p], rtol=1e-12)


def by_term(df):
    return {r["Term"]: r for r in df.to_dict("records")}


def test_default_background_is_the_library_genes(lib, caplog):
    df = enrich(["G1", "g2", "G3", "G9", "FOO"], library=lib)
    rows = by_term(df)
    # recognized: G1 G2 G3 G9 -> n = 4; N = 12 genes in any term
    assert set(df["List Size"]) == {4}
    assert set(df["Background Size"]) == {12}
    assert {t: (r["Overlap Size"], r["Term Size"]) for t, r in rows.items()} == {
        "T_alpha": (3, 4),
        "T_beta": (1, 6),
        "T_gamma": (1, 2),
        "T_delta": (1, 3),
        "T_big": (4, 10),
    }
    assert "T_none" not in rows  # no overlap: not tested, not in the family
    assert rows["T_alpha"]["Genes"] == "G1;G2;G3"
    assert df["Term"].iloc[0] == "T_alpha"
    check_rows(df)


def test_integer_background_like_enrichr(lib):
    df = enrich(["G1", "G2", "G3", "G9", "FOO"], library=lib, background=100)
    # N fixed; n = every unique input gene, recognized or not; terms whole
    assert set(df["List Size"]) == {5}
    assert set(df["Background Size"]) == {100}
    assert by_term(df)["T_big"]["Term Size"] == 10
    check_rows(df)
    # the same through a numeric string (the CLI passes text)
    df2 = enrich(["G1", "G2", "G3", "G9", "FOO"], library=lib, background="100")
    assert df2.equals(df)


def test_gene_background_intersects_list_and_terms(lib, tmp_path):
    bg = ["G1", "G2", "G3", "G4", "G5", "G9", "EXTRA1", "EXTRA2"]
    genes = ["G1", "G2", "G3", "G9", "FOO", "G11", "EXTRA1"]
    df = enrich(genes, library=lib, background=bg)
    rows = by_term(df)
    # n = |list & background| = G1 G2 G3 G9 EXTRA1; N = |background|
    assert set(df["List Size"]) == {5}
    assert set(df["Background Size"]) == {8}
    assert {t: (r["Overlap Size"], r["Term Size"]) for t, r in rows.items()} == {
        "T_alpha": (3, 4),
        "T_beta": (1, 3),
        "T_gamma": (1, 1),
        "T_delta": (1, 1),
        "T_big": (4, 6),
    }
    check_rows(df)
    # a background file gives the same
    path = tmp_path / "bg.txt"
    path.write_text("gene\n" + "\n".join(bg) + "\n")
    assert enrich(genes, library=lib, background=path).equals(df)
    assert enrich(genes, library=lib, background=str(path)).equals(df)


def test_background_warnings(lib, caplog):
    import logging

    with caplog.at_level(logging.WARNING, logger="gsea_plus"):
        enrich(["G1", "G2", "FOO"], library=lib, background=["G1", "G2", "G3", "EXTRA"])
    msgs = " ".join(r.getMessage() for r in caplog.records)
    assert "FOO" in msgs and "background" in msgs
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="gsea_plus"):
        enrich(["G1", "G2", "FOO"], library=lib, background=50)
    msgs = " ".join(r.getMessage() for r in caplog.records)
    assert "FOO" in msgs and "no term" in msgs


def test_background_errors(lib):
    with pytest.raises(InputError, match="smaller than a term"):
        enrich(["G1"], library=lib, background=5)
    with pytest.raises(InputError, match="positive"):
        enrich(["G1"], library=lib, background=0)
    with pytest.raises(InputError):
        enrich(["G1"], library=lib, background=True)
    with pytest.raises(InputError, match="no background gene"):
        enrich(["G1"], library=lib, background=["X1", "X2"])
    big = [f"G{i}" for i in range(1, 13)] + [f"X{i}" for i in range(20)]
    with pytest.raises(InputError, match="more than the background"):
        enrich(big, library=lib, background=15)


def test_size_filters_define_the_family(lib):
    genes = ["G1", "G2", "G3", "G9"]
    full = enrich(genes, library=lib, correction="bonferroni")
    assert len(full) == 5
    # bonferroni multiplies by the family size: terms with overlap >= 1 only (not T_none)
    np.testing.assert_allclose(full["Adjusted P-value"], np.minimum(full["P-value"] * 5, 1))

    small = enrich(genes, library=lib, min_size=3, correction="bonferroni")
    assert set(small["Term"]) == {"T_alpha", "T_beta", "T_delta", "T_big"}
    np.testing.assert_allclose(small["Adjusted P-value"], np.minimum(small["P-value"] * 4, 1))

    capped = enrich(genes, library=lib, max_size=5)
    assert set(capped["Term"]) == {"T_alpha", "T_gamma", "T_delta"}
    check_rows(capped)

    # min_overlap filters the rows shown, not the family
    shown = enrich(genes, library=lib, min_overlap=2)
    assert set(shown["Term"]) == {"T_alpha", "T_big"}
    check_rows(shown, family=full["P-value"].to_numpy())

    with pytest.raises(InputError, match="min-size"):
        enrich(genes, library=lib, min_size=5, max_size=2)


@pytest.mark.parametrize("method", CORRECTIONS)
def test_every_correction_matches_statsmodels(method, tmp_path):
    rng = np.random.default_rng(3)
    genes = [f"G{i}" for i in range(400)]
    sets = {f"T{t}": rng.choice(genes, size=rng.integers(5, 80), replace=False) for t in range(60)}
    lib = GeneSetLibrary.from_gene_sets("rand", sets)
    df = enrich(list(rng.choice(genes, 60, replace=False)), library=lib, correction=method)
    assert len(df) > 30
    check_rows(df, correction=method)


def test_unknown_correction(lib):
    with pytest.raises(ValueError, match="unknown correction"):
        enrich(["G1"], library=lib, correction="BH")


def test_tiny_p_through_the_engine():
    term = [f"G{i}" for i in range(300)]
    lib = GeneSetLibrary.from_gene_sets("big", {"all": term, "other": ["X1", "X2"]})
    df = enrich(term, library=lib, background=20000)
    row = by_term(df)["all"]
    assert row["P-value"] == 0.0  # underflows in float64 ...
    exact = -math.log10(math.comb(20000, 300))  # P(X >= 300) = 1 / C(N, n)
    assert row["Log10 P-value"] == pytest.approx(exact, abs=1e-8)  # ... but not in log10
    assert math.isfinite(row["Combined Score"]) and row["Combined Score"] > 0
    assert row["Combined Score"] == pytest.approx(-exact * math.log(10) * row["Odds Ratio"])
    assert row["Adjusted P-value"] == 0.0


def test_ties_sorted_by_term_order():
    lib = GeneSetLibrary.from_gene_sets(
        "ties", {"z_first": ["A", "B", "X"], "a_second": ["A", "B", "Y"], "best": ["A", "B"]}
    )
    df = enrich(["A", "B"], library=lib)
    assert df["Term"].tolist() == ["best", "z_first", "a_second"]


def test_many_lists_in_blocks_equal_one_at_a_time(monkeypatch):
    rng = np.random.default_rng(5)
    genes = [f"G{i}" for i in range(300)]
    sets = {f"T{t}": rng.choice(genes, size=rng.integers(3, 40), replace=False) for t in range(40)}
    lib = GeneSetLibrary.from_gene_sets("rand", sets)
    prepared = engine.prepare(lib)
    lists = [parse_gene_text("\n".join(rng.choice(genes, 25, replace=False))) for _ in range(7)]
    matches = engine.match_lists(prepared, lists)
    monkeypatch.setattr(engine, "_CELLS_PER_BLOCK", 100)  # 2 lists per block
    together = engine.score_lists(prepared, matches)
    for i, m in enumerate(matches):
        alone = engine.score_lists(prepared, [m])
        mine = together.list_idx == i
        assert np.array_equal(together.term_idx[mine], alone.term_idx)
        assert np.array_equal(together.overlap[mine], alone.overlap)
        np.testing.assert_allclose(together.adjusted[mine], alone.adjusted)
        # and the overlaps are right
        members = set(m.columns.tolist())
        for t, k in zip(alone.term_idx, alone.overlap, strict=True):
            term_cols = set(lib.indices[lib.indptr[t] : lib.indptr[t + 1]].tolist())
            assert k == len(term_cols & members)


def test_public_enrich_signature_and_exports():
    import inspect

    sig = inspect.signature(gsea_plus.enrich)
    params = list(sig.parameters.values())
    assert [p.name for p in params[:2]] == ["genes", "library"]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params[2:])
    assert {"background", "correction", "min_size", "max_size", "min_overlap", "offline"} <= {
        p.name for p in params[2:]
    }
    assert gsea_plus.enrich is api.enrich
    assert gsea_plus.load_library is gsea_plus.library.load_library


# --------------------------------------------------------------------------- real libraries


def _read_sets(path):
    sets = {}
    for line in path.read_text().splitlines():
        fields = line.split("\t")
        if len(fields) >= 3:
            genes = {g.split(",")[0].strip().upper() for g in fields[2:]} - {""}
            if genes:
                sets[fields[0].strip()] = genes
    return sets


@requires_shared
@pytest.mark.parametrize("path", benchmark_gmts(), ids=lambda p: p.stem)
def test_parity_on_benchmark_library(path):
    sets = _read_sets(path)
    universe = sorted(set().union(*sets.values()))
    rng = np.random.default_rng(zlib.crc32(path.stem.encode()))
    terms = sorted(sets)
    lib = gsea_plus.load_library(path)
    for trial in range(2):
        seed_term = sets[terms[rng.integers(len(terms))]]
        picked = sorted(seed_term)[:40] + list(rng.choice(universe, 30, replace=False))
        genes = list(dict.fromkeys(picked + ["NOT_A_GENE_1", "NOT_A_GENE_2"]))
        for background in (None, 20000):
            df = enrich(genes, library=lib, background=background)
            check_rows(df)
            recognized = {g for g in genes if g in set(universe)}
            n_expected = len(recognized) if background is None else len(genes)
            assert set(df["List Size"]) == {n_expected}
            assert set(df["Background Size"]) == {background or len(universe)}
            # overlaps and term sizes from the raw text, independently of the engine
            sample = df.sample(min(len(df), 40), random_state=trial)
            for r in sample.to_dict("records"):
                assert r["Term Size"] == len(sets[r["Term"]])
                assert set(r["Genes"].split(";")) == sets[r["Term"]] & recognized
            # and Fisher's exact test on the 2x2 table for the top rows
            for r in df.head(10).to_dict("records"):
                k, big_k, n, big_n = (
                    r["Overlap Size"],
                    r["Term Size"],
                    r["List Size"],
                    r["Background Size"],
                )
                _, p = fisher_exact([[k, big_k - k], [n - k, big_n - big_k - n + k]], "greater")
                assert r["P-value"] == pytest.approx(p, rel=1e-9)
            # the family is every tested term: as many rows as terms sharing a gene
            assert len(df) == sum(1 for s in sets.values() if s & recognized)


@requires_shared
def test_strong_list_gives_tiny_finite_log_p():
    from conftest import BENCHMARK

    path = BENCHMARK / "GO_Biological_Process_2023.gmt"
    sets = _read_sets(path)
    term, genes = max(sets.items(), key=lambda kv: len(kv[1]))
    df = enrich(sorted(genes), library=path, background=20000)
    top = df.iloc[0]
    assert top["Term"] == term
    assert top["P-value"] == 0.0
    k, big_k, n, big_n = len(genes), len(genes), len(genes), 20000
    exact = -(math.log10(math.comb(big_n, n)))
    assert k == top["Overlap Size"] and big_k == top["Term Size"] and n == top["List Size"]
    assert top["Log10 P-value"] == pytest.approx(exact, abs=1e-7)


# --------------------------------------------------------------------------- against a naive model

_symbols = st.sampled_from([f"G{i}" for i in range(40)])


@st.composite
def scenarios(draw):
    sets = draw(
        st.dictionaries(
            st.sampled_from([f"T{i}" for i in range(25)]),
            st.sets(_symbols, min_size=1, max_size=15),
            min_size=1,
            max_size=12,
        )
    )
    universe = set().union(*sets.values())
    gene = st.one_of(st.sampled_from(sorted(universe)), _symbols)
    genes = draw(st.lists(gene, min_size=1, max_size=20))
    kind = draw(st.sampled_from(["library", "size", "genes"]))
    if kind == "size":
        background = draw(st.integers(max(40, len(set(genes))), 500))
    elif kind == "genes":
        background = sorted(draw(st.sets(_symbols, min_size=15, max_size=40)) | {genes[0]})
    else:
        background = None
    min_size = draw(st.integers(1, 4))
    return sets, genes, background, min_size


@settings(max_examples=30, deadline=None)
@given(scenarios())
def test_engine_equals_a_naive_set_computation(scenario):
    sets, genes, background, min_size = scenario
    lib = GeneSetLibrary.from_gene_sets("naive", {t: sorted(g) for t, g in sets.items()})
    universe = set().union(*sets.values())
    unique = set(genes)
    if background is None:
        big_n, listed, terms = len(universe), unique & universe, sets
    elif isinstance(background, int):
        big_n, listed, terms = background, unique, sets
    else:
        bg = set(background)
        big_n, listed = len(bg), unique & bg
        terms = {t: g & bg for t, g in sets.items()}
    expected = {}
    for t, g in terms.items():
        k = len(g & listed)
        if k >= 1 and len(g) >= min_size:
            expected[t] = (k, len(g))
    if not listed & set().union(*terms.values()):
        with pytest.raises(InputError):
            enrich(genes, library=lib, background=background, min_size=min_size)
        return
    df = enrich(genes, library=lib, background=background, min_size=min_size)
    got = {r["Term"]: (r["Overlap Size"], r["Term Size"]) for r in df.to_dict("records")}
    assert got == expected
    assert set(df["List Size"]) <= {len(listed)}
    assert set(df["Background Size"]) <= {big_n}
    for r in df.to_dict("records"):
        assert set(r["Genes"].split(";")) == terms[r["Term"]] & listed
    if len(df):
        check_rows(df)
