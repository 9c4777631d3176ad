"""Reading gene lists: formats users paste, mangled symbols, warnings for unknown genes."""

from __future__ import annotations

import gzip
import io
import logging
import sys

import pytest
from conftest import gmt_text, requires_shared
from hypothesis import given, settings
from hypothesis import strategies as st

from gsea_plus.errors import InputError
from gsea_plus.genes import (
    HEADER_WORDS,
    GeneList,
    parse_gene_text,
    read_gene_list,
    resolve_mangled,
)

ABC = ["TP53", "MDM2", "CDKN1A"]


@pytest.mark.parametrize(
    "text",
    [
        "TP53\nMDM2\nCDKN1A\n",
        "TP53,MDM2,CDKN1A",
        "TP53\tMDM2\tCDKN1A\n",
        "TP53 MDM2  CDKN1A",
        "TP53; MDM2; CDKN1A",
        "# my list\nTP53  # the guardian\n\nMDM2\n# CDKN2A\nCDKN1A\n",
        "gene\nTP53\nMDM2\nCDKN1A\n",
        "Gene Symbol\nTP53\nMDM2\nCDKN1A\n",
        "symbol,logFC\nTP53,2.5\nMDM2,-1.0\nCDKN1A,3e-2\n",
        "TP53,1.0\nMDM2,0.5\nCDKN1A,0.25\n",
        "\ufeffTP53\r\nMDM2\r\nCDKN1A\r\n",
        "   TP53   \n\t MDM2\t\n CDKN1A \n",
        "  TP53   1.50\n  MDM2  12.25\nCDKN1A   0.10\n",  # right-aligned columns
        "tp53\nMdm2\ncdkn1a\n",
        "TP53\nMDM2\ntp53\nCDKN1A\nMDM2\n",
        '"TP53","MDM2","CDKN1A"',
    ],
)
def test_parse_formats(text):
    assert parse_gene_text(text).genes == ABC


def test_weights_duplicates_header_reported():
    gl = parse_gene_text("gene,weight\nTP53,1.5\nMDM2,0.5\ntp53,9\n")
    assert gl.genes == ["TP53", "MDM2"]
    assert gl.weights == {"TP53": 1.5, "MDM2": 0.5}  # first occurrence wins
    assert gl.duplicates == ["TP53"]
    assert gl.header == "gene,weight"
    assert len(gl) == 2


def test_integer_lines_are_entrez_ids_other_numbers_are_reported(caplog):
    # Entrez IDs are kept as identifiers (idmap converts them); other numbers-only rows
    # are skipped, but never silently
    with caplog.at_level(logging.WARNING, logger="gsea_plus"):
        gl = parse_gene_text("TP53\n7157\n4193\n")
    assert gl.genes == ["TP53", "7157", "4193"]
    assert not caplog.records
    with caplog.at_level(logging.WARNING, logger="gsea_plus"):
        gl = parse_gene_text("TP53\n-1.5\n0\n2.5e3\n007\n")
    assert gl.genes == ["TP53"]
    messages = [r.getMessage() for r in caplog.records]
    assert any("4 rows" in m and "-1.5" in m and "007" in m for m in messages), messages


def test_a_gene_named_like_a_header_word_later_is_kept():
    # only the first content line can be a header
    assert parse_gene_text("TP53\nID\n").genes == ["TP53", "ID"]


def test_read_from_file_gzip_and_iterable(tmp_path):
    plain = tmp_path / "genes.txt"
    plain.write_bytes(b"\xef\xbb\xbfTP53\r\nMDM2\r\nCDKN1A\r\n")
    assert read_gene_list(plain).genes == ABC
    assert read_gene_list(str(plain)).genes == ABC
    gz = tmp_path / "genes.txt.gz"
    gz.write_bytes(gzip.compress(b"TP53\nMDM2\nCDKN1A\n"))
    assert read_gene_list(gz).genes == ABC
    assert read_gene_list(["TP53", "mdm2", "CDKN1A", "TP53"]).genes == ABC
    assert read_gene_list(iter(["TP53,MDM2", "CDKN1A"])).genes == ABC
    assert read_gene_list(g for g in ABC).genes == ABC
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("TP53\nMDM2 # r\xe9sum\xe9\nCDKN1A\n".encode("latin-1"))
    assert read_gene_list(latin).genes == ABC


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_with_bom_is_text(tmp_path, encoding):
    # Excel's "Unicode text" export: UTF-16 with a byte-order mark, full of NUL bytes
    path = tmp_path / "excel.txt"
    bom = {"utf-16": "", "utf-16-le": "\ufeff", "utf-16-be": "\ufeff"}[encoding]
    path.write_bytes((bom + "Gene\r\nTP53\r\nMDM2\r\nCDKN1A\r\n").encode(encoding))
    assert read_gene_list(path).genes == ABC


def test_read_from_stdin(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"TP53\nMDM2,CDKN1A\n")))
    assert read_gene_list("-").genes == ABC


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "gene\n", "\ufeff\r\n"])
def test_empty_list_is_an_error(text, tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text(text)
    with pytest.raises(InputError, match="empty"):
        read_gene_list(path)


def test_unreadable_inputs(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_gene_list(tmp_path / "missing.txt")
    with pytest.raises(InputError, match="directory"):
        read_gene_list(tmp_path)
    binary = tmp_path / "x.bin"
    binary.write_bytes(b"\x00\x01\x02garbage\x00" * 50)
    with pytest.raises(InputError, match="binary"):
        read_gene_list(binary)
    badgz = tmp_path / "x.gz"
    badgz.write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(InputError, match="gzip"):
        read_gene_list(badgz)
    with pytest.raises(InputError, match="strings"):
        read_gene_list([1, 2, 3])


@pytest.mark.parametrize(
    ("token", "candidates"),
    [
        ("1-Mar", ("MARCHF1", "MARCH1")),
        ("7-Sep", ("SEPTIN7", "SEPT7")),
        ("2-Sep", ("SEPTIN2", "SEPT2")),
        ("Sep-7", ("SEPTIN7", "SEPT7")),
        ("1-DEC", ("DELEC1", "DEC1")),
        ("11-sep", ("SEPTIN11", "SEPT11")),
        ("TP53", None),
        ("7-Jan", None),
        ("0-Sep", None),
        ("SEPT7", None),
    ],
)
def test_resolve_mangled(token, candidates):
    assert resolve_mangled(token) == candidates


def test_mangled_names_are_recognized_and_reported():
    gl = parse_gene_text("TP53\n7-Sep\n1-Mar\nSEPTIN7\n")
    # 7-Sep resolves to the current symbol, so the explicit SEPTIN7 is a duplicate
    assert gl.genes == ["TP53", "SEPTIN7", "MARCHF1"]
    assert gl.mangled == {"7-Sep": ("SEPTIN7", "SEPT7"), "1-Mar": ("MARCHF1", "MARCH1")}
    assert gl.duplicates == ["SEPTIN7"]


def test_mangled_resolved_to_the_candidate_the_library_has():
    gl = parse_gene_text("7-Sep\n2-Sep\nTP53\n")
    changed = gl.resolve_against({"SEPT7", "SEPTIN2", "TP53"})
    assert changed == {"SEPTIN7": "SEPT7"}
    assert gl.genes == ["SEPT7", "SEPTIN2", "TP53"]
    # nothing changes when the current symbol is present
    gl2 = GeneList(["SEPTIN7"], mangled={"7-Sep": ("SEPTIN7", "SEPT7")})
    assert gl2.resolve_against({"SEPTIN7", "SEPT7"}) == {}
    assert gl2.genes == ["SEPTIN7"]


def test_mangled_through_enrich_old_and_new_symbols(tmp_path):
    import gsea_plus

    old = tmp_path / "old.gmt"
    old.write_text(gmt_text({"septins": ["SEPT7", "SEPT2", "ACTB"], "other": ["TP53", "ACTB"]}))
    new = tmp_path / "new.gmt"
    new.write_text(gmt_text({"septins": ["SEPTIN7", "SEPTIN2", "ACTB"], "other": ["TP53", "ACTB"]}))
    for path, expected in ((old, "SEPT2;SEPT7"), (new, "SEPTIN2;SEPTIN7")):
        df = gsea_plus.enrich(["7-Sep", "2-Sep"], library=str(path))
        row = df[df["Term"] == "septins"].iloc[0]
        assert row["Overlap"] == "2/3"
        assert row["Genes"] == expected


@requires_shared
def test_mangled_against_real_libraries():
    # KEGG_2016 predates the 2020 HGNC renaming (SEPT2); KEGG_2021 has SEPTIN2
    from conftest import BENCHMARK

    import gsea_plus

    df = gsea_plus.enrich(
        ["2-Sep", "TP53", "MDM2"],
        library=[str(BENCHMARK / "KEGG_2016.gmt"), str(BENCHMARK / "KEGG_2021_Human.gmt")],
    )
    genes = ";".join(df["Genes"])
    assert "SEPT2" in genes.split(";") and "SEPTIN2" in genes.split(";")


def test_unrecognized_genes_are_warned_not_silently_dropped(tmp_path, caplog):
    import gsea_plus

    lib = tmp_path / "lib.gmt"
    lib.write_text(gmt_text({"A": ["TP53", "MDM2"], "B": ["MDM2", "EGFR"]}))
    with caplog.at_level(logging.WARNING, logger="gsea_plus"):
        df = gsea_plus.enrich(["TP53", "NOTAGENE1", "mdm2", "FAKE2"], library=str(lib))
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("NOTAGENE1" in m and "FAKE2" in m and "2 of 4" in m for m in warned), warned
    assert set(df["List Size"]) == {2}  # default background: n counts recognized genes


def test_no_recognized_gene_is_an_error(tmp_path):
    import gsea_plus

    lib = tmp_path / "lib.gmt"
    lib.write_text(gmt_text({"A": ["TP53", "MDM2"]}))
    with pytest.raises(InputError, match="none of the 2 input genes"):
        gsea_plus.enrich(["FOO", "BAR"], library=str(lib))


def test_symbol_mapper_from_hgnc(tmp_path):
    from gsea_plus.genes import SymbolMapper

    table = tmp_path / "hgnc.tsv.gz"
    table.write_bytes(
        gzip.compress(
            b"hgnc_id\tsymbol\talias_symbol\tprev_symbol\n"
            b"HGNC:1\tSEPTIN7\tCDC10\tSEPT7\n"
            b"HGNC:2\tTP53\tP53|LFS1\t\n"
            b"HGNC:3\tOTHER\tLFS1\t\n"
        )
    )
    mapper = SymbolMapper.from_hgnc(table)
    assert mapper.normalize("sept7") == "SEPTIN7"
    assert mapper.normalize("CDC10") == "SEPTIN7"
    assert mapper.normalize("p53") == "TP53"
    assert mapper.normalize("LFS1") == "LFS1"  # ambiguous alias: left alone
    assert mapper.normalize_many(["TP53", "unknown"]) == ["TP53", "UNKNOWN"]


_symbol = st.from_regex(r"[A-Z][A-Z0-9]{0,6}(-[A-Z0-9]{1,3})?", fullmatch=True).filter(
    lambda s: s not in HEADER_WORDS | {"INF", "NAN"} and resolve_mangled(s) is None
)


@settings(max_examples=60, deadline=None)
@given(
    genes=st.lists(_symbol, min_size=1, max_size=30),
    sep=st.sampled_from(["\n", "\r\n", ",", "\t", " ", "; ", "  \t"]),
    lower=st.lists(st.booleans(), min_size=30, max_size=30),
    header=st.sampled_from(["", "gene\n", "Symbol\r\n", "# comment\n"]),
    bom=st.booleans(),
)
def test_parse_roundtrip_property(genes, sep, lower, header, bom):
    cased = [g.lower() if low else g for g, low in zip(genes, lower[: len(genes)], strict=True)]
    text = ("\ufeff" if bom else "") + header + sep.join(cased) + "\n"
    parsed = parse_gene_text(text)
    assert parsed.genes == list(dict.fromkeys(genes))
    assert parsed.duplicates == sorted({g for g in genes if genes.count(g) > 1})
