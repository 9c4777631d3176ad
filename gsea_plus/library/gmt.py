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

import codecs
import gzip
import logging
import re
import zlib
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from dataclasses import field as _field
from pathlib import Path

from gsea_plus.errors import LibraryError
from gsea_plus.textio import decode_text, read_user_bytes, split_rows

log = logging.getLogger(__name__)

__all__ = [
    "GeneSet",
    "ParsedGmt",
    "StreamUnsupported",
    "iter_gmt",
    "parse_gmt_bytes",
    "parse_gmt_stream",
    "parse_gmt_text",
    "read_gmt",
    "stream_text",
    "write_gmt",
]

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


# --------------------------------------------------------------------------- streaming


class StreamUnsupported(Exception):
    """The data needs the whole-text path, which reports its errors and warnings.

    An encoding other than UTF-8, gzip trouble, binary content, or a document that may be
    HTML or JSON.
    """


#: Bytes read or inflated per step of the streaming path.
_CHUNK = 1 << 22
#: How much of the text is looked at before committing to the streaming path.
_HEAD = 1 << 16
#: Characters of text split into lines at once.
_PIECE = 1 << 18


def stream_text(chunks: Iterable[bytes], name: str = "GMT") -> Iterator[str]:
    """Decode a GMT file's bytes (plain or gzip) as UTF-8 text, piece by piece.

    Only the common case streams: anything :func:`~gsea_plus.textio.decode_text` would
    treat specially (UTF-16, binary data, another 8-bit encoding, corrupt or oversized
    gzip) or that may not be a GMT table at all raises :class:`StreamUnsupported`, and
    the caller reads the file whole (and gets that path's errors and warnings).
    """
    from gsea_plus.library.limits import max_inflate_bytes
    from gsea_plus.textio import GZIP_MAGIC

    source = iter(chunks)
    first = b""
    for block in source:
        first += block
        if len(first) >= 2:
            break
    if first[:2] == GZIP_MAGIC:
        data: Iterator[bytes] = _gunzip_stream(first, source, max_inflate_bytes())
    else:
        data = _prepend(first, source)
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    head = b""
    started = False
    try:
        for block in data:
            if not started:
                head += block
                if len(head) < _HEAD:
                    continue
                _check_head(head)
                block, started = head, True
            yield decoder.decode(block)
        if not started:
            _check_head(head)
            yield decoder.decode(head)
        yield decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise StreamUnsupported(f"{name}: not UTF-8") from exc


def _prepend(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    if first:
        yield first
    yield from rest


def _check_head(head: bytes) -> None:
    """Refuse to stream what decode_text or _not_gmt would look at twice."""
    if head[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in head[:_HEAD]:
        raise StreamUnsupported("UTF-16 or binary data")
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if start in (b"<", b"{", b"["):
        raise StreamUnsupported("may be an HTML, XML or JSON document")


def _gunzip_stream(first: bytes, rest: Iterator[bytes], cap: int) -> Iterator[bytes]:
    """Inflate gzip members as they arrive; anything irregular is left to textio.gunzip."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    total = 0
    between = b""  # bytes after the end of a member: zero padding, then the next member
    for data in _chain(first, rest):
        while data:
            if inflater.eof:
                between += data
                data = b""
                stripped = between.lstrip(b"\x00")
                if len(stripped) < 2:
                    break  # padding so far, or too little to tell
                if stripped[:2] != b"\x1f\x8b":
                    raise StreamUnsupported("unexpected bytes after a gzip member")
                inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
                data, between = stripped, b""
            try:
                out = inflater.decompress(data, _CHUNK)
            except zlib.error as exc:
                raise StreamUnsupported(f"corrupt gzip data ({exc})") from exc
            data = inflater.unused_data if inflater.eof else inflater.unconsumed_tail
            total += len(out)
            if total > cap:
                raise StreamUnsupported("the gzip data inflates past the cap")
            if out:
                yield out
    if not inflater.eof or between.lstrip(b"\x00"):
        raise StreamUnsupported("the gzip stream is cut short")


def _chain(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest


#: Characters that make a row's genes need the per-gene path of _parse_row: whitespace
#: other than tab (stripped around genes) and commas (weights).
_SLOW_GENES = re.compile(r"[^\S\t]|,")


@dataclass
class ParsedGmt:
    """GMT rows as compact arrays: what :func:`parse_gmt_text` yields, without objects.

    Attributes
    ----------
    terms, descriptions
        Per gene set (duplicate term names merged, as :func:`parse_gmt_text` does).
    genes
        The gene symbols, in order of first appearance.
    indptr, gene_ids
        Set ``i``'s genes are ``genes[gene_ids[indptr[i]:indptr[i + 1]]]``, in file order.
    """

    terms: list[str]
    descriptions: list[str]
    genes: list[str]
    indptr: array = _field(default_factory=lambda: array("q", [0]))
    gene_ids: array = _field(default_factory=lambda: array("i"))


class _Rows:
    """Rows as they are parsed, held compactly (a few bytes per row and per gene).

    Term names and descriptions are kept as newline-joined blocks (a row cannot hold a
    newline), line numbers and gene ids in typed arrays; only the first few skipped or
    odd rows are remembered, with counts.
    """

    BLOCK = 1 << 16

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.gene_ids = array("i")
        self.indptr = array("q", [0])
        self.lines = array("i")
        self.term_blocks: list[str] = []
        self.desc_blocks: list[str] = []
        self.terms: list[str] = []
        self.descriptions: list[str] = []
        self.skipped: list[int] = []
        self.n_skipped = 0
        self.odd: list[int] = []
        self.n_odd = 0

    def add(self, line: str, number: int) -> None:
        """One row as :func:`_parse_row` reads it, its genes appended as ids."""
        if line.endswith("\r"):
            line = line[:-1]
        if not line.strip():
            return
        parts = line.split("\t", 2)
        if len(parts) < 3:
            self._skip(number)
            return
        rest = parts[2]
        if _SLOW_GENES.search(rest) is None:  # no weights, no spaces: the genes as they are
            genes = dict.fromkeys(rest.upper().split("\t"))
            genes.pop("", None)
        else:
            row = _parse_row(line)
            genes = dict.fromkeys(row.genes) if row is not None else {}
        term = parts[0].strip()
        if not term or not genes:
            self._skip(number)
            return
        description = parts[1].strip()
        if _ODD.search(term) or _ODD.search(description):
            self.n_odd += 1
            if len(self.odd) < 3:
                self.odd.append(number)
        index = self.index
        known = list(map(index.get, genes))
        if None in known:
            setdefault = index.setdefault
            known = [setdefault(g, len(index)) for g in genes]
        self.gene_ids.extend(known)  # type: ignore[arg-type]  # no None left
        self.indptr.append(len(self.gene_ids))
        self.lines.append(number)
        self.terms.append(term)
        self.descriptions.append(description)
        if len(self.terms) >= self.BLOCK:
            self._flush()

    def _skip(self, number: int) -> None:
        self.n_skipped += 1
        if len(self.skipped) < 3:
            self.skipped.append(number)

    def _flush(self) -> None:
        self.term_blocks.append("\n".join(self.terms))
        self.desc_blocks.append("\n".join(self.descriptions))
        self.terms, self.descriptions = [], []

    def finish(self) -> ParsedGmt:
        if self.terms:
            self._flush()
        terms = [t for block in self.term_blocks for t in block.split("\n")]
        descriptions = [d for block in self.desc_blocks for d in block.split("\n")]
        self.term_blocks = self.desc_blocks = []
        return ParsedGmt(terms, descriptions, list(self.index), self.indptr, self.gene_ids)


def parse_gmt_stream(texts: Iterable[str], name: str = "GMT") -> ParsedGmt:
    """:func:`parse_gmt_text` on text that arrives in pieces (never held whole).

    The same rows, warnings and errors as :func:`parse_gmt_text` (not ``strict``, with
    duplicate terms merged); genes go straight to integer ids, so memory holds 4 bytes
    per gene of the library instead of a Python string per gene.

    Raises
    ------
    LibraryError
        Bare carriage-return line ends, or no usable gene set.
    """
    rows = _Rows()
    number = 0
    carry = ""
    saw_cr = saw_nl = False
    for piece in texts:
        # a few hundred kB at a time: the lines of a piece exist as objects together
        for at in range(0, len(piece), _PIECE):
            text = piece[at : at + _PIECE]
            saw_cr = saw_cr or "\r" in text
            saw_nl = saw_nl or "\n" in text
            lines = (carry + text).split("\n")
            carry = lines.pop()
            for line in lines:
                number += 1
                rows.add(line, number)
    if carry:
        rows.add(carry, number + 1)
    if saw_cr and not saw_nl:
        raise LibraryError(
            f"{name}: rows end with a bare carriage return (old Mac line ends); "
            "convert the file to \\n line ends"
        )
    if rows.n_skipped:
        log.warning(
            "%s: skipped %d malformed or empty rows (line %s)",
            name,
            rows.n_skipped,
            _some_of(rows.skipped, rows.n_skipped),
        )
    if rows.n_odd:
        log.warning(
            "%s: %d term names or descriptions hold control or line-separator characters "
            "(line %s); kept as they are",
            name,
            rows.n_odd,
            _some_of(rows.odd, rows.n_odd),
        )
    lines_of = rows.lines
    out = rows.finish()
    _merge_duplicate_rows(out, lines_of, name)
    if not out.terms:
        raise LibraryError(
            f"{name}: no gene sets found (expected tab-separated rows: term, description, genes)"
        )
    return out


def _some_of(first: list[int], total: int) -> str:
    """:func:`_some` from the first few numbers and the count."""
    shown = ", ".join(map(str, first[:3]))
    return shown + (f" and {total - 3} more" if total > 3 else "")


def _merge_duplicate_rows(out: ParsedGmt, lines: array, name: str) -> None:
    """:func:`_merge_duplicates` on the compact rows."""
    where: dict[str, list[int]] = {}
    for i, term in enumerate(out.terms):
        where.setdefault(term, []).append(i)
    if len(where) == len(out.terms):
        return
    ids, ptr = out.gene_ids, out.indptr
    terms: list[str] = []
    descriptions: list[str] = []
    new_ids = array("i")
    new_ptr = array("q", [0])
    dups: list[str] = []
    for term, rows in where.items():
        if len(rows) == 1:
            i = rows[0]
            new_ids.extend(ids[ptr[i] : ptr[i + 1]])
            description = out.descriptions[i]
        else:
            merged = dict.fromkeys(g for i in rows for g in ids[ptr[i] : ptr[i + 1]])
            new_ids.extend(merged)
            description = next((out.descriptions[i] for i in rows if out.descriptions[i]), "")
            dups.append(f"{term!r} (lines {', '.join(str(lines[i]) for i in rows)})")
        new_ptr.append(len(new_ids))
        terms.append(term)
        descriptions.append(description)
    log.warning(
        "%s: %d term names appear on several rows; their genes were merged into one set: %s",
        name,
        len(dups),
        "; ".join(dups[:3]) + (f"; and {len(dups) - 3} more" if len(dups) > 3 else ""),
    )
    out.terms, out.descriptions, out.gene_ids, out.indptr = terms, descriptions, new_ids, new_ptr
