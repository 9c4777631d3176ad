"""Evidence a biologist can read (issue 13): genes no library holds yet, the Evidence
column, empty Odds Ratio / Combined Score where they mean nothing, the model test's
background in the summary."""

from __future__ import annotations

import json

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests
from toy import toy_setup

import gsea_plus
from gsea_plus.api import enrich_table
from gsea_plus.engine import COLUMNS, match_lists, score_lists
from gsea_plus.evidence import (
    EVIDENCE,
    MODEL_COLUMNS,
    MODEL_ONLY_CAPTION,
    classical_weights,
    model_table,
    prediction_test,
)
from gsea_plus.genes import GeneList
from gsea_plus.options import MODEL_TESTS, ModelOptions
from gsea_plus.output import frame_to_bytes

SETS = {
    "ferro": ["ACSL4", "GPX4", "SLC7A11", "TFRC", "FTH1", "HMOX1", "NCOA4", "SLC3A2"],
    "cycle": ["CDK1", "CCNB1", "CDC20", "PLK1", "BUB1", "AURKA", "CCNA2", "MAD2L1"],
    "immune": ["CD3E", "CD4", "CD8A", "LCK", "ZAP70", "CD28", "IL2", "IFNG"],
}
#: Known to the bundled model, in no term of SETS.
UNANNOTATED = ["ALOX15", "AIFM2", "LPCAT3", "GCH1", "DHODH"]


@pytest.fixture
def toy():
    return toy_setup()


# ---------------------------------------------------------------- genes no library holds


def test_a_model_mode_list_with_no_library_gene_is_tested_not_refused():
    df = gsea_plus.enrich(UNANNOTATED, SETS, rank="embedding")
    assert len(df) == len(SETS)
    assert (df["Overlap Size"] == 0).all() and (df["Evidence"] == "model").all()
    # no list gene in the library: the classical weight is 0, the model's p is the p
    np.testing.assert_allclose(df["P-value"], df["Model P-value"], rtol=1e-12)
    assert df["Odds Ratio"].isna().all() and df["Combined Score"].isna().all()
    # the same list through the batch API: rows, not an error
    many = gsea_plus.enrich_many({"new": UNANNOTATED}, library=SETS, rank="embedding")
    np.testing.assert_allclose(
        many.sort_values("Term")["P-value"].to_numpy(), df.sort_values("Term")["P-value"]
    )


def test_classical_mode_still_refuses_a_list_with_no_library_gene():
    with pytest.raises(gsea_plus.GseaPlusError, match="none of the 5 input genes is in"):
        gsea_plus.enrich(UNANNOTATED, SETS)
    with pytest.raises(gsea_plus.GseaPlusError, match="no gene of any list is in"):
        gsea_plus.enrich_many({"new": UNANNOTATED}, library=SETS)


def test_a_list_neither_the_library_nor_the_model_knows_is_an_input_error():
    junk = ["NOTAGENE1", "NOTAGENE2"]
    with pytest.raises(gsea_plus.GseaPlusError, match="nor known to the gene set model"):
        gsea_plus.enrich(junk, SETS, rank="embedding")
    with pytest.raises(gsea_plus.GseaPlusError, match="nor known to the gene set model"):
        gsea_plus.enrich_many({"junk": junk}, library=SETS, augment=5)


def test_the_summary_states_the_model_tests_background(caplog):
    genes = ["ACSL4", "GPX4", *UNANNOTATED]
    with caplog.at_level("WARNING"):
        _, info = enrich_table(genes, SETS, rank="embedding")
    (lib,) = info.per_library
    assert lib["recognized"] == 2 and lib["model_recognized"] == 7
    assert lib["model_only_genes"] == sorted(UNANNOTATED)
    assert lib["model_test"] == "combined" and lib["model_null"] == MODEL_TESTS["combined"].null
    from gsea_plus.model import load_model

    n_vocab = len(load_model().vocab)
    assert lib["model_background_size"] == n_vocab
    n_lib = len({g for s in SETS.values() for g in s})
    assert lib["model_background"] == (
        f"{n_vocab} genes the model knows ({n_lib} in {lib['library']}, {n_vocab - n_lib} not)"
    )
    assert lib["model_background"] in lib["model_only_caption"]
    assert lib["model_only_caption"] == MODEL_ONLY_CAPTION.format(
        background=lib["model_background"]
    )
    # the genes only the model knows are not reported as "not tested"
    assert "not tested" not in caplog.text
    assert "the model knows them: the model test uses them" in caplog.text
    # a classical run says nothing of a model
    _, classical = enrich_table(genes, SETS)
    assert "model_background" not in classical.per_library[0]


def test_a_user_background_bounds_the_model_background(toy):
    lib, _, _ = toy
    from toy import TableScorer

    from gsea_plus.engine import prepare
    from gsea_plus.evidence import ModelView

    background = [f"G{i}" for i in range(0, 60)] + ["G110", "G111"]
    prepared = prepare(lib, background=background)
    view = ModelView.build(prepared, TableScorer([f"G{i}" for i in range(10, 120)]))
    vocab = view.scorer.vocab.tolist()
    inside = {vocab[i] for i in np.flatnonzero(view.model_background)}
    assert inside == {g for g in background if g in set(vocab)}
    # genes outside the user background are left out of the model test, as classically
    matches = match_lists(prepared, [GeneList(["G12", "G30", "G110", "G115"])])
    _, _, n_used = prediction_test(view, matches)
    assert n_used.max() == 3  # G12, G30 (outside most terms), G110; not G115


def test_classical_weights_are_the_library_share_of_the_known_genes(toy):
    lib, prepared, view = toy
    lists = [
        ["G12", "G30", "G55", "G70"],  # all in the library
        ["G12", "G30", "G105", "G110"],  # half only the model knows
        ["G101", "G102"],  # none in the library
        ["G12", "G3", "G5"],  # G3, G5 in the library but unknown to the model
    ]
    lib_genes = set(lib.genes.tolist())
    w = classical_weights(view, match_lists(prepared, [GeneList(g) for g in lists]))
    expected = []
    for genes in lists:
        a = sum(g in lib_genes for g in genes)
        b = sum(g not in lib_genes and g in set(view.scorer.vocab.tolist()) for g in genes)
        expected.append(0.95 * a / (a + b))
    np.testing.assert_allclose(w[:, 0], expected)


def test_prediction_p_values_are_calibrated_for_lists_of_unannotated_genes():
    """Random lists that mix library genes and genes only the model knows: p < a about a."""
    from toy import TableScorer

    from gsea_plus.engine import prepare
    from gsea_plus.evidence import ModelView
    from gsea_plus.library import GeneSetLibrary

    rng = np.random.default_rng(5)
    genes = [f"G{i}" for i in range(400)]
    sets = {
        f"T{t}": list(rng.choice(genes[:200], size=int(rng.integers(5, 30)), replace=False))
        for t in range(25)
    }
    lib = GeneSetLibrary.from_gene_sets("toy2", sets)
    prepared = prepare(lib)
    # a scorer that ranks library genes higher (a popularity prior), as real models do
    scorer = TableScorer(genes, seed=1)
    scorer.w[:, :200] += 0.2
    view = ModelView.build(prepared, scorer)
    lib_genes = lib.genes.tolist()
    other = [g for g in genes if g not in set(lib_genes)]  # the model-only stratum
    for n_lib, n_other in ((4, 4), (0, 8)):
        lists = []
        for _ in range(3000):
            a = [lib_genes[j] for j in rng.choice(len(lib_genes), n_lib, replace=False)]
            b = [other[j] for j in rng.choice(len(other), n_other, replace=False)]
            lists.append(a + b)
        matches = match_lists(prepared, [GeneList(g) for g in lists])
        _, log_p, n_used = prediction_test(view, matches)
        p = np.exp(log_p[n_used > 0])
        for a in (0.05, 0.2):
            assert 0.85 * a < (p < a).mean() < 1.15 * a
        assert (p < 0.01).mean() < 0.012  # the far tail is not anti-conservative


# ------------------------------------------------------------------ the Evidence column


def test_evidence_says_which_evidence_supports_each_row(toy):
    lib, prepared, view = toy
    matches = match_lists(prepared, [GeneList(["G12", "G30", "G55", "G70", "G101"])])
    scores = score_lists(prepared, matches)
    table, _, _ = model_table(view, scores, matches, ModelOptions())
    assert list(table) == COLUMNS + MODEL_COLUMNS
    assert set(table["Evidence"]) <= set(EVIDENCE)
    model_adj = multipletests(table["Model P-value"], method="fdr_bh")[1]
    for i in range(len(table["Term"])):
        if table["Overlap Size"][i] == 0:
            assert table["Evidence"][i] == "model"
            assert np.isnan(table["Odds Ratio"][i]) and np.isnan(table["Combined Score"][i])
        else:
            expected = "list+model" if model_adj[i] < 0.05 else "list"
            assert table["Evidence"][i] == expected
            # Enrichr's combined score from the list's own (classical) p and odds ratio
            assert table["Combined Score"][i] == pytest.approx(
                -np.log(table["Classical P-value"][i]) * table["Odds Ratio"][i], rel=1e-9
            )


def test_list_plus_model_when_the_model_alone_is_significant():
    """A term that holds list genes and whose prediction also ranks the rest high."""
    from gsea_plus.model import load_model

    model = load_model()
    genes = ["ACSL4", "GPX4", "SLC7A11", "TFRC", "HMOX1", "FTH1"]
    sets = {**SETS, "ferro_core": ["ACSL4", "GPX4", "SLC7A11"]}
    df = gsea_plus.enrich(genes, sets, rank="embedding", model=model)
    row = df.set_index("Term").loc["ferro_core"]
    assert row["Overlap Size"] == 3
    assert row["Evidence"] == ("list+model" if row["Model P-value"] * 4 < 0.05 else "list")


def test_output_writes_empty_cells_for_values_with_no_meaning():
    df = gsea_plus.enrich(["ACSL4", "GPX4", *UNANNOTATED], SETS, rank="embedding")
    header, *rows = frame_to_bytes(df, "tsv").decode().splitlines()
    names = header.split("\t")
    for line in rows:
        cells = dict(zip(names, line.split("\t"), strict=True))
        if cells["Evidence"] == "model":
            assert cells["Odds Ratio"] == "" and cells["Combined Score"] == ""
        else:
            assert float(cells["Odds Ratio"]) > 0
    records = json.loads(frame_to_bytes(df, "json"))
    assert any(r["Odds Ratio"] is None for r in records)
    # the batch writer writes the same text
    from gsea_plus.batch.writing import text_bytes

    table = {c: df[c].to_numpy() for c in df.columns}
    assert text_bytes(table, "tsv", header=True) == frame_to_bytes(df, "tsv")
    assert text_bytes(table, "csv", header=True) == frame_to_bytes(df, "csv")
