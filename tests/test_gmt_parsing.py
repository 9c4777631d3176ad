"""GMT rows end at newlines only; odd characters stay in names; duplicate terms merge.

Issue 10.8: rows were split at U+2028, NEL (0x85 in cp1252 files), form feed and lone
CR, cutting term names in two, and duplicate term names were kept silently.
"""

from __future__ import annotations

import logging
import subprocess

import pytest
from conftest import GSEA_PLUS_EXE, subprocess_env

from gsea_plus.errors import LibraryError
from gsea_plus.library import load_library
from gsea_plus.library.gmt import GeneSet, iter_gmt, parse_gmt_bytes, parse_gmt_text, write_gmt


def _warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.parametrize(
    "odd",
    ["\u2028", "\u2029", "\x85", "\x0c", "\r", "\x0b", "\x1c", "\x1d", "\x1e"],
    ids=["LS", "PS", "NEL", "FF", "CR", "VT", "FS", "GS", "RS"],
)
def test_line_separators_inside_a_term_never_split_the_row(odd, caplog):
    text = f"Apoptosis (caspases{odd}pathway)\tdesc\tBAX\tBCL2\nOther\t\tTP53\n"
    with caplog.at_level(logging.WARNING, logger="gsea_plus"):
        sets = parse_gmt_text(text, "odd.gmt")
    assert [s.term for s in sets] == [f"Apoptosis (caspases{odd}pathway)", "Other"]
    assert sets[0].genes == ("BAX", "BCL2")
    # kept, and reported once with the line number
    (warning,) = _warnings(caplog)
    assert "odd.gmt" in warning and "line 1" in warning and "kept" in warning


def test_crlf_rows_are_rows():
    sets = parse_gmt_text("A\td\tX\tY\r\nB\t\tZ\r\n")
    assert sets == [GeneSet("A", "d", ("X", "Y")), GeneSet("B", "", ("Z",))]


def test_iter_gmt_splits_the_same_way():
    assert [s.term for s in iter_gmt("A\u2028B\t\tX\nC\t\tY\n")] == ["A\u2028B", "C"]


def test_cp1252_file_keeps_its_ellipsis(tmp_path):
    # Excel on Windows writes cp1252: 0x85 is an ellipsis there, NEL in Latin-1
    path = tmp_path / "win.gmt"
    path.write_bytes(
        "Apoptosis (caspases\u2026)\t\tBAX\tBCL2\nCaf\xe9 set\t\tTP53\n".encode("cp1252")
    )
    lib = load_library(path)
    assert lib.terms.tolist() == ["Apoptosis (caspases\u2026)", "Caf\xe9 set"]


def test_bare_cr_line_ends_are_refused_with_a_clear_message():
    with pytest.raises(LibraryError, match="carriage return"):
        parse_gmt_bytes(b"A\t\tX\rB\t\tY\r", "mac.gmt")


def test_duplicate_terms_are_merged_with_a_warning_naming_lines(caplog):
    text = (
        "ABC transporters\tfirst\tABCA1\tABCB1\nOther\t\tTP53\nABC transporters\t\tABCB1\tABCC1\n"
    )
    with caplog.at_level(logging.WARNING, logger="gsea_plus"):
        sets = parse_gmt_text(text, "dup.gmt")
    assert sets == [
        GeneSet("ABC transporters", "first", ("ABCA1", "ABCB1", "ABCC1")),
        GeneSet("Other", "", ("TP53",)),
    ]
    (warning,) = _warnings(caplog)
    assert "'ABC transporters' (lines 1, 3)" in warning and "merged" in warning


def test_duplicates_can_be_kept_row_by_row():
    sets = parse_gmt_text("A\t\tX\nA\t\tY\n", merge_duplicates=False)
    assert [s.genes for s in sets] == [("X",), ("Y",)]


def test_duplicate_terms_reach_the_library_once(tmp_path):
    path = tmp_path / "dup.gmt"
    path.write_text("T\t\tA\tB\nT\t\tC\n")
    lib = load_library(path)
    assert lib.terms.tolist() == ["T"]
    assert lib.to_dict() == {"T": ["A", "B", "C"]}


@pytest.mark.parametrize(
    "text",
    [
        "<!DOCTYPE html>\n<html><body>\n<pre>\nT1\t\tA\tB\n</pre></body></html>\n",
        "<html>\nT1\t\tA\tB\n</html>\n",
        '{"T1": ["A", "B"]}',
        '[["T1", "", "A"]]\n',
    ],
    ids=["html", "html-bare", "json-object", "json-list"],
)
def test_documents_that_hold_tabs_are_not_libraries(text):
    with pytest.raises(LibraryError, match="not a GMT library"):
        parse_gmt_text(text, "page")


def test_a_term_starting_with_a_bracket_is_still_a_term():
    assert parse_gmt_text("[ABC] pathway\t\tX\n")[0].term == "[ABC] pathway"


def test_strict_mode_names_the_first_row_that_is_not_gmt():
    text = "T1\t\tA\tB\nthis is prose\nT2\t\tC\n"
    assert len(parse_gmt_text(text)) == 2  # lenient: skipped with a warning
    with pytest.raises(LibraryError, match="line 2: not a GMT row"):
        parse_gmt_text(text, strict=True)


def test_write_gmt_refuses_fields_that_would_not_read_back(tmp_path):
    with pytest.raises(LibraryError, match="tab or newline"):
        write_gmt([GeneSet("a\nb", "", ("X",))], tmp_path / "x.gmt")
    assert list(tmp_path.iterdir()) == []


def test_cli_reads_a_file_with_unicode_separators_as_the_user_wrote_it(tmp_path):
    gmt = tmp_path / "odd.gmt"
    gmt.write_bytes(
        "Apoptosis (caspases\u2028and more)\t\tG1\tG2\tG3\nT2\t\tG4\tG5\nT2\t\tG6\n".encode()
    )
    genes = tmp_path / "genes.txt"
    genes.write_text("G1\nG2\n")
    proc = subprocess.run(
        [str(GSEA_PLUS_EXE), "enrich", str(genes), "-l", str(gmt), "--format", "tsv"],
        capture_output=True,
        env=subprocess_env(),
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    out = proc.stdout.decode()
    assert "Apoptosis (caspases\u2028and more)" in out
    err = proc.stderr.decode()
    assert "merged" in err and "T2" in err  # the duplicate, reported on stderr


def test_split_rows_is_newline_only():
    from gsea_plus.textio import split_rows

    assert split_rows("a\u2028b\x0cc\rd\x85e\r\nf\n") == ["a\u2028b\x0cc\rd\x85e", "f", ""]
