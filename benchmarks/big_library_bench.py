"""Large libraries (issue 12.3): one list and 1,000 lists against 67k to 500k gene sets.

Libraries: the 67,515-set training corpus (``gsea-plus model corpus ../shared/data/training
-o corpus.gmt.gz``) and synthetic libraries resampled from it by ``make_library.py``
(100k and 500k sets, the corpus's size distribution). Every measurement is a whole
process (``/usr/bin/time``: wall, user + system CPU, peak resident memory):

* one list: ``gsea-plus enrich LIST -l LIB -o out.tsv`` (every term with overlap >= 1);
* 1,000 lists: ``gsea-plus batch LISTS -l LIB --top 20 -o out.tsv``;

each on first use (an empty cache: streaming parse, cache written) and cached (the
memory-mapped parsed library; the file is known by its inode, size and times, so it is
not read). ``--baseline DIR`` runs the one-list commands from another source tree too
(its own cache), skipping libraries above ``--baseline-max-sets``. Lists: 200 genes drawn
from the corpus's genes (seed 0). Usage::

    python benchmarks/big_library_bench.py /tmp/corpus.gmt.gz /tmp/synth_100k.gmt \\
        /tmp/synth_500k.gmt --baseline /tmp/base
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, compile_tree, machine_line, markdown_table, measured  # noqa: E402

CLI = "import sys; sys.argv = ['gsea-plus'] + sys.argv[1:]; from gsea_plus.cli import main; main()"


def count_sets(path: Path) -> int:
    import gzip

    opener = gzip.open if path.read_bytes()[:2] == b"\x1f\x8b" else open
    with opener(path, "rb") as fh:
        return sum(1 for line in fh if line.strip())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("libraries", type=Path, nargs="+")
    ap.add_argument("--repeats", type=int, default=3, help="cached runs per command")
    ap.add_argument("--lists", type=int, default=1000)
    ap.add_argument("--baseline", type=Path)
    ap.add_argument("--baseline-max-sets", type=int, default=150_000)
    ap.add_argument("--no-batch", action="store_true")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="biglib_"))
    corpus = args.libraries[0]
    import gzip

    opener = gzip.open if corpus.read_bytes()[:2] == b"\x1f\x8b" else open
    genes: set[str] = set()
    with opener(corpus, "rt") as fh:
        for line in fh:
            genes.update(g for g in line.rstrip("\n").split("\t")[2:] if g)
    pool = sorted(genes)
    rng = random.Random(0)
    one = work / "list.txt"
    one.write_text("\n".join(rng.sample(pool, 200)) + "\n")
    lists = work / "lists.gmt"
    lists.write_text(
        "".join(f"L{i}\t\t" + "\t".join(rng.sample(pool, 200)) + "\n" for i in range(args.lists))
    )
    trees = {"gsea-plus": REPO}
    if args.baseline:
        trees["baseline"] = args.baseline.resolve()
    for tree in trees.values():
        compile_tree(tree)
    print(f"# {machine_line()}", flush=True)
    rows = []
    for lib in args.libraries:
        n_sets = count_sets(lib)
        size_mb = lib.stat().st_size / 2**20
        for label, tree in trees.items():
            if label == "baseline" and n_sets > args.baseline_max_sets:
                continue
            cache = work / f"cache-{label}-{lib.name}"
            env = dict(
                os.environ,
                PYTHONPATH=str(tree),
                GSEA_PLUS_CACHE=str(cache),
                GSEA_PLUS_OFFLINE="1",
                GSEA_PLUS_MAX_INFLATE_BYTES=str(4 << 30),
            )
            py = [sys.executable, "-P", "-c", CLI]  # -P: not the current directory first
            jobs = [
                ("one list", [*py, "enrich", str(one), "-l", str(lib), "-o", str(work / "o.tsv")])
            ]
            if not args.no_batch and label == "gsea-plus":
                jobs.append(
                    (
                        f"{args.lists:,} lists --top 20",
                        [
                            *py,
                            "batch",
                            str(lists),
                            "-l",
                            str(lib),
                            "--top",
                            "20",
                            "-o",
                            str(work / "b.tsv"),
                        ],
                    )
                )
            for what, argv in jobs:
                shutil.rmtree(cache, ignore_errors=True)
                first = measured(argv, env)
                measured(argv, env)  # warm-up: the page cache holds what a rerun reads
                cached = [measured(argv, env) for _ in range(args.repeats)]
                med = {k: statistics.median(c[k] for c in cached) for k in ("wall", "cpu")}
                peak = max(c["rss"] for c in cached)
                out = work / ("o.tsv" if what == "one list" else "b.tsv")
                n_rows = sum(1 for _ in open(out, "rb")) - 1
                rows.append(
                    [
                        f"{lib.name} ({n_sets:,} sets, {size_mb:,.0f} MB)",
                        label,
                        what,
                        f"{first['wall']:.2f} s / {first['cpu']:.2f} s / {first['rss']:,.0f} MB",
                        f"{med['wall']:.2f} s / {med['cpu']:.2f} s / {peak:,.0f} MB",
                        f"{n_rows:,}",
                    ]
                )
                print(" | ".join(rows[-1]), flush=True)
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\nLoad average at the end: {load}\n")
    print(
        markdown_table(
            [
                "library",
                "tree",
                "command",
                "first use: wall / CPU / peak",
                f"cached (median of {args.repeats}): wall / CPU / peak",
                "rows out",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    main()
