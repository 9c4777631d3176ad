"""Quick comparison of model variants (issue 3) on samples of terms, by the paper protocol.

Superseded by ``benchmarks/model_search.py`` (issue 13), which also drops
GWAS_Catalog_2019 from the validation libraries: it is an older version of the
GWAS_Catalog_2023 benchmark. Kept to reproduce the issue-3 table.

Scores each variant once per task and derives the blends from cached scores, so a
grid of blend weights costs little. Two groups of libraries:

* validation (to choose): excluded from the training corpus and not benchmarks:
  Reactome_2016, WikiPathways_2019_Human, GWAS_Catalog_2019 (enrichr_2020 copies);
* benchmark (to report): KEGG_2021_Human, GO_Biological_Process_2023,
  GWAS_Catalog_2023, MSigDB_Hallmark_2020, chea3 Literature_ChIP-seq.

Usage::

    python benchmarks/model_variants.py --model DIR [--model DIR2 ...] \\
        --corpus corpus.gmt.gz --neighbors nb.npz --max-terms 150 --repeats 2
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from _common import MODEL_BENCHMARKS, SHARED_DATA  # noqa: E402

SHARED = SHARED_DATA

from gsea_plus.genes import SymbolMapper  # noqa: E402
from gsea_plus.library.gmt import read_gmt  # noqa: E402
from gsea_plus.model.evaluate import (  # noqa: E402
    auroc,
    average_precision,
    normalize_sets,
    paper_tasks,
    summarize,
)
from gsea_plus.model.network import Autoencoder  # noqa: E402
from gsea_plus.model.scorers import (  # noqa: E402
    AutoencoderScorer,
    CooccurrenceScorer,
    NeighborScorer,
    RandomScorer,
)

BENCHMARK = MODEL_BENCHMARKS
VALIDATION = {
    "val:Reactome_2016": SHARED / "training/enrichr_2020_skylar73/Reactome_2016.gmt.gz",
    "val:WikiPathways_2019_Human": SHARED
    / "training/enrichr_2020_skylar73/WikiPathways_2019_Human.gmt.gz",
    "val:GWAS_Catalog_2019": SHARED / "training/enrichr_2020_skylar73/GWAS_Catalog_2019.gmt.gz",
}


def zscore(s: np.ndarray) -> np.ndarray:
    return (s - s.mean(1, keepdims=True)) / np.maximum(s.std(1, keepdims=True), 1e-12)


def evaluate_scores(scores: np.ndarray, tasks) -> pd.DataFrame:
    rows = []
    for t, s in zip(tasks, scores, strict=True):
        pos = np.isin(t.candidates, t.positives)
        c = s[t.candidates]
        rows.append(
            {
                "library": t.library,
                "term": t.term,
                "auroc": auroc(c, pos),
                "ap": average_precision(c, pos),
            }
        )
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", action="append", required=True, help="autoencoder dir (repeat)")
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--neighbors", type=Path, help="npz with idx/val (computed if absent)")
    ap.add_argument("--k", type=int, action="append", help="neighbor counts to try")
    ap.add_argument("--weights", default="0,0.2,0.3,0.4,0.5,1")
    ap.add_argument("--max-terms", type=int, default=150)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--baselines", action="store_true", help="also exact co-occurrence")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    mapper = SymbolMapper.from_hgnc(SHARED / "mapping/hgnc_complete_set.subset.tsv.gz")
    nets = {Path(m).name: Autoencoder.load(m) for m in args.model}
    vocab = next(iter(nets.values())).genes
    libs = {k: normalize_sets(read_gmt(v), mapper) for k, v in {**VALIDATION, **BENCHMARK}.items()}
    tasks = {
        k: paper_tasks(k, v, vocab, repeats=args.repeats, seed=args.seed, max_terms=args.max_terms)
        for k, v in libs.items()
    }
    corpus = [s.genes for s in read_gmt(args.corpus)]
    co = CooccurrenceScorer(corpus, vocab)
    if args.neighbors and args.neighbors.exists():
        z = np.load(args.neighbors)
        idx, val = z["idx"], z["val"]
    else:
        t = time.time()
        idx, val = co.neighbors(max(args.k or [256]))
        print(f"neighbors: {time.time() - t:.0f} s", file=sys.stderr)
        if args.neighbors:
            np.savez(args.neighbors, idx=idx, val=val)
    weights = [float(w) for w in args.weights.split(",")]
    frames = []
    for lib, tl in tasks.items():
        ids = [t.inputs for t in tl]
        if args.baselines:
            for name, sc in (("cooccurrence", co), ("random", RandomScorer(vocab, seed=args.seed))):
                frames.append(summarize(evaluate_scores(sc.score_ids(ids), tl), name))
            cos = CooccurrenceScorer.__new__(CooccurrenceScorer)
            cos.__dict__.update(co.__dict__)
            cos.normalize = "cosine"
            frames.append(summarize(evaluate_scores(cos.score_ids(ids), tl), "cooccurrence_cosine"))
        for k in args.k or [256]:
            nb = NeighborScorer(vocab, idx[:, :k], val[:, :k]).score_ids(ids)
            nbz = zscore(np.sqrt(nb))
            for mname, net in nets.items():
                ae = zscore(np.log(np.maximum(AutoencoderScorer(net).score_ids(ids), 1e-12)))
                for w in weights:
                    if w == 1.0 and mname != next(iter(nets)):
                        continue
                    label = (
                        f"neighbors{k}"
                        if w == 1.0
                        else mname
                        if w == 0.0
                        else f"{mname}+neighbors{k}@{w:g}"
                    )
                    if w == 0.0 and k != (args.k or [256])[0]:
                        continue
                    frames.append(summarize(evaluate_scores(w * nbz + (1 - w) * ae, tl), label))
        print(f"{lib} done", file=sys.stderr, flush=True)
    df = pd.concat(frames, ignore_index=True)
    table = df.pivot(index="method", columns="library", values="median_auroc")
    table["val_mean"] = table[[c for c in table.columns if c.startswith("val:")]].mean(axis=1)
    table["bench_mean"] = table[list(BENCHMARK)].mean(axis=1)
    pd.set_option("display.width", 250)
    print(table.round(3).sort_values("val_mean").to_string())
    if args.out:
        df.to_csv(args.out, sep="\t", index=False)


if __name__ == "__main__":
    main()
