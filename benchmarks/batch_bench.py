"""Batch enrichment (issue 5): gsea-plus batch vs gseapy.enrich in a loop vs pfex's batch
mode vs goatools, on KEGG_2021_Human and GO_Biological_Process_2023.

Lists come from ``make_lists.py`` (200 genes: 100 from one term + 100 random, seed 0);
the first N lists of the same seeded set are used at every size. Every measurement runs in
its own process; wall time and peak resident memory (GNU ``/usr/bin/time -f %M``) are
taken per process, the reported time is the median of ``--repeats`` runs.

* ``gsea-plus CLI``: whole process, ``gsea-plus batch LISTS.gmt -l GMT --top 20 -o out.tsv``
  (start to exit, library parse cache warm).
* ``gsea-plus API``: in-process ``iter_enrich_many`` over the lists, computing every row
  (all terms with overlap >= 1, gene strings included), nothing written.
* ``gseapy``: in-process ``gseapy.enrich(gene_list, gene_sets=dict, background=None,
  outdir=None, no_plot=True)`` per list (the GMT pre-parsed into a dict: gseapy's fastest
  form); above ``--gseapy-sample`` lists the per-list median of a sample is multiplied
  out (marked *extrapolated*).
* ``pfex``: in-process ``pfex.enrichment.fisher({name: set}, library, background_size=N,
  min_set_size=1, min_overlap=1)`` (its batch mode; numba JIT warmed up first, untimed);
  above ``--pfex-max`` lists extrapolated linearly from that many.
* ``goatools``: in-process ``GOEnrichmentStudy(...).run_study(list)`` per list, with a flat
  ontology written from the GMT's terms (``propagate_counts=False``, fdr_bh), as goatools
  needs an OBO DAG; extrapolated from ``--goatools-sample`` lists.

Usage::

    python benchmarks/batch_bench.py                  # everything (~15 min on 2 cores)
    python benchmarks/batch_bench.py --sizes 1 100 --no-big --no-dask   # quick look
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    BIN,
    benchmark_gmt,
    fmt_s,
    machine_line,
    markdown_table,
    median,
    read_gmt_sets,
)
from make_lists import make_lists, write  # noqa: E402

LIBRARIES = ["KEGG_2021_Human", "GO_Biological_Process_2023"]
GSEA_PLUS = str(BIN / "gsea-plus")


# ----------------------------------------------------------------------------- processes


def run_measured(argv: list[str], *, env: dict | None = None) -> tuple[float, float, str]:
    """Run a process; return (wall seconds, peak RSS in MB, stdout).

    Peak RSS comes from GNU time (``/usr/bin/time -f %M``): a small launcher, so the
    measured process does not inherit this script's memory in its own peak (a child
    forked from a big parent starts with the parent's pages in ``ru_maxrss``).
    """
    with tempfile.TemporaryDirectory() as tmp:
        usage = Path(tmp) / "usage"
        out_path = Path(tmp) / "stdout"
        launcher = ["/usr/bin/time", "-f", "%M", "-o", str(usage)]
        with open(out_path, "wb") as out:
            t0 = time.perf_counter()
            proc = subprocess.run([*launcher, *argv], stdout=out, stderr=subprocess.PIPE, env=env)
            wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise RuntimeError(
                f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.decode()[-2000:]}"
            )
        rss_kb = float(usage.read_text().split()[-1])
        return wall, rss_kb / 1024, out_path.read_text()


def worker_argv(tool: str, gmt: Path, lists: Path, n: int, repeats: int, sample: int) -> list[str]:
    return [
        sys.executable,
        __file__,
        "--worker",
        tool,
        str(gmt),
        str(lists),
        str(n),
        str(repeats),
        str(sample),
    ]


def measure_worker(tool, gmt, lists, n, repeats, sample) -> dict:
    _, rss, out = run_measured(worker_argv(tool, gmt, lists, n, repeats, sample))
    res = json.loads(out.strip().splitlines()[-1])
    res["rss_mb"] = rss
    return res


# ----------------------------------------------------------------------------- workers


def _read_lists(path: Path, n: int) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    with open(path) as fh:
        for line in fh:
            if len(out) >= n:
                break
            parts = line.rstrip("\n").split("\t")
            out[parts[0]] = parts[2:]
    return out


def worker(tool: str, gmt: Path, lists_path: Path, n: int, repeats: int, sample: int) -> None:
    """Time one tool in this process; print JSON {times, measured, n}."""
    lists = _read_lists(lists_path, n)
    measured = min(n, sample) if sample else n
    subset = dict(list(lists.items())[:measured])
    quiet = contextlib.redirect_stdout(io.StringIO())
    quiet_err = contextlib.redirect_stderr(io.StringIO())
    if tool == "gsea-plus-api":
        import gsea_plus
        from gsea_plus.api import iter_enrich_many

        lib = gsea_plus.load_library(gmt)

        def run():
            rows = 0
            for res in iter_enrich_many(subset, library=lib):
                rows += len(res.table["Term"])
            return rows
    elif tool.startswith(("dask-warm-", "local-warm")):
        import gsea_plus
        from gsea_plus.api import iter_enrich_many

        lib = gsea_plus.load_library(gmt)
        engine = "local"
        if tool.startswith("dask-warm-"):
            import distributed

            from gsea_plus.distributed import DaskEngine

            cluster = distributed.LocalCluster(
                n_workers=int(tool.rsplit("-", 1)[1]),
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                host="127.0.0.1",
            )
            client = distributed.Client(cluster)
            engine = DaskEngine(client=client)
            # warm-up: worker imports, one broadcast
            for _ in iter_enrich_many(
                dict(list(lists.items())[:50]), library=lib, top=20, engine=engine
            ):
                pass

        def run():
            rows = 0
            for res in iter_enrich_many(subset, library=lib, top=20, engine=engine):
                rows += len(res.table["Term"])
            return rows
    elif tool == "gseapy":
        import gseapy

        sets = read_gmt_sets(gmt)

        def run():
            rows = 0
            for genes in subset.values():
                r = gseapy.enrich(
                    gene_list=genes, gene_sets=sets, background=None, outdir=None, no_plot=True
                )
                rows += len(r.results)
            return rows
    elif tool == "pfex":
        import pfex.enrichment as pe

        library = {t: {g.upper() for g in gs} for t, gs in read_gmt_sets(gmt).items()}
        big_n = len(set().union(*library.values()))
        with quiet_err:  # JIT compilation, untimed
            pe.fisher(
                {"warm": set(next(iter(lists.values())))},
                library,
                background_size=big_n,
                min_set_size=1,
                min_overlap=1,
            )

        def run():
            with contextlib.redirect_stderr(io.StringIO()):  # tqdm
                res = pe.fisher(
                    {k: set(v) for k, v in subset.items()},
                    library,
                    background_size=big_n,
                    min_set_size=1,
                    min_overlap=1,
                )
            return sum(len(r) for r in res.values())
    elif tool == "goatools":
        from goatools.go_enrichment import GOEnrichmentStudy
        from goatools.obo_parser import GODag

        sets = read_gmt_sets(gmt)
        ids = {t: f"GO:{i:07d}" for i, t in enumerate(sets)}
        with tempfile.NamedTemporaryFile("w", suffix=".obo", delete=False) as obo:
            obo.write("format-version: 1.2\n\n")
            for t, i in ids.items():
                name = t.replace("\n", " ")
                obo.write(f"[Term]\nid: {i}\nname: {name}\nnamespace: biological_process\n\n")
        assoc: dict[str, set[str]] = {}
        for t, gs in sets.items():
            for g in gs:
                assoc.setdefault(g.upper(), set()).add(ids[t])
        with quiet:
            dag = GODag(obo.name, prt=None)
            study = GOEnrichmentStudy(
                sorted(assoc),
                assoc,
                dag,
                propagate_counts=False,
                alpha=0.05,
                methods=["fdr_bh"],
                log=None,
            )
        os.unlink(obo.name)

        def run():
            rows = 0
            for genes in subset.values():
                with contextlib.redirect_stdout(io.StringIO()):
                    rows += len(study.run_study(genes, prt=None))
            return rows
    else:
        raise SystemExit(f"unknown tool {tool}")
    times = []
    rows = 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        rows = run()
        times.append(time.perf_counter() - t0)
    scale = n / measured
    print(
        json.dumps(
            {"times": [t * scale for t in times], "measured": measured, "n": n, "rows": rows}
        )
    )


# ----------------------------------------------------------------------------- parent


def cli_runs(lists: Path, gmt: Path, repeats: int, *extra: str) -> tuple[list[float], float]:
    out = Path(tempfile.mkdtemp()) / "out.tsv"
    argv = [GSEA_PLUS, "batch", str(lists), "-l", str(gmt), "-o", str(out), *extra]
    run_measured(argv)  # warm-up: parsed-library cache, page cache
    times, rss = [], []
    for _ in range(repeats):
        t, r, _ = run_measured(argv)
        times.append(t)
        rss.append(r)
    out.unlink(missing_ok=True)
    return times, max(rss)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worker", nargs=6, metavar=("TOOL", "GMT", "LISTS", "N", "REPEATS", "SAMPLE"))
    ap.add_argument("--sizes", type=int, nargs="+", default=[1, 100, 1000, 10000])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--gseapy-sample", type=int, default=3)
    ap.add_argument("--goatools-sample", type=int, default=3)
    ap.add_argument("--pfex-max", type=int, default=1000)
    ap.add_argument("--big", type=int, default=100000, help="lists for the memory run")
    ap.add_argument("--no-big", action="store_true")
    ap.add_argument("--no-dask", action="store_true")
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument(
        "--only",
        nargs="+",
        choices=["main", "sizes", "big", "dask"],
        default=["main", "sizes", "big", "dask"],
        help="sections to run",
    )
    args = ap.parse_args()
    if args.worker:
        tool, gmt, lists, n, repeats, sample = args.worker
        worker(tool, Path(gmt), Path(lists), int(n), int(repeats), int(sample))
        return

    work = args.workdir or Path(tempfile.mkdtemp(prefix="batch_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"# machine: {machine_line()}", flush=True)
    print(f"# work dir: {work}", flush=True)
    max_n = max(args.sizes)
    lists_files: dict[tuple[str, int], Path] = {}
    for lib in LIBRARIES:
        gmt = benchmark_gmt(lib)
        all_lists = make_lists(read_gmt_sets(gmt), max_n, seed=0)
        for n in args.sizes:
            path = work / f"{lib}_{n}.gmt"
            write(dict(list(all_lists.items())[:n]), path, "gmt")
            lists_files[lib, n] = path

    rows = []
    results: dict = {}
    for lib in LIBRARIES if "main" in args.only else []:
        gmt = benchmark_gmt(lib)
        for n in args.sizes:
            lists = lists_files[lib, n]
            cli_t, cli_rss = cli_runs(lists, gmt, args.repeats, "--top", "20")
            api = measure_worker("gsea-plus-api", gmt, lists, n, args.repeats, 0)
            entry = {"cli": (median(cli_t), cli_rss), "api": (median(api["times"]), api["rss_mb"])}
            print(
                f"{lib} n={n}: CLI {median(cli_t):.3f}s {cli_rss:.0f}MB; "
                f"API {median(api['times']):.3f}s ({api['rows']} rows)",
                flush=True,
            )
            if not args.no_peers:
                for tool, sample in (
                    ("gseapy", args.gseapy_sample),
                    ("pfex", args.pfex_max),
                    ("goatools", args.goatools_sample),
                ):
                    r = measure_worker(tool, gmt, lists, n, args.repeats, sample)
                    t = median(r["times"])
                    entry[tool] = (t, r["rss_mb"], r["measured"] < n, r["measured"])
                    print(
                        f"  {tool}: {median(r['times']):.3f}s (measured {r['measured']} "
                        f"of {n}) {r['rss_mb']:.0f}MB",
                        flush=True,
                    )
            results[lib, n] = entry
            row = [
                lib,
                f"{n:,}",
                f"{fmt_s(entry['cli'][0])} / {entry['cli'][1]:.0f} MB",
                fmt_s(entry["api"][0]),
            ]
            for tool in ("gseapy", "pfex", "goatools"):
                if tool in entry:
                    t, rss, extra, measured = entry[tool]
                    mark = f" (extrap. from {measured})" if extra else ""
                    row.append(f"{fmt_s(t)}{mark}")
                else:
                    row.append("-")
            if "gseapy" in entry:
                row.append(f"{entry['gseapy'][0] / entry['api'][0]:,.0f}x")
                row.append(f"{entry['pfex'][0] / entry['api'][0]:,.1f}x")
                row.append(f"{entry['pfex'][0] / entry['cli'][0]:,.1f}x")
            rows.append(row)
    if rows:
        print()
        print("## lists x library: time (median) and peak RSS")
        print(
            markdown_table(
                [
                    "library",
                    "lists",
                    "gsea-plus CLI --top 20 (whole process) / peak RSS",
                    "gsea-plus API (all rows)",
                    "gseapy.enrich loop",
                    "pfex batch",
                    "goatools loop",
                    "gseapy / gsea-plus API",
                    "pfex / gsea-plus API",
                    "pfex / gsea-plus CLI",
                ],
                rows,
            )
        )

    # Library size at 1,000 lists: Hallmark (50 terms) .. GWAS 2023 (5,271 terms, 18k genes).
    sizes_rows = []
    n = 1000 if 1000 in args.sizes else max(args.sizes)
    for lib in (
        [
            "MSigDB_Hallmark_2020",
            "KEGG_2021_Human",
            "GO_Biological_Process_2023",
            "GWAS_Catalog_2023",
        ]
        if "sizes" in args.only
        else []
    ):
        gmt = benchmark_gmt(lib)
        sets = read_gmt_sets(gmt)
        path = work / f"size_{lib}_{n}.gmt"
        write(
            make_lists(sets, n, seed=0)
            if max(len(v) for v in sets.values()) >= 100
            else make_lists(sets, n, seed=0, from_term=30, random=170),
            path,
            "gmt",
        )
        t, rss = cli_runs(path, gmt, args.repeats, "--top", "20")
        api = measure_worker("gsea-plus-api", gmt, path, n, args.repeats, 0)
        genes = len({g for v in sets.values() for g in v})
        sizes_rows.append(
            [
                lib,
                f"{len(sets):,}",
                f"{genes:,}",
                fmt_s(median(t)),
                f"{rss:.0f} MB",
                fmt_s(median(api["times"])),
                f"{api['rows']:,}",
            ]
        )
        print(f"size {lib}: {median(t):.2f}s {rss:.0f}MB", flush=True)
    if sizes_rows:
        print()
        print(f"## library size at {n:,} lists")
        print(
            markdown_table(
                ["library", "terms", "genes", "CLI --top 20", "peak RSS", "API (all rows)", "rows"],
                sizes_rows,
            )
        )

    if not args.no_big and "big" in args.only:
        lib = "GO_Biological_Process_2023"
        gmt = benchmark_gmt(lib)
        path = work / f"{lib}_{args.big}.gmt"
        write(make_lists(read_gmt_sets(gmt), args.big, seed=0), path, "gmt")
        out = work / "big.tsv"
        big = []
        for _ in range(args.repeats):
            t, rss, _ = run_measured(
                [GSEA_PLUS, "batch", str(path), "-l", str(gmt), "--top", "20", "-o", str(out)]
            )
            big.append((t, rss))
        print()
        print(f"## {args.big:,} lists x {lib}, --top 20, streamed to TSV")
        print(
            markdown_table(
                ["runs", "time (median)", "peak RSS (max)", "output rows"],
                [
                    [
                        len(big),
                        fmt_s(median([b[0] for b in big])),
                        f"{max(b[1] for b in big):.0f} MB",
                        f"{sum(1 for _ in open(out)) - 1:,}",
                    ]
                ],
            )
        )
        out.unlink(missing_ok=True)

    if not args.no_dask and "dask" in args.only:
        lib = "GO_Biological_Process_2023"
        gmt = benchmark_gmt(lib)
        n = max(args.sizes)
        lists = lists_files[lib, n]
        dask_rows = []
        for label, extra in (
            ("local engine", ()),
            ("dask, 1 worker", ("--engine", "dask", "--workers", "1")),
            ("dask, 2 workers", ("--engine", "dask", "--workers", "2")),
        ):
            t, rss = cli_runs(lists, gmt, args.repeats, "--top", "20", *extra)
            dask_rows.append([label, fmt_s(median(t)), f"{rss:.0f} MB"])
            print(f"dask {label}: {median(t):.2f}s", flush=True)
        print()
        print(
            f"## Dask local cluster, {n:,} lists x {lib}, --top 20 (whole process, "
            "cluster start included)"
        )
        print(markdown_table(["engine", "time (median)", "peak RSS (client)"], dask_rows))
        warm = []
        for tool in ("local-warm", "dask-warm-1", "dask-warm-2"):
            r = measure_worker(tool, gmt, lists, n, args.repeats, 0)
            warm.append([tool, fmt_s(median(r["times"])), f"{n / median(r['times']):,.0f}"])
            print(f"{tool}: {median(r['times']):.2f}s", flush=True)
        print()
        print(
            f"## Dask, warm cluster (started before timing), {n:,} lists x {lib}, --top 20, "
            "in-process"
        )
        print(markdown_table(["engine", "time (median)", "lists/s"], warm))


if __name__ == "__main__":
    main()
