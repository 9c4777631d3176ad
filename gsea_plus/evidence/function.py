"""Gene function from the model: the terms it would add a gene to."""

from __future__ import annotations

import numpy as np

__all__ = ["GENE_COLUMNS", "gene_function"]


GENE_COLUMNS = [
    "Term",
    "Probability",
    "Rank",
    "Percentile",
    "Term Size",
    "Known Genes",
    "Library",
]


def gene_function(
    gene: str,
    library="GO_BP",
    *,
    model=None,
    offline: bool | None = None,
    batch: int = 256,
):
    """Predict the functions of ``gene``: the terms the model would add it to.

    Every term of the library is given to the model (its genes as the input list, in
    batches); for each term the gene's predicted probability and its rank among the
    term's predictions (1 = the model's first candidate; genes of the term excluded) are
    recorded. Terms that already contain the gene are returned separately.

    Parameters
    ----------
    gene
        A gene symbol (case-insensitive).
    library
        One library spec (alias, Enrichr name, GMT path, mapping).
    model
        A model or scorer (default: the bundled model).
    offline
        Never download the library.
    batch
        Terms scored at once.

    Returns
    -------
    (candidates, members): two pandas DataFrames with :data:`GENE_COLUMNS`; candidates
    sorted by probability (then rank), members by probability too.

    Raises
    ------
    InputError
        When the model does not know the gene (with close symbols).
    """
    import difflib

    import pandas as pd

    from gsea_plus.errors import InputError
    from gsea_plus.library import load_library
    from gsea_plus.model import load_model

    model = load_model(model) if model is None or isinstance(model, str) else model
    symbol = str(gene).strip().upper()
    vocab = np.asarray(model.vocab)
    hits = np.flatnonzero(vocab == symbol)
    if len(hits) == 0:
        close = difflib.get_close_matches(symbol, vocab.tolist(), n=5, cutoff=0.75)
        more = f"; close symbols: {', '.join(close)}" if close else ""
        raise InputError(f"{symbol} is not in the model's vocabulary ({len(vocab)} genes){more}")
    g = int(hits[0])
    lib = load_library(library, offline=offline)
    index = {s: i for i, s in enumerate(vocab.tolist())}
    ids = []
    for t in range(len(lib.terms)):
        ids.append(np.array([index[x] for x in lib.term_genes(t) if x in index], dtype=np.int64))
    contains = np.array([g in set(i.tolist()) for i in ids])
    prob = np.full(len(ids), np.nan)
    rank = np.zeros(len(ids), dtype=np.int64)
    usable = np.array([len(i) > 0 for i in ids])
    for start in range(0, len(ids), batch):
        part = [i for i in range(start, min(start + batch, len(ids))) if usable[i]]
        if not part:
            continue
        scores = np.asarray(model.score_ids([ids[i] for i in part]), dtype=np.float64)
        probs = _probabilities(model, [ids[i] for i in part], scores)
        for row, t in enumerate(part):
            s = scores[row].copy()
            s[ids[t]] = -np.inf  # the term's own genes are not candidates
            own = scores[row, g]
            rank[t] = int(np.sum(s > own)) + (0 if contains[t] else 1)
            prob[t] = probs[row, g]
    n_vocab = len(vocab)
    sizes = lib.term_sizes
    known = np.array([len(i) for i in ids])
    frame = pd.DataFrame(
        {
            "Term": lib.terms,
            "Probability": prob,
            "Rank": rank,
            "Percentile": 100.0 * (1.0 - (rank - 1) / np.maximum(n_vocab - known, 1)),
            "Term Size": sizes,
            "Known Genes": known,
            "Library": lib.name,
        },
        columns=GENE_COLUMNS,
    )[usable]
    order = np.lexsort((frame["Rank"].to_numpy(), -frame["Probability"].to_numpy()))
    frame = frame.iloc[order]
    members = frame[contains[usable][order]].reset_index(drop=True)
    candidates = frame[~contains[usable][order]].reset_index(drop=True)
    return candidates, members


def _probabilities(model, ids, scores):
    """The autoencoder's probabilities when the model has one (a blend ranks by z-scores)."""
    if hasattr(model, "autoencoder"):
        return np.asarray(model.autoencoder.score_ids(ids), dtype=np.float64)
    return scores
