"""Speed of the bundled model: one list in-process, and 1,000 lists batched.

Goals (issue 3): one list <= 50 ms in-process; 1,000 lists batched <= 5 s.
Prints a markdown table (medians) for benchmarks/README.md.

    python benchmarks/model_speed.py --repeats 5
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--size", type=int, default=30, help="genes per list")
    args = parser.parse_args()

    import gsea_plus

    t = time.perf_counter()
    model = gsea_plus.load_model()
    load_s = time.perf_counter() - t
    rng = np.random.default_rng(0)
    lists = [list(rng.choice(model.vocab, size=args.size, replace=False)) for _ in range(1000)]
    model.score(lists[:2])  # warm up BLAS and caches

    one = []
    for i in range(20 * args.repeats):
        t = time.perf_counter()
        gsea_plus.predict(lists[i], top=50, model=model)
        one.append(time.perf_counter() - t)
    embed = []
    for i in range(20 * args.repeats):
        t = time.perf_counter()
        gsea_plus.embed(lists[i], model=model)
        embed.append(time.perf_counter() - t)
    batch = []
    for _ in range(args.repeats):
        t = time.perf_counter()
        for start in range(0, 1000, 250):
            model.score(lists[start : start + 250])
        batch.append(time.perf_counter() - t)

    rows = [
        ("load the bundled model (once per process)", f"{load_s:.2f} s", "", ""),
        (
            "predict(one list, top=50), in-process",
            f"{1000 * statistics.median(one):.1f} ms",
            "<= 50 ms",
            "yes" if statistics.median(one) <= 0.05 else "no",
        ),
        ("embed(one list), in-process", f"{1000 * statistics.median(embed):.1f} ms", "", ""),
        (
            "score 1,000 lists, batches of 250",
            f"{statistics.median(batch):.2f} s",
            "<= 5 s",
            "yes" if statistics.median(batch) <= 5 else "no",
        ),
    ]
    print(
        f"{platform.python_version()}, {args.size}-gene lists, medians of "
        f"{20 * args.repeats} single calls and {args.repeats} batch runs"
    )
    print("| what | median | goal | met? |\n|---|---:|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
