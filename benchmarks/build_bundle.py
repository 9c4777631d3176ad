"""Build the bundled model (gsea_plus/model/bundled/) from its trained parts.

Steps: load the float32 autoencoder written by ``gsea-plus model train`` and the EASE
fit written by ``gsea_plus.model.ease.fit_ease_model`` (``gsea-plus model train
--family ease``); compute each gene's strongest cosine co-occurrence partners in the
training corpus (when the neighbors part has a weight); write the blend with int8
autoencoder rows, int8 EASE rows and uint8 neighbor values (one scale per row each);
check on a KEGG sample that the quantized blend stays within 0.002 median AUROC of the
float32 one (written to quantization.json, re-checked by the tests; a check of
numerical fidelity, not a choice); write the model card with the parts, the corpus
per source library, the training records, the benchmark table and the sha256 of every
file.

Usage (the shipped bundle, issue 13)::

    python benchmarks/build_bundle.py --autoencoder runs/softmax_p05 \\
        --ease runs/ease --corpus corpus.gmt.gz \\
        --weights autoencoder=0.6,ease=0.3,neighbors=0.1 --ease-k 512 --neighbors-k 128 \\
        [--benchmark benchmarks/results/model_eval_full.tsv] [--variants snippet.md]
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
from gsea_plus.model.bundle import BlendPart, write_blend  # noqa: E402
from gsea_plus.model.ease import EASE_FILE, read_sparse_rows  # noqa: E402
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


def parse_weights(text: str) -> dict[str, float]:
    out = {}
    for item in text.split(","):
        name, _, w = item.partition("=")
        out[name.strip()] = float(w)
    return out


def build_parts(args, net, corpus_sets) -> tuple[list[BlendPart], dict]:
    weights = parse_weights(args.weights)
    parts, meta = [], {}
    for name, w in weights.items():
        if w == 0:
            continue
        if name == "autoencoder":
            parts.append(BlendPart("autoencoder", w, "log"))
        elif name == "ease":
            idx, val = read_sparse_rows(args.ease / EASE_FILE, len(net.genes))
            idx, val = idx[:, : args.ease_k], val[:, : args.ease_k]
            parts.append(BlendPart("ease", w, "none", idx, val))
            meta["ease"] = json.loads((args.ease / "ease.json").read_text())
            meta["ease"]["k_bundled"] = int(idx.shape[1])
        elif name == "neighbors":
            if args.neighbors and args.neighbors.exists():
                z = np.load(args.neighbors)
                idx, val = z["idx"][:, : args.neighbors_k], z["val"][:, : args.neighbors_k]
            else:
                co = CooccurrenceScorer([s.genes for s in corpus_sets], net.genes)
                idx, val = co.neighbors(args.neighbors_k)
            parts.append(BlendPart("neighbors", w, "sqrt", idx, val.astype(np.float32)))
            meta["neighbors"] = {"k": int(idx.shape[1])}
        else:
            raise SystemExit(f"unknown part {name!r}")
    return parts, meta


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--autoencoder", type=Path, required=True)
    ap.add_argument("--ease", type=Path, help="EASE model directory (fit_ease_model)")
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--neighbors", type=Path, help="npz cache of idx/val (computed if absent)")
    ap.add_argument("--neighbors-k", type=int, default=256)
    ap.add_argument("--ease-k", type=int, default=512)
    ap.add_argument("--weights", default="autoencoder=0.85,neighbors=0.15")
    ap.add_argument("--dtype", default="int8")
    ap.add_argument("--benchmark", type=Path, help="TSV from benchmarks/model_eval.py")
    ap.add_argument("--variants", type=Path, help="markdown snippet listing variants")
    ap.add_argument("--out", type=Path, default=BUNDLED)
    args = ap.parse_args()

    net = Autoencoder.load(args.autoencoder)
    corpus_sets = read_gmt(args.corpus)
    parts, meta = build_parts(args, net, corpus_sets)

    # float32 reference, then the quantized bundle
    ref_dir = Path("/tmp/gsea_plus_bundle_f32")
    if ref_dir.exists():
        shutil.rmtree(ref_dir)
    write_blend(ref_dir, parts, network=net, dtype="float32")
    if args.out.exists():
        for p in args.out.iterdir():
            p.unlink()
    sha = write_blend(args.out, parts, network=net, dtype=args.dtype)
    tasks = quant_tasks(net.genes)
    check = {}
    f16 = Path("/tmp/gsea_plus_bundle_f16")
    if f16.exists():
        shutil.rmtree(f16)
    write_blend(f16, parts, network=net, dtype="float16")
    for name, path in (("float32", ref_dir), (args.dtype, args.out), ("float16", f16)):
        m = Model.load(path)
        check[name] = {
            "model": median_auroc(m, tasks),
            "autoencoder": median_auroc(m.autoencoder, tasks),
        }
    quant = {"check": QUANT_CHECK, "median_auroc": check}
    (args.out / "quantization.json").write_text(json.dumps(quant, indent=2) + "\n")
    print(json.dumps(quant, indent=2))
    diff = abs(check["float32"]["model"] - check[args.dtype]["model"])
    if diff > 0.002:
        raise SystemExit(f"quantization costs {diff:.4f} median AUROC (> 0.002)")
    write_card(args, net, corpus_sets, sha, quant, parts, meta)


PART_TEXT = {
    "autoencoder": (
        "**autoencoder**: the published GSFM architecture (encoder {enc}, decoder {dec}, "
        "dropout {dropout}) trained with a multinomial (softmax) likelihood and input "
        "corruption (partition {partition}); the blend uses its log-probabilities. Its "
        "encoder output is the {d}-d set embedding (`gsea_plus.embed`)."
    ),
    "ease": (
        "**ease**: a closed-form linear autoencoder (EASE, Steck 2019) of the same corpus, "
        "B = I - P diag(1/diag P), P = (X^T X + {lam:g} I)^-1, each gene keeping its "
        "{k} largest outgoing weights (int8); the score of a gene is the sum of its "
        "weights from the input genes."
    ),
    "neighbors": (
        "**neighbors**: cosine co-occurrence in the same corpus (count / sqrt(n_i n_j)), "
        "pruned to each gene's {k} strongest partners (symmetrized); the blend uses the "
        "square root of the mean weight to the input genes."
    ),
}


def write_card(args, net, corpus_sets, sha, quant, parts, meta) -> None:
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
        "vocabulary gene. It is a blend of "
        f"{len(parts)} parts, each standardized per list (mean 0, sd 1 over the "
        f"{len(net.genes)} genes) and summed with the weights of `blend.json`:",
        "",
    ]
    for p in parts:
        fmt = {
            "enc": cfg.encoder_dims,
            "dec": cfg.decoder_dims,
            "dropout": cfg.dropout,
            "partition": cfg.partition,
            "d": cfg.d_model,
            "lam": meta.get("ease", {}).get("settings", {}).get("lam", float("nan")),
            "k": (meta.get(p.scorer) or {}).get("k_bundled", (meta.get(p.scorer) or {}).get("k")),
        }
        lines.append(f"* weight {p.weight:g}: " + PART_TEXT[p.scorer].format(**fmt))
    lines += [
        "",
        "`predict` ranks by the blend (`Score`) and reports the autoencoder's probability.",
        "",
        "## Files",
        "",
        "| file | bytes | sha256 |",
        "|---|---:|---|",
    ]
    total = 0
    for name, digest in sha.items():
        size = (args.out / name).stat().st_size
        total += size
        lines.append(f"| {name} | {size} | `{digest}` |")
    lines += [
        f"| (total) | {total} | |",
        "",
        f"Autoencoder weights: {args.dtype} with one float32 scale per output row; EASE: "
        "uint16 indices, int8 values with one scale per gene; neighbors: uint16 indices, "
        "uint8 values with one scale per gene.",
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
        "### Autoencoder (`gsea-plus model train`, torch)",
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
    if "ease" in meta:
        e = meta["ease"]
        s = e["settings"]
        sec = e.get("seconds", {})
        lines += [
            "",
            "### EASE (`gsea_plus.model.ease.fit_ease_model`, numpy/LAPACK, no torch)",
            "",
            f"lambda {s['lam']:g}, dropout ratio {s['dropout_ratio']:g}, set weights "
            f"size^-{s['size_power']:g} x source^-{s['source_power']:g}; float32 Cholesky "
            f"inverse of the {e['genes']} x {e['genes']} Gram matrix on one thread: Gram "
            f"{sec.get('gram', float('nan')):.0f} s, solve {sec.get('solve', float('nan')):.0f} s, "
            f"{sec.get('total', float('nan')) / 60:.1f} min in all; kept {e['k_bundled']} "
            "weights per gene.",
        ]
    if args.benchmark and args.benchmark.exists():
        df = pd.read_csv(args.benchmark, sep="\t")
        lines += [
            "",
            "## Benchmark (paper protocol, 5 splits, every term; median over terms of the "
            "per-term median AUROC, mean AP in parentheses)",
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
        cells = [
            f"{vals[m].median_auroc:.3f} ({vals[m].mean_ap:.3f})" if m in vals else ""
            for m in methods
        ]
        out.append(f"| {lib} | {proto} | {n} | " + " | ".join(cells) + " |")
    return out


if __name__ == "__main__":
    main()
