"""Loading a model (bundled, directory or hub id) and the public predict/embed API.

A model directory holds the published GSFM layout (``config.json``, ``vocab.txt``,
``model.safetensors``). The bundled model adds ``neighbors.safetensors`` (each gene's
strongest normalized co-occurrence partners) and ``blend.json`` (how the two are
combined); a directory without them is the plain autoencoder.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from gsea_plus.errors import InputError, ModelError
from gsea_plus.model.network import Autoencoder, read_safetensors
from gsea_plus.model.scorers import (
    AutoencoderScorer,
    BlendScorer,
    NeighborScorer,
    lookup_ids,
)

log = logging.getLogger(__name__)

__all__ = ["BUNDLED", "Model", "UnknownGenesWarning", "embed", "load_model", "predict"]

#: The model shipped inside the package.
BUNDLED = Path(__file__).resolve().parent / "bundled"


class UnknownGenesWarning(UserWarning):
    """Some input genes are not in the model's vocabulary (they are ignored)."""


def read_neighbors(path: Path, n_genes: int) -> tuple[np.ndarray, np.ndarray]:
    """Read ``neighbors.safetensors``: uint16/int32 indices, uint8 values + row scales."""
    tensors = read_safetensors(path)
    try:
        idx, val = tensors["indices"], tensors["values"]
    except KeyError as exc:
        raise ModelError(f"{path}: missing key {exc.args[0]}") from exc
    if idx.shape != val.shape or idx.ndim != 2 or idx.shape[0] != n_genes:
        raise ModelError(
            f"{path}: neighbor tables have shapes {idx.shape} and {val.shape}, expected "
            f"({n_genes}, k) for the {n_genes}-gene vocabulary"
        )
    if val.dtype == np.uint8:
        scale = tensors.get("scale")
        if scale is None or scale.shape != (n_genes,):
            raise ModelError(f"{path}: uint8 values need a 'scale' of shape ({n_genes},)")
        values = val.astype(np.float32) * scale.astype(np.float32)[:, None]
    elif val.dtype in (np.float16, np.float32):
        values = val.astype(np.float32)
    else:
        raise ModelError(f"{path}: values have dtype {val.dtype}; expected uint8 or float")
    if not np.issubdtype(idx.dtype, np.integer) or (len(idx) and idx.max() >= n_genes):
        raise ModelError(f"{path}: neighbor indices out of range")
    return idx.astype(np.int64), values


class Model:
    """A loaded model: a scorer over its gene vocabulary plus the autoencoder.

    Attributes
    ----------
    vocab
        The scored genes (column order of :meth:`score`).
    network
        The numpy autoencoder.
    scorer
        What :meth:`score` ranks by: the autoencoder, or the blend of the bundled model.
    source
        Where it was loaded from.
    """

    def __init__(self, network: Autoencoder, scorer=None, *, source: str = ""):
        self.network = network
        self.autoencoder = AutoencoderScorer(network)
        self.scorer = scorer if scorer is not None else self.autoencoder
        self.vocab = network.genes
        self.name = self.scorer.name
        self.source = source
        self._index = {g: i for i, g in enumerate(self.vocab.tolist())}

    @classmethod
    def load(cls, directory: str | Path) -> Model:
        """Load a model directory (published layout, optionally with a blend)."""
        directory = Path(directory)
        network = Autoencoder.load(directory)
        blend_file = directory / "blend.json"
        if not blend_file.exists():
            return cls(network, source=str(directory))
        try:
            spec = json.loads(blend_file.read_text(encoding="utf-8"))
            parts_spec = spec["parts"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"{blend_file}: invalid blend description ({exc})") from exc
        ae = AutoencoderScorer(network)
        parts = []
        for part in parts_spec:
            kind = part.get("scorer")
            if kind == "autoencoder":
                scorer = ae
            elif kind == "neighbors":
                file = directory / part.get("file", "neighbors.safetensors")
                idx, val = read_neighbors(file, len(network.genes))
                scorer = NeighborScorer(network.genes, idx, val)
            else:
                raise ModelError(f"{blend_file}: unknown scorer {kind!r}")
            parts.append((scorer, float(part.get("weight", 1.0)), part.get("transform", "none")))
        return cls(network, BlendScorer(parts), source=str(directory))

    def __repr__(self) -> str:
        return f"Model({self.name}, genes={len(self.vocab)}, source={self.source!r})"

    @property
    def fingerprint(self) -> str:
        """An identifier of the model files (names, sizes, modification times, vocabulary).

        Keys caches of results derived from the model (term predictions); "" when the
        model was not loaded from a directory.
        """
        import hashlib

        directory = Path(self.source) if self.source else None
        if directory is None or not directory.is_dir():
            return ""
        h = hashlib.sha256(str(directory.resolve()).encode())
        for f in sorted(directory.iterdir()):
            if f.is_file():
                stat = f.stat()
                h.update(f"{f.name}:{stat.st_size}:{stat.st_mtime_ns};".encode())
        h.update("\n".join(self.vocab.tolist()).encode())
        return h.hexdigest()

    # the GeneScorer interface
    def ids(self, gene_lists: Sequence[Sequence[str]]) -> list[np.ndarray]:
        """Vocabulary column indices for each list (unknown symbols dropped)."""
        if isinstance(gene_lists, str):
            raise InputError("expected a list of gene lists, got a string")
        return [lookup_ids(self._index, genes)[0] for genes in gene_lists]

    def score_ids(self, ids: Sequence[np.ndarray]) -> np.ndarray:
        """Ranking scores (n x genes) for lists given as column indices."""
        return self.scorer.score_ids(ids)

    def score(self, gene_lists: Sequence[Sequence[str]]) -> np.ndarray:
        """Ranking scores (n x genes); for the plain autoencoder, its probabilities."""
        return self.score_ids(self.ids(gene_lists))

    def probabilities(self, gene_lists: Sequence[Sequence[str]]) -> np.ndarray:
        """The autoencoder's probabilities (n x genes)."""
        return self.autoencoder.score_ids(self.ids(gene_lists))

    def encode(self, gene_lists: Sequence[Sequence[str]]) -> np.ndarray:
        """The set encodings (n x d_model): the encoder output of the autoencoder."""
        return self.autoencoder.encode_ids(self.ids(gene_lists))

    def encode_ids(self, ids: Sequence[np.ndarray]) -> np.ndarray:
        """Set encodings for lists given as column indices."""
        return self.autoencoder.encode_ids(ids)


@lru_cache(maxsize=4)
def _load_cached(path: str, mtime: float) -> Model:
    return Model.load(path)


def load_model(spec: str | Path | Model | None = None, *, offline: bool | None = None) -> Model:
    """Load a model: the bundled one (``None``), a directory, or a hub id (``owner/name``).

    A hub id is downloaded into the cache once; ``offline`` (default: the
    ``GSEA_PLUS_OFFLINE`` environment variable) allows only the cached copy.

    Raises
    ------
    ModelError
        When the checkpoint is missing, a pickle, corrupt, or does not match its
        vocabulary.
    """
    if isinstance(spec, Model):
        return spec
    if spec is None:
        path = BUNDLED
        if not (path / "model.safetensors").exists():
            raise ModelError(f"{path}: the bundled model is missing from this installation")
    else:
        text = str(spec)
        path = Path(text).expanduser()
        try:
            exists = path.exists()
        except (OSError, ValueError) as exc:  # a name too long, a NUL byte
            raise ModelError(f"{text[:80]}...: not a usable model path ({exc})") from exc
        if not exists:
            from gsea_plus.model.hub import download, is_hub_id

            if not is_hub_id(text):
                raise ModelError(f"{text}: no such model directory (or owner/name hub id)")
            from gsea_plus.options import offline_default

            path = download(text, offline=offline_default(offline))
        elif path.is_file():
            from gsea_plus.model.network import PICKLE_SUFFIXES

            if path.suffix.lower() in PICKLE_SUFFIXES:
                raise ModelError(
                    f"{path}: pickle checkpoints are not loaded (they can run arbitrary "
                    "code); provide a directory with model.safetensors"
                )
            path = path.parent
    weights = path / "model.safetensors"
    mtime = weights.stat().st_mtime if weights.exists() else 0.0
    return _load_cached(str(path.resolve()), mtime)


def _input_genes(genes: Iterable[str] | str | Path) -> list[str]:
    from gsea_plus.genes import read_gene_list

    if isinstance(genes, (str, Path)) and not (isinstance(genes, str) and "\n" in genes):
        return read_gene_list(genes).genes
    if isinstance(genes, str):
        genes = genes.splitlines()
    return read_gene_list(list(genes)).genes


def _known(model: Model, genes: list[str]) -> tuple[np.ndarray, list[str]]:
    ids, unknown = lookup_ids(model._index, genes)
    if len(ids) == 0:
        raise InputError(
            f"none of the {len(genes)} input genes is in the model vocabulary "
            f"({len(model.vocab)} genes)"
        )
    if unknown:
        shown = ", ".join(unknown[:10]) + (" ..." if len(unknown) > 10 else "")
        message = (
            f"{len(unknown)} of {len(genes)} input genes are not in the model vocabulary: {shown}"
        )
        warnings.warn(message, UnknownGenesWarning, stacklevel=3)
    return ids, unknown


def predict(
    genes: Iterable[str] | str | Path,
    *,
    top: int | None = 50,
    model: str | Path | Model | None = None,
    exclude_input: bool = True,
):
    """Predict the genes that belong with a gene list (the input genes left out).

    Parameters
    ----------
    genes
        Gene symbols (an iterable, or a path to a gene list file).
    top
        Number of rows to return (``None``: every vocabulary gene).
    model
        Model spec for :func:`load_model` (default: the bundled model).
    exclude_input
        Leave the input genes out of the ranking (the default: they are what the model
        was given); ``False`` ranks them too, flagged in ``In input``.

    Returns
    -------
    pandas.DataFrame
        Columns ``Rank``, ``Gene``, ``Score`` (what the ranking uses), ``Probability``
        (the autoencoder's), ``In input``. ``df.attrs["unknown"]`` lists input genes that
        are not in the vocabulary (they also raise an :class:`UnknownGenesWarning`).

    Raises
    ------
    InputError
        When the list is empty or no input gene is in the vocabulary.
    """
    import pandas as pd

    m = load_model(model)
    symbols = _input_genes(genes)
    ids, unknown = _known(m, symbols)
    score = m.score_ids([ids])[0]
    prob = m.autoencoder.score_ids([ids])[0] if m.scorer is not m.autoencoder else score
    in_input = np.zeros(len(m.vocab), dtype=bool)
    in_input[ids] = True
    order_scores = np.where(in_input, -np.inf, score) if exclude_input else score
    n = len(m.vocab) - (len(ids) if exclude_input else 0)
    k = n if top is None else max(0, min(int(top), n))
    if k < n:
        part = np.argpartition(-order_scores, k - 1)[:k] if k else np.zeros(0, dtype=np.int64)
    else:
        part = np.arange(len(m.vocab))
    order = part[np.lexsort((m.vocab[part], -order_scores[part]))][:k]
    df = pd.DataFrame(
        {
            "Rank": np.arange(1, len(order) + 1),
            "Gene": m.vocab[order],
            "Score": score[order].astype(float),
            "Probability": prob[order].astype(float),
            "In input": in_input[order],
        }
    )
    df.attrs["unknown"] = unknown
    df.attrs["model"] = m.source
    return df


def embed(
    genes: Iterable[str] | str | Path | Sequence[Sequence[str]],
    *,
    model: str | Path | Model | None = None,
) -> np.ndarray:
    """The set encoding (``d_model``-vector, 256 for the default architecture).

    Parameters
    ----------
    genes
        One gene list (symbols or a path) -> a 1-d vector; a list of gene lists ->
        a 2-d array, one row per list.
    model
        Model spec for :func:`load_model`.
    """
    m = load_model(model)
    if (
        isinstance(genes, (list, tuple))
        and genes
        and all(isinstance(g, (list, tuple)) for g in genes)
    ):
        ids = [_known(m, read_gene_list_of(g))[0] for g in genes]
        return m.encode_ids(ids)
    ids, _ = _known(m, _input_genes(genes))
    return m.encode_ids([ids])[0]


def read_gene_list_of(genes: Sequence[str]) -> list[str]:
    """Parse one in-memory gene list (see :func:`gsea_plus.genes.read_gene_list`)."""
    from gsea_plus.genes import read_gene_list

    return read_gene_list(list(genes)).genes
