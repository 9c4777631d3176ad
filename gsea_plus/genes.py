r"""Reading gene lists.

A gene list comes from a file, standard input (``-``) or a Python iterable. Parsing
tolerates what users paste: one gene per line or several separated by commas, tabs or
spaces, ``#`` comments, an optional header line, Enrichr's ``GENE,weight`` form, a UTF-8
byte-order mark, CRLF line ends, stray whitespace and right-aligned columns.
Symbols are upper-cased (matching is case-insensitive), duplicates are removed keeping
the first occurrence, and spreadsheet-mangled symbols (``1-Mar``, ``7-Sep``) are
recognized and reported.

Characters
----------
- Rows are split on ``\n`` and ``\r\n`` only, never on other Unicode line breaks.
- Invisible format characters (zero-width space and joiners, word joiner, a byte-order
  mark anywhere, soft hyphen, bidi marks) are removed from tokens.
- Unicode spaces (no-break space U+00A0, narrow no-break space, ideographic space, ...)
  separate tokens like an ordinary space.
- A token that still holds a control character (a lone CR, form feed, vertical tab,
  NEL, NUL, ...) or a line/paragraph separator (U+2028, U+2029) cannot be a gene
  name: it is dropped, listed in :attr:`GeneList.invalid` and warned about.

Numbers
-------
A row holding only positive integers is read as Entrez gene IDs (one per number); a
row ``ID,number`` is an identifier with a weight (``TP53,2.5``, ``7157,2.5``). Other
rows holding only numbers are skipped with a warning. Identifier conversion (Entrez,
Ensembl, aliases, mouse symbols) is :mod:`gsea_plus.idmap`'s job.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from gsea_plus.errors import InputError
from gsea_plus.idmap import Conversion, IdMap, load_idmap
from gsea_plus.textio import read_user_text

log = logging.getLogger(__name__)

__all__ = [
    "GeneList",
    "convert_gene_list",
    "SymbolMapper",
    "load_mapper",
    "parse_gene_text",
    "parse_gene_text_fully",
    "read_gene_list",
    "resolve_mangled",
]

#: The former alias matcher; :class:`~gsea_plus.idmap.IdMap` does its job and more.
SymbolMapper = IdMap

#: Header words recognized on the first line of a gene list (compared upper-cased).
HEADER_WORDS = frozenset(
    {
        "GENE",
        "GENES",
        "SYMBOL",
        "SYMBOLS",
        "GENE_SYMBOL",
        "GENESYMBOL",
        "GENE SYMBOL",
        "GENE_NAME",
        "GENE_ID",
        "HGNC_SYMBOL",
        "HGNC",
        "ID",
        "NAME",
        "WEIGHT",
        "SCORE",
        "VALUE",
        "LOGFC",
        "LOG2FOLDCHANGE",
        "BASEMEAN",
        "ENTREZ",
        "ENTREZID",
        "ENTREZ_ID",
        "ENTREZGENE",
        "ENSEMBL",
        "ENSEMBL_ID",
        "ENSEMBL_GENE_ID",
        "GENEID",
    }
)

# Excel turns these gene families into dates. Keys are the month abbreviations it
# writes; values are the current HGNC prefix followed by the pre-2020 one.
_MANGLED_FAMILIES: dict[str, tuple[str, ...]] = {
    "SEP": ("SEPTIN", "SEPT"),
    "MAR": ("MARCHF", "MARCH"),
    "DEC": ("DELEC", "DEC"),
}
_MANGLED_RE = re.compile(r"^(?:(?P<d1>\d{1,2})-(?P<m1>[A-Z]{3})|(?P<m2>[A-Z]{3})-(?P<d2>\d{1,2}))$")
_SPLIT_RE = re.compile(r"[,\t; ]+")
# Invisible format characters (Unicode category Cf): removed wherever they are.
_INVISIBLE_RE = re.compile(
    "[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]"
)
# Unicode space separators (category Zs) other than the ASCII space: read as a space.
_SPACES_RE = re.compile("[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
# Control characters (but tab and newline) and line/paragraph separators.
_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_ENTREZ_RE = re.compile(r"^[1-9]\d{0,9}$")
_NUMBER_RE = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^[-+]?(inf|nan)$", re.I)


def resolve_mangled(token: str) -> tuple[str, ...] | None:
    """Return candidate symbols for a spreadsheet-mangled name, or ``None``.

    ``"7-Sep"`` gives ``("SEPTIN7", "SEPT7")``: the current HGNC symbol first, then the
    symbol Excel originally mangled.

    Parameters
    ----------
    token
        One token from a gene list.
    """
    match = _MANGLED_RE.match(token.strip().upper())
    if match is None:
        return None
    month = match.group("m1") or match.group("m2")
    day = int(match.group("d1") or match.group("d2"))
    prefixes = _MANGLED_FAMILIES.get(month)
    if prefixes is None or day == 0:
        return None
    return tuple(f"{prefix}{day}" for prefix in prefixes)


def _is_number(token: str) -> bool:
    return bool(_NUMBER_RE.match(token))


@dataclass
class GeneList:
    """A parsed gene list.

    Attributes
    ----------
    genes
        Unique upper-cased symbols in input order (mangled names already resolved to
        their first candidate; see :attr:`mangled`).
    weights
        Weight per gene when the input had ``GENE,weight`` rows, else empty.
    duplicates
        Symbols that appeared more than once (case-insensitive).
    mangled
        Original token -> candidate symbols, for spreadsheet-mangled names.
    header
        The header line that was skipped, if any.
    original
        Symbol -> the token as typed, when it differed only in case (``Trp53``); the
        ID map uses it to recognize mouse symbols.
    invalid
        Tokens dropped because they hold control characters or Unicode line separators.
    """

    genes: list[str]
    weights: dict[str, float] = field(default_factory=dict)
    duplicates: list[str] = field(default_factory=list)
    mangled: dict[str, tuple[str, ...]] = field(default_factory=dict)
    header: str | None = None
    original: dict[str, str] = field(default_factory=dict)
    invalid: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.genes)

    def renamed(self, mapping: Mapping[str, str]) -> list[str]:
        """The genes renamed by ``mapping`` (e.g. aliases), in order and unique; no mutation."""
        if not mapping:
            return list(self.genes)
        return list(dict.fromkeys(mapping.get(g, g) for g in self.genes))

    def mangled_fixes(self, universe: Mapping[str, object] | set[str]) -> dict[str, str]:
        """Which mangled genes a universe knows under their other candidate; no mutation.

        Returns a mapping from the symbol in :attr:`genes` to the candidate the universe
        contains (only genes whose first candidate the universe lacks).
        """
        changed: dict[str, str] = {}
        for candidates in self.mangled.values():
            current = candidates[0]
            if current in universe:
                continue
            for alt in candidates[1:]:
                if alt in universe and alt not in self.genes:
                    changed[current] = alt
                    break
        return changed

    def resolve_against(self, universe: Mapping[str, object] | set[str]) -> dict[str, str]:
        """Re-point this list's mangled genes to the candidates the universe contains.

        Changes :attr:`genes` in place and returns :meth:`mangled_fixes`.
        """
        changed = self.mangled_fixes(universe)
        if changed:
            self.genes = [changed.get(g, g) for g in self.genes]
        return changed


def _is_entrez(token: str) -> bool:
    return bool(_ENTREZ_RE.match(token))


# Characters that the full parser treats specially (separators, comments, quotes,
# whitespace, line breaks other than \n) or that upper() might change unexpectedly.
_NOT_PLAIN = re.compile(r"[^A-Za-z0-9_.\-\n/:+@()\[\]|*]")
# Whole tokens that are numbers (Entrez IDs, weights) or spreadsheet-mangled names.
_SPECIAL_TOKEN = re.compile(
    r"^(?:[-+]?(?:\d+\.?\d*|\.\d+)(?:E[-+]?\d+)?|[-+]?(?:INF|NAN)"
    r"|\d{1,2}-[A-Z]{3}|[A-Z]{3}-\d{1,2})$",
    re.M,
)


def _mark(seen: set[str], item: str) -> bool:
    """Add an item to a set and return False, to find repeats in one pass."""
    seen.add(item)
    return False


def _plain_symbols(text: str) -> GeneList | None:
    """The list when ``text`` is one plain symbol per line (the usual case), else None.

    For such text parsing reduces to upper-casing and de-duplicating; anything else
    (separators, quotes, comments, numbers, spreadsheet-mangled names, a header word
    first, non-ASCII) is left to the full parser, so the result is always the same
    (``tests/test_batch.py`` checks it on generated lists).
    """
    if _NOT_PLAIN.search(text) is not None:
        return None
    upper = text.upper()
    if _SPECIAL_TOKEN.search(upper) is not None:
        return None
    symbols = [t for t in upper.split("\n") if t]
    if not symbols:
        return GeneList(genes=[])
    if symbols[0] in HEADER_WORDS:
        return None
    genes = list(dict.fromkeys(symbols))
    dups: list[str] = []
    if len(genes) < len(symbols):
        seen: set[str] = set()
        dups = sorted({s for s in symbols if s in seen or _mark(seen, s)})
    original: dict[str, str] = {}
    if upper != text:  # the spelling of each symbol's first occurrence, where it differs
        first: dict[str, str] = {}
        for token, symbol in zip([t for t in text.split("\n") if t], symbols, strict=True):
            first.setdefault(symbol, token)
        original = {s: t for s, t in first.items() if t != s}
    return GeneList(genes=genes, duplicates=dups, original=original)


def parse_gene_text(text: str) -> GeneList:
    """Parse the text of a gene list.

    Parameters
    ----------
    text
        File contents. A byte-order mark and CRLF line ends are tolerated; see the
        module docstring for other characters and for numbers.

    Returns
    -------
    GeneList
        The unique identifiers, upper-cased, in input order.
    """
    plain = _plain_symbols(text)
    return plain if plain is not None else parse_gene_text_fully(text)


def parse_gene_text_fully(text: str) -> GeneList:
    """:func:`parse_gene_text` without the fast path for plain symbols (the reference)."""
    seen: dict[str, None] = {}
    weights: dict[str, float] = {}
    duplicates: list[str] = []
    mangled: dict[str, tuple[str, ...]] = {}
    original: dict[str, str] = {}
    invalid: list[str] = []
    header: str | None = None
    first_content = True
    numeric_only: list[str] = []
    if not text.isascii():
        text = _SPACES_RE.sub(" ", _INVISIBLE_RE.sub("", text))
    text = text.replace("\r\n", "\n")
    controls = _CONTROL_RE.search(text) is not None
    for raw in text.split("\n"):
        # a CR ending a row is a line end (CRCRLF, a last row without LF); inside a row
        # a lone CR is reported below
        line = raw.rstrip("\r").split("#", 1)[0].strip(" \t")
        if not line:
            continue
        tokens = [t.strip('"').strip("'") for t in _SPLIT_RE.split(line)]
        tokens = [t for t in tokens if t]
        if controls and _CONTROL_RE.search(line) is not None:
            invalid.extend(t for t in tokens if _CONTROL_RE.search(t))
            tokens = [t for t in tokens if not _CONTROL_RE.search(t)]
        if not tokens:
            continue
        if first_content:
            first_content = False
            upper = [t.upper() for t in tokens]
            if upper[0] in HEADER_WORDS or " ".join(upper) in HEADER_WORDS:
                header = line
                continue
        weight: float | None = None
        if _is_number(tokens[0]) and all(_is_number(t) for t in tokens):
            if all(_is_entrez(t) for t in tokens):  # Entrez IDs, one or several
                symbols = tokens
            elif len(tokens) >= 2 and _is_entrez(tokens[0]):  # "7157,2.5"
                symbols = [tokens[0]]
                weight = float(tokens[1])
            else:
                numeric_only.append(line)
                continue
        elif len(tokens) >= 2 and all(_is_number(t) for t in tokens[1:]):
            # "GENE,weight" / "GENE<TAB>score": one identifier followed only by numbers.
            symbols = [tokens[0]]
            weight = float(tokens[1])
        else:
            symbols = [t for t in tokens if not _is_number(t)]
        for token in symbols:
            candidates = resolve_mangled(token)
            if candidates is not None:
                mangled[token] = candidates
                symbol = candidates[0]
            else:
                symbol = token.upper()
            if symbol in seen:
                duplicates.append(symbol)
                continue
            seen[symbol] = None
            if candidates is None and token != symbol:
                original[symbol] = token
            if weight is not None:
                weights[symbol] = weight
    if numeric_only:
        log.warning(
            "skipped %d rows holding only numbers that are not gene IDs (e.g. %s)",
            len(numeric_only),
            ", ".join(numeric_only[:5]),
        )
    if invalid:
        log.warning(
            "dropped %d tokens holding control characters or Unicode line separators "
            "(rows are split on \\n and \\r\\n only): %s",
            len(invalid),
            _show_invalid(invalid),
        )
    return GeneList(
        genes=list(seen),
        weights=weights,
        duplicates=sorted(set(duplicates)),
        mangled=mangled,
        header=header,
        original=original,
        invalid=invalid,
    )


def _show_invalid(tokens: list[str], limit: int = 3) -> str:
    shown = ", ".join(ascii(t)[:60] for t in tokens[:limit])
    if any("\r" in t for t in tokens):
        shown += " (lone CR line ends? save the file with LF or CRLF line ends)"
    return shown


def read_gene_list(source: str | Path | Iterable[str]) -> GeneList:
    """Read a gene list from a path, ``"-"`` (standard input) or an iterable of symbols.

    Parameters
    ----------
    source
        A path to a text file (gzip allowed), ``"-"`` for standard input, or an
        iterable of gene symbols (each item may itself hold several separated symbols).

    Raises
    ------
    InputError
        When the file cannot be read or decoded, or when it holds no gene.
    """
    if isinstance(source, (str, Path)):
        name = str(source)
        text = read_gene_text(name)
    else:
        items = list(source)
        if not all(isinstance(g, str) for g in items):
            raise InputError("gene list items must be strings")
        text = "\n".join(items)
        name = "gene list"
    genes = parse_gene_text(text)
    if not genes.genes:
        more = ""
        if genes.invalid:
            more = (
                f" ({len(genes.invalid)} tokens dropped for control characters: "
                f"{_show_invalid(genes.invalid)})"
            )
        raise InputError(f"{name}: the gene list is empty{more}")
    return genes


def read_gene_text(path: str | Path) -> str:
    """The text of a gene list file (or ``"-"``, standard input), with clear errors."""
    return read_user_text(path, error=InputError, what="a gene list file")


def load_mapper(hgnc: str | os.PathLike | SymbolMapper | None) -> SymbolMapper | None:
    """The alias mapper for an HGNC table path (read once per process), a mapper, or None."""
    if hgnc is None:
        return None
    from gsea_plus.idmap import load_idmap

    return load_idmap(hgnc)


def convert_gene_list(
    gene_list: GeneList,
    idmap: IdMap | None = None,
    *,
    species: str = "human",
) -> tuple[GeneList, Conversion]:
    """Convert a parsed gene list to current symbols; the input list is not changed.

    Weights follow their gene (the first occurrence wins when two inputs become the same
    symbol, e.g. ``TP53`` and ``ENSG00000141510``); such collapses are added to
    ``duplicates``.

    Parameters
    ----------
    gene_list
        A parsed list (genes upper-cased by the parser).
    idmap
        Default: :func:`~gsea_plus.idmap.load_idmap` (the bundled map).
    species
        ``"human"`` or ``"mouse"``; see :meth:`~gsea_plus.idmap.IdMap.convert`.

    Returns
    -------
    (GeneList, Conversion)
        A new list of unique current symbols in input order, and the report.
    """
    idmap = idmap if idmap is not None else load_idmap()
    conversion = idmap.convert(gene_list.genes, species=species, originals=gene_list.original)
    genes: dict[str, None] = {}
    weights: dict[str, float] = {}
    collapsed: list[str] = []
    for token, symbol in zip(gene_list.genes, conversion.symbols, strict=True):
        if symbol in genes:
            collapsed.append(symbol)
            continue
        genes[symbol] = None
        if token in gene_list.weights:
            weights[symbol] = gene_list.weights[token]
    new = GeneList(
        genes=list(genes),
        weights=weights,
        duplicates=sorted(set(gene_list.duplicates) | set(collapsed)),
        mangled=dict(gene_list.mangled),
        header=gene_list.header,
        original=dict(gene_list.original),
        invalid=list(gene_list.invalid),
    )
    return new, conversion
