"""Loading a model (bundled, directory or hub id) and the public predict/embed API.

Model directory layouts (all safetensors, JSON and text; pickles are refused):

* **published GSFM** (``config.json``, ``vocab.txt``, ``model.safetensors``): the plain
  autoencoder; checkpoints from the hub load as they are.
* **blend** (the bundled model): the above plus ``blend.json``, which lists the parts
  that are standardized per list and summed with weights. A part is ``autoencoder``
  (the network's log-probabilities), ``neighbors`` (pruned cosine co-occurrence,
  ``neighbors.safetensors``) or ``ease`` (a pruned linear autoencoder,
  ``ease.safetensors``, see :mod:`gsea_plus.model.ease`), ``setknn`` (nearest
  corpus sets, ``sets.npz`` + ``sets.tsv.gz``, see :mod:`gsea_plus.model.knn`) or
  ``band`` (genes in the same cytogenetic band as an input gene, ``bands.txt``).
* **EASE only** (``vocab.txt``, ``ease.safetensors``, ``ease.json``; no
  ``model.safetensors``): what ``fit_ease_model`` writes. It predicts genes but has no
  set encoding (``embed`` raises :class:`~gsea_plus.errors.ModelError`).
"""

from __future__ import annotations

import json
import logging
import math
import warnings
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from gsea_plus.errors import InputError, ModelError
from gsea_plus.model.ease import EASE_FILE, read_sparse_rows
from gsea_plus.model.network import Autoencoder
from gsea_plus.model.scorers import (
    AutoencoderScorer,
    BlendScorer,
    EaseScorer,
    NeighborScorer,
    lookup_ids,
)
from gsea_plus.model.vocab import Vocab

log = logging.getLogger(__name__)

__all__ = ["BUNDLED", "Model", "UnknownGenesWarning", "embed", "load_model", "predict"]

#: Options of a ``setknn`` part in ``blend.json`` (see :class:`~gsea_plus.model.knn.SetKnnScorer`).
KNN_OPTIONS = ("alpha", "top", "power", "idf", "gamma", "beta")
#: The per-part score transforms of a blend.
TRANSFORMS = ("none", "log", "sqrt")


def _check_part(part: Any, blend_file: Path) -> None:
    """One ``blend.json`` part's types, so a bad file is a ModelError, not a crash later."""

    def bad(what: str) -> ModelError:
        return ModelError(f"{blend_file}: invalid blend description ({what})")

    if not isinstance(part, dict):
        raise bad(f"a part must be an object, not {part!r}")
    weight = part.get("weight", 1.0)
    if isinstance(weight, bool) or not isinstance(weight, (int, float)):
        raise bad(f"weight {weight!r} is not a number")
    if not math.isfinite(weight):
        raise bad(f"weight {weight!r} is not finite")
    if part.get("transform", "none") not in TRANSFORMS:
        raise bad(f"transform {part.get('transform')!r} is not one of {', '.join(TRANSFORMS)}")
    if not isinstance(part.get("file", ""), str) or "/" in part.get("file", ""):
        raise bad(f"file {part.get('file')!r} must be a file name in the model directory")
    for key in KNN_OPTIONS:
        value = part.get(key)
        if value is None:
            continue
        if key == "idf":
            ok = isinstance(value, bool)
        elif key == "top":
            ok = isinstance(value, int) and not isinstance(value, bool) and value >= 1
        else:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            ok = ok and math.isfinite(value)
        if not ok:
            raise bad(f"{key} {value!r} has the wrong type")


#: The model shipped inside the package.
BUNDLED = Path(__file__).resolve().parent / "bundled"


class UnknownGenesWarning(UserWarning):
    """Some input genes are not in the model's vocabulary (they are ignored)."""


def read_neighbors(path: Path, n_genes: int) -> tuple[np.ndarray, np.ndarray]:
    """Read ``neighbors.safetensors``: uint16/int32 indices, uint8 values + row scales."""
    return read_sparse_rows(path, n_genes, quantized="uint8", what="neighbor")


def _read_ease(path: Path, n_genes: int) -> tuple[np.ndarray, np.ndarray]:
    return read_sparse_rows(path, n_genes)


class Model:
    """A loaded model: a scorer over its gene vocabulary, plus the autoencoder if any.

    Attributes
    ----------
    vocab
        The scored genes (column order of :meth:`score`).
    network
        The numpy autoencoder (``None`` for an EASE-only model).
    scorer
        What :meth:`score` ranks by: the autoencoder, the EASE weights, or a blend.
    family
        ``"autoencoder"``, ``"ease"`` or ``"blend"``.
    parts
        The blend's parts as written in ``blend.json`` (one part for a single scorer).
    source
        Where it was loaded from.
    """

    def __init__(
        self,
        network: Autoencoder | None,
        scorer=None,
        *,
        source: str = "",
        vocab: np.ndarray | None = None,
        parts: list[dict] | None = None,
    ):
        if network is None and scorer is None:
            raise ModelError("a model needs an autoencoder or a scorer")
        self.network = network
        self._autoencoder = AutoencoderScorer(network) if network is not None else None
        chosen = scorer if scorer is not None else self._autoencoder
        assert chosen is not None
        self.scorer = chosen
        self.vocab = network.genes if network is not None else np.asarray(vocab, dtype=str)
        self.name = self.scorer.name
        self.source = source
        if isinstance(self.scorer, BlendScorer):
            self.family = "blend"
        else:
            self.family = "ease" if isinstance(self.scorer, EaseScorer) else "autoencoder"
        self.parts = parts or [{"scorer": self.family, "weight": 1.0}]
        self._index = {g: i for i, g in enumerate(self.vocab.tolist())}

    @property
    def autoencoder(self) -> AutoencoderScorer:
        """The autoencoder's scorer (probabilities and set encodings).

        Raises
        ------
        AttributeError
            For a model without an autoencoder (``hasattr(model, "autoencoder")`` is
            then False).
        """
        if self._autoencoder is None:
            raise AttributeError(f"the {self.family} model {self.source} has no autoencoder")
        return self._autoencoder

    @classmethod
    def load(cls, directory: str | Path) -> Model:
        """Load a model directory (published layout, a blend, or EASE only)."""
        directory = Path(directory)
        network = None
        if (directory / "model.safetensors").exists() or not (directory / EASE_FILE).exists():
            network = Autoencoder.load(directory)  # names any pickle or missing file
            vocab = network.genes
        else:
            vocab = Vocab.load(directory / "vocab.txt").genes
        blend_file = directory / "blend.json"
        if not blend_file.exists():
            if network is not None:
                return cls(network, source=str(directory))
            alone = EaseScorer(vocab, *_read_ease(directory / EASE_FILE, len(vocab)))
            return cls(None, alone, vocab=vocab, source=str(directory))
        try:
            spec = json.loads(blend_file.read_text(encoding="utf-8"))
            parts_spec = spec["parts"]
            if not isinstance(parts_spec, list) or not parts_spec:
                raise ValueError("'parts' must be a non-empty list")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"{blend_file}: invalid blend description ({exc})") from exc
        ae = AutoencoderScorer(network) if network is not None else None
        parts = []
        for part in parts_spec:
            _check_part(part, blend_file)
            kind = part.get("scorer")
            scorer: Any = None
            if kind == "autoencoder":
                if ae is None:
                    raise ModelError(
                        f"{blend_file}: the blend uses the autoencoder but "
                        f"{directory / 'model.safetensors'} is missing"
                    )
                scorer = ae
            elif kind == "neighbors":
                file = directory / part.get("file", "neighbors.safetensors")
                idx, val = read_neighbors(file, len(vocab))
                scorer = NeighborScorer(vocab, idx, val)
            elif kind == "ease":
                file = directory / part.get("file", EASE_FILE)
                scorer = EaseScorer(vocab, *_read_ease(file, len(vocab)))
            elif kind == "setknn":
                from gsea_plus.model.knn import SetKnnScorer, SetMemory

                options = {k: part[k] for k in KNN_OPTIONS if k in part}
                scorer = SetKnnScorer(vocab, SetMemory.load(directory, len(vocab)), **options)
            elif kind == "band":
                from gsea_plus.model.bands import BandScorer

                scorer = BandScorer.load(directory / part.get("file", "bands.txt"), vocab)
            else:
                raise ModelError(
                    f"{blend_file}: unknown scorer {kind!r} (expected autoencoder, "
                    "neighbors, ease, setknn or band)"
                )
            parts.append((scorer, float(part.get("weight", 1.0)), part.get("transform", "none")))
        return cls(
            network, BlendScorer(parts), source=str(directory), vocab=vocab, parts=parts_spec
        )

    def knn_part(self):
        """The blend's :class:`~gsea_plus.model.knn.SetKnnScorer`, or ``None``."""
        from gsea_plus.model.knn import SetKnnScorer

        if isinstance(self.scorer, BlendScorer):
            return next((s for s, _, _ in self.scorer.parts if isinstance(s, SetKnnScorer)), None)
        return None

    def similar_sets(self, genes: Sequence[str], *, top: int = 10):
        """The corpus sets most similar to a gene list: what ``setknn`` votes with.

        Parameters
        ----------
        genes
            Gene symbols (unknown symbols are ignored).
        top
            Number of sets to return.

        Returns
        -------
        pandas.DataFrame
            ``Rank``, ``Term``, ``Source`` (the corpus library), ``Similarity`` (as the
            part computes it), ``Overlap`` (input genes in the set), ``Size``.

        Raises
        ------
        ModelError
            When the model has no ``setknn`` part.
        """
        import pandas as pd

        knn = self.knn_part()
        if knn is None:
            raise ModelError(f"the {self.family} model {self.source} keeps no corpus sets")
        ids, _ = lookup_ids(self._index, list(genes))
        if len(ids) == 0:
            raise InputError("none of the input genes is in the model vocabulary")
        rows, sims = knn.similar_sets([ids])
        rows, sims = rows[0][:top], sims[0][:top]
        mem = knn.memory
        query = set(ids.tolist())
        overlap = [
            len(query.intersection(mem.indices[mem.indptr[r] : mem.indptr[r + 1]].tolist()))
            for r in rows
        ]
        return pd.DataFrame(
            {
                "Rank": np.arange(1, len(rows) + 1),
                "Term": [mem.terms[r] if mem.terms else "" for r in rows],
                "Source": [mem.sources[mem.source[r]] for r in rows],
                "Similarity": sims.astype(float),
                "Overlap": overlap,
                "Size": np.diff(mem.indptr)[rows],
            }
        )

    def describe(self) -> dict:
        """What ``gsea-plus model info`` shows: family, parts, architecture, files.

        Returns
        -------
        dict
            ``source``, ``family``, ``genes``, ``parts`` (scorer, weight, transform,
            file), ``architecture`` (the autoencoder's, or ``None``), ``embedding``
            (its width, or ``None``) and ``files`` (name, bytes) of the directory.
        """
        arch = None
        if self.network is not None:
            c = self.network.config
            arch = (
                f"encoder {c.encoder_dims}, decoder {c.decoder_dims}, dropout {c.dropout}, "
                f"loss {c.loss}, partition {c.partition}"
            )
        directory = Path(self.source) if self.source else None
        files = []
        if directory is not None and directory.is_dir():
            files = [
                {"name": p.name, "bytes": p.stat().st_size}
                for p in sorted(directory.iterdir())
                if p.is_file() and not p.name.startswith(".")
            ]
        return {
            "source": self.source,
            "family": self.family,
            "genes": len(self.vocab),
            "parts": self.parts,
            "architecture": arch,
            "embedding": self.network.config.d_model if self.network is not None else None,
            "files": files,
        }

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
        return self.encode_ids(self.ids(gene_lists))

    def encode_ids(self, ids: Sequence[np.ndarray]) -> np.ndarray:
        """Set encodings for lists given as column indices.

        Raises
        ------
        ModelError
            When the model has no autoencoder (an EASE-only model).
        """
        if self._autoencoder is None:
            raise ModelError(
                f"the {self.family} model {self.source} has no set encoding; use a model "
                "with an autoencoder (the bundled one) for embeddings"
            )
        return self._autoencoder.encode_ids(ids)


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
        if not (path / "vocab.txt").exists():
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
    mtime = max(
        (p.stat().st_mtime for p in path.glob("*") if p.suffix in (".safetensors", ".json")),
        default=0.0,
    )
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
    explain: bool = False,
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
    explain
        For a blended model, add one column per part (``setknn``, ``autoencoder``,
        ``ease``, ``band``...): its weighted, standardized score, so the columns sum to
        ``Score``. A gene carried by ``band`` alone is predicted for its position, not
        its function. With a ``setknn`` part, ``Top set`` names the most similar
        corpus set that holds the gene (``term [source library]``; empty when no
        voting set holds it); :meth:`Model.similar_sets` lists all of them.

    Returns
    -------
    pandas.DataFrame
        Columns ``Rank``, ``Gene``, ``Score`` (what the ranking uses), ``Probability``
        (the autoencoder's; NaN for an EASE-only model), ``In input``.
        ``df.attrs["unknown"]`` lists input genes that are not in the vocabulary (they
        also raise an :class:`UnknownGenesWarning`).

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
    if m.network is None:  # EASE only: no probabilities
        prob = np.full(len(m.vocab), np.nan, dtype=np.float32)
    elif m.scorer is m.autoencoder:
        prob = score
    else:
        prob = m.autoencoder.score_ids([ids])[0]
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
    if explain and isinstance(m.scorer, BlendScorer):
        for name, part in m.scorer.contributions([ids]):
            df[name] = part[0][order].astype(float)
        knn = m.knn_part()
        if knn is not None:
            df["Top set"] = _top_sets(knn, ids, order)
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
        many = [_known(m, read_gene_list_of(g))[0] for g in genes]
        return m.encode_ids(many)
    ids, _ = _known(m, _input_genes(genes))  # type: ignore[arg-type]  # one list here
    return m.encode_ids([ids])[0]


def _top_sets(knn, ids: np.ndarray, genes: np.ndarray) -> list[str]:
    """For each gene, the most similar voting corpus set that holds it ("" if none)."""
    rows, sims = knn.similar_sets([ids])
    rows, sims = rows[0], sims[0]
    held = knn.matrix[rows][:, genes].toarray() > 0  # voters x genes
    best = np.where(held, sims[:, None], -np.inf).argmax(axis=0)
    mem = knn.memory
    out = []
    for j, b in enumerate(best):
        if not held[b, j]:
            out.append("")
            continue
        r = rows[b]
        term = mem.terms[r] if mem.terms else f"set {r}"
        out.append(f"{term} [{mem.sources[mem.source[r]]}]")
    return out


def read_gene_list_of(genes: Sequence[str]) -> list[str]:
    """Parse one in-memory gene list (see :func:`gsea_plus.genes.read_gene_list`)."""
    from gsea_plus.genes import read_gene_list

    return read_gene_list(list(genes)).genes
