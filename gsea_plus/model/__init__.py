"""The gene set foundation model: numpy inference, corpus, training, evaluation.

``predict``, ``embed`` and ``load_model`` run without torch; only
:mod:`gsea_plus.model.train` (the autoencoder) imports it. The bundled model is a blend
(:mod:`gsea_plus.model.blend`): nearest corpus sets (:mod:`~gsea_plus.model.knn`), the
autoencoder, a pruned linear autoencoder (:mod:`~gsea_plus.model.ease`) and gene bands
(:mod:`~gsea_plus.model.bands`); :func:`gsea_plus.model.blend.fit_blend_model` fits its
corpus parts without torch.
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
