"""The evaluation protocol: AUROC/AP against references, tasks, and the bundled model."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import SHARED, requires_shared
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import mannwhitneyu

from gsea_plus.library.gmt import GeneSet
from gsea_plus.model.evaluate import (
    auroc,
    average_precision,
    paper_tasks,
    term_key,
    time_split_tasks,
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 6), min_size=2, max_size=40),  # few values: many ties
    st.data(),
)
def test_auroc_equals_mann_whitney(values, data):
    scores = np.array(values, dtype=float)
    positive = np.array(
        data.draw(st.lists(st.booleans(), min_size=len(values), max_size=len(values)))
    )
    if positive.all() or not positive.any():
        assert np.isnan(auroc(scores, positive))
        return
    u = mannwhitneyu(scores[positive], scores[~positive]).statistic
    assert auroc(scores, positive) == pytest.approx(u / (positive.sum() * (~positive).sum()))


def test_average_precision_by_hand():
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    positive = np.array([True, False, True, False, True])
    assert average_precision(scores, positive) == pytest.approx((1 / 1 + 2 / 3 + 3 / 5) / 3)
    # ties broken pessimistically: the negative comes first
    assert average_precision(np.array([1.0, 1.0]), np.array([True, False])) == pytest.approx(0.5)


def test_paper_tasks_follow_the_protocol():
    vocab = [f"G{i}" for i in range(100)]
    sets = [
        GeneSet("big", "", tuple(f"G{i}" for i in range(30))),
        GeneSet(
            "half_unknown",
            "",
            tuple([f"G{i}" for i in range(40, 52)] + [f"X{i}" for i in range(12)]),
        ),
        GeneSet("small", "", tuple(f"G{i}" for i in range(60, 64))),
    ]
    tasks = paper_tasks("lib", sets, vocab, repeats=5, seed=3)
    assert {t.term for t in tasks} <= {"big", "half_unknown"}
    assert sum(t.term == "big" for t in tasks) == 5
    background = {i for s in sets for g in s.genes if g.startswith("G") for i in [int(g[1:])]}
    for t in tasks:
        assert len(t.inputs) >= 5 and len(t.positives) >= 5
        assert not set(t.inputs) & set(t.positives)
        assert set(t.candidates) == background - set(t.inputs)
        assert set(t.positives) <= set(t.candidates)
    again = paper_tasks("lib", sets, vocab, repeats=5, seed=3)
    assert [t.inputs.tolist() for t in again] == [t.inputs.tolist() for t in tasks]


def test_time_split_tasks_predict_added_genes():
    vocab = [f"G{i}" for i in range(50)]
    old = [GeneSet("Glycolysis_Homo sapiens_hsa00010", "", tuple(f"G{i}" for i in range(8)))]
    new = [
        GeneSet("Glycolysis", "", tuple(f"G{i}" for i in range(15))),
        GeneSet("Other", "", tuple(f"G{i}" for i in range(20, 40))),
    ]
    (task,) = time_split_tasks("k", old, new, vocab)
    assert task.inputs.tolist() == list(range(8))
    assert task.positives.tolist() == list(range(8, 15))
    assert term_key("apoptotic process (GO:0006915)") == "GO:0006915"


@pytest.fixture(scope="module")
def default_corpus():
    from gsea_plus.model.corpus import build_corpus

    training = SHARED / "training"
    return build_corpus(
        [training],
        hgnc=SHARED / "mapping/hgnc_complete_set.subset.tsv.gz",
        orthologs=SHARED / "mapping/human_mouse_orthologs_homologene_2014.tsv.gz",
        exclude=training / "EXCLUDE.txt",
    )


def _kegg():
    from gsea_plus.genes import SymbolMapper
    from gsea_plus.library.gmt import read_gmt
    from gsea_plus.model.evaluate import normalize_sets

    mapper = SymbolMapper.from_hgnc(SHARED / "mapping/hgnc_complete_set.subset.tsv.gz")
    return normalize_sets(read_gmt(SHARED / "benchmark/KEGG_2021_Human.gmt"), mapper)


def _bundled():
    from gsea_plus.model import BUNDLED, load_model

    if not (BUNDLED / "model.safetensors").exists():
        pytest.skip("the bundled model is not built")
    return load_model()


@requires_shared
@pytest.mark.slow
def test_bundled_model_beats_cooccurrence_on_kegg(default_corpus):
    from gsea_plus.model.evaluate import run_evaluation

    model = _bundled()
    table = run_evaluation(
        model,
        {"KEGG_2021_Human": _kegg()},
        corpus=[s.genes for s in default_corpus.sets],
        repeats=1,
        seed=0,
        max_terms=40,
    )
    auc = dict(zip(table["method"], table["median_auroc"], strict=True))
    assert set(auc) == {"model", "cooccurrence", "cooccurrence_cosine", "random"}
    assert auc["model"] > auc["cooccurrence"] + 0.03
    assert auc["model"] > auc["cooccurrence_cosine"]
    assert abs(auc["random"] - 0.5) < 0.05
    assert (table["n_terms"] > 30).all()


@requires_shared
def test_quantized_bundle_matches_float32_reference():
    """The bundle's int8 weights keep median AUROC within 0.002 of float32 (recorded at build)."""
    import sys
    from pathlib import Path

    from gsea_plus.model import BUNDLED
    from gsea_plus.model.evaluate import evaluate_tasks, summarize

    model = _bundled()
    record = json.loads((BUNDLED / "quantization.json").read_text())
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from build_bundle import QUANT_CHECK

    assert record["check"] == QUANT_CHECK
    tasks = paper_tasks(
        "KEGG_2021_Human",
        _kegg(),
        model.vocab,
        repeats=QUANT_CHECK["repeats"],
        seed=QUANT_CHECK["seed"],
        max_terms=QUANT_CHECK["max_terms"],
    )
    now = summarize(evaluate_tasks(model, tasks), "m")["median_auroc"].iloc[0]
    ref = record["median_auroc"]["float32"]["model"]
    assert now == pytest.approx(record["median_auroc"]["int8"]["model"], abs=1e-6)
    assert abs(now - ref) <= 0.002
    assert abs(record["median_auroc"]["float16"]["model"] - ref) <= 0.002


@requires_shared
@pytest.mark.slow
def test_cli_evaluate_tsv(tmp_path, default_corpus):
    from typer.testing import CliRunner

    from gsea_plus.cli import app
    from gsea_plus.library.gmt import write_gmt

    _bundled()
    small = tmp_path / "corpus.gmt.gz"
    write_gmt(default_corpus.sets[::20], small)
    result = CliRunner().invoke(
        app,
        [
            "model",
            "evaluate",
            "--library",
            str(SHARED / "benchmark/MSigDB_Hallmark_2020.gmt"),
            "--time-split",
            f"{SHARED / 'benchmark/KEGG_2016.gmt'}={SHARED / 'benchmark/KEGG_2021_Human.gmt'}",
            "--corpus",
            str(small),
            "--repeats",
            "1",
            "--max-terms",
            "12",
            "--format",
            "tsv",
        ],
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    header = lines[0].split("\t")
    assert {"library", "method", "median_auroc", "mean_ap", "n_terms"} <= set(header)
    rows = [dict(zip(header, ln.split("\t"), strict=True)) for ln in lines[1:]]
    assert {r["method"] for r in rows} == {"model", "cooccurrence", "cooccurrence_cosine", "random"}
    assert {r["library"] for r in rows} == {"MSigDB_Hallmark_2020", "KEGG_2016->KEGG_2021_Human"}
    model_rows = [r for r in rows if r["method"] == "model"]
    assert all(float(r["median_auroc"]) > 0.7 for r in model_rows)


def test_default_corpus_from_the_environment(tmp_path, monkeypatch):
    from gsea_plus.library.gmt import write_gmt
    from gsea_plus.model.evaluate import CORPUS_ENV, TRAINING_ENV, default_corpus

    corpus = tmp_path / "corpus.gmt.gz"
    write_gmt([GeneSet("s1", "src", tuple(f"G{i}" for i in range(12)))], corpus)
    monkeypatch.setenv(CORPUS_ENV, str(corpus))
    found = default_corpus()
    assert found.sets == [tuple(f"G{i}" for i in range(12))] and found.source == str(corpus)
    monkeypatch.setenv(CORPUS_ENV, str(tmp_path / "missing.gmt.gz"))
    assert default_corpus().sets is None
    # nothing configured and no training data: the note says how to get the baselines
    monkeypatch.delenv(CORPUS_ENV)
    monkeypatch.setenv(TRAINING_ENV, str(tmp_path / "no-such-dir"))
    found = default_corpus()
    assert found.sets is None
    assert "--corpus" in found.note and "gsea-plus model corpus" in found.note


def test_default_corpus_is_built_once_from_training_data(tmp_path, monkeypatch):
    from gsea_plus.library.gmt import write_gmt
    from gsea_plus.model.evaluate import TRAINING_ENV, default_corpus

    training = tmp_path / "data" / "training"
    (training / "lib").mkdir(parents=True)
    genes = [f"GENE{i}" for i in range(40)]
    write_gmt(
        [GeneSet(f"t{i}", "", tuple(genes[i : i + 15])) for i in range(5)],
        training / "lib" / "A.gmt.gz",
    )
    write_gmt([GeneSet("bench", "", tuple(genes[:20]))], training / "lib" / "Bench.gmt.gz")
    (training / "EXCLUDE.txt").write_text("lib/Bench.gmt.gz\n")
    monkeypatch.setenv(TRAINING_ENV, str(training))
    messages = []
    first = default_corpus(progress=messages.append)
    assert len(first.sets) == 5 and messages  # built, EXCLUDE.txt applied
    assert default_corpus(build=False).source == first.source  # cached: not rebuilt
    assert default_corpus(progress=messages.append).sets == first.sets and len(messages) == 1


def test_evaluation_draws_a_progress_bar_per_method():
    """`model evaluate` shows a bar per library and method, advanced by the tasks scored."""
    import io

    from rich.console import Console

    from gsea_plus import progress
    from gsea_plus.model.evaluate import evaluate_tasks, run_evaluation
    from gsea_plus.model.scorers import RandomScorer

    vocab = np.array([f"G{i}" for i in range(60)])
    sets = [GeneSet(f"T{t}", "", tuple(vocab[t * 10 : t * 10 + 10].tolist())) for t in range(5)]
    tasks = paper_tasks("lib", sets, vocab, repeats=2, seed=0)
    assert len(tasks) == 10
    seen: list[float] = []
    table = evaluate_tasks(RandomScorer(vocab, seed=0), tasks, batch=3, advance=seen.append)
    assert seen == [3, 3, 3, 1] and len(table) == len(tasks)

    buf = io.StringIO()
    progress.enable(Console(file=buf, force_terminal=True, width=100))
    try:
        run_evaluation(RandomScorer(vocab, seed=1), {"lib": sets}, repeats=2, seed=0)
    finally:
        progress.disable()
    text = buf.getvalue()
    for method in ("model", "random"):
        assert f"lib (paper): {method}, 10 splits" in text
    assert "10/10" in text
