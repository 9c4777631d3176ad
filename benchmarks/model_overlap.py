"""How close is each evaluated term to a set of the training corpus? (issue 13)

The set-kNN part of the bundled model votes with the corpus sets most similar to the
input, so a term that the corpus holds almost verbatim (under another name, in a
library that EXCLUDE.txt does not list) would be easy for it. This script measures,
for every term of the validation and benchmark libraries, the largest Jaccard index
with any corpus set (genes in the model vocabulary), and, given per-task results of
``benchmarks/model_search.py --out``, the median AUROC of each method on the terms
below a Jaccard threshold (terms with no close copy in the corpus).

Usage::

    python benchmarks/model_overlap.py --corpus corpus.gmt.gz \\
        [--per-task benchmarks/out/s7_variants.tsv] [--threshold 0.5]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from model_search import BENCHMARK, SHARED, VALIDATION  # noqa: E402

from gsea_plus.model.evaluate import summarize  # noqa: E402


def max_jaccard(term_ids, corpus_x, corpus_sizes, n_genes, chunk: int = 400) -> np.ndarray:
    from gsea_plus.model.scorers import multi_hot

    xt = corpus_x.T.tocsr()
    out = np.zeros(len(term_ids))
    for start in range(0, len(term_ids), chunk):
        part = term_ids[start : start + chunk]
        q = multi_hot(part, n_genes)
        inter = (q @ xt).toarray()
        sizes = np.array([len(p) for p in part], dtype=float)[:, None]
        union = sizes + corpus_sizes[None, :] - inter
        out[start : start + len(part)] = (inter / np.maximum(union, 1)).max(axis=1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--vocab", type=Path, default=ROOT / "gsea_plus/model/bundled/vocab.txt")
    ap.add_argument("--per-task", type=Path)
    ap.add_argument("--threshold", type=float, default=0.5)
    ap.add_argument("--out", type=Path, help="per-term TSV (library, term, max_jaccard)")
    args = ap.parse_args()

    from gsea_plus.genes import SymbolMapper
    from gsea_plus.library.gmt import read_gmt
    from gsea_plus.model.evaluate import normalize_sets
    from gsea_plus.model.scorers import lookup_ids, multi_hot
    from gsea_plus.model.vocab import Vocab

    genes = Vocab.load(args.vocab).genes
    index = {g: i for i, g in enumerate(genes.tolist())}
    corpus = [lookup_ids(index, s.genes)[0] for s in read_gmt(args.corpus)]
    x = multi_hot(corpus, len(genes))
    sizes = np.diff(x.indptr).astype(float)
    mapper = SymbolMapper.from_hgnc(SHARED / "mapping/hgnc_complete_set.subset.tsv.gz")
    rows = []
    for name, path in {**VALIDATION, **BENCHMARK}.items():
        sets = normalize_sets(read_gmt(path), mapper)
        ids = [lookup_ids(index, s.genes)[0] for s in sets]
        keep = [i for i, a in enumerate(ids) if len(a) >= 10]
        jac = max_jaccard([ids[i] for i in keep], x, sizes, len(genes))
        rows += [(name, sets[i].term, j) for i, j in zip(keep, jac, strict=True)]
    per_term = pd.DataFrame(rows, columns=["library", "term", "max_jaccard"])
    if args.out:
        per_term.to_csv(args.out, sep="\t", index=False, float_format="%.4f")
    stats = per_term.groupby("library", sort=False)["max_jaccard"].agg(
        terms="size",
        median="median",
        share_ge_05=lambda v: (v >= 0.5).mean(),
        share_ge_08=lambda v: (v >= 0.8).mean(),
    )
    print("max Jaccard of each term (>= 10 vocabulary genes) with any corpus set")
    print(stats.round(3).to_string())
    if args.per_task:
        tasks = pd.read_csv(args.per_task, sep="\t")
        jac = per_term.drop_duplicates(["library", "term"]).set_index(["library", "term"])
        tasks = tasks.join(jac, on=["library", "term"])
        tasks = tasks[tasks["max_jaccard"].notna()]
        frames = []
        for subset, t in (
            ("all", tasks),
            (f"< {args.threshold:g}", tasks[tasks["max_jaccard"] < args.threshold]),
        ):
            for method, g in t.groupby("method", sort=False):
                s = summarize(g.drop(columns=["method", "max_jaccard"]), method)
                s["terms"] = subset
                frames.append(s)
        table = pd.concat(frames).pivot_table(
            index=["method"], columns=["library", "terms"], values="median_auroc"
        )
        pd.set_option("display.width", 250)
        print(f"\nmedian AUROC, all terms and terms with max Jaccard < {args.threshold:g}")
        print(table.round(3).to_string())


if __name__ == "__main__":
    main()
