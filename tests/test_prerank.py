"""Preranked enrichment: ES against a direct running sum, null calibration, I/O, CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gsea_plus.errors import InputError
from gsea_plus.prerank import (
    Signature,
    enrichment_scores,
    fit_null,
    prerank,
    read_signature,
    running_sum,
)

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
SIGNATURE = SHARED / "signatures" / "ageing_muscle_gtex.tsv"


def naive_es(scores: np.ndarray, members: np.ndarray) -> tuple[float, list[int]]:
    """GSEA's running sum written out step by step, and its leading edge."""
    n = len(scores)
    hit = np.zeros(n, dtype=bool)
    hit[members] = True
    norm = np.abs(scores[hit]).sum()
    rs, acc = [], 0.0
    for i in range(n):
        acc += abs(scores[i]) / norm if hit[i] else -1.0 / (n - hit.sum())
        rs.append(acc)
    rs_arr = np.array(rs)
    peak = int(np.argmax(np.abs(rs_arr)))
    es = float(rs_arr[peak])
    if es >= 0:
        edge = [int(m) for m in sorted(members) if m <= int(np.argmax(rs_arr))]
    else:
        edge = [int(m) for m in sorted(members) if m >= int(np.argmin(rs_arr))]
    return es, edge


def random_signature(n: int = 400, seed: int = 0) -> Signature:
    rng = np.random.default_rng(seed)
    return Signature.from_pairs((f"G{i}", s) for i, s in enumerate(rng.normal(size=n)))


def test_es_and_leading_edge_match_direct_running_sum():
    sig = random_signature()
    rng = np.random.default_rng(1)
    sets = [rng.choice(len(sig), size=int(rng.integers(1, 60)), replace=False) for _ in range(80)]
    sets.append(np.array([0, 1, 2, 3]))  # strongly positive
    sets.append(np.arange(len(sig) - 5, len(sig)))  # strongly negative
    es, peak = enrichment_scores(sig, sets)
    for s, e, pk in zip(sets, es, peak, strict=True):
        ref, edge = naive_es(sig.scores, s)
        assert e == pytest.approx(ref, abs=1e-12)
        s_sorted = np.sort(s)
        got = s_sorted[: pk + 1] if e >= 0 else s_sorted[pk:]
        assert got.tolist() == edge
    assert es[-2] > 0.9 and es[-1] < -0.9


def test_running_sum_ends_at_zero_and_peaks_at_es():
    sig = random_signature(seed=3)
    members = np.array([5, 17, 40, 41, 200])
    rs = running_sum(sig, members)
    assert rs[-1] == pytest.approx(0.0, abs=1e-12)
    (es,), _ = enrichment_scores(sig, [members])
    assert rs[np.argmax(np.abs(rs))] == pytest.approx(es)


def test_gamma_null_p_values_agree_with_permutation_p():
    # A term planted near the top: its gamma-tail p must agree with a direct
    # permutation p from many random sets of the same size.
    sig = random_signature(n=1000, seed=5)
    rng = np.random.default_rng(7)
    size = 25
    member = np.concatenate(
        [
            rng.choice(150, size=10, replace=False),
            rng.choice(np.arange(150, 1000), size=15, replace=False),
        ]
    )
    (es,), _ = enrichment_scores(sig, [member])
    null = fit_null(sig, np.array([size]), permutations=3000, anchors=1, seed=11)
    from scipy.special import gammaincc

    par = null.params(np.array([size]))
    p_gamma = float(gammaincc(par["pos_shape"], es / par["pos_scale"])[0])
    sets = [rng.choice(1000, size=size, replace=False) for _ in range(20000)]
    null_es, _ = enrichment_scores(sig, sets)
    pos = null_es[null_es > 0]
    p_perm = (1 + np.sum(pos >= es)) / (1 + len(pos))
    assert es > 0
    assert 1e-4 < p_perm < 0.2
    assert p_gamma == pytest.approx(p_perm, rel=0.35)


def test_prerank_null_is_calibrated_on_random_terms():
    sig = random_signature(n=2000, seed=9)
    rng = np.random.default_rng(2)
    lib = {
        f"T{i}": [f"G{j}" for j in rng.choice(2000, size=int(rng.integers(10, 80)), replace=False)]
        for i in range(300)
    }
    df = prerank(sig, lib, permutations=1000, seed=4)
    frac = float((df["P-value"] < 0.05).mean())
    assert 0.01 <= frac <= 0.10
    assert df["P-value"].between(0, 1).all()
    # FDR is BH of the p-values (statsmodels)
    from statsmodels.stats.multitest import multipletests

    np.testing.assert_allclose(df["FDR"], multipletests(df["P-value"], method="fdr_bh")[1])


def test_prerank_finds_planted_terms_and_sorts_by_p():
    sig = random_signature(n=1500, seed=12)
    rng = np.random.default_rng(3)
    lib = {f"R{i}": [f"G{j}" for j in rng.choice(1500, 30, replace=False)] for i in range(40)}
    top_genes = sig.genes[:200]
    bottom_genes = sig.genes[-200:]
    lib["UP"] = list(rng.choice(top_genes, 30, replace=False))
    lib["DOWN"] = list(rng.choice(bottom_genes, 30, replace=False))
    df = prerank(sig, lib, permutations=1000)
    assert set(df["Term"].iloc[:2]) == {"UP", "DOWN"}
    up = df[df["Term"] == "UP"].iloc[0]
    down = df[df["Term"] == "DOWN"].iloc[0]
    assert up["NES"] > 1.5 and down["NES"] < -1.5
    assert up["P-value"] < 1e-6 and down["P-value"] < 1e-6
    assert np.all(np.diff(df["P-value"].to_numpy()) >= 0)
    assert set(up["Leading Edge"].split(";")) <= set(lib["UP"])


def test_read_signature_formats(tmp_path):
    p = tmp_path / "sig.csv"
    p.write_text("0,1\nTP53,2.5\nmdm2,-1.0\nTP53,-3.0\nATM,0.5\n")
    sig = read_signature(p)
    assert dict(zip(sig.genes.tolist(), sig.scores.tolist(), strict=True)) == {
        "TP53": -3.0,
        "MDM2": -1.0,
        "ATM": 0.5,
    }
    assert np.all(np.diff(sig.scores) <= 0)
    t = tmp_path / "sig.tsv"
    t.write_text("\ufeffgene\tscore\r\nA\t1\r\nB\t2\r\n# comment\r\n")
    assert read_signature(t).genes.tolist() == ["B", "A"]
    bad = tmp_path / "bad.tsv"
    bad.write_text("gene\tscore\nA\t1\nB\tnot-a-number\n")
    with pytest.raises(InputError, match="line 3"):
        read_signature(bad)
    with pytest.raises(InputError, match="no such file"):
        read_signature(tmp_path / "missing.tsv")
    with pytest.raises(InputError):
        read_signature({"A": 1.0})


@pytest.mark.skipif(not SIGNATURE.is_file(), reason="needs ../shared/data/signatures (absent)")
def test_real_signature_against_hallmark():
    df = prerank(
        SIGNATURE, str(SHARED / "benchmark" / "MSigDB_Hallmark_2020.gmt"), permutations=1000
    )
    assert len(df) == 50
    # Ageing muscle: extracellular matrix / EMT goes up, oxidative phosphorylation down.
    emt = df[df["Term"] == "Epithelial Mesenchymal Transition"].iloc[0]
    ox = df[df["Term"] == "Oxidative Phosphorylation"].iloc[0]
    assert emt["NES"] > 2 and emt["FDR"] < 1e-6
    assert ox["NES"] < -1.5 and ox["FDR"] < 1e-3


@pytest.mark.skipif(not SIGNATURE.is_file(), reason="needs ../shared/data/signatures (absent)")
def test_prerank_cli_tsv_and_plot(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from gsea_plus.cli import app

    monkeypatch.setenv("GSEA_PLUS_CACHE", str(tmp_path / "cache"))
    png = tmp_path / "rs.png"
    gmt = str(SHARED / "benchmark" / "MSigDB_Hallmark_2020.gmt")
    res = CliRunner().invoke(
        app,
        [
            "prerank",
            str(SIGNATURE),
            "-l",
            gmt,
            "--permutations",
            "500",
            "--plot",
            str(png),
            "-f",
            "tsv",
        ],
    )
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert lines[0].split("\t") == [
        "Term",
        "ES",
        "NES",
        "P-value",
        "FDR",
        "Size",
        "Leading Edge Size",
        "Leading Edge",
        "Library",
    ]
    assert len(lines) == 51
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_null_es_of_equal_sized_sets_equals_the_segmented_pass():
    from gsea_plus.prerank import _null_es, _random_prefixes, segment_es

    rng = np.random.default_rng(0)
    w = np.abs(rng.normal(size=500))
    prefixes = _random_prefixes(500, 40, 300, rng)
    assert all(len(set(row)) == 40 for row in prefixes.tolist())  # distinct genes per draw
    counts = np.bincount(prefixes[:, :10].ravel(), minlength=500)
    assert counts.std() < 3 * np.sqrt(counts.mean())  # no gene favoured
    for size in (1, 7, 40):
        hits = np.sort(prefixes[:, :size], axis=1).ravel()
        ptr = np.arange(0, len(hits) + 1, size)
        expected, _, _ = segment_es(hits, w[hits], ptr, len(w))
        np.testing.assert_allclose(_null_es(w, prefixes, size), expected, rtol=0, atol=1e-10)


def test_the_null_of_a_signature_is_fitted_once():
    sig = random_signature(n=600, seed=3)
    sizes = np.array([10, 50])
    first = fit_null(sig, sizes, permutations=200, anchors=4)
    assert fit_null(sig, sizes, permutations=200, anchors=4) is first
    assert fit_null(sig, sizes, permutations=200, anchors=4, seed=1) is not first
