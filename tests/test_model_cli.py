"""The model commands as a user runs them: train families, evaluate baselines, info, predict."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
from conftest import assert_one_error_line, run_exe, subprocess_env
from test_model_ease import module_sets

from gsea_plus.library.gmt import GeneSet, write_gmt
from gsea_plus.model import load_model, predict

GLYCOLYSIS = ["HK2", "PFKP", "ALDOA", "GAPDH", "PGK1", "ENO1"]


@pytest.fixture
def corpus(tmp_path):
    """A corpus of five gene modules, as `gsea-plus model corpus` writes it."""
    sets = [
        GeneSet(f"s{i}", f"lib{i % 3}", tuple(genes))
        for i, genes in enumerate(module_sets(n_sets=200))
    ]
    path = tmp_path / "corpus.gmt.gz"
    write_gmt(sets, path)
    return path


def test_train_family_ease_writes_a_model_that_predicts_its_modules(tmp_path, corpus):
    out = tmp_path / "ease"
    code, _, err = run_exe(
        "model", "train", corpus, "-o", out, "--family", "ease", "--lam", "5", "--keep", "20"
    )
    assert code == 0, err
    assert "ease model ->" in err
    info = json.loads((out / "ease.json").read_text())
    assert info["settings"]["lam"] == 5.0 and info["k"] == 20
    assert info["settings"]["size_power"] == 0.5  # the CLI's default, as the bundle's EASE
    df = predict([f"M2_{g}" for g in range(4)], top=6, model=load_model(out))
    assert df["Gene"].str.startswith("M2_").all()
    # `model info` works for a model without an autoencoder (it used to crash)
    code, out_text, err = run_exe("model", "info", "--model", out)
    assert code == 0, err
    text = out_text.decode()
    assert "family: ease" in text and "ease.safetensors" in text and "architecture" not in text


def test_train_family_blend_without_autoencoder_has_setknn_and_ease(tmp_path, corpus):
    out = tmp_path / "blend"
    # no training data beside the project: no gene_info table, so no band part
    env = subprocess_env(GSEA_PLUS_TRAINING_DATA=str(tmp_path / "none"))
    code, _, err = run_exe("model", "train", corpus, "-o", out, "--family", "blend", env=env)
    assert code == 0, err
    assert "no gene_info table found" in err
    model = load_model(out)
    assert [p["scorer"] for p in model.parts] == ["setknn", "ease"]
    code, out_text, _ = run_exe("model", "info", "--model", out)
    assert code == 0 and "family: blend" in out_text.decode()
    assert "part scorer setknn" in out_text.decode()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--family", "gpt"], "--family must be one of autoencoder, ease, blend"),
        (["--family", "ease", "--dtype", "int4"], "--dtype must be"),
    ],
)
def test_train_refuses_an_unknown_family_or_dtype(tmp_path, corpus, args, needle):
    code, _, err = run_exe("model", "train", corpus, "-o", tmp_path / "m", *args)
    assert code == 2
    assert_one_error_line(code, err, needle)
    assert not (tmp_path / "m").exists()


def test_evaluate_prints_baselines_from_the_default_corpus(tmp_path):
    corpus = tmp_path / "corpus.gmt.gz"
    rng = np.random.default_rng(0)
    vocab = load_model().vocab.tolist()[:400]
    write_gmt(
        [GeneSet(f"c{i}", "src", tuple(rng.choice(vocab, 15, replace=False))) for i in range(60)],
        corpus,
    )
    library = tmp_path / "lib.gmt"
    library.write_text(
        "".join(
            f"T{i}\t\t" + "\t".join(rng.choice(vocab, 12, replace=False)) + "\n" for i in range(6)
        )
    )
    env = subprocess_env(GSEA_PLUS_CORPUS=str(corpus))
    args = ("model", "evaluate", "-l", library, "--repeats", "1", "-f", "tsv")
    code, out, err = run_exe(*args, env=env)
    assert code == 0, err
    table = pd.read_csv(io.BytesIO(out), sep="\t")
    assert {"model", "cooccurrence", "cooccurrence_cosine", "random"} <= set(table["method"])
    assert f"baseline corpus: {corpus}" in err
    # --no-baselines: the model and random rows only, and no word about a corpus
    code, out, err = run_exe(*args, "--no-baselines", env=env)
    assert code == 0, err
    table = pd.read_csv(io.BytesIO(out), sep="\t")
    assert set(table["method"]) == {"model", "random"}
    assert "corpus" not in err
    # nothing to build the corpus from: the table without baselines, and how to get them
    env = subprocess_env(GSEA_PLUS_TRAINING_DATA=str(tmp_path / "none"), GSEA_PLUS_CORPUS="")
    code, out, err = run_exe(*args, env=env)
    assert code == 0, err
    assert "co-occurrence baselines skipped" in err and "--corpus" in err


def test_predict_explain_and_similar_sets_from_the_command_line(tmp_path):
    genes = tmp_path / "genes.txt"
    genes.write_text("\n".join(GLYCOLYSIS) + "\n")
    code, out, err = run_exe("predict", genes, "--top", "5", "--explain")
    assert code == 0, err
    df = pd.read_csv(io.BytesIO(out), sep="\t")
    parts = ["setknn", "autoencoder", "ease", "band"]
    assert list(df.columns) == [
        "Rank",
        "Gene",
        "Score",
        "Probability",
        "In input",
        *parts,
        "Top set",
    ]
    np.testing.assert_allclose(df[parts].sum(axis=1), df["Score"], atol=1e-4)
    code, out, err = run_exe("predict", genes, "--similar-sets", "4", "-f", "table")
    assert code == 0, err
    text = out.decode()
    assert "most similar corpus sets" in text and "Similarity" in text
    code, out, err = run_exe("predict", genes, "--similar-sets", "4", "-o", tmp_path / "s.csv")
    assert code == 0, err
    sets = pd.read_csv(tmp_path / "s.csv")
    assert len(sets) == 4 and sets["Similarity"].is_monotonic_decreasing
    direct = load_model().similar_sets(GLYCOLYSIS, top=4)
    assert sets["Term"].tolist() == direct["Term"].tolist()
    np.testing.assert_allclose(sets["Similarity"], direct["Similarity"], rtol=1e-6)


def _bundle_copy(tmp_path):
    """The bundled model's files, linked into a directory a test may damage."""
    from gsea_plus.model.model import BUNDLED

    copy = tmp_path / "model"
    copy.mkdir()
    for f in BUNDLED.iterdir():
        (copy / f.name).symlink_to(f)
    return copy


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"weight": "heavy"}, "weight 'heavy' is not a number"),
        ({"weight": float("nan")}, "is not finite"),
        ({"transform": "cube"}, "transform 'cube'"),
        ({"top": "all"}, "top 'all' has the wrong type"),
        ({"file": "../../etc/passwd"}, "must be a file name"),
    ],
)
def test_a_blend_description_with_wrong_types_is_one_error_line(tmp_path, change, needle):
    model = _bundle_copy(tmp_path)
    spec = json.loads((model / "blend.json").read_text())
    spec["parts"][0].update(change)
    (model / "blend.json").unlink()
    (model / "blend.json").write_text(json.dumps(spec))
    genes = tmp_path / "genes.txt"
    genes.write_text("\n".join(GLYCOLYSIS) + "\n")
    code, out, err = run_exe("predict", genes, "-m", model)
    assert code == 2 and out == b""
    assert_one_error_line(code, err, "invalid blend description", needle)


def test_weights_with_nan_are_refused_not_ranked(tmp_path):
    from safetensors.numpy import load_file, save_file

    from gsea_plus.model.model import BUNDLED

    model = _bundle_copy(tmp_path)
    tensors = load_file(str(BUNDLED / "model.safetensors"))
    tensors["decoder.layers.3.weight.scale"][:] = np.nan
    (model / "model.safetensors").unlink()
    save_file(tensors, str(model / "model.safetensors"))
    genes = tmp_path / "genes.txt"
    genes.write_text("\n".join(GLYCOLYSIS) + "\n")
    code, out, err = run_exe("predict", genes, "-m", model)
    assert code == 2 and out == b""
    assert_one_error_line(code, err, "NaN or infinite", "model.safetensors")
