"""GMT parsing.

GMT rows are ``term<TAB>description<TAB>gene1<TAB>gene2...``. Fields are split on tabs
only (term names contain spaces). Enrichr's weighted form ``GENE,1.0`` keeps the symbol.
Symbols are upper-cased and de-duplicated within a term.
"""

from __future__ import annotations

import gzip
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from gsea_plus.errors import LibraryError
from gsea_plus.textio import decode_text, read_user_bytes

log = logging.getLogger(__name__)

__all__ = ["GeneSet", "iter_gmt", "parse_gmt_bytes", "read_gmt", "write_gmt"]


@dataclass(frozen=True)
class GeneSet:
    """One GMT row: term, description, and its unique upper-cased genes in file order."""

    term: str
    description: str
    genes: tuple[str, ...]


def iter_gmt(text: str, name: str = "GMT") -> Iterator[GeneSet]:
    """Yield gene sets from GMT text; rows without a tab or without genes are skipped."""
    bad = 0
    for raw in text.splitlines():
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) < 3:
            bad += 1
            continue
        term = fields[0].strip()
        seen: dict[str, None] = {}
        for gene in fields[2:]:
            gene = gene.split(",", 1)[0].strip().upper()
            if gene:
                seen.setdefault(gene, None)
        if not term or not seen:
            bad += 1
            continue
        yield GeneSet(term, fields[1].strip(), tuple(seen))
    if bad:
        log.warning("%s: skipped %d malformed or empty rows", name, bad)


def parse_gmt_bytes(data: bytes, name: str = "GMT") -> list[GeneSet]:
    """Parse GMT bytes (gzip detected by magic number) into gene sets.

    Raises
    ------
    LibraryError
        When the data is not text or holds no usable gene set.
    """
    text = decode_text(data, name, error=LibraryError, what="a GMT file")
    sets = list(iter_gmt(text, name))
    if not sets:
        raise LibraryError(
            f"{name}: no gene sets found (expected tab-separated rows: term, description, genes)"
        )
    return sets


def read_gmt(path: str | Path) -> list[GeneSet]:
    """Read a GMT file, gzipped or not, whatever its extension."""
    path = Path(path)
    data = read_user_bytes(path, error=LibraryError, what="a GMT file")
    if not data:
        raise LibraryError(f"{path}: the file is empty")
    return parse_gmt_bytes(data, str(path))


def write_gmt(sets: list[GeneSet], path: str | Path) -> None:
    """Write gene sets as GMT (gzipped when the name ends in ``.gz``), atomically."""
    from gsea_plus.library.cache import atomic_write

    body = "".join(
        f"{s.term}\t{s.description}\t" + "\t".join(s.genes) + "\n" for s in sets
    ).encode()
    if str(path).endswith(".gz"):
        body = gzip.compress(body, compresslevel=6, mtime=0)
    atomic_write(Path(path), body)
