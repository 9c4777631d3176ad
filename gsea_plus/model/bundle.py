"""Writing a model directory with a co-occurrence blend (the bundled model's layout)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from gsea_plus.library.cache import atomic_write
from gsea_plus.model.network import Autoencoder

__all__ = ["file_sha256", "quantize_neighbors", "write_blend_model"]


def quantize_neighbors(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """uint8 values with one float32 scale per row (rows are non-negative)."""
    values = np.maximum(np.asarray(values, dtype=np.float32), 0.0)
    scale = values.max(axis=1) / 255.0
    scale[scale == 0] = 1.0
    q = np.clip(np.rint(values / scale[:, None]), 0, 255).astype(np.uint8)
    return q, scale.astype(np.float32)


def write_blend_model(
    network: Autoencoder,
    directory: str | Path,
    *,
    neighbors: tuple[np.ndarray, np.ndarray] | None = None,
    weights: tuple[float, float] = (0.7, 0.3),
    dtype: str = "int8",
) -> dict[str, str]:
    """Write the autoencoder (``dtype``) and, optionally, neighbors + ``blend.json``.

    Neighbor values are stored as uint8 with per-gene scales, except with
    ``dtype="float32"`` (an unquantized reference).

    Returns the sha256 of every file written.
    """
    from safetensors.numpy import save

    directory = Path(directory)
    network.save(directory, dtype=dtype)
    if neighbors is not None:
        idx, val = neighbors
        index_dtype = np.uint16 if len(network.genes) < 2**16 else np.int32
        tables = {"indices": np.ascontiguousarray(idx.astype(index_dtype))}
        if dtype == "float32":  # the unquantized reference
            tables["values"] = np.ascontiguousarray(val, dtype=np.float32)
        else:
            tables["values"], tables["scale"] = quantize_neighbors(val)
        atomic_write(directory / "neighbors.safetensors", save(tables))
        blend = {
            "parts": [
                {"scorer": "autoencoder", "weight": weights[0], "transform": "log"},
                {
                    "scorer": "neighbors",
                    "file": "neighbors.safetensors",
                    "weight": weights[1],
                    "transform": "sqrt",
                },
            ],
            "note": "per-list standardized scores, summed with these weights",
        }
        atomic_write(directory / "blend.json", (json.dumps(blend, indent=2) + "\n").encode())
    return {
        p.name: file_sha256(p)
        for p in sorted(directory.iterdir())
        if p.is_file() and p.suffix in (".safetensors", ".json", ".txt")
    }


def file_sha256(path: str | Path) -> str:
    """Hex sha256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
