"""Batch enrichment: identical to looping enrich, exact, every input format, bad inputs."""

from __future__ import annotations

import gzip
import io
import logging
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import BENCHMARK, TINY_SETS, assert_one_error_line, requires_shared
from hypothesis import given, settings
from hypothesis import strategies as st

import gsea_plus
from gsea_plus.api import iter_enrich_many
from gsea_plus.batch import read_batch
from gsea_plus.batch.reading import to_gene_list
from gsea_plus.errors import InputError
from gsea_plus.genes import parse_gene_text, parse_gene_text_fully
from gsea_plus.library import GeneSetLibrary, load_library
from gsea_plus.stats import adjust_pvalues_grouped

KEGG = BENCHMARK / "KEGG_2021_Human.gmt"


@pytest.fixture(scope="module")
def kegg_lists():
    if not KEGG.is_file():
        pytest.skip(f"shared data not found at {KEGG}")
    lib = load_library(KEGG)
    rng = np.random.default_rng(7)
    lists = {}
    for i in range(40):
        genes = lib.genes[rng.choice(len(lib.genes), int(rng.integers(1, 300)), replace=False)]
        lists[f"L{i}"] = [*genes.tolist(), "NOT_A_GENE", "7-Sep", "tp53"]
    return lib, lists


def _loop(lists, **kw):
    parts = []
    for name, genes in lists.items():
        one = gsea_plus.enrich(genes, **kw)
        one.insert(0, "List", name)
        parts.append(one)
    return pd.concat(parts, ignore_index=True)


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(
        a.reset_index(drop=True), b.reset_index(drop=True), check_exact=True
    )


# --------------------------------------------------------------------------- identity


@requires_shared
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"background": 20000, "correction": "fdr_by", "min_overlap": 2},
        {"min_size": 10, "max_size": 200, "correction": "holm"},
        {"correction": "hommel"},
    ],
    ids=["default", "fixed-N", "size-filters", "statsmodels-only"],
)
def test_batch_equals_looping_enrich(kegg_lists, options):
    lib, lists = kegg_lists
    batch = gsea_plus.enrich_many(lists, library=lib, chunk_size=7, **options)
    assert list(batch.columns[:2]) == ["List", "Term"]
    assert batch["List"].unique().tolist() == list(lists)  # input order
    _same(batch, _loop(lists, library=lib, **options))


@requires_shared
def test_gene_background_and_two_libraries(kegg_lists):
    lib, lists = kegg_lists
    hallmark = load_library(BENCHMARK / "MSigDB_Hallmark_2020.gmt")
    background = lib.genes[::2].tolist() + ["EXTRA1", "EXTRA2"]
    small = dict(list(lists.items())[:12])
    opts = {"library": [lib, hallmark], "background": background}
    batch = gsea_plus.enrich_many(small, chunk_size=5, top=15, **opts)
    looped = _loop(small, **opts).groupby("List", sort=False).head(15)
    _same(batch, looped)
    assert set(batch["Library"]) == {lib.name, hallmark.name}


@requires_shared
def test_pvalues_match_scipy(kegg_lists):
    from scipy.stats import hypergeom

    lib, lists = kegg_lists
    df = gsea_plus.enrich_many(lists, library=lib)
    k, big_k = df["Overlap Size"].to_numpy(), df["Term Size"].to_numpy()
    n, big_n = df["List Size"].to_numpy(), df["Background Size"].to_numpy()
    ref = hypergeom.sf(k - 1, big_n, big_k, n)
    p = df["P-value"].to_numpy()
    assert len(p) > 1000
    np.testing.assert_allclose(p, ref, rtol=1e-9, atol=0)


def test_tiny_library_by_hand():
    lists = {"a": ["G1", "G2", "G3"], "b": ["G9", "G10", "G11"]}
    df = gsea_plus.enrich_many(lists, library=TINY_SETS)
    a = df[df.List == "a"]
    # a vs T_alpha: k=3 of K=4, n=3, N=12 -> P(X>=3) = C(4,3)C(8,0)/C(12,3) = 4/220
    row = a[a.Term == "T_alpha"].iloc[0]
    assert row["Overlap"] == "3/4"
    assert row["P-value"] == pytest.approx(4 / 220, rel=1e-12)
    assert row["Genes"] == "G1;G2;G3"
    assert df[df.List == "b"].iloc[0]["Term"] == "T_gamma"


def test_top_k_is_head_of_full_result():
    rng = np.random.default_rng(3)
    sets = {
        f"T{i}": [f"G{j}" for j in rng.choice(300, int(rng.integers(3, 60)), replace=False)]
        for i in range(120)
    }
    lists = {f"l{i}": [f"G{j}" for j in rng.choice(300, 40, replace=False)] for i in range(25)}
    full = gsea_plus.enrich_many(lists, library=sets, chunk_size=4)
    top = gsea_plus.enrich_many(lists, library=sets, chunk_size=4, top=3)
    _same(top, full.groupby("List", sort=False).head(3))
    assert top.groupby("List").size().max() == 3


def test_sparse_and_numpy_overlaps_agree(monkeypatch):
    import gsea_plus.engine as engine

    rng = np.random.default_rng(5)
    sets = {
        f"T{i}": [f"G{j}" for j in rng.choice(500, int(rng.integers(1, 80)), replace=False)]
        for i in range(200)
    }
    lists = {f"l{i}": [f"G{j}" for j in rng.choice(500, 60, replace=False)] for i in range(30)}
    monkeypatch.setattr(engine, "_SPARSE_FROM", 1)  # scipy path for every chunk
    sparse = gsea_plus.enrich_many(lists, library=sets, chunk_size=30)
    monkeypatch.setattr(engine, "_SPARSE_FROM", 1 << 62)  # numpy path
    dense = gsea_plus.enrich_many(lists, library=sets, chunk_size=30)
    _same(sparse, dense)
    assert len(dense) > 500


# --------------------------------------------------------------------------- grouped BH


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.lists(
            st.sampled_from([1e-300, 1e-12, 0.001, 0.01, 0.04, 0.2, 0.5, 0.99, 1.0])
            | st.floats(0, 1),
            min_size=0,
            max_size=30,
        ),
        min_size=1,
        max_size=8,
    ),
    st.sampled_from(["fdr_bh", "fdr_by", "bonferroni", "holm", "sidak", "holm-sidak", "hommel"]),
)
def test_grouped_adjustment_equals_statsmodels(families, method):
    from statsmodels.stats.multitest import multipletests

    sorted_fams = [np.sort(np.array(f, dtype=float)) for f in families]
    p = np.concatenate(sorted_fams)
    bounds = np.concatenate([[0], np.cumsum([len(f) for f in sorted_fams])])
    got = adjust_pvalues_grouped(p, bounds, method)
    for f, a, b in zip(sorted_fams, bounds[:-1], bounds[1:], strict=True):
        if len(f):
            with np.errstate(divide="ignore"):  # statsmodels' sidak warns at p = 1
                ref = multipletests(f, method=method)[1]
            assert np.array_equal(got[a:b], ref), method


# --------------------------------------------------------------------------- parsing


_TOKENS = st.lists(
    st.sampled_from(
        [
            "TP53",
            "tp53",
            "MDM2",
            "7-Sep",
            "Mar-1",
            "GENE",
            "12",
            "1.5e3",
            "A,B",
            "X Y",
            "#c",
            "'Q'",
            "",
            "HLA-A",
            "BRCA1",
            "nan",
            "Ä1",
            "C4orf3",
            "brca1",
        ]
    ),
    max_size=12,
)


@settings(max_examples=200, deadline=None)
@given(_TOKENS)
def test_fast_token_path_equals_parse_gene_text(tokens):
    ref = parse_gene_text_fully("\n".join(tokens))  # the parser without its fast path
    for fast in (to_gene_list(tokens), parse_gene_text("\n".join(tokens))):
        assert fast == ref


def _names(items):
    return [i.name for i in items]


def test_input_formats_agree(tmp_path, monkeypatch):
    lists = {"up": ["G1", "G2", "G3"], "down": ["G9", "G10"], "mixed": ["G3", "G5", "g7"]}
    d = tmp_path / "dir"
    d.mkdir()
    # Directory: file-name order, stem as the name, any gene list format, gzip allowed.
    (d / "a_up.txt").write_text("gene\nG1\nG2,G3\n")
    (d / "b_down.tsv.gz").write_bytes(gzip.compress(b"G9\tG10\n"))
    (d / "c_mixed.csv").write_text("G3 G5 g7\n")
    (d / ".hidden").write_text("G1\n")
    gmt = tmp_path / "lists.gmt"
    gmt.write_text("".join(f"{n}\tdesc\t" + "\t".join(g) + "\n" for n, g in lists.items()))
    long = tmp_path / "lists.tsv"
    rows = "".join(f"{n}\t{g}\n" for n, gs in lists.items() for g in gs)
    long.write_text("list_id\tgene\n" + rows)
    assert _names(read_batch(d)) == ["a_up", "b_down", "c_mixed"]
    by_gmt = gsea_plus.enrich_many(gmt, library=TINY_SETS)
    by_long = gsea_plus.enrich_many(long, library=TINY_SETS)
    by_dict = gsea_plus.enrich_many(lists, library=TINY_SETS)
    _same(by_gmt, by_dict)
    _same(by_long, by_dict)
    by_dir = gsea_plus.enrich_many(d, library=TINY_SETS)
    renamed = by_dir.replace({"List": {"a_up": "up", "b_down": "down", "c_mixed": "mixed"}})
    _same(renamed, by_dict)
    # stdin, format detected from content (here: a long table without header)
    text = "".join(f"{n}\t{g}\n" for n, gs in lists.items() for g in gs).encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text)))
    _same(gsea_plus.enrich_many("-", library=TINY_SETS), by_dict)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(gmt.read_bytes())))
    _same(gsea_plus.enrich_many("-", library=TINY_SETS), by_dict)


def test_iterables_of_pairs_and_unnamed_lists():
    pairs = [("x", ["G1", "G2"]), ("y", ["G9", "G10"])]
    by_pairs = gsea_plus.enrich_many(pairs, library=TINY_SETS)
    unnamed = gsea_plus.enrich_many([["G1", "G2"], ["G9", "G10"]], library=TINY_SETS)
    assert by_pairs["List"].unique().tolist() == ["x", "y"]
    assert unnamed["List"].unique().tolist() == ["list1", "list2"]
    _same(unnamed.drop(columns="List"), by_pairs.drop(columns="List"))


# --------------------------------------------------------------------------- bad input


def test_empty_list_is_reported_and_skipped(tmp_path, caplog):
    gmt = tmp_path / "l.gmt"
    # (rows of integers are Entrez ids now; other numbers are still no genes)
    gmt.write_text("a\t\tG1\tG2\nnothing\tdesc\nb\t\tG9\tG10\nonly_numbers\t\t1.5\t2e3\n")
    with caplog.at_level(logging.WARNING, logger="gsea_plus"):
        df = gsea_plus.enrich_many(gmt, library=TINY_SETS)
    assert df["List"].unique().tolist() == ["a", "b"]
    skipped = [r.getMessage() for r in caplog.records if "empty lists skipped" in r.getMessage()]
    assert skipped and "nothing" in skipped[0] and "only_numbers" in skipped[0]
    summaries = [row for res in iter_enrich_many(gmt, library=TINY_SETS) for row in res.summary]
    status = {r["List"]: r["Status"] for r in summaries}
    assert status == {
        "a": "ok",
        "nothing": "empty (skipped)",
        "b": "ok",
        "only_numbers": "empty (skipped)",
    }


def test_duplicate_names_are_all_named(tmp_path):
    gmt = tmp_path / "l.gmt"
    gmt.write_text("a\t\tG1\nb\t\tG2\na\t\tG3\nc\t\tG4\nb\t\tG5\n")
    with pytest.raises(InputError, match="duplicate list names") as err:
        gsea_plus.enrich_many(gmt, library=TINY_SETS, chunk_size=1)
    assert "'a'" in str(err.value) and "'b'" in str(err.value) and "line 3" in str(err.value)
    d = tmp_path / "d"
    d.mkdir()
    (d / "x.txt").write_text("G1\n")
    (d / "x.tsv").write_text("G2\n")
    with pytest.raises(InputError, match="duplicate list names: 'x'"):
        gsea_plus.enrich_many(d, library=TINY_SETS)


@pytest.mark.parametrize(
    ("text", "fmt", "line"),
    [
        ("a\t\tG1\nno_tabs_here\nb\t\tG2\n", "gmt", 2),
        ("a\tG1\na\tG2\nb\n", "long", 3),
        ("a\tG1\n\n# comment\nb\tG2\tG3\n", "long", 4),
        ("a\tG1\nb\tG2\na\tG3\n", "long", 3),  # a list's rows split apart
    ],
)
def test_malformed_line_names_file_and_line(tmp_path, text, fmt, line):
    path = tmp_path / "input.txt"
    path.write_text(text)
    with pytest.raises(InputError, match=f"input.txt, line {line}"):
        gsea_plus.enrich_many(path, library=TINY_SETS, input_format=fmt)


def test_no_recognized_gene_anywhere_is_an_error():
    with pytest.raises(InputError, match="no gene of any list"):
        gsea_plus.enrich_many({"a": ["FOO"], "b": ["BAR"]}, library=TINY_SETS)
    # ...but one list without recognized genes among others is only reported
    df = gsea_plus.enrich_many({"a": ["FOO"], "b": ["G1", "G2"]}, library=TINY_SETS)
    assert df["List"].unique().tolist() == ["b"]


# --------------------------------------------------------------------------- CLI


@pytest.fixture
def tiny_batch(tmp_path):
    lib = tmp_path / "tiny.gmt"
    lib.write_text("".join(f"{t}\t\t" + "\t".join(g) + "\n" for t, g in TINY_SETS.items()))
    gmt = tmp_path / "lists.gmt"
    gmt.write_text("a\t\tG1\tG2\tG3\nb\t\tG9\tG10\tG11\nempty\t\n")
    return lib, gmt


def test_cli_tsv_parquet_and_summary(tmp_path, tiny_batch, run_cli):
    lib, gmt = tiny_batch
    code, out, err = run_cli("batch", gmt, "-l", lib, "--top", "2")
    assert code == 0, err
    tsv = pd.read_csv(io.BytesIO(out), sep="\t")
    assert tsv.columns[0] == "List" and tsv.groupby("List").size().to_dict() == {"a": 2, "b": 2}
    assert "empty" in err and "per-list summary" in err
    pq = tmp_path / "out.parquet"
    summary = tmp_path / "summary.tsv"
    code, out, err = run_cli("batch", gmt, "-l", lib, "-o", pq, "--summary", summary)
    assert code == 0, err
    frame = pd.read_parquet(pq)
    expected = gsea_plus.enrich_many(gmt, library=lib)
    assert frame["P-value"].tolist() == expected["P-value"].tolist()
    assert frame["Genes"].tolist() == expected["Genes"].tolist()
    summ = pd.read_csv(summary, sep="\t")
    assert summ["List"].tolist() == ["a", "b", "empty"]
    assert summ.loc[summ.List == "a", "Recognized"].item() == 3
    assert (summ["Significant"] >= 0).all()
    code, out, err = run_cli("batch", gmt, "-l", lib, "-f", "jsonl", "--top", "1")
    assert code == 0 and len(out.splitlines()) == 2
    code, out, err = run_cli("batch", gmt, "-l", lib, "-f", "csv")
    assert code == 0 and out.startswith(b"List,Term,Overlap")


def test_cli_failure_leaves_no_output(tmp_path, tiny_batch, run_cli):
    lib, _ = tiny_batch
    bad = tmp_path / "bad.gmt"
    bad.write_text("a\t\tG1\tG2\nb\t\tG9\na\t\tG3\n")
    out = tmp_path / "res" / "out.tsv"
    code, _, err = run_cli("batch", bad, "-l", lib, "-o", out, "--chunk-size", "1")
    assert_one_error_line(code, err, "duplicate list names", "'a'")
    assert not out.exists()
    assert list((tmp_path / "res").iterdir()) == []  # no temp file left behind


def test_cli_stdin(tiny_batch, run_cli):
    lib, gmt = tiny_batch
    code, out, err = run_cli("batch", "-", "-l", lib, stdin=gmt.read_bytes())
    assert code == 0, err
    assert pd.read_csv(io.BytesIO(out), sep="\t")["List"].unique().tolist() == ["a", "b"]


def test_library_object_is_reused_across_chunks(monkeypatch):
    # prepare() runs once per library per batch, not per chunk.
    import gsea_plus.engine as engine

    calls = []
    real = engine.prepare
    monkeypatch.setattr(engine, "prepare", lambda *a, **k: calls.append(1) or real(*a, **k))
    lib = GeneSetLibrary.from_gene_sets("tiny", TINY_SETS)
    gsea_plus.enrich_many({f"l{i}": ["G1", "G2"] for i in range(10)}, library=lib, chunk_size=2)
    assert len(calls) == 1


def test_streamed_text_equals_frame_to_bytes():
    from gsea_plus.batch import text_bytes as _text_bytes
    from gsea_plus.output import frame_to_bytes

    df = gsea_plus.enrich_many({"a": ["G1", "G2", "G3"], "b": ["G9", "G3"]}, library=TINY_SETS)
    table = {c: df[c].to_numpy() for c in df.columns}
    for fmt in ("tsv", "csv"):
        assert _text_bytes(table, fmt, header=True) == frame_to_bytes(df, fmt)
        body = frame_to_bytes(df, fmt).split(b"\n", 1)[1]
        assert _text_bytes(table, fmt, header=False) == body


def test_gene_strings_by_term_and_by_list_agree():
    from gsea_plus.engine import _overlaps_by_list, _overlaps_by_term, prepare

    rng = np.random.default_rng(9)
    sets = {
        f"T{i}": [f"G{j}" for j in rng.choice(400, int(rng.integers(1, 90)), replace=False)]
        for i in range(150)
    }
    prepared = prepare(GeneSetLibrary.from_gene_sets("r", sets))
    columns = [
        np.sort(rng.choice(len(prepared.library.genes), int(rng.integers(0, 60)), replace=False))
        for _ in range(12)
    ]
    owner = np.repeat(np.arange(12), 40)
    terms = rng.integers(0, 150, len(owner))
    _, first = np.unique(owner * 1000 + terms, return_index=True)  # distinct (list, term)
    owner, terms = owner[np.sort(first)], terms[np.sort(first)]
    sizes = np.array([len(c) for c in columns])
    cols = np.concatenate(columns).astype(np.int64)
    g1, c1 = _overlaps_by_term(prepared, cols, sizes, owner, terms)
    g2, c2 = _overlaps_by_list(prepared, cols, sizes, owner, terms)
    assert np.array_equal(c1, c2) and np.array_equal(g1, g2)
    assert c1.sum() > 50


def test_compressed_and_utf16_streams(tmp_path):
    text = "a\t\tG1\tG2\tG3\nb\t\tG9\tG10\n"
    plain = tmp_path / "l.gmt"
    plain.write_text(text)
    gz = tmp_path / "l.txt.gz"  # no .gmt suffix: detected from the content
    gz.write_bytes(gzip.compress(text.encode()))
    u16 = tmp_path / "l16.gmt"
    u16.write_bytes(text.encode("utf-16"))
    ref = gsea_plus.enrich_many(plain, library=TINY_SETS)
    assert len(ref) > 3
    _same(gsea_plus.enrich_many(gz, library=TINY_SETS), ref)
    _same(gsea_plus.enrich_many(u16, library=TINY_SETS), ref)
    binary = tmp_path / "bin.gmt"
    binary.write_bytes(b"a\t\x00\x01\x02")
    with pytest.raises(InputError, match="binary"):
        gsea_plus.enrich_many(binary, library=TINY_SETS)


def test_truncated_gzip_is_an_input_error(tmp_path):
    body = "".join(f"l{i}\t\tG1\tG2\tG{i % 12 + 1}\n" for i in range(5000)).encode()
    cut = tmp_path / "cut.gmt.gz"
    cut.write_bytes(gzip.compress(body)[:-200])
    with pytest.raises(InputError, match="cut.gmt.gz: cannot read after line"):
        gsea_plus.enrich_many(cut, library=TINY_SETS)
