"""Data shipped in the package (gsea_plus/data): provenance, reproducibility, offline use."""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import json
import logging
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import BENCHMARK, SHARED, requires_shared, subprocess_env

from gsea_plus.data import DATA_DIR, example_gene_list, manifest, read_data
from gsea_plus.errors import GseaPlusError, LibraryError, NetworkError
from gsea_plus.library import catalog, find_entry, load_library, read_gmt
from gsea_plus.library.gmt import parse_gmt_bytes

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "build_package_data.py"
BUNDLED = {"GO_Biological_Process_2023": "GO_BP", "MSigDB_Hallmark_2020": "Hallmark"}


def _script():
    spec = importlib.util.spec_from_file_location("build_package_data", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _content(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def _data_files() -> list[str]:
    skip = {"__init__.py", "MANIFEST.json", "SOURCES.md"}
    return sorted(
        p.relative_to(DATA_DIR).as_posix()
        for p in DATA_DIR.rglob("*")
        if p.is_file() and p.name not in skip and "__pycache__" not in p.parts
    )


# --------------------------------------------------------------------------- provenance


def test_manifest_lists_every_file_with_provenance_and_matching_sha256():
    records = manifest()
    assert sorted(records) == _data_files()
    for rel, rec in records.items():
        for key in ("source", "version", "licence", "input", "input_sha256", "description"):
            assert rec.get(key), (rel, key)
        path = DATA_DIR / rel
        assert rec["bytes"] == path.stat().st_size, rel
        content = _content(path)
        assert rec["uncompressed_bytes"] == len(content), rel
        assert rec["sha256"] == hashlib.sha256(content).hexdigest(), rel
    sources = (DATA_DIR / "SOURCES.md").read_text(encoding="utf-8")
    for rel, rec in records.items():
        assert f"`{rel}`" in sources and rec["sha256"] in sources and rec["licence"] in sources


def test_gzip_files_are_deterministic():
    # mtime 0 and no file name in the header: rebuilding gives the same bytes
    for rel in manifest():
        if rel.endswith(".gz"):
            head = (DATA_DIR / rel).read_bytes()[:10]
            assert head[3] & 0x08 == 0, rel  # FNAME flag unset
            assert head[4:8] == b"\0\0\0\0", rel  # MTIME = 0


def test_size_budget():
    script = _script()
    records = manifest()
    idmap = sum(r["bytes"] for k, r in records.items() if k.startswith("idmap/"))
    total = sum(
        p.stat().st_size for p in DATA_DIR.rglob("*") if p.is_file() and ".pyc" not in p.name
    )
    assert idmap <= script.IDMAP_BUDGET <= 2_000_000
    assert total <= script.TOTAL_BUDGET


def test_catalog_bundled_cells_match_the_manifest():
    bundled = {e.name: e for e in catalog() if e.is_bundled}
    assert set(bundled) == set(BUNDLED)
    for name, entry in bundled.items():
        rec = manifest()[f"libraries/{entry.bundled}"]
        assert entry.bundled_sha256 == rec["sha256"]
        assert rec["licence"].startswith("CC BY 4.0")
        assert BUNDLED[name] in entry.aliases


@requires_shared
def test_inputs_are_the_shared_files_recorded():
    for rel, rec in manifest().items():
        src = SHARED / rec["input"].removeprefix("shared/data/")
        assert hashlib.sha256(src.read_bytes()).hexdigest() == rec["input_sha256"], rel


@requires_shared
def test_build_script_reproduces_the_committed_files(tmp_path):
    out = tmp_path / "data"
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--shared", str(SHARED), "--out", str(out), "--no-catalog"],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    rebuilt = json.loads((out / "MANIFEST.json").read_text())["files"]
    committed = manifest()
    assert sorted(rebuilt) == sorted(committed)
    for rel in committed:
        assert _content(out / rel) == _content(DATA_DIR / rel), rel
        # gzip bytes depend on the zlib build; everything else in the record must agree
        strip = {k: v for k, v in committed[rel].items() if k != "bytes"}
        assert {k: v for k, v in rebuilt[rel].items() if k != "bytes"} == strip, rel
        if (out / rel).read_bytes() != (DATA_DIR / rel).read_bytes():
            assert rel.endswith(".gz"), rel  # only compression may differ


def test_build_script_fails_without_shared_data(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--shared", str(tmp_path), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=60,
    )
    assert proc.returncode == 2 and "shared reference data" in proc.stderr
    assert not (tmp_path / "o").exists()


def test_read_data_checks_the_sha256():
    rel = "libraries/MSigDB_Hallmark_2020.gmt.gz"
    assert read_data(rel).startswith(b"TNF-alpha Signaling via NF-kB\t")
    with pytest.raises(GseaPlusError, match="sha256"):
        read_data(rel, sha256="0" * 64)
    with pytest.raises(GseaPlusError, match="missing"):
        read_data("libraries/Nope.gmt.gz")


# --------------------------------------------------------------------------- bundled libraries


@pytest.fixture
def no_network(monkeypatch, closed_port):
    """Offline by every switch: env, a closed mirror port, and sockets that refuse to connect."""
    monkeypatch.setenv("GSEA_PLUS_ENRICHR_URL", closed_port)
    monkeypatch.setenv("GSEA_PLUS_OFFLINE", "1")

    def refuse(self, *args, **kwargs):
        raise AssertionError(f"network used: connect{args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)


@pytest.mark.parametrize(
    "spec",
    [
        "GO_BP",
        "go_bp",
        "GO_Biological_Process_2023",
        "Hallmark",
        "hallmarks",
        "MSigDB_Hallmark_2020",
    ],
)
def test_bundled_libraries_load_with_no_network_and_an_empty_cache(spec, no_network, cache_root):
    lib = load_library(spec)
    entry = find_entry(spec)
    assert lib.name == entry.name
    assert lib.meta["sha256"] == entry.bundled_sha256
    assert "bundled" in lib.meta["source"] and "CC BY 4.0" in lib.meta["source"]
    # offline=False too: a bundled name never needs the network
    assert load_library(spec, offline=False) is lib


@requires_shared
@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_bundled_library_equals_the_shared_gmt_term_for_term(name, no_network):
    lib = load_library(name)
    ref = read_gmt(BENCHMARK / f"{name}.gmt")
    got = lib.gene_sets()
    assert [s.term for s in got] == [s.term for s in ref]
    for a, b in zip(got, ref, strict=True):
        assert set(a.genes) == {g.upper() for g in b.genes}, a.term
    text = (BENCHMARK / f"{name}.gmt").read_bytes()
    assert hashlib.sha256(text).hexdigest() == find_entry(name).bundled_sha256


def test_bundled_library_parses_to_the_recorded_size():
    hallmark = load_library("Hallmark", offline=True)
    assert len(hallmark) == 50
    go = load_library("GO_BP", offline=True)
    assert len(go) == len(
        parse_gmt_bytes(read_data("libraries/GO_Biological_Process_2023.gmt.gz"), "x")
    )
    assert (
        "5407 gene sets" in manifest()["libraries/GO_Biological_Process_2023.gmt.gz"]["description"]
    )


def test_bundled_wins_over_a_cached_download_of_the_same_name(enrichr):
    from gsea_plus.library import download_library
    from gsea_plus.library.download import cached

    # the "mirror" serves a different library under the bundled name
    enrichr.extra["MSigDB_Hallmark_2020"] = b"ONLY_TERM\t\tTP53\tMDM2\n"
    download_library("Hallmark")
    assert cached("MSigDB_Hallmark_2020").exists()
    lib = load_library("Hallmark")
    assert len(lib) == 50 and lib.meta["sha256"] == find_entry("Hallmark").bundled_sha256


def test_a_corrupt_bundled_file_is_an_error_not_wrong_results(monkeypatch):
    import dataclasses

    import gsea_plus.library as library

    entry = dataclasses.replace(find_entry("Hallmark"), bundled_sha256="1" * 64)
    with pytest.raises(LibraryError, match="sha256"):
        library._load_bundled(entry)


def test_offline_error_for_a_non_bundled_library_says_what_to_do(no_network):
    with pytest.raises(LibraryError) as info:
        load_library("KEGG")
    msg = str(info.value)
    for needle in (
        "KEGG_2021_Human",
        "GO_BP",
        "Hallmark",
        ".gmt",
        "--offline",
        "GSEA_PLUS_ENRICHR_URL",
    ):
        assert needle in msg, msg


def test_network_error_for_a_non_bundled_library_says_what_to_do(monkeypatch, closed_port):
    monkeypatch.setenv("GSEA_PLUS_ENRICHR_URL", closed_port)
    with pytest.raises(NetworkError) as info:
        load_library("KEGG", offline=False)
    msg = str(info.value)
    assert "cannot reach" in msg  # the download layer's own message is kept
    for needle in ("GO_BP", "Hallmark", ".gmt", "--offline", "GSEA_PLUS_ENRICHR_URL"):
        assert needle in msg, msg


# --------------------------------------------------------------------------- example gene list


def test_example_gene_list_has_provenance_and_100_current_symbols():
    from gsea_plus.genes import read_gene_list
    from gsea_plus.idmap import IdMap

    path = example_gene_list()
    text = path.read_text(encoding="utf-8")
    comments = [line for line in text.splitlines() if line.startswith("#")]
    header = " ".join(comments)
    for needle in (
        "ageing_muscle_gtex.tsv",
        "blitzgsea",
        "GTEx",
        "highest score",
        "older",
        "skipped: LOC",
    ):
        assert needle in header, needle
    genes = read_gene_list(path)
    assert len(genes) == 100 and not genes.duplicates
    conversion = IdMap.bundled().convert(genes.genes)
    assert conversion.symbols == genes.genes and not conversion.changed


@requires_shared
def test_example_is_the_top_100_current_symbols_of_the_signature():
    import csv

    with gzip.open(SHARED / "mapping" / "hgnc_complete_set.subset.tsv.gz", "rt") as fh:
        approved = {row["symbol"] for row in csv.DictReader(fh, delimiter="\t")}
    rows = (SHARED / "signatures" / "ageing_muscle_gtex.tsv").read_text().splitlines()[1:]
    scores = {}
    for row in rows:
        gene, score = row.split(",")
        scores.setdefault(gene, float(score))
    ranked = sorted(scores, key=lambda g: -scores[g])
    top = [g for g in ranked if g in approved][:100]
    assert ranked[0] == top[0] == "EPB41L3" and scores["EDA2R"] > 8  # the up end
    from gsea_plus.genes import read_gene_list

    assert read_gene_list(example_gene_list()).genes == [g.upper() for g in top]


def test_example_enriches_offline_against_bundled_go(no_network, caplog):
    # The quick start: `gsea-plus enrich --example -l GO_BP` on a fresh machine.
    import gsea_plus

    with caplog.at_level(logging.WARNING):
        df = gsea_plus.enrich(str(example_gene_list()), library="GO_BP")
    assert len(df) > 0 and df["Adjusted P-value"].min() < 0.05
