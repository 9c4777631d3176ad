"""Reading gene lists and normalizing gene symbols.

A gene list comes from a file, standard input (``-``) or a Python iterable. Parsing
tolerates what users paste: one gene per line or several separated by commas, tabs or
spaces, ``#`` comments, an optional header line, Enrichr's ``GENE,weight`` form, a UTF-8
byte-order mark, CRLF line ends, stray whitespace and right-aligned columns.
Symbols are upper-cased (matching is case-insensitive), duplicates are removed keeping
the first occurrence, and spreadsheet-mangled symbols (``1-Mar``, ``7-Sep``) are
recognized and reported.
"""

from __future__ import annotations

import io
import logging
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from gsea_plus.errors import InputError
from gsea_plus.textio import read_user_text

log = logging.getLogger(__name__)

__all__ = [
    "GeneList",
    "SymbolMapper",
    "load_mapper",
    "parse_gene_text",
    "read_gene_list",
    "resolve_mangled",
]

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
    """

    genes: list[str]
    weights: dict[str, float] = field(default_factory=dict)
    duplicates: list[str] = field(default_factory=list)
    mangled: dict[str, tuple[str, ...]] = field(default_factory=dict)
    header: str | None = None

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


def parse_gene_text(text: str) -> GeneList:
    """Parse the text of a gene list.

    Parameters
    ----------
    text
        File contents. A leading byte-order mark and CRLF line ends are tolerated.

    Returns
    -------
    GeneList
        The unique symbols, upper-cased, in input order.
    """
    text = text.lstrip("\ufeff")
    seen: dict[str, None] = {}
    weights: dict[str, float] = {}
    duplicates: list[str] = []
    mangled: dict[str, tuple[str, ...]] = {}
    header: str | None = None
    first_content = True
    numeric_only: list[str] = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        tokens = [t.strip().strip('"').strip("'") for t in _SPLIT_RE.split(line)]
        tokens = [t for t in tokens if t]
        if not tokens:
            continue
        if first_content:
            first_content = False
            upper = [t.upper() for t in tokens]
            if upper[0] in HEADER_WORDS or " ".join(upper) in HEADER_WORDS:
                header = line
                continue
        # "GENE,weight" / "GENE<TAB>score": one symbol followed only by numbers.
        if len(tokens) >= 2 and all(_is_number(t) for t in tokens[1:]):
            symbols = [tokens[0]]
            weight: float | None = float(tokens[1])
        else:
            symbols = [t for t in tokens if not _is_number(t)]
            weight = None
            if not symbols:
                numeric_only.append(tokens[0])
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
            if weight is not None:
                weights[symbol] = weight
    if numeric_only:
        log.warning(
            "skipped %d lines holding only numbers, not gene symbols (e.g. %s)",
            len(numeric_only),
            ", ".join(numeric_only[:5]),
        )
    return GeneList(
        genes=list(seen),
        weights=weights,
        duplicates=sorted(set(duplicates)),
        mangled=mangled,
        header=header,
    )


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
        raise InputError(f"{name}: the gene list is empty")
    return genes


def read_gene_text(path: str | Path) -> str:
    """The text of a gene list file (or ``"-"``, standard input), with clear errors."""
    return read_user_text(path, error=InputError, what="a gene list file")


class SymbolMapper:
    """Map aliases and previous symbols to current HGNC symbols.

    Built from the HGNC complete set (columns ``symbol``, ``alias_symbol``,
    ``prev_symbol``; ``|``-separated lists). Current symbols win over previous symbols,
    which win over aliases; an alias shared by several genes is ambiguous and left
    unmapped.
    """

    def __init__(self, mapping: dict[str, str], approved: set[str]):
        self.mapping = mapping
        self.approved = approved
        self._universes: dict[tuple[int, int], tuple[Mapping[str, object], dict[str, str]]] = {}

    @classmethod
    def from_hgnc(cls, path: str | Path) -> SymbolMapper:
        """Read an HGNC complete-set TSV (optionally gzipped)."""
        import csv

        path = Path(path)
        text = read_user_text(path, what="an HGNC table")
        reader = csv.DictReader(io.StringIO(text), delimiter="\t")
        fields = set(reader.fieldnames or [])
        if "symbol" not in fields:
            raise InputError(f"{path}: not an HGNC table (no 'symbol' column)")
        approved: set[str] = set()
        prev: dict[str, set[str]] = {}
        alias: dict[str, set[str]] = {}
        for row in reader:
            symbol = (row.get("symbol") or "").strip().upper()
            if not symbol:
                continue
            approved.add(symbol)
            for column, target in (("prev_symbol", prev), ("alias_symbol", alias)):
                for other in (row.get(column) or "").replace('"', "").split("|"):
                    other = other.strip().upper()
                    if other:
                        target.setdefault(other, set()).add(symbol)
        mapping: dict[str, str] = {}
        for table in (alias, prev):  # later tables override earlier ones
            for other, symbols in table.items():
                if len(symbols) == 1 and other not in approved:
                    mapping[other] = next(iter(symbols))
        return cls(mapping, approved)

    def _by_current(self, universe: Mapping[str, object]) -> dict[str, str]:
        """Current symbol -> universe symbol, built once per universe (batches reuse it)."""
        key = (id(universe), len(universe))
        cached = self._universes.get(key)
        if cached is None or cached[0] is not universe:
            table: dict[str, str] = {}
            for u in universe:
                table.setdefault(self.normalize(u), u)
            cached = (universe, table)
            self._universes[key] = cached
        return cached[1]

    def normalize(self, symbol: str) -> str:
        """Return the current symbol for ``symbol`` (upper-cased), or it unchanged."""
        symbol = symbol.upper()
        if symbol in self.approved:
            return symbol
        return self.mapping.get(symbol, symbol)

    def normalize_many(self, symbols: Iterable[str]) -> list[str]:
        """Normalize each symbol; see :meth:`normalize`."""
        return [self.normalize(s) for s in symbols]

    def match(self, genes: Iterable[str], universe: Mapping[str, object]) -> dict[str, str]:
        """Map genes missing from ``universe`` to the universe symbol of the same gene.

        A gene matches when its current symbol is in the universe, or when a universe
        symbol normalizes to the same current symbol (the library uses an older name).
        Returns ``{input symbol: universe symbol}`` for the genes that could be matched.
        """
        missing = [g for g in genes if g not in universe]
        if not missing:
            return {}
        by_current = self._by_current(universe)
        out: dict[str, str] = {}
        for g in missing:
            current = self.normalize(g)
            target = current if current in universe else by_current.get(current)
            if target is not None and target != g:
                out[g] = target
        return out


_MAPPERS: dict[str, SymbolMapper] = {}


def load_mapper(hgnc: str | os.PathLike | SymbolMapper | None) -> SymbolMapper | None:
    """The alias mapper for an HGNC table path (read once per process), a mapper, or None."""
    if hgnc is None or isinstance(hgnc, SymbolMapper):
        return hgnc
    path = os.fspath(hgnc)
    if path not in _MAPPERS:
        _MAPPERS[path] = SymbolMapper.from_hgnc(path)
    return _MAPPERS[path]
