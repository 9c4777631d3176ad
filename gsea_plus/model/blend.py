"""Fitting the bundled model's corpus parts and writing the blend (no torch).

The bundled model blends a trained autoencoder (:func:`gsea_plus.model.train.train_model`,
torch, about 56 min on 2 CPU cores) with parts that are fitted in closed form or kept
from the corpus (:func:`fit_blend_model`, numpy, about 10 min on one core):

* ``setknn``: the corpus sets themselves (:mod:`gsea_plus.model.knn`);
* ``ease``: a linear autoencoder, pruned (:mod:`gsea_plus.model.ease`);
* ``band``: each gene's cytogenetic band, from NCBI gene_info (:mod:`gsea_plus.model.bands`).

The weights and options below were chosen on validation libraries that are excluded
from the corpus and are neither benchmark libraries nor versions of one
(``benchmarks/model_search.py``; ``benchmarks/README.md``, "Model search (issue 13)").
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gsea_plus.errors import InputError
from gsea_plus.model.ease import EaseSettings

log = logging.getLogger(__name__)

__all__ = ["DEFAULT_KNN", "DEFAULT_WEIGHTS", "BlendResult", "fit_blend_model"]

#: Blend weights of the bundled model (chosen on the validation libraries).
DEFAULT_WEIGHTS: dict[str, float] = {"setknn": 0.4, "autoencoder": 0.4, "ease": 0.1, "band": 0.1}
#: Options of the bundled set-kNN part.
DEFAULT_KNN: dict[str, Any] = {"alpha": 0.5, "top": 500, "power": 4.0, "idf": True, "beta": 0.25}
#: EASE settings of the bundled model.
DEFAULT_EASE = EaseSettings(lam=3000.0, size_power=0.5, k=128)


@dataclass
class BlendResult:
    """Where :func:`fit_blend_model` wrote the model, and what it took."""

    directory: Path
    sha256: dict[str, str]
    seconds: dict[str, float] = field(default_factory=dict)


def fit_blend_model(
    corpus: str | Path,
    output: str | Path,
    *,
    autoencoder: str | Path | None,
    gene_info: str | Path | None = None,
    hgnc: str | Path | None = None,
    weights: dict[str, float] | None = None,
    knn: dict[str, Any] | None = None,
    ease: EaseSettings | None = None,
    dtype: str = "int8",
    progress: Callable[[str], None] | None = None,
) -> BlendResult:
    """Fit the corpus parts and write a blended model directory.

    Parameters
    ----------
    corpus
        The corpus GMT from ``gsea-plus model corpus`` (descriptions are source tags).
    output
        The model directory to write (the bundled layout).
    autoencoder
        A directory written by ``train_model`` (float32 weights); its vocabulary is the
        model's. ``None``: no autoencoder part (and no set embedding); the vocabulary
        is then the genes in at least 5 corpus sets.
    gene_info
        NCBI ``gene_info`` table for the ``band`` part (``None``: no band part).
    hgnc
        HGNC table to map gene_info symbols to current symbols.
    weights
        Part weights (default :data:`DEFAULT_WEIGHTS`); a part with weight 0 is left out.
    knn
        Options of the set-kNN part (default :data:`DEFAULT_KNN`).
    ease
        EASE settings (default :data:`DEFAULT_EASE`); ``k`` is the weights kept per gene.
    dtype
        ``int8`` (the bundle), ``float16`` or ``float32``.
    progress
        Optional callable ``progress(message)``.
    """
    from gsea_plus.library.gmt import read_gmt
    from gsea_plus.model.bundle import BlendPart, write_blend
    from gsea_plus.model.corpus import build_vocab
    from gsea_plus.model.ease import fit_ease
    from gsea_plus.model.knn import SetMemory
    from gsea_plus.model.network import Autoencoder
    from gsea_plus.model.vocab import Vocab

    say = progress or (lambda message: log.info("%s", message))
    weights = dict(DEFAULT_WEIGHTS if weights is None else weights)
    knn = dict(DEFAULT_KNN if knn is None else knn)
    ease = ease or DEFAULT_EASE
    if gene_info is None:
        weights.pop("band", None)
    if autoencoder is None:
        weights.pop("autoencoder", None)
    weights = {k: float(w) for k, w in weights.items() if w}
    unknown = set(weights) - {"setknn", "autoencoder", "ease", "band"}
    if unknown or not weights:
        raise InputError(f"blend weights: unknown or no parts ({sorted(unknown)})")
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    sets = read_gmt(corpus)
    net = Autoencoder.load(autoencoder) if autoencoder is not None else None
    vocab = net.vocab if net is not None else Vocab(build_vocab(sets))
    genes = vocab.genes
    parts: list[BlendPart] = []
    for name, w in weights.items():
        t = time.perf_counter()
        if name == "autoencoder":
            parts.append(BlendPart("autoencoder", w, "log"))
        elif name == "setknn":
            memory = SetMemory.from_sets(
                [s.genes for s in sets],
                genes,
                sources=[s.description for s in sets],
                terms=[s.term for s in sets],
            )
            parts.append(BlendPart("setknn", w, data=memory, options=knn))
            say(f"set memory: {len(memory)} sets")
        elif name == "ease":
            say(f"EASE: {len(sets)} sets x {len(genes)} genes, lambda {ease.lam:g}")
            fit = fit_ease(
                [s.genes for s in sets], genes, settings=ease, sources=[s.description for s in sets]
            )
            idx, val = fit.prune(ease.k)
            del fit
            parts.append(BlendPart("ease", w, indices=idx, values=val))
            say(f"EASE: done in {time.perf_counter() - t:.0f} s")
        elif name == "band":
            from gsea_plus.genes import SymbolMapper
            from gsea_plus.model.bands import read_gene_info_bands

            mapper = SymbolMapper.from_hgnc(hgnc) if hgnc is not None else None
            assert gene_info is not None
            parts.append(BlendPart("band", w, data=read_gene_info_bands(gene_info, mapper=mapper)))
        seconds[name] = time.perf_counter() - t
    sha = write_blend(output, parts, network=net, vocab=vocab, dtype=dtype)
    seconds["total"] = time.perf_counter() - t0
    record = {
        "family": "blend",
        "weights": weights,
        "setknn": knn,
        "ease": ease.to_dict(),
        "corpus": str(corpus),
        "n_sets": len(sets),
        "autoencoder": str(autoencoder) if autoencoder is not None else None,
        "gene_info": str(gene_info) if gene_info is not None else None,
        "seconds": seconds,
    }
    (Path(output) / "fit.json").write_text(json.dumps(record, indent=2) + "\n")
    say(f"blend written to {output} in {seconds['total'] / 60:.1f} min")
    return BlendResult(Path(output), sha, seconds)
