"""Corpus building on small synthetic GMT files and mapping tables written by the test."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from gsea_plus.library.gmt import GeneSet, read_gmt, write_gmt
from gsea_plus.model.corpus import Exclusions, build_corpus, build_vocab, source_counts


def _genes(prefix: str, n: int, start: int = 0) -> list[str]:
    return [f"{prefix}{i}" for i in range(start, start + n)]


@pytest.fixture
def training(tmp_path: Path) -> Path:
    root = tmp_path / "training"
    (root / "libA").mkdir(parents=True)
    (root / "libB").mkdir()
    (root / "msig_Mm").mkdir()
    universe = _genes("GENE", 30)
    write_gmt(
        [
            GeneSet("keep_lower", "", tuple(g.lower() for g in universe[:12])),  # case
            GeneSet("too_small", "", tuple(universe[:10])),  # size 10: not > 10
            GeneSet("alias", "", ("OLDNAME", *universe[1:12])),  # OLDNAME -> GENE0
            GeneSet("dup_of_keep", "", tuple(universe[:12])),  # duplicate after mapping
            GeneSet("too_big", "", tuple(_genes("GENE", 30))),  # with max_size=25
            GeneSet("junk_ids", "", (*universe[10:22], "PROBE_123", "LOC999")),
        ],
        root / "libA" / "A.gmt.gz",
    )
    write_gmt([GeneSet("b1", "", tuple(universe[5:20]))], root / "libB" / "Bench.gmt")
    write_gmt([GeneSet("b2", "", tuple(universe[8:20]))], root / "libB" / "Other.gmt")
    mouse = [m.capitalize() for m in _genes("gene", 14)]  # Gene0..Gene13
    write_gmt(
        [
            GeneSet("MOUSE_KEEP", "M2:CGP|pmid=1", tuple(mouse)),
            GeneSet("MOUSE_PATHWAY", "M2:CP:KEGG|pmid=2", tuple(mouse[1:])),
            GeneSet("MOUSE_GO", "M5:GO:BP", tuple(mouse[2:])),
        ],
        root / "msig_Mm" / "msigdb.Mm.symbols.gmt.gz",
    )
    (root / "EXCLUDE.txt").write_text(
        "# comment\nlibB/Bench.gmt\nmsig_Mm:M2:CP\nmsig_Mm:M5:\n", encoding="utf-8"
    )
    mapping = tmp_path / "mapping"
    mapping.mkdir()
    rows = ["hgnc_id\tsymbol\tname\tlocus_group\tstatus\talias_symbol\tprev_symbol"]
    for i, g in enumerate(universe):
        prev = "OLDNAME" if g == "GENE0" else ""
        rows.append(f"HGNC:{i}\t{g}\tgene {i}\tprotein-coding gene\tApproved\t\t{prev}")
    (mapping / "hgnc.tsv").write_text("\n".join(rows) + "\n")
    ortho = ["human_symbol\thuman_entrez\tmouse_symbol\tmouse_entrez"]
    ortho += [f"GENE{i}\t{i}\tGene{i}\t{100 + i}" for i in range(14)]
    (mapping / "ortho.tsv.gz").write_bytes(gzip.compress(("\n".join(ortho) + "\n").encode()))
    return root


def test_corpus_filters_maps_and_tags(training: Path):
    mapping = training.parent / "mapping"
    corpus = build_corpus(
        [training],
        hgnc=mapping / "hgnc.tsv",
        orthologs=mapping / "ortho.tsv.gz",
        exclude=training / "EXCLUDE.txt",
        max_size=25,
    )
    by_term = {s.term: s for s in corpus.sets}
    # upper-cased, exact duplicates (after alias mapping) dropped, size filter both ways
    assert by_term["keep_lower"].genes == tuple(_genes("GENE", 12))
    assert "dup_of_keep" not in by_term and "alias" not in by_term
    assert "too_small" not in by_term and "too_big" not in by_term
    assert corpus.stats.duplicates == 2 and corpus.stats.size_filtered == 2
    # non-HGNC identifiers are dropped
    assert by_term["junk_ids"].genes == tuple(_genes("GENE", 12, 10))
    # EXCLUDE: a whole file, and mouse categories by description prefix
    assert "b1" not in by_term and "b2" in by_term
    assert "libB/Bench.gmt" in corpus.stats.excluded_files
    assert "MOUSE_PATHWAY" not in by_term and "MOUSE_GO" not in by_term
    assert corpus.stats.excluded_sets == 2
    # mouse symbols mapped through the ortholog table; the source tag carries the category
    assert by_term["MOUSE_KEEP"].genes == tuple(_genes("GENE", 14))
    assert by_term["MOUSE_KEEP"].description == "msig_Mm:M2:CGP"
    assert by_term["b2"].description == "libB/Other"
    assert source_counts(corpus.sets) == {"libA/A": 2, "libB/Other": 1, "msig_Mm:M2:CGP": 1}


def test_alias_mapping_makes_duplicates(training: Path, tmp_path: Path):
    # without the HGNC table OLDNAME stays, so "alias" is not a duplicate of "keep_lower"
    corpus = build_corpus([training / "libA"], max_size=25)
    assert "alias" in {s.term for s in corpus.sets}
    assert "OLDNAME" in next(s for s in corpus.sets if s.term == "alias").genes


def test_no_exclude_keeps_everything(training: Path):
    corpus = build_corpus([training], exclude=None, max_size=25)
    terms = {s.term for s in corpus.sets}
    assert {"b1", "MOUSE_GO", "MOUSE_PATHWAY"} <= terms


def test_vocab_min_sets():
    sets = [GeneSet(f"s{i}", "", ("A", "B") if i < 5 else ("A",)) for i in range(6)]
    sets.append(GeneSet("c", "", ("C",)))
    vocab = build_vocab(sets, min_sets=5)
    assert vocab == ["<unk>", "<pad>", "A", "B"]


def test_exclusions_parse(tmp_path: Path):
    p = tmp_path / "EXCLUDE.txt"
    p.write_text("a/b.gmt.gz\n# x\nmsig_Mm:M5:\n\n")
    ex = Exclusions.read(p)
    assert ex.excludes_file("a/b.gmt.gz") and ex.excludes_file("root/a/b.gmt.gz")
    assert not ex.excludes_file("a/bb.gmt.gz")
    assert ex.category_prefixes("msig_Mm/x.gmt.gz") == ["M5:"]


def test_cli_corpus(training: Path, tmp_path: Path):
    from typer.testing import CliRunner

    from gsea_plus.cli import app

    out = tmp_path / "corpus.gmt.gz"
    result = CliRunner().invoke(
        app,
        [
            "model",
            "corpus",
            str(training),
            "-o",
            str(out),
            "--hgnc",
            str(training.parent / "mapping" / "hgnc.tsv"),
            "--orthologs",
            str(training.parent / "mapping" / "ortho.tsv.gz"),
            "--max-size",
            "25",
        ],
    )
    assert result.exit_code == 0, result.output
    terms = {s.term for s in read_gmt(out)}
    assert terms == {"keep_lower", "junk_ids", "b2", "MOUSE_KEEP"}  # EXCLUDE.txt by default
