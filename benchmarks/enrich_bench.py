"""Classical enrichment (issue 2): gsea-plus vs gseapy, whole process and in-process.

One run measures, side by side on the same gene list files and the same background (the
library's genes, the default of both tools):

* whole process, start to exit: ``gsea-plus enrich LIST -l GMT > out.tsv`` with the parsed
  library cache warm and cold (emptied before every run), vs the gseapy CLI
  (``gseapy enrichr -i LIST -g GMT -o DIR --no-plot``) and vs ``python -c`` calling
  ``gseapy.enrich`` (GO BP); plus the cold start of ``gsea-plus --help``; the commands run
  interleaved round-robin (``--timer hyperfine`` runs them one after another instead);
* in-process: ``gsea_plus.enrich(genes, library=path)`` with the library memoized in the
  process, loaded from the binary cache, or parsed from the GMT, vs
  ``gseapy.enrich(gene_list=genes, gene_sets=dict, background=None, outdir=None,
  no_plot=True)`` with the GMT already parsed into a dict (gseapy's cheapest form),
  each gseapy call followed by a few gsea-plus calls;
* parity: the same terms, the same p-values and adjusted p-values (max relative
  difference over shared terms), each tool's odds ratio definition and row order.

GMT files are read in place from ``../shared/data/benchmark`` (never copied), the cache is a
temporary ``GSEA_PLUS_CACHE`` and nothing touches the network. Prints markdown tables for
benchmarks/README.md. Usage::

    python benchmarks/enrich_bench.py --repeats 5
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    BIN,
    REPO,
    Command,
    benchmark_gmt,
    fmt_seconds,
    machine_line,
    markdown_table,
    median,
    read_gmt_sets,
    time_call,
    time_commands,
)

KEGG = "KEGG_2021_Human"
GOBP = "GO_Biological_Process_2023"
SHORT = {KEGG: "KEGG", GOBP: "GO BP"}
GOAL_WHOLE = 3.0  # gsea-plus on GO BP vs the gseapy CLI on KEGG
GOAL_INPROC = 100.0  # gsea_plus.enrich vs gseapy.enrich on GO BP

GSEAPY_PY = (
    "import sys, gseapy; "
    "genes = open(sys.argv[1]).read().split(); "
    "r = gseapy.enrich(gene_list=genes, gene_sets=sys.argv[2], background=None, "
    "outdir=None, no_plot=True); "
    "r.res2d.to_csv(sys.stdout, sep='\\t', index=False)"
)


# --- gene lists -------------------------------------------------------------------------


def make_list(
    rng: random.Random,
    source: dict[str, list[str]],
    universe: list[str],
    *,
    from_term: int = 100,
    n_random: int = 100,
    max_term: int = 400,
) -> tuple[str, list[str]]:
    """``from_term`` genes of a random term with enough genes, plus ``n_random`` others.

    Only all-upper-case symbols are used (nearly all of them): gseapy switches its
    query and background to upper case when the library looks upper-case and the list
    does not, which would compare different tests rather than different tools.
    """
    terms = sorted(
        t
        for t, genes in source.items()
        if from_term <= sum(g == g.upper() for g in set(genes)) <= max_term
    )
    term = rng.choice(terms)
    in_term = sorted({g for g in source[term] if g == g.upper()})
    picked = rng.sample(in_term, from_term)
    others = sorted(set(universe) - set(in_term))
    return term, picked + rng.sample(others, n_random)


# --- parity -----------------------------------------------------------------------------


def rel_diff(a: float, b: float) -> float:
    if a == b:
        return 0.0
    return abs(a - b) / max(abs(a), abs(b))


def max_rel_diff(xs, ys) -> float:
    return max((rel_diff(x, y) for x, y in zip(xs, ys, strict=True)), default=0.0)


def parity(gp, gs, label: str) -> dict:
    """Compare a gsea-plus DataFrame with a gseapy result table over shared terms."""
    gp_terms, gs_terms = list(gp["Term"]), list(gs["Term"])
    shared = sorted(set(gp_terms) & set(gs_terms))
    a = gp.set_index("Term").loc[shared]
    b = gs.set_index("Term").loc[shared]
    p_diff = max_rel_diff(a["P-value"], b["P-value"])
    q_diff = max_rel_diff(a["Adjusted P-value"], b["Adjusted P-value"])
    # gseapy 1.x: Haldane-Anscombe, (a+.5)(d+.5)/((b+.5)(c+.5)); check it from our k, K, n, N.
    k, big_k, n, big_n = (
        a[c].to_numpy(float) for c in ("Overlap Size", "Term Size", "List Size", "Background Size")
    )
    haldane = (k + 0.5) * (big_n - big_k - n + k + 0.5) / ((big_k - k + 0.5) * (n - k + 0.5))
    or_def = max_rel_diff(haldane, b["Odds Ratio"])
    or_vs = max_rel_diff(a["Odds Ratio"], b["Odds Ratio"])
    log10p = gp["Log10 P-value"].to_numpy()
    return {
        "label": label,
        "gp_rows": len(gp_terms),
        "gs_rows": len(gs_terms),
        "shared": len(shared),
        "p": p_diff,
        "q": q_diff,
        "or_haldane": or_def,
        "or_vs": or_vs,
        "gs_alpha": gs_terms == sorted(gs_terms),
        "gp_by_p": bool((log10p[1:] >= log10p[:-1]).all()),
        "min_p": float(a["P-value"].min()) if shared else math.nan,
    }


def import_profile(gene_list: Path, gmt: Path, env: dict[str, str]) -> str:
    """Top-level import cost of one warm ``gsea-plus enrich`` run (``python -X importtime``)."""
    code = (
        "import sys; from gsea_plus.cli import main; "
        f"sys.argv = ['gsea-plus', 'enrich', {str(gene_list)!r}, '-l', {str(gmt)!r}]; main()"
    )
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    top = []
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\S.*)$", line)
        if m:  # no indentation: imported by the program itself, not by another module
            top.append((int(m.group(1)), m.group(2)))
    total = sum(us for us, _ in top)
    top.sort(reverse=True)
    rows = [[name, f"{us / 1e3:.0f} ms"] for us, name in top[:8]]
    return (
        f"Imports of one warm `gsea-plus enrich LIST -l GO_BP.gmt` (python -X importtime, "
        f"one run): {total / 1e3:.0f} ms in all; largest top-level imports:\n\n"
        + markdown_table(["module (with what it imports)", "cumulative"], rows)
    )


def git_describe() -> str:
    """Commit of the checkout, marked dirty when tracked files differ from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "commit unknown"
    return f"commit {head}" + (" (working tree with uncommitted edits)" if dirty else "")


def read_tsv(path: Path):
    import pandas as pd

    return pd.read_csv(path, sep="\t")


# --- main -------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=5, help="timed runs per measurement (>= 5)")
    ap.add_argument(
        "--fast-repeats",
        type=int,
        default=30,
        help="timed runs of the millisecond in-process gsea-plus calls",
    )
    ap.add_argument(
        "--timer",
        choices=("python", "hyperfine", "auto"),
        default="python",
        help="python: the commands interleaved round-robin (default; robust to load that "
        "changes during the run); hyperfine: one command after another; auto: hyperfine "
        "if installed",
    )
    ap.add_argument("--seed", type=int, default=0, help="seed of the gene lists")
    ap.add_argument(
        "--profile",
        action="store_true",
        help="also print where `gsea-plus enrich` spends its import time",
    )
    ap.add_argument("--keep", action="store_true", help="keep the temporary work folder")
    args = ap.parse_args(argv)
    started = time.perf_counter()
    given = sys.argv[1:] if argv is None else argv
    command = "python benchmarks/enrich_bench.py " + " ".join(given)

    paths = {KEGG: benchmark_gmt(KEGG), GOBP: benchmark_gmt(GOBP)}
    sets = {name: read_gmt_sets(p) for name, p in paths.items()}
    universe = sorted({g for s in sets.values() for gs in s.values() for g in gs if g == g.upper()})
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="enrich_bench_"))
    cache = work / "cache"
    env = {"GSEA_PLUS_CACHE": str(cache), "GSEA_PLUS_OFFLINE": "1", "MPLBACKEND": "Agg"}
    os.environ.update(env)
    lists: dict[str, tuple[str, list[str], Path]] = {}
    for key, src in (("A", KEGG), ("B", GOBP)):
        term, genes = make_list(rng, sets[src], universe)
        path = work / f"list_{key}.txt"
        path.write_text("\n".join(genes) + "\n")
        lists[key] = (f"{SHORT[src]} term '{term}'", genes, path)
    print(f"# {command}\n# {machine_line()}\n# work folder: {work}", file=sys.stderr)
    for key, (desc, _, _) in lists.items():
        print(f"# list {key}: 100 genes of {desc} + 100 random library genes", file=sys.stderr)

    # --- whole process ---------------------------------------------------------------
    list_a = lists["A"][2]
    gsea_plus_bin, gseapy_bin = str(BIN / "gsea-plus"), str(BIN / "gseapy")
    wipe = ["rm", "-rf", str(cache / "parsed")]
    cmds = []
    for lib in (GOBP, KEGG):
        s = SHORT[lib].replace(" ", "")
        base = [gsea_plus_bin, "enrich", str(list_a), "-l", str(paths[lib])]
        cmds.append(Command(f"gp-warm-{s}", base, stdout=work / f"gp_{s}.tsv", env=env))
        cmds.append(
            Command(
                f"gp-cold-{s}",
                base,
                stdout=work / f"gp_cold_{s}.tsv",
                prepare=wipe,
                env=env,
                warmup=0,
            )
        )
        cmds.append(
            Command(
                f"gseapy-cli-{s}",
                [
                    gseapy_bin,
                    "enrichr",
                    "-i",
                    str(list_a),
                    "-g",
                    str(paths[lib]),
                    "-o",
                    str(work / f"gseapy_cli_{s}"),
                    "--no-plot",
                ],
                env=env,
                warmup=0,
            )
        )
    # gseapy's CLI and gseapy.enrich run the same code; one library is enough to show
    # the difference (and keeps the script under 3 minutes).
    cmds.append(
        Command(
            "gseapy-py-GOBP",
            [sys.executable, "-c", GSEAPY_PY, str(list_a), str(paths[GOBP])],
            stdout=work / "gseapy_py_GOBP.tsv",
            env=env,
            warmup=0,
        )
    )
    cmds.append(Command("gp-help", [gsea_plus_bin, "--help"], env=env))
    cmds.append(Command("python-pass", [sys.executable, "-c", "pass"], env=env))
    whole, timer = time_commands(cmds, args.repeats, timer=args.timer)
    wm = {k: median(v) for k, v in whole.items()}
    print(f"# whole process timed with {timer}", file=sys.stderr)

    # --- in-process ------------------------------------------------------------------
    import gseapy

    import gsea_plus
    import gsea_plus.library as gl

    logging.getLogger("gsea_plus").setLevel(logging.ERROR)  # the unmatched-genes warning

    def gp_call(genes, lib):
        return gsea_plus.enrich(genes, library=str(paths[lib]))

    def gs_call(genes, lib):
        with contextlib.redirect_stdout(io.StringIO()):
            return gseapy.enrich(
                gene_list=genes,
                gene_sets=sets[lib],
                background=None,
                outdir=None,
                no_plot=True,
            )

    def forget():
        gl._MEMO.clear()

    def forget_and_wipe():
        gl._MEMO.clear()
        shutil.rmtree(cache / "parsed", ignore_errors=True)

    inproc: dict[tuple, float] = {}
    results: dict[tuple, tuple] = {}
    per_peer = max(1, args.fast_repeats // args.repeats)
    for lib in (GOBP, KEGG):
        gp_call(lists["A"][1], lib)  # fill the memo and the binary cache
        for key, (_, genes, _) in lists.items():
            # Interleaved: each gseapy call is followed by a few gsea-plus calls, so a
            # change in background load hits both sides of the ratio alike.
            gp_times, gs_times = [], []
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                gs_res = gs_call(genes, lib)
                gs_times.append(time.perf_counter() - t0)
                for _ in range(per_peer):
                    t0 = time.perf_counter()
                    gp_res = gp_call(genes, lib)
                    gp_times.append(time.perf_counter() - t0)
            inproc["gp-memo", lib, key] = median(gp_times)
            inproc["gs-dict", lib, key] = median(gs_times)
            results[lib, key] = (gp_res, gs_res.res2d)
        genes = lists["A"][1]
        inproc["gp-binary", lib, "A"] = median(
            time_call(lambda g=genes, lb=lib: gp_call(g, lb), args.fast_repeats, before=forget)
        )
        inproc["gp-parse", lib, "A"] = median(
            time_call(lambda g=genes, lb=lib: gp_call(g, lb), args.repeats, before=forget_and_wipe)
        )
        gp_call(genes, lib)  # leave the cache populated

    # --- parity ----------------------------------------------------------------------
    checks = [
        parity(*results[lib, key], f"in-process, list {key}, {SHORT[lib]}")
        for lib in (GOBP, KEGG)
        for key in lists
    ]
    for lib in (GOBP, KEGG):
        s = SHORT[lib].replace(" ", "")
        cli_report = next((work / f"gseapy_cli_{s}").glob("*.reports.txt"))
        checks.append(
            parity(
                read_tsv(work / f"gp_{s}.tsv"),
                read_tsv(cli_report),
                f"CLI output files, list A, {SHORT[lib]}",
            )
        )
        gp_n = int(read_tsv(work / f"gp_{s}.tsv")["Background Size"].iloc[0])
        universe_n = len({g for gs in sets[lib].values() for g in gs})
        found = [
            re.search(r"Use all (\d+) genes", f.read_text())
            for f in (work / f"gseapy_cli_{s}").glob("*.log")
        ]
        gs_n = next((m.group(1) for m in found if m), "?")
        checks[-1]["bg"] = f"gsea-plus N={gp_n}, gseapy CLI N={gs_n}, genes in the GMT {universe_n}"

    # --- report ----------------------------------------------------------------------
    def row(what, gp_key, peer, peer_key, goal=None, src=wm):
        g, p = src[gp_key], src[peer_key]
        ratio = p / g
        met = "" if goal is None else ("yes" if ratio >= goal else "**no**")
        return [
            what,
            fmt_seconds(g),
            peer,
            fmt_seconds(p),
            f"{ratio:.1f}x",
            "" if goal is None else f">= {goal:g}x",
            met,
        ]

    head = [
        "what",
        "gsea-plus median",
        "peer",
        "peer median",
        "ratio (peer / gsea-plus)",
        "goal",
        "met?",
    ]
    rows = [
        row(
            "whole process, GO BP, cache warm",
            "gp-warm-GOBP",
            "gseapy CLI, **KEGG**",
            "gseapy-cli-KEGG",
            GOAL_WHOLE,
        ),
        row(
            "whole process, GO BP, cache warm",
            "gp-warm-GOBP",
            "gseapy CLI, GO BP",
            "gseapy-cli-GOBP",
        ),
        row(
            "whole process, GO BP, cache cold",
            "gp-cold-GOBP",
            "gseapy CLI, GO BP",
            "gseapy-cli-GOBP",
        ),
        row(
            "whole process, GO BP, cache warm",
            "gp-warm-GOBP",
            "python -c gseapy.enrich, GO BP",
            "gseapy-py-GOBP",
        ),
        row(
            "whole process, KEGG, cache warm", "gp-warm-KEGG", "gseapy CLI, KEGG", "gseapy-cli-KEGG"
        ),
        row(
            "whole process, KEGG, cache cold", "gp-cold-KEGG", "gseapy CLI, KEGG", "gseapy-cli-KEGG"
        ),
        [
            "cold start, `gsea-plus --help`",
            fmt_seconds(wm["gp-help"]),
            "`python -c pass` (interpreter alone)",
            fmt_seconds(wm["python-pass"]),
            "",
            "",
            "",
        ],
    ]
    ip = {f"{a}|{b}|{c}": v for (a, b, c), v in inproc.items()}
    for lib in (GOBP, KEGG):
        goal = GOAL_INPROC if lib == GOBP else None
        sl = SHORT[lib]
        for key in lists:
            rows.append(
                row(
                    f"in-process, {sl}, list {key}, library memoized",
                    f"gp-memo|{lib}|{key}",
                    "gseapy.enrich(dict)",
                    f"gs-dict|{lib}|{key}",
                    goal,
                    src=ip,
                )
            )
        rows.append(
            row(
                f"in-process, {sl}, list A, library loaded from binary cache",
                f"gp-binary|{lib}|A",
                "gseapy.enrich(dict)",
                f"gs-dict|{lib}|A",
                src=ip,
            )
        )
        rows.append(
            row(
                f"in-process, {sl}, list A, parse GMT + write cache",
                f"gp-parse|{lib}|A",
                "gseapy.enrich(dict)",
                f"gs-dict|{lib}|A",
                src=ip,
            )
        )

    prow = []
    for c in checks:
        prow.append(
            [
                c["label"],
                f"{c['gp_rows']} / {c['gs_rows']} / {c['shared']}",
                f"{c['p']:.1e}",
                f"{c['q']:.1e}",
                f"{c['min_p']:.1e}",
                f"{c['or_haldane']:.1e}",
                f"{c['or_vs']:.2f}",
                "yes" if c["gs_alpha"] else "no",
                "yes" if c["gp_by_p"] else "no",
            ]
        )
    phead = [
        "comparison",
        "rows gsea-plus / gseapy / shared",
        "max rel diff P",
        "max rel diff adj P",
        "smallest P",
        "gseapy OR vs Haldane(+0.5) from our k,K,n,N",
        "max rel diff OR (Enrichr vs gseapy def.)",
        "gseapy rows alphabetical",
        "gsea-plus rows by P",
    ]

    elapsed = time.perf_counter() - started
    print(
        f"Command: `{command.strip()}` ({timer}; {args.repeats} runs per whole-process and "
        f"gseapy measurement, {args.fast_repeats} per millisecond gsea-plus call; "
        f"total {elapsed:.0f} s)  "
    )
    print(f"Machine: {machine_line()}  ")
    print(f"gsea-plus: {git_describe()}; gseapy {gseapy.__version__}  ")
    for key, (desc, _, _) in lists.items():
        print(f"List {key}: 100 genes of {desc} + 100 random library genes (seed {args.seed}).  ")
    print()
    print(markdown_table(head, rows))
    print("\nParity on the same list and the same background (the library's genes):\n")
    print(markdown_table(phead, prow))
    bgs = "; ".join(f"{c['label'].split(', ')[-1]}: {c['bg']}" for c in checks if "bg" in c)
    print(
        f"\nBackground (whole-process runs): {bgs}. gseapy's CLI report rounds to 7 "
        "significant digits (`%.6e`), which bounds its agreement at ~5e-7."
    )
    if args.profile:
        print("\n" + import_profile(list_a, paths[GOBP], env))
    if args.keep:
        print(f"# kept {work}", file=sys.stderr)
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
