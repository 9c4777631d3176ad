"""Writing a blended model directory (the bundled model's layout).

A blend directory holds the vocabulary, optionally the autoencoder in the published
layout (``config.json``, ``model.safetensors``), one safetensors file per sparse part
(``neighbors.safetensors``: pruned cosine co-occurrence; ``ease.safetensors``: pruned
EASE weights), the corpus set memory of a ``setknn`` part (``sets.npz``,
``sets.tsv.gz``), the gene bands of a ``band`` part (``bands.txt``) and ``blend.json``,
which lists the parts with their weights, transforms and options.
:meth:`gsea_plus.model.model.Model.load` reads it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gsea_plus.errors import InputError
from gsea_plus.library.cache import atomic_write
from gsea_plus.model.network import Autoencoder
from gsea_plus.model.vocab import Vocab

__all__ = ["BlendPart", "file_sha256", "quantize_neighbors", "write_blend", "write_blend_model"]


@dataclass
class BlendPart:
    """One part of a blend.

    Attributes
    ----------
    scorer
        ``"autoencoder"``, ``"neighbors"``, ``"ease"``, ``"setknn"`` or ``"band"``.
    weight
        Its weight on the per-list standardized scores.
    transform
        ``"log"`` (the autoencoder's log-probabilities), ``"sqrt"`` (neighbors) or
        ``"none"``.
    indices, values
        The sparse parts' genes x k tables (``None`` for the autoencoder).
    file
        File name of a sparse part (default: ``<scorer>.safetensors``).
    data
        A ``setknn`` part's :class:`~gsea_plus.model.knn.SetMemory`, or a ``band``
        part's symbol -> band mapping.
    options
        Options stored in ``blend.json`` (a ``setknn`` part's ``alpha``, ``top``...).
    """

    scorer: str
    weight: float
    transform: str = "none"
    indices: np.ndarray | None = None
    values: np.ndarray | None = None
    file: str | None = None
    data: Any = None
    options: dict[str, Any] = field(default_factory=dict)


def quantize_neighbors(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """uint8 values with one float32 scale per row (rows are non-negative)."""
    values = np.maximum(np.asarray(values, dtype=np.float32), 0.0)
    scale = values.max(axis=1) / 255.0
    scale[scale == 0] = 1.0
    q = np.clip(np.rint(values / scale[:, None]), 0, 255).astype(np.uint8)
    return q, scale.astype(np.float32)


def write_blend(
    directory: str | Path,
    parts: list[BlendPart],
    *,
    network: Autoencoder | None = None,
    vocab: Vocab | None = None,
    dtype: str = "int8",
    note: str = "per-list standardized scores, summed with these weights",
) -> dict[str, str]:
    """Write a blend: the autoencoder (if any), every sparse part, ``blend.json``.

    Parameters
    ----------
    directory
        The model directory (created; existing files of the same names are replaced).
    parts
        The blend's parts, in order.
    network
        The autoencoder (needed when a part is ``"autoencoder"``); written as ``dtype``.
    vocab
        The vocabulary, when there is no autoencoder to take it from.
    dtype
        ``int8`` (autoencoder rows with one scale each; neighbors uint8, EASE int8,
        each with one scale per gene), ``float16``, or ``float32`` (unquantized).
    note
        A free-text note stored in ``blend.json``.

    Returns
    -------
    dict
        The sha256 of every file in the directory.
    """
    from safetensors.numpy import save

    from gsea_plus.model.ease import write_sparse_rows

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if network is not None:
        network.save(directory, dtype=dtype)
        n_genes = len(network.genes)
    elif vocab is not None:
        vocab.save(directory / "vocab.txt")
        n_genes = len(vocab.genes)
    else:
        raise InputError("a blend needs the autoencoder or a vocabulary")
    spec = []
    for part in parts:
        entry: dict[str, object] = {"scorer": part.scorer, "weight": part.weight}
        if part.transform != "none":
            entry["transform"] = part.transform
        entry.update(part.options)
        if part.scorer == "autoencoder":
            if network is None:
                raise InputError("an autoencoder part needs the network")
        elif part.scorer == "setknn":
            if part.data is None:
                raise InputError("the setknn part needs its set memory")
            part.data.save(directory)
        elif part.scorer == "band":
            from gsea_plus.model.bands import BANDS_FILE, BandScorer

            genes = network.genes if network is not None else vocab.genes  # type: ignore[union-attr]
            BandScorer(genes, part.data or {}).save(directory / BANDS_FILE)
            entry["file"] = BANDS_FILE
        elif part.scorer in ("neighbors", "ease"):
            if part.indices is None or part.values is None:
                raise InputError(f"the {part.scorer} part needs indices and values")
            if part.indices.shape[0] != n_genes:
                raise InputError(f"the {part.scorer} part has {part.indices.shape[0]} rows")
            name = part.file or f"{part.scorer}.safetensors"
            entry["file"] = name
            if part.scorer == "ease":
                write_sparse_rows(
                    directory / name, part.indices, part.values, dtype=dtype_of(dtype)
                )
            else:
                index_dtype = np.uint16 if n_genes < 2**16 else np.int32
                tables = {"indices": np.ascontiguousarray(part.indices.astype(index_dtype))}
                if dtype == "int8":
                    tables["values"], tables["scale"] = quantize_neighbors(part.values)
                else:
                    tables["values"] = np.ascontiguousarray(part.values, dtype=dtype)
                atomic_write(directory / name, save(tables))
        else:
            raise InputError(f"unknown scorer {part.scorer!r}")
        spec.append(entry)
    blend = {"parts": spec, "note": note}
    atomic_write(directory / "blend.json", (json.dumps(blend, indent=2) + "\n").encode())
    return {
        p.name: file_sha256(p)
        for p in sorted(directory.iterdir())
        if p.is_file() and p.suffix in (".safetensors", ".json", ".txt", ".npz", ".gz")
    }


def dtype_of(dtype: str) -> str:
    """The sparse-part storage for a model ``dtype`` (int8 stays int8)."""
    return dtype if dtype in ("int8", "float16", "float32") else "float32"


def write_blend_model(
    network: Autoencoder,
    directory: str | Path,
    *,
    neighbors: tuple[np.ndarray, np.ndarray] | None = None,
    weights: tuple[float, float] = (0.7, 0.3),
    dtype: str = "int8",
) -> dict[str, str]:
    """Write the autoencoder + neighbors blend of the first bundle (issue 3).

    Kept for the issue 3 layout; :func:`write_blend` writes any blend.
    """
    if neighbors is None:
        network.save(Path(directory), dtype=dtype)
        return {
            p.name: file_sha256(p)
            for p in sorted(Path(directory).iterdir())
            if p.is_file() and p.suffix in (".safetensors", ".json", ".txt")
        }
    idx, val = neighbors
    return write_blend(
        directory,
        [
            BlendPart("autoencoder", weights[0], "log"),
            BlendPart("neighbors", weights[1], "sqrt", idx, val),
        ],
        network=network,
        dtype=dtype,
    )


def file_sha256(path: str | Path) -> str:
    """Hex sha256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
