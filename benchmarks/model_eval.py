"""Benchmark of the bundled model (issue 3): paper protocol + time splits, with baselines.

Runs the same code as ``gsea-plus model evaluate`` on the five benchmark libraries
(ChEA stand-in: chea3 Literature_ChIP-seq, excluded from training) and the two time
splits, with co-occurrence baselines computed over the default training corpus.

Usage::

    python benchmarks/model_eval.py --corpus corpus.gmt.gz [--model DIR] \\
        [--repeats 5] [--max-terms N] [--out benchmarks/out/model_eval.tsv]

The equivalent command line::

    gsea-plus model evaluate --corpus corpus.gmt.gz \\
        --hgnc ../shared/data/mapping/hgnc_complete_set.subset.tsv.gz \\
        -l ../shared/data/benchmark/KEGG_2021_Human.gmt ... \\
        --time-split OLD.gmt=NEW.gmt \\
        --format tsv
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data"

LIBRARIES = [
    SHARED / "benchmark/KEGG_2021_Human.gmt",
    SHARED / "benchmark/GO_Biological_Process_2023.gmt",
    SHARED / "benchmark/GWAS_Catalog_2023.gmt",
    SHARED / "benchmark/MSigDB_Hallmark_2020.gmt",
    SHARED / "training/chea3_2019/Literature_ChIP-seq.gmt.gz",
]
TIME_SPLITS = [
    (SHARED / "benchmark/KEGG_2016.gmt", SHARED / "benchmark/KEGG_2021_Human.gmt"),
    (
        SHARED / "benchmark/GO_Biological_Process_2021.gmt",
        SHARED / "benchmark/GO_Biological_Process_2023.gmt",
    ),
]


def main() -> None:
    import pandas as pd

    from gsea_plus.genes import SymbolMapper
    from gsea_plus.library.gmt import read_gmt
    from gsea_plus.model import load_model
    from gsea_plus.model.evaluate import load_sets, normalize_sets, run_evaluation

    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--model")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-terms", type=int)
    ap.add_argument("--no-time-split", action="store_true")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    mapper = SymbolMapper.from_hgnc(SHARED / "mapping/hgnc_complete_set.subset.tsv.gz")
    model = load_model(args.model)
    libs = {}
    for path in LIBRARIES:
        name, sets = load_sets(path)
        libs[name] = normalize_sets(sets, mapper)
    splits = {}
    if not args.no_time_split:
        for old, new in TIME_SPLITS:
            (on, os_), (nn, ns) = load_sets(old), load_sets(new)
            splits[f"{on}->{nn}"] = (normalize_sets(os_, mapper), normalize_sets(ns, mapper))
    corpus = [s.genes for s in read_gmt(args.corpus)]
    t0 = time.perf_counter()
    table = run_evaluation(
        model,
        libs,
        corpus=corpus,
        time_splits=splits,
        repeats=args.repeats,
        seed=args.seed,
        max_terms=args.max_terms,
        progress=lambda m: print(
            f"[{time.perf_counter() - t0:6.0f}s] {m}", file=sys.stderr, flush=True
        ),
    )
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(args.out, sep="\t", index=False, float_format="%.4f")
    wide = table.pivot_table(
        index=["library", "protocol"], columns="method", values="median_auroc", sort=False
    )
    n = table[table["method"] == "model"].set_index(["library", "protocol"])["n_terms"]
    wide.insert(0, "n_terms", n)
    pd.set_option("display.width", 200)
    print(wide.round(3).to_string())
    print(f"{time.perf_counter() - t0:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
