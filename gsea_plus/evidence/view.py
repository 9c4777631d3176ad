"""The gene set model's view of a library: vocabulary maps, term predictions, list scores.

A gene scorer (the bundled gene set foundation model, or any
:class:`gsea_plus.model.scorers.GeneScorer`) scores every vocabulary gene for a list.
:class:`ModelView` maps a prepared library onto the scorer's vocabulary once and caches
what the model-based statistics (:mod:`gsea_plus.evidence.statistics`) reuse: term
encodings, the terms' own predictions (:class:`TermPredictions`, also cached on disk),
and the size-matched nulls.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gsea_plus import progress
from gsea_plus.engine import ListMatch, PreparedLibrary, match_lists
from gsea_plus.genes import GeneList

log = logging.getLogger(__name__)

__all__ = [
    "PREDICTION_BUDGET",
    "ModelView",
    "TermPredictions",
    "augment_matches",
    "model_scores",
    "predicted_genes",
    "random_matches",
    "vocab_ids",
]


@dataclass
class ModelView:
    """A prepared library seen through a scorer's vocabulary.

    Attributes
    ----------
    prepared
        The library with its background.
    scorer
        The gene scorer.
    lib_to_vocab
        For each library gene, its vocabulary index, or -1.
    allowed
        Vocabulary genes that may be added by augmentation (in the background).
    coverage
        Fraction of the library's genes that the model knows.

    Notes
    -----
    The model test has its own background, wider than the classical one: every gene the
    model knows may be in a list, whether a library annotates it yet or not (with a user
    background of genes: the vocabulary genes in it). :attr:`model_background` marks it;
    it has two strata, the library's genes (:attr:`in_library`) and the rest, and the
    ``prediction`` test compares each list gene with its own stratum
    (:func:`gsea_plus.evidence.statistics.prediction_test`).
    """

    prepared: PreparedLibrary
    scorer: Any
    lib_to_vocab: np.ndarray
    allowed: np.ndarray
    coverage: float
    _cache: dict = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, prepared: PreparedLibrary, scorer) -> ModelView:
        """Map the library's genes onto the scorer's vocabulary."""
        vocab_index = {g: i for i, g in enumerate(np.asarray(scorer.vocab).tolist())}
        lib_genes = prepared.library.genes.tolist()
        lib_to_vocab = np.array([vocab_index.get(g, -1) for g in lib_genes], dtype=np.int64)
        coverage = float(np.mean(lib_to_vocab >= 0)) if len(lib_genes) else 0.0
        allowed = np.zeros(len(vocab_index), dtype=bool)
        if prepared.background_genes is not None:
            for g in prepared.background_genes:
                j = vocab_index.get(g)
                if j is not None:
                    allowed[j] = True
        elif prepared.kind == "library":
            allowed[lib_to_vocab[lib_to_vocab >= 0]] = True
        else:  # a fixed-size background: any gene the model knows may be added
            allowed[:] = True
        if coverage < 0.5:
            log.warning(
                "only %.0f%% of %s's genes are in the model's vocabulary: "
                "model-based results cover the rest poorly",
                100 * coverage,
                prepared.library.name,
            )
        return cls(prepared, scorer, lib_to_vocab, allowed, coverage)

    @property
    def vocab_index(self) -> dict[str, int]:
        """Vocabulary symbol -> column."""
        cached = self._cache.get("vocab_index")
        if cached is None:
            cached = {g: i for i, g in enumerate(np.asarray(self.scorer.vocab).tolist())}
            self._cache["vocab_index"] = cached
        return cached

    @property
    def in_library(self) -> np.ndarray:
        """Vocabulary genes that are library genes (within the background)."""
        return self.vocab_to_lib >= 0

    @property
    def model_background(self) -> np.ndarray:
        """Vocabulary genes a list may hold for the model test (see the class notes)."""
        cached = self._cache.get("model_background")
        if cached is None:
            bg = self.prepared.background_genes
            if bg is None:
                cached = np.ones(len(self.allowed), dtype=bool)
            else:
                index = self.vocab_index
                cached = np.zeros(len(self.allowed), dtype=bool)
                cached[[index[g] for g in bg if g in index]] = True
            self._cache["model_background"] = cached
        return cached

    def describe_model_background(self) -> str:
        """One line: the model test's background and its strata (for summaries)."""
        bg = self.model_background
        n_lib = int((bg & self.in_library).sum())
        what = "genes the model knows"
        if self.prepared.background_genes is not None:
            what = "background genes the model knows"
        name = self.prepared.library.name
        return f"{int(bg.sum())} {what} ({n_lib} in {name}, {int(bg.sum()) - n_lib} not)"

    @property
    def vocab_to_lib(self) -> np.ndarray:
        """For each vocabulary gene, its library gene index, or -1."""
        cached = self._cache.get("vocab_to_lib")
        if cached is None:
            cached = np.full(len(self.allowed), -1, dtype=np.int64)
            known = np.flatnonzero(self.lib_to_vocab >= 0)
            cached[self.lib_to_vocab[known]] = known
            self._cache["vocab_to_lib"] = cached
        return cached

    def term_vocab_matrix(self):
        """Sparse (vocabulary x terms) membership, library genes outside the vocabulary dropped."""
        cached = self._cache.get("term_vocab")
        if cached is None:
            import scipy.sparse as sp

            lib = self.prepared.library
            rows = np.repeat(np.arange(len(lib.terms)), lib.term_sizes)
            cols = self.lib_to_vocab[lib.indices]
            keep = cols >= 0
            cached = sp.csr_matrix(
                (np.ones(int(keep.sum()), dtype=np.float64), (cols[keep], rows[keep])),
                shape=(len(self.allowed), len(lib.terms)),
            )
            self._cache["term_vocab"] = cached
        return cached

    def term_encodings(self) -> np.ndarray:
        """Unit-length model encodings of every term (computed once)."""
        cached = self._cache.get("term_enc")
        if cached is None:
            lib = self.prepared.library
            enc = np.asarray(
                self.scorer.encode([lib.term_genes(i) for i in range(len(lib.terms))]),
                dtype=np.float64,
            )
            cached = enc / np.maximum(np.linalg.norm(enc, axis=1, keepdims=True), 1e-12)
            self._cache["term_enc"] = cached
        return cached


def vocab_ids(view: ModelView, matches: Sequence[ListMatch]) -> list[np.ndarray]:
    """Vocabulary ids of every input gene the model knows, in or out of the library.

    The model sees the whole list: genes that a library does not annotate yet are often
    the informative ones (the Fisher counts, by contrast, only use library genes). With a
    user background of genes, genes outside it are left out, as the classical test does.
    """
    index = view.vocab_index
    background = view.model_background
    out = []
    for m in matches:
        ids = np.unique(np.array([index[g] for g in m.genes if g in index], dtype=np.int64))
        out.append(ids[background[ids]])
    return out


def model_scores(
    view: ModelView, matches: Sequence[ListMatch], genes: Sequence[Sequence[str]]
) -> np.ndarray:
    """The scorer's score of every vocabulary gene for each list (lists x vocabulary)."""
    if hasattr(view.scorer, "score_ids"):
        return np.asarray(view.scorer.score_ids(vocab_ids(view, matches)), dtype=np.float64)
    return np.asarray(view.scorer.score(list(genes)), dtype=np.float64)


def predicted_genes(
    view: ModelView, scores: np.ndarray, matches: Sequence[ListMatch], n_add: int
) -> list[np.ndarray]:
    """Top ``n_add`` vocabulary genes per list, not in the list, within the background.

    Returns library gene indices (genes the library does not hold count against ``n_add``
    only when the background is not the library).
    """
    out = []
    ids = vocab_ids(view, matches)
    for row, own in zip(scores, ids, strict=True):
        if len(own) == 0:  # the model knows no gene of the list: nothing to predict from
            out.append(np.zeros(0, dtype=np.int64))
            continue
        s = np.where(view.allowed, row, -np.inf)
        s[own] = -np.inf
        k = min(n_add, int(np.isfinite(s).sum()))
        if k <= 0:
            out.append(np.zeros(0, dtype=np.int64))
            continue
        top = np.argpartition(-s, k - 1)[:k]
        top = top[np.argsort(-s[top], kind="stable")]
        out.append(top)
    return out


def augment_matches(
    view: ModelView, matches: Sequence[ListMatch], predicted: Sequence[np.ndarray]
) -> list[ListMatch]:
    """Lists with their predicted genes added (library columns; n grows by the additions)."""
    v2l = view.vocab_to_lib
    out = []
    for m, top in zip(matches, predicted, strict=True):
        cols = v2l[top]
        in_lib = cols[cols >= 0]
        extra = len(top) - len(in_lib) if view.prepared.kind != "library" else 0
        out.append(
            ListMatch(
                name=m.name,
                genes=m.genes,
                columns=np.union1d(m.columns, in_lib),
                size=m.size + len(in_lib) + extra,
                unrecognized=m.unrecognized,
                outside_library=m.outside_library,
            )
        )
    return out


def random_matches(prepared: PreparedLibrary, size: int, count: int, seed: int) -> list[ListMatch]:
    """``count`` random lists of ``size`` genes drawn from the background."""
    rng = np.random.default_rng(seed)
    pool = (
        sorted(prepared.background_genes)
        if prepared.background_genes is not None
        else prepared.library.genes.tolist()
    )
    size = min(size, len(pool))
    lists = [
        GeneList([pool[j] for j in rng.choice(len(pool), size, replace=False)])
        for _ in range(count)
    ]
    return match_lists(prepared, lists)


#: Cells (terms x ranked genes) kept of the term predictions: the whole vocabulary for
#: libraries up to ~400 terms, the top ranks of each term for bigger ones.
PREDICTION_BUDGET = 12_000_000


@dataclass
class TermPredictions:
    """Each term's model predictions: the vocabulary ranked by the model given the term.

    Attributes
    ----------
    top
        (terms x K) vocabulary ids in rank order (rank 0 = the model's first candidate);
        the term's own genes are excluded.
    n_ranked
        Per term, how many vocabulary genes are ranked (vocabulary minus own genes).
    """

    top: np.ndarray
    n_ranked: np.ndarray

    @classmethod
    def compute(
        cls, view: ModelView, *, budget: int = PREDICTION_BUDGET, batch: int = 256
    ) -> TermPredictions:
        """Run every term through the model, in batches, keeping the top ranks."""
        m = view.term_vocab_matrix().T.tocsr()  # terms x vocabulary
        n_terms, n_vocab = m.shape
        k = int(min(n_vocab, max(budget // max(n_terms, 1), 1)))
        top = np.zeros((n_terms, k), dtype=np.int32 if n_vocab > 65535 else np.uint16)
        own = [m.indices[m.indptr[t] : m.indptr[t + 1]] for t in range(n_terms)]
        name = view.prepared.library.name
        with progress.task(
            f"{name}: running {n_terms} terms through the model (once)",
            total=-(-n_terms // batch),
        ) as step:
            for start in range(0, n_terms, batch):
                ids = own[start : start + batch]
                top[start : start + len(ids)] = cls._ranked(view, ids, k, n_vocab)
                step(1)
        n_ranked = n_vocab - np.diff(m.indptr)
        return cls(top, n_ranked.astype(np.int64))

    @staticmethod
    def _ranked(view: ModelView, ids, k: int, n_vocab: int) -> np.ndarray:
        """The top ``k`` vocabulary ids, in rank order, of each input (own genes excluded)."""
        scores = np.asarray(view.scorer.score_ids(ids), dtype=np.float64)
        for row, mine in enumerate(ids):
            scores[row, mine] = -np.inf
        if k < n_vocab:
            part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        else:
            part = np.broadcast_to(np.arange(n_vocab), scores.shape)
        picked = np.take_along_axis(scores, part, axis=1)
        order = np.argsort(-picked, axis=1, kind="stable")
        return np.take_along_axis(part, order, axis=1)

    @property
    def depth(self) -> int:
        """K, the ranks kept per term."""
        return self.top.shape[1]

    @classmethod
    def cached(cls, view: ModelView, *, budget: int = PREDICTION_BUDGET) -> TermPredictions:
        """:meth:`compute`, kept in the cache directory for models loaded from files.

        The file (``predictions/<key>.npz``) is keyed by the model's fingerprint, the terms
        (after the background) and the budget. A big library takes seconds to run through
        the model; later runs read ~25 MB. The file is numpy ``.npz`` (no pickle), written
        atomically.
        """

        def compute() -> dict[str, np.ndarray]:
            log.info(
                "running %d terms through the model (once per library)",
                len(view.prepared.library.terms),
            )
            preds = cls.compute(view, budget=budget)
            return {"top": preds.top, "n_ranked": preds.n_ranked}

        arrays = cached_arrays(view, "predictions", f"{budget}", compute, what="term predictions")
        return cls(arrays["top"], arrays["n_ranked"])


def cached_arrays(
    view: ModelView,
    kind: str,
    key: str,
    compute: Callable[[], dict[str, np.ndarray]],
    *,
    what: str,
    background: bool = False,
) -> dict[str, np.ndarray]:
    """Arrays computed once per model and library, kept as ``<kind>/<digest>.npz``.

    The digest covers the model's fingerprint, ``key`` (the protocol's parameters) and the
    terms' genes after the background (and, with ``background``, which vocabulary genes
    the library holds). A model without a fingerprint is not cached. The file is numpy
    ``.npz`` (no pickle), written atomically; an unreadable one is recomputed, and a cache
    that cannot be written only costs the time.
    """
    import hashlib
    import io

    from gsea_plus.errors import CacheError
    from gsea_plus.library.cache import atomic_write, cache_dir

    fingerprint = getattr(view.scorer, "fingerprint", "")
    if not fingerprint:
        return compute()
    m = view.term_vocab_matrix().T.tocsr()
    h = hashlib.sha256(f"{kind}:{fingerprint}:{key}:{m.shape}".encode())
    h.update(np.ascontiguousarray(m.indptr, dtype=np.int64).tobytes())
    h.update(np.ascontiguousarray(m.indices, dtype=np.int64).tobytes())
    if background:
        h.update(np.ascontiguousarray(np.flatnonzero(view.in_library), dtype=np.int64).tobytes())
    try:
        path = cache_dir(kind) / f"{h.hexdigest()[:32]}.npz"
    except CacheError as exc:
        log.warning("%s not cached: %s", what, exc)
        return compute()
    if path.exists():
        try:
            with np.load(path, allow_pickle=False) as data:
                return {name: data[name] for name in data.files}
        except (OSError, ValueError, KeyError) as exc:
            log.warning("ignoring unreadable cached %s %s (%s)", what, path, exc)
    arrays = compute()
    buf = io.BytesIO()
    kept: dict[str, Any] = dict(arrays)
    np.savez(buf, **kept)
    try:
        atomic_write(path, buf.getvalue())
    except CacheError as exc:
        log.warning("%s not cached: %s", what, exc)
    return arrays
