"""A tiny training run: the loss falls, checkpoints resume, weights load in numpy."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from gsea_plus.model.config import ModelConfig, TrainConfig  # noqa: E402
from gsea_plus.model.network import Autoencoder  # noqa: E402
from gsea_plus.model.train import train_model  # noqa: E402


def modular_sets(n_sets: int = 300, seed: int = 0) -> list[list[str]]:
    """Sets drawn from 6 gene modules: a learnable structure."""
    rng = np.random.default_rng(seed)
    modules = [[f"M{m}_{g}" for g in range(15)] for m in range(6)]
    sets = []
    for _ in range(n_sets):
        m = modules[rng.integers(6)]
        sets.append(list(rng.choice(m, size=rng.integers(6, 12), replace=False)))
    return sets


@pytest.mark.parametrize(("loss", "partition"), [("bce", 0.0), ("softmax", 0.5)])
def test_training_lowers_loss_and_learns_modules(tmp_path, loss, partition):
    sets = modular_sets()
    cfg = ModelConfig(
        vocab_size=3, d_model=16, depth=2, dropout=0.1, partition=partition, loss=loss
    )
    result = train_model(
        sets,
        tmp_path / "m",
        config=cfg,
        train=TrainConfig(epochs=8, batch_size=32, lr=1e-2, early_stop=0, seed=1, threads=1),
    )
    losses = [h["train_loss"] for h in result.history]
    assert len(losses) == 8
    assert losses[-1] < 0.8 * losses[0]
    net = Autoencoder.load(tmp_path / "m")
    assert net.config.loss == loss and net.config.vocab_size == 2 + 90
    # genes of the input's module outrank the others
    ids = np.array([net.vocab.index[f"M2_{g}"] for g in range(5)])
    scores = net.score_ids([ids])[0]
    genes = net.genes
    same = np.array([g.startswith("M2_") for g in genes])
    from gsea_plus.model.evaluate import auroc

    assert auroc(scores, same) > 0.95
    info = json.loads((tmp_path / "m" / "train.json").read_text())
    assert info["n_val"] > 0 and info["n_train"] + info["n_val"] == len(sets)


def test_resume_continues_from_checkpoint(tmp_path):
    sets = modular_sets()
    cfg = ModelConfig(vocab_size=3, d_model=16, partition=0.5, loss="softmax")
    settings = dict(batch_size=32, lr=3e-3, early_stop=0, seed=2, threads=1)
    first = train_model(sets, tmp_path / "m", config=cfg, train=TrainConfig(epochs=2, **settings))
    assert (tmp_path / "m" / "checkpoint.safetensors").exists()
    second = train_model(sets, tmp_path / "m", config=cfg, train=TrainConfig(epochs=4, **settings))
    assert [h["epoch"] for h in second.history] == [1, 2, 3, 4]
    assert second.history[:2] == first.history  # the first two epochs were not rerun
    assert second.history[3]["train_loss"] < first.history[0]["train_loss"]
    # nothing to do when the target is reached
    third = train_model(sets, tmp_path / "m", config=cfg, train=TrainConfig(epochs=4, **settings))
    assert len(third.history) == 4


def test_training_needs_sets(tmp_path):
    from gsea_plus.errors import InputError

    with pytest.raises(InputError):
        train_model([["A", "B"]], tmp_path / "m")
