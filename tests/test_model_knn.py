"""Nearest corpus sets (setknn) and gene bands: storage, brute-force scores, blends."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gsea_plus.errors import ModelError
from gsea_plus.model.bands import BandScorer, read_gene_info_bands
from gsea_plus.model.knn import SetKnnScorer, SetMemory

GENES = [f"G{i}" for i in range(30)]


def corpus(n_sets: int = 60, seed: int = 0) -> tuple[list[list[str]], list[str]]:
    rng = np.random.default_rng(seed)
    sets = [list(rng.choice(GENES, size=rng.integers(3, 12), replace=False)) for _ in range(n_sets)]
    sources = [f"lib{i % 3}" for i in range(n_sets)]
    return sets, sources


def test_set_memory_round_trip(tmp_path: Path):
    sets, sources = corpus()
    sets.append(["G1", "NOT_IN_VOCAB"])  # one known gene: dropped
    mem = SetMemory.from_sets(
        sets, GENES, sources=[*sources, "x"], terms=[f"t{i}" for i in range(len(sets))]
    )
    assert len(mem) == 60 and mem.sources == ["lib0", "lib1", "lib2"]
    mem.save(tmp_path)
    back = SetMemory.load(tmp_path, len(GENES))
    np.testing.assert_array_equal(back.indptr, mem.indptr)
    np.testing.assert_array_equal(back.indices, mem.indices)
    np.testing.assert_array_equal(back.source, mem.source)
    assert back.terms == mem.terms and back.sources == mem.sources
    for i in (0, 17, 59):
        cols = back.indices[back.indptr[i] : back.indptr[i + 1]]
        assert sorted(GENES[c] for c in cols) == sorted(sets[i])
    with pytest.raises(ModelError, match="out of range"):
        SetMemory.load(tmp_path, 10)
    with pytest.raises(ModelError, match="no such file"):
        SetMemory.load(tmp_path / "nothing", 30)


def brute_force(sets, sources, ids, *, alpha, top, power, idf, gamma, beta):
    genes = {g: i for i, g in enumerate(GENES)}
    members = [{genes[g] for g in s} for s in sets]
    n = len(sets)
    df = np.array([sum(i in m for m in members) for i in range(len(GENES))], dtype=float)
    w_in = np.log(n / np.maximum(df, 1)) if idf else np.ones(len(GENES))
    count = {s: sources.count(s) for s in set(sources)}
    sim = np.array(
        [
            sum(w_in[i] for i in ids if i in m) / len(m) ** alpha / count[src] ** gamma
            for m, src in zip(members, sources, strict=True)
        ]
    )
    order = np.sort(sim)[::-1]
    if top < len(order) and np.isclose(order[top - 1], order[top]):
        return None  # a tie at the boundary: either set may vote
    best = np.argsort(-sim, kind="stable")[:top]
    out = np.zeros(len(GENES))
    for s in best:
        for g in members[s]:
            out[g] += sim[s] ** power
    return out * np.maximum(df, 1) ** -beta


@pytest.mark.parametrize(
    "options",
    [
        {"alpha": 0.5, "top": 5, "power": 2.0, "idf": True, "gamma": 0.0, "beta": 0.0},
        {"alpha": 1.0, "top": 60, "power": 1.0, "idf": False, "gamma": 0.5, "beta": 0.25},
    ],
)
def test_setknn_scores_equal_a_brute_force_vote(options):
    sets, sources = corpus()
    mem = SetMemory.from_sets(sets, GENES, sources=sources)
    scorer = SetKnnScorer(GENES, mem, **options)
    rng = np.random.default_rng(1)
    lists = [np.sort(rng.choice(30, size=k, replace=False)) for k in (2, 3, 5, 6, 8, 9, 12) * 3]
    got = scorer.score_ids(lists)
    checked = 0
    for row, ids in zip(got, lists, strict=True):
        ref = brute_force(sets, sources, set(ids.tolist()), **options)
        if ref is not None:
            np.testing.assert_allclose(row, ref, rtol=1e-4, atol=1e-5)
            checked += 1
    assert checked >= 5
    rows, sims = scorer.similar_sets(lists[:1])
    assert np.all(np.diff(sims[0]) <= 0)


def test_bands_from_gene_info_and_scores(tmp_path: Path):
    info = tmp_path / "gene_info"
    info.write_text(
        "#tax_id\tGeneID\tSymbol\tmap_location\n"
        "9606\t1\tG0\t1p36.33\n9606\t2\tg1\t1p36.33\n9606\t3\tG2\t2q11\n"
        "9606\t4\tG3\t-\n9606\t5\tG4\t1p36.33|2q11\n9606\t6\tG5\t2q11\n"
    )
    bands = read_gene_info_bands(info)
    assert bands == {"G0": "1p36.33", "G1": "1p36.33", "G2": "2q11", "G5": "2q11"}
    scorer = BandScorer(GENES[:6], bands)
    s = scorer.score_ids([np.array([0]), np.array([0, 2])])
    np.testing.assert_array_equal(s[0], [1, 1, 0, 0, 0, 0])
    np.testing.assert_array_equal(s[1], [1, 1, 1, 0, 0, 1])
    scorer.save(tmp_path / "bands.txt")
    again = BandScorer.load(tmp_path / "bands.txt", GENES[:6])
    np.testing.assert_array_equal(again.score_ids([np.array([2])]), scorer.score_ids([[2]]))


def test_blend_of_every_part_kind_loads(tmp_path: Path):
    from test_model_network import write_published

    from gsea_plus.model.bundle import BlendPart, write_blend
    from gsea_plus.model.model import Model
    from gsea_plus.model.network import Autoencoder

    net = Autoencoder.load(write_published(tmp_path / "src"))
    genes = net.genes  # G0..G39
    sets, sources = corpus()
    mem = SetMemory.from_sets(sets, genes, sources=sources, terms=[str(i) for i in range(60)])
    rng = np.random.default_rng(0)
    idx = np.stack([rng.choice(40, size=4, replace=False) for _ in range(40)])
    val = rng.random((40, 4)).astype(np.float32)
    options = {"alpha": 0.5, "top": 10, "power": 2.0, "idf": True, "beta": 0.25}
    parts = [
        BlendPart("autoencoder", 0.3, "log"),
        BlendPart("setknn", 0.4, data=mem, options=options),
        BlendPart("ease", 0.2, indices=idx, values=val),
        BlendPart("band", 0.1, data={"G1": "1p", "G2": "1p"}),
    ]
    sha = write_blend(tmp_path / "m", parts, network=net, dtype="float32")
    assert {"sets.npz", "sets.tsv.gz", "bands.txt", "ease.safetensors", "blend.json"} <= set(sha)
    model = Model.load(tmp_path / "m")
    spec = json.loads((tmp_path / "m" / "blend.json").read_text())
    assert [p["scorer"] for p in spec["parts"]] == ["autoencoder", "setknn", "ease", "band"]
    assert spec["parts"][1]["top"] == 10
    ids = [np.array([1, 2, 5]), np.array([7, 9])]
    knn = SetKnnScorer(genes, mem, **options).score_ids(ids).astype(np.float64)
    ease = np.zeros((2, 40))
    dense = np.zeros((40, 40))
    np.put_along_axis(dense, idx, val, axis=1)
    for r, i in enumerate(ids):
        ease[r] = dense[i].sum(axis=0)
    band = BandScorer(genes, {"G1": "1p", "G2": "1p"}).score_ids(ids).astype(np.float64)

    def z(s):
        sd = s.std(1, keepdims=True)
        return (s - s.mean(1, keepdims=True)) / np.where(sd > 0, sd, 1)

    ae = np.log(model.autoencoder.score_ids(ids).astype(np.float64))
    ref = 0.3 * z(ae) + 0.4 * z(knn) + 0.2 * z(ease) + 0.1 * z(band)
    np.testing.assert_allclose(model.score_ids(ids), ref, atol=2e-4)
    assert model.describe()["family"] == "blend"


def test_fit_blend_model_writes_a_loadable_blend(tmp_path: Path):
    from test_model_network import write_published

    from gsea_plus.library.gmt import GeneSet, write_gmt
    from gsea_plus.model import load_model, predict
    from gsea_plus.model.blend import fit_blend_model
    from gsea_plus.model.ease import EaseSettings

    rng = np.random.default_rng(0)
    modules = [[f"G{m * 8 + g}" for g in range(8)] for m in range(5)]  # G0..G39
    sets = [
        GeneSet(f"s{i}", f"lib{i % 2}", tuple(rng.choice(modules[i % 5], 6, replace=False)))
        for i in range(80)
    ]
    write_gmt(sets, tmp_path / "corpus.gmt.gz")
    info = tmp_path / "gene_info"
    info.write_text("#tax_id\tSymbol\tmap_location\n9606\tG0\t1p\n9606\tG9\t1p\n")
    result = fit_blend_model(
        tmp_path / "corpus.gmt.gz",
        tmp_path / "blend",
        autoencoder=write_published(tmp_path / "ae"),
        gene_info=info,
        ease=EaseSettings(lam=2.0, k=5),
        knn={"top": 10, "power": 2.0},
    )
    record = json.loads((result.directory / "fit.json").read_text())
    assert record["weights"] == {"setknn": 0.4, "autoencoder": 0.4, "ease": 0.1, "band": 0.1}
    assert {"ease", "setknn", "band", "total"} <= set(record["seconds"])
    model = load_model(result.directory)
    assert [p["scorer"] for p in model.parts] == ["setknn", "autoencoder", "ease", "band"]
    df = predict(modules[2][:4], top=4, model=model, exclude_input=True)
    # the module's other genes come first (the untrained autoencoder adds noise)
    assert len(set(df["Gene"]) & set(modules[2])) >= 3
    assert df["Probability"].between(0, 1).all()
    # without an autoencoder or gene_info: those parts are left out, no embedding
    alone = fit_blend_model(
        tmp_path / "corpus.gmt.gz", tmp_path / "alone", autoencoder=None, knn={"top": 10}
    )
    model = load_model(alone.directory)
    assert [p["scorer"] for p in model.parts] == ["setknn", "ease"]
    with pytest.raises(ModelError, match="no set encoding"):
        model.encode([modules[0][:3]])
