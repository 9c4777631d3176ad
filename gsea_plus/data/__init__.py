"""Data shipped inside the package: bundled libraries, the ID map, an example gene list.

The files are built by ``scripts/build_package_data.py`` from the shared reference data;
``MANIFEST.json`` (and its readable twin ``SOURCES.md``) records each file's source,
version, licence and sha256. Nothing here reads the network or the cache.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from functools import lru_cache
from pathlib import Path

from gsea_plus.errors import GseaPlusError

__all__ = ["DATA_DIR", "example_gene_list", "manifest", "read_data", "data_path"]

#: The folder holding the package data (inside the installed package).
DATA_DIR = Path(__file__).resolve().parent

#: The example gene list (``gsea-plus enrich --example``), relative to :data:`DATA_DIR`.
EXAMPLE = "examples/ageing_muscle_up100.txt"


def data_path(rel: str) -> Path:
    """The path of a package data file, e.g. ``"idmap/hgnc_genes.tsv.gz"``.

    Raises
    ------
    GseaPlusError
        When the file is missing (a broken installation).
    """
    path = DATA_DIR / rel
    if not path.is_file():
        raise GseaPlusError(
            f"package data file {rel} is missing from the installation ({DATA_DIR}); "
            "reinstall gsea-plus"
        )
    return path


def example_gene_list() -> Path:
    """The path of the bundled example gene list.

    The 100 genes most up-regulated with age in human skeletal muscle (GTEx), one per
    line under a ``#`` header that states its provenance; see ``SOURCES.md``.
    """
    return data_path(EXAMPLE)


@lru_cache(maxsize=1)
def manifest() -> dict[str, dict]:
    """``{relative path: record}`` for every data file (source, version, licence, sha256)."""
    return json.loads(data_path("MANIFEST.json").read_text(encoding="utf-8"))["files"]


def read_data(rel: str, *, sha256: str | None = None) -> bytes:
    """The content of a package data file, decompressed when gzipped.

    Parameters
    ----------
    rel
        Path relative to :data:`DATA_DIR`.
    sha256
        Expected sha256 of the content; default: the manifest's record.

    Raises
    ------
    GseaPlusError
        When the file is missing, corrupt, or its content does not match the sha256.
    """
    path = data_path(rel)
    data = path.read_bytes()
    if rel.endswith(".gz"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise GseaPlusError(f"package data file {path} is corrupt ({exc})") from exc
    expected = sha256 if sha256 is not None else manifest().get(rel, {}).get("sha256")
    if expected is not None and hashlib.sha256(data).hexdigest() != expected:
        raise GseaPlusError(
            f"package data file {path} does not match its recorded sha256; reinstall gsea-plus"
        )
    return data
