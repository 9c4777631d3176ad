"""The gene set foundation model: numpy inference, corpus, training (torch), evaluation.

``predict``, ``embed`` and ``load_model`` run without torch; only
:mod:`gsea_plus.model.train` imports it.
"""

from __future__ import annotations

from gsea_plus.model.config import ModelConfig, TrainConfig
from gsea_plus.model.model import BUNDLED, Model, UnknownGenesWarning, embed, load_model, predict
from gsea_plus.model.scorers import GeneScorer

__all__ = [
    "BUNDLED",
    "GeneScorer",
    "Model",
    "ModelConfig",
    "TrainConfig",
    "UnknownGenesWarning",
    "embed",
    "load_model",
    "predict",
]
