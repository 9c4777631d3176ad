"""Terminal output that fits: every table rendered at 80 and 120 columns.

Every number a row shows is printed whole (never cut or wrapped), every term ID is whole,
no line is wider than the terminal, several libraries get a section each, and terms the
model found alone get their own section; ``libraries list`` and the batch summary show
whole names.
"""

from __future__ import annotations

import re

import pytest
from rich.console import Console, Group

import gsea_plus
from gsea_plus.api import enrich_table
from gsea_plus.data import example_gene_list
from gsea_plus.terminal import enrich_sections, fit_genes, fit_term, format_p

WIDTHS = (80, 120)


def render(renderables, width: int) -> str:
    console = Console(width=width, record=True, force_terminal=False, color_system=None)
    console.print(Group(*renderables))
    return console.export_text()


def _cells(text: str) -> str:
    """The table's text with frame characters and line breaks folded into spaces."""
    return " ".join(re.sub(r"[│┃┏┓┗┛┡┩└┘━─┳┻╇┴┬╋]", " ", text).split())


def _words_in(term: str, text: str) -> bool:
    """Whether a term is shown, its words in order (a narrow column wraps a long name)."""
    words = _cells(text).split()
    at = 0
    for word in term.split():
        try:
            at = words.index(word, at) + 1
        except ValueError:
            return False
    return True


@pytest.fixture(scope="module")
def example_results():
    # the bundled example list against both bundled libraries (no network)
    return enrich_table(str(example_gene_list()), ["GO_BP", "Hallmark"])


@pytest.mark.parametrize("width", WIDTHS)
def test_every_number_and_id_is_whole(example_results, width):
    table, info = example_results
    text = render(enrich_sections(table, width=width, top=8, libraries=info.per_library), width)
    assert max(len(line) for line in text.splitlines()) <= width
    flat = text.replace("\n", " ")
    shown = 0
    for lib in ("GO_Biological_Process_2023", "MSigDB_Hallmark_2020"):
        rows = [i for i, name in enumerate(table["Library"]) if name == lib][:8]
        for i in rows:
            shown += 1
            for value in (
                table["Overlap"][i],
                format_p(table["Adjusted P-value"][i]),
                format(table["Odds Ratio"][i], ".3g"),
            ):
                assert re.search(rf"(?<![\w.+-]){re.escape(value)}(?![\w.])", flat), (value, text)
            ident = re.search(r"\((GO:\d{7})\)$", str(table["Term"][i]))
            if ident:
                assert ident.group(1) in flat, (ident.group(1), text)
    assert shown == 16
    # one section per library, each titled
    assert "GO_Biological_Process_2023@" in text and "MSigDB_Hallmark_2020@" in text
    assert text.index("GO_Biological_Process_2023@") < text.index("MSigDB_Hallmark_2020@")


@pytest.mark.parametrize("width", WIDTHS)
def test_model_only_terms_get_their_own_section(width):
    table, info = enrich_table(str(example_gene_list()), "Hallmark", augment=20)
    text = render(enrich_sections(table, width=width, top=6, libraries=info.per_library), width)
    assert max(len(line) for line in text.splitlines()) <= width
    assert "terms found by the model alone" in text
    model_terms = [t for t, e in zip(table["Term"], table["Evidence"], strict=True) if e == "model"]
    listed = [t for t, e in zip(table["Term"], table["Evidence"], strict=True) if e != "model"]
    head, tail = text.split("terms found by the model alone", 1)
    assert _words_in(model_terms[0], tail) and model_terms[0] not in _cells(head)
    assert _words_in(listed[0], head)
    assert "Found by the gene set model" in _cells(tail)  # the caption says what it is
    for i in range(len(table["Term"])):
        if table["Evidence"][i] == "model":
            assert table["Odds Ratio"][i] != table["Odds Ratio"][i]  # NaN: no meaning
            break
    assert " nan " not in _cells(text)  # an empty cell, never "nan"


def test_compare_shows_both_ranks():
    table, info = enrich_table(str(example_gene_list()), "Hallmark", augment=10, compare=True)
    text = render(enrich_sections(table, width=120, top=5, compare=True), 120)
    assert "Class. rank" in text and "Model rank" in text


def test_fit_term_keeps_the_id_and_wraps_at_words():
    term = (
        "Positive Regulation Of Cysteine-Type Endopeptidase Activity Involved In "
        "Apoptotic Process (GO:0043280)"
    )
    for width in (16, 24, 40):
        text = fit_term(term, width)
        lines = text.split("\n")
        assert len(lines) <= 2 and all(len(line) <= width for line in lines)
        assert text.endswith("(GO:0043280)")
        for word in text.replace("\u2026", " ").split():  # whole words only (or one cut)
            assert word in term
    assert fit_term("Apoptosis", 30) == "Apoptosis"


def test_fit_genes_shows_whole_names_and_counts_the_rest():
    genes = [f"GENE{i:03d}" for i in range(50)]
    text = fit_genes(genes, 30)
    shown = re.findall(r"GENE\d{3}", text)
    rest = int(re.search(r"\+(\d+)", text).group(1))
    assert len(shown) + rest == 50
    assert all(len(line) <= 30 for line in re.sub(r"\[/?[a-z ]*\]", "", text).split("\n"))


@pytest.mark.parametrize("width", WIDTHS)
def test_libraries_list_shows_whole_names(width, run_cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", str(width))
    code, out, err = run_cli("libraries", "list", "-f", "table")
    assert code == 0, err
    text = out.decode()
    from gsea_plus.library.catalog import catalog

    for entry in catalog():
        assert entry.name in text, entry.name
    assert max(len(line) for line in text.splitlines()) <= width


@pytest.mark.parametrize("width", WIDTHS)
def test_batch_summary_names_are_whole(width, tmp_path, run_cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", str(width))
    lists = tmp_path / "lists.gmt"
    names = [f"contrast_treated_vs_control_timepoint_{i:02d}" for i in range(4)]
    lists.write_text("".join(f"{n}\t\tG1\tG2\tG3\n" for n in names))
    lib = tmp_path / "lib.gmt"
    lib.write_text("T1\t\tG1\tG2\tG3\tG4\nT2\t\tG3\tG5\tG6\n")
    code, _, err = run_cli("batch", lists, "-l", lib, "-o", tmp_path / "out.tsv")
    assert code == 0, err
    first_column = "".join(
        line.split("│")[1].strip() for line in err.splitlines() if line.count("│") > 2
    )
    for name in names:  # whole, each of its own (they may wrap, never cut to "contrast_…")
        assert name in first_column, err


def test_plain_model_rank_shows_no_predicted_mark():
    table = gsea_plus.enrich(str(example_gene_list()), "Hallmark", rank="embedding")
    text = render(enrich_sections(table, width=100, top=5), 100)
    assert "+0*" not in text
