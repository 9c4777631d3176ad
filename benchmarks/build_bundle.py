"""Build the bundled model (gsea_plus/model/bundled/) from a float32 blend directory.

The parts are fitted by ``gsea_plus.model.blend.fit_blend_model`` (the training path:
set memory, EASE and bands from the corpus, plus an autoencoder trained by ``gsea-plus
model train``), written unquantized (``dtype="float32"``). This script re-writes that
directory quantized (autoencoder rows int8, EASE int8, neighbors uint8, one float32
scale per row each; the set memory and bands are exact), checks on a KEGG sample that
the quantized blend stays within 0.002 median AUROC of the float32 one (written to
quantization.json and re-checked by the tests; a check of numerical fidelity, not a
choice), and writes the model card: parts, files and sha256, corpus per source
library, training records, the benchmark table.

Usage (the shipped bundle, issue 13)::

    python benchmarks/build_bundle.py --from /tmp/blend_f32 --corpus corpus.gmt.gz \
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
from gsea_plus.model.bundle import BlendPart, file_sha256, write_blend  # noqa: E402
from gsea_plus.model.ease import EASE_FILE, read_sparse_rows  # noqa: E402
from gsea_plus.model.evaluate import (  # noqa: E402
    evaluate_tasks,
    normalize_sets,
    paper_tasks,
    summarize,
)
from gsea_plus.model.model import Model  # noqa: E402
from gsea_plus.model.network import Autoencoder  # noqa: E402

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


def load_parts(directory: Path, net) -> tuple[list[BlendPart], dict]:
    """The parts of a float32 blend directory, ready to be written again."""
    from gsea_plus.model.bands import BandScorer
    from gsea_plus.model.knn import SetMemory

    spec = json.loads((directory / "blend.json").read_text())
    fit = json.loads((directory / "fit.json").read_text())
    n = len(net.genes)
    parts, meta = [], {"fit": fit}
    for p in spec["parts"]:
        kind, w = p["scorer"], float(p["weight"])
        options = {k: v for k, v in p.items() if k not in ("scorer", "weight", "transform", "file")}
        if kind == "autoencoder":
            parts.append(BlendPart("autoencoder", w, p.get("transform", "log")))
        elif kind == "ease":
            idx, val = read_sparse_rows(directory / p.get("file", EASE_FILE), n)
            parts.append(BlendPart("ease", w, indices=idx, values=val))
            meta["ease"] = {**fit["ease"], "k_bundled": int(idx.shape[1])}
        elif kind == "setknn":
            parts.append(BlendPart("setknn", w, data=SetMemory.load(directory, n), options=options))
            meta["setknn"] = options
        elif kind == "band":
            bands = BandScorer.load(directory / p.get("file", "bands.txt"), net.genes)
            parts.append(BlendPart("band", w, data=bands.bands))
            meta["band"] = {"placed": bands.n_placed}
        else:
            raise SystemExit(f"unsupported part {kind!r}")
    return parts, meta


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--from", dest="source", type=Path, required=True, help="float32 blend dir")
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--dtype", default="int8")
    ap.add_argument("--benchmark", type=Path, help="TSV from benchmarks/model_eval.py")
    ap.add_argument("--variants", type=Path, help="markdown snippet listing variants")
    ap.add_argument("--out", type=Path, default=BUNDLED)
    args = ap.parse_args()

    net = Autoencoder.load(args.source)
    corpus_sets = read_gmt(args.corpus)
    parts, meta = load_parts(args.source, net)
    old_card = (
        (args.out / "MODEL_CARD.md").read_text() if (args.out / "MODEL_CARD.md").exists() else ""
    )
    meta["ae_training"] = autoencoder_section(old_card)
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
    for name, path in (("float32", args.source), (args.dtype, args.out), ("float16", f16)):
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
    fit = dict(meta["fit"])  # machine paths -> what a reader can reproduce
    fit["corpus"] = "gsea-plus model corpus ../shared/data/training (default EXCLUDE.txt)"
    fit["autoencoder"] = "the autoencoder of issue 3 (model.safetensors, unchanged)"
    if fit.get("gene_info"):
        fit["gene_info"] = "../shared/data/mapping/" + Path(fit["gene_info"]).name
    (args.out / "fit.json").write_text(json.dumps(fit, indent=2) + "\n")
    sha = {
        p.name: file_sha256(p)
        for p in sorted(args.out.iterdir())
        if p.is_file() and p.name != "MODEL_CARD.md"
    }
    write_card(args, net, corpus_sets, sha, quant, parts, meta)


def autoencoder_section(card: str) -> str:
    """The autoencoder's training record of the previous card (its weights are kept)."""
    marker = "### Autoencoder"
    start = card.find(marker)
    if start >= 0:  # a card written by this script
        start = card.find("\n", start) + 1
    else:  # the issue-3 card: the whole "## Training" section
        start = card.find("## Training\n")
        if start < 0:
            return ""
        start += len("## Training\n")
    end = card.find("\n## ", start)
    return card[start : end if end >= 0 else None].strip()


PART_TEXT = {
    "setknn": (
        "**setknn** (nearest corpus sets): the list is compared with every corpus set "
        "(overlap, each input gene weighted by log(n_sets / sets with the gene), divided by "
        "size^{alpha}); the {top} most similar sets vote for their genes with weight "
        "similarity^{power}, and a gene's votes are divided by (sets with the gene)^{beta}. "
        "Stored: the corpus sets as vocabulary columns (`sets.npz`) with their names and "
        "source libraries (`sets.tsv.gz`)."
    ),
    "autoencoder": (
        "**autoencoder**: the published GSFM architecture (encoder {enc}, decoder {dec}, "
        "dropout {dropout}) trained with a multinomial (softmax) likelihood and input "
        "corruption (partition {partition}); the blend uses its log-probabilities. Its "
        "encoder output is the {d}-d set embedding (`gsea_plus.embed`). Weights unchanged "
        "since issue 3."
    ),
    "ease": (
        "**ease**: a closed-form linear autoencoder (EASE, Steck 2019) of the corpus, "
        "B = I - P diag(1/diag P), P = (X^T W X + {lam:g} I)^-1 with each set weighted by "
        "size^-{size_power:g}; each gene keeps its {k} largest outgoing weights "
        "(`ease.safetensors`). A gene's score is the sum of its weights from the input genes."
    ),
    "band": (
        "**band** (genomic neighbourhood): the number of input genes in the gene's "
        "cytogenetic band (NCBI gene_info 2021-02 `map_location`, {placed} genes placed; "
        "`bands.txt`). It carries no function: it is there for trait (GWAS) lists, whose "
        "genes cluster around associated loci."
    ),
}


def write_card(args, net, corpus_sets, sha, quant, parts, meta) -> None:
    cfg = net.config
    per_source = Counter(s.description for s in corpus_sets)
    genes = Counter(g for s in corpus_sets for g in s.genes)
    sizes = np.array([len(s.genes) for s in corpus_sets])
    fit = meta["fit"]
    lines = [
        "# gsea-plus bundled gene set model",
        "",
        "A gene set model in the GSFM family (Clarke, Marino, Ma'ayan, Patterns 2025), built",
        "by gsea-plus from the offline corpus of `../shared/data/training/` (benchmark",
        "libraries excluded by `EXCLUDE.txt`). Given part of a gene set it scores every",
        f"vocabulary gene. It blends {len(parts)} parts; each part's scores are standardized "
        f"per list (mean 0, sd 1 over the {len(net.genes)} genes) and summed with the weights "
        "of `blend.json`:",
        "",
    ]
    ease_settings = (meta.get("ease") or {}).get("settings", meta.get("ease") or {})
    for p in parts:
        fmt = {
            "enc": cfg.encoder_dims,
            "dec": cfg.decoder_dims,
            "dropout": cfg.dropout,
            "partition": cfg.partition,
            "d": cfg.d_model,
            "lam": ease_settings.get("lam", float("nan")),
            "size_power": ease_settings.get("size_power", 0.0),
            "k": (meta.get("ease") or {}).get("k_bundled"),
            "placed": (meta.get("band") or {}).get("placed"),
            **(meta.get("setknn") or {}),
        }
        lines.append(f"* weight {p.weight:g}: " + PART_TEXT[p.scorer].format(**fmt))
    lines += [
        "",
        "`predict` ranks by the blend (`Score`) and reports the autoencoder's probability; "
        "`embed` uses the autoencoder's encoder. The weights and the set-kNN options were "
        "chosen on validation libraries that are excluded from the corpus and are neither "
        "benchmark libraries nor versions of one (Reactome_2016, WikiPathways_2019_Human, "
        "GO_Molecular_Function_2018, PheWeb_2019, dbGaP); see `benchmarks/README.md`, "
        '"Model search (issue 13)".',
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
        f"| (all, this card excluded) | {total} | |",
        "",
        f"Autoencoder weights: {args.dtype} with one float32 scale per output row; EASE: "
        "uint16 indices, int8 values with one scale per gene; set memory: delta-coded uint16 "
        "columns in a compressed npz (read without pickle); bands: text.",
        "Quantization check (median AUROC on a KEGG_2021_Human sample, "
        f"{QUANT_CHECK['max_terms']} terms x {QUANT_CHECK['repeats']} splits, seed "
        f"{QUANT_CHECK['seed']}; a check of numerical fidelity, not a choice):",
        "",
        "| weights | blend | autoencoder |",
        "|---|---:|---:|",
    ]
    for k, v in quant["median_auroc"].items():
        lines.append(f"| {k} | {v['model']:.4f} | {v['autoencoder']:.4f} |")
    lines += [
        "",
        "## Corpus",
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
    sec = fit.get("seconds", {})
    lines += [
        "",
        "## Training",
        "",
        "### Corpus parts (`gsea_plus.model.blend.fit_blend_model`, numpy/LAPACK, no torch)",
        "",
        f"One thread on the 2 shared cores: set memory {sec.get('setknn', 0):.0f} s, EASE "
        f"{sec.get('ease', 0) / 60:.1f} min (Gram matrix and a float32 Cholesky inverse of "
        f"{len(net.genes)} x {len(net.genes)}), bands {sec.get('band', 0):.0f} s; "
        f"{sec.get('total', 0) / 60:.1f} min in all.",
        "",
        "### Autoencoder (`gsea-plus model train`, torch; issue 3, weights unchanged)",
        "",
        meta.get("ae_training") or "(record not available)",
    ]
    if args.benchmark and args.benchmark.exists():
        df = pd.read_csv(args.benchmark, sep="\t")
        lines += [
            "",
            "## Benchmark (paper protocol, 5 splits, every term; median over terms of the "
            "per-term median AUROC, mean AP in parentheses)",
            "",
            "Command: `python benchmarks/model_eval.py --corpus corpus.gmt.gz --out "
            f"{args.benchmark}`.",
            "",
        ]
        lines += benchmark_table(df)
    if args.variants and args.variants.exists():
        lines += [
            "",
            "## Variants tried",
            "",
            "Sample: at most 300 terms per library, 2 splits per term, seed 0; variants and "
            "weights were chosen on the `val` columns only (the benchmark columns are "
            "reported, never used to choose). ChEA* is chea3 Literature_ChIP-seq. Command "
            'and discussion: `benchmarks/README.md`, "Model search (issue 13)".',
            "",
            args.variants.read_text().strip(),
        ]
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
