"""The autoencoder in numpy: loading weights (published layout) and inference.

A checkpoint directory holds ``config.json``, ``vocab.txt`` and ``model.safetensors``
with the published GSFM keys ``encoder.layers.{0,3,...}.{weight,bias}`` and
``decoder.layers.*`` (PyTorch ``Linear`` layout: ``weight`` is out x in). Weights may be
float32, float16, or int8 with a float32 ``<key>.scale`` per output row. Pickle
checkpoints (``.bin``/``.pt``/``.pkl``/``.ckpt``) are refused: loading them would run
arbitrary code.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from gsea_plus.errors import ModelError
from gsea_plus.model.config import ModelConfig
from gsea_plus.model.vocab import SPECIAL, Vocab

log = logging.getLogger(__name__)

__all__ = [
    "PICKLE_SUFFIXES",
    "Autoencoder",
    "dequantize",
    "expected_keys",
    "quantize_int8",
    "read_safetensors",
]

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt")
WEIGHTS = "model.safetensors"


def expected_keys(config: ModelConfig) -> dict[str, tuple[int, ...]]:
    """The published parameter names and their shapes for ``config``."""
    keys: dict[str, tuple[int, ...]] = {}
    for part, dims in (("encoder", config.encoder_dims), ("decoder", config.decoder_dims)):
        for k in range(len(dims) - 1):
            keys[f"{part}.layers.{3 * k}.weight"] = (dims[k + 1], dims[k])
            keys[f"{part}.layers.{3 * k}.bias"] = (dims[k + 1],)
    return keys


def read_safetensors(path: str | Path) -> dict[str, np.ndarray]:
    """Read a safetensors file into numpy arrays; errors name the file."""
    path = Path(path)
    if path.suffix.lower() in PICKLE_SUFFIXES:
        raise ModelError(
            f"{path}: pickle checkpoints are not loaded (they can run arbitrary code); "
            "convert it to model.safetensors"
        )
    if not path.exists():
        raise ModelError(f"{path}: no such file")
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError, TypeError) as exc:
        raise ModelError(f"{path}: not a readable safetensors file ({exc})") from exc


def quantize_int8(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric int8 quantization with one float32 scale per row."""
    weight = np.asarray(weight, dtype=np.float32)
    scale = np.abs(weight).max(axis=1) / 127.0
    scale[scale == 0] = 1.0
    q = np.clip(np.rint(weight / scale[:, None]), -127, 127).astype(np.int8)
    return q, scale.astype(np.float32)


def dequantize(tensors: dict[str, np.ndarray], key: str, *, source: str = "weights") -> np.ndarray:
    """The float32 value of ``key`` (float32, float16, or int8 with ``key.scale``)."""
    value = tensors[key]
    if value.dtype == np.int8:
        scale = tensors.get(f"{key}.scale")
        if scale is None:
            raise ModelError(f"{source}: {key} is int8 but {key}.scale is missing")
        check_finite(scale, f"{key}.scale", source)
        if value.ndim == 1:
            return value.astype(np.float32) * np.float32(scale.reshape(-1)[0])
        return value.astype(np.float32) * scale.astype(np.float32)[:, None]
    if value.dtype not in (np.float32, np.float16, np.float64):
        raise ModelError(
            f"{source}: {key} has dtype {value.dtype}; expected float32, float16 or int8"
        )
    out = value.astype(np.float32)
    check_finite(out, key, source)
    return out


def check_finite(values: np.ndarray, key: str, source: str) -> None:
    """A weight with NaN or infinity would rank every gene as noise: refuse the file."""
    if values.dtype.kind == "f" and not np.isfinite(values).all():
        raise ModelError(f"{source}: {key} holds NaN or infinite values (a corrupt model file)")


class Autoencoder:
    """The GSFM autoencoder evaluated with numpy (eval mode: dropout off).

    Parameters
    ----------
    config
        Architecture.
    vocab
        Gene vocabulary (``<unk>``, ``<pad>`` first).
    tensors
        Parameters under the published names (any supported dtype).
    source
        Name used in error messages (the weights file).
    """

    def __init__(
        self,
        config: ModelConfig,
        vocab: Vocab,
        tensors: dict[str, np.ndarray],
        *,
        source: str = "weights",
    ):
        if len(vocab) != config.vocab_size:
            raise ModelError(
                f"{source}: vocab.txt has {len(vocab)} tokens but config vocab_size is "
                f"{config.vocab_size}"
            )
        expected = expected_keys(config)
        missing = [k for k in expected if k not in tensors]
        if missing:
            raise ModelError(f"{source}: missing keys {', '.join(missing[:4])}")
        layers: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {"encoder": [], "decoder": []}
        for key, shape in expected.items():
            if tuple(tensors[key].shape) != shape:
                raise ModelError(
                    f"{source}: {key} has shape {tuple(tensors[key].shape)}, expected {shape} "
                    f"(vocab_size={config.vocab_size}, d_model={config.d_model}, "
                    f"depth={config.depth})"
                )
        for key in expected:
            if key.endswith(".weight"):
                part = key.split(".", 1)[0]
                w = dequantize(tensors, key, source=source)
                b = dequantize(tensors, key[: -len("weight")] + "bias", source=source)
                layers[part].append((np.ascontiguousarray(w.T), b))
        self.config = config
        self.vocab = vocab
        self.source = source
        # (in x out) layouts: the first is gathered by row, the others multiply.
        self.encoder = layers["encoder"]
        self.decoder = layers["decoder"]

    @property
    def genes(self) -> np.ndarray:
        """The genes scored (vocabulary without the special tokens)."""
        return self.vocab.genes

    # ---------------------------------------------------------------- loading
    @classmethod
    def load(cls, directory: str | Path) -> Autoencoder:
        """Load ``config.json``, ``vocab.txt`` and ``model.safetensors`` from a directory."""
        directory = Path(directory)
        if not directory.is_dir():
            raise ModelError(f"{directory}: not a model directory")
        weights = directory / WEIGHTS
        if not weights.exists():
            pickles = [p.name for p in directory.iterdir() if p.suffix.lower() in PICKLE_SUFFIXES]
            if pickles:
                raise ModelError(
                    f"{directory / pickles[0]}: pickle checkpoints are not loaded (they can "
                    "run arbitrary code); provide model.safetensors"
                )
            raise ModelError(f"{weights}: no such file")
        config = ModelConfig.load(directory / "config.json")
        vocab = Vocab.load(directory / "vocab.txt")
        return cls(config, vocab, read_safetensors(weights), source=str(weights))

    def tensors(self, dtype: str = "float32") -> dict[str, np.ndarray]:
        """Parameters under the published names, as ``float32``, ``float16`` or ``int8``."""
        out: dict[str, np.ndarray] = {}
        for part, layers in (("encoder", self.encoder), ("decoder", self.decoder)):
            for k, (w, b) in enumerate(layers):
                key = f"{part}.layers.{3 * k}"
                weight = np.ascontiguousarray(w.T)
                if dtype == "int8":
                    q, scale = quantize_int8(weight)
                    out[f"{key}.weight"], out[f"{key}.weight.scale"] = q, scale
                    out[f"{key}.bias"] = b.astype(np.float32)
                else:
                    out[f"{key}.weight"] = weight.astype(dtype)
                    out[f"{key}.bias"] = b.astype(dtype)
        return out

    def save(self, directory: str | Path, *, dtype: str = "float32") -> None:
        """Write the published layout (``dtype``: float32, float16 or int8)."""
        from safetensors.numpy import save

        from gsea_plus.library.cache import atomic_write

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        atomic_write(directory / WEIGHTS, save(self.tensors(dtype)))
        self.config.save(directory / "config.json")
        self.vocab.save(directory / "vocab.txt")

    # ---------------------------------------------------------------- inference
    def multi_hot(self, ids: Sequence[np.ndarray]) -> sp.csr_matrix:
        """CSR multi-hot matrix (n x vocab_size) from per-set index arrays."""
        indptr = np.zeros(len(ids) + 1, dtype=np.int64)
        indptr[1:] = np.cumsum([len(i) for i in ids])
        indices = np.concatenate(ids) if len(ids) else np.zeros(0, dtype=np.int64)
        data = np.ones(len(indices), dtype=np.float32)
        return sp.csr_matrix((data, indices, indptr), shape=(len(ids), self.config.vocab_size))

    def encode_ids(self, ids: Sequence[np.ndarray]) -> np.ndarray:
        """Set encodings (n x d_model) from per-set vocabulary indices."""
        w0, b0 = self.encoder[0]
        h = np.asarray(self.multi_hot(ids) @ w0) + b0
        for w, b in self.encoder[1:]:
            h = np.maximum(h, 0.0) @ w + b
        return h.astype(np.float32, copy=False)

    def logits_from_encoding(self, h: np.ndarray) -> np.ndarray:
        """Decoder logits over the whole vocabulary (n x vocab_size)."""
        for k, (w, b) in enumerate(self.decoder):
            if k:
                h = np.maximum(h, 0.0)
            h = h @ w + b
        return h

    def logits_ids(self, ids: Sequence[np.ndarray]) -> np.ndarray:
        """Logits over the whole vocabulary, special tokens included."""
        return self.logits_from_encoding(self.encode_ids(ids))

    def score_ids(self, ids: Sequence[np.ndarray]) -> np.ndarray:
        """Probabilities over the genes (n x len(genes)), by the config's likelihood."""
        logits = self.logits_ids(ids)[:, len(SPECIAL) :]
        if self.config.loss == "softmax":
            logits -= logits.max(axis=1, keepdims=True)
            np.exp(logits, out=logits)
            logits /= logits.sum(axis=1, keepdims=True)
            return logits
        return _sigmoid(logits)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    out = np.empty_like(x)
    pos = x >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-x[pos]))
    ex = np.exp(x[~pos])
    out[~pos] = ex / (1.0 + ex)
    return out
