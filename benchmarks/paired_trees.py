"""Two source trees of gsea-plus, the same commands, run in turn: is one slower?

Each command runs once per tree per round, A then B, for ``--rounds`` rounds after one
warm-up round; CPU time (user + sys of the child, from ``os.wait4``), wall time and peak
memory are recorded, and the per-round ratio A/B is reported as a median: on a noisy,
shared machine a paired ratio holds where absolute times drift. The outputs of the two
trees are compared byte for byte.

Make the second tree with ``git worktree add /tmp/old REV``. Usage::

    python benchmarks/paired_trees.py --a . --b /tmp/old --rounds 10
"""

from __future__ import annotations

import argparse
import filecmp
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run with -P: _common beside it
from _common import benchmark_gmt  # noqa: E402

PROGRAM = (
    "import sys; sys.argv = ['gsea-plus'] + sys.argv[1:]; from gsea_plus.cli import main; main()"
)


def run(tree: Path, args: list[str], cache: Path) -> tuple[float, float, float]:
    """CPU seconds, wall seconds and peak MiB of ``gsea-plus ARGS`` run from ``tree``."""
    env = dict(os.environ, PYTHONPATH=str(tree), GSEA_PLUS_CACHE=str(cache), GSEA_PLUS_OFFLINE="1")
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", PROGRAM, *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{tree}: gsea-plus {' '.join(args)} failed")
    return usage.ru_utime + usage.ru_stime, wall, usage.ru_maxrss / 1024


def lists(work: Path, n: int, size: int = 200, seed: int = 0) -> tuple[Path, Path]:
    """One list and a GMT of ``n`` lists of random GO BP genes."""
    import random

    genes = set()
    for line in benchmark_gmt("GO_Biological_Process_2023").read_text().splitlines():
        genes.update(g for g in line.split("\t")[2:] if g)
    pool = sorted(genes)
    rng = random.Random(seed)
    one = work / "list.txt"
    one.write_text("\n".join(rng.sample(pool, size)) + "\n")
    many = work / "lists.gmt"
    many.write_text(
        "".join(f"l{i}\t\t" + "\t".join(rng.sample(pool, size)) + "\n" for i in range(n))
    )
    return one, many


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--a", type=Path, default=Path(__file__).resolve().parents[1])
    ap.add_argument("--b", type=Path, required=True)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--lists", type=int, default=1000)
    args = ap.parse_args()
    gmt = str(benchmark_gmt("GO_Biological_Process_2023"))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        one, many = lists(work, args.lists)
        cases = {
            "enrich 1 list x GO BP, -o TSV": ["enrich", str(one), "-l", gmt, "-o", "{out}.tsv"],
            f"batch {args.lists} lists x GO BP, all rows, TSV": [
                "batch", str(many), "-l", gmt, "-o", "{out}.tsv",
            ],
            f"batch {args.lists} lists x GO BP, --top 20, TSV": [
                "batch", str(many), "-l", gmt, "--top", "20", "-o", "{out}.tsv",
            ],
            "--help": ["--help"],
        }  # fmt: skip
        print(f"A = {args.a}\nB = {args.b}\n")
        print("| command | A CPU s | B CPU s | A/B CPU | A/B wall | A/B peak | same output |")
        print("|---|---:|---:|---:|---:|---:|---|")
        for label, template in cases.items():
            rows: dict[str, list[tuple[float, float, float]]] = {"a": [], "b": []}
            outs = {}
            for r in range(args.rounds + 1):
                for side, tree in (("a", args.a), ("b", args.b)):
                    out = work / f"out_{side}"
                    cmd = [a.replace("{out}", str(out)) for a in template]
                    res = run(tree, cmd, work / f"cache_{side}")
                    if r:  # round 0 warms the caches
                        rows[side].append(res)
                    outs[side] = out.with_suffix(".tsv")
            ratio = [
                [a[i] / b[i] for a, b in zip(rows["a"], rows["b"], strict=True)] for i in range(3)
            ]
            same = (
                filecmp.cmp(outs["a"], outs["b"], shallow=False)
                if outs["a"].exists() and outs["b"].exists()
                else "-"
            )
            med = statistics.median
            print(
                f"| {label} | {med(r[0] for r in rows['a']):.3f} | "
                f"{med(r[0] for r in rows['b']):.3f} | {med(ratio[0]):.3f} | "
                f"{med(ratio[1]):.3f} | {med(ratio[2]):.3f} | {same} |"
            )


if __name__ == "__main__":
    main()
