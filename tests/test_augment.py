"""Model-based enrichment (--augment, --rank embedding): statistics against brute force,
p-values against scipy/statsmodels and simulation, tables, CLI and batch."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as st
from statsmodels.stats.multitest import multipletests
from toy import TableScorer, toy_setup

import gsea_plus
from gsea_plus.engine import COLUMNS, match_lists, prepare, score_lists
from gsea_plus.evidence import (
    MODEL_COLUMNS,
    ModelView,
    TermPredictions,
    combine_bonferroni,
    combine_fisher,
    model_table,
    prediction_test,
    random_matches,
)
from gsea_plus.evidence.statistics import _tail_fill
from gsea_plus.genes import GeneList
from gsea_plus.library import GeneSetLibrary
from gsea_plus.options import ModelOptions, model_options


@pytest.fixture
def toy():
    return toy_setup()


def _brute_prediction(view, genes, term):
    """Log-rank sum of the list's genes outside ``term`` in the term's own prediction,
    with the null mean, variance and third moment of the sum, stratum by stratum."""
    scorer = view.scorer
    vocab = scorer.vocab.tolist()
    index = {g: i for i, g in enumerate(vocab)}
    library = set(view.prepared.library.genes.tolist())
    own = [index[g] for g in view.prepared.library.term_genes(term) if g in index]
    scores = scorer.score_ids([np.array(own, dtype=int)])[0].astype(float)
    scores[own] = -np.inf
    order = np.argsort(-scores, kind="stable")
    rank = np.empty(len(vocab), dtype=int)
    rank[order] = np.arange(len(vocab))
    n_ranked = len(vocab) - len(own)
    value = -np.log((rank + 1.0) / n_ranked)
    used = [index[g] for g in genes if g in index and index[g] not in own]
    mean = var = third = 0.0
    for in_lib in (True, False):  # each list gene against its own stratum
        n = sum((vocab[i] in library) == in_lib for i in used)
        bg = [i for i, g in enumerate(vocab) if (g in library) == in_lib and i not in own]
        b = value[bg]
        mean += n * b.mean()
        var += n * b.var()
        third += n * ((b - b.mean()) ** 3).mean()
    return value[used].sum(), len(used), mean, var, third


def test_prediction_statistic_equals_brute_force_ranks(toy):
    lib, prepared, view = toy
    genes = ["G12", "G30", "G55", "G101", "G3"]  # G101 is outside the library, G3 unknown
    matches = match_lists(prepared, [GeneList(genes)], mapper=None)
    z, log_p, n_used = prediction_test(view, matches)
    for t in range(len(lib.terms)):
        total, n, mean, var, third = _brute_prediction(view, matches[0].genes, t)
        assert n_used[0, t] == n
        if n == 0:
            assert log_p[0, t] == 0.0
            continue
        assert z[0, t] == pytest.approx((total - mean) / math.sqrt(var), rel=1e-9)
        # Pearson type III: the skewness of the sum, matched by a shifted gamma
        skew = third / var**1.5
        ref = st.pearson3.logsf(total, skew, loc=mean, scale=math.sqrt(var))
        assert log_p[0, t] == pytest.approx(ref, rel=1e-7)


def test_prediction_p_values_match_simulated_random_lists(toy):
    """The gamma p of the log-rank sum agrees with the p from simulating random lists."""
    lib, prepared, view = toy
    size = 6
    rng = np.random.default_rng(0)
    observed = random_matches(prepared, size, 40, seed=99)
    _, log_p, _ = prediction_test(view, observed)
    sims = random_matches(prepared, size, 4000, seed=int(rng.integers(1 << 30)))
    z_sim, _, _ = prediction_test(view, sims)
    z_obs, _, _ = prediction_test(view, observed)
    mask = prepared.term_mask
    # per term, empirical upper-tail p of the observed z among simulated lists
    emp = (1 + (z_sim[None, :, :] >= z_obs[:, None, :]).sum(axis=1)) / (1 + len(sims))
    p = np.exp(log_p)
    sel = (emp < 0.5)[:, mask]
    diff = np.abs(np.log(p[:, mask][sel]) - np.log(emp[:, mask][sel]))
    assert np.median(diff) < 0.25  # within ~25% of the simulated p, typically
    # and calibrated: p < 0.05 about 5% of the time for fresh random lists
    _, log_p_sim, _ = prediction_test(view, sims[:2000])
    assert 0.03 < float((np.exp(log_p_sim[:, mask]) < 0.05).mean()) < 0.07


def test_truncated_predictions_fill_with_the_conditional_mean():
    # E[-log U | U > c] by numerical integration
    for c in (0.01, 0.2, 0.7):
        u = np.linspace(c, 1, 200001)
        ref = np.trapezoid(-np.log(u), u) / (1 - c)
        assert _tail_fill(int(c * 10000), np.array([10000]))[0] == pytest.approx(ref, rel=1e-4)


def test_term_predictions_keep_the_top_ranks_in_order(toy):
    lib, prepared, view = toy
    full = TermPredictions.compute(view)
    cut = TermPredictions.compute(view, budget=30 * 7)
    assert cut.depth == 7 and full.depth == len(view.allowed)
    np.testing.assert_array_equal(cut.top, full.top[:, :7])
    index = {g: i for i, g in enumerate(view.scorer.vocab.tolist())}
    for t in (0, 5):
        own = {index[g] for g in lib.term_genes(t) if g in index}
        assert not own & set(full.top[t, : full.n_ranked[t]].tolist())


def test_combine_fisher_equals_scipy():
    rng = np.random.default_rng(1)
    p1, p2 = rng.random(200) ** 3, rng.random(200)
    ours = np.exp(combine_fisher(np.log(p1), np.log(p2)))
    ref = [st.combine_pvalues([a, b], method="fisher").pvalue for a, b in zip(p1, p2, strict=True)]
    np.testing.assert_allclose(ours, ref, rtol=1e-10)
    # far below double precision the log form stays finite and ordered
    tiny = combine_fisher(np.array([-2000.0, -2100.0]), np.array([-5.0, -5.0]))
    assert np.all(np.isfinite(tiny)) and tiny[1] < tiny[0]


def test_combine_bonferroni_is_valid_for_dependent_p_values():
    rng = np.random.default_rng(2)
    u = rng.random(200_000)
    for p1, p2 in ((u, u), (u, 1 - u), (u, rng.random(len(u)))):  # any dependence
        p = np.exp(combine_bonferroni(np.log(p1), np.log(p2), 0.9))
        for a in (0.01, 0.05, 0.2):
            assert (p <= a).mean() <= a * 1.03
    np.testing.assert_allclose(
        np.exp(combine_bonferroni(np.log([1e-3, 0.5, 0.02]), np.log([1e-6, 0.01, 0.5]), 0.9)),
        [1e-5, 0.1, 0.02 / 0.9],
    )
    # one weight per row; a weight of 0 leaves the second p alone
    rows = combine_bonferroni(np.log([[1e-3], [1e-3]]), np.log([[0.02], [0.02]]), [[0.5], [0.0]])
    np.testing.assert_allclose(np.exp(rows), [[2e-3], [0.02]])


def test_one_recommended_test_for_both_flags():
    assert model_options(augment=50).test == "combined"
    assert model_options(rank="embedding").test == "combined"
    assert model_options(rank="embedding", test="cosine").test == "cosine"
    assert model_options() is None


# ------------------------------------------------------------------------------ tables


def _lists(prepared, *lists):
    return match_lists(prepared, [GeneList(g) for g in lists])


@pytest.mark.parametrize(
    "test", ["combined", "prediction", "fisher", "augmented", "cosine", "signature"]
)
def test_model_table_is_sorted_and_adjusted_over_every_tested_term(toy, test):
    lib, prepared, view = toy
    matches = _lists(prepared, ["G12", "G30", "G55", "G70"])
    scores = score_lists(prepared, matches)
    table, owner, significant = model_table(
        view, scores, matches, ModelOptions(augment=5, test=test, null_lists=40)
    )
    assert list(table) == COLUMNS + MODEL_COLUMNS
    assert len(table["Term"]) == int(prepared.term_mask.sum())  # min_overlap 0: every term
    logp = table["Log10 P-value"]
    assert np.all(np.diff(logp) >= 0)
    ref = multipletests(table["P-value"], method="fdr_bh")[1]
    np.testing.assert_allclose(table["Adjusted P-value"], ref, rtol=1e-12)
    assert significant[0] == int((ref < 0.05).sum())


def test_model_table_keeps_the_classical_evidence_and_marks_predicted_genes(toy):
    lib, prepared, view = toy
    genes = ["G12", "G30", "G55", "G70"]
    matches = _lists(prepared, genes)
    scores = score_lists(prepared, matches)
    table, _, _ = model_table(view, scores, matches, ModelOptions(augment=6))
    classical = gsea_plus.enrich(genes, lib, min_size=1)
    in_lib = [g for g in genes if g in set(lib.genes.tolist())]
    model_only = [g for g in genes if g not in in_lib and g in set(view.scorer.vocab.tolist())]
    w = 0.95 * len(in_lib) / (len(in_lib) + len(model_only))
    by_term = {t: i for i, t in enumerate(classical["Term"])}
    predicted_all = set()
    for i, term in enumerate(table["Term"]):
        t = int(np.flatnonzero(lib.terms == term)[0])
        members = set(lib.term_genes(t))
        # classical columns are the input list's own
        if term in by_term:
            row = classical.iloc[by_term[term]]
            assert table["Overlap"][i] == row["Overlap"] and table["Genes"][i] == row["Genes"]
            assert table["Classical P-value"][i] == pytest.approx(row["P-value"], rel=1e-12)
        else:
            assert table["Overlap Size"][i] == 0 and table["Classical P-value"][i] == 1.0
        pred = [g for g in table["Predicted Genes"][i].split(";") if g]
        assert table["Predicted Overlap"][i] == len(pred)
        assert set(pred) <= members and not set(pred) & set(genes)
        predicted_all |= set(pred)
        # combined = weighted Bonferroni of the classical and the model's own p, the
        # classical weight 0.95 x the share of the list's genes in the library
        ref = min(1.0, table["Classical P-value"][i] / w, table["Model P-value"][i] / (1 - w))
        assert table["P-value"][i] == pytest.approx(ref, rel=1e-9, abs=1e-300)
    assert len(predicted_all) <= 6


def test_predicted_genes_stay_within_a_user_background(toy):
    lib, _, _ = toy
    background = [f"G{i}" for i in range(0, 60)]
    prepared = prepare(lib, background=background)
    view = ModelView.build(prepared, TableScorer([f"G{i}" for i in range(10, 120)]))
    matches = _lists(prepared, ["G12", "G30", "G55"])
    scores = score_lists(prepared, matches)
    table, _, _ = model_table(view, scores, matches, ModelOptions(augment=20))
    predicted = {g for cell in table["Predicted Genes"] for g in cell.split(";") if g}
    assert predicted and predicted <= set(background)


def test_compare_columns_rank_each_evidence(toy):
    lib, prepared, view = toy
    matches = _lists(prepared, ["G12", "G30", "G55", "G70"])
    scores = score_lists(prepared, matches)
    table, _, _ = model_table(view, scores, matches, ModelOptions(compare=True))
    for label in ("Classical", "Model"):
        p = table[f"{label} P-value"]
        ref = multipletests(p, method="fdr_bh")[1]
        np.testing.assert_allclose(table[f"{label} Adjusted P-value"], ref, rtol=1e-12)
        ranks = table[f"{label} Rank"]
        assert sorted(ranks.tolist()) == list(range(1, len(p) + 1))
        assert np.all(np.diff(p[np.argsort(ranks)]) >= 0)


def test_enrich_augment_with_the_bundled_model():
    sets = {
        "ferro": ["ACSL4", "GPX4", "SLC7A11", "TFRC", "FTH1", "HMOX1", "NCOA4", "SLC3A2"],
        "cycle": ["CDK1", "CCNB1", "CDC20", "PLK1", "BUB1", "AURKA", "CCNA2", "MAD2L1"],
        "immune": ["CD3E", "CD4", "CD8A", "LCK", "ZAP70", "CD28", "IL2", "IFNG"],
    }
    genes = ["ACSL4", "GPX4", "SLC7A11", "CDK1"]
    df = gsea_plus.enrich(genes, sets, augment=10)
    assert df["Term"].iloc[0] == "ferro"
    assert list(df.columns) == COLUMNS + MODEL_COLUMNS
    assert (df["Method"] == "combined+augment10").all()
    classical = gsea_plus.enrich(genes, sets)
    assert df.set_index("Term").loc["ferro", "Classical P-value"] == pytest.approx(
        classical.set_index("Term").loc["ferro", "P-value"], rel=1e-12
    )


def test_rank_embedding_default_keeps_the_term_that_holds_the_list_on_top():
    """The model-alone test cannot see a term's own genes; the default must."""
    sets = {
        "ferro": ["ACSL4", "GPX4", "SLC7A11", "TFRC", "FTH1", "HMOX1", "NCOA4", "SLC3A2"],
        "cycle": ["CDK1", "CCNB1", "CDC20", "PLK1", "BUB1", "AURKA", "CCNA2", "MAD2L1"],
        "lipid": ["HMGCR", "SQLE", "LSS", "FDFT1", "MVD", "IDI1", "DHCR7", "CYP51A1"],
    }
    genes = ["ACSL4", "GPX4", "SLC7A11", "TFRC", "HMOX1"]
    assert gsea_plus.enrich(genes, sets, rank="embedding")["Term"].iloc[0] == "ferro"
    alone = gsea_plus.enrich(genes, sets, rank="embedding", test="prediction")
    assert alone.set_index("Term").loc["ferro", "Model P-value"] == 1.0


def test_enrich_rank_embedding_and_option_errors():
    sets = {"a": ["TP53", "MDM2", "CDKN1A", "ATM"], "b": ["CD3E", "CD4", "LCK", "ZAP70"]}
    df = gsea_plus.enrich(["TP53", "MDM2"], sets, rank="embedding", test="prediction")
    assert (df["Predicted Overlap"] == 0).all() and (df["Method"] == "prediction").all()
    assert (
        gsea_plus.enrich(["TP53", "MDM2"], sets, rank="embedding")["Method"] == "combined"
    ).all()
    with pytest.raises(gsea_plus.GseaPlusError, match="--augment N or --rank embedding"):
        gsea_plus.enrich(["TP53"], sets, compare=True)
    with pytest.raises(gsea_plus.GseaPlusError, match="unknown model test"):
        gsea_plus.enrich(["TP53"], sets, augment=5, test="magic")
    with pytest.raises(gsea_plus.GseaPlusError, match="needs --augment N"):
        gsea_plus.enrich(["TP53"], sets, rank="embedding", test="augmented")
    with pytest.raises(gsea_plus.GseaPlusError, match="unknown rank"):
        gsea_plus.enrich(["TP53"], sets, rank="cosine")


def test_naive_test_warns_that_it_is_not_valid(toy):
    lib, prepared, view = toy
    matches = _lists(prepared, ["G12", "G30"])
    with pytest.warns(UserWarning, match="not valid"):
        model_table(
            view, score_lists(prepared, matches), matches, ModelOptions(augment=5, test="naive")
        )


def test_low_vocabulary_overlap_warns_with_the_fraction(caplog):
    lib = GeneSetLibrary.from_gene_sets(
        "mostly_unknown", {"A": ["TP53", "XQ1", "XQ2", "XQ3"], "B": ["XQ4", "XQ5", "XQ6", "XQ7"]}
    )
    with caplog.at_level("WARNING"):
        gsea_plus.enrich(["TP53", "XQ1"], lib, augment=5)
    assert "only 12% of mostly_unknown's genes are in the model's vocabulary" in caplog.text


# ------------------------------------------------------------------------------ batch


def test_batch_augment_rows_equal_enrich_augment_per_list():
    sets = {
        "ferro": ["ACSL4", "GPX4", "SLC7A11", "TFRC", "FTH1", "HMOX1", "NCOA4", "SLC3A2"],
        "cycle": ["CDK1", "CCNB1", "CDC20", "PLK1", "BUB1", "AURKA", "CCNA2", "MAD2L1"],
        "immune": ["CD3E", "CD4", "CD8A", "LCK", "ZAP70", "CD28", "IL2", "IFNG"],
        "p53": ["TP53", "MDM2", "CDKN1A", "BAX", "GADD45A", "ATM", "CHEK2", "PUMA"],
    }
    lists = {
        "x": ["ACSL4", "GPX4", "CDK1"],
        "y": ["TP53", "MDM2", "CD4", "LCK"],
        "z": ["PLK1", "AURKA", "BUB1B", "FOXM1"],
    }
    batch = gsea_plus.enrich_many(lists, library=sets, augment=4, chunk_size=2)
    for name, genes in lists.items():
        one = gsea_plus.enrich(genes, sets, augment=4)
        mine = batch[batch["List"] == name].drop(columns="List").reset_index(drop=True)
        assert list(mine.columns) == list(one.columns)
        np.testing.assert_allclose(mine["P-value"], one["P-value"], rtol=1e-12)
        assert mine["Term"].tolist() == one["Term"].tolist()
        assert mine["Predicted Genes"].tolist() == one["Predicted Genes"].tolist()


# ------------------------------------------------------------------------------ CLI


def test_cli_augment_marks_predicted_genes(run_cli, tmp_path):
    gmt = tmp_path / "lib.gmt"
    gmt.write_text(
        "ferro\t-\tACSL4\tGPX4\tSLC7A11\tTFRC\tFTH1\tHMOX1\tNCOA4\tSLC3A2\n"
        "cycle\t-\tCDK1\tCCNB1\tCDC20\tPLK1\tBUB1\tAURKA\tCCNA2\tMAD2L1\n"
    )
    genes = tmp_path / "genes.txt"
    genes.write_text("ACSL4\nGPX4\nSLC7A11\n")
    code, out, err = run_cli("enrich", genes, "-l", gmt, "--augment", "10", "-f", "tsv")
    assert code == 0, err
    header, *rows = out.decode().splitlines()
    assert header.split("\t") == COLUMNS + MODEL_COLUMNS
    assert "terms tested by the model (combined+augment10)" in err
    code, out, err = run_cli("enrich", genes, "-l", gmt, "--augment", "10", "-f", "table")
    assert code == 0, err
    text = out.decode()
    assert "predicted by the model" in text and "*" in text


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--compare"], "--augment N or --rank embedding"),
        (["--augment", "5", "--model-test", "magic"], "unknown model test"),
        (["--rank", "cosine"], "unknown rank"),
        (["--augment", "5", "--model", "/no/such/model"], "no such model"),
    ],
)
def test_cli_model_option_errors(run_cli, tmp_path, args, needle):
    from conftest import assert_one_error_line

    gmt = tmp_path / "lib.gmt"
    gmt.write_text("a\t-\tTP53\tMDM2\tCDKN1A\n")
    genes = tmp_path / "genes.txt"
    genes.write_text("TP53\n")
    out_file = tmp_path / "out.tsv"
    code, _, err = run_cli("enrich", genes, "-l", gmt, "-o", out_file, *args)
    assert_one_error_line(code, err, needle)
    assert not out_file.exists()


def test_term_predictions_are_cached_on_disk_for_file_models(cache_root):
    from gsea_plus.model import load_model

    model = load_model()
    lib = GeneSetLibrary.from_gene_sets(
        "small", {"a": ["TP53", "MDM2", "CDKN1A", "ATM"], "b": ["CD3E", "CD4", "LCK", "ZAP70"]}
    )
    first = TermPredictions.cached(ModelView.build(prepare(lib), model))
    files = list((cache_root / "predictions").glob("*.npz"))
    assert len(files) == 1 and not list((cache_root / "predictions").glob(".*part"))
    again = TermPredictions.cached(ModelView.build(prepare(lib), model))
    np.testing.assert_array_equal(first.top, again.top)
    # a different library (or background) is a different file
    other = GeneSetLibrary.from_gene_sets("small", {"a": ["TP53", "MDM2"], "b": ["CD4", "LCK"]})
    TermPredictions.cached(ModelView.build(prepare(other), model))
    assert len(list((cache_root / "predictions").glob("*.npz"))) == 2
    # a corrupt file is recomputed, with a warning, not an error
    files[0].write_bytes(b"not an npz")
    redo = TermPredictions.cached(ModelView.build(prepare(lib), model))
    np.testing.assert_array_equal(first.top, redo.top)
