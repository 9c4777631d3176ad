"""Model-based enrichment building blocks, checked against brute-force computations."""

from __future__ import annotations

import numpy as np
import pytest
from toy import TableScorer, toy_setup

from gsea_plus.engine import match_lists, prepare
from gsea_plus.evidence import (
    ModelView,
    augment_matches,
    model_statistics,
    predicted_genes,
    random_matches,
    term_null,
)
from gsea_plus.genes import GeneList
from gsea_plus.library import GeneSetLibrary
from gsea_plus.stats import hypergeom_logsf


@pytest.fixture
def setup():
    return toy_setup()


def test_predicted_genes_are_top_scored_outside_the_list_and_inside_the_background(setup):
    lib, prepared, view = setup
    matches = match_lists(prepared, [GeneList(["G12", "G30", "G55", "G3"])])
    scores = view.scorer.score_ids([np.array([2, 20, 45])])  # vocab ids of G12, G30, G55
    (top,) = predicted_genes(view, scores, matches, 7)
    vocab = view.scorer.vocab
    lib_genes = set(lib.genes.tolist())
    candidates = [
        i
        for i in np.argsort(-scores[0], kind="stable")
        if vocab[i] in lib_genes and vocab[i] not in {"G12", "G30", "G55"}
    ]
    assert top.tolist() == candidates[:7]
    assert all(vocab[i] in lib_genes for i in top)


def test_augmented_overlaps_equal_set_computation(setup):
    lib, prepared, view = setup
    lists = [GeneList(["G11", "G40", "G77"]), GeneList(["G20", "G21", "G22", "G90", "G99"])]
    matches = match_lists(prepared, lists)
    genes = [lib.genes[m.columns].tolist() for m in matches]
    scores = view.scorer.score(genes)
    preds = predicted_genes(view, scores, matches, 10)
    aug = augment_matches(view, matches, preds)
    stat = model_statistics(view, matches, statistic="augment", n_add=10)
    for i, (m, p) in enumerate(zip(matches, preds, strict=True)):
        full = set(lib.genes[m.columns]) | set(view.scorer.vocab[p])
        assert set(lib.genes[aug[i].columns]) == full and aug[i].size == len(full)
        for t in range(len(lib.terms)):
            k = len(full & set(lib.term_genes(t)))
            ref = -hypergeom_logsf(k, lib.term_sizes[t], len(full), len(lib.genes)) / np.log(10)
            assert stat[i, t] == pytest.approx(ref, abs=1e-9)


def test_signature_statistic_is_mean_percentile_of_term_genes_outside_the_list(setup):
    lib, prepared, view = setup
    matches = match_lists(prepared, [GeneList(["G15", "G16", "G50"])])
    stat = model_statistics(view, matches, statistic="signature")
    genes = lib.genes[matches[0].columns].tolist()
    scores = view.scorer.score([genes])[0]
    order = np.argsort(np.argsort(scores, kind="stable"), kind="stable")
    pct = dict(zip(view.scorer.vocab.tolist(), (order + 0.5) / len(scores), strict=True))
    for t in range(len(lib.terms)):
        inside = [g for g in lib.term_genes(t) if g in pct and g not in genes]
        ref = np.mean([pct[g] for g in inside]) if inside else 0.0
        assert stat[0, t] == pytest.approx(ref)


def test_embedding_statistic_is_cosine(setup):
    lib, prepared, view = setup
    matches = match_lists(prepared, [GeneList(["G15", "G16", "G50"])])
    stat = model_statistics(view, matches, statistic="embedding")
    a = view.scorer.encode([lib.genes[matches[0].columns].tolist()])[0]
    for t in (0, 7, 29):
        b = view.scorer.encode([lib.term_genes(t)])[0]
        assert stat[0, t] == pytest.approx(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def test_size_matched_null_calibrates_random_lists(setup):
    lib, prepared, view = setup
    null = term_null(view, 6, statistic="signature", null_lists=300, seed=1)
    fresh = random_matches(prepared, 6, 300, seed=12345)
    z = null.z(model_statistics(view, fresh, statistic="signature"))[:, prepared.term_mask]
    assert abs(float(z.mean())) < 0.1 and 0.85 < float(z.std()) < 1.15
    p = null.pooled_p(model_statistics(view, fresh, statistic="signature"))[:, prepared.term_mask]
    assert 0.02 < float((p < 0.05).mean()) < 0.08
    assert term_null(view, 6, statistic="signature", null_lists=300, seed=1) is null  # cached


def test_low_vocabulary_coverage_warns(caplog):
    lib = GeneSetLibrary.from_gene_sets("far", {"A": ["X1", "X2", "X3"], "B": ["X4", "X5", "X6"]})
    with caplog.at_level("WARNING"):
        view = ModelView.build(prepare(lib), TableScorer(["X1", "Y1", "Y2"]))
    assert view.coverage == pytest.approx(1 / 6)
    assert "17%" in caplog.text


# --------------------------------------------------------------------------- gene function
# Gene pages are tested in tests/test_gene_pages.py.
