"""Model-based enrichment (issue 4) against classical enrichment: recovery, time split, null.

Protocol (libraries read in place from the shared benchmark data, min_size=5, library
genes as background, bundled model, ModelOptions defaults: 200 null lists, seed 0):

1. *Known genes plus noise*: per library, ``--terms`` terms of size >= 10 (seeded); each
   gives ``m`` of its genes (m = 3, 5, 10) plus noise genes drawn from the library's genes
   outside the term, so that noise is 0%, 50% or 90% of the list
   (``round(m * f / (1 - f))`` noise genes). The source term's rank -> MRR, R@1, R@10.
2. *Time split* (KEGG_2016 -> KEGG_2021_Human, GO_Biological_Process_2021 -> 2023): the
   input is the genes the newer version added to a term (matched by ``term_key``; the
   first 20), tasks with >= 3 such genes; the target is the old term, ranked against the
   old library. ``--time-tasks`` samples tasks (seeded) when there are more.
3. *Null*: ``--null-lists`` random lists per size (10, 30, 100) from the library's genes
   (``random_matches``, seed 12345 + size, not the internal null seed); the fraction of
   lists with any BH-adjusted p < 0.05 over the tested terms.
4. *GSFM demonstration*: ``predict`` on the KEGG_2021_Human Ferroptosis genes; PLIN2's
   rank among the predictions (input genes excluded) and the top 10.

Terms are ranked per list by log p ascending, ties by term index; terms outside
``term_mask`` rank last. Methods: ``classical``; the model tests ``combined`` (as
gsea_plus.evidence defines it; since 1350b23 a 0.9/0.1 weighted Bonferroni of the classical
and prediction p), ``fisher`` (Fisher's method of the same two p, where available),
``prediction``, ``cosine``, ``signature`` (no N); ``augmented``, ``naive`` and
``combined+augmented`` (Fisher's method of the classical and augmented-calibrated p) per N.
The report names the commit of the measured code.

Command (full run)::

    python benchmarks/augment_bench.py --terms 150 --null-lists 200 --time-tasks 0

``--quick`` runs tiny sizes (smoke test).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, benchmark_gmt  # noqa: E402

from gsea_plus.engine import match_lists, prepare, score_lists  # noqa: E402
from gsea_plus.evidence import (  # noqa: E402
    NULLS,
    TESTS,
    combine_fisher,
    dense_scores,
    model_evidence,
    model_view,
    random_matches,
)
from gsea_plus.genes import GeneList  # noqa: E402
from gsea_plus.library import load_library  # noqa: E402
from gsea_plus.model import load_model, predict  # noqa: E402
from gsea_plus.model.evaluate import term_key  # noqa: E402
from gsea_plus.options import ModelOptions  # noqa: E402
from gsea_plus.stats import adjust_pvalues  # noqa: E402

log = logging.getLogger("augment_bench")

LIBRARIES = [
    "KEGG_2021_Human",
    "GO_Biological_Process_2023",
    "GWAS_Catalog_2023",
    "MSigDB_Hallmark_2020",
]
TIME_SPLITS = {
    "KEGG_2021_Human": "KEGG_2016",
    "GO_Biological_Process_2023": "GO_Biological_Process_2021",
}
MIN_SIZE = 5
KNOWN = (3, 5, 10)
NOISE = (0.0, 0.5, 0.9)
NS = (10, 50, 100)
NULL_SIZES = (10, 30, 100)
#: Tests that ignore N ("fisher", Fisher's method of the classical and prediction p, only
#: where this version of gsea_plus has it).
ONCE = tuple(t for t in ("combined", "fisher", "prediction", "cosine", "signature") if t in TESTS)
PER_N = ("augmented", "naive", "combined+augmented")
RECOMMENDED = "combined"


def method_names(ns) -> list[str]:
    return ["classical", *ONCE] + [f"{t} N={n}" for t in PER_N for n in ns]


# --- evaluation of one list set ----------------------------------------------------------


def all_log_p(view, prep, genes_lists, ns) -> dict[str, np.ndarray]:
    """Every method's (lists x terms) natural-log p; terms outside the mask set to +inf."""
    n_terms = len(prep.library.terms)
    matches = match_lists(prep, [GeneList(list(g)) for g in genes_lists])
    scores = score_lists(prep, matches)
    classical = dense_scores(scores, len(matches), n_terms, scores.log_p)
    out = {"classical": classical}
    for test in ONCE:
        out[test] = model_evidence(view, matches, classical, ModelOptions(test=test))[0]
    for n in ns:
        aug = model_evidence(view, matches, classical, ModelOptions(augment=n, test="augmented"))[0]
        out[f"augmented N={n}"] = aug
        out[f"naive N={n}"] = model_evidence(
            view, matches, classical, ModelOptions(augment=n, test="naive")
        )[0]
        out[f"combined+augmented N={n}"] = combine_fisher(classical, aug)
    for key, lp in out.items():
        lp = np.array(lp, dtype=np.float64)
        lp[:, ~prep.term_mask] = np.inf
        out[key] = lp
    return out


def target_ranks(log_p: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """1-based rank of each list's target term (log p ascending, ties by term index)."""
    rows = np.arange(len(targets))
    own = log_p[rows, targets][:, None]
    idx = np.arange(log_p.shape[1])[None, :]
    better = (log_p < own) | ((log_p == own) & (idx < targets[:, None]))
    return 1 + better.sum(axis=1)


def summary(ranks: np.ndarray) -> dict:
    ranks = np.asarray(ranks, dtype=np.float64)
    return {
        "n": int(len(ranks)),
        "mrr": float(np.mean(1.0 / ranks)) if len(ranks) else float("nan"),
        "r1": float(np.mean(ranks <= 1)) if len(ranks) else float("nan"),
        "r10": float(np.mean(ranks <= 10)) if len(ranks) else float("nan"),
        "median_rank": float(np.median(ranks)) if len(ranks) else float("nan"),
    }


def any_significant(log_p: np.ndarray, mask: np.ndarray, alpha: float = 0.05) -> np.ndarray:
    """Per list: does any tested term have a BH-adjusted p below alpha?"""
    out = np.zeros(len(log_p), dtype=bool)
    for i, row in enumerate(log_p):
        p = np.exp(np.minimum(row[mask], 0.0))
        out[i] = bool(np.any(adjust_pvalues(p, "fdr_bh") < alpha))
    return out


# --- parts ---------------------------------------------------------------------------------


def part_recovery(name, view, prep, n_terms, ns, seed) -> list[dict]:
    """Part 1: m known genes of a sampled term plus noise; rank of the source term."""
    lib = prep.library
    rng = np.random.default_rng(seed)
    eligible = np.flatnonzero(prep.term_mask & (prep.term_sizes >= 10))
    terms = np.sort(rng.choice(eligible, size=min(n_terms, len(eligible)), replace=False))
    all_genes = lib.genes.tolist()
    rows = []
    for m in KNOWN:
        for f in NOISE:
            n_noise = int(round(m * f / (1 - f)))
            lists = []
            for t in terms:
                own = lib.term_genes(int(t))
                own_set = set(own)
                picked = [own[j] for j in rng.choice(len(own), size=m, replace=False)]
                outside = [g for g in all_genes if g not in own_set]
                noise = [outside[j] for j in rng.choice(len(outside), n_noise, replace=False)]
                lists.append(picked + noise)
            t0 = time.perf_counter()
            lps = all_log_p(view, prep, lists, ns)
            cell = f"m={m} noise={int(f * 100)}%"
            log.info(
                "%s recovery %s: %d lists, %.1f s", name, cell, len(lists), time.perf_counter() - t0
            )
            for method, lp in lps.items():
                rows.append(
                    {
                        "library": name,
                        "part": "recovery",
                        "cell": cell,
                        "m": m,
                        "noise": f,
                        "method": method,
                        **summary(target_ranks(lp, terms)),
                    }
                )
    return rows


def time_split_lists(old_lib, new_lib, old_prep, max_tasks, seed):
    """Inputs (genes the new version added, first 20) and targets (old term indices)."""
    old_by_key = {}
    for i, term in enumerate(old_lib.terms):
        old_by_key.setdefault(term_key(term), i)
    lists, targets = [], []
    for j, term in enumerate(new_lib.terms):
        i = old_by_key.get(term_key(term))
        if i is None or not old_prep.term_mask[i]:
            continue
        old_genes = set(old_lib.term_genes(i))
        added = [g for g in new_lib.term_genes(j) if g not in old_genes][:20]
        if len(added) >= 3:
            lists.append(added)
            targets.append(i)
    total = len(lists)
    if max_tasks and total > max_tasks:
        pick = np.sort(np.random.default_rng(seed).choice(total, max_tasks, replace=False))
        lists = [lists[k] for k in pick]
        targets = [targets[k] for k in pick]
    return lists, np.array(targets, dtype=np.int64), total


def part_time_split(name, model, ns, max_tasks, seed) -> list[dict]:
    """Part 2: added genes of a newer version -> rank of the term in the old library."""
    old_name = TIME_SPLITS[name]
    old_lib = load_library(str(benchmark_gmt(old_name)))
    new_lib = load_library(str(benchmark_gmt(name)))
    old_prep = prepare(old_lib, min_size=MIN_SIZE)
    view = model_view(old_prep, model)
    lists, targets, total = time_split_lists(old_lib, new_lib, old_prep, max_tasks, seed)
    t0 = time.perf_counter()
    rows = []
    # one call per list size, so each size-matched null is built once and memory stays low
    lps = {}
    sizes = np.array([len(match_lists(old_prep, [GeneList(g)])[0].columns) for g in lists])
    order = np.argsort(sizes, kind="stable")
    for s in np.unique(sizes):
        sel = order[sizes[order] == s]
        part = all_log_p(view, old_prep, [lists[k] for k in sel], ns)
        for method, lp in part.items():
            lps.setdefault(method, []).append((sel, lp))
    log.info(
        "%s time split: %d of %d tasks, %d list sizes, %.1f s",
        name,
        len(lists),
        total,
        len(np.unique(sizes)),
        time.perf_counter() - t0,
    )
    cell = f"{old_name} -> {name}"
    for method, parts in lps.items():
        ranks = np.zeros(len(lists), dtype=np.int64)
        for sel, lp in parts:
            ranks[sel] = target_ranks(lp, targets[sel])
        rows.append(
            {
                "library": name,
                "part": "time split",
                "cell": cell,
                "method": method,
                "tasks_total": total,
                **summary(ranks),
            }
        )
    return rows


def part_null(name, view, prep, n_lists, ns) -> list[dict]:
    """Part 3: random library-gene lists; fraction with any BH-adjusted p < 0.05."""
    rows = []
    for size in NULL_SIZES:
        matches = random_matches(prep, size, n_lists, 12345 + size)
        t0 = time.perf_counter()
        lps = all_log_p(view, prep, [m.genes for m in matches], ns)
        log.info("%s null size %d: %d lists, %.1f s", name, size, n_lists, time.perf_counter() - t0)
        for method, lp in lps.items():
            hits = any_significant(lp, prep.term_mask)
            rows.append(
                {
                    "library": name,
                    "part": "null",
                    "cell": f"size {size}",
                    "method": method,
                    "n": int(len(hits)),
                    "fraction": float(hits.mean()),
                }
            )
    return rows


def part_ferroptosis(model) -> dict:
    """Part 4: the published GSFM demonstration (PLIN2 from the KEGG Ferroptosis genes)."""
    lib = load_library(str(benchmark_gmt("KEGG_2021_Human")))
    t = [i for i, term in enumerate(lib.terms) if term.lower().startswith("ferroptosis")][0]
    genes = lib.term_genes(t)
    df = predict(genes, top=None, model=model, exclude_input=True)
    hit = df[df["Gene"] == "PLIN2"]
    return {
        "term": lib.terms[t],
        "input_genes": len(genes),
        "plin2_in_term": "PLIN2" in genes,
        "plin2_rank": int(hit["Rank"].iloc[0]) if len(hit) else None,
        "ranked": int(len(df)),
        "top10": df["Gene"].head(10).tolist(),
    }


# --- report ------------------------------------------------------------------------------


def fmt(x) -> str:
    return "-" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{x:.3f}"


def tables(rows, ferro) -> str:
    out = []
    rank_rows = [r for r in rows if r["part"] in ("recovery", "time split")]
    if rank_rows:
        out += [
            "### Term recovery (known genes + noise) and time split",
            "",
            "| library | part | cell | method | n | MRR | R@1 | R@10 |",
            "|---|---|---|---|---:|---:|---:|---:|",
        ]
        for r in rank_rows:
            out.append(
                f"| {r['library']} | {r['part']} | {r['cell']} | {r['method']} | {r['n']} | "
                f"{fmt(r['mrr'])} | {fmt(r['r1'])} | {fmt(r['r10'])} |"
            )
        out.append("")
    null_rows = [r for r in rows if r["part"] == "null"]
    if null_rows:
        out += [
            "### Null: fraction of random lists with any BH-adjusted p < 0.05",
            "",
            "| library | part | cell | method | n | null fraction |",
            "|---|---|---|---|---:|---:|",
        ]
        for r in null_rows:
            out.append(
                f"| {r['library']} | null | {r['cell']} | {r['method']} | {r['n']} | "
                f"{fmt(r['fraction'])} |"
            )
        out.append("")
    if ferro:
        out += [
            "### GSFM demonstration: KEGG Ferroptosis -> PLIN2",
            "",
            f"- input: {ferro['term']} ({ferro['input_genes']} genes; PLIN2 in term: "
            f"{ferro['plin2_in_term']})",
            f"- PLIN2 rank among {ferro['ranked']} predictions (input excluded): "
            f"{ferro['plin2_rank']}",
            f"- top 10: {', '.join(ferro['top10'])}",
            "",
        ]
    return "\n".join(out)


def goals(rows) -> str:
    """Each method against the issue's goals (recovery relative MRR, time split, null)."""
    methods = list(dict.fromkeys(r["method"] for r in rows if r["method"] != "classical"))
    lines = [
        "### Goals per method",
        "",
        "| method | worst recovery MRR / classical (cell) | m=3 90% noise: model vs classical MRR "
        "(per library) | time split MRR (KEGG; GO BP) | max null fraction |",
        "|---|---|---|---|---:|",
    ]
    rec = {(r["library"], r["cell"], r["method"]): r for r in rows if r["part"] == "recovery"}
    for method in methods:
        worst, where, sparse = np.inf, "", []
        for (lib, cell, m), r in rec.items():
            if m != method:
                continue
            c = rec[(lib, cell, "classical")]["mrr"]
            ratio = r["mrr"] / c if c > 0 else np.inf
            if ratio < worst:
                worst, where = ratio, f"{lib} {cell}"
            if cell == "m=3 noise=90%":
                sparse.append(f"{fmt(r['mrr'])} vs {fmt(c)}")
        ts = [fmt(r["mrr"]) for r in rows if r["part"] == "time split" and r["method"] == method]
        nulls = [r["fraction"] for r in rows if r["part"] == "null" and r["method"] == method]
        lines.append(
            f"| {method} | {fmt(worst) if np.isfinite(worst) else '-'} ({where}) | "
            f"{'; '.join(sparse)} | {'; '.join(ts)} | "
            f"{fmt(max(nulls)) if nulls else '-'} |"
        )
    return "\n".join(lines + [""])


def code_version() -> str:
    """The commit the measured code is at, and whether gsea_plus/ has local changes."""
    import subprocess

    def git(*a):
        return subprocess.run(["git", *a], cwd=REPO, capture_output=True, text=True).stdout.strip()

    dirty = git("status", "--porcelain", "--", "gsea_plus")
    return git("rev-parse", "--short", "HEAD") + (" (gsea_plus/ modified)" if dirty else "")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--libraries", nargs="+", default=LIBRARIES)
    ap.add_argument("--terms", type=int, default=60, help="sampled terms per library (part 1)")
    ap.add_argument("--null-lists", type=int, default=100, help="random lists per size (part 3)")
    ap.add_argument(
        "--null-lists-go",
        type=int,
        default=None,
        help="random lists per size for GO BP (default: --null-lists)",
    )
    ap.add_argument(
        "--time-tasks",
        type=int,
        default=400,
        help="max time-split tasks per split, sampled (part 2; 0: all)",
    )
    ap.add_argument("--ns", type=int, nargs="+", default=list(NS), help="augment N values")
    ap.add_argument("--parts", nargs="+", default=["recovery", "time", "null", "ferroptosis"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks/results/augment_bench.json")
    ap.add_argument("--quick", action="store_true", help="tiny sizes (smoke run)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    if args.quick:
        args.terms, args.null_lists, args.time_tasks, args.ns = 6, 8, 12, [10]
    start, load, version = time.time(), os.getloadavg(), code_version()
    model = load_model()
    rows = []
    for name in args.libraries:
        lib = load_library(str(benchmark_gmt(name)))
        prep = prepare(lib, min_size=MIN_SIZE)
        t0 = time.perf_counter()
        view = model_view(prep, model)
        log.info(
            "%s: %d terms (%d tested), view %.1f s",
            name,
            len(lib.terms),
            int(prep.term_mask.sum()),
            time.perf_counter() - t0,
        )
        if "recovery" in args.parts:
            rows += part_recovery(name, view, prep, args.terms, args.ns, args.seed)
        if "time" in args.parts and name in TIME_SPLITS:
            rows += part_time_split(name, model, args.ns, args.time_tasks, args.seed)
        if "null" in args.parts:
            n_null = args.null_lists
            if name.startswith("GO_") and args.null_lists_go:
                n_null = args.null_lists_go
            rows += part_null(name, view, prep, n_null, args.ns)
        log.info("%s done at %.0f s", name, time.time() - start)
    ferro = part_ferroptosis(model) if "ferroptosis" in args.parts else None
    wall = time.time() - start
    command = "python benchmarks/augment_bench.py " + shlex.join(
        sys.argv[1:] if argv is None else argv
    )
    text = "\n".join(
        [
            f"Command: `{command}`",
            "",
            f"Code: gsea_plus at {version}. Tests: "
            + "; ".join(f"{t}: {NULLS[t]}" for t in ONCE + ("augmented", "naive"))
            + "; combined+augmented: Fisher's method of the classical and augmented p.",
            "",
            f"Wall time {wall / 60:.1f} min; load average at start {load[0]:.2f} / {load[1]:.2f} / "
            f"{load[2]:.2f} (1/5/15 min), {os.cpu_count()} CPUs.",
            f"Recovery terms per library: {args.terms}; null lists per size: {args.null_lists}"
            f" (GO BP: {args.null_lists_go or args.null_lists}); time-split tasks at most "
            f"{args.time_tasks or 'all'}; N = {', '.join(map(str, args.ns))}; seed {args.seed}.",
            "",
            tables(rows, ferro),
            goals(rows),
        ]
    )
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "command": command,
                "code": version,
                "wall_s": wall,
                "loadavg_start": load,
                "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
                "rows": rows,
                "ferroptosis": ferro,
            },
            indent=1,
        )
    )
    args.out.with_suffix(".md").write_text("# Model-based enrichment benchmark\n\n" + text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
