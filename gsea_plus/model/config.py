"""The model configuration, saved as ``config.json`` beside the weights.

The fields ``vocab_size``, ``d_model``, ``depth`` and ``dropout`` are those of the
published GSFM checkpoints (Clarke, Marino, Ma'ayan, Patterns 2025), so a published
``config.json`` loads as is; unknown keys are kept in :attr:`ModelConfig.extra`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from gsea_plus.errors import ModelError

log = logging.getLogger(__name__)

__all__ = ["ModelConfig", "TrainConfig", "layer_dims"]


@dataclass
class ModelConfig:
    """Architecture of the gene set autoencoder.

    Attributes
    ----------
    vocab_size
        Number of tokens, ``<unk>`` (0) and ``<pad>`` (1) included.
    d_model
        Width of the set encoding (the 256-d embedding of the published model).
    depth
        Number of linear layers in the encoder and in the decoder. The encoder widths
        halve from ``d_model * 2**(depth-1)`` down to ``d_model``; the decoder mirrors it.
    dropout
        Dropout after each hidden ReLU (training only).
    partition
        Fraction of each set hidden from the input during training (0: reconstruct the
        whole set, denoising only through dropout; 0.8: feed 20% and predict the rest).
    loss
        ``"bce"`` (published: independent sigmoid per gene) or ``"softmax"``
        (multinomial likelihood, as in Mult-DAE). It decides how :meth:`Model.score`
        turns logits into probabilities.
    extra
        Keys of a loaded ``config.json`` that this class does not know (kept on save).
    """

    vocab_size: int
    d_model: int = 256
    depth: int = 2
    dropout: float = 0.2
    partition: float = 0.0
    loss: str = "bce"
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.vocab_size < 3:
            raise ModelError(f"vocab_size must be at least 3, got {self.vocab_size}")
        if self.d_model < 1 or self.depth < 1:
            raise ModelError("d_model and depth must be positive")
        if not 0.0 <= self.dropout < 1.0 or not 0.0 <= self.partition < 1.0:
            raise ModelError("dropout and partition must lie in [0, 1)")
        if self.loss not in ("bce", "softmax"):
            raise ModelError(f"loss must be 'bce' or 'softmax', got {self.loss!r}")

    @property
    def encoder_dims(self) -> list[int]:
        """Widths of the encoder, input first (``[V, 512, 256]`` for the default)."""
        return layer_dims(self)[0]

    @property
    def decoder_dims(self) -> list[int]:
        """Widths of the decoder, input first (``[256, 256, V]`` for the default)."""
        return layer_dims(self)[1]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: the known fields, then the extra keys."""
        data = {k: v for k, v in asdict(self).items() if k != "extra"}
        return {**self.extra, **data}

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "config") -> ModelConfig:
        """Build from the JSON form; raises :class:`ModelError` naming ``source``."""
        if not isinstance(data, dict):
            raise ModelError(f"{source}: expected a JSON object")
        known = {f.name for f in fields(cls)} - {"extra"}
        if "vocab_size" not in data:
            raise ModelError(f"{source}: missing 'vocab_size'")
        kwargs = {k: data[k] for k in known if k in data}
        extra = {k: v for k, v in data.items() if k not in known}
        try:
            kwargs["vocab_size"] = int(kwargs["vocab_size"])
            for key in ("d_model", "depth"):
                if key in kwargs:
                    kwargs[key] = int(kwargs[key])
            for key in ("dropout", "partition"):
                if key in kwargs:
                    kwargs[key] = float(kwargs[key])
            return cls(**kwargs, extra=extra)
        except (TypeError, ValueError) as exc:
            raise ModelError(f"{source}: invalid config ({exc})") from exc
        except ModelError as exc:
            raise ModelError(f"{source}: {exc}") from exc

    def save(self, path: str | Path) -> None:
        """Write ``config.json`` atomically."""
        from gsea_plus.library.cache import atomic_write

        atomic_write(Path(path), (json.dumps(self.to_dict(), indent=2) + "\n").encode())

    @classmethod
    def load(cls, path: str | Path) -> ModelConfig:
        """Read ``config.json``."""
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ModelError(f"{path}: no such file") from exc
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelError(f"{path}: cannot read the model config ({exc})") from exc
        return cls.from_dict(data, source=str(path))


def layer_dims(config: ModelConfig) -> tuple[list[int], list[int]]:
    """Encoder and decoder widths, following the published GSFM layout."""
    d, depth, v = config.d_model, config.depth, config.vocab_size
    encoder = [v, *[d * 2 ** (n - 1) for n in range(depth, 1, -1)], d]
    decoder = [d, *[d * 2 ** (n - 1) for n in range(1, depth)], v]
    return encoder, decoder


@dataclass
class TrainConfig:
    """Optimisation settings (saved as ``train.json`` beside a trained model).

    Attributes
    ----------
    epochs
        Maximum number of passes over the training sets.
    batch_size
        Sets per step.
    lr
        Adam learning rate.
    weight_decay
        Adam weight decay.
    lr_factor, lr_patience
        ReduceLROnPlateau on the validation loss.
    val_fraction
        Fraction of sets held out for validation (seeded).
    seed
        Seed of every random choice (split, initialisation, corruption, dropout).
    threads
        torch CPU threads (0: torch's default).
    max_minutes
        Stop after this much wall time (0: no limit); the last checkpoint is kept.
    early_stop
        Stop after this many epochs without validation improvement (0: never).
    """

    epochs: int = 50
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.0
    lr_factor: float = 0.25
    lr_patience: int = 1
    val_fraction: float = 0.05
    seed: int = 0
    threads: int = 0
    max_minutes: float = 0.0
    early_stop: int = 3

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return asdict(self)
