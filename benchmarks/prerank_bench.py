"""Preranked enrichment (issue 12): gsea-plus against blitzgsea and gseapy, with p-values.

The signature is ``../shared/data/signatures/ageing_muscle_gtex.tsv`` (14,686 genes, a
GTEx muscle ageing statistic); the libraries are MSigDB_Hallmark_2020 and
GO_Biological_Process_2023 (GMT files read in place). Every tool runs in a fresh process
that reports its import time, its first run and a rerun in the same process:

* gsea-plus: ``gsea_plus.prerank(signature, gmt)`` (min 5, max 1000 genes, 2,000 random
  sets per anchor, 30 anchors); and the whole ``gsea-plus prerank SIG -l GMT -o out.tsv``;
* blitzgsea 1.3: ``blitz.gsea(signature, library, permutations=2000, min_size=5,
  max_size=1000, center=False, processes=1)`` (GSEA's running sum on the scores as they
  are, one process; its first run compiles numba code), and with ``processes=4`` (its
  default) for the first run only;
* gseapy 1.3: ``gseapy.prerank(rnk, gene_sets, permutation_num=1000, min_size=5,
  max_size=1000, threads=2)`` (permutation p-values, resolution 1/1000).

P-values are compared term by term with blitzgsea's (the same test, a fitted null) and
gseapy's: Spearman correlation of log10 p, and the median and 90th percentile of
|log10 p - log10 p_blitz| over terms with both p > 1e-10. Usage::

    python benchmarks/prerank_bench.py
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    REPO,
    SHARED_DATA,
    benchmark_gmt,
    compile_tree,
    machine_line,
    markdown_table,
)

SIGNATURE = SHARED_DATA / "signatures" / "ageing_muscle_gtex.tsv"
CLI = "import sys; sys.argv = ['gsea-plus'] + sys.argv[1:]; from gsea_plus.cli import main; main()"

WORKER = r"""
import json, sys, time
t0 = time.perf_counter()
tool, gmt, out = sys.argv[1], sys.argv[2], sys.argv[3]
import pandas as pd
sig = pd.read_csv(sys.argv[4])
sig.columns = ["gene", "score"]
def gmt_dict(path):
    d = {}
    for line in open(path):
        f = line.rstrip("\n").split("\t")
        if len(f) > 2:
            d[f[0]] = [g for g in f[2:] if g]
    return d
if tool == "gsea-plus":
    from gsea_plus.prerank import prerank
    imported = time.perf_counter() - t0
    def run():
        r = prerank(dict(zip(sig.gene, sig.score)), gmt)
        return dict(zip(r["Term"], r["P-value"]))
elif tool.startswith("blitzgsea"):
    import blitzgsea as blitz
    imported = time.perf_counter() - t0
    lib = gmt_dict(gmt)
    frame = pd.DataFrame({0: sig.gene.str.upper(), 1: sig.score})
    processes = int(tool.split("-")[1])
    # blitzgsea 1.3.54 calls estimate_anchor without ks_disable when processes == 1 (a
    # TypeError); pass its default (False), as the multi-process path does
    _anchor = blitz.estimate_anchor
    def _estimate_anchor(*args):
        return _anchor(*args) if len(args) == 8 else _anchor(*args, False)
    blitz.estimate_anchor = _estimate_anchor
    def run():
        r = blitz.gsea(frame, lib, permutations=2000, min_size=5, max_size=1000,
                       center=False, processes=processes)
        return dict(zip(r.index, r["pval"]))
elif tool == "gseapy":
    import gseapy
    imported = time.perf_counter() - t0
    lib = gmt_dict(gmt)
    rnk = pd.DataFrame({0: sig.gene.str.upper(), 1: sig.score})
    def run():
        r = gseapy.prerank(rnk=rnk, gene_sets=lib, permutation_num=1000, min_size=5,
                           max_size=1000, threads=2, outdir=None, no_plot=True, seed=0)
        res = r.res2d
        return dict(zip(res["Term"], res["NOM p-val"].astype(float)))
t1 = time.perf_counter(); p = run(); first = time.perf_counter() - t1
second = None
if sys.argv[5] == "1":
    t2 = time.perf_counter(); run(); second = time.perf_counter() - t2
json.dump(p, open(out, "w"))
print(json.dumps({"import": imported, "first": first, "rerun": second}))
"""


def worker(tool: str, gmt: Path, work: Path, rerun: bool) -> dict:
    out = work / f"{tool}-{gmt.stem}.json"
    env = dict(os.environ, PYTHONPATH=str(REPO), GSEA_PLUS_CACHE=str(work / "cache"))
    t0 = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-P",
            "-c",
            WORKER,
            tool,
            str(gmt),
            str(out),
            str(SIGNATURE),
            "1" if rerun else "0",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{tool} failed: {proc.stderr[-2000:]}")
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    res["process"] = time.perf_counter() - t0
    res["p"] = json.loads(out.read_text())
    return res


def compare(a: dict, b: dict) -> tuple[int, float, float, float]:
    import numpy as np
    from scipy.stats import spearmanr

    shared = [t for t in a if t in b and a[t] > 1e-10 and b[t] > 1e-10]
    x = np.log10([a[t] for t in shared])
    y = np.log10([b[t] for t in shared])
    d = np.abs(x - y)
    return (
        len(shared),
        float(spearmanr(x, y).statistic),
        float(np.median(d)),
        float(np.quantile(d, 0.9)),
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-gseapy", action="store_true")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="prerank_"))
    compile_tree(REPO)
    print(f"# {machine_line()}", flush=True)
    rows = []
    agree = []
    for name in ("MSigDB_Hallmark_2020", "GO_Biological_Process_2023"):
        gmt = benchmark_gmt(name)
        res = {}
        for tool in ("gsea-plus", "blitzgsea-1", "blitzgsea-4", "gseapy"):
            if tool == "gseapy" and args.no_gseapy:
                continue
            res[tool] = worker(tool, gmt, work, rerun=tool in ("gsea-plus", "blitzgsea-1"))
            r = res[tool]
            rerun = f"{r['rerun']:.2f} s" if r["rerun"] is not None else ""
            rows.append(
                [
                    name,
                    tool,
                    f"{r['import']:.2f} s",
                    f"{r['first']:.2f} s",
                    rerun,
                    f"{r['process']:.2f} s",
                ]
            )
            print(" | ".join(rows[-1]), flush=True)
        cli = [sys.executable, "-P", "-c", CLI]
        env = dict(os.environ, PYTHONPATH=str(REPO), GSEA_PLUS_CACHE=str(work / "cache"))
        t0 = time.perf_counter()
        subprocess.run(
            [*cli, "prerank", str(SIGNATURE), "-l", str(gmt), "-o", str(work / "p.tsv")],
            env=env,
            check=True,
            capture_output=True,
        )
        rows.append(
            [name, "gsea-plus CLI, whole process", "", "", "", f"{time.perf_counter() - t0:.2f} s"]
        )
        ours = res["gsea-plus"]["p"]
        for peer in ("blitzgsea-1", "gseapy"):
            if peer in res:
                n, rho, med, q90 = compare(ours, res[peer]["p"])
                agree.append(
                    [
                        name,
                        f"gsea-plus vs {peer}",
                        f"{n:,}",
                        f"{rho:.3f}",
                        f"{med:.3f}",
                        f"{q90:.3f}",
                    ]
                )
        n, rho, med, q90 = compare(res["blitzgsea-1"]["p"], res["blitzgsea-4"]["p"])
        agree.append(
            [
                name,
                "blitzgsea 1 vs 4 processes (its own run-to-run spread)",
                f"{n:,}",
                f"{rho:.3f}",
                f"{med:.3f}",
                f"{q90:.3f}",
            ]
        )
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\nLoad average at the end: {load}\n")
    print(
        markdown_table(["library", "tool", "import", "first run", "rerun", "whole process"], rows)
    )
    print()
    print(
        markdown_table(
            [
                "library",
                "p-values",
                "terms (p > 1e-10 in both)",
                "Spearman (log10 p)",
                "median abs log10 ratio",
                "90th percentile",
            ],
            agree,
        )
    )


if __name__ == "__main__":
    main()
