"""Synthetic gene set libraries of any size, resampled from a real corpus (issue 12).

Rummagene and RummaGEO hold 600k+ sets each; to measure a list against a library that
large without downloading one, this script draws ``--sets`` sets from a corpus GMT (the
67,515-set training corpus: ``gsea-plus model corpus ../shared/data/training -o
corpus.gmt.gz``). Each synthetic set copies the size of a corpus set drawn at random,
keeps ``1 - --swap`` of its genes (drawn without replacement) and replaces the rest with
genes drawn by their frequency in the corpus, so the size distribution, the gene
frequencies and most of the co-membership structure are the corpus's. Term names are
``<source term> ~<n>``: unique, realistic in length.

The same seed gives the same file. Usage::

    python benchmarks/make_library.py /tmp/corpus.gmt.gz --sets 500000 -o /tmp/synth_500k.gmt
"""

from __future__ import annotations

import argparse
import gzip
import sys
import time
from pathlib import Path

import numpy as np


def read_corpus(path: Path) -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    """``(terms, genes, indptr, indices)`` of a GMT file (gzipped or not)."""
    opener = gzip.open if path.read_bytes()[:2] == b"\x1f\x8b" else open
    terms: list[str] = []
    index: dict[str, int] = {}
    sizes: list[int] = []
    ids: list[int] = []
    with opener(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            parts = line.rstrip("\r\n").split("\t")
            genes = list(dict.fromkeys(g for g in parts[2:] if g))
            if len(parts) < 3 or not genes:
                continue
            terms.append(parts[0])
            sizes.append(len(genes))
            ids.extend(index.setdefault(g, len(index)) for g in genes)
    indptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    return terms, list(index), indptr, np.asarray(ids, dtype=np.int64)


def make_library(
    corpus: Path, n_sets: int, out: Path, *, seed: int = 0, swap: float = 0.2
) -> dict[str, float]:
    """Write ``n_sets`` resampled sets to ``out`` (GMT); return a few statistics."""
    terms, genes, indptr, indices = read_corpus(corpus)
    rng = np.random.default_rng(seed)
    freq = np.bincount(indices, minlength=len(genes)).astype(np.float64)
    cum = np.cumsum(freq / freq.sum())
    sizes = np.diff(indptr)
    names = np.asarray(genes, dtype=object)
    total = 0
    opener = gzip.open if str(out).endswith(".gz") else open
    with opener(out, "wt", encoding="utf-8", newline="\n") as fh:
        for lo in range(0, n_sets, 10_000):
            hi = min(n_sets, lo + 10_000)
            source = rng.integers(0, len(terms), hi - lo)
            lines = []
            for i, src in zip(range(lo, hi), source.tolist(), strict=True):
                size = int(sizes[src])
                row = indices[indptr[src] : indptr[src + 1]]
                kept = row[rng.random(size) >= swap]
                need = size - len(kept)
                if need:
                    drawn = np.searchsorted(cum, rng.random(need * 2 + 8))
                    drawn = np.minimum(drawn, len(genes) - 1)
                    extra = [g for g in dict.fromkeys(drawn.tolist()) if g not in set(kept)]
                    kept = np.concatenate([kept, np.asarray(extra[:need], dtype=np.int64)])
                total += len(kept)
                lines.append(f"{terms[src]} ~{i}\tsynthetic\t" + "\t".join(names[kept]) + "\n")
            fh.writelines(lines)
    return {"sets": n_sets, "genes_per_set": total / n_sets, "corpus_sets": len(terms)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", type=Path, help="corpus GMT (gzipped or not)")
    ap.add_argument("--sets", type=int, required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--swap", type=float, default=0.2, help="fraction of genes replaced")
    ap.add_argument("-o", "--output", type=Path, required=True)
    args = ap.parse_args()
    t0 = time.perf_counter()
    stats = make_library(args.corpus, args.sets, args.output, seed=args.seed, swap=args.swap)
    stats["seconds"] = round(time.perf_counter() - t0, 1)
    print(stats, file=sys.stderr)


if __name__ == "__main__":
    main()
