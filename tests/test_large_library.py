"""Large libraries: streaming parse, the memory-mapped cache (format 2), stat-keyed reuse.

The streaming parse must build the library the whole-text parse builds, with the same
warnings and errors; the cache must map (not read) its arrays, read-only, survive a
concurrent replacement, upgrade a format-1 file, and be rebuilt when corrupt.
"""

from __future__ import annotations

import gzip
import logging
import os

import numpy as np
import pytest
from conftest import BENCHMARK, TINY_SETS, benchmark_gmts, gmt_text

import gsea_plus.library as library
from gsea_plus.errors import LibraryError
from gsea_plus.library import GeneSetLibrary, load_library
from gsea_plus.library.core import _gene_terms, _sort_within_rows
from gsea_plus.library.gmt import (
    StreamUnsupported,
    parse_gmt_bytes,
    parse_gmt_stream,
    stream_text,
)


def _whole(data: bytes, name: str = "x") -> GeneSetLibrary:
    return GeneSetLibrary.from_gene_sets("lib", parse_gmt_bytes(data, name))


def _streamed(data: bytes, name: str = "x", block: int = 7) -> GeneSetLibrary:
    blocks = (data[i : i + block] for i in range(0, len(data), block))
    return GeneSetLibrary.from_parsed("lib", parse_gmt_stream(stream_text(blocks, name), name))


def _same(a: GeneSetLibrary, b: GeneSetLibrary) -> None:
    assert a.terms.tolist() == b.terms.tolist()
    assert a.descriptions.tolist() == b.descriptions.tolist()
    assert a.genes.tolist() == b.genes.tolist()
    np.testing.assert_array_equal(a.indptr, b.indptr)
    np.testing.assert_array_equal(a.indices, b.indices)


TRICKY = [
    b"T1\tdesc\tg1\tG2\tg1\n",  # lower case, duplicates within a row
    b"T1\t\tA\tB\r\nT2\t d \tC\r\n",  # CRLF, description spaces
    b"T1\t\tA,1.0\t B ,0.5\tC\n",  # weights and spaces: the per-gene path
    b"T1\t\tA\tB\nT1\tsecond\tB\tC\nT2\t\tD\n",  # duplicate terms merged
    b"bad row\nT1\t\tA\n\n \t\t\nT2\tonly description\t\n",  # malformed and empty rows
    b"\xef\xbb\xbfT\xc3\xa9rm\x0c\t\tA\tstra\xc3\x9fe\n",  # BOM, odd char, a non-ASCII upper
    b"T1\t\tA\tB",  # no final newline
    b"T1\t\tA\t\t\tB\t\n",  # empty fields
]


@pytest.mark.parametrize("data", TRICKY, ids=range(len(TRICKY)))
def test_streaming_parse_equals_the_whole_text_parse(data, caplog):
    caplog.set_level(logging.WARNING)
    whole = _whole(data)
    warned = [r.getMessage() for r in caplog.records]
    caplog.clear()
    _same(_streamed(data), whole)
    assert [r.getMessage() for r in caplog.records] == warned
    _same(_streamed(gzip.compress(data) + gzip.compress(b"") + b"\0\0", block=3), whole)


@pytest.mark.parametrize("path", benchmark_gmts())
def test_streaming_parse_of_every_benchmark_gmt(path):
    data = path.read_bytes()
    _same(_streamed(data, block=1 << 20), _whole(data))


@pytest.mark.parametrize(
    "data",
    [
        "T1\t\tA\n".encode("utf-16"),  # UTF-16 with a BOM
        b"T\xe9rm\t\tA\n",  # cp1252
        b"<html><body>not found</body></html>",
        b'{"T": ["A"]}',
        b"T1\t\tA\x00\n",  # binary
        gzip.compress(b"T1\t\tA\n")[:-6],  # cut short
    ],
)
def test_what_the_stream_leaves_to_the_whole_text_path(data):
    with pytest.raises(StreamUnsupported):
        parse_gmt_stream(stream_text(iter([data]), "x"), "x")


def test_bare_carriage_returns_and_no_sets_are_the_same_errors():
    for data, match in ((b"T1\t\tA\rT2\t\tB\r", "bare carriage return"), (b"x\ny\n", "no gene")):
        with pytest.raises(LibraryError, match=match):
            _whole(data)
        with pytest.raises(LibraryError, match=match):
            _streamed(data)


def test_load_library_streams_and_falls_back(tmp_path):
    for name, data in (
        ("plain.gmt", gmt_text(TINY_SETS).encode()),
        ("zipped.gmt.gz", gzip.compress(gmt_text(TINY_SETS).encode())),
        ("latin.gmt", "T\xe9\t\tG1\tG2\n".encode("cp1252")),
    ):
        path = tmp_path / name
        path.write_bytes(data)
        _same(load_library(path), _whole(data))


def test_column_compressed_form_and_row_sorting_agree_with_argsort():
    rng = np.random.default_rng(1)
    for n_genes in (50, 70_000):  # one radix pass, and two
        sizes = rng.integers(0, 40, 300)
        indptr = np.concatenate([[0], np.cumsum(sizes)])
        indices = np.concatenate([rng.choice(n_genes, s, replace=False) for s in sizes]).astype(
            np.int64
        )
        rows = np.repeat(np.arange(len(sizes)), sizes)
        expected = indices[np.lexsort((indices, rows))]
        np.testing.assert_array_equal(_sort_within_rows(indptr, indices), expected)
        col_ptr, col_terms = _gene_terms(indptr, expected, n_genes)
        order = np.argsort(expected, kind="stable")
        np.testing.assert_array_equal(col_terms, rows[order])
        np.testing.assert_array_equal(
            col_ptr[1:], np.cumsum(np.bincount(expected, minlength=n_genes))
        )


@pytest.mark.parametrize("mapped", [True, False])
def test_saved_library_is_memory_mapped_read_only(tmp_path, monkeypatch, mapped):
    import gsea_plus.library.core as core

    # arrays from _MAP_FROM bytes on are mapped; a test library is small
    monkeypatch.setattr(core, "_MAP_FROM", 0 if mapped else 1 << 30)
    lib = GeneSetLibrary.from_gene_sets("lib", TINY_SETS, meta={"sha256": "cd" * 32})
    path = tmp_path / "lib.npz"
    lib.save(path)
    with np.load(path, allow_pickle=False) as z:  # still a plain npz
        assert set(z.files) >= {"indptr", "indices", "gene_ptr", "gene_terms", "terms"}
    back = GeneSetLibrary.load(path)
    for arr in (back.indptr, back.indices, *back.gene_terms):
        assert not arr.flags.writeable
        if mapped:  # the file offsets are aligned, so the mapped arrays are
            assert arr.ctypes.data % 64 == 0 or len(arr) == 0
            assert isinstance(arr.base, np.memmap) or arr.base is not None
    assert back.to_dict() == lib.to_dict()
    for a, b in zip(back.gene_terms, lib.gene_terms, strict=True):
        np.testing.assert_array_equal(a, b)
    # a concurrent writer replaces the file by rename: the open mapping keeps its data
    other = GeneSetLibrary.from_gene_sets("other", {"X": ["Q", "R", "S"]})
    other.save(path)
    assert back.to_dict() == lib.to_dict()
    assert GeneSetLibrary.load(path).to_dict() == other.to_dict()


@pytest.mark.parametrize("cut", [10, 200, -1])
def test_truncated_cache_is_an_error_not_a_crash(tmp_path, cut):
    lib = GeneSetLibrary.from_gene_sets("lib", TINY_SETS)
    path = tmp_path / "lib.npz"
    lib.save(path)
    data = path.read_bytes()
    path.write_bytes(data[:cut])
    with pytest.raises(LibraryError, match="corrupt cached library"):
        GeneSetLibrary.load(path)


def test_format_1_cache_is_upgraded_without_parsing(tiny_gmt, cache_root, monkeypatch):
    from test_library import _save_format_1

    first = load_library(tiny_gmt)
    (v2,) = (cache_root / "parsed").glob("*.v2.npz")
    v1 = v2.with_name(v2.name.replace(".v2.npz", ".npz"))
    _save_format_1(first, v1)
    v2.unlink()

    def boom(*args, **kwargs):
        raise AssertionError("parsed the GMT text again")

    monkeypatch.setattr(library.gmt, "parse_gmt_stream", boom)
    monkeypatch.setattr(library, "parse_gmt_bytes", boom)
    library._MEMO.clear()
    again = load_library(tiny_gmt)
    assert again.to_dict() == first.to_dict()
    assert v2.is_file()  # rewritten in format 2


def test_known_file_is_not_read_again(tiny_gmt, cache_root, monkeypatch):
    monkeypatch.setattr(library, "_RACY_NS", 0)  # the file was just written
    first = load_library(tiny_gmt)
    assert list((cache_root / "parsed").glob("*.path.json"))

    def boom(*args, **kwargs):
        raise AssertionError("read the GMT file again")

    monkeypatch.setattr(library, "_hash_file", boom)
    library._MEMO.clear()
    assert load_library(tiny_gmt).to_dict() == first.to_dict()
    # any change of the file (its size, times or inode) means reading it again
    with open(tiny_gmt, "a") as fh:
        fh.write("T_new\t\tG1\n")
    library._MEMO.clear()
    with pytest.raises(AssertionError, match="read the GMT file again"):
        load_library(tiny_gmt)


def test_a_file_changed_just_now_is_not_remembered(tiny_gmt, cache_root):
    load_library(tiny_gmt)  # written by the fixture a moment ago: its times may not settle
    assert not list((cache_root / "parsed").glob("*.path.json"))


def test_rummage_sized_library_is_not_expanded_to_fixed_width_strings(tmp_path):
    # a long term name must not cost 4 bytes x its length for every term
    long_name = "T" * 5000
    sets = {long_name: ["A"], **{f"t{i}": ["B"] for i in range(2000)}}
    path = tmp_path / "lib.gmt"
    path.write_text(gmt_text(sets))
    lib = load_library(path)
    assert lib.terms.dtype == object and lib.terms[0] == long_name
    library._MEMO.clear()
    again = load_library(path)
    assert again.terms.dtype == object and len(again) == 2001


@pytest.mark.skipif(not (BENCHMARK / "KEGG_2021_Human.gmt").is_file(), reason="no shared data")
def test_enrich_from_the_mapped_cache_equals_a_fresh_parse():
    import gsea_plus

    path = BENCHMARK / "KEGG_2021_Human.gmt"
    lib = load_library(path)
    genes = lib.genes[::37].tolist()
    fresh = gsea_plus.enrich(
        genes,
        library=GeneSetLibrary.from_gene_sets(
            "KEGG_2021_Human",
            {
                t: g
                for t, g in zip(
                    lib.terms.tolist(), map(lib.term_genes, range(len(lib))), strict=True
                )
            },
        ),
    )
    library._MEMO.clear()
    mapped = gsea_plus.enrich(genes, library=path)
    assert os.environ.get("GSEA_PLUS_CACHE")
    assert mapped.drop(columns=["Library"]).equals(fresh.drop(columns=["Library"]))
