"""EASE: a closed-form linear autoencoder of gene sets (Steck, WWW 2019), in numpy.

Given the sets x genes membership matrix ``X`` (optionally with a weight per set), EASE
solves ``min ||X - X B||^2 + sum_i lam_i B_i^2`` subject to ``diag(B) = 0``:

    P = (X^T W X + diag(lam))^-1,    B = I - P diag(1 / diag(P)),

so ``B_ij = -P_ij / P_jj`` off the diagonal. A gene list ``q`` (multi-hot) scores every
gene by ``q B``. ``lam_i = lam + dropout_ratio * G_ii`` adds the per-gene penalty of the
dropout-regularized variant (EDLAE, Steck NeurIPS 2020): frequent genes are shrunk
more.

The dense ``B`` (genes x genes, 3.2 GB in float32 for 28k genes) is too large to ship,
so each input gene keeps its ``k`` largest weights (:func:`prune_rows`), stored as
uint16 indices with int8 values and one float32 scale per gene
(:func:`write_sparse_rows`). The fit itself is one Cholesky factorization and inverse
in LAPACK (float32, in place): about 2/3 V^3 flops, a few minutes on one core for
V = 28k.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from gsea_plus.errors import InputError, ModelError
from gsea_plus.model.network import check_finite

log = logging.getLogger(__name__)

__all__ = [
    "EASE_FILE",
    "EaseFit",
    "EaseResult",
    "EaseSettings",
    "ease_weights",
    "fit_ease",
    "fit_ease_model",
    "gram_matrix",
    "membership_matrix",
    "prune_rows",
    "quantize_rows",
    "read_sparse_rows",
    "set_weights",
    "write_ease",
    "write_sparse_rows",
]

#: File of the pruned EASE weights inside a model directory.
EASE_FILE = "ease.safetensors"


@dataclass
class EaseSettings:
    """Settings of an EASE fit (saved in ``ease.json`` beside the weights).

    Attributes
    ----------
    lam
        The L2 penalty added to every diagonal entry of the Gram matrix.
    dropout_ratio
        Extra penalty per gene in units of its own (weighted) set count, ``p / (1 - p)``
        for a dropout rate ``p`` (EDLAE); 0 gives plain EASE.
    size_power
        Each set is weighted by ``size ** -size_power`` (0: every set counts once;
        1: a set's total contribution to the Gram matrix no longer grows with its size).
    source_power
        Each source library's sets are weighted by ``n_source ** -source_power`` (0:
        every set counts once; 1: every source library counts once in total). Needs
        the sets' source tags.
    k
        Weights kept per input gene when pruning.
    """

    lam: float = 3000.0
    dropout_ratio: float = 0.0
    size_power: float = 0.0
    source_power: float = 0.0
    k: int = 512
    extra: dict[str, object] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        """The JSON form."""
        data = asdict(self)
        extra = data.pop("extra")
        return {**extra, **data}


def membership_matrix(ids: Sequence[np.ndarray], n_genes: int) -> sp.csr_matrix:
    """The sets x genes 0/1 matrix (float32, CSR) of per-set column indices."""
    indptr = np.zeros(len(ids) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([len(i) for i in ids])
    indices = np.concatenate(ids).astype(np.int64) if len(ids) else np.zeros(0, np.int64)
    data = np.ones(len(indices), dtype=np.float32)
    return sp.csr_matrix((data, indices, indptr), shape=(len(ids), n_genes))


def set_weights(
    sizes: np.ndarray,
    sources: Sequence[str] | None = None,
    *,
    size_power: float = 0.0,
    source_power: float = 0.0,
) -> np.ndarray:
    """One weight per set: ``size**-size_power * n_source**-source_power``, mean 1.

    Parameters
    ----------
    sizes
        Genes per set (in the vocabulary).
    sources
        The source tag of every set; needed when ``source_power`` is not 0.
    size_power, source_power
        Exponents (see :class:`EaseSettings`).
    """
    sizes = np.maximum(np.asarray(sizes, dtype=np.float64), 1.0)
    w = sizes**-size_power
    if source_power:
        if sources is None or len(sources) != len(sizes):
            raise InputError("source weighting needs one source tag per set")
        tags, inverse, counts = np.unique(
            np.asarray(sources, dtype=str), return_inverse=True, return_counts=True
        )
        w = w * counts[inverse].astype(np.float64) ** -source_power
    return (w / w.mean()).astype(np.float64)


def gram_matrix(
    x: sp.csr_matrix, weights: np.ndarray | None = None, *, chunk: int = 2048
) -> np.ndarray:
    """The dense genes x genes matrix ``X^T diag(weights) X`` in float32, by column blocks."""
    if weights is not None:
        x = sp.diags(np.sqrt(np.asarray(weights, dtype=np.float64)).astype(np.float32)) @ x
    x = sp.csc_matrix(x, dtype=np.float32)
    xt = x.T.tocsr()
    n = x.shape[1]
    g = np.empty((n, n), dtype=np.float32)
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        g[start:stop] = (xt[start:stop] @ x).toarray()
    return g


def ease_weights(
    g: np.ndarray, lam: float | np.ndarray, *, dropout_ratio: float = 0.0
) -> np.ndarray:
    """The EASE matrix ``B`` from a Gram matrix, computed in place (``g`` is consumed).

    Parameters
    ----------
    g
        The genes x genes Gram matrix, float32, C-ordered; it is overwritten by ``B``.
    lam
        L2 penalty (a scalar, or one value per gene).
    dropout_ratio
        Adds ``dropout_ratio * diag(g)`` to the penalty (EDLAE).

    Returns
    -------
    numpy.ndarray
        ``B`` (the same memory as ``g``): ``B[i, j]`` is what input gene ``i`` adds to
        the score of gene ``j``; the diagonal is 0.
    """
    from scipy.linalg import lapack

    if g.dtype != np.float32 or not g.flags.c_contiguous or g.shape[0] != g.shape[1]:
        raise InputError("the Gram matrix must be a square, C-ordered float32 array")
    n = g.shape[0]
    diag = np.einsum("ii->i", g)  # a view
    penalty = np.broadcast_to(np.asarray(lam, dtype=np.float64), (n,)) + dropout_ratio * diag
    if np.any(penalty <= 0):
        raise InputError("the EASE penalty must be positive for every gene")
    diag += penalty.astype(np.float32)
    # g is symmetric; its transpose is Fortran-ordered, so LAPACK works in place. The
    # "lower" triangle of g.T is the upper triangle of g.
    ft = g.T
    c, info = lapack.spotrf(ft, lower=1, clean=0, overwrite_a=1)
    if info != 0:
        raise ModelError(f"EASE: Cholesky factorization failed (info={info})")
    c, info = lapack.spotri(c, lower=1, overwrite_c=1)
    if info != 0:
        raise ModelError(f"EASE: inverse failed (info={info})")
    if not np.shares_memory(c, g):  # pragma: no cover - LAPACK wrappers copied
        g[...] = c.T
    del c, ft
    # the inverse is in the upper triangle of g (C order): mirror it down
    _symmetrize_upper(g)
    p_diag = np.einsum("ii->i", g).copy()
    scale = (-1.0 / p_diag).astype(np.float32)
    block = 2048
    for start in range(0, n, block):
        g[start : start + block] *= scale[None, :]
    np.einsum("ii->i", g)[:] = 0.0
    return g


def _symmetrize_upper(g: np.ndarray, *, block: int = 2048) -> None:
    """Copy the upper triangle of ``g`` onto its lower one, in place."""
    n = g.shape[0]
    for i in range(0, n, block):
        i1 = min(i + block, n)
        d = g[i:i1, i:i1]
        il = np.tril_indices(i1 - i, -1)
        d[il] = d.T[il]
        for j in range(i1, n, block):
            j1 = min(j + block, n)
            g[j:j1, i:i1] = g[i:i1, j:j1].T


def prune_rows(
    b: np.ndarray, k: int, *, signed: bool = False, chunk: int = 1024
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's ``k`` largest weights (or largest in absolute value, ``signed``).

    Returns ``(indices, values)``, each rows x k, ordered by decreasing weight (or
    magnitude).
    """
    n, m = b.shape
    k = min(k, m - 1)
    idx = np.empty((n, k), dtype=np.int64)
    val = np.empty((n, k), dtype=np.float32)
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        block = b[start:stop]
        key = np.abs(block) if signed else block
        top = np.argpartition(-key, k - 1, axis=1)[:, :k]
        keys = np.take_along_axis(key, top, axis=1)
        order = np.argsort(-keys, axis=1, kind="stable")
        top = np.take_along_axis(top, order, axis=1)
        idx[start:stop] = top
        val[start:stop] = np.take_along_axis(block, top, axis=1)
    return idx, val


def quantize_rows(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric int8 values with one float32 scale per row (``values ~ q * scale``)."""
    values = np.asarray(values, dtype=np.float32)
    scale = np.abs(values).max(axis=1) / 127.0
    scale[scale == 0] = 1.0
    q = np.clip(np.rint(values / scale[:, None]), -127, 127).astype(np.int8)
    return q, scale.astype(np.float32)


def write_sparse_rows(
    path: str | Path,
    indices: np.ndarray,
    values: np.ndarray,
    *,
    dtype: str = "int8",
) -> None:
    """Write per-row sparse weights as safetensors: ``indices``, ``values`` (+ ``scale``).

    Indices are uint16 when the columns fit, else int32; ``dtype`` is ``int8`` (one
    float32 scale per row), ``float16`` or ``float32``.
    """
    from safetensors.numpy import save

    from gsea_plus.library.cache import atomic_write

    n_cols = int(indices.max()) + 1 if indices.size else 0
    index_dtype = np.uint16 if n_cols <= 2**16 else np.int32
    tables = {"indices": np.ascontiguousarray(indices.astype(index_dtype))}
    if dtype == "int8":
        tables["values"], tables["scale"] = quantize_rows(values)
    elif dtype in ("float16", "float32"):
        tables["values"] = np.ascontiguousarray(values.astype(dtype))
    else:
        raise InputError(f"dtype must be int8, float16 or float32, got {dtype!r}")
    atomic_write(Path(path), save(tables))


def read_sparse_rows(
    path: str | Path, n_rows: int, *, quantized: str = "int8", what: str = "weight"
) -> tuple[np.ndarray, np.ndarray]:
    """Read a top-k table per row: ``(indices int64, values float32)``.

    :func:`write_sparse_rows` output (EASE weights, ``quantized="int8"``), and the
    bundled autoencoder's co-occurrence neighbours (``quantized="uint8"``): integer
    indices and float16/float32 values, or values quantized per row with a ``scale``.
    ``what`` names the table in errors.
    """
    from gsea_plus.model.network import read_safetensors

    tensors = read_safetensors(path)
    try:
        idx, val = tensors["indices"], tensors["values"]
    except KeyError as exc:
        raise ModelError(f"{path}: missing key {exc.args[0]}") from exc
    if idx.shape != val.shape or idx.ndim != 2 or idx.shape[0] != n_rows:
        raise ModelError(
            f"{path}: {what} tables have shapes {idx.shape} and {val.shape}, expected "
            f"({n_rows}, k) for the {n_rows}-gene vocabulary"
        )
    if val.dtype == np.dtype(quantized):
        scale = tensors.get("scale")
        if scale is None or scale.shape != (n_rows,):
            raise ModelError(f"{path}: {quantized} values need a 'scale' of shape ({n_rows},)")
        values = val.astype(np.float32) * scale.astype(np.float32)[:, None]
    elif val.dtype in (np.float16, np.float32):
        values = val.astype(np.float32)
    else:
        raise ModelError(f"{path}: values have dtype {val.dtype}; expected {quantized} or float")
    if not np.issubdtype(idx.dtype, np.integer) or (idx.size and int(idx.max()) >= n_rows):
        raise ModelError(f"{path}: {what} indices out of range")
    check_finite(values, "values", str(path))
    return idx.astype(np.int64), values


@dataclass
class EaseFit:
    """The result of :func:`fit_ease`: the dense ``B`` and how it was made."""

    weights: np.ndarray
    genes: np.ndarray
    settings: EaseSettings
    seconds: dict[str, float] = field(default_factory=dict)

    def prune(self, k: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Each gene's ``k`` (default: the settings') largest outgoing weights."""
        return prune_rows(self.weights, k or self.settings.k)

    def info(self) -> dict[str, object]:
        """A JSON-friendly record of the fit (``ease.json``)."""
        return {
            "family": "ease",
            "settings": self.settings.to_dict(),
            "genes": len(self.genes),
            "seconds": self.seconds,
        }


def fit_ease(
    sets: Sequence[Sequence[str]],
    genes: Sequence[str] | np.ndarray,
    *,
    settings: EaseSettings | None = None,
    sources: Sequence[str] | None = None,
) -> EaseFit:
    """Fit EASE on gene sets over a fixed gene vocabulary.

    Parameters
    ----------
    sets
        The corpus sets (symbols; genes outside ``genes`` are ignored).
    genes
        The vocabulary (one row and column of ``B`` each, in this order).
    settings
        Penalty and weighting (:class:`EaseSettings`).
    sources
        The source tag of every set (for ``source_power``).

    Returns
    -------
    EaseFit
        The dense ``B`` (float32, genes x genes) with timings.
    """
    settings = settings or EaseSettings()
    gene_array = np.asarray(genes, dtype=str)
    index = {g: i for i, g in enumerate(gene_array.tolist())}
    ids = [
        np.unique(np.fromiter((index[g] for g in s if g in index), dtype=np.int64)) for s in sets
    ]
    keep = [i for i, a in enumerate(ids) if len(a) >= 2]
    if len(keep) < 2:
        raise InputError("EASE needs at least two sets with two or more vocabulary genes")
    ids = [ids[i] for i in keep]
    src = [sources[i] for i in keep] if sources is not None else None
    sizes = np.array([len(a) for a in ids])
    w = None
    if settings.size_power or settings.source_power:
        w = set_weights(
            sizes, src, size_power=settings.size_power, source_power=settings.source_power
        )
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    g = gram_matrix(membership_matrix(ids, len(gene_array)), w)
    seconds["gram"] = time.perf_counter() - t
    t = time.perf_counter()
    b = ease_weights(g, settings.lam, dropout_ratio=settings.dropout_ratio)
    seconds["solve"] = time.perf_counter() - t
    log.info("EASE: gram %.0f s, solve %.0f s", seconds["gram"], seconds["solve"])
    return EaseFit(b, gene_array, settings, seconds)


def write_ease(
    fit: EaseFit, directory: str | Path, *, k: int | None = None, dtype: str = "int8"
) -> dict[str, object]:
    """Write the pruned weights (``ease.safetensors``) and ``ease.json`` into a directory.

    Returns the record written to ``ease.json``.
    """
    from gsea_plus.library.cache import atomic_write

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    idx, val = fit.prune(k)
    write_sparse_rows(directory / EASE_FILE, idx, val, dtype=dtype)
    fit.seconds["prune"] = time.perf_counter() - t
    info = fit.info()
    info["k"] = int(idx.shape[1])
    info["dtype"] = dtype
    atomic_write(directory / "ease.json", (json.dumps(info, indent=2) + "\n").encode())
    return info


@dataclass
class EaseResult:
    """Where :func:`fit_ease_model` wrote the model, and its ``ease.json`` record."""

    directory: Path
    info: dict[str, object]


def fit_ease_model(
    corpus: str | Path | Sequence[Sequence[str]],
    output: str | Path,
    *,
    settings: EaseSettings | None = None,
    vocab: str | Path | Sequence[str] | None = None,
    min_sets: int = 5,
    dtype: str = "int8",
    progress: Callable[[str], None] | None = None,
) -> EaseResult:
    """Fit EASE on a corpus and write an EASE-only model directory.

    This is the training path of the EASE family (``gsea-plus model train --family
    ease``): no torch, one LAPACK factorization. The directory holds ``vocab.txt``,
    ``ease.safetensors`` (each gene's ``settings.k`` largest weights, int8) and
    ``ease.json`` (settings, corpus size, timings); ``load_model`` reads it, and
    ``benchmarks/build_bundle.py`` blends it into the bundled model.

    Parameters
    ----------
    corpus
        A corpus GMT written by ``gsea-plus model corpus`` (its description column is
        the source tag that ``settings.source_power`` uses), or a list of gene sets.
    output
        The model directory to write.
    settings
        Penalty, weighting and pruning (:class:`EaseSettings`).
    vocab
        The gene vocabulary: a ``vocab.txt`` (e.g. the bundled one, so the fit can be
        blended with its autoencoder), a list of genes, or ``None`` for the genes in at
        least ``min_sets`` corpus sets.
    min_sets
        See ``vocab``.
    dtype
        Storage of the kept weights: ``int8`` (one scale per gene), ``float16`` or
        ``float32``.
    progress
        Optional callable ``progress(message)``.
    """
    from gsea_plus.library.gmt import GeneSet
    from gsea_plus.model.corpus import build_vocab
    from gsea_plus.model.vocab import Vocab

    settings = settings or EaseSettings()
    say = progress or (lambda message: log.info("%s", message))
    t0 = time.perf_counter()
    if isinstance(corpus, (str, Path)):
        from gsea_plus.library.gmt import read_gmt

        gene_sets = read_gmt(corpus)
    else:
        gene_sets = [GeneSet("", "", tuple(str(g).upper() for g in s)) for s in corpus]
    if isinstance(vocab, (str, Path)):
        tokens = Vocab.load(vocab)
    elif vocab is not None:
        tokens = Vocab(["<unk>", "<pad>", *[str(g).upper() for g in vocab]])
    else:
        tokens = Vocab(build_vocab(gene_sets, min_sets=min_sets))
    say(f"EASE: {len(gene_sets)} sets, {len(tokens.genes)} genes, lam {settings.lam:g}")
    fit = fit_ease(
        [gs.genes for gs in gene_sets],
        tokens.genes,
        settings=settings,
        sources=[gs.description for gs in gene_sets],
    )
    say(f"EASE: Gram {fit.seconds['gram']:.0f} s, solve {fit.seconds['solve']:.0f} s")
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    tokens.save(output / "vocab.txt")
    info = write_ease(fit, output, dtype=dtype)
    info["n_sets"] = len(gene_sets)
    info["seconds"] = {**fit.seconds, "total": time.perf_counter() - t0}
    from gsea_plus.library.cache import atomic_write

    atomic_write(output / "ease.json", (json.dumps(info, indent=2) + "\n").encode())
    say(f"EASE: written to {output} in {info['seconds']['total']:.0f} s")  # type: ignore[index]
    return EaseResult(output, info)
