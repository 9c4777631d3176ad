"""Gene scorers: the common backend interface and its implementations.

A scorer maps gene lists to one score per vocabulary gene (higher: more likely to
belong with the list). :class:`GeneScorer` is the interface that evaluation,
prediction and model-augmented enrichment use; implementations here are the
autoencoder (:class:`AutoencoderScorer`), exact corpus co-occurrence
(:class:`CooccurrenceScorer`, the baseline), its pruned, stored form
(:class:`NeighborScorer`), a linear autoencoder's pruned weights (:class:`EaseScorer`),
a weighted blend (:class:`BlendScorer`) and random scores.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import scipy.sparse as sp

from gsea_plus.errors import InputError, ModelError

log = logging.getLogger(__name__)

#: Gene symbols: a sequence or a numpy string array.
Genes = Sequence[str] | np.ndarray

__all__ = [
    "AutoencoderScorer",
    "BlendScorer",
    "CooccurrenceScorer",
    "EaseScorer",
    "GeneScorer",
    "Genes",
    "NeighborScorer",
    "RandomScorer",
    "lookup_ids",
    "multi_hot",
]


@runtime_checkable
class GeneScorer(Protocol):
    """Scores every vocabulary gene for each input gene list.

    Attributes
    ----------
    vocab
        The scored genes (upper-case symbols), one per output column.
    name
        A short method name for tables.
    """

    vocab: np.ndarray
    name: str

    def score_ids(self, ids: Sequence[np.ndarray]) -> np.ndarray:
        """Scores (n x len(vocab)) for lists given as column indices into ``vocab``."""
        ...

    def score(self, gene_lists: Sequence[Sequence[str]]) -> np.ndarray:
        """Scores (n x len(vocab)) for lists of symbols (unknown symbols ignored)."""
        ...

    def encode(self, gene_lists: Sequence[Sequence[str]]) -> np.ndarray:
        """A fixed-width vector per list (n x d)."""
        ...


def lookup_ids(index: dict[str, int], genes: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Unique column indices of ``genes`` (input order) and the symbols not found."""
    ids: dict[int, None] = {}
    unknown: list[str] = []
    for g in genes:
        i = index.get(str(g).strip().upper())
        if i is None:
            unknown.append(str(g))
        else:
            ids.setdefault(i, None)
    return np.fromiter(ids, dtype=np.int64, count=len(ids)), unknown


class _Base:
    vocab: np.ndarray
    name: str = "scorer"

    @property
    def index(self) -> dict[str, int]:
        """Gene symbol -> column."""
        cached = self.__dict__.get("_index")
        if cached is None:
            cached = {g: i for i, g in enumerate(self.vocab.tolist())}
            self.__dict__["_index"] = cached
        return cached

    def ids(self, gene_lists: Sequence[Sequence[str]]) -> list[np.ndarray]:
        """Column indices of each list (unknown symbols dropped)."""
        if isinstance(gene_lists, str):
            raise InputError("expected a list of gene lists, got a string")
        return [lookup_ids(self.index, genes)[0] for genes in gene_lists]

    def score_ids(self, ids: Sequence[np.ndarray]) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def score(self, gene_lists: Sequence[Sequence[str]]) -> np.ndarray:
        """Scores (n x genes) for lists of symbols."""
        return self.score_ids(self.ids(gene_lists))

    def encode(self, gene_lists: Sequence[Sequence[str]]) -> np.ndarray:
        """Set encodings (n x d) for lists of symbols."""
        return self.encode_ids(self.ids(gene_lists))

    def encode_ids(self, ids: Sequence[np.ndarray]) -> np.ndarray:
        """Set encodings (n x d) for lists given as column indices."""
        raise ModelError(f"the {self.name} scorer has no set encoding")


def multi_hot(ids: Sequence[np.ndarray], n_cols: int) -> sp.csr_matrix:
    """The lists x ``n_cols`` 0/1 matrix (float32, CSR) of per-list column indices."""
    indptr = np.zeros(len(ids) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([len(i) for i in ids])
    indices = np.concatenate(ids).astype(np.int64) if len(ids) else np.zeros(0, np.int64)
    data = np.ones(len(indices), dtype=np.float32)
    return sp.csr_matrix((data, indices, indptr), shape=(len(ids), n_cols))


class AutoencoderScorer(_Base):
    """The autoencoder: probabilities from the decoder, the encoder output as embedding."""

    name = "autoencoder"

    def __init__(self, network):
        self.network = network
        self.vocab = network.genes

    def score_ids(self, ids: Sequence[np.ndarray]) -> np.ndarray:
        """Scores (n x genes) for lists given as column indices."""
        # network indices count the two special tokens
        return self.network.score_ids([np.asarray(i) + 2 for i in ids])

    def encode_ids(self, ids: Sequence[np.ndarray]) -> np.ndarray:
        """Set encodings (n x d) for lists given as column indices."""
        return self.network.encode_ids([np.asarray(i) + 2 for i in ids])

    def log_score_ids(self, ids: Sequence[np.ndarray]) -> np.ndarray:
        """Log-probabilities up to a per-list constant (the logits, for a softmax model)."""
        if self.network.config.loss == "softmax":
            return self.network.logits_ids([np.asarray(i) + 2 for i in ids])[:, 2:]
        return np.log(np.maximum(self.score_ids(ids), 1e-12))


class CooccurrenceScorer(_Base):
    """Exact co-occurrence in a corpus: mean co-occurrence with the input genes.

    Parameters
    ----------
    sets
        The corpus sets.
    vocab
        The genes to score (other genes are ignored in the corpus).
    normalize
        ``"none"`` (counts) or ``"cosine"`` (counts / sqrt(n_i * n_j), n = sets per gene).
    """

    def __init__(self, sets: Sequence[Sequence[str]], vocab: Genes, *, normalize: str = "none"):
        if normalize not in ("none", "cosine"):
            raise InputError(f"normalize must be 'none' or 'cosine', got {normalize!r}")
        self.vocab = np.asarray(vocab, dtype=str)
        self.normalize = normalize
        self.name = "cooccurrence" if normalize == "none" else "cooccurrence_cosine"
        ids = [lookup_ids(self.index, s)[0] for s in sets]
        self.matrix = multi_hot(ids, len(self.vocab)).tocsr()  # sets x genes
        self.matrix_t = self.matrix.T.tocsr()
        counts = np.asarray(self.matrix.sum(axis=0)).ravel()
        self.inv_sqrt = np.where(counts > 0, 1.0 / np.sqrt(np.maximum(counts, 1)), 0.0).astype(
            np.float32
        )

    def gram(self, *, chunk: int = 2048) -> np.ndarray:
        """The dense gene x gene co-occurrence counts (float32), computed once."""
        cached = self.__dict__.get("_gram")
        if cached is None:
            n = len(self.vocab)
            cached = np.empty((n, n), dtype=np.float32)
            x = self.matrix.tocsc()
            for start in range(0, n, chunk):
                stop = min(start + chunk, n)
                cached[start:stop] = (x[:, start:stop].T @ x).toarray()
            self.__dict__["_gram"] = cached
        return cached

    def score_ids(self, ids: Sequence[np.ndarray], *, chunk: int = 256) -> np.ndarray:
        """Mean (normalized) co-occurrence with the input genes (n x genes)."""
        out = np.empty((len(ids), len(self.vocab)), dtype=np.float32)
        gram = self.__dict__.get("_gram")
        for start in range(0, len(ids), chunk):
            part = list(ids[start : start + chunk])
            q = multi_hot(part, len(self.vocab))
            if self.normalize == "cosine":
                q = q @ sp.diags(self.inv_sqrt)
            if gram is not None:
                s = np.asarray(q @ gram, dtype=np.float32)
            else:
                hits = (q @ self.matrix_t).tocsr()  # lists x sets (sparse)
                s = (hits @ self.matrix).toarray().astype(np.float32, copy=False)
            if self.normalize == "cosine":
                s *= self.inv_sqrt
            sizes = np.array([max(len(i), 1) for i in part], dtype=np.float32)
            out[start : start + len(part)] = s / sizes[:, None]
        return out

    def neighbors(self, k: int, *, chunk: int = 2048) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` strongest cosine partners of every gene (self excluded).

        Returns ``(indices, values)``, each genes x k, values descending.
        """
        n = len(self.vocab)
        k = min(k, n - 1)
        idx = np.zeros((n, k), dtype=np.int64)
        val = np.zeros((n, k), dtype=np.float32)
        gram = self.__dict__.get("_gram")
        x = self.matrix.tocsc()
        for start in range(0, n, chunk):
            stop = min(start + chunk, n)
            if gram is not None:
                block = gram[start:stop].copy()
            else:
                block = (x[:, start:stop].T @ x).toarray().astype(np.float32)
            block *= self.inv_sqrt[start:stop, None]
            block *= self.inv_sqrt[None, :]
            block[np.arange(stop - start), np.arange(start, stop)] = -1.0
            top = np.argpartition(-block, k, axis=1)[:, :k]
            vals = np.take_along_axis(block, top, axis=1)
            order = np.argsort(-vals, axis=1, kind="stable")
            idx[start:stop] = np.take_along_axis(top, order, axis=1)
            val[start:stop] = np.maximum(np.take_along_axis(vals, order, axis=1), 0.0)
        return idx, val


class NeighborScorer(_Base):
    """Pruned normalized co-occurrence: each gene keeps its ``k`` strongest partners.

    The score of gene g for a list is the mean over input genes i of w(i, g), with w
    the stored (symmetrized) weights, zero outside the kept pairs.
    """

    name = "neighbors"

    def __init__(self, vocab: Genes, indices: np.ndarray, values: np.ndarray):
        self.vocab = np.asarray(vocab, dtype=str)
        n, k = indices.shape
        rows = np.repeat(np.arange(n), k)
        m = sp.csr_matrix(
            (values.astype(np.float32).ravel(), (rows, indices.ravel().astype(np.int64))),
            shape=(n, n),
        )
        self.matrix = m.maximum(m.T).tocsr()  # keep a pair if either side kept it

    def score_ids(self, ids: Sequence[np.ndarray]) -> np.ndarray:
        """Scores (n x genes) for lists given as column indices."""
        q = multi_hot(list(ids), len(self.vocab))
        s = np.asarray((q @ self.matrix).todense(), dtype=np.float32)
        sizes = np.array([max(len(i), 1) for i in ids], dtype=np.float32)
        return s / sizes[:, None]


class EaseScorer(_Base):
    """A linear autoencoder (EASE) with pruned weights: the score of gene g is sum_i B[i, g].

    ``B`` is kept as each input gene's ``k`` largest outgoing weights (not symmetrized:
    ``B`` is not symmetric), so a list scores every gene by one sparse product.

    Parameters
    ----------
    vocab
        The genes (rows and columns of ``B``).
    indices, values
        genes x k column indices and weights of each row's kept entries.
    """

    name = "ease"

    def __init__(self, vocab: Genes, indices: np.ndarray, values: np.ndarray):
        self.vocab = np.asarray(vocab, dtype=str)
        n, k = indices.shape
        if n != len(self.vocab) or values.shape != indices.shape:
            raise ModelError(
                f"EASE weights have shape {indices.shape}/{values.shape}; expected "
                f"({len(self.vocab)}, k)"
            )
        rows = np.repeat(np.arange(n), k)
        self.matrix = sp.csr_matrix(
            (values.astype(np.float32).ravel(), (rows, indices.ravel().astype(np.int64))),
            shape=(n, n),
        )

    def score_ids(self, ids: Sequence[np.ndarray]) -> np.ndarray:
        """Scores (n x genes): the summed weights from the input genes."""
        q = multi_hot(list(ids), len(self.vocab))
        return np.asarray((q @ self.matrix).todense(), dtype=np.float32)


class BlendScorer(_Base):
    """A weighted sum of the standardized scores of several scorers on one vocabulary.

    Each part's scores are transformed (``log``: log-probabilities, the logits for a
    softmax autoencoder; ``sqrt``: square root; ``none``: as is), standardized per list
    over the genes (mean 0, sd 1), and summed with the given weights. ``score_ids``
    returns that sum (a z-score-like value, not a probability).
    """

    name = "blend"

    def __init__(self, parts: Sequence[tuple[_Base, float, str]]):
        if not parts:
            raise ModelError("a blend needs at least one scorer")
        vocab = parts[0][0].vocab
        for scorer, _, _ in parts[1:]:
            if len(scorer.vocab) != len(vocab) or not np.array_equal(scorer.vocab, vocab):
                raise ModelError("blended scorers must share one vocabulary")
        self.vocab = vocab
        self.parts = list(parts)

    def contributions(self, ids: Sequence[np.ndarray]):
        """Each part's weighted, standardized scores, in order: ``(name, n x genes)``.

        They sum to :meth:`blended`; ``predict(..., explain=True)`` shows them so that a
        user sees which evidence a prediction rests on.
        """
        for scorer, weight, transform in self.parts:
            if transform == "log" and hasattr(scorer, "log_score_ids"):
                # standardizing removes any per-list constant, so logits suffice
                s = scorer.log_score_ids(ids).astype(np.float32, copy=False)
            else:
                s = scorer.score_ids(ids).astype(np.float32, copy=False)
            if transform == "log" and not hasattr(scorer, "log_score_ids"):
                s = np.log(np.maximum(s, 1e-12))
            elif transform == "sqrt":
                s = np.sqrt(np.maximum(s, 0.0), out=s)
            mu = s.mean(axis=1, keepdims=True, dtype=np.float64).astype(np.float32)
            sd = s.std(axis=1, keepdims=True, dtype=np.float64).astype(np.float32)
            factor = weight / np.where(sd > 0, sd, 1.0)
            s -= mu
            s *= factor
            yield scorer.name, s

    def blended(self, ids: Sequence[np.ndarray]) -> np.ndarray:
        """The weighted sum of standardized part scores."""
        total: np.ndarray | None = None
        for _, s in self.contributions(ids):
            if total is None:
                total = s
            else:
                total += s
        assert total is not None  # the constructor requires a part
        return total

    def score_ids(self, ids: Sequence[np.ndarray]) -> np.ndarray:
        """Scores (n x genes) for lists given as column indices."""
        return self.blended(ids)

    def encode_ids(self, ids: Sequence[np.ndarray]) -> np.ndarray:
        """Set encodings (n x d) for lists given as column indices."""
        for scorer, _, _ in self.parts:
            try:
                return scorer.encode_ids(ids)
            except ModelError:
                continue
        raise ModelError("no part of the blend has a set encoding")


class RandomScorer(_Base):
    """Uniform random scores (the chance baseline), seeded."""

    name = "random"

    def __init__(self, vocab: Genes, *, seed: int = 0):
        self.vocab = np.asarray(vocab, dtype=str)
        self.rng = np.random.default_rng(seed)

    def score_ids(self, ids: Sequence[np.ndarray]) -> np.ndarray:
        """Scores (n x genes) for lists given as column indices."""
        return self.rng.random((len(ids), len(self.vocab)), dtype=np.float32)
