"""Nearest gene sets: the corpus kept as a memory, and the scorer that votes from it.

A gene list is compared with every corpus set (overlap, each input gene weighted by
its inverse document frequency, divided by ``size ** alpha`` of the corpus set and
optionally by ``n_source ** gamma`` of its source library); the ``top`` most similar
sets vote for their genes with weight ``similarity ** power``. This is user-based
nearest-neighbour collaborative filtering; unlike co-occurrence (gene to gene) it keeps
the context of whole sets, and it can say which corpus sets a prediction came from.

Storage (``sets.npz``, written with ``numpy.savez_compressed``, read with
``allow_pickle=False``): ``indptr`` (int64), ``deltas`` (uint16: each set's sorted
vocabulary columns, the first absolute and the others as differences, which compress
well), ``source`` (uint16 source library per set); ``sets.tsv.gz`` holds the term name
and source library of every set, and the source names, for explanations.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from gsea_plus.errors import InputError, ModelError

__all__ = ["SETS_FILE", "SETS_NAMES", "SetKnnScorer", "SetMemory"]

SETS_FILE = "sets.npz"
SETS_NAMES = "sets.tsv.gz"


@dataclass
class SetMemory:
    """The corpus sets over a vocabulary, with their names and source libraries.

    Attributes
    ----------
    indptr, indices
        CSR rows: the vocabulary columns of every set (sorted within a set).
    source
        The source library index of every set (into ``sources``).
    sources
        Source library names.
    terms
        Set names (may be empty when not stored).
    """

    indptr: np.ndarray
    indices: np.ndarray
    source: np.ndarray
    sources: list[str]
    terms: list[str]

    @classmethod
    def from_sets(
        cls,
        sets: Sequence[Sequence[str]],
        genes: Sequence[str] | np.ndarray,
        *,
        sources: Sequence[str] | None = None,
        terms: Sequence[str] | None = None,
        min_genes: int = 2,
    ) -> SetMemory:
        """Encode sets over ``genes``; sets with fewer than ``min_genes`` known are dropped."""
        index = {g: i for i, g in enumerate(np.asarray(genes, dtype=str).tolist())}
        rows, keep = [], []
        for i, s in enumerate(sets):
            ids = np.unique(np.fromiter((index[g] for g in s if g in index), dtype=np.int64))
            if len(ids) >= min_genes:
                rows.append(ids)
                keep.append(i)
        if not rows:
            raise InputError("no set has enough vocabulary genes for the set memory")
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        indptr[1:] = np.cumsum([len(r) for r in rows])
        tags = [str(sources[i]) if sources is not None else "" for i in keep]
        names, source = np.unique(np.asarray(tags, dtype=str), return_inverse=True)
        return cls(
            indptr,
            np.concatenate(rows),
            source.astype(np.int64),
            names.tolist(),
            [str(terms[i]) for i in keep] if terms is not None else [],
        )

    def __len__(self) -> int:
        return len(self.indptr) - 1

    def matrix(self, n_genes: int) -> sp.csr_matrix:
        """The sets x genes 0/1 matrix (float32)."""
        data = np.ones(len(self.indices), dtype=np.float32)
        return sp.csr_matrix((data, self.indices, self.indptr), shape=(len(self), n_genes))

    def save(self, directory: str | Path) -> list[Path]:
        """Write ``sets.npz`` and ``sets.tsv.gz`` into ``directory``."""
        from gsea_plus.library.cache import atomic_write

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        deltas = self.indices.astype(np.int64).copy()
        deltas[1:] -= self.indices[:-1]
        starts = self.indptr[:-1][np.diff(self.indptr) > 0]
        deltas[starts] = self.indices[starts]
        if deltas.size and (deltas.min() < 0 or deltas.max() >= 2**16):
            raise InputError("set columns must be sorted and below 65536")
        if len(self.sources) >= 2**16:
            raise InputError("too many source libraries")
        buf = io.BytesIO()
        np.savez_compressed(
            buf,
            indptr=self.indptr.astype(np.int64),
            deltas=deltas.astype(np.uint16),
            source=self.source.astype(np.uint16),
        )
        atomic_write(directory / SETS_FILE, buf.getvalue())
        lines = ["#sources\t" + "\t".join(self.sources)]
        terms = self.terms or [""] * len(self)
        lines += [f"{t}\t{self.sources[s]}" for t, s in zip(terms, self.source, strict=True)]
        text = ("\n".join(lines) + "\n").encode()
        atomic_write(directory / SETS_NAMES, gzip.compress(text, mtime=0))
        return [directory / SETS_FILE, directory / SETS_NAMES]

    @classmethod
    def load(cls, directory: str | Path, n_genes: int) -> SetMemory:
        """Read ``sets.npz`` (and ``sets.tsv.gz`` when present); errors name the file."""
        path = Path(directory) / SETS_FILE
        try:
            with np.load(path, allow_pickle=False) as z:
                indptr, deltas, source = z["indptr"], z["deltas"], z["source"]
        except FileNotFoundError as exc:
            raise ModelError(f"{path}: no such file") from exc
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"{path}: not a readable set memory ({exc})") from exc
        sizes = np.diff(indptr)
        if (
            indptr.ndim != 1
            or indptr[0] != 0
            or np.any(sizes < 0)
            or indptr[-1] != len(deltas)
            or len(source) != len(sizes)
        ):
            raise ModelError(f"{path}: inconsistent set memory")
        d = deltas.astype(np.int64)
        c = np.cumsum(d)
        starts = indptr[:-1]
        base = np.zeros(len(sizes), dtype=np.int64)
        nonempty = sizes > 0
        base[nonempty] = c[starts[nonempty]] - d[starts[nonempty]]
        indices = c - np.repeat(base, sizes)
        if indices.size and (indices.min() < 0 or indices.max() >= n_genes):
            raise ModelError(f"{path}: set columns out of range for {n_genes} genes")
        sources: list[str] = []
        terms: list[str] = []
        names = Path(directory) / SETS_NAMES
        if names.exists():
            text = gzip.decompress(names.read_bytes()).decode("utf-8").splitlines()
            if text and text[0].startswith("#sources\t"):
                sources = text[0].split("\t")[1:]
                terms = [line.split("\t", 1)[0] for line in text[1:]]
            if len(terms) != len(sizes):
                raise ModelError(f"{names}: {len(terms)} names for {len(sizes)} sets")
        n_src = int(source.max()) + 1 if len(source) else 0
        if not sources:
            sources = [f"source{i}" for i in range(n_src)]
        elif n_src > len(sources):
            raise ModelError(f"{path}: source index out of range")
        return cls(indptr.astype(np.int64), indices, source.astype(np.int64), sources, terms)


class SetKnnScorer:
    """Nearest corpus sets vote for their genes (see the module docstring).

    Parameters
    ----------
    vocab
        The genes (columns of the set memory).
    memory
        The corpus sets.
    alpha
        Similarity = weighted overlap / ``size ** alpha``.
    top
        Number of most similar sets that vote.
    power
        Each voting set's weight is ``similarity ** power``.
    idf
        Weight input genes by ``log(n_sets / n_sets_with_gene)`` in the overlap.
    gamma
        Divide the similarity of a set by ``n_source ** gamma`` (its source library's
        number of sets).
    beta
        Divide a gene's votes by ``n_sets_with_gene ** beta``.
    """

    name = "setknn"

    def __init__(
        self,
        vocab: Sequence[str] | np.ndarray,
        memory: SetMemory,
        *,
        alpha: float = 0.5,
        top: int = 500,
        power: float = 4.0,
        idf: bool = True,
        gamma: float = 0.0,
        beta: float = 0.0,
    ):
        self.vocab = np.asarray(vocab, dtype=str)
        self.memory = memory
        self.top, self.power = int(top), float(power)
        self.matrix = memory.matrix(len(self.vocab))
        self.matrix_t = self.matrix.T.tocsr()
        sizes = np.maximum(np.diff(memory.indptr), 1).astype(np.float64)
        inv = sizes**-alpha
        if gamma:
            counts = np.bincount(memory.source, minlength=len(memory.sources)).astype(np.float64)
            inv = inv * counts[memory.source] ** -gamma
        self.set_weight = inv.astype(np.float32)
        df = np.bincount(memory.indices, minlength=len(self.vocab)).astype(np.float64)
        self.gene_weight = (
            np.log(len(memory) / np.maximum(df, 1)).astype(np.float32) if idf else None
        )
        self.out_weight = np.maximum(df, 1).astype(np.float32) ** -beta if beta else None
        self._index: dict[str, int] | None = None

    def _query(self, ids: Sequence[np.ndarray]) -> sp.csr_matrix:
        from gsea_plus.model.scorers import multi_hot

        q = multi_hot(list(ids), len(self.vocab))
        if self.gene_weight is not None:
            q = q @ sp.diags(self.gene_weight)
        return q

    def similar_sets(self, ids: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """The ``top`` most similar sets of each list: (set rows, similarities), descending."""
        h = (self._query(ids) @ self.matrix_t).toarray()
        h *= self.set_weight[None, :]
        t = min(self.top, h.shape[1])
        keep = np.argpartition(-h, t - 1, axis=1)[:, :t] if t < h.shape[1] else None
        if keep is None:
            keep = np.tile(np.arange(h.shape[1]), (len(h), 1))
        sim = np.take_along_axis(h, keep, axis=1)
        order = np.argsort(-sim, axis=1, kind="stable")
        return np.take_along_axis(keep, order, axis=1), np.take_along_axis(sim, order, axis=1)

    def score_ids(self, ids: Sequence[np.ndarray], *, chunk: int = 128) -> np.ndarray:
        """Votes (n x genes) of each list's most similar corpus sets."""
        out = np.empty((len(ids), len(self.vocab)), dtype=np.float32)
        for start in range(0, len(ids), chunk):
            part = list(ids[start : start + chunk])
            rows, sim = self.similar_sets(part)
            w = np.maximum(sim, 0.0) ** self.power
            r = np.repeat(np.arange(len(part)), rows.shape[1])
            votes = sp.csr_matrix(
                (w.ravel(), (r, rows.ravel())), shape=(len(part), len(self.memory))
            )
            s = (votes @ self.matrix).toarray()
            if self.out_weight is not None:
                s *= self.out_weight[None, :]
            out[start : start + len(part)] = s
        return out

    # the GeneScorer interface
    @property
    def index(self) -> dict[str, int]:
        """Gene symbol -> column."""
        if self._index is None:
            self._index = {g: i for i, g in enumerate(self.vocab.tolist())}
        return self._index

    def score(self, gene_lists: Sequence[Sequence[str]]) -> np.ndarray:
        """Scores (n x genes) for lists of symbols."""
        from gsea_plus.model.scorers import lookup_ids

        return self.score_ids([lookup_ids(self.index, g)[0] for g in gene_lists])

    def encode(self, gene_lists: Sequence[Sequence[str]]) -> np.ndarray:
        """Set memories have no fixed-width encoding."""
        raise ModelError("the setknn scorer has no set encoding")

    def encode_ids(self, ids: Sequence[np.ndarray]) -> np.ndarray:
        """Set memories have no fixed-width encoding."""
        raise ModelError("the setknn scorer has no set encoding")
