"""Gene pages (issue 13 item 5): a gene's rank, z-score and probability per term, whether
the term holds it, and each term's own AUROC under the paper's protocol, checked against
direct computations on a small synthetic library."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import rankdata
from toy import TableScorer

from gsea_plus.engine import prepare
from gsea_plus.evidence import (
    GENE_COLUMN_DOCS,
    GENE_COLUMNS,
    ModelView,
    gene_function,
    gene_libraries,
    term_aurocs,
)
from gsea_plus.evidence.function import AUROC_MIN_KNOWN, AUROC_SPLITS
from gsea_plus.library import GeneSetLibrary

GENES = [f"G{i}" for i in range(80)]


def _sets(seed=8, n_terms=25):
    rng = np.random.default_rng(seed)
    return {
        f"T{t}": list(rng.choice(GENES[:70], size=int(rng.integers(3, 16)), replace=False))
        for t in range(n_terms)
    }


class FingerprintedScorer(TableScorer):
    """A table scorer whose results may be cached (a fingerprint, as loaded models have)."""

    fingerprint = "test-table-scorer"


def _direct_auroc(scores, positives, negatives):
    """AUROC by the Mann-Whitney U with scipy's average ranks."""
    values = np.concatenate([scores[positives], scores[negatives]])
    ranks = rankdata(values)
    n_pos, n_neg = len(positives), len(negatives)
    return (ranks[:n_pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def test_term_auroc_equals_a_direct_computation_of_the_paper_protocol():
    sets = _sets()
    lib = GeneSetLibrary.from_gene_sets("synthetic", sets)
    scorer = TableScorer(GENES[5:], seed=4)  # G0..G4 unknown to the model
    view = ModelView.build(prepare(lib), scorer)
    result = term_aurocs(view, seed=3)
    index = {g: i for i, g in enumerate(scorer.vocab.tolist())}
    library_known = sorted({index[g] for g in lib.genes.tolist() if g in index})
    rng = np.random.default_rng(3)
    for t, term in enumerate(lib.terms):
        known = np.array(sorted(index[g] for g in lib.term_genes(t) if g in index))
        if len(known) < 2 * AUROC_MIN_KNOWN:
            assert np.isnan(result.auroc[t]) and result.splits[t] == 0
            continue
        values = []
        for _ in range(AUROC_SPLITS):  # half given to the model, half held out
            perm = rng.permutation(known)
            inputs, held = perm[: len(known) // 2], perm[len(known) // 2 :]
            s = scorer.score_ids([np.sort(inputs)])[0]
            negatives = [j for j in library_known if j not in set(perm.tolist())]
            values.append(_direct_auroc(s, held, negatives))
        assert result.splits[t] == AUROC_SPLITS
        assert result.auroc[t] == pytest.approx(np.median(values), rel=1e-12), term


def test_term_aurocs_are_cached_per_model_and_library(cache_root):
    lib = GeneSetLibrary.from_gene_sets("synthetic", _sets())
    view = ModelView.build(prepare(lib), FingerprintedScorer(GENES))
    first = term_aurocs(view)
    files = list((cache_root / "aurocs").glob("*.npz"))
    assert len(files) == 1
    again = term_aurocs(ModelView.build(prepare(lib), FingerprintedScorer(GENES)))
    np.testing.assert_array_equal(first.auroc, again.auroc)
    other = GeneSetLibrary.from_gene_sets("synthetic", _sets(seed=9))
    term_aurocs(ModelView.build(prepare(other), FingerprintedScorer(GENES)))
    assert len(list((cache_root / "aurocs").glob("*.npz"))) == 2
    files[0].write_bytes(b"not an npz")  # a corrupt file is recomputed, not an error
    redo = term_aurocs(ModelView.build(prepare(lib), FingerprintedScorer(GENES)))
    np.testing.assert_array_equal(first.auroc, redo.auroc)


def test_gene_page_rows_equal_direct_computations():
    sets = _sets()
    scorer = TableScorer(GENES, seed=2)
    page = gene_function("g7", sets, model=scorer)
    assert list(page.columns) == GENE_COLUMNS and set(GENE_COLUMN_DOCS) == set(GENE_COLUMNS)
    index = {g: i for i, g in enumerate(GENES)}
    # a small library keeps the whole ranking: every term is on the page
    assert set(page["Term"]) == set(sets)
    lib = GeneSetLibrary.from_gene_sets("synthetic", sets)
    aurocs = term_aurocs(ModelView.build(prepare(lib), scorer))
    for row in page.to_dict("records"):
        holds = "G7" in sets[row["Term"]]
        assert row["In Term"] == holds
        inputs = np.array([index[g] for g in sets[row["Term"]] if g != "G7"])
        s = scorer.score_ids([inputs])[0]
        candidates = np.setdiff1d(np.arange(len(GENES)), inputs)
        assert row["Candidates"] == len(candidates)
        assert row["Rank"] == 1 + int(np.sum(s[candidates] > s[7]))
        values = s[candidates]
        assert row["Z-score"] == pytest.approx((s[7] - values.mean()) / values.std())
        assert row["Probability"] == pytest.approx(s[7])  # no autoencoder: the score
        assert row["Input Genes"] == len(inputs)
        assert row["Term Size"] == len(sets[row["Term"]])
        t = int(np.flatnonzero(lib.terms == row["Term"])[0])
        np.testing.assert_equal(row["Term AUROC"], aurocs.auroc[t])
    ranks = page["Rank"].to_numpy()
    assert np.all(np.diff(ranks) >= 0)  # best rank first


def test_a_big_library_lists_the_terms_whose_kept_predictions_rank_the_gene(monkeypatch):
    """When only the top ranks of each term are kept, the page lists the terms that rank
    the gene there, plus every term that holds it."""
    import gsea_plus.evidence.view as view_module

    monkeypatch.setattr(view_module, "PREDICTION_BUDGET", 25 * 10)  # top 10 per term
    original = view_module.TermPredictions.cached

    def small(view, *, budget=250):
        return original(view, budget=budget)

    monkeypatch.setattr(view_module.TermPredictions, "cached", staticmethod(small))
    sets = _sets()
    scorer = TableScorer(GENES, seed=2)
    page = gene_function("G7", sets, model=scorer)
    full = gene_function("G7", sets, model=scorer, batch=7)  # batches do not matter
    assert page["Term"].tolist() == full["Term"].tolist()
    holds = {t for t, g in sets.items() if "G7" in g}
    outside = page[~page["In Term"]]
    assert set(page[page["In Term"]]["Term"]) == holds
    assert (outside["Rank"] <= 10).all() and len(outside) > 0


def test_gene_pages_report_progress(monkeypatch):
    import gsea_plus.progress as progress

    seen = []
    real = progress.task

    def spy(description, *, total=None):
        seen.append(description)
        return real(description, total=total)

    monkeypatch.setattr(progress, "task", spy)
    gene_function("G7", _sets(), model=TableScorer(GENES, seed=2))
    assert any("AUROC" in d for d in seen) and any("terms" in d for d in seen)


def test_default_libraries_are_the_bundled_and_cached_ones(monkeypatch):
    import gsea_plus.library as library

    bundled = gene_libraries()
    assert set(bundled) == {"GO_Biological_Process_2023", "MSigDB_Hallmark_2020"}
    monkeypatch.setattr(library, "cached_names", lambda: ["KEGG_2021_Human", bundled[0]])
    assert gene_libraries() == [*bundled, "KEGG_2021_Human"]


def test_unknown_gene_suggests_close_symbols():
    from gsea_plus.errors import InputError

    scorer = TableScorer(["PLIN1", "PLIN2", "PLIN3", "TP53"])
    with pytest.raises(InputError, match="PLIN9 is not in the model's vocabulary.*PLIN1"):
        gene_function("PLIN9", {"T": ["PLIN1", "TP53"]}, model=scorer)


def test_gene_command_writes_the_page(tmp_path):
    import csv
    import io

    from test_model_network import GENES as NET_GENES
    from test_model_network import write_published
    from typer.testing import CliRunner

    from gsea_plus.cli import app

    model_dir = write_published(tmp_path / "tiny")
    gmt = tmp_path / "lib.gmt"
    gmt.write_text(
        "".join(f"T{t}\t\t" + "\t".join(NET_GENES[t : t + 6]) + "\n" for t in range(0, 30, 3))
    )
    res = CliRunner().invoke(
        app, ["gene", "G4", "-l", str(gmt), "--model", str(model_dir), "-f", "tsv"]
    )
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(io.StringIO(res.stdout), delimiter="\t"))
    assert list(rows[0]) == GENE_COLUMNS
    assert {r["Term"] for r in rows if r["In Term"] == "True"} == {"T0", "T3"}
    assert len(rows) == 10
    probs = [float(r["Probability"]) for r in rows]
    assert all(0 < p < 1 for p in probs)
    ranks = [int(r["Rank"]) for r in rows]
    assert ranks == sorted(ranks)
