"""A toy library and a deterministic gene scorer shared by the model-based tests."""

from __future__ import annotations

import numpy as np

from gsea_plus.engine import prepare
from gsea_plus.evidence import ModelView
from gsea_plus.library import GeneSetLibrary


class TableScorer:
    """A deterministic scorer: score of gene g for a list = sum of W[input, g]."""

    name = "table"

    def __init__(self, vocab, seed=0, dim=8):
        rng = np.random.default_rng(seed)
        self.vocab = np.asarray(vocab)
        self.w = rng.random((len(vocab), len(vocab)))
        self.e = rng.normal(size=(len(vocab), dim))

    def score_ids(self, ids):
        return np.array(
            [self.w[i].sum(axis=0) if len(i) else np.zeros(len(self.vocab)) for i in ids]
        )

    def _ids(self, lists):
        index = {g: i for i, g in enumerate(self.vocab.tolist())}
        return [np.array([index[g] for g in gl if g in index], dtype=int) for gl in lists]

    def score(self, lists):
        return self.score_ids(self._ids(lists))

    def encode(self, lists):
        return np.array([self.e[i].sum(axis=0) + 1e-3 for i in self._ids(lists)])


def toy_setup(scorer_seed: int = 0):
    """A 30-term library over G0..G99 and a scorer that knows G10..G119."""
    rng = np.random.default_rng(3)
    genes = [f"G{i}" for i in range(120)]
    sets = {
        f"T{t}": list(rng.choice(genes[:100], size=int(rng.integers(5, 25)), replace=False))
        for t in range(30)
    }
    lib = GeneSetLibrary.from_gene_sets("toy", sets)
    # the model knows 90 library genes and 20 genes outside the library
    vocab = genes[10:120]
    prepared = prepare(lib)
    view = ModelView.build(prepared, TableScorer(vocab, seed=scorer_seed))
    return lib, prepared, view
