"""The catalog of known libraries (the top-level ``libraries/catalog.tsv``)."""

from __future__ import annotations

import csv
import difflib
import io
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from gsea_plus.errors import LibraryError

__all__ = [
    "CatalogEntry",
    "bundled_entries",
    "catalog",
    "catalog_path",
    "find_entry",
    "suggest",
]

_COLUMNS = ("name", "aliases", "species", "category", "license", "description", "bundled")
_BUNDLED_RE = re.compile(r"^(?P<file>[A-Za-z0-9_.\-]+\.gmt\.gz)#sha256=(?P<sha>[0-9a-f]{64})$")


@dataclass(frozen=True)
class CatalogEntry:
    """One row of the catalog."""

    name: str
    aliases: tuple[str, ...]
    species: str
    category: str
    license: str
    description: str
    #: File name under ``gsea_plus/data/libraries/`` of a library shipped in the package.
    bundled: str = ""
    #: sha256 of the bundled file's uncompressed text (checked on load).
    bundled_sha256: str = ""

    @property
    def is_bundled(self) -> bool:
        """Whether the library ships inside the package (loads with no network)."""
        return bool(self.bundled)


def catalog_path() -> Path:
    """Where the catalog is: inside the installed package, else the source checkout."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (
        here / "_libraries" / "catalog.tsv",
        here.parent / "libraries" / "catalog.tsv",
    ):
        if candidate.is_file():
            return candidate
    raise LibraryError("the library catalog (catalog.tsv) is missing from the installation")


def parse_catalog(text: str) -> list[CatalogEntry]:
    """Parse catalog TSV text, checking columns and uniqueness of names and aliases."""
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    reader = csv.DictReader(io.StringIO("\n".join(lines)), delimiter="\t")
    if tuple(reader.fieldnames or ()) != _COLUMNS:
        raise LibraryError(f"catalog columns must be {', '.join(_COLUMNS)}")
    entries: list[CatalogEntry] = []
    seen: dict[str, str] = {}
    for row in reader:
        aliases = tuple(a.strip() for a in (row["aliases"] or "").split(",") if a.strip())
        bundled = (row["bundled"] or "").strip()
        match = _BUNDLED_RE.match(bundled)
        if bundled and match is None:
            raise LibraryError(
                f"catalog: bundled cell of {row['name']!r} must be FILE.gmt.gz#sha256=HEX"
            )
        entry = CatalogEntry(
            name=row["name"].strip(),
            aliases=aliases,
            species=(row["species"] or "").strip(),
            category=(row["category"] or "").strip(),
            license=(row["license"] or "").strip(),
            description=(row["description"] or "").strip(),
            bundled=match.group("file") if match else "",
            bundled_sha256=match.group("sha") if match else "",
        )
        for key in (entry.name, *entry.aliases):
            folded = key.casefold()
            if folded in seen:
                raise LibraryError(f"catalog: {key!r} is used twice ({seen[folded]}, {entry.name})")
            seen[folded] = entry.name
        entries.append(entry)
    return entries


@lru_cache(maxsize=1)
def catalog() -> tuple[CatalogEntry, ...]:
    """All catalog entries, in file order."""
    return tuple(parse_catalog(catalog_path().read_text(encoding="utf-8")))


def bundled_entries() -> tuple[CatalogEntry, ...]:
    """The libraries shipped inside the package, in catalog order."""
    return tuple(e for e in catalog() if e.is_bundled)


def find_entry(name: str) -> CatalogEntry | None:
    """The entry whose name or alias matches ``name`` (case-insensitive), if any."""
    folded = name.casefold()
    for entry in catalog():
        if entry.name.casefold() == folded or folded in (a.casefold() for a in entry.aliases):
            return entry
    return None


def suggest(name: str, extra: list[str] | None = None, n: int = 3) -> list[str]:
    """Close names from the catalog (names and aliases) and ``extra`` names."""
    pool = [k for e in catalog() for k in (e.name, *e.aliases)] + list(extra or [])
    by_fold = {p.casefold(): p for p in pool}
    close = difflib.get_close_matches(name.casefold(), list(by_fold), n=n, cutoff=0.5)
    return [by_fold[c] for c in close]
