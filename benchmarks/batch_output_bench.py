"""Batch with its outputs (issue 12.1): all rows to TSV and Parquet, and ``--top 20``.

Whole process, start to exit: ``gsea-plus batch LISTS.gmt -l GMT -o out.{tsv,parquet}``
(every term with overlap >= 1, as Enrichr reports) and ``... --top 20 -o out.tsv``, for
1 to 10,000 lists (``--sizes``) against KEGG_2021_Human and GO_Biological_Process_2023,
plus ``--big`` lists (100,000) to Parquet on GO BP: the streaming and memory check. Lists
come from ``make_lists.py`` (200 genes: 100 from one term + 100 random, seed 0; the first
N lists of one seeded set at every size). Each run: wall, user + system CPU and peak
resident memory (``/usr/bin/time``), rows and file size; medians of ``--repeats`` (one
run from ``--single-above`` lists on). The parsed-library cache is warm.

Peers, in the same run (their numbers from ``batch_bench.py``'s workers, in-process, the
GMT pre-parsed, imports excluded): ``gseapy.enrich`` looped over lists (the per-list
median of ``--gseapy-sample`` lists, times N) and pfex 0.1.13's batch mode
(``pfex.enrichment.fisher``, measured up to ``--pfex-max`` lists, linear beyond).
``--baseline DIR`` runs the same gsea-plus commands from another tree (an export of main)
up to ``--baseline-max`` lists, interleaved with this tree's.

Usage::

    python benchmarks/batch_output_bench.py --workdir /tmp/bob [--baseline /tmp/base]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    REPO,
    benchmark_gmt,
    compile_tree,
    fmt_s,
    machine_line,
    markdown_table,
    measured,
    read_gmt_sets,
)
from make_lists import make_lists, write  # noqa: E402

LIBRARIES = ["KEGG_2021_Human", "GO_Biological_Process_2023"]
CLI = "import sys; sys.argv = ['gsea-plus'] + sys.argv[1:]; from gsea_plus.cli import main; main()"
MODES = {
    "all rows, TSV": ("tsv", []),
    "all rows, Parquet": ("parquet", []),
    "--top 20, TSV": ("tsv", ["--top", "20"]),
}


def peer(tool: str, gmt: Path, lists: Path, n: int, sample: int) -> dict:
    argv = [
        sys.executable,
        str(Path(__file__).resolve().parent / "batch_bench.py"),
        "--worker",
        tool,
        str(gmt),
        str(lists),
        str(n),
        "1",
        str(sample),
    ]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    res = measured(argv, env, keep_stdout=True)
    data = json.loads(res["out"].decode().strip().splitlines()[-1])
    return {
        "time": statistics.median(data["times"]),
        "measured": data["measured"],
        "rss": res["rss"],
    }


def ratio(x: float) -> str:
    return f"{x:,.0f}x" if x >= 10 else f"{x:.2f}x"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1, 100, 1000, 10000])
    ap.add_argument("--big", type=int, default=100_000)
    ap.add_argument("--no-big", action="store_true")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--single-above", type=int, default=5000)
    ap.add_argument("--gseapy-sample", type=int, default=3)
    ap.add_argument("--pfex-max", type=int, default=1000)
    ap.add_argument("--baseline", type=Path)
    ap.add_argument("--baseline-max", type=int, default=1000)
    ap.add_argument("--libraries", nargs="+", default=LIBRARIES)
    ap.add_argument("--workdir", type=Path)
    args = ap.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="batch_output_"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"# {machine_line()}; work dir {work}", flush=True)
    trees = {"gsea-plus": REPO}
    if args.baseline:
        trees["baseline"] = args.baseline.resolve()
    for tree in trees.values():
        compile_tree(tree)
    rows = []
    for lib in args.libraries:
        gmt = benchmark_gmt(lib)
        sizes = sorted(
            set(args.sizes) | ({args.big} if lib == LIBRARIES[1] and not args.no_big else set())
        )
        all_lists = make_lists(read_gmt_sets(gmt), max(sizes), seed=0)
        files = {}
        for n in sizes:
            files[n] = work / f"{lib}_{n}.gmt"
            if not files[n].is_file():
                write(dict(list(all_lists.items())[:n]), files[n], "gmt")
        del all_lists
        # peers: gseapy per list (sampled), pfex batch (measured up to pfex_max)
        gp = peer("gseapy", gmt, files[sizes[-1]], args.gseapy_sample, args.gseapy_sample)
        per_list_gseapy = gp["time"] / args.gseapy_sample
        pf_n = min(args.pfex_max, max(s for s in sizes if s <= args.pfex_max))
        pf = peer("pfex", gmt, files[pf_n], pf_n, 0)
        per_list_pfex = pf["time"] / pf_n
        print(
            f"{lib}: gseapy {per_list_gseapy:.3f} s/list; pfex {per_list_pfex * 1e3:.2f} ms/list "
            f"(measured on {pf_n})",
            flush=True,
        )
        for n in sizes:
            for mode, (ext, extra) in MODES.items():
                if n == args.big and n not in args.sizes and mode != "all rows, Parquet":
                    continue  # the big run: Parquet only (TSV would be ~40 GB)
                repeats = 1 if n > args.single_above else args.repeats
                results: dict[str, list] = {}
                for _ in range(repeats):
                    for label, tree in trees.items():
                        if label == "baseline" and n > args.baseline_max:
                            continue
                        env = dict(
                            os.environ,
                            PYTHONPATH=str(tree),
                            GSEA_PLUS_CACHE=str(work / f"cache-{label}"),
                            GSEA_PLUS_OFFLINE="1",
                        )
                        out = work / f"out-{label}.{ext}"
                        argv = [
                            sys.executable,
                            "-P",
                            "-c",
                            CLI,
                            "batch",
                            str(files[n]),
                            "-l",
                            str(gmt),
                        ]
                        argv += [*extra, "-o", str(out)]
                        if not results.get(label) and repeats > 1:
                            measured(argv, env)  # warm-up: parsed-library cache, page cache
                        r = measured(argv, env)
                        r["bytes"] = out.stat().st_size
                        if ext == "tsv":
                            with open(out, "rb") as fh:
                                r["rows"] = (
                                    sum(
                                        block.count(b"\n")
                                        for block in iter(lambda: fh.read(1 << 24), b"")
                                    )
                                    - 1
                                )
                        out.unlink()
                        results.setdefault(label, []).append(r)
                for label, rs in results.items():
                    wall = statistics.median(r["wall"] for r in rs)
                    cpu = statistics.median(r["cpu"] for r in rs)
                    peak = max(r["rss"] for r in rs)
                    gseapy_total = per_list_gseapy * n
                    pfex_total = per_list_pfex * n
                    rows.append(
                        [
                            lib,
                            f"{n:,}",
                            mode,
                            label,
                            fmt_s(wall),
                            fmt_s(cpu),
                            f"{peak:,.0f} MB",
                            f"{rs[0].get('rows', '')}" if rs[0].get("rows") is not None else "",
                            f"{rs[0]['bytes'] / 2**20:,.0f} MB",
                            ratio(gseapy_total / wall),
                            ratio(pfex_total / wall),
                        ]
                    )
                    print(" | ".join(rows[-1]), flush=True)
        rows.append(
            [
                lib,
                "",
                "peers (in-process)",
                f"gseapy.enrich {per_list_gseapy:.3f} s/list (sample of {args.gseapy_sample}), "
                f"peak {gp['rss']:,.0f} MB; pfex batch {per_list_pfex * 1e3:.2f} ms/list "
                f"(measured on {pf_n:,}), peak {pf['rss']:,.0f} MB",
                *[""] * 7,
            ]
        )
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\nLoad average at the end: {load}\n")
    print(
        markdown_table(
            [
                "library",
                "lists",
                "output",
                "tree",
                "wall",
                "CPU",
                "peak RSS",
                "rows",
                "file",
                "looped gseapy.enrich / wall",
                "pfex batch / wall",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    main()
