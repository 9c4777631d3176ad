"""Model-based enrichment (issues 4 and 13) against classical enrichment, through the public API.

Every number comes from :func:`gsea_plus.enrich_many` (and :func:`gsea_plus.enrich` for
the refusal check), called as a user would: ``rank="embedding", test=T`` for each model
test, nothing for classical. A term's rank is its row's position in the list's rows as
the API returns them (sorted by p-value, ties by term order); a term that is not among
the list's first ``--top`` rows (classical: no gene of the list in it), and every list
the API refuses, count as misses (reciprocal rank 0).

Protocol (libraries read in place from the shared benchmark data, ``min_size=5``, library
genes as background, the bundled model unless ``--model``):

1. *Known genes plus noise*: per library, ``--terms`` terms of size >= 10 (seeded); each
   gives ``m`` of its genes (m = 3, 5, 10) plus noise genes drawn from the library's genes
   outside the term, so that noise is 0%, 50% or 90% of the list
   (``round(m * f / (1 - f))`` noise genes). The source term's rank -> MRR, R@1, R@10.
   Goal (issue 13): every cell >= 0.95 x classical MRR.
2. *Time split* (KEGG_2016 -> KEGG_2021_Human, GO_Biological_Process_2021 -> 2023): the
   input is the genes the newer version added to a term (matched by ``term_key``; the
   first 20), tasks with >= 3 such genes; the target is the old term, ranked against the
   old library. Many of these genes are in no term of the old library (KEGG: 775 of
   1,650; 36 of 155 lists hold none): classical enrichment refuses those lists, the model
   tests them. ``--time-tasks`` samples tasks (seeded) when there are more.
   Goal: MRR >= 0.40 (KEGG) and >= 0.15 (GO BP), no list refused. The lists with no
   library gene are also run one by one through :func:`gsea_plus.enrich` (the call that
   used to refuse them), and their ranks must equal the batch's.
3. *Null*: ``--null-lists`` random lists per size (10, 30, 100) of library genes
   (``random_matches``, seed 12345 + size), and as many of genes the model knows
   (``vocabulary``: mostly genes the library does not hold, seed 777 + size); the
   fraction of lists with any BH-adjusted p < 0.05 (the smallest ``Adjusted P-value`` of
   the list's rows). Goal: at most 5%.
4. *GSFM demonstration*: ``predict`` on the KEGG_2021_Human Ferroptosis genes; PLIN2's
   rank among the predictions (input genes excluded) and the top 10.

The tests are those of :data:`gsea_plus.options.MODEL_TESTS`; ``--tests`` picks them
(default: ``combined``, ``prediction``, ``fisher``; the size-matched-null tests
``cosine``, ``signature`` and ``augmented`` take most of the time and are run on request;
``augmented``/``naive`` use ``augment=--augment``). The report names the commit of the
measured code and the model's fingerprint, so a rerun after a new model lands is
comparable.

Command (full run, ~10 min on 2 shared cores)::

    python benchmarks/augment_bench.py

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

import gsea_plus  # noqa: E402
from gsea_plus.engine import prepare  # noqa: E402
from gsea_plus.errors import GseaPlusError  # noqa: E402
from gsea_plus.evidence import random_matches  # noqa: E402
from gsea_plus.library import load_library  # noqa: E402
from gsea_plus.model import load_model, predict  # noqa: E402
from gsea_plus.model.evaluate import term_key  # noqa: E402
from gsea_plus.options import DEFAULT_TEST, MODEL_TESTS  # noqa: E402

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
#: Time-split MRR goals (issue 13).
TIME_GOALS = {"KEGG_2021_Human": 0.40, "GO_Biological_Process_2023": 0.15}
RECOVERY_GOAL = 0.95
NULL_GOAL = 0.05
MIN_SIZE = 5
KNOWN = (3, 5, 10)
NOISE = (0.0, 0.5, 0.9)
NULL_SIZES = (10, 30, 100)
DEFAULT_TESTS = ("combined", "prediction", "fisher")


# --- the public API ----------------------------------------------------------------------


def api_options(method: str, model, augment: int) -> dict:
    """Keywords of :func:`gsea_plus.enrich_many` for a method (``classical`` or a test)."""
    if method == "classical":
        return {}
    extra = {"augment": augment} if method in ("augmented", "naive") else {}
    return {"rank": "embedding", "test": method, "model": model, **extra}


def ranked_terms(lists: dict, library, method: str, model, *, top, augment: int, family=None):
    """Per list name, its terms in the API's order, and its smallest adjusted p.

    With ``family`` (a number of terms), the smallest BH-adjusted p is also computed over
    that many terms (the rows' p-values, the rest counted as 1), and returned third.
    """
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the naive test warns that it is not valid
        df = gsea_plus.enrich_many(
            lists,
            library=library,
            min_size=MIN_SIZE,
            top=top,
            **api_options(method, model, augment),
        )
    terms: dict[str, list[str]] = {name: [] for name in lists}
    best = dict.fromkeys(lists, 1.0)
    best_all = dict.fromkeys(lists, 1.0)
    for name, group in df.groupby("List", sort=False):
        terms[name] = group["Term"].tolist()
        best[name] = float(group["Adjusted P-value"].min())
        if family:
            p = np.sort(group["P-value"].to_numpy())
            best_all[name] = float(np.min(p * family / np.arange(1, len(p) + 1)))
    return terms, best, best_all


def rank_of(terms: list[str], target: str) -> float:
    """1-based rank of ``target`` among the list's rows, inf when absent (a miss)."""
    try:
        return float(terms.index(target) + 1)
    except ValueError:
        return float("inf")


def summary(ranks) -> dict:
    ranks = np.asarray(ranks, dtype=np.float64)
    if not len(ranks):
        return {"n": 0, "mrr": float("nan"), "r1": float("nan"), "r10": float("nan")}
    return {
        "n": int(len(ranks)),
        "mrr": float(np.mean(1.0 / ranks)),
        "r1": float(np.mean(ranks <= 1)),
        "r10": float(np.mean(ranks <= 10)),
        "missed": int(np.sum(~np.isfinite(ranks))),
    }


# --- parts ---------------------------------------------------------------------------------


def recovery_lists(lib, prep, n_terms: int, seed: int):
    """Part 1 inputs: {cell: (lists, target term names)}."""
    rng = np.random.default_rng(seed)
    eligible = np.flatnonzero(prep.term_mask & (prep.term_sizes >= 10))
    terms = np.sort(rng.choice(eligible, size=min(n_terms, len(eligible)), replace=False))
    all_genes = lib.genes.tolist()
    cells = {}
    for m in KNOWN:
        for f in NOISE:
            n_noise = int(round(m * f / (1 - f)))
            lists, targets = [], []
            for t in terms:
                own = lib.term_genes(int(t))
                own_set = set(own)
                picked = [own[j] for j in rng.choice(len(own), size=m, replace=False)]
                outside = [g for g in all_genes if g not in own_set]
                noise = [outside[j] for j in rng.choice(len(outside), n_noise, replace=False)]
                lists.append(picked + noise)
                targets.append(lib.terms[int(t)])
            cells[f"m={m} noise={int(f * 100)}%"] = (lists, targets)
    return cells


def time_split_lists(old_lib, new_lib, old_prep, max_tasks, seed):
    """Inputs (genes the new version added, first 20) and targets (old term names)."""
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
            targets.append(old_lib.terms[i])
    total = len(lists)
    if max_tasks and total > max_tasks:
        pick = np.sort(np.random.default_rng(seed).choice(total, max_tasks, replace=False))
        lists = [lists[k] for k in pick]
        targets = [targets[k] for k in pick]
    return lists, targets, total


def score_cells(name, part, cells, library, methods, model, args) -> list[dict]:
    """Rank rows for every cell and method: one ``enrich_many`` call per method."""
    named = {}
    for cell, (lists, _) in cells.items():
        for k, genes in enumerate(lists):
            named[f"{cell}#{k}"] = genes
    rows = []
    for method in methods:
        t0 = time.perf_counter()
        terms, _, _ = ranked_terms(
            named, library, method, model, top=args.top, augment=args.augment
        )
        log.info(
            "%s %s %s: %d lists, %.1f s", name, part, method, len(named), time.perf_counter() - t0
        )
        for cell, (_, targets) in cells.items():
            ranks = [rank_of(terms[f"{cell}#{k}"], t) for k, t in enumerate(targets)]
            rows.append(
                {"library": name, "part": part, "cell": cell, "method": method, **summary(ranks)}
            )
    return rows


def refusal_check(name, lists, targets, library, methods, model, args, batch_rows) -> list[dict]:
    """Lists with no library gene, one by one through ``gsea_plus.enrich``: refused or not."""
    lib_genes = set(library.genes.tolist())
    idx = [k for k, genes in enumerate(lists) if not any(g in lib_genes for g in genes)]
    out = []
    for method in methods:
        refused, ranks = 0, []
        for k in idx:
            try:
                df = gsea_plus.enrich(
                    lists[k], library, min_size=MIN_SIZE, **api_options(method, model, args.augment)
                )
            except GseaPlusError:
                refused += 1
                ranks.append(float("inf"))
                continue
            ranks.append(rank_of(df["Term"].tolist()[: args.top], targets[k]))
        agree = [batch_rows[method][k] == r for k, r in zip(idx, ranks, strict=True)]
        out.append(
            {
                "library": name,
                "part": "refusals",
                "method": method,
                "lists_without_library_gene": len(idx),
                "refused": refused,
                "same_rank_as_batch": int(sum(agree)),
            }
        )
    return out


def part_time_split(name, methods, model, args) -> list[dict]:
    """Part 2: added genes of a newer version -> rank of the term in the old library."""
    old_name = TIME_SPLITS[name]
    old_lib = load_library(str(benchmark_gmt(old_name)))
    new_lib = load_library(str(benchmark_gmt(name)))
    old_prep = prepare(old_lib, min_size=MIN_SIZE)
    lists, targets, total = time_split_lists(old_lib, new_lib, old_prep, args.time_tasks, args.seed)
    named = {f"task{k}": genes for k, genes in enumerate(lists)}
    rows, per_method = [], {}
    for method in methods:
        t0 = time.perf_counter()
        terms, _, _ = ranked_terms(
            named, old_lib, method, model, top=args.top, augment=args.augment
        )
        ranks = [rank_of(terms[f"task{k}"], t) for k, t in enumerate(targets)]
        per_method[method] = ranks
        log.info(
            "%s time split %s: %d tasks, %.1f s", name, method, len(lists), time.perf_counter() - t0
        )
        rows.append(
            {
                "library": name,
                "part": "time split",
                "cell": f"{old_name} -> {name}",
                "method": method,
                "tasks_total": total,
                **summary(ranks),
            }
        )
    rows += refusal_check(name, lists, targets, old_lib, methods, model, args, per_method)
    return rows


def part_null(name, lib, prep, methods, model, args) -> list[dict]:
    """Part 3: random lists of library genes and of genes the model knows."""
    vocab = np.asarray(model.vocab)
    named, cells = {}, []
    for size in NULL_SIZES:
        library_lists = [m.genes for m in random_matches(prep, size, args.null_lists, 12345 + size)]
        rng = np.random.default_rng(777 + size)
        vocab_lists = [
            vocab[rng.choice(len(vocab), size, replace=False)].tolist()
            for _ in range(args.null_lists)
        ]
        for kind, lists in (("library genes", library_lists), ("vocabulary", vocab_lists)):
            cell = f"{kind}, size {size}"
            cells.append(cell)
            for k, genes in enumerate(lists):
                named[f"{cell}#{k}"] = genes
    rows = []
    family = int(prep.term_mask.sum())
    for method in methods:
        t0 = time.perf_counter()
        classical = method == "classical"
        try:
            _, best, best_all = ranked_terms(
                named,
                lib,
                method,
                model,
                top=None if classical else 1,
                augment=args.augment,
                family=family if classical else None,
            )
        except GseaPlusError as exc:  # classical: a batch no gene of which is in the library
            log.warning("%s null %s: %s", name, method, exc)
            best = best_all = dict.fromkeys(named, 1.0)
        log.info("%s null %s: %d lists, %.1f s", name, method, len(named), time.perf_counter() - t0)
        # classical: the API's family (terms sharing a gene with the list, as Enrichr) and,
        # for reference, every tested term (the family of the model tests)
        variants = [(method, best)]
        if classical:
            variants.append(("classical, BH over every tested term (reference)", best_all))
        for label, values in variants:
            for cell in cells:
                hits = np.array([values[k] < 0.05 for k in named if k.startswith(cell + "#")])
                rows.append(
                    {
                        "library": name,
                        "part": "null",
                        "cell": cell,
                        "method": label,
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
            "| library | part | cell | method | n | missed | MRR | R@1 | R@10 |",
            "|---|---|---|---|---:|---:|---:|---:|---:|",
        ]
        for r in rank_rows:
            out.append(
                f"| {r['library']} | {r['part']} | {r['cell']} | {r['method']} | {r['n']} | "
                f"{r['missed']} | {fmt(r['mrr'])} | {fmt(r['r1'])} | {fmt(r['r10'])} |"
            )
        out.append("")
    refusals = [r for r in rows if r["part"] == "refusals"]
    if refusals:
        out += [
            "### Time-split lists with no gene in the old library, one by one through enrich()",
            "",
            "| library | method | lists | refused | same rank as the batch |",
            "|---|---|---:|---:|---:|",
        ]
        for r in refusals:
            out.append(
                f"| {r['library']} | {r['method']} | {r['lists_without_library_gene']} | "
                f"{r['refused']} | {r['same_rank_as_batch']} |"
            )
        out.append("")
    null_rows = [r for r in rows if r["part"] == "null"]
    if null_rows:
        out += [
            "### Null: fraction of random lists with any BH-adjusted p < 0.05",
            "",
            "| library | cell | method | n | null fraction |",
            "|---|---|---|---:|---:|",
        ]
        for r in null_rows:
            out.append(
                f"| {r['library']} | {r['cell']} | {r['method']} | {r['n']} | "
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


def goal_rows(rows) -> list[dict]:
    """Each model test against the issue's three goals."""
    methods = list(
        dict.fromkeys(r["method"] for r in rows if not r["method"].startswith("classical"))
    )
    rec = {(r["library"], r["cell"], r["method"]): r for r in rows if r["part"] == "recovery"}
    out = []
    for method in methods:
        worst, where = np.inf, ""
        for (lib, cell, m), r in rec.items():
            if m != method:
                continue
            c = rec[(lib, cell, "classical")]["mrr"]
            ratio = r["mrr"] / c if c > 0 else np.inf
            if ratio < worst:
                worst, where = ratio, f"{lib} {cell}"
        times = {
            r["library"]: r["mrr"]
            for r in rows
            if r["part"] == "time split" and r["method"] == method
        }
        refused = sum(
            r["refused"] for r in rows if r["part"] == "refusals" and r["method"] == method
        )
        nulls = [r for r in rows if r["part"] == "null" and r["method"] == method]
        worst_null = max(nulls, key=lambda r: r["fraction"]) if nulls else None
        out.append(
            {
                "method": method,
                "recovery_worst": float(worst) if np.isfinite(worst) else None,
                "recovery_worst_cell": where,
                "recovery_met": bool(np.isfinite(worst) and worst >= RECOVERY_GOAL),
                "time_split": times,
                "refused": refused,
                "time_split_met": bool(times)
                and refused == 0
                and all(times.get(lib, 0.0) >= goal for lib, goal in TIME_GOALS.items()),
                "null_max": worst_null["fraction"] if worst_null else None,
                "null_max_cell": f"{worst_null['library']} {worst_null['cell']}"
                if worst_null
                else "",
                "null_met": bool(worst_null) and worst_null["fraction"] <= NULL_GOAL,
            }
        )
    return out


def goals(rows) -> str:
    yes = {True: "**met**", False: "not met"}
    lines = [
        "### Goals per model test (issue 13)",
        "",
        f"| test | recovery: worst cell MRR / classical (goal >= {RECOVERY_GOAL}) | time split "
        "MRR KEGG; GO BP (goal 0.40; 0.15), lists refused | null: worst cell (goal <= "
        f"{NULL_GOAL}) |",
        "|---|---|---|---|",
    ]
    for g in goal_rows(rows):
        ts = "; ".join(fmt(g["time_split"].get(lib)) for lib in TIME_GOALS)
        rec = fmt(g["recovery_worst"]) if g["recovery_worst"] is not None else "-"
        lines.append(
            f"| {g['method']}{' (default)' if g['method'] == DEFAULT_TEST else ''} | "
            f"{rec} ({g['recovery_worst_cell']}): {yes[g['recovery_met']]} | "
            f"{ts}, {g['refused']} refused: {yes[g['time_split_met']]} | "
            f"{fmt(g['null_max'])} ({g['null_max_cell']}): {yes[g['null_met']]} |"
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
    ap.add_argument("--tests", nargs="+", default=list(DEFAULT_TESTS), choices=list(MODEL_TESTS))
    ap.add_argument("--model", default=None, help="model directory or hub id (default: bundled)")
    ap.add_argument("--terms", type=int, default=150, help="sampled terms per library (part 1)")
    ap.add_argument("--null-lists", type=int, default=500, help="random lists per size and kind")
    ap.add_argument(
        "--time-tasks", type=int, default=0, help="max time-split tasks per split (0: all)"
    )
    ap.add_argument("--top", type=int, default=200, help="rows kept per list (deeper: a miss)")
    ap.add_argument("--augment", type=int, default=50, help="N of the augmented/naive tests")
    ap.add_argument("--parts", nargs="+", default=["recovery", "time", "null", "ferroptosis"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks/results/augment_bench.json")
    ap.add_argument("--quick", action="store_true", help="tiny sizes (smoke run)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    logging.getLogger("gsea_plus").setLevel(logging.ERROR)  # per-list gene warnings
    if args.quick:
        args.terms, args.null_lists, args.time_tasks = 6, 8, 12
    start, load, version = time.time(), os.getloadavg(), code_version()
    model = load_model(args.model)
    methods = ["classical", *args.tests]
    rows = []
    for name in args.libraries:
        lib = load_library(str(benchmark_gmt(name)))
        prep = prepare(lib, min_size=MIN_SIZE)
        if "recovery" in args.parts:
            cells = recovery_lists(lib, prep, args.terms, args.seed)
            rows += score_cells(name, "recovery", cells, lib, methods, model, args)
        if "time" in args.parts and name in TIME_SPLITS:
            rows += part_time_split(name, methods, model, args)
        if "null" in args.parts:
            rows += part_null(name, lib, prep, methods, model, args)
        log.info("%s done at %.0f s", name, time.time() - start)
    ferro = part_ferroptosis(model) if "ferroptosis" in args.parts else None
    wall = time.time() - start
    command = "python benchmarks/augment_bench.py " + shlex.join(
        sys.argv[1:] if argv is None else argv
    )
    fingerprint = getattr(model, "fingerprint", "")[:12]
    text = "\n".join(
        [
            f"Command: `{command}`",
            "",
            f"Code: gsea_plus at {version}; model {args.model or 'bundled'} "
            f"(fingerprint {fingerprint}, {len(model.vocab)} genes). Every number through the "
            "public API (enrich_many; enrich for the refusal check).",
            "",
            "Tests: " + "; ".join(f"{t}: {MODEL_TESTS[t].null}" for t in args.tests) + ".",
            "",
            f"Wall time {wall / 60:.1f} min; load average at start {load[0]:.2f} / {load[1]:.2f} / "
            f"{load[2]:.2f} (1/5/15 min), {os.cpu_count()} CPUs.",
            f"Recovery terms per library: {args.terms}; null lists per size and kind: "
            f"{args.null_lists}; time-split tasks at most {args.time_tasks or 'all'}; rows kept "
            f"per list {args.top} (a target below them is a miss); seed {args.seed}.",
            "",
            goals(rows),
            tables(rows, ferro),
        ]
    )
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "command": command,
                "code": version,
                "model": args.model or "bundled",
                "model_fingerprint": getattr(model, "fingerprint", ""),
                "wall_s": wall,
                "loadavg_start": load,
                "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
                "goals": goal_rows(rows),
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
