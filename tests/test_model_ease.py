"""EASE (closed-form linear autoencoder): the fit against numpy, pruning, storage, loading."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gsea_plus.errors import InputError, ModelError
from gsea_plus.model.ease import (
    EaseSettings,
    ease_weights,
    fit_ease,
    gram_matrix,
    membership_matrix,
    prune_rows,
    quantize_rows,
    read_sparse_rows,
    set_weights,
    write_sparse_rows,
)


def random_ids(n_genes: int = 60, n_sets: int = 400, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [np.unique(rng.choice(n_genes, size=rng.integers(3, 20))) for _ in range(n_sets)]


def reference_ease(x: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """B = I - P diag(1/diag(P)), P = (X^T X + diag(lam))^-1, in float64."""
    p = np.linalg.inv(x.T @ x + np.diag(lam))
    b = np.eye(len(p)) - p / np.diag(p)[None, :]
    np.fill_diagonal(b, 0.0)
    return b


@pytest.mark.parametrize("dropout_ratio", [0.0, 0.5])
def test_ease_equals_a_direct_numpy_solve(dropout_ratio):
    ids = random_ids()
    x = membership_matrix(ids, 60)
    g = gram_matrix(x)
    dense = x.toarray().astype(np.float64)
    np.testing.assert_allclose(g, dense.T @ dense)
    lam = 7.0 + dropout_ratio * np.diag(dense.T @ dense)
    b = ease_weights(g, 7.0, dropout_ratio=dropout_ratio)
    np.testing.assert_allclose(b, reference_ease(dense, lam), atol=2e-6)
    assert np.all(np.diag(b) == 0)


def test_each_column_is_a_ridge_regression_on_the_other_genes():
    # EASE's diagonal constraint makes column j the ridge fit of gene j on the others
    ids = random_ids(n_genes=40, seed=3)
    dense = membership_matrix(ids, 40).toarray().astype(np.float64)
    b = ease_weights(gram_matrix(membership_matrix(ids, 40)), 4.0)
    for j in (0, 17, 39):
        others = [i for i in range(40) if i != j]
        a = dense[:, others]
        ridge = np.linalg.solve(a.T @ a + 4.0 * np.eye(39), a.T @ dense[:, j])
        np.testing.assert_allclose(b[others, j], ridge, atol=2e-6)


def test_weighted_gram_and_set_weights():
    ids = random_ids(n_genes=30, n_sets=50, seed=1)
    x = membership_matrix(ids, 30)
    w = np.linspace(0.5, 2.0, 50)
    dense = x.toarray().astype(np.float64)
    np.testing.assert_allclose(gram_matrix(x, w), dense.T @ np.diag(w) @ dense, rtol=1e-5)
    sizes = np.array([10, 20, 40, 10])
    sw = set_weights(sizes, ["a", "a", "a", "b"], size_power=1.0, source_power=1.0)
    raw = np.array([1 / 30, 1 / 60, 1 / 120, 1 / 10])
    np.testing.assert_allclose(sw, raw / raw.mean())
    assert sw.mean() == pytest.approx(1.0)
    with pytest.raises(InputError):
        set_weights(sizes, None, source_power=0.5)


def test_penalty_must_be_positive():
    g = np.zeros((3, 3), dtype=np.float32)
    with pytest.raises(InputError):
        ease_weights(g, 0.0)
    with pytest.raises(InputError):
        ease_weights(np.zeros((3, 3)), 1.0)  # float64 is refused, not copied silently


def test_prune_keeps_the_largest_weights_in_order():
    rng = np.random.default_rng(0)
    b = rng.standard_normal((20, 50)).astype(np.float32)
    idx, val = prune_rows(b, 5)
    for r in range(20):
        expected = np.argsort(-b[r])[:5]
        assert idx[r].tolist() == expected.tolist()
        np.testing.assert_array_equal(val[r], b[r, expected])
    sidx, sval = prune_rows(b, 5, signed=True)
    assert np.all(np.abs(sval[:, 0]) >= np.abs(sval[:, -1]))


def test_sparse_rows_round_trip(tmp_path: Path):
    rng = np.random.default_rng(2)
    idx = np.stack([rng.choice(300, size=8, replace=False) for _ in range(300)])
    val = rng.standard_normal((300, 8)).astype(np.float32)
    write_sparse_rows(tmp_path / "w.safetensors", idx, val)
    idx2, val2 = read_sparse_rows(tmp_path / "w.safetensors", 300)
    np.testing.assert_array_equal(idx2, idx)
    # int8 with one scale per row: error at most half a step
    step = np.abs(val).max(axis=1, keepdims=True) / 127
    assert np.all(np.abs(val2 - val) <= step / 2 + 1e-7)
    q, scale = quantize_rows(val)
    assert q.dtype == np.int8 and scale.shape == (300,)
    write_sparse_rows(tmp_path / "f.safetensors", idx, val, dtype="float32")
    np.testing.assert_array_equal(read_sparse_rows(tmp_path / "f.safetensors", 300)[1], val)
    with pytest.raises(ModelError, match="expected \\(301, k\\)"):
        read_sparse_rows(tmp_path / "w.safetensors", 301)


def module_sets(n_sets: int = 300, seed: int = 0) -> list[list[str]]:
    rng = np.random.default_rng(seed)
    modules = [[f"M{m}_{g}" for g in range(12)] for m in range(5)]
    return [
        list(rng.choice(modules[rng.integers(5)], size=rng.integers(5, 10), replace=False))
        for _ in range(n_sets)
    ]


def test_fit_ease_learns_modules():
    from gsea_plus.model.evaluate import auroc

    sets = module_sets()
    genes = sorted({g for s in sets for g in s})
    fit = fit_ease(sets, genes, settings=EaseSettings(lam=5.0, k=10))
    assert fit.weights.shape == (60, 60)
    index = {g: i for i, g in enumerate(genes)}
    q = np.zeros(60, dtype=np.float32)
    q[[index[f"M3_{g}"] for g in range(4)]] = 1
    scores = q @ fit.weights
    assert auroc(scores, np.array([g.startswith("M3_") for g in genes])) > 0.95
    with pytest.raises(InputError):
        fit_ease([["A"], ["B"]], ["A", "B"])


def test_ease_only_model_directory_loads_and_predicts(tmp_path: Path):
    from gsea_plus.model import load_model, predict
    from gsea_plus.model.ease import fit_ease_model

    sets = module_sets()
    result = fit_ease_model(sets, tmp_path / "ease", settings=EaseSettings(lam=5.0, k=20))
    directory = result.directory
    assert {p.name for p in directory.iterdir()} >= {"vocab.txt", "ease.safetensors", "ease.json"}
    info = json.loads((directory / "ease.json").read_text())
    assert info["family"] == "ease" and info["settings"]["lam"] == 5.0 and info["k"] == 20
    model = load_model(directory)
    assert model.family == "ease" and model.network is None
    assert not hasattr(model, "autoencoder")
    df = predict([f"M1_{g}" for g in range(4)], top=8, model=model, exclude_input=True)
    assert df["Gene"].str.startswith("M1_").all()
    assert df["Probability"].isna().all()
    with pytest.raises(ModelError, match="no set encoding"):
        model.encode([["M1_0", "M1_1"]])
    assert model.describe()["family"] == "ease"


def test_blend_with_an_ease_part_loads_and_is_the_documented_formula(tmp_path: Path):
    from test_model_network import GENES, write_published

    from gsea_plus.model import load_model
    from gsea_plus.model.model import Model

    directory = write_published(tmp_path / "m")
    published = Model.load(directory)  # the published layout alone: the autoencoder
    assert published.family == "autoencoder"
    rng = np.random.default_rng(0)
    n = len(GENES)
    idx = np.stack([rng.choice(n, size=6, replace=False) for _ in range(n)])
    val = rng.random((n, 6)).astype(np.float32)
    write_sparse_rows(directory / "ease.safetensors", idx, val, dtype="float32")
    blend = {
        "parts": [
            {"scorer": "autoencoder", "weight": 0.6, "transform": "log"},
            {"scorer": "ease", "file": "ease.safetensors", "weight": 0.4},
        ]
    }
    (directory / "blend.json").write_text(json.dumps(blend))
    model = load_model(directory)
    assert model.family == "blend" and [p["scorer"] for p in model.parts] == ["autoencoder", "ease"]
    ids = [np.array([1, 5, 9]), np.array([0, 2])]
    dense = np.zeros((n, n), dtype=np.float64)
    np.put_along_axis(dense, idx, val, axis=1)
    q = np.zeros((2, n))
    for r, i in enumerate(ids):
        q[r, i] = 1

    def z(s):
        return (s - s.mean(1, keepdims=True)) / s.std(1, keepdims=True)

    ae = np.log(model.autoencoder.score_ids(ids).astype(np.float64))
    ref = 0.6 * z(ae) + 0.4 * z(q @ dense)
    np.testing.assert_allclose(model.score_ids(ids), ref, atol=2e-4)
    assert model.encode([GENES[:3]]).shape == (1, 8)  # the autoencoder still embeds
    info = model.describe()
    assert info["family"] == "blend" and info["architecture"].startswith("encoder")


def test_blend_without_its_autoencoder_is_a_clear_error(tmp_path: Path):
    from gsea_plus.model.model import Model

    (tmp_path / "vocab.txt").write_text("<unk>\n<pad>\nA\nB\nC\n")
    write_sparse_rows(tmp_path / "ease.safetensors", np.array([[1], [2], [0]]), np.ones((3, 1)))
    (tmp_path / "blend.json").write_text(
        json.dumps({"parts": [{"scorer": "autoencoder"}, {"scorer": "ease"}]})
    )
    with pytest.raises(ModelError, match="model.safetensors is missing"):
        Model.load(tmp_path)
    (tmp_path / "blend.json").write_text(json.dumps({"parts": [{"scorer": "magic"}]}))
    with pytest.raises(ModelError, match="unknown scorer 'magic'"):
        Model.load(tmp_path)
