"""Generate benchmark gene lists: each list = 100 genes from one term + 100 random genes.

The same seed gives the same lists. Terms are drawn among those with at least 100 genes;
the random genes come from the library's universe, distinct from the term genes, so
every list has exactly 200 unique library genes.

Usage::

    python benchmarks/make_lists.py ../shared/data/benchmark/GO_Biological_Process_2023.gmt \
        --lists 10000 --seed 0 -o /tmp/lists.gmt [--format gmt|long|dir]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import read_gmt_sets  # noqa: E402


def make_lists(
    sets: dict[str, list[str]], n: int, *, seed: int = 0, from_term: int = 100, random: int = 100
) -> dict[str, list[str]]:
    """``n`` lists named ``list00001``...: ``from_term`` genes of a term + ``random`` others."""
    rng = np.random.default_rng(seed)
    universe = np.array(sorted({g.upper() for genes in sets.values() for g in genes}))
    big = [genes for genes in sets.values() if len(set(genes)) >= from_term]
    if not big:
        raise SystemExit(f"no term has {from_term} genes")
    index = {g: i for i, g in enumerate(universe)}
    out: dict[str, list[str]] = {}
    width = len(str(n))
    for i in range(n):
        term = sorted({g.upper() for g in big[int(rng.integers(len(big)))]})
        picked = rng.choice(len(term), from_term, replace=False)
        genes = [term[j] for j in picked]
        taken = {index[g] for g in genes}
        extra: list[int] = []
        while len(extra) < random:
            for j in rng.choice(len(universe), random, replace=False).tolist():
                if j not in taken and len(extra) < random:
                    taken.add(j)
                    extra.append(j)
        genes += universe[extra].tolist()
        out[f"list{i + 1:0{width}d}"] = genes
    return out


def write(lists: dict[str, list[str]], path: Path, fmt: str) -> None:
    """Write lists as a GMT, a long table (list_id<TAB>gene) or a directory of files."""
    if fmt == "dir":
        path.mkdir(parents=True, exist_ok=True)
        for name, genes in lists.items():
            (path / f"{name}.txt").write_text("\n".join(genes) + "\n")
        return
    with open(path, "w") as fh:
        if fmt == "gmt":
            for name, genes in lists.items():
                fh.write(f"{name}\tbenchmark\t" + "\t".join(genes) + "\n")
        else:
            fh.write("list_id\tgene\n")
            for name, genes in lists.items():
                fh.writelines(f"{name}\t{g}\n" for g in genes)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("library", type=Path, help="GMT library the lists are drawn from")
    ap.add_argument("--lists", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--format", choices=["gmt", "long", "dir"], default="gmt")
    ap.add_argument("-o", "--output", type=Path, required=True)
    args = ap.parse_args()
    lists = make_lists(read_gmt_sets(args.library), args.lists, seed=args.seed)
    write(lists, args.output, args.format)


if __name__ == "__main__":
    main()
