"""Build the bundled model (gsea_plus/model/bundled/) from a trained autoencoder.

Steps: load the float32 autoencoder written by ``gsea-plus model train``; compute each
gene's strongest cosine co-occurrence partners in the training corpus; write the
autoencoder as int8 (per-row scales) and the partners as uint16 indices + uint8 values;
check on a KEGG sample that the quantized blend stays within 0.002 median AUROC of the
float32 one (written to quantization.json, re-checked by the tests); write the model
card with the corpus per source library, hyperparameters, the benchmark table and
sha256 of every file.

Usage::

    python benchmarks/build_bundle.py --autoencoder runs/softmax_p05 \\
        --corpus corpus.gmt.gz --neighbors nb.npz --k 256 --weight 0.3 \\
        [--benchmark benchmarks/out/model_eval_full.tsv]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data"
BUNDLED = ROOT / "gsea_plus" / "model" / "bundled"

from gsea_plus.genes import SymbolMapper  # noqa: E402
from gsea_plus.library.gmt import read_gmt  # noqa: E402
from gsea_plus.model.bundle import write_blend_model  # noqa: E402
from gsea_plus.model.evaluate import (  # noqa: E402
    evaluate_tasks,
    normalize_sets,
    paper_tasks,
    summarize,
)
from gsea_plus.model.model import Model  # noqa: E402
from gsea_plus.model.network import Autoencoder  # noqa: E402
from gsea_plus.model.scorers import CooccurrenceScorer  # noqa: E402

#: The quantization check, repeated by tests/test_model_evaluate.py.
QUANT_CHECK = {"library": "KEGG_2021_Human", "max_terms": 60, "repeats": 2, "seed": 0}


def quant_tasks(vocab):
    mapper = SymbolMapper.from_hgnc(SHARED / "mapping/hgnc_complete_set.subset.tsv.gz")
    sets = normalize_sets(read_gmt(SHARED / "benchmark/KEGG_2021_Human.gmt"), mapper)
    return paper_tasks(
        "KEGG_2021_Human",
        sets,
        vocab,
        repeats=QUANT_CHECK["repeats"],
        seed=QUANT_CHECK["seed"],
        max_terms=QUANT_CHECK["max_terms"],
    )


def median_auroc(scorer, tasks) -> float:
    return float(summarize(evaluate_tasks(scorer, tasks), "m")["median_auroc"].iloc[0])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--autoencoder", type=Path, required=True)
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--neighbors", type=Path)
    ap.add_argument("--k", type=int, default=256)
    ap.add_argument("--weight", type=float, default=0.3, help="weight of the neighbors")
    ap.add_argument("--dtype", default="int8")
    ap.add_argument("--benchmark", type=Path, help="TSV from benchmarks/model_eval.py")
    ap.add_argument("--variants", type=Path, help="markdown snippet listing variants")
    ap.add_argument("--out", type=Path, default=BUNDLED)
    args = ap.parse_args()

    net = Autoencoder.load(args.autoencoder)
    corpus_sets = read_gmt(args.corpus)
    if args.neighbors and args.neighbors.exists():
        z = np.load(args.neighbors)
        idx, val = z["idx"][:, : args.k], z["val"][:, : args.k]
    else:
        co = CooccurrenceScorer([s.genes for s in corpus_sets], net.genes)
        idx, val = co.neighbors(args.k)
    weights = (1.0 - args.weight, args.weight)

    # float32 reference, then the quantized bundle
    ref_dir = Path("/tmp/gsea_plus_bundle_f32")
    if ref_dir.exists():
        shutil.rmtree(ref_dir)
    write_blend_model(
        net, ref_dir, neighbors=(idx, val.astype(np.float32)), weights=weights, dtype="float32"
    )
    if args.out.exists():
        for p in args.out.iterdir():
            p.unlink()
    sha = write_blend_model(net, args.out, neighbors=(idx, val), weights=weights, dtype=args.dtype)
    tasks = quant_tasks(net.genes)
    check = {}
    for name, path in (("float32", ref_dir), (args.dtype, args.out)):
        m = Model.load(path)
        check[name] = {
            "model": median_auroc(m, tasks),
            "autoencoder": median_auroc(m.autoencoder, tasks),
        }
    f16 = Path("/tmp/gsea_plus_bundle_f16")
    write_blend_model(net, f16, neighbors=(idx, val), weights=weights, dtype="float16")
    m16 = Model.load(f16)
    check["float16"] = {
        "model": median_auroc(m16, tasks),
        "autoencoder": median_auroc(m16.autoencoder, tasks),
    }
    quant = {"check": QUANT_CHECK, "median_auroc": check}
    (args.out / "quantization.json").write_text(json.dumps(quant, indent=2) + "\n")
    print(json.dumps(quant, indent=2))
    diff = abs(check["float32"]["model"] - check[args.dtype]["model"])
    if diff > 0.002:
        raise SystemExit(f"quantization costs {diff:.4f} median AUROC (> 0.002)")
    write_card(args, net, corpus_sets, sha, quant)


def write_card(args, net, corpus_sets, sha, quant) -> None:
    train = json.loads((args.autoencoder / "train.json").read_text())
    cfg = net.config
    per_source = Counter(s.description for s in corpus_sets)
    genes = Counter(g for s in corpus_sets for g in s.genes)
    sizes = np.array([len(s.genes) for s in corpus_sets])
    lines = [
        "# gsea-plus bundled gene set model",
        "",
        "A gene set foundation model in the GSFM family (Clarke, Marino, Ma'ayan, Patterns 2025)",
        "trained by gsea-plus on the offline corpus of `../shared/data/training/` (benchmark",
        "libraries excluded by `EXCLUDE.txt`). Given part of a gene set it scores every",
        "vocabulary gene. It is a blend of two parts, each standardized per list:",
        "",
        f"* the autoencoder (published GSFM architecture: encoder {cfg.encoder_dims}, decoder "
        f"{cfg.decoder_dims}, dropout {cfg.dropout}), trained with a multinomial (softmax) "
        f"likelihood and input corruption (partition {cfg.partition}); weight "
        f"{1 - args.weight:g} on its log-probabilities. Its encoder output is the "
        f"{cfg.d_model}-d set embedding (`gsea_plus.embed`).",
        f"* normalized co-occurrence in the same corpus (count / sqrt(n_i n_j)), pruned to each "
        f"gene's {args.k} strongest partners (symmetrized); weight {args.weight:g} on the square "
        "root of the mean weight to the input genes.",
        "",
        "`predict` ranks by the blend (`Score`) and reports the autoencoder's probability.",
        "",
        "## Files",
        "",
        "| file | bytes | sha256 |",
        "|---|---:|---|",
    ]
    for name, digest in sha.items():
        size = (args.out / name).stat().st_size
        lines.append(f"| {name} | {size} | `{digest}` |")
    lines += [
        "",
        f"Autoencoder weights: {args.dtype} with one float32 scale per output row; neighbors: "
        "uint16 indices, uint8 values with one scale per gene.",
        "Quantization check (median AUROC on a KEGG_2021_Human sample, "
        f"{QUANT_CHECK['max_terms']} terms x {QUANT_CHECK['repeats']} splits, seed "
        f"{QUANT_CHECK['seed']}):",
        "",
        "| weights | blend | autoencoder |",
        "|---|---:|---:|",
    ]
    for k, v in quant["median_auroc"].items():
        lines.append(f"| {k} | {v['model']:.4f} | {v['autoencoder']:.4f} |")
    lines += [
        "",
        "## Training corpus",
        "",
        f"{len(corpus_sets)} gene sets (10 < size < 1000 after HGNC normalization, exact "
        f"duplicates removed), {len(genes)} distinct genes, "
        f"{net.config.vocab_size - 2} genes in the vocabulary (in at least 5 sets); "
        f"median set size {int(np.median(sizes))}.",
        "",
        "| source library | sets |",
        "|---|---:|",
    ]
    for src, n in sorted(per_source.items()):
        lines.append(f"| {src} | {n} |")
    hist = train["history"]
    t = train["train"]
    lines += [
        "",
        "## Training",
        "",
        f"Adam lr {t['lr']}, batch {t['batch_size']}, ReduceLROnPlateau(factor {t['lr_factor']}, "
        f"patience {t['lr_patience']}) on the validation loss, {t['val_fraction']:.0%} of the "
        f"sets held out ({train['n_val']} validation / {train['n_train']} training), seed "
        f"{t['seed']}, {len(hist)} epochs, {train['seconds'] / 60:.1f} min wall time on 2 CPU "
        "cores (shared with other work).",
        "",
        "| epoch | train loss | val loss | lr |",
        "|---:|---:|---:|---:|",
    ]
    for h in hist:
        lines.append(
            f"| {h['epoch']} | {h['train_loss']:.4f} | {h['val_loss']:.4f} | {h['lr']:.2e} |"
        )
    if args.benchmark and args.benchmark.exists():
        df = pd.read_csv(args.benchmark, sep="\t")
        lines += [
            "",
            "## Benchmark (paper protocol; median over terms of per-term median AUROC)",
            "",
        ]
        lines += benchmark_table(df)
    if args.variants and args.variants.exists():
        lines += ["", args.variants.read_text().strip()]
    (args.out / "MODEL_CARD.md").write_text("\n".join(lines) + "\n")


def benchmark_table(df: pd.DataFrame) -> list[str]:
    methods = [
        m
        for m in ("model", "cooccurrence", "cooccurrence_cosine", "random")
        if m in set(df["method"])
    ]
    out = [
        "| library | protocol | terms | " + " | ".join(methods) + " |",
        "|---|---|---:|" + "---:|" * len(methods),
    ]
    for (lib, proto), g in df.groupby(["library", "protocol"], sort=False):
        vals = {r.method: r for r in g.itertuples()}
        n = int(vals["model"].n_terms) if "model" in vals else ""
        cells = [f"{vals[m].median_auroc:.3f}" if m in vals else "" for m in methods]
        out.append(f"| {lib} | {proto} | {n} | " + " | ".join(cells) + " |")
    return out


if __name__ == "__main__":
    main()
