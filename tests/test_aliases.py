"""Alias and previous-symbol matching through an HGNC table (synthetic fixture)."""

from __future__ import annotations

import gzip

import pytest

import gsea_plus
from gsea_plus.genes import SymbolMapper

HGNC = (
    "hgnc_id\tsymbol\tname\tlocus_group\tstatus\talias_symbol\tprev_symbol\n"
    "HGNC:1\tTP53\ttumor protein p53\tprotein-coding gene\tApproved\tP53|LFS1\t\n"
    "HGNC:2\tCDKN1A\tinhibitor\tprotein-coding gene\tApproved\tWAF1|CIP1|P21\tCDKN1\n"
    "HGNC:3\tSEPTIN7\tseptin 7\tprotein-coding gene\tApproved\tCDC10\tSEPT7\n"
    "HGNC:4\tMDM2\tMDM2\tprotein-coding gene\tApproved\tHDM2\t\n"
    "HGNC:5\tGENEA\ta\tprotein-coding gene\tApproved\tSHARED\t\n"
    "HGNC:6\tGENEB\tb\tprotein-coding gene\tApproved\tSHARED\t\n"
)


@pytest.fixture
def hgnc_path(tmp_path):
    path = tmp_path / "hgnc.tsv.gz"
    path.write_bytes(gzip.compress(HGNC.encode()))
    return path


def test_mapper_prefers_current_then_previous_then_unique_alias(hgnc_path):
    m = SymbolMapper.from_hgnc(hgnc_path)
    assert m.normalize("p53") == "TP53"
    assert m.normalize("CDKN1") == "CDKN1A"
    assert m.normalize("SEPT7") == "SEPTIN7"
    assert m.normalize("SHARED") == "SHARED"  # ambiguous alias: left alone
    assert m.normalize("NOTAGENE") == "NOTAGENE"


def test_enrich_matches_aliases_both_ways(hgnc_path, caplog):
    # The library uses an old symbol (SEPT7) while the input uses current ones and aliases.
    lib = {"p53": ["TP53", "CDKN1A", "MDM2", "SEPT7"], "other": ["GENEA", "GENEB", "X1", "X2"]}
    genes = ["P53", "WAF1", "HDM2", "SEPTIN7", "UNKNOWN1"]
    # the bundled ID map converts by default (issue 11; it used to need --hgnc), and a
    # newer HGNC table (--hgnc) gives the same answer here
    for hgnc in (None, hgnc_path):
        caplog.clear()
        with caplog.at_level("INFO"):
            df = gsea_plus.enrich(genes, library=lib, hgnc=hgnc)
        top = df.iloc[0]
        assert top["Term"] == "p53" and top["Overlap"] == "4/4"
        assert top["Genes"].split(";") == ["CDKN1A", "MDM2", "SEPT7", "TP53"]
        assert "P53->TP53" in caplog.text and "SEPTIN7->SEPT7" in caplog.text
        assert "UNKNOWN1" in caplog.text  # still reported, never dropped silently


def test_hgnc_env_var_and_bad_table(hgnc_path, tmp_path, monkeypatch):
    monkeypatch.setenv("GSEA_PLUS_HGNC", str(hgnc_path))
    df = gsea_plus.enrich(["P53", "HDM2"], library={"t": ["TP53", "MDM2", "A"], "u": ["B", "C"]})
    assert df.iloc[0]["Overlap"] == "2/3"
    bad = tmp_path / "bad.tsv"
    bad.write_text("id\tname\n1\tx\n")
    with pytest.raises(gsea_plus.GseaPlusError, match="not an HGNC table"):
        gsea_plus.enrich(["P53"], library={"t": ["TP53"]}, hgnc=bad)
