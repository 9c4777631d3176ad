"""Gene-list parsing of awkward characters and numbers (gsea_plus.genes).

Rows split on LF and CRLF only; invisible format characters are removed; Unicode spaces
separate; a token holding any other control character or a Unicode line separator is
dropped and reported. Integer-only rows are Entrez IDs.
"""

from __future__ import annotations

import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gsea_plus.errors import InputError
from gsea_plus.genes import parse_gene_text, read_gene_list

ABC = ["TP53", "MDM2", "CDKN1A"]


@pytest.mark.parametrize(
    "text",
    [
        "TP53\nMDM2\nCDKN1A\n",
        "TP53\r\nMDM2\r\nCDKN1A\r\n",
        "TP53\r\nMDM2\nCDKN1A",  # mixed line ends, no final newline
        "\u00a0TP53\u00a0\nMDM2\u00a0\u00a0CDKN1A\n",  # no-break spaces separate like spaces
        "TP53\u202fMDM2\u3000CDKN1A\n",  # narrow no-break and ideographic spaces
        "TP\u200b53\nMD\u200dM2\n\u2060CDKN1A\u200c\n",  # zero-width characters removed
        "TP53\n\ufeffMDM2\nCDKN1A\ufeff\n",  # byte-order marks in the middle (concatenated files)
        "TP53\u00ad\nMDM2\u200e\nCDKN1A\u202c\n",  # soft hyphen, bidi marks
    ],
)
def test_invisible_and_space_characters(text):
    gl = parse_gene_text(text)
    assert gl.genes == ABC
    assert gl.invalid == []


@pytest.mark.parametrize(
    ("sep", "name"),
    [
        ("\u2028", "LINE SEPARATOR"),
        ("\u2029", "PARAGRAPH SEPARATOR"),
        ("\x85", "NEL"),
        ("\x0c", "FORM FEED"),
        ("\x0b", "VERTICAL TAB"),
        ("\x1e", "RECORD SEPARATOR"),
        ("\x00", "NUL"),
        ("\r", "lone CR"),
    ],
)
def test_other_line_breaks_never_split_rows(sep, name, caplog):
    # str.splitlines() would split on all of these but NUL and invent two genes
    assert len(f"MDM2{sep}CDKN1A".splitlines()) == (1 if sep == "\x00" else 2)
    with caplog.at_level(logging.WARNING, logger="gsea_plus"):
        gl = parse_gene_text(f"TP53\nMDM2{sep}CDKN1A\nEGFR\n")
    assert gl.genes == ["TP53", "EGFR"], name
    assert gl.invalid == [f"MDM2{sep}CDKN1A"]
    warned = " ".join(r.getMessage() for r in caplog.records)
    assert "dropped 1 token" in warned and ascii(f"MDM2{sep}CDKN1A") in warned


def test_trailing_control_characters_are_reported_not_stripped(caplog):
    with caplog.at_level(logging.WARNING, logger="gsea_plus"):
        gl = parse_gene_text("TP53\x0c\nMDM2\n")
    assert gl.genes == ["MDM2"] and gl.invalid == ["TP53\x0c"]


def test_a_cr_ending_a_row_is_a_line_end():
    assert parse_gene_text("TP53\r\r\nMDM2\nCDKN1A\r").genes == ABC
    assert read_gene_list(["TP53\r", "MDM2\r\n", "CDKN1A"]).genes == ABC


def test_a_lone_cr_file_is_an_error_that_names_the_line_ends(tmp_path):
    path = tmp_path / "classic_mac.txt"
    path.write_bytes(b"TP53\rMDM2\rCDKN1A\r")
    with pytest.raises(InputError, match="empty") as info:
        read_gene_list(path)
    assert "lone CR" in str(info.value) and "control characters" in str(info.value)


def test_controls_inside_a_weighted_row():
    gl = parse_gene_text("TP53,1.5\nMD\x07M2,2.0\nCDKN1A,0.5\n")
    assert gl.genes == ["TP53", "CDKN1A"]
    assert gl.weights == {"TP53": 1.5, "CDKN1A": 0.5}
    assert gl.invalid == ["MD\x07M2"]


def test_tabs_and_commas_still_separate_and_comments_still_work():
    gl = parse_gene_text("TP53\tMDM2 # note \u2028 with a separator\nCDKN1A\n")
    assert gl.genes == ABC and gl.invalid == []


def test_original_case_is_kept_for_mouse_detection():
    gl = parse_gene_text("Trp53\nMDM2\ncdkn1a\n7-Sep\n")
    assert gl.genes == ["TRP53", "MDM2", "CDKN1A", "SEPTIN7"]
    assert gl.original == {"TRP53": "Trp53", "CDKN1A": "cdkn1a"}


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("text", "genes", "weights"),
    [
        ("7157\n4193\n1026\n", ["7157", "4193", "1026"], {}),
        ("7157,4193,1026", ["7157", "4193", "1026"], {}),  # one row of IDs
        ("entrez\n7157\n4193\n", ["7157", "4193"], {}),  # header word
        ("7157,2.5\n4193,-1.0\n", ["7157", "4193"], {"7157": 2.5, "4193": -1.0}),
        ("TP53,1\nMDM2,2\n", ["TP53", "MDM2"], {"TP53": 1.0, "MDM2": 2.0}),  # symbol + weight
        ("TP53\t1.5e-3\n", ["TP53"], {"TP53": 0.0015}),
        ("ENSG00000141510.17,2.5\n", ["ENSG00000141510.17"], {"ENSG00000141510.17": 2.5}),
        # documented ambiguity: a row of integers only is IDs, never ID + integer weight
        ("7157\t2\n", ["7157", "2"], {}),
    ],
)
def test_numeric_forms(text, genes, weights):
    gl = parse_gene_text(text)
    assert gl.genes == genes
    assert gl.weights == weights


@pytest.mark.parametrize("row", ["0", "007", "-5", "2.5", "1e3", "nan", "2.5,3.5", "12345678901"])
def test_numbers_that_are_not_ids_are_skipped_with_a_warning(row, caplog):
    with caplog.at_level(logging.WARNING, logger="gsea_plus"):
        gl = parse_gene_text(f"TP53\n{row}\n")
    assert gl.genes == ["TP53"]
    assert any("1 rows holding only numbers" in r.getMessage() for r in caplog.records)


def test_deseq2_results_header_is_skipped():
    text = (
        '"","baseMean","log2FoldChange","lfcSE","stat","pvalue","padj"\n'
        '"ENSG00000141510.17",1200.5,2.1,0.2,10.5,1e-20,1e-18\n'
        '"ENSG00000135679.20",800.1,-1.2,0.3,-4,1e-4,1e-3\n'
    )
    gl = parse_gene_text(text)
    assert gl.header is not None and gl.header.startswith('"","baseMean"')
    assert gl.genes == ["ENSG00000141510.17", "ENSG00000135679.20"]


# --------------------------------------------------------------------------- property


_symbol = st.from_regex(r"[A-Z][A-Z0-9]{1,6}", fullmatch=True)
_invisible = st.sampled_from(["", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"])
_space = st.sampled_from([" ", "\t", ",", "\u00a0", "\u202f", "\u2007", "\u3000"])


@settings(max_examples=80, deadline=None)
@given(
    rows=st.lists(st.lists(_symbol, min_size=1, max_size=3), min_size=1, max_size=12),
    junk=st.lists(_invisible, min_size=64, max_size=64),
    spaces=st.lists(_space, min_size=64, max_size=64),
    crlf=st.booleans(),
)
def test_invisible_characters_never_change_the_genes(rows, junk, spaces, crlf):
    symbols = [s for row in rows for s in row]
    k = iter(range(10**6))
    lines = []
    for row in rows:
        parts = []
        for s in row:
            cut = len(s) // 2
            parts.append(s[:cut] + junk[next(k) % 64] + s[cut:])
        lines.append(spaces[next(k) % 64].join(parts))
    text = ("\r\n" if crlf else "\n").join(lines)
    gl = parse_gene_text(text)
    if rows[0][0] in {"GENE", "GENES", "SYMBOL", "ID", "NAME"}:
        return  # a header word first: skipped by design
    assert gl.genes == list(dict.fromkeys(symbols))
    assert gl.invalid == []
