"""Draw the README's figures from the bundled example list (run from the repository root).

    python scripts/make_readme_figures.py                # writes docs/figures/*.png
    python scripts/make_readme_figures.py --genes my_list.txt --out /tmp/figs

Figures:

``dotplot.png``
    ``gsea-plus enrich EXAMPLE -l GO_BP -l KEGG --plot dotplot.png`` (top terms per
    library, size legend, FDR line).
``enrichment_map.png``
    ``--cluster`` on GO Biological Process: redundant terms grouped, one colour per
    cluster.
``running_sum.png``
    ``gsea-plus prerank SIGNATURE -l Hallmark --plot-term ...`` for the 3 top terms
    (only when the ageing-muscle signature is at hand).

The gene list defaults to the bundled example ``gsea_plus/data/examples/ageing_muscle_up100
.txt``; when that file is absent, the same kind of list is derived from the shared data:
the 100 genes with the highest scores in ``../shared/data/signatures/ageing_muscle_gtex
.tsv`` (genes up with age in GTEx skeletal muscle). The libraries default to the benchmark
GMT files in ``../shared/data/benchmark`` (read in place, never downloaded). Nothing is
random: the same inputs give the same figures.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
EXAMPLE = ROOT / "gsea_plus" / "data" / "examples" / "ageing_muscle_up100.txt"
SIGNATURE = SHARED / "signatures" / "ageing_muscle_gtex.tsv"
GO_BP = SHARED / "benchmark" / "GO_Biological_Process_2023.gmt"
KEGG = SHARED / "benchmark" / "KEGG_2021_Human.gmt"
HALLMARK = SHARED / "benchmark" / "MSigDB_Hallmark_2020.gmt"
#: PNG resolution: sharp on a README page, each file well under 200 kB.
DPI = 110


def example_genes(path: Path | None) -> tuple[list[str], str]:
    """The example list and where it came from."""
    from gsea_plus import read_gene_list

    if path is not None and path.is_file():
        return list(read_gene_list(str(path)).genes), path.name
    if not SIGNATURE.is_file():
        sys.exit(f"no gene list: {path} is absent and so is {SIGNATURE}")
    from gsea_plus.prerank import read_signature

    sig = read_signature(str(SIGNATURE))
    return sig.genes[:100].tolist(), "ageing_muscle_up100 (top 100 of ageing_muscle_gtex.tsv)"


def main(argv: list[str] | None = None) -> int:
    """Write the figures; print each file and its size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--genes", type=Path, default=EXAMPLE, help="gene list file")
    parser.add_argument(
        "--library",
        action="append",
        default=None,
        help="library for the dot plot (repeat); default GO BP 2023 and KEGG 2021",
    )
    parser.add_argument("--signature", type=Path, default=SIGNATURE, help="ranked signature")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "figures")
    args = parser.parse_args(argv)

    import gsea_plus
    from gsea_plus.cluster import cluster_terms
    from gsea_plus.plot import plot_enrichment, plot_enrichment_map, plot_running_sum

    genes, name = example_genes(args.genes)
    name = name.removesuffix(".txt")
    libraries = args.library or [str(GO_BP), str(KEGG)]
    args.out.mkdir(parents=True, exist_ok=True)
    written = []

    result = gsea_plus.enrich(genes, library=libraries, offline=True)
    list_name = name.split(" ")[0]
    written.append(
        plot_enrichment(result, args.out / "dotplot.png", top=12, list_name=list_name, dpi=DPI)
    )

    go = result[result["Library"] == result["Library"].iloc[0]]
    clustered = cluster_terms(go)
    written.append(
        plot_enrichment_map(
            clustered, args.out / "enrichment_map.png", list_name=list_name, dpi=DPI
        )
    )

    if args.signature.is_file() and HALLMARK.is_file():
        from gsea_plus.prerank import prerank, read_signature

        sig = read_signature(str(args.signature))
        pre = prerank(sig, library=str(HALLMARK), offline=True, seed=0)
        terms = pre["Term"].head(3).tolist()
        written.append(
            plot_running_sum(
                sig,
                pre,
                args.out / "running_sum.png",
                term=terms,
                library=str(HALLMARK),
                offline=True,
                signature_name=args.signature.stem,
                dpi=DPI,
            )
        )
    for path in written:
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        print(f"{shown}\t{path.stat().st_size // 1024} kB")
    print(f"list: {name}; {len(genes)} genes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
