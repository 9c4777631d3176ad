r"""GMT parsing.

GMT rows are ``term<TAB>description<TAB>gene1<TAB>gene2...``. Fields are split on tabs
only (term names contain spaces). Enrichr's weighted form ``GENE,1.0`` keeps the symbol.
Symbols are upper-cased and de-duplicated within a term.

Rows end at ``\n`` (``\r\n`` too) and nowhere else: a form feed, a lone carriage
return, NEL (U+0085) or the Unicode line and paragraph separators inside a term name are
kept as part of the name (and reported once per file), never taken as a row break, so
a name is never cut in two. Rows that share a term name are merged into one gene set
(their genes in file order) with a warning naming the term and its lines: a library
needs unique term names, and dropping either row would lose genes.
"""

from __future__ import annotations

import gzip
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from gsea_plus.errors import LibraryError
from gsea_plus.textio import decode_text, read_user_bytes, split_rows

log = logging.getLogger(__name__)

__all__ = ["GeneSet", "iter_gmt", "parse_gmt_bytes", "parse_gmt_text", "read_gmt", "write_gmt"]

#: Characters that other tools take as line breaks, and C0/C1 controls other than tab.
_ODD = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


@dataclass(frozen=True)
class GeneSet:
    """One GMT row: term, description, and its unique upper-cased genes in file order."""

    term: str
    description: str
    genes: tuple[str, ...]


def _rows(text: str) -> Iterator[tuple[int, str]]:
    """``(line number, line)`` split at newlines only, without the line end."""
    yield from enumerate(split_rows(text), 1)


def _parse_row(line: str) -> GeneSet | None:
    fields = line.split("\t")
    if len(fields) < 3:
        return None
    term = fields[0].strip()
    seen: dict[str, None] = {}
    for gene in fields[2:]:
        gene = gene.split(",", 1)[0].strip().upper()
        if gene:
            seen.setdefault(gene, None)
    if not term or not seen:
        return None
    return GeneSet(term, fields[1].strip(), tuple(seen))


def iter_gmt(text: str, name: str = "GMT") -> Iterator[GeneSet]:
    """Yield gene sets from GMT text, row by row; malformed rows are skipped with a warning.

    Duplicate term names are yielded as they are; :func:`parse_gmt_text` merges them.
    """
    bad = 0
    for _, line in _rows(text):
        if not line.strip():
            continue
        row = _parse_row(line)
        if row is None:
            bad += 1
            continue
        yield row
    if bad:
        log.warning("%s: skipped %d malformed or empty rows", name, bad)


def _not_gmt(text: str) -> str | None:
    """Why ``text`` is some other document (HTML, XML, JSON), or ``None``."""
    head = text.lstrip("\ufeff \t\r\n")[:256].lower()
    if head.startswith(("<!doctype", "<html", "<?xml", "<head", "<body", "<!--")):
        return "it is an HTML or XML document"
    if head[:1] in ("{", "["):
        import json

        try:
            json.loads(text)
        except ValueError:
            return None
        return "it is a JSON document"
    return None


def parse_gmt_text(
    text: str, name: str = "GMT", *, strict: bool = False, merge_duplicates: bool = True
) -> list[GeneSet]:
    """Parse GMT text into gene sets.

    Parameters
    ----------
    text
        The GMT text.
    name
        The file or library name for messages.
    strict
        Refuse (instead of skipping with a warning) any non-blank row that is not a GMT
        row: used for downloads, where such a row means the answer is not a library.
    merge_duplicates
        Merge rows with the same term name (with a warning); otherwise keep every row.

    Raises
    ------
    LibraryError
        The text is an HTML/XML/JSON document, uses bare CR line ends, holds no usable
        gene set, or (``strict``) holds a row that is not a GMT row.
    """
    why = _not_gmt(text)
    if why is not None:
        raise LibraryError(f"{name}: not a GMT library ({why})")
    if "\r" in text and "\n" not in text:
        raise LibraryError(
            f"{name}: rows end with a bare carriage return (old Mac line ends); "
            "convert the file to \\n line ends"
        )
    sets: list[GeneSet] = []
    lines: list[int] = []
    skipped: list[int] = []
    odd: list[int] = []
    for number, line in _rows(text):
        if not line.strip():
            continue
        row = _parse_row(line)
        if row is None:
            if strict and len(line.split("\t")) < 3:
                raise LibraryError(
                    f"{name}, line {number}: not a GMT row (expected term<TAB>description"
                    f"<TAB>genes): {line[:60]!r}"
                )
            skipped.append(number)
            continue
        if _ODD.search(row.term) or _ODD.search(row.description):
            odd.append(number)
        sets.append(row)
        lines.append(number)
    if skipped:
        log.warning(
            "%s: skipped %d malformed or empty rows (line %s)",
            name,
            len(skipped),
            _some(skipped),
        )
    if odd:
        log.warning(
            "%s: %d term names or descriptions hold control or line-separator characters "
            "(line %s); kept as they are",
            name,
            len(odd),
            _some(odd),
        )
    if merge_duplicates:
        sets = _merge_duplicates(sets, lines, name)
    if not sets:
        raise LibraryError(
            f"{name}: no gene sets found (expected tab-separated rows: term, description, genes)"
        )
    return sets


def _some(numbers: list[int], n: int = 3) -> str:
    shown = ", ".join(map(str, numbers[:n]))
    return shown + (f" and {len(numbers) - n} more" if len(numbers) > n else "")


def _merge_duplicates(sets: list[GeneSet], lines: list[int], name: str) -> list[GeneSet]:
    where: dict[str, list[int]] = {}
    for i, s in enumerate(sets):
        where.setdefault(s.term, []).append(i)
    if len(where) == len(sets):
        return sets
    merged: list[GeneSet] = []
    dups: list[str] = []
    for term, idx in where.items():
        if len(idx) == 1:
            merged.append(sets[idx[0]])
            continue
        genes = dict.fromkeys(g for i in idx for g in sets[i].genes)
        description = next((sets[i].description for i in idx if sets[i].description), "")
        merged.append(GeneSet(term, description, tuple(genes)))
        dups.append(f"{term!r} (lines {', '.join(str(lines[i]) for i in idx)})")
    log.warning(
        "%s: %d term names appear on several rows; their genes were merged into one set: %s",
        name,
        len(dups),
        "; ".join(dups[:3]) + (f"; and {len(dups) - 3} more" if len(dups) > 3 else ""),
    )
    return merged


def parse_gmt_bytes(
    data: bytes, name: str = "GMT", *, strict: bool = False, merge_duplicates: bool = True
) -> list[GeneSet]:
    """Parse GMT bytes (gzip detected by magic number) into gene sets.

    See :func:`parse_gmt_text` for the parameters.

    Raises
    ------
    LibraryError
        When the data is not text, not a GMT library, or holds no usable gene set.
    """
    text = decode_text(data, name, error=LibraryError, what="a GMT file")
    return parse_gmt_text(text, name, strict=strict, merge_duplicates=merge_duplicates)


def read_gmt(path: str | Path, *, merge_duplicates: bool = True) -> list[GeneSet]:
    """Read a GMT file, gzipped or not, whatever its extension."""
    path = Path(path)
    data = read_user_bytes(path, error=LibraryError, what="a GMT file")
    if not data:
        raise LibraryError(f"{path}: the file is empty")
    return parse_gmt_bytes(data, str(path), merge_duplicates=merge_duplicates)


def write_gmt(sets: list[GeneSet], path: str | Path) -> None:
    """Write gene sets as GMT (gzipped when the name ends in ``.gz``), atomically.

    Raises
    ------
    LibraryError
        A term, description or gene holds a tab or a newline (the row would not read back).
    """
    from gsea_plus.library.cache import atomic_write

    for s in sets:
        for field in (s.term, s.description, *s.genes):
            if "\t" in field or "\n" in field:
                raise LibraryError(f"cannot write {path}: {field[:40]!r} holds a tab or newline")
    body = "".join(
        f"{s.term}\t{s.description}\t" + "\t".join(s.genes) + "\n" for s in sets
    ).encode()
    if str(path).endswith(".gz"):
        body = gzip.compress(body, compresslevel=6, mtime=0)
    atomic_write(Path(path), body)
