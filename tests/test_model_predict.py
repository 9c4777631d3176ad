"""predict / embed / load_model on the bundled model, and `gsea-plus predict`."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from gsea_plus.errors import InputError
from gsea_plus.model import BUNDLED, Model, UnknownGenesWarning, embed, load_model, predict

pytestmark = pytest.mark.skipif(
    not (BUNDLED / "model.safetensors").exists(), reason="the bundled model is not built"
)

GLYCOLYSIS = ["HK1", "HK2", "GPI", "PFKL", "PFKM", "ALDOA", "TPI1", "GAPDH", "PGK1", "ENO1"]


def test_bundled_model_layout():
    model = load_model()
    assert isinstance(model, Model)
    cfg = json.loads((BUNDLED / "config.json").read_text())
    assert {"vocab_size", "d_model", "depth", "dropout"} <= set(cfg)
    assert len(model.vocab) == cfg["vocab_size"] - 2
    assert (BUNDLED / "vocab.txt").read_text().splitlines()[:2] == ["<unk>", "<pad>"]
    total = sum(p.stat().st_size for p in BUNDLED.iterdir())
    assert total < 55e6
    assert load_model() is model  # cached


def test_predict_ranks_the_pathway():
    df = predict(GLYCOLYSIS[:6], top=30)
    assert list(df.columns) == ["Rank", "Gene", "Score", "Probability", "In input"]
    assert df["Rank"].tolist() == list(range(1, 31))
    assert df["Score"].is_monotonic_decreasing
    assert df["Probability"].between(0, 1).all()
    assert set(df.loc[df["In input"], "Gene"]) <= set(GLYCOLYSIS[:6])
    predicted = set(df.loc[~df["In input"], "Gene"])
    assert len(predicted & set(GLYCOLYSIS[6:])) >= 3  # held-out glycolysis genes come back
    out = predict(GLYCOLYSIS[:6], top=10, exclude_input=True)
    assert not out["In input"].any() and len(out) == 10


def test_predict_reports_unknown_genes_and_rejects_all_unknown():
    with pytest.warns(UnknownGenesWarning, match="NOT_A_GENE"):
        df = predict(["HK1", "GAPDH", "not_a_gene"], top=5)
    assert df.attrs["unknown"] == ["NOT_A_GENE"]
    with pytest.raises(InputError, match="none of the 2 input genes"):
        predict(["XYZ1", "XYZ2"])
    with pytest.raises(InputError):
        predict([])


def test_embed_shapes_and_similarity():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        v = embed(GLYCOLYSIS)
    assert v.shape == (256,) and v.dtype == np.float32
    many = embed([GLYCOLYSIS[:5], GLYCOLYSIS[5:], ["CD3E", "CD4", "CD8A", "LCK", "ZAP70"]])
    assert many.shape == (3, 256)
    cos = many @ many.T / np.outer(np.linalg.norm(many, axis=1), np.linalg.norm(many, axis=1))
    assert cos[0, 1] > cos[0, 2]  # two halves of glycolysis are closer than T cells


def test_batched_scores_equal_one_list_at_a_time():
    # Speed goals are measured by benchmarks/model_speed.py, not asserted here.
    model = load_model()
    rng = np.random.default_rng(0)
    lists = [list(rng.choice(model.vocab, size=30, replace=False)) for _ in range(40)]
    batched = model.score(lists)
    single = np.vstack([model.score([gl]) for gl in lists])
    assert batched.shape == (40, len(model.vocab))
    np.testing.assert_allclose(batched, single, rtol=1e-5, atol=1e-6)
    enc = model.encode(lists)
    np.testing.assert_allclose(enc[7], model.encode([lists[7]])[0], rtol=1e-5, atol=1e-6)


def test_cli_predict_tsv_when_piped(tmp_path):
    from gsea_plus.cli import app

    genes = tmp_path / "genes.txt"
    genes.write_text("\n".join(GLYCOLYSIS[:6] + ["notagene"]) + "\n")
    result = CliRunner().invoke(app, ["predict", str(genes), "--top", "7"])
    assert result.exit_code == 0, result.output
    lines = [ln for ln in result.stdout.splitlines() if ln]
    assert lines[0].split("\t") == ["Rank", "Gene", "Score", "Probability", "In input"]
    assert len(lines) == 8
    assert "NOTAGENE" in result.stderr and "not in the model vocabulary" in result.stderr
    out = tmp_path / "pred.json"
    result = CliRunner().invoke(app, ["predict", str(genes), "-n", "3", "-o", str(out)])
    assert result.exit_code == 0, result.output
    data = pd.read_json(out)
    assert len(data) == 3


def test_cli_predict_all_unknown_is_one_line_error(tmp_path):
    import subprocess
    import sys

    genes = tmp_path / "genes.txt"
    genes.write_text("FOO1\nFOO2\n")
    code = (
        "import sys; from gsea_plus.cli import main; "
        "sys.argv = ['gsea-plus', 'predict', sys.argv[1]]; main()"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(genes)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "none of the 2 input genes" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_model_info():
    from gsea_plus.cli import app

    result = CliRunner().invoke(app, ["model", "info"])
    assert result.exit_code == 0, result.output
    assert "model.safetensors" in result.stdout and "vocabulary" in result.stdout


def test_predict_import_does_not_load_torch():
    import subprocess
    import sys

    code = (
        "import sys, gsea_plus; gsea_plus.predict(['HK1','GAPDH','PGK1'], top=3); "
        "gsea_plus.embed(['HK1','GAPDH']); print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_blend_score_is_the_documented_formula():
    model = load_model()
    spec = json.loads((BUNDLED / "blend.json").read_text())
    kinds = [p["scorer"] for p in spec["parts"]]
    assert kinds == [scorer.name for scorer, _, _ in model.scorer.parts]
    rng = np.random.default_rng(5)
    ids = [rng.choice(len(model.vocab), size=n, replace=False) for n in (3, 20, 60)]

    def z(s):
        sd = s.std(1, keepdims=True)
        return (s - s.mean(1, keepdims=True)) / np.where(sd > 0, sd, 1.0)

    ref = np.zeros((len(ids), len(model.vocab)))
    for part, (scorer, weight, transform) in zip(spec["parts"], model.scorer.parts, strict=True):
        assert weight == part["weight"] and transform == part.get("transform", "none")
        if part["scorer"] == "autoencoder":
            raw = np.log(model.autoencoder.score_ids(ids).astype(np.float64))
        else:
            raw = scorer.score_ids(ids).astype(np.float64)
        ref += weight * z(raw)
    np.testing.assert_allclose(model.score_ids(ids), ref, atol=5e-4)
    ae = model.autoencoder.score_ids(ids).astype(np.float64)
    np.testing.assert_allclose(ae.sum(axis=1), 1.0, rtol=1e-4)  # softmax probabilities


def test_bundled_model_describes_its_parts():
    info = load_model().describe()
    assert info["family"] == "blend" and info["embedding"] == 256
    assert [p["scorer"] for p in info["parts"]] == ["setknn", "autoencoder", "ease", "band"]
    assert {f["name"] for f in info["files"]} >= {"sets.npz", "ease.safetensors", "bands.txt"}


def test_explain_columns_sum_to_the_score_and_name_the_corpus_sets():
    df = predict(GLYCOLYSIS[:6], top=15, explain=True)
    parts = ["setknn", "autoencoder", "ease", "band"]
    base = ["Rank", "Gene", "Score", "Probability", "In input"]
    assert list(df.columns) == [*base, *parts, "Top set"]
    np.testing.assert_allclose(df[parts].sum(axis=1), df["Score"], atol=1e-4)
    # the top predictions come from similar corpus sets, each named with its library
    assert df["Top set"].head(5).str.contains(r"\[.+/.+\]").all()
    sets = load_model().similar_sets(GLYCOLYSIS[:6], top=5)
    assert list(sets.columns) == ["Rank", "Term", "Source", "Similarity", "Overlap", "Size"]
    assert sets["Similarity"].is_monotonic_decreasing and (sets["Overlap"] >= 3).all()
    assert sets["Term"].str.len().gt(0).all() and sets["Source"].str.contains("/").all()
