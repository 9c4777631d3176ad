"""The library catalog (libraries/catalog.tsv): well formed, complete, shipped in the wheel."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import subprocess_env

from gsea_plus.errors import LibraryError
from gsea_plus.library.catalog import (
    catalog,
    catalog_path,
    find_entry,
    parse_catalog,
    suggest,
)

REPO = Path(__file__).resolve().parents[1]
REQUIRED_ALIASES = {
    "KEGG": "KEGG_2021_Human",
    "GO_BP": "GO_Biological_Process_2023",  # the bundled version: works offline
    "GO_MF": "GO_Molecular_Function_2025",
    "GO_CC": "GO_Cellular_Component_2025",
    "ChEA": "ChEA_2022",
    "GWAS": "GWAS_Catalog_2023",
    "Reactome": "Reactome_Pathways_2024",
    "WikiPathways": "WikiPathways_2024_Human",
    "Hallmark": "MSigDB_Hallmark_2020",
}
HEADER = "name\taliases\tspecies\tcategory\tlicense\tdescription\tbundled"


def test_catalog_file_is_well_formed():
    text = (REPO / "libraries" / "catalog.tsv").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    assert rows[0] == HEADER
    for line in rows[1:]:
        fields = line.split("\t")
        assert len(fields) == 7, line
        name, aliases, species, category, license_, description, bundled = fields
        assert name and name == name.strip() and " " not in name, line
        assert species in {"human", "mouse", "rat", "fly", "worm", "yeast", "fish"}, line
        assert category and license_ and description, line
    entries = parse_catalog(text)
    assert len(entries) == len(rows) - 1
    keys = [k.casefold() for e in entries for k in (e.name, *e.aliases)]
    assert len(keys) == len(set(keys))


def test_the_checkout_catalog_is_the_one_read():
    assert catalog_path().read_bytes() == (REPO / "libraries" / "catalog.tsv").read_bytes()
    assert len(catalog()) >= 20


@pytest.mark.parametrize(("alias", "name"), sorted(REQUIRED_ALIASES.items()))
def test_required_aliases(alias, name):
    assert find_entry(alias).name == name
    assert find_entry(alias.upper()).name == name  # case-insensitive
    assert find_entry(name).name == name


def test_find_and_suggest():
    assert find_entry("No_Such_Library") is None
    assert "KEGG" in suggest("KEGGG")
    assert "GO_BP" in suggest("GO_B")
    assert suggest("zzzzzzzzzz") == []
    assert "My_Cached_Lib" in suggest("My_Cached_Lb", ["My_Cached_Lib"])


def test_parse_catalog_rejects_duplicates_and_bad_columns():
    dup = HEADER + "\nA_1\tX\thuman\tc\tl\td\t\nB_1\tx\thuman\tc\tl\td\t\n"
    with pytest.raises(LibraryError, match="used twice"):
        parse_catalog(dup)
    with pytest.raises(LibraryError, match="used twice"):
        parse_catalog(HEADER + "\nA_1\t\thuman\tc\tl\td\t\nA_1\t\thuman\tc\tl\td\t\n")
    with pytest.raises(LibraryError, match="columns"):
        parse_catalog("name\taliases\nA\tB\n")
    with pytest.raises(LibraryError, match="columns"):  # the six columns before 'bundled'
        parse_catalog(HEADER.rsplit("\t", 1)[0] + "\nA_1\t\thuman\tc\tl\td\n")
    ok = parse_catalog("# comment\n" + HEADER + "\nA_1\t a , b \thuman\tc\tl\td\t\n")
    assert ok[0].aliases == ("a", "b")
    assert not ok[0].is_bundled


def test_bundled_cell_is_file_and_sha256():
    sha = "ab" * 32
    (entry,) = parse_catalog(HEADER + f"\nA_1\t\thuman\tc\tl\td\tA_1.gmt.gz#sha256={sha}\n")
    assert entry.is_bundled and entry.bundled == "A_1.gmt.gz" and entry.bundled_sha256 == sha
    for bad in (
        "A_1.gmt.gz",
        f"A_1.gmt#sha256={sha}",
        "A_1.gmt.gz#sha256=XYZ",
        f"../x.gmt.gz#sha256={sha}",
    ):
        with pytest.raises(LibraryError, match="bundled cell"):
            parse_catalog(HEADER + f"\nA_1\t\thuman\tc\tl\td\t{bad}\n")


def test_the_catalog_bundles_go_bp_and_hallmark_with_open_licences():
    bundled = {e.name: e for e in catalog() if e.is_bundled}
    assert set(bundled) >= {"GO_Biological_Process_2023", "MSigDB_Hallmark_2020"}
    for entry in bundled.values():
        assert "CC BY 4.0" in entry.license or "CC0" in entry.license, entry
        assert entry.bundled == f"{entry.name}.gmt.gz"
    assert not find_entry("KEGG").is_bundled  # KEGG's licence: a download, never shipped


def test_wheel_carries_the_catalog(tmp_path):
    builder = pytest.importorskip("hatchling.builders.wheel", reason="hatchling (test extra)")
    (wheel,) = builder.WheelBuilder(str(REPO)).build(directory=str(tmp_path), versions=["standard"])
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        assert "gsea_plus/_libraries/catalog.tsv" in names
        assert (
            zf.read("gsea_plus/_libraries/catalog.tsv")
            == (REPO / "libraries" / "catalog.tsv").read_bytes()
        )
        entry_points = next(n for n in names if n.endswith("entry_points.txt"))
        assert "gsea-plus = gsea_plus.cli:main" in zf.read(entry_points).decode()
        assert not [n for n in names if n.startswith("tests/") or "/__pycache__/" in n]
        # the report's HTML, CSS and script templates are package data
        templates = REPO / "gsea_plus" / "report" / "templates"
        for path in sorted(templates.iterdir()):
            rel = path.relative_to(REPO).as_posix()
            assert zf.read(rel) == path.read_bytes(), rel
        metadata = zf.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        assert re.search(r"^Requires-Dist: matplotlib>=[\d.]+$", metadata, re.M)  # not an extra
        # the package data: bundled libraries, ID map, example list, manifest
        data = REPO / "gsea_plus" / "data"
        shipped = sorted(
            p.relative_to(REPO).as_posix()
            for p in data.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts
        )
        assert "gsea_plus/data/libraries/GO_Biological_Process_2023.gmt.gz" in shipped
        assert "gsea_plus/data/idmap/symbols.index.gz" in shipped
        assert "gsea_plus/data/idmap/ids.index.gz" in shipped
        for rel in shipped:
            assert rel in names, rel
            assert zf.read(rel) == (REPO / rel).read_bytes(), rel
        zf.extractall(tmp_path / "site")
    # installed from the wheel (no checkout beside it), the catalog is found in the package
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from gsea_plus.library.catalog import catalog_path, find_entry;"
        "print(catalog_path()); print(find_entry('KEGG').name)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "site")],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    path, name = proc.stdout.split()
    assert path == str(tmp_path / "site" / "gsea_plus" / "_libraries" / "catalog.tsv")
    assert name == "KEGG_2021_Human"
    # ... and the bundled library, the ID map and the example work from the installed wheel
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from gsea_plus.library import load_library; from gsea_plus.idmap import IdMap;"
        "from gsea_plus.data import example_gene_list;"
        "lib = load_library('GO_BP'); print(lib.name, len(lib), lib.meta['source'].split(';')[0]);"
        "print(IdMap.bundled().convert(['ENSG00000141510.17', 'SEPT7']).symbols);"
        "print(example_gene_list())"
    )
    env = subprocess_env(GSEA_PLUS_OFFLINE="1", GSEA_PLUS_ENRICHR_URL="http://127.0.0.1:9/Enrichr")
    proc = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "site")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    lib_line, converted, example = proc.stdout.splitlines()
    assert lib_line.startswith("GO_Biological_Process_2023 5407 bundled with gsea-plus")
    assert converted == "['TP53', 'SEPTIN7']"
    assert example.startswith(str(tmp_path / "site" / "gsea_plus" / "data"))
