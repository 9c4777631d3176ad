"""Identifier conversion (gsea_plus.idmap), checked against the HGNC and HomoloGene tables.

The reference tables are read here with the csv module, independently of the package's
reader, from ../shared/data/mapping (tests that need them are skipped without it).
"""

from __future__ import annotations

import csv
import gzip
from functools import lru_cache

import pytest
from conftest import SHARED, requires_shared

from gsea_plus.errors import InputError
from gsea_plus.genes import GeneList, SymbolMapper, convert_gene_list, parse_gene_text
from gsea_plus.idmap import IdMap, load_idmap

MAPPING = SHARED / "mapping"


@lru_cache(maxsize=1)
def hgnc_rows() -> tuple[dict[str, str], ...]:
    with gzip.open(MAPPING / "hgnc_complete_set.subset.tsv.gz", "rt", encoding="utf-8") as fh:
        return tuple(csv.DictReader(fh, delimiter="\t"))


def _index(column: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for row in hgnc_rows():
        for key in filter(None, row[column].split("|")):
            out.setdefault(key.upper(), set()).add(row["symbol"].upper())
    return out


@pytest.fixture(scope="module")
def idmap() -> IdMap:
    return IdMap.bundled()


# --------------------------------------------------------------------------- the cases


@pytest.mark.parametrize(
    ("token", "symbol", "kind"),
    [
        ("ENSG00000141510", "TP53", "Ensembl"),
        ("ENSG00000141510.17", "TP53", "Ensembl"),  # GENCODE version suffix
        ("ensg00000141510.5", "TP53", "Ensembl"),
        ("ENSG00000141510_PAR_Y", "TP53", "Ensembl"),
        ("7157", "TP53", "Entrez"),
        ("SEPT7", "SEPTIN7", "previous symbol"),  # the pre-2020 symbol Excel used to mangle
        ("MARCH1", "MARCHF1", "previous symbol"),
        ("CDKN1", "CDKN1A", "previous symbol"),
        ("p53", "TP53", "alias"),
        ("WAF1", "CDKN1A", "alias"),
        ("HDM2", "MDM2", "alias"),
    ],
)
def test_known_identifiers_convert(idmap, token, symbol, kind):
    conversion = idmap.convert([token])
    assert conversion.symbols == [symbol]
    assert conversion.converted == {token: (symbol, kind)}
    assert conversion.summary() == f"1 converted (1 {kind})"


def test_current_symbols_pass_through_untouched(idmap):
    genes = ["TP53", "SEPTIN7", "MARCHF1", "CDKN1A", "C1ORF21", "HLA-A"]
    conversion = idmap.convert(genes)
    assert conversion.symbols == genes
    assert not conversion.changed and conversion.summary() == "" and conversion.hint is None


def test_ambiguous_and_unknown_are_listed_and_left_unconverted(idmap):
    conversion = idmap.convert(["TP53", "P21", "ENSG00000230417", "NOTAGENE1", "99999999"])
    assert conversion.symbols == ["TP53", "P21", "ENSG00000230417", "NOTAGENE1", "99999999"]
    assert conversion.ambiguous == {
        "P21": ("CDKN1A", "H3P16", "NSG1", "TCEAL1"),
        "ENSG00000230417": ("LINC00595", "LINC00856"),
    }
    assert conversion.unknown == ["NOTAGENE1", "99999999"]
    assert conversion.summary() == (
        "2 ambiguous: P21 (CDKN1A|H3P16|NSG1|TCEAL1), ENSG00000230417 (LINC00595|LINC00856), "
        "2 unknown: NOTAGENE1, 99999999"
    )


def test_summary_counts_kinds_and_truncates(idmap):
    tokens = ["ENSG00000141510", "ENSG00000135679.20", "7157", "SEPT7"] + [
        f"FAKE{i}" for i in range(8)
    ]
    conversion = idmap.convert(tokens)
    assert conversion.summary(limit=3) == (
        "4 converted (2 Ensembl, 1 Entrez, 1 previous symbol), "
        "8 unknown: FAKE0, FAKE1, FAKE2, +5 more"
    )
    assert conversion.counts() == {"Ensembl": 2, "Entrez": 1, "previous symbol": 1}
    assert conversion.mapping["ENSG00000135679.20"] == "MDM2"


@requires_shared
def test_thirty_ensembl_ids_of_a_hallmark_set_all_reach_the_library(idmap):
    # The issue: DESeq2-style Ensembl IDs gave "none of the 30 input genes is in ...".
    from gsea_plus.library import load_library

    hallmark = load_library("Hallmark", offline=True)
    term = next(s for s in hallmark.gene_sets() if s.term == "p53 Pathway")
    symbols = sorted(term.genes)[:30]
    # the Ensembl IDs from the shared HGNC table, read with csv (not with IdMap)
    by_symbol = {r["symbol"]: r["ensembl_gene_id"] for r in hgnc_rows()}
    ensg = {s: by_symbol[s] for s in symbols}
    assert all(e.startswith("ENSG") for e in ensg.values()), ensg
    text = '"",baseMean,log2FoldChange\n' + "".join(
        f"{e}.{i % 7 + 1},{100 + i},{i / 10}\n" for i, e in enumerate(ensg.values())
    )
    parsed = parse_gene_text(text)
    assert parsed.header is not None and len(parsed) == 30
    converted, conversion = convert_gene_list(parsed, idmap)
    assert converted.genes == symbols
    assert conversion.counts() == {"Ensembl": 30}
    assert set(converted.genes) <= set(hallmark.gene_index)


# --------------------------------------------------------------------------- against HGNC


@requires_shared
def test_every_ensembl_and_entrez_id_maps_like_the_hgnc_table(idmap):
    for column, fmt in (("ensembl_gene_id", "{}.3"), ("entrez_id", "{}")):
        reference = _index(column)
        tokens = sorted(reference)
        conversion = idmap.convert([fmt.format(t) for t in tokens])
        for token, got in zip(tokens, conversion.symbols, strict=True):
            want = reference[token]
            if len(want) == 1:
                assert got == next(iter(want)), (column, token)
            else:
                assert conversion.ambiguous[fmt.format(token)] == tuple(sorted(want))


@requires_shared
def test_previous_symbols_and_aliases_follow_the_precedence(idmap):
    approved = {r["symbol"].upper() for r in hgnc_rows()}
    prev, alias = _index("prev_symbol"), _index("alias_symbol")
    ids = set(_index("entrez_id")) | set(_index("ensembl_gene_id"))
    checked = {"previous": 0, "alias": 0, "ambiguous": 0, "approved_alias": 0}
    for key in sorted(set(prev) | set(alias)):
        got = idmap.lookup(key)
        if key in ids:  # an ID wins over a symbol (EGR1 has alias 225, ABCD2 Entrez ID 225)
            assert got[1] in ("Entrez", "Ensembl"), key
            continue
        if key in approved:  # an approved symbol is never re-pointed
            assert got[:2] == ("symbol", ""), key
            checked["approved_alias"] += key in alias
        elif key in prev:  # previous symbols before aliases
            want = tuple(sorted(prev[key]))
            assert got == ("converted" if len(want) == 1 else "ambiguous", "previous symbol", want)
            checked["previous"] += 1
        else:
            want = tuple(sorted(alias[key]))
            assert got == ("converted" if len(want) == 1 else "ambiguous", "alias", want)
            checked["alias" if len(want) == 1 else "ambiguous"] += 1
    assert min(checked.values()) > 50, checked  # every branch met real cases


@requires_shared
def test_normalize_is_symbols_only_and_matches_the_old_mapper(idmap):
    # normalize() keeps SymbolMapper's contract (the engine and the corpus builder use it)
    assert idmap.normalize("sept7") == "SEPTIN7"
    assert idmap.normalize("P21") == "P21"  # ambiguous alias: left alone
    assert idmap.normalize("7157") == "7157"  # IDs are convert()'s business
    assert idmap.normalize("ENSG00000141510") == "ENSG00000141510"
    from_table = IdMap.from_hgnc(MAPPING / "hgnc_complete_set.subset.tsv.gz")
    assert from_table.mapping == idmap.mapping and from_table.approved == idmap.approved


# --------------------------------------------------------------------------- mouse


@pytest.mark.parametrize(
    ("token", "symbol", "kind"),
    [
        ("Trp53", "TP53", "mouse ortholog"),
        ("TRP53", "TP53", "mouse ortholog"),
        ("22059", "TP53", "mouse Entrez"),  # mouse Entrez ID of Trp53
        ("Cdkn1a", "CDKN1A", "mouse ortholog"),
        ("Sept7", "SEPTIN7", "mouse ortholog"),  # the 2014 human symbol SEPT7, re-pointed
        ("Ankhd1", "ANKHD1", "mouse ortholog"),  # not ambiguous with ANKHD1-EIF4EBP3
    ],
)
def test_mouse_symbols_and_entrez_map_to_human_orthologs(idmap, token, symbol, kind):
    conversion = idmap.convert([token], species="mouse")
    assert conversion.symbols == [symbol]
    assert conversion.converted == {token: (symbol, kind)}


@requires_shared
def test_mouse_orthologs_agree_with_homologene(idmap):
    with gzip.open(MAPPING / "human_mouse_orthologs_homologene_2014.tsv.gz", "rt") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    by_entrez = {r["entrez_id"]: r["symbol"].upper() for r in hgnc_rows() if r["entrez_id"]}
    humans: dict[str, set[str]] = {}
    for r in rows:
        human = by_entrez.get(r["human_entrez"])
        if human is not None:
            humans.setdefault(r["mouse_symbol"], set()).add(human)
    one_to_one = {m: next(iter(h)) for m, h in humans.items() if len(h) == 1}
    assert len(one_to_one) > 15000
    conversion = idmap.convert(sorted(one_to_one), species="mouse")
    assert conversion.symbols == [one_to_one[m] for m in sorted(one_to_one)]


def test_mouse_list_without_species_gets_a_hint(idmap):
    gl = parse_gene_text("Trp53\nCdkn1a\nMdm2\nGapdh\n")
    converted, conversion = convert_gene_list(gl, idmap)
    assert conversion.looks_like_mouse
    assert conversion.unknown == ["TRP53"]
    hint = conversion.hint
    assert "mouse" in hint and "--species mouse" in hint and "Trp53" in hint
    assert "\n" not in hint
    # upper-cased mouse symbols that the human map does not know also trigger it
    assert idmap.convert(["TRP53", "GM12345X", "TP53"]).looks_like_mouse
    # with the species given, no hint and the orthologs are used
    converted, conversion = convert_gene_list(gl, idmap, species="mouse")
    assert converted.genes == ["TP53", "CDKN1A", "MDM2", "GAPDH"]
    assert not conversion.looks_like_mouse and conversion.hint is None


def test_human_lists_get_no_mouse_hint(idmap):
    for genes in (["TP53", "MDM2", "FAKE1", "FAKE2"], ["tp53", "mdm2"], ["C1orf21", "TP53"]):
        assert not idmap.convert(genes).looks_like_mouse, genes


def test_mouse_tokens_without_orthologs_are_reported(idmap):
    conversion = idmap.convert(["Trp53", "Gm99999", "ENSMUSG00000059552"], species="mouse")
    assert conversion.symbols == ["TP53", "GM99999", "ENSMUSG00000059552"]
    assert conversion.unknown == ["Gm99999", "ENSMUSG00000059552"]
    assert conversion.summary() == (
        "1 converted (1 mouse ortholog), 2 without a human ortholog: Gm99999, ENSMUSG00000059552"
    )


def test_unknown_species_is_an_input_error(idmap):
    with pytest.raises(InputError, match="species"):
        idmap.convert(["TP53"], species="rat")


# --------------------------------------------------------------------------- gene lists


def test_convert_gene_list_keeps_order_weights_and_does_not_mutate(idmap):
    gl = parse_gene_text("ENSG00000141510.2,2.5\nMDM2,1.0\nTP53,9\nSEPT7,0.5\nXYZ99,3\n")
    before = (list(gl.genes), dict(gl.weights), list(gl.duplicates))
    new, conversion = convert_gene_list(gl, idmap)
    assert (gl.genes, gl.weights, gl.duplicates) == before
    assert new.genes == ["TP53", "MDM2", "SEPTIN7", "XYZ99"]
    assert new.weights == {"TP53": 2.5, "MDM2": 1.0, "SEPTIN7": 0.5, "XYZ99": 3.0}
    assert new.duplicates == ["TP53"]  # the Ensembl ID and the symbol are one gene
    assert conversion.summary() == "2 converted (1 Ensembl, 1 previous symbol), 1 unknown: XYZ99"


def test_mangled_and_old_symbol_reach_the_same_gene(idmap):
    gl = parse_gene_text("7-Sep\nSEPT7\n2-Sep\n")
    new, _ = convert_gene_list(gl, idmap)
    assert new.genes == ["SEPTIN7", "SEPTIN2"]
    assert new.mangled == {"7-Sep": ("SEPTIN7", "SEPT7"), "2-Sep": ("SEPTIN2", "SEPT2")}


def test_match_finds_old_library_symbols(idmap):
    # KEGG 2016 uses SEPT2: the converted SEPTIN2 still finds it through match()
    universe = {"SEPT2": 0, "TP53": 1}
    assert idmap.match(["SEPTIN2", "TP53", "NOPE"], universe) == {"SEPTIN2": "SEPT2"}


# --------------------------------------------------------------------------- --hgnc override


NEWER_HGNC = (
    "hgnc_id\tsymbol\tstatus\talias_symbol\tprev_symbol\tensembl_gene_id\tentrez_id\n"
    "HGNC:1\tTP53NEW\tApproved\tP53\tTP53\tENSG00000141510\t7157\n"
    "HGNC:2\tMDM2\tApproved\tHDM2\t\tENSG00000135679\t4193\n"
    "HGNC:3\tOLDGENE\tEntry Withdrawn\t\t\t\t\n"
)


def test_hgnc_override_is_a_newer_table(tmp_path, monkeypatch):
    path = tmp_path / "hgnc_new.tsv.gz"
    path.write_bytes(gzip.compress(NEWER_HGNC.encode()))
    newer = IdMap.from_hgnc(path)
    assert newer.approved == {"TP53NEW", "MDM2"}  # withdrawn rows skipped
    conversion = newer.convert(["TP53", "ENSG00000141510.9", "7157", "MDM2", "OLDGENE"])
    assert conversion.symbols == ["TP53NEW", "TP53NEW", "TP53NEW", "MDM2", "OLDGENE"]
    assert conversion.unknown == ["OLDGENE"]
    # mouse orthologs come from the package, re-pointed through the newer table
    assert newer.convert(["Trp53"], species="mouse").symbols == ["TP53NEW"]
    # load_idmap: explicit path > GSEA_PLUS_HGNC > bundled
    assert load_idmap() is IdMap.bundled()
    monkeypatch.setenv("GSEA_PLUS_HGNC", str(path))
    assert load_idmap().approved == newer.approved
    assert load_idmap(newer) is newer
    assert SymbolMapper is IdMap


def test_hgnc_table_with_symbols_only(tmp_path):
    path = tmp_path / "min.tsv"
    path.write_text("symbol\nTP53\n")
    m = IdMap.from_hgnc(path)
    assert m.convert(["tp53", "7157"]).symbols == ["TP53", "7157"]
    bad = tmp_path / "bad.tsv"
    bad.write_text("id\tname\n1\tx\n")
    with pytest.raises(InputError, match="not an HGNC table"):
        IdMap.from_hgnc(bad)


def test_bundled_map_is_read_once():
    assert IdMap.bundled() is IdMap.bundled()
    assert GeneList(["A"]).original == {} and GeneList(["A"]).invalid == []


def test_a_list_the_library_holds_never_reads_the_map(tmp_path):
    """The bundled tables are read on first use: not at all when every gene is in the library."""
    import gsea_plus
    from gsea_plus import idmap

    gmt = tmp_path / "lib.gmt"
    gmt.write_text("T1\t\tTP53\tMDM2\tCDKN1A\nT2\t\tEGFR\tKRAS\tBRAF\n")
    idmap._bundled.cache_clear()
    try:
        gsea_plus.enrich(["TP53", "MDM2"], str(gmt))
        assert callable(idmap.IdMap.bundled()._symbols_table)  # never loaded
        gsea_plus.enrich(["TP53", "MDM2", "P53"], str(gmt))  # an alias: the map is needed
        assert not callable(idmap.IdMap.bundled()._symbols_table)
    finally:
        idmap._bundled.cache_clear()
