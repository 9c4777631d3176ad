"""Model search (issue 13): score parts, blends and baselines by the paper protocol.

Every method is evaluated on the same tasks by the code of ``gsea-plus model evaluate``
(``gsea_plus.model.evaluate``: paper protocol, AUROC with ties counted one half, average
precision; per library the median over terms of the per-term median AUROC and the mean
over terms of the per-term mean AP). Part scores are computed once per chunk of tasks
and standardized per list over the whole vocabulary, exactly as the bundled
``BlendScorer`` does, so a grid of blend weights costs one AUROC per task and weight.

Library groups:

* ``val`` (to choose variants and weights; excluded from the training corpus by
  EXCLUDE.txt, and neither a benchmark library nor a version of one):
  Reactome_2016, WikiPathways_2019_Human, GO_Molecular_Function_2018 (enrichr 2020
  copies) and two trait-association libraries that are not versions of the GWAS
  Catalog, PheWeb_2019 and dbGaP. The previous search (issue 3) validated on
  GWAS_Catalog_2019, an older version of the GWAS_Catalog_2023 benchmark; it is no
  longer used to choose anything.
* ``bench`` (to report, never to choose): KEGG_2021_Human, GO_Biological_Process_2023,
  GWAS_Catalog_2023, MSigDB_Hallmark_2020, chea3 Literature_ChIP-seq (ChEA stand-in).
* ``time``: KEGG_2016 -> KEGG_2021_Human and GO BP 2021 -> 2023 (time split).

Parts (``--part NAME=KIND:ARG``):

* ``autoencoder:DIR``: an autoencoder directory; its log-probabilities (logits).
* ``neighbors:FILE``: pruned cosine co-occurrence (``neighbors.safetensors``), square root
  of the mean weight, symmetrized as in the bundle.
* ``cooc:none`` / ``cooc:cosine``: exact co-occurrence in the corpus (the baselines).
* ``ease:PREFIX[:K]``: EASE rows saved by ``fit_ease`` runs (``PREFIX_idx.npy``,
  ``PREFIX_val.npy``), or an ``ease.safetensors``; the first ``K`` weights per gene.
* ``model:DIR``: a whole model directory as ``load_model`` reads it (its own blend).
* ``popularity``: log of each gene's set count in the corpus (the same for every list).

Methods (``--method NAME=PART`` or ``NAME=PART:W+PART:W...``) and grids
(``--grid PART,PART[,PART] --step 0.05``: every weight vector on the simplex).
Standardization: ``--standardize z`` (mean/sd per list; the bundle) or ``rank``
(per-list ranks scaled to [0, 1]).

Usage::

    python benchmarks/model_search.py --corpus corpus.gmt.gz --group val \\
        --max-terms 300 --repeats 2 \\
        --part ae=autoencoder:gsea_plus/model/bundled \\
        --part e=ease:/tmp/ms/ease_l3000:512 --part cos=cooc:cosine \\
        --grid ae,e,cos --step 0.1 --out benchmarks/out/search_val.tsv
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from _common import MODEL_BENCHMARKS, SHARED_DATA  # noqa: E402

SHARED = SHARED_DATA
ENRICHR = SHARED / "training/enrichr_2020_skylar73"

from gsea_plus.model.evaluate import (  # noqa: E402
    Task,
    auroc,
    average_precision,
    normalize_sets,
    paper_tasks,
    summarize,
    time_split_tasks,
)

VALIDATION = {
    "val:Reactome_2016": ENRICHR / "Reactome_2016.gmt.gz",
    "val:WikiPathways_2019_Human": ENRICHR / "WikiPathways_2019_Human.gmt.gz",
    "val:GO_Molecular_Function_2018": ENRICHR / "GO_Molecular_Function_2018.gmt.gz",
    "val:PheWeb_2019": ENRICHR / "PheWeb_2019.gmt.gz",
    "val:dbGaP": ENRICHR / "dbGaP.gmt.gz",
}
BENCHMARK = MODEL_BENCHMARKS
TIME_SPLITS = {
    "time:KEGG_2016->2021": (
        SHARED / "benchmark/KEGG_2016.gmt",
        SHARED / "benchmark/KEGG_2021_Human.gmt",
    ),
    "time:GO_BP_2021->2023": (
        SHARED / "benchmark/GO_Biological_Process_2021.gmt",
        SHARED / "benchmark/GO_Biological_Process_2023.gmt",
    ),
}
#: Validation libraries by kind, for the per-kind columns.
VAL_KINDS = {
    "pathway": ["val:Reactome_2016", "val:WikiPathways_2019_Human"],
    "go": ["val:GO_Molecular_Function_2018"],
    "trait": ["val:PheWeb_2019", "val:dbGaP"],
}


def log(msg: str, t0: float = time.perf_counter()) -> None:
    print(f"[{time.perf_counter() - t0:7.0f}s] {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------ tasks
def build_tasks(
    groups: list[str], vocab: np.ndarray, *, repeats: int, seed: int, max_terms: int | None
) -> list[Task]:
    from gsea_plus.genes import SymbolMapper
    from gsea_plus.library.gmt import read_gmt

    mapper = SymbolMapper.from_hgnc(SHARED / "mapping/hgnc_complete_set.subset.tsv.gz")
    tasks: list[Task] = []
    libs: dict[str, Path] = {}
    if "val" in groups:
        libs.update(VALIDATION)
    if "bench" in groups:
        libs.update(BENCHMARK)
    for name, path in libs.items():
        sets = normalize_sets(read_gmt(path), mapper)
        tasks += paper_tasks(name, sets, vocab, repeats=repeats, seed=seed, max_terms=max_terms)
    if "time" in groups:
        for name, (old, new) in TIME_SPLITS.items():
            tasks += time_split_tasks(
                name,
                normalize_sets(read_gmt(old), mapper),
                normalize_sets(read_gmt(new), mapper),
                vocab,
                seed=seed,
                max_terms=max_terms,
            )
    return tasks


# ------------------------------------------------------------------ parts
class Part:
    """A raw scorer plus its transform; ``scores(ids)`` -> n x V float32."""

    def __init__(self, name: str, fn: Callable[[list[np.ndarray]], np.ndarray], transform: str):
        self.name, self.fn, self.transform = name, fn, transform

    def scores(self, ids: list[np.ndarray]) -> np.ndarray:
        s = np.asarray(self.fn(ids), dtype=np.float32)
        if self.transform == "sqrt":
            s = np.sqrt(np.maximum(s, 0.0))
        return s


def load_ease_rows(spec: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    prefix, _, k = spec.partition(":")
    if prefix.endswith(".safetensors"):
        from gsea_plus.model.ease import read_sparse_rows

        idx, val = read_sparse_rows(prefix, n)
    else:
        idx = np.load(prefix + "_idx.npy")
        val = np.load(prefix + "_val.npy").astype(np.float32)
    if k:
        idx, val = idx[:, : int(k)], val[:, : int(k)]
    return idx.astype(np.int64), val


def make_part(name: str, spec: str, vocab: np.ndarray, corpus: list, cache: dict) -> Part:
    from gsea_plus.model.scorers import CooccurrenceScorer, NeighborScorer, multi_hot

    kind, _, arg = spec.partition(":")
    if kind == "autoencoder":
        from gsea_plus.model.network import Autoencoder
        from gsea_plus.model.scorers import AutoencoderScorer

        ae = AutoencoderScorer(Autoencoder.load(arg))
        assert np.array_equal(ae.vocab, vocab), "autoencoder vocabulary differs"
        return Part(name, ae.log_score_ids, "none")
    if kind == "model":
        from gsea_plus.model.model import Model

        m = Model.load(arg)
        assert np.array_equal(m.vocab, vocab), "model vocabulary differs"
        return Part(name, m.score_ids, "none")
    if kind == "neighbors":
        from gsea_plus.model.model import read_neighbors

        idx, val = read_neighbors(Path(arg), len(vocab))
        nb = NeighborScorer(vocab, idx, val)
        return Part(name, nb.score_ids, "sqrt")
    if kind == "cooc":
        co = cache.get("cooc")
        if co is None:
            co = CooccurrenceScorer(corpus, vocab)
            t = time.perf_counter()
            co.gram()
            log(f"co-occurrence gram: {time.perf_counter() - t:.0f} s")
            cache["cooc"] = co
        sc = CooccurrenceScorer.__new__(CooccurrenceScorer)
        sc.__dict__.update(co.__dict__)
        sc.normalize = arg or "none"
        return Part(name, sc.score_ids, "none")
    if kind == "ease":
        idx, val = load_ease_rows(arg, len(vocab))
        n, k = idx.shape
        import scipy.sparse as sp

        rows = np.repeat(np.arange(n), k)
        mat = sp.csr_matrix((val.ravel(), (rows, idx.ravel())), shape=(n, n))

        def ease_scores(ids, mat=mat):
            q = multi_hot(list(ids), n)
            return (q @ mat).toarray()

        return Part(name, ease_scores, "none")
    if kind == "band":
        # genes in the same cytogenetic band (NCBI gene_info map_location), fine or coarse
        import gzip

        import scipy.sparse as sp

        from gsea_plus.genes import SymbolMapper

        mapper = SymbolMapper.from_hgnc(SHARED / "mapping/hgnc_complete_set.subset.tsv.gz")
        index = {g: i for i, g in enumerate(vocab.tolist())}
        band = np.full(len(vocab), -1)
        names: dict[str, int] = {}
        path = SHARED / "mapping/Homo_sapiens.gene_info.2021-02.gz"
        with gzip.open(path, "rt") as fh:
            for line in fh:
                if line.startswith("#"):
                    continue
                f = line.rstrip("\n").split("\t")
                loc = f[7]
                if loc == "-" or "|" in loc:
                    continue
                if arg == "coarse":
                    loc = loc.split(".")[0]
                i = index.get(mapper.normalize(f[2].upper()))
                if i is not None and band[i] < 0:
                    band[i] = names.setdefault(loc, len(names))
        have = np.flatnonzero(band >= 0)
        member = sp.csr_matrix(
            (np.ones(len(have), np.float32), (have, band[have])), shape=(len(vocab), len(names))
        )
        log(f"band ({arg or 'fine'}): {len(have)} genes placed in {len(names)} bands")

        def band_scores(ids, member=member):
            q = multi_hot(list(ids), len(vocab))
            return ((q @ member) @ member.T).toarray()

        return Part(name, band_scores, "none")
    if kind == "twohop":
        # EASE scores propagated once more: (q B) B, from the same rows
        idx, val = load_ease_rows(arg, len(vocab))
        n, k = idx.shape
        import scipy.sparse as sp

        rows = np.repeat(np.arange(n), k)
        mat = sp.csr_matrix((val.ravel(), (rows, idx.ravel())), shape=(n, n))

        def twohop_scores(ids, mat=mat):
            first = (multi_hot(list(ids), n) @ mat).toarray()
            first = np.maximum(first, 0)
            return first + np.asarray(first @ mat)  # dense @ sparse

        return Part(name, twohop_scores, "none")
    if kind == "setknn":
        # user-based neighbours: the corpus sets most similar to the list vote for genes.
        # ARG = alpha,top,power[,idf]: similarity = (IDF-weighted) overlap / size**alpha;
        # the top sets vote with weight similarity**power
        import scipy.sparse as sp

        fields = [float(x) for x in (arg or "0.5,200,2").split(",")] + [0.0] * 3
        alpha, top, power = fields[0], int(fields[1]), fields[2]
        idf, beta, gamma = fields[3] > 0, fields[4], fields[5]
        x = cache.get("setx")
        if x is None:
            index = {g: i for i, g in enumerate(vocab.tolist())}
            set_ids = [
                np.unique([index[g] for g in s_ if g in index]).astype(np.int64) for s_ in corpus
            ]
            x = multi_hot(set_ids, len(vocab))  # sets x genes
            cache["setx"] = x
        xt = x.T.tocsr()
        sizes = np.maximum(np.diff(x.indptr), 1).astype(np.float32)
        inv = sizes**-alpha
        if gamma:  # balance the sources: a set of a large source library counts less
            tags = cache.get("tags")
            if tags is None:
                from gsea_plus.library.gmt import read_gmt

                tags = np.array([g.description for g in read_gmt(cache["corpus_path"])])
                cache["tags"] = tags
            _, inverse, counts = np.unique(tags, return_inverse=True, return_counts=True)
            inv = inv * counts[inverse].astype(np.float32) ** -gamma
        df = np.asarray(x.sum(axis=0)).ravel()
        out_w = np.maximum(df, 1).astype(np.float32) ** -beta if beta else None
        gene_w = np.log(x.shape[0] / np.maximum(df, 1)).astype(np.float32) if idf else None

        def setknn_scores(
            ids, x=x, xt=xt, inv=inv, top=top, power=power, gene_w=gene_w, out_w=out_w
        ):
            q = multi_hot(list(ids), len(vocab))
            if gene_w is not None:
                q = q @ sp.diags(gene_w)
            h = (q @ xt).toarray() * inv[None, :]  # lists x sets
            t = min(top, h.shape[1] - 1)
            keep = np.argpartition(-h, t, axis=1)[:, :t]
            w = np.take_along_axis(h, keep, axis=1) ** power
            rows = np.repeat(np.arange(len(ids)), t)
            wm = sp.csr_matrix((w.ravel(), (rows, keep.ravel())), shape=h.shape)
            out = (wm @ x).toarray()
            return out * out_w[None, :] if out_w is not None else out

        return Part(name, setknn_scores, "none")
    if kind == "popularity":
        counts = np.zeros(len(vocab))
        index = {g: i for i, g in enumerate(vocab.tolist())}
        for s in corpus:
            for g in s:
                i = index.get(g)
                if i is not None:
                    counts[i] += 1
        prior = np.log1p(counts).astype(np.float32)
        return Part(name, lambda ids: np.tile(prior, (len(ids), 1)), "none")
    raise SystemExit(f"unknown part kind {kind!r} in {spec!r}")


def standardize(s: np.ndarray, mode: str) -> np.ndarray:
    if mode == "rank":
        from scipy.stats import rankdata

        r = rankdata(s, axis=1).astype(np.float32)
        return r / s.shape[1]
    mu = s.mean(axis=1, keepdims=True, dtype=np.float64).astype(np.float32)
    sd = s.std(axis=1, keepdims=True, dtype=np.float64).astype(np.float32)
    return (s - mu) / np.where(sd > 0, sd, 1.0)


# ------------------------------------------------------------------ methods
def parse_method(text: str) -> tuple[str, dict[str, float]]:
    name, _, body = text.rpartition("=")  # labels may hold "=", the weights never do
    weights: dict[str, float] = {}
    for term in body.split("+"):
        part, _, w = term.partition(":")
        weights[part] = float(w) if w else 1.0
    return name, weights


def simplex(parts: list[str], step: float) -> list[tuple[str, dict[str, float]]]:
    n = round(1 / step)
    out = []
    for combo in itertools.product(range(n + 1), repeat=len(parts) - 1):
        if sum(combo) > n:
            continue
        w = [c / n for c in combo] + [(n - sum(combo)) / n]
        weights = {p: round(x, 6) for p, x in zip(parts, w, strict=True) if x > 0}
        label = "+".join(f"{p}:{x:g}" for p, x in weights.items())
        out.append((label, weights))
    return out


def evaluate(
    tasks: list[Task],
    parts: dict[str, Part],
    methods: list[tuple[str, dict[str, float]]],
    *,
    mode: str,
    chunk: int = 256,
) -> pd.DataFrame:
    needed = sorted({p for _, w in methods for p in w})
    rows = []
    for start in range(0, len(tasks), chunk):
        part_tasks = tasks[start : start + chunk]
        ids = [t.inputs for t in part_tasks]
        z = {p: standardize(parts[p].scores(ids), mode) for p in needed}
        for label, weights in methods:
            total = None
            for p, w in weights.items():
                total = w * z[p] if total is None else total + w * z[p]
            for t, s in zip(part_tasks, total, strict=True):
                cand = s[t.candidates]
                pos = np.isin(t.candidates, t.positives, assume_unique=True)
                rows.append(
                    (label, t.library, t.term, auroc(cand, pos), average_precision(cand, pos))
                )
        log(f"{min(start + chunk, len(tasks))}/{len(tasks)} tasks")
    return pd.DataFrame(rows, columns=["method", "library", "term", "auroc", "ap"])


def summary_table(per_task: pd.DataFrame) -> pd.DataFrame:
    frames = [
        summarize(g.drop(columns="method"), m) for m, g in per_task.groupby("method", sort=False)
    ]
    s = pd.concat(frames, ignore_index=True)
    auc = s.pivot(index="method", columns="library", values="median_auroc")
    ap = s.pivot(index="method", columns="library", values="mean_ap")
    vals = [c for c in auc.columns if c.startswith("val:")]
    if vals:
        auc["val_mean"] = auc[vals].mean(axis=1)
        ap["val_mean"] = ap[vals].mean(axis=1)
        for kind, libs in VAL_KINDS.items():
            have = [c for c in libs if c in auc.columns]
            if have:
                auc[f"val_{kind}"] = auc[have].mean(axis=1)
    bench = [c for c in BENCHMARK if c in auc.columns]
    if bench:
        auc["bench_mean"] = auc[bench].mean(axis=1)
        ap["bench_mean"] = ap[bench].mean(axis=1)
    return auc, ap


SHORT = {
    "KEGG_2021_Human": "KEGG",
    "GO_Biological_Process_2023": "GO BP",
    "GWAS_Catalog_2023": "GWAS 23",
    "MSigDB_Hallmark_2020": "Hallmark",
    "ChEA_Literature_ChIP-seq": "ChEA*",
    "val:Reactome_2016": "val Reactome",
    "val:WikiPathways_2019_Human": "val WikiPW",
    "val:GO_Molecular_Function_2018": "val GO MF",
    "val:PheWeb_2019": "val PheWeb",
    "val:dbGaP": "val dbGaP",
    "val_mean": "**val mean**",
    "bench_mean": "bench mean",
}


def markdown_table(auc: pd.DataFrame, ap: pd.DataFrame) -> str:
    """Median AUROC per library (benchmarks first), validation mean in bold, val mean AP."""
    cols = [c for c in SHORT if c in auc.columns]
    lines = [
        "| variant | " + " | ".join(SHORT[c] for c in cols) + " | val mean AP |",
        "|---|" + "---:|" * (len(cols) + 1),
    ]
    for m in auc.index:
        cells = [f"{auc.loc[m, c]:.3f}" for c in cols]
        if "val_mean" in cols:
            i = cols.index("val_mean")
            cells[i] = f"**{cells[i]}**"
        ap_cell = f"{ap.loc[m, 'val_mean']:.3f}" if "val_mean" in ap.columns else ""
        lines.append(f"| {m} | " + " | ".join(cells) + f" | {ap_cell} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--vocab", type=Path, default=ROOT / "gsea_plus/model/bundled/vocab.txt")
    ap.add_argument("--group", action="append", choices=["val", "bench", "time"], required=True)
    ap.add_argument("--part", action="append", default=[], help="NAME=KIND:ARG")
    ap.add_argument("--method", action="append", default=[], help="NAME=PART:W+PART:W")
    ap.add_argument("--grid", action="append", default=[], help="PART,PART[,PART]")
    ap.add_argument("--step", type=float, default=0.1)
    ap.add_argument("--standardize", choices=["z", "rank"], default="z")
    ap.add_argument("--max-terms", type=int)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, help="per-task TSV")
    ap.add_argument("--summary", type=Path, help="summary TSV (AUROC and AP, long form)")
    ap.add_argument("--markdown", type=Path, help="markdown table of the methods (README)")
    args = ap.parse_args()

    from gsea_plus.library.gmt import read_gmt
    from gsea_plus.model.vocab import Vocab

    vocab = Vocab.load(args.vocab).genes
    tasks = build_tasks(
        args.group, vocab, repeats=args.repeats, seed=args.seed, max_terms=args.max_terms
    )
    log(f"{len(tasks)} tasks")
    corpus = [s.genes for s in read_gmt(args.corpus)]
    cache: dict = {"corpus_path": args.corpus}
    parts = {}
    for text in args.part:
        name, _, spec = text.partition("=")
        parts[name] = make_part(name, spec, vocab, corpus, cache)
        log(f"part {name} = {spec}")
    methods = [parse_method(m) for m in args.method]
    for g in args.grid:
        methods += simplex(g.split(","), args.step)
    seen = set()
    methods = [m for m in methods if not (m[0] in seen or seen.add(m[0]))]
    missing = {p for _, w in methods for p in w} - set(parts)
    if missing:
        raise SystemExit(f"methods use undefined parts: {sorted(missing)}")
    per_task = evaluate(tasks, parts, methods, mode=args.standardize)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        per_task.to_csv(args.out, sep="\t", index=False, float_format="%.5f")
    auc, apt = summary_table(per_task)
    if args.summary:
        long = pd.concat(
            [auc.stack().rename("median_auroc"), apt.stack().rename("mean_ap")], axis=1
        ).reset_index()
        long.to_csv(args.summary, sep="\t", index=False, float_format="%.4f")
    if args.markdown:
        args.markdown.write_text(markdown_table(auc, apt))
    pd.set_option("display.width", 250)
    pd.set_option("display.max_rows", 500)
    pd.set_option("display.max_columns", 50)
    key = "val_mean" if "val_mean" in auc.columns else auc.columns[-1]
    print("median AUROC")
    print(auc.sort_values(key).round(4).to_string())
    print("mean AP")
    print(apt.loc[auc.sort_values(key).index].round(4).to_string())


if __name__ == "__main__":
    main()
