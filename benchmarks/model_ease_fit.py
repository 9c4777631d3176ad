"""Fit one EASE variant for the model search and save its top-k rows as .npy (issue 13).

Usage::

    python benchmarks/model_ease_fit.py --corpus corpus.gmt.gz --lam 3000 \\
        [--dropout-ratio 0] [--size-power 0] [--source-power 0] --k 1024 --out PREFIX

writes ``PREFIX_idx.npy`` (uint16) and ``PREFIX_val.npy`` (float16), which
``benchmarks/model_search.py --part NAME=ease:PREFIX[:K]`` reads. The vocabulary is the
bundled model's, so the fit blends with its autoencoder.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gsea_plus.library.gmt import read_gmt  # noqa: E402
from gsea_plus.model.ease import EaseSettings, fit_ease  # noqa: E402
from gsea_plus.model.vocab import Vocab  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--vocab", type=Path, default=ROOT / "gsea_plus/model/bundled/vocab.txt")
    ap.add_argument("--lam", type=float, default=3000.0)
    ap.add_argument("--dropout-ratio", type=float, default=0.0)
    ap.add_argument("--size-power", type=float, default=0.0)
    ap.add_argument("--source-power", type=float, default=0.0)
    ap.add_argument("--k", type=int, default=1024)
    ap.add_argument("--out", required=True, help="output prefix")
    args = ap.parse_args()
    sets = read_gmt(args.corpus)
    genes = Vocab.load(args.vocab).genes
    settings = EaseSettings(
        lam=args.lam,
        dropout_ratio=args.dropout_ratio,
        size_power=args.size_power,
        source_power=args.source_power,
    )
    fit = fit_ease(
        [s.genes for s in sets], genes, settings=settings, sources=[s.description for s in sets]
    )
    t = time.perf_counter()
    idx, val = fit.prune(args.k)
    np.save(f"{args.out}_idx.npy", idx.astype(np.uint16))
    np.save(f"{args.out}_val.npy", val.astype(np.float16))
    print(fit.seconds, f"prune {time.perf_counter() - t:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
