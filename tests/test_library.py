"""Loading libraries: aliases, names, paths, the binary cache, GeneSetLibrary."""

from __future__ import annotations

import gzip
import os

import numpy as np
import pytest
from conftest import BENCHMARK, TINY_SETS, cache_files, gmt_text, requires_shared

import gsea_plus.library as library
from gsea_plus.errors import CacheError, LibraryError
from gsea_plus.library import GeneSetLibrary, load_library, resolve_name
from gsea_plus.library.cache import atomic_write, cache_dir


def test_resolve_name():
    assert resolve_name("KEGG") == "KEGG_2021_Human"
    assert resolve_name("kegg") == "KEGG_2021_Human"
    assert resolve_name("GO_BP") == "GO_Biological_Process_2023"  # the bundled version
    assert resolve_name("Hallmark") == "MSigDB_Hallmark_2020"
    assert resolve_name("KEGG_2021_Human") == "KEGG_2021_Human"
    # not in the catalog: passed through as a possible Enrichr name
    assert resolve_name("Some_New_Library_2030") == "Some_New_Library_2030"


@pytest.mark.parametrize("name", ["sets.gmt", "sets.txt", "sets.gmt.gz", "sets.weird", "sets"])
def test_gmt_path_any_extension_gzipped_or_not(tmp_path, monkeypatch, name):
    body = gmt_text(TINY_SETS).encode()
    path = tmp_path / name
    path.write_bytes(gzip.compress(body) if name.endswith(".gz") else body)
    lib = load_library(path)
    assert sorted(lib.terms.tolist()) == sorted(TINY_SETS)
    assert lib.name == "sets" if name != "sets.weird" else lib.name == "sets.weird"
    # a relative path without a slash also works, when the file exists
    monkeypatch.chdir(tmp_path)
    library._MEMO.clear()
    assert len(load_library(name)) == len(TINY_SETS)
    assert len(load_library(str(path), name="custom")) == len(TINY_SETS)


def test_mapping_and_instance():
    lib = load_library({"a": ["x", "Y"], "b": ["y", "z", "Z"]}, name="mine")
    assert lib.name == "mine"
    assert lib.genes.tolist() == ["X", "Y", "Z"]
    assert lib.to_dict() == {"a": ["X", "Y"], "b": ["Y", "Z"]}
    assert load_library(lib) is lib


def test_binary_cache_second_load_does_not_reparse(tiny_gmt, cache_root, monkeypatch):
    first = load_library(tiny_gmt)
    parsed = [f for f in cache_files(cache_root) if f.startswith("parsed/")]
    assert len(parsed) == 1 and parsed[0].endswith(".npz")

    def boom(*args, **kwargs):
        raise AssertionError("parsed the GMT text again")

    monkeypatch.setattr(library, "parse_gmt_bytes", boom)
    monkeypatch.setattr(library.gmt, "parse_gmt_stream", boom)
    library._MEMO.clear()  # a new process: only the on-disk cache is left
    second = load_library(tiny_gmt)
    assert second.to_dict() == first.to_dict()
    assert second.meta["sha256"] == first.meta["sha256"]
    # a changed file is parsed again (the cache is keyed by content)
    tiny_gmt.write_text(gmt_text({**TINY_SETS, "T_new": ["G1", "G2"]}))
    library._MEMO.clear()
    with pytest.raises(AssertionError, match="parsed the GMT text again"):
        load_library(tiny_gmt)


def test_named_library_second_load_uses_binary(enrichr, monkeypatch):
    import gsea_plus.library.download as download

    enrichr.extra["Tiny_2024"] = gmt_text(TINY_SETS).encode()
    first = load_library("Tiny_2024")

    def boom(*args, **kwargs):
        raise AssertionError("parsed the GMT text again")

    monkeypatch.setattr(download, "parse_gmt_bytes", boom)
    library._MEMO.clear()
    assert load_library("Tiny_2024", offline=True).to_dict() == first.to_dict()


def test_np_load_never_allows_pickle(tiny_gmt, cache_root, monkeypatch):
    calls = []
    real = np.load

    def spy(*args, **kwargs):
        calls.append(kwargs.get("allow_pickle", "missing"))
        return real(*args, **kwargs)

    monkeypatch.setattr(np, "load", spy)
    load_library(tiny_gmt)
    library._MEMO.clear()
    load_library(tiny_gmt)
    # format 2 is memory-mapped (no np.load at all); format 1 is read with np.load
    assert calls == []
    lib = GeneSetLibrary.from_gene_sets("lib", TINY_SETS)
    path = tiny_gmt.parent / "v1.npz"
    _save_format_1(lib, path)
    assert GeneSetLibrary.load(path).to_dict() == lib.to_dict()
    assert calls == [False]


def test_pickled_npz_is_refused(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, meta=np.array([{"format": 1}], dtype=object))
    with pytest.raises(LibraryError, match="corrupt cached library"):
        GeneSetLibrary.load(path)


def test_save_load_roundtrip(tmp_path):
    lib = GeneSetLibrary.from_gene_sets(
        "lib", TINY_SETS, meta={"sha256": "ab" * 32, "source": "here"}
    )
    path = tmp_path / "lib.npz"
    lib.save(path)
    back = GeneSetLibrary.load(path)
    assert back.name == "lib"
    assert back.to_dict() == lib.to_dict()
    assert back.meta == {"sha256": "ab" * 32, "source": "here"}
    assert back.version == "lib@" + "ab" * 6
    assert np.array_equal(back.term_sizes, [len(set(g)) for g in TINY_SETS.values()])


def test_membership_views():
    lib = GeneSetLibrary.from_gene_sets("lib", TINY_SETS)
    m = lib.membership.toarray()
    assert m.shape == (len(TINY_SETS), 12)
    for i, (term, genes) in enumerate(TINY_SETS.items()):
        assert lib.terms[i] == term
        assert sorted(lib.genes[m[i] == 1].tolist()) == sorted(genes)
    col_ptr, col_terms = lib.gene_terms
    g1 = lib.gene_index["G1"]
    assert sorted(lib.terms[col_terms[col_ptr[g1] : col_ptr[g1 + 1]]].tolist()) == sorted(
        t for t, gs in TINY_SETS.items() if "G1" in gs
    )
    # the constructor accepts a scipy matrix as well
    again = GeneSetLibrary("lib", lib.terms, lib.genes, lib.membership)
    assert again.to_dict() == lib.to_dict()
    with pytest.raises(LibraryError):
        GeneSetLibrary("bad", ["a"], ["x"], indptr=np.array([0, 1]), indices=np.array([5]))


def test_restrict_keeps_terms_and_shrinks_them():
    lib = GeneSetLibrary.from_gene_sets("lib", TINY_SETS)
    sub = lib.restrict(["G1", "G2", "G9", "NOT_THERE"])
    assert sub.terms.tolist() == lib.terms.tolist()
    assert sub.genes.tolist() == ["G1", "G2", "G9"]
    assert dict(zip(sub.terms.tolist(), sub.term_sizes.tolist(), strict=True)) == {
        "T_alpha": 2,
        "T_beta": 0,
        "T_gamma": 1,
        "T_delta": 1,
        "T_big": 3,
    }


def test_several_libraries_library_column(tmp_path):
    import gsea_plus

    a = tmp_path / "lib_a.gmt"
    a.write_text(gmt_text({"A1": ["TP53", "MDM2", "X1"], "A2": ["EGFR", "X2"]}))
    b = tmp_path / "lib_b.gmt.gz"
    b_sets = {"B1": ["TP53", "Y1"], "B2": ["MDM2", "EGFR", "Y2"]}
    b.write_bytes(gzip.compress(gmt_text(b_sets).encode()))
    df = gsea_plus.enrich(["TP53", "MDM2", "EGFR"], library=[str(a), str(b)])
    assert set(df["Library"]) == {"lib_a", "lib_b"}
    assert dict(zip(df["Term"], df["Library"], strict=True)) == {
        "A1": "lib_a",
        "A2": "lib_a",
        "B1": "lib_b",
        "B2": "lib_b",
    }
    assert list(df["P-value"]) == sorted(df["P-value"])


@pytest.mark.parametrize(
    ("content", "match"),
    [(b"", "empty"), (b"   \n\n", "empty"), (os.urandom(2048) + b"\x00", "binary|no gene sets")],
)
def test_corrupt_or_empty_gmt(tmp_path, content, match):
    path = tmp_path / "bad.gmt"
    path.write_bytes(content)
    with pytest.raises(LibraryError, match=match):
        load_library(path)


def test_missing_or_directory_path(tmp_path):
    with pytest.raises(LibraryError, match="no such library file"):
        load_library(tmp_path / "nope.gmt")
    with pytest.raises(LibraryError, match="directory"):
        load_library(tmp_path / "sub" / "..")
    with pytest.raises(LibraryError, match="empty library name"):
        load_library("  ")


def test_unknown_name_offline_suggests(cache_root):
    with pytest.raises(LibraryError) as info:
        load_library("KEGGG", offline=True)
    msg = str(info.value)
    assert "KEGGG" in msg and "close names" in msg and "KEGG" in msg.split("close names")[1]


def test_cache_dir_env_and_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("GSEA_PLUS_CACHE", str(tmp_path / "c"))
    assert cache_dir("libraries") == tmp_path / "c" / "libraries"
    assert (tmp_path / "c" / "libraries").is_dir()
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("GSEA_PLUS_CACHE", str(blocker / "sub"))
    with pytest.raises(CacheError, match="cannot be created"):
        cache_dir("libraries")
    # no cache is fine for GMT paths: only the parsed-library speed-up is lost
    gmt = tmp_path / "x.gmt"
    gmt.write_text(gmt_text(TINY_SETS))
    assert len(load_library(gmt)) == len(TINY_SETS)


def test_atomic_write_leaves_nothing_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "out.bin"
    atomic_write(target, b"first")

    def fail(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(CacheError, match="No space left"):
        atomic_write(target, b"second")
    assert target.read_bytes() == b"first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]


@requires_shared
def test_every_benchmark_gmt_loads_and_caches():
    for path in sorted(BENCHMARK.glob("*.gmt")):
        lib = load_library(path)
        assert lib.name == path.stem
        n_rows = sum(1 for line in path.read_text().splitlines() if line.strip())
        assert len(lib) == n_rows
        assert lib.term_sizes.min() >= 1
        assert len(lib.genes) == len(set(lib.genes.tolist()))


@pytest.mark.parametrize("garbage", [b"", b"garbage", b"PK\x03\x04 not a zip"])
def test_corrupt_parsed_cache_is_rebuilt(tiny_gmt, cache_root, garbage):
    first = load_library(tiny_gmt)
    (parsed,) = (cache_root / "parsed").iterdir()
    parsed.write_bytes(garbage)
    library._MEMO.clear()
    again = load_library(tiny_gmt)
    assert again.to_dict() == first.to_dict()
    assert parsed.read_bytes()[:2] == b"PK" and len(parsed.read_bytes()) > 100  # rewritten


def _save_format_1(lib: GeneSetLibrary, path) -> None:
    """What save() wrote before format 2: joined strings as <U arrays, np.savez."""
    import json

    sep = "\n"
    np.savez(
        path,
        indptr=lib.indptr.astype(np.int64),
        indices=lib.indices.astype(np.int32),
        genes=np.array(sep.join(lib.genes.tolist())),
        terms=np.array(sep.join(lib.terms.tolist())),
        descriptions=np.array(sep.join(lib.descriptions.tolist())),
        meta=np.array(json.dumps({"name": lib.name, "format": 1, **lib.meta})),
    )
