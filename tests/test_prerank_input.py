"""Reading signatures from differential-expression tables, and matching them to libraries.

The reference in every test is prerank on the plain (gene, score) pairs: a DESeq2, limma,
edgeR or Seurat table whose statistic column holds those scores, surrounded by decoy
columns (baseMean, p-values, ...), must give exactly the same result. Tables are written
here the way R (write.csv, write.table) and pandas write them. Identifier conversion is
checked against the HGNC table in ../shared/data/mapping, read with the csv module.
"""

from __future__ import annotations

import csv
import gzip
from functools import lru_cache

import numpy as np
import pandas as pd
import pytest
from conftest import SHARED, requires_shared

from gsea_plus.errors import InputError
from gsea_plus.prerank import (
    Signature,
    match_signature,
    prerank,
    prerank_table,
    read_signature,
)

N_GENES = 1200


def synthetic(seed: int = 0) -> tuple[list[str], np.ndarray, dict[str, list[str]]]:
    """Genes (names no ID map knows), scores, and a library with planted UP/DOWN terms."""
    rng = np.random.default_rng(seed)
    genes = [f"SYN{i:04d}X" for i in range(N_GENES)]
    scores = rng.normal(size=N_GENES) * 3
    order = np.argsort(-scores)
    lib = {f"R{i}": [genes[j] for j in rng.choice(N_GENES, 25, replace=False)] for i in range(30)}
    lib["UP"] = [genes[j] for j in rng.choice(order[:150], 25, replace=False)]
    lib["DOWN"] = [genes[j] for j in rng.choice(order[-150:], 25, replace=False)]
    return genes, scores, lib


def run(signature, lib, **kwargs) -> pd.DataFrame:
    return prerank(signature, lib, permutations=200, seed=3, **kwargs)


def r_number(x: float) -> str:
    return "NA" if not np.isfinite(x) else repr(float(x))


def write_r_table(
    path,
    row_names: list[str],
    columns: dict[str, np.ndarray],
    *,
    style: str = "write.csv",
) -> None:
    """A data frame with row names as R writes it.

    write.csv: comma, quoted text, first header field ""; write.table-tab: tab, no quotes,
    the header one field short (no name for the row names); write.table: R's defaults,
    space-separated, quoted, the header one field short.
    """
    names = list(columns)
    rows = list(zip(*columns.values(), strict=True))
    if style == "write.csv":
        lines = [",".join(['""', *(f'"{n}"' for n in names)])]
        lines += [
            ",".join([f'"{g}"', *map(r_number, r)]) for g, r in zip(row_names, rows, strict=True)
        ]
    elif style == "write.table-tab":
        lines = ["\t".join(names)]
        lines += ["\t".join([g, *map(r_number, r)]) for g, r in zip(row_names, rows, strict=True)]
    elif style == "write.table":
        lines = [" ".join(f'"{n}"' for n in names)]
        lines += [
            " ".join([f'"{g}"', *map(r_number, r)]) for g, r in zip(row_names, rows, strict=True)
        ]
    else:
        raise ValueError(style)
    path.write_text("\n".join(lines) + "\n")


def deseq2_columns(scores: np.ndarray, rng, *, stat: bool = True) -> dict[str, np.ndarray]:
    """DESeq2 results() columns whose ``stat`` is ``scores``; the others are decoys that
    would rank the genes differently (baseMean is what issue 11's run took)."""
    n = len(scores)
    cols = {
        "baseMean": rng.uniform(5, 5e4, n),
        "log2FoldChange": scores / 4 + rng.normal(scale=1.0, size=n),
        "lfcSE": rng.uniform(0.1, 0.5, n),
        "stat": scores,
        "pvalue": rng.uniform(size=n),
        "padj": np.where(rng.uniform(size=n) < 0.1, np.nan, rng.uniform(size=n)),
    }
    if not stat:
        del cols["stat"]
    return cols


def with_na_rows(genes, columns, k: int = 4):
    """Append ``k`` genes with no counts: DESeq2 gives them baseMean 0 and NA elsewhere."""
    genes = [*genes, *(f"ZERO{i}X" for i in range(k))]
    out = {}
    for name, values in columns.items():
        fill = 0.0 if name == "baseMean" else np.nan
        out[name] = np.concatenate([values, np.full(k, fill)])
    return genes, out


# --------------------------------------------------------------------------- DESeq2


@pytest.mark.parametrize("style", ["write.csv", "write.table-tab", "write.table"])
def test_deseq2_table_gives_the_result_of_its_stat_column(tmp_path, style):
    genes, scores, lib = synthetic()
    rng = np.random.default_rng(1)
    all_genes, cols = with_na_rows(genes, deseq2_columns(scores, rng))
    path = tmp_path / "deseq2.csv"
    write_r_table(path, all_genes, cols, style=style)

    sig = read_signature(path)
    assert sig.source.kind == "DESeq2"
    assert (sig.source.score_column, sig.source.score_position) == ("stat", 5)
    assert sig.source.gene_position == 1
    assert sig.source.rows == N_GENES + 4 and sig.source.missing == 4
    plain = Signature.from_pairs(zip(genes, scores, strict=True))
    assert sig.genes.tolist() == plain.genes.tolist()
    np.testing.assert_array_equal(sig.scores, plain.scores)

    expected = run(dict(zip(genes, scores, strict=True)), lib)
    pd.testing.assert_frame_equal(run(path, lib), expected)
    assert set(expected["Term"].head(2)) == {"UP", "DOWN"}
    # the issue: baseMean as the score ranks other terms first
    by_base_mean = run(dict(zip(all_genes, cols["baseMean"], strict=True)), lib)
    assert not by_base_mean["NES"].equals(expected["NES"])


def test_deseq2_without_stat_or_with_an_unsigned_stat_uses_log2_fold_change(tmp_path):
    genes, scores, lib = synthetic()
    rng = np.random.default_rng(2)
    shrunk = deseq2_columns(scores, rng, stat=False)  # lfcShrink output
    path = tmp_path / "shrunk.tsv"
    write_r_table(path, genes, shrunk, style="write.table-tab")
    sig = read_signature(path)
    assert sig.source.kind == "DESeq2" and sig.source.score_column == "log2FoldChange"
    assert "lfcShrink" in sig.source.note
    pd.testing.assert_frame_equal(
        run(path, lib), run(dict(zip(genes, shrunk["log2FoldChange"], strict=True)), lib)
    )
    lrt = deseq2_columns(scores, rng)
    lrt["stat"] = lrt["stat"] ** 2  # a likelihood-ratio statistic is never negative
    write_r_table(path, genes, lrt, style="write.table-tab")
    sig = read_signature(path)
    assert sig.source.score_column == "log2FoldChange" and "never negative" in sig.source.note


def test_pandas_and_pydeseq2_frames(tmp_path):
    genes, scores, lib = synthetic()
    frame = pd.DataFrame(deseq2_columns(scores, np.random.default_rng(3)), index=genes)
    expected = run(dict(zip(genes, scores, strict=True)), lib)
    # a DataFrame, as pydeseq2's DeseqStats.results_df (index: genes)
    pd.testing.assert_frame_equal(run(frame, lib), expected)
    # written by pandas: the index's column has an empty name
    path = tmp_path / "results.csv"
    frame.to_csv(path)
    assert read_signature(path).source.score_column == "stat"
    pd.testing.assert_frame_equal(run(path, lib), expected)
    # without the index, a gene column and pandas' row numbers
    frame.index.name = "gene_id"
    frame.reset_index().to_csv(path)  # an unnamed 0, 1, 2, ... column first
    sig = read_signature(path)
    assert sig.source.gene_column == "gene_id" and sig.source.score_column == "stat"
    pd.testing.assert_frame_equal(run(path, lib), expected)


# --------------------------------------------------------------------------- limma, edgeR, Seurat


def test_limma_top_table_uses_t(tmp_path):
    genes, scores, lib = synthetic()
    rng = np.random.default_rng(4)
    cols = {
        "logFC": scores / 3 + rng.normal(size=N_GENES),
        "AveExpr": rng.uniform(2, 14, N_GENES),
        "t": scores,
        "P.Value": rng.uniform(size=N_GENES),
        "adj.P.Val": rng.uniform(size=N_GENES),
        "B": rng.normal(size=N_GENES),
    }
    expected = run(dict(zip(genes, scores, strict=True)), lib)
    path = tmp_path / "limma.tsv"
    write_r_table(path, genes, cols, style="write.table-tab")  # row names
    assert read_signature(path).source.kind == "limma"
    pd.testing.assert_frame_equal(run(path, lib), expected)
    # topTable(..., genelist=) or write.table(row.names=FALSE): an ID column
    with_id = tmp_path / "limma_id.tsv"
    pd.DataFrame({"ID": genes, **cols}).to_csv(with_id, sep="\t", index=False)
    sig = read_signature(with_id)
    assert (sig.source.kind, sig.source.score_column, sig.source.gene_column) == (
        "limma",
        "t",
        "ID",
    )
    pd.testing.assert_frame_equal(run(with_id, lib), expected)


@pytest.mark.parametrize("test_column", ["LR", "F", None])
def test_edger_top_tags_uses_log_fc_and_says_why(tmp_path, test_column):
    genes, scores, lib = synthetic()
    rng = np.random.default_rng(5)
    cols = {"logFC": scores, "logCPM": rng.uniform(0, 10, N_GENES)}
    if test_column:  # glmLRT / glmQLFTest; exactTest has neither
        cols[test_column] = rng.uniform(0, 50, N_GENES)
    cols |= {"PValue": rng.uniform(size=N_GENES), "FDR": rng.uniform(size=N_GENES)}
    path = tmp_path / "edger.csv"
    write_r_table(path, genes, cols)
    sig = read_signature(path)
    assert (sig.source.kind, sig.source.score_column) == ("edgeR", "logFC")
    assert "no signed statistic" in sig.source.note
    assert "no signed statistic" in sig.source.describe()
    pd.testing.assert_frame_equal(run(path, lib), run(dict(zip(genes, scores, strict=True)), lib))


def test_seurat_find_markers_uses_avg_log2fc_and_refuses_several_clusters(tmp_path):
    genes, scores, lib = synthetic()
    rng = np.random.default_rng(6)
    cols = {
        "p_val": rng.uniform(size=N_GENES),
        "avg_log2FC": scores,
        "pct.1": rng.uniform(size=N_GENES),
        "pct.2": rng.uniform(size=N_GENES),
        "p_val_adj": rng.uniform(size=N_GENES),
    }
    path = tmp_path / "markers.csv"
    write_r_table(path, genes, cols)
    sig = read_signature(path)
    assert (sig.source.kind, sig.source.score_column) == ("Seurat", "avg_log2FC")
    pd.testing.assert_frame_equal(run(path, lib), run(dict(zip(genes, scores, strict=True)), lib))
    # FindAllMarkers: one table, several comparisons
    both = pd.DataFrame(cols).assign(cluster=["0"] * 600 + ["1"] * 600, gene=genes)
    both.to_csv(path)
    with pytest.raises(InputError, match="FindAllMarkers table with 2 clusters"):
        read_signature(path)


def test_scanpy_rank_genes_groups_uses_scores(tmp_path):
    genes, scores, lib = synthetic()
    rng = np.random.default_rng(10)
    frame = pd.DataFrame(
        {
            "group": "0",
            "names": genes,
            "scores": scores,
            "logfoldchanges": scores / 2 + rng.normal(size=N_GENES),
            "pvals": rng.uniform(size=N_GENES),
            "pvals_adj": rng.uniform(size=N_GENES),
        }
    )
    path = tmp_path / "scanpy.csv"
    frame.to_csv(path)  # pandas' row numbers first
    sig = read_signature(path)
    assert (sig.source.kind, sig.source.score_column, sig.source.gene_column) == (
        "scanpy",
        "scores",
        "names",
    )
    pd.testing.assert_frame_equal(run(path, lib), run(dict(zip(genes, scores, strict=True)), lib))
    frame.assign(group=["0", "1"] * (N_GENES // 2)).to_csv(path)
    with pytest.raises(InputError, match="2 groups"):
        read_signature(path)


# --------------------------------------------------------------------------- choosing columns


def test_an_ambiguous_table_is_refused_with_its_columns_listed(tmp_path):
    genes, scores, _ = synthetic()
    rng = np.random.default_rng(7)
    path = tmp_path / "mixed.tsv"
    pd.DataFrame(
        {"gene": genes, "effect": scores, "mean_expr": rng.uniform(size=N_GENES), "q": 0.5}
    ).to_csv(path, sep="\t", index=False)
    with pytest.raises(InputError) as err:
        read_signature(path)
    message = str(err.value)
    assert "--score" in message and "several numeric columns" in message
    for column in ("1 gene", "2 effect", "3 mean_expr", "4 q"):
        assert column in message
    # one numeric column beside the genes is not ambiguous
    one = tmp_path / "one.csv"
    pd.DataFrame({"symbol": genes, "note": "x", "effect": scores}).to_csv(one, index=False)
    sig = read_signature(one)
    assert (sig.source.score_column, sig.source.gene_column) == ("effect", "symbol")


def test_score_and_gene_column_by_name_or_number(tmp_path):
    genes, scores, lib = synthetic()
    rng = np.random.default_rng(8)
    path = tmp_path / "mixed.tsv"
    pd.DataFrame(
        {
            "description": "a gene",
            "mean_expr": rng.uniform(size=N_GENES),
            "effect": scores,
            "name": genes,
        }
    ).to_csv(path, sep="\t", index=False)
    expected = run(dict(zip(genes, scores, strict=True)), lib)
    by_name = read_signature(path, score="effect")
    assert by_name.source.gene_column == "name"  # a gene-like header beats the first text column
    for score in ("effect", "EFFECT", 3, "3"):
        pd.testing.assert_frame_equal(run(path, lib, score=score), expected)
    pd.testing.assert_frame_equal(run(path, lib, score=3, gene_column=4), expected)
    pd.testing.assert_frame_equal(run(path, lib, score="effect", gene_column="name"), expected)
    with pytest.raises(InputError, match=r"--score 'pvalue' is not a column; columns: 1 desc"):
        read_signature(path, score="pvalue")
    with pytest.raises(InputError, match="--score 9: the table has columns 1-4"):
        read_signature(path, score=9)
    with pytest.raises(InputError, match=r"line 2: the score column 'description' .* not a number"):
        read_signature(path, score=1)
    with pytest.raises(InputError, match="the gene and score columns are the same"):
        read_signature(path, score=3, gene_column="effect")
    # R's row names are column 1
    r_path = tmp_path / "r.csv"
    write_r_table(r_path, genes, {"other": rng.normal(size=N_GENES), "effect": scores})
    pd.testing.assert_frame_equal(run(r_path, lib, score=3), expected)
    assert read_signature(r_path, score="effect", gene_column="row names").source.gene_position == 1


def test_two_column_files_read_as_before_and_drop_na_scores(tmp_path):
    genes, scores, lib = synthetic()
    path = tmp_path / "sig.csv"
    path.write_text(
        "0,1\n" + "".join(f"{g},{s!r}\n" for g, s in zip(genes, scores.tolist(), strict=True))
    )
    expected = run(dict(zip(genes, scores, strict=True)), lib)
    pd.testing.assert_frame_equal(run(path, lib), expected)
    assert read_signature(path).source.kind == "two-column"
    # --score on a two-column file: the same (a header of numbers is still a header)
    pd.testing.assert_frame_equal(run(path, lib, score=2), expected)
    # fields split at spaces, with a comment at the end of a line
    spaced = tmp_path / "spaced.txt"
    spaced.write_text("gene score\nA 1.5  # the best\nB -2\nC 0.5\n")
    assert read_signature(spaced).genes.tolist() == ["A", "C", "B"]
    na = tmp_path / "na.tsv"
    na.write_text("gene\tscore\nA\t1\nB\tNA\nC\t-2\nD\t\nE\tnan\n")
    sig = read_signature(na)
    assert sig.genes.tolist() == ["A", "C"] and sig.source.missing == 3


def test_quoted_fields_comments_crlf_and_ragged_rows(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(
        '# exported by hand\r\n"gene","label","score","other"\r\n'
        '"A","x, y",1.5,3\r\n"B","say ""hi""",-2,4\r\n"C","",NA,5\r\n'
    )
    sig = read_signature(path, score="score")
    assert sig.genes.tolist() == ["A", "B"] and sig.source.missing == 1
    path.write_text("gene,a,b\nA,1,2\nB,3\n")
    with pytest.raises(InputError, match="line 3: 2 fields where the table has 3"):
        read_signature(path, score="a")


# --------------------------------------------------------------------------- identifiers

MAPPING = SHARED / "mapping"


@lru_cache(maxsize=1)
def hgnc_rows() -> tuple[dict[str, str], ...]:
    with gzip.open(MAPPING / "hgnc_complete_set.subset.tsv.gz", "rt", encoding="utf-8") as fh:
        return tuple(csv.DictReader(fh, delimiter="\t"))


def _approved_ids(column: str) -> dict[str, str]:
    """Approved symbol -> its one ID in ``column`` (IDs shared by two symbols left out)."""
    ids: dict[str, str] = {}
    owners: dict[str, int] = {}
    for row in hgnc_rows():
        value = row[column]
        if row["status"] == "Approved" and value and "|" not in value:
            ids[row["symbol"]] = value
            owners[value] = owners.get(value, 0) + 1
    return {s: i for s, i in ids.items() if owners[i] == 1}


@requires_shared
def test_ensembl_row_names_with_versions_convert_to_the_symbols_result(tmp_path):
    from gsea_plus.library import load_library

    hallmark = load_library("Hallmark", offline=True)
    ensembl = _approved_ids("ensembl_gene_id")
    genes = [g for g in sorted(hallmark.gene_index) if g in ensembl][:2500]
    rng = np.random.default_rng(9)
    scores = rng.normal(size=len(genes))
    emt = set(next(s.genes for s in hallmark.gene_sets() if "Mesenchymal" in s.term))
    scores[[i for i, g in enumerate(genes) if g in emt]] += 1.5  # something to find
    row_names = [f"{ensembl[g]}.{i % 19 + 1}" for i, g in enumerate(genes)]
    path = tmp_path / "deseq2_ensembl.csv"
    write_r_table(path, row_names, deseq2_columns(scores, rng))

    expected, _ = prerank_table(
        dict(zip(genes, scores, strict=True)), "Hallmark", offline=True, permutations=300
    )
    result, info = prerank_table(path, "Hallmark", offline=True, permutations=300)
    pd.testing.assert_frame_equal(result, expected)
    assert result["Term"].iloc[0] == "Epithelial Mesenchymal Transition"
    (row,) = info.per_library
    assert row["match"].conversion.counts() == {"Ensembl": len(genes)}
    assert row["recognized"] == len(genes)
    assert row["match"].signature.genes.tolist() != info.signature.genes.tolist()


@requires_shared
def test_entrez_ids_and_duplicates_keep_the_largest_absolute_score():
    entrez = _approved_ids("entrez_id")
    universe = {g: 0 for g in ("TP53", "MDM2", "CDKN1A", "ATM", "BAX")}
    # TP53 three times: by symbol, by Ensembl (two versions); MDM2 by Entrez and symbol
    sig = read_signature(
        [
            ("TP53", 2.0),
            ("ENSG00000141510.16", -5.0),
            ("ENSG00000141510.17", 4.0),
            (entrez["MDM2"], 1.0),
            ("MDM2", -0.5),
            (entrez["CDKN1A"], 3.0),
            ("ATM", 0.25),
        ]
    )
    match = match_signature(sig, universe)
    got = dict(zip(match.signature.genes.tolist(), match.signature.scores.tolist(), strict=True))
    assert got == {"TP53": -5.0, "MDM2": 1.0, "CDKN1A": 3.0, "ATM": 0.25}
    assert sorted(match.collapsed) == ["MDM2", "TP53"]
    assert match.conversion.counts() == {"Ensembl": 2, "Entrez": 2}
    assert "2 genes given by several identifiers: kept the largest |score|" in match.summary()
    assert np.all(np.diff(match.signature.scores) <= 0)
    assert match.recognized == 4


def test_identifiers_the_library_holds_stay_and_mouse_symbols_convert():
    # a custom library whose own names look like aliases: they stay (as for gene lists)
    sig = read_signature({"P53": 3.0, "Trp53": 1.0, "Cdkn1a": -2.0, "XYZ1": 0.5})
    kept = match_signature(sig, {"P53": 0, "XYZ1": 0})
    assert "P53" in kept.signature.genes.tolist()
    sig = read_signature({"Trp53": 1.0, "Cdkn1a": -2.0, "Xyz1": 0.5})
    mouse = match_signature(sig, {"TP53": 0, "CDKN1A": 0}, species="mouse")
    got = dict(zip(mouse.signature.genes.tolist(), mouse.signature.scores.tolist(), strict=True))
    assert got["TP53"] == 1.0 and got["CDKN1A"] == -2.0
    with pytest.raises(InputError, match="species must be one of"):
        prerank(sig, {"T": ["TP53", "CDKN1A"]}, species="rat")


def test_mouse_hint_is_given_once(caplog):
    genes = ["Trp53", "Cdkn1a", "Mdm2", "Bax", "Gadd45a", "Ccng1", "Sesn2", "Zmat3"]
    sig = dict(zip(genes, np.linspace(3, -3, len(genes)), strict=True))
    lib = {"p53": ["TP53", "CDKN1A", "MDM2", "BAX", "GADD45A"], "other": ["CCNG1", "SESN2"]}
    with caplog.at_level("WARNING", logger="gsea_plus"):
        prerank(sig, [lib, lib], min_size=2, permutations=100)
    hints = [r for r in caplog.records if "look like mouse" in r.getMessage()]
    assert len(hints) == 1 and "--species mouse" in hints[0].getMessage()


def test_prerank_options_are_keyword_only_and_documented():
    import inspect

    params = inspect.signature(prerank).parameters
    for name in ("score", "gene_column", "species", "hgnc", "offline", "permutations"):
        assert params[name].kind is inspect.Parameter.KEYWORD_ONLY
        assert f"\n    {name}" in prerank.__doc__ or f", {name}" in prerank.__doc__, name
    with pytest.raises(InputError, match="not a Signature"):
        prerank(Signature.from_pairs([("A", 1.0), ("B", 2.0)]), {"T": ["A"]}, score="x")
