"""GMT parsing and writing."""

from __future__ import annotations

import gzip
import logging

import pytest
from conftest import benchmark_gmts, requires_shared

from gsea_plus.errors import LibraryError
from gsea_plus.library.gmt import GeneSet, iter_gmt, parse_gmt_bytes, read_gmt, write_gmt


def test_tabs_only_weights_case_and_duplicates():
    text = (
        "Cell cycle (GO:0007049)\tdesc here\tcdk1\tCCNB1,1.0\tCDK1\t\t\n"
        "Apoptosis\t\tBAX,0.5\tBCL2\r\n"
    )
    sets = list(iter_gmt(text))
    assert sets == [
        GeneSet("Cell cycle (GO:0007049)", "desc here", ("CDK1", "CCNB1")),
        GeneSet("Apoptosis", "", ("BAX", "BCL2")),
    ]


def test_malformed_rows_are_skipped_with_a_warning(caplog):
    text = "good\t\tA\tB\nno tabs at all\nempty\t\t\t\n\n"
    with caplog.at_level(logging.WARNING, logger="gsea_plus"):
        sets = parse_gmt_bytes(text.encode(), "x.gmt")
    assert [s.term for s in sets] == ["good"]
    assert any("skipped 2" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"\x00\x01\x02\x03" * 100, "binary"),
        (b"\x1f\x8b\x08\x00\x00garbage", "corrupt gzip"),
        (b"just some words\nno tabs\n", "no gene sets"),
        (b"\n\n   \n", "no gene sets"),
    ],
)
def test_bad_content(data, match):
    with pytest.raises(LibraryError, match=match):
        parse_gmt_bytes(data, "bad.gmt")


def test_read_gmt_errors(tmp_path):
    with pytest.raises(LibraryError, match="no such file"):
        read_gmt(tmp_path / "missing.gmt")
    with pytest.raises(LibraryError, match="directory"):
        read_gmt(tmp_path)
    empty = tmp_path / "empty.gmt"
    empty.write_bytes(b"")
    with pytest.raises(LibraryError, match="empty"):
        read_gmt(empty)


def test_roundtrip_plain_and_gzip(tmp_path):
    sets = [GeneSet("t one", "d", ("A", "B")), GeneSet("t2", "", ("C",))]
    for name in ("x.gmt", "x.gmt.gz", "x.txt"):
        path = tmp_path / name
        write_gmt(sets, path)
        raw = path.read_bytes()
        assert (raw[:2] == b"\x1f\x8b") == name.endswith(".gz")
        assert read_gmt(path) == sets
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_latin1_and_bom(tmp_path):
    path = tmp_path / "x.gmt"
    path.write_bytes("caf\xe9 set\t\tA\tB\n".encode("latin-1"))
    assert read_gmt(path)[0].term == "caf\xe9 set"
    path.write_bytes("\ufeffT\t\tA\n".encode())
    assert read_gmt(path)[0].term == "T"


@requires_shared
@pytest.mark.parametrize("path", benchmark_gmts(), ids=lambda p: p.stem)
def test_benchmark_files_parse(path):
    sets = read_gmt(path)
    rows = [line for line in path.read_text().splitlines() if line.strip()]
    assert len(sets) == len(rows)
    # the gzipped bytes parse to the same sets
    assert parse_gmt_bytes(gzip.compress(path.read_bytes()), path.name) == sets
    # terms keep their spaces; genes are upper-case without weights or blanks
    first = rows[0].split("\t")
    assert sets[0].term == first[0]
    assert all(g and g == g.upper() and "," not in g for s in sets[:50] for g in s.genes)


def test_utf16_gmt_with_bom_is_text(tmp_path):
    from gsea_plus.library.gmt import read_gmt

    path = tmp_path / "excel.gmt"
    path.write_bytes("TERM A\tdesc\tTP53\tMDM2\nTERM B\t\tATM\n".encode("utf-16"))
    sets = read_gmt(path)
    assert [(s.term, s.genes) for s in sets] == [("TERM A", ("TP53", "MDM2")), ("TERM B", ("ATM",))]
