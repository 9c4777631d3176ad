"""Converting gene identifiers to current HGNC symbols.

Gene lists arrive as current symbols, outdated symbols (``SEPT7``), aliases (``P53``),
Ensembl gene IDs (``ENSG00000141510`` or, from GENCODE-based pipelines such as DESeq2 on
a GENCODE annotation, ``ENSG00000141510.17``), Entrez gene IDs (``7157``) or mouse
symbols (``Trp53``). Libraries use current human symbols. :class:`IdMap` converts every
one of these to the current symbol before matching and reports what it did.

The default map ships in the package (``gsea_plus/data/idmap/``, built by
``scripts/build_package_data.py`` from the HGNC complete set and HomoloGene; see
``gsea_plus/data/SOURCES.md``). ``--hgnc FILE`` (:meth:`IdMap.from_hgnc`) replaces the
human part with a newer HGNC complete set.

Precedence, for one upper-cased token (human)
---------------------------------------------
1. an approved symbol is kept as is (even when it is also another gene's alias);
2. an Ensembl gene ID (``ENSG`` + 11 digits, optional ``.version`` and ``_PAR_Y``
   suffixes) or an Entrez ID (digits only) maps to its gene (an ID wins over a symbol
   of the same text: ``225`` is EGR1's alias but ABCD2's Entrez ID, and reads as ABCD2);
3. a previous symbol maps to the gene that had it;
4. an alias maps to its gene.

A key shared by several genes (at the first step that knows it) is *ambiguous*: it is
left unconverted and listed with its candidates. A token nothing knows is *unknown* and
is kept as is (a custom library may still contain it).

With ``species="mouse"``, mouse symbols (case-insensitive) and mouse Entrez IDs map to
their human orthologs (HomoloGene 2014; human symbols re-pointed to current ones). A
mouse symbol with several human orthologs is ambiguous unless one of them has the same
name. Tokens without a human ortholog are reported (as "without a human ortholog"); the
mouse table knows 2014 mouse symbols only, not mouse aliases or Ensembl IDs.
"""

from __future__ import annotations

import logging
import os
import re
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from gsea_plus.errors import InputError
from gsea_plus.options import SPECIES, hgnc_default

log = logging.getLogger(__name__)

__all__ = [
    "SPECIES",
    "Conversion",
    "IdMap",
    "hgnc_tables",
    "index_entries",
    "index_text",
    "load_idmap",
]


# Conversion kinds, as shown in summaries.
PREVIOUS = "previous symbol"
ALIAS = "alias"
ENSEMBL = "Ensembl"
ENTREZ = "Entrez"
MOUSE = "mouse ortholog"
MOUSE_ENTREZ = "mouse Entrez"

_ENSEMBL_RE = re.compile(r"^(ENSG\d{11})(?:\.\d+)?(?:_PAR_Y)?$")
_ENTREZ_RE = re.compile(r"^[1-9]\d{0,9}$")
# A mouse-style symbol as typed: a capital, then lower-case letters or digits (Trp53,
# Cdkn1a, Gm12345, Rik genes like 1700001C19Rik are not counted).
_MOUSE_CASE_RE = re.compile(r"^[A-Z][a-z0-9]*[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")

_BUNDLED_SYMBOLS = "idmap/symbols.index.gz"
_BUNDLED_IDS = "idmap/ids.index.gz"
_BUNDLED_ORTHOLOGS = "idmap/mouse_human_orthologs.tsv.gz"


@dataclass
class Conversion:
    """What :meth:`IdMap.convert` did to a list of tokens.

    Attributes
    ----------
    symbols
        One output per input token, in input order: the current symbol, or the
        upper-cased token when it was ambiguous or unknown.
    converted
        Input token -> (symbol, kind) for tokens that changed; kind is one of
        ``"previous symbol"``, ``"alias"``, ``"Ensembl"``, ``"Entrez"``,
        ``"mouse ortholog"``, ``"mouse Entrez"``.
    ambiguous
        Input token -> candidate symbols (sorted); left unconverted.
    unknown
        Input tokens the map does not know (with ``species="mouse"``: no human ortholog).
    species
        The species the tokens were read as.
    looks_like_mouse
        Read as human, but the tokens look like mouse symbols (see :attr:`hint`).
    """

    symbols: list[str]
    converted: dict[str, tuple[str, str]] = field(default_factory=dict)
    ambiguous: dict[str, tuple[str, ...]] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)
    species: str = "human"
    looks_like_mouse: bool = False
    mouse_examples: list[str] = field(default_factory=list)

    @property
    def mapping(self) -> dict[str, str]:
        """Input token -> symbol, for the converted tokens only."""
        return {k: v[0] for k, v in self.converted.items()}

    @property
    def changed(self) -> bool:
        """Whether there is anything to report (conversions, ambiguity, unknown tokens)."""
        return bool(self.converted or self.ambiguous or self.unknown or self.looks_like_mouse)

    def counts(self) -> dict[str, int]:
        """Number of conversions per kind, most frequent first."""
        return dict(Counter(kind for _, kind in self.converted.values()).most_common())

    def summary(self, *, limit: int = 5) -> str:
        """One line saying what was converted, ambiguous or unknown.

        For example ``3 converted (2 Ensembl, 1 previous symbol), 1 ambiguous: X (A|B),
        2 unknown: FOO, BAR``; empty when every token was a current symbol.

        Parameters
        ----------
        limit
            Most tokens named per category (the rest are counted as ``+N more``).
        """
        parts: list[str] = []
        if self.converted:
            kinds = ", ".join(f"{n} {kind}" for kind, n in self.counts().items())
            parts.append(f"{len(self.converted)} converted ({kinds})")
        if self.ambiguous:
            items = [f"{k} ({'|'.join(v)})" for k, v in self.ambiguous.items()]
            parts.append(f"{len(items)} ambiguous: {_named(items, limit)}")
        if self.unknown:
            what = "without a human ortholog" if self.species == "mouse" else "unknown"
            parts.append(f"{len(self.unknown)} {what}: {_named(self.unknown, limit)}")
        return ", ".join(parts)

    @property
    def hint(self) -> str | None:
        """A one-line hint when a list read as human looks like mouse symbols."""
        if not self.looks_like_mouse:
            return None
        examples = ", ".join(self.mouse_examples[:3])
        return (
            f"these look like mouse gene symbols ({examples}); pass --species mouse "
            "(species='mouse') to map them to human orthologs"
        )


def _named(items: Sequence[str], limit: int) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f", +{len(items) - limit} more" if len(items) > limit else "")


class _Index:
    """Sorted keys and their entries, looked up by bisection (loads in tens of ms).

    An entry lists what a key is, ``;``-separated: ``S`` (an approved symbol) and
    ``P=A|B`` (previous symbol of), ``A=...`` (alias of), ``E=...`` (Ensembl ID of),
    ``N=...`` (Entrez ID of). The bundled map is stored in this form
    (:func:`index_text`), so no dictionary of 200,000 keys is built at start-up.
    """

    __slots__ = ("keys", "values")

    def __init__(self, keys: list[str], values: list[str]):
        self.keys = keys
        self.values = values

    @classmethod
    def parse(cls, text: str) -> _Index:
        """Read the text form written by :func:`index_text`."""
        keys, _, values = text.partition(_SEPARATOR)
        return cls(keys.split("\n") if keys else [], values.split("\n") if values else [])

    @classmethod
    def from_entries(cls, entries: Mapping[str, Sequence[str]]) -> _Index:
        """An index of ``{key: [items]}``."""
        keys = sorted(entries)
        return cls(keys, [";".join(entries[k]) for k in keys])

    def get(self, key: str) -> str | None:
        """The entry of ``key``, if any."""
        i = bisect_left(self.keys, key)
        if i < len(self.keys) and self.keys[i] == key:
            return self.values[i]
        return None

    def table(self, kind: str, key: str) -> tuple[str, ...] | None:
        """The symbols ``key`` is a ``kind`` (``P``, ``A``, ``E``, ``N``) of, if any."""
        entry = self.get(key)
        if entry is None:
            return None
        prefix = kind + "="
        for item in entry.split(";"):
            if item.startswith(prefix):
                return tuple(item[2:].split("|"))
        return None


_SEPARATOR = "\n\x1d\n"


def _is_approved(entry: str | None) -> bool:
    return entry is not None and (entry == "S" or entry.startswith("S;"))


def index_text(entries: Mapping[str, Sequence[str]]) -> str:
    """The text form of an index: its sorted keys, a separator line, their entries."""
    index = _Index.from_entries(entries)
    return "\n".join(index.keys) + _SEPARATOR + "\n".join(index.values)


def index_entries(
    approved: Iterable[str], tables: Mapping[str, Mapping[str, Iterable[str]] | None]
) -> dict[str, list[str]]:
    """Index entries from approved symbols and ``{kind: {key: symbols}}`` tables.

    Kinds: ``P`` previous symbols, ``A`` aliases, ``E`` Ensembl IDs, ``N`` Entrez IDs.
    Previous symbols and aliases that are themselves approved symbols are dropped (an
    approved symbol is always kept as it is); a key's symbols are sorted and unique when
    there are several.
    """
    approved = set(approved)
    out: dict[str, list[str]] = {k: ["S"] for k in approved}
    for kind, table in tables.items():
        for key, values in (table or {}).items():
            if kind in ("P", "A") and key in approved:
                continue
            values = list(values)
            symbols = values if len(values) == 1 else sorted(set(values))
            out.setdefault(key, []).append(f"{kind}={'|'.join(symbols)}")
    return out


def hgnc_tables(
    text: str, *, source: str = "HGNC table"
) -> tuple[list[str], dict[str, dict[str, list[str]]]]:
    """Approved symbols and ``{column: {key: symbols}}`` from an HGNC complete-set TSV.

    The columns read are ``prev_symbol``, ``alias_symbol``, ``ensembl_gene_id`` and
    ``entrez_id`` (those present); everything is upper-cased; withdrawn rows are skipped.

    Raises
    ------
    InputError
        The text has no ``symbol`` column.
    """
    head, _, body = text.lstrip("\ufeff").partition("\n")
    names = [c.strip().strip('"') for c in head.rstrip("\r").split("\t")]
    if "symbol" not in names:
        raise InputError(f"{source}: not an HGNC table (no 'symbol' column)")
    at = {name: i for i, name in enumerate(names)}
    i_symbol, i_status = at["symbol"], at.get("status")
    columns: list[tuple[int, dict[str, list[str]]]] = [
        (at[c], {})
        for c in ("prev_symbol", "alias_symbol", "ensembl_gene_id", "entrez_id")
        if c in at
    ]
    approved: list[str] = []
    width = len(names)
    # Upper-case once: symbols, aliases and IDs are all compared upper-cased.
    for line in body.replace('"', "").upper().split("\n"):
        row = line.rstrip("\r").split("\t")
        if len(row) < width:
            row += [""] * (width - len(row))
        symbol = row[i_symbol].strip()
        if not symbol or (i_status is not None and row[i_status].strip() not in ("APPROVED", "")):
            continue
        approved.append(symbol)
        for i, table in columns:
            cell = row[i]
            if not cell:
                continue
            for key in cell.split("|") if "|" in cell else (cell,):
                key = key.strip()
                if key:
                    table.setdefault(key, []).append(symbol)
    return approved, {names[i]: table for i, table in columns}


class IdMap:
    """Identifier conversion tables: symbols, aliases, previous symbols, Ensembl, Entrez.

    Build one with :meth:`bundled` (the package's map, cached) or :meth:`from_hgnc`
    (an HGNC complete-set table). All keys and symbols are upper-case, like library
    genes. Lookups bisect sorted keys, and the Ensembl/Entrez part of the bundled map is
    read only when a token looks like an ID, so a list of symbols costs a few tens of
    milliseconds.

    It also serves as the alias matcher of the engine (formerly ``SymbolMapper``):
    :meth:`normalize` and :meth:`match` work on symbols only.

    Attributes
    ----------
    source
        Where the human table came from (for messages).
    """

    def __init__(
        self,
        symbols: _Index | Callable[[], _Index],
        ids: _Index | Callable[[], _Index] | None = None,
        *,
        source: str = "",
    ):
        # either table may be a loader, run on first use: a list whose genes are all in
        # the library never reads the map (about 25 ms of a one-list command)
        self._symbols_table = symbols
        self._ids = ids
        self.source = source
        self._universes: dict[tuple[int, int], tuple[Mapping[str, object], dict[str, str]]] = {}
        self._mouse: tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]] | None = None
        self._approved: frozenset[str] | None = None
        self._mapping: dict[str, str] | None = None

    @classmethod
    def from_tables(
        cls,
        approved: Iterable[str],
        *,
        previous: Mapping[str, Iterable[str]] | None = None,
        aliases: Mapping[str, Iterable[str]] | None = None,
        ensembl: Mapping[str, Iterable[str]] | None = None,
        entrez: Mapping[str, Iterable[str]] | None = None,
        source: str = "",
    ) -> IdMap:
        """A map from approved symbols and ``{key: symbols}`` tables."""
        symbols = index_entries(approved, {"P": previous, "A": aliases})
        ids = index_entries((), {"E": ensembl, "N": entrez})
        return cls(_Index.from_entries(symbols), _Index.from_entries(ids), source=source)

    def __repr__(self) -> str:
        return f"IdMap({len(self._symbols.keys)} symbol keys, source={self.source!r})"

    @property
    def _symbols(self) -> _Index:
        if callable(self._symbols_table):
            self._symbols_table = self._symbols_table()
        return self._symbols_table

    def _id_index(self) -> _Index:
        if callable(self._ids):
            self._ids = self._ids()
        return self._ids if self._ids is not None else _Index([], [])

    def is_approved(self, symbol: str) -> bool:
        """Whether ``symbol`` (upper-case) is a current symbol."""
        return _is_approved(self._symbols.get(symbol))

    @property
    def approved(self) -> frozenset[str]:
        """Current (approved) symbols (built on first use)."""
        if self._approved is None:
            index = self._symbols
            self._approved = frozenset(
                k for k, v in zip(index.keys, index.values, strict=True) if _is_approved(v)
            )
        return self._approved

    @property
    def mapping(self) -> dict[str, str]:
        """Previous symbol or alias -> current symbol, for keys of a single gene.

        A previous symbol wins over an alias (an ambiguous previous symbol maps nowhere);
        built on first use.
        """
        if self._mapping is None:
            mapping: dict[str, str] = {}
            for key in self._symbols.keys:
                target = self.normalize(key)
                if target != key:
                    mapping[key] = target
            self._mapping = mapping
        return self._mapping

    # ------------------------------------------------------------------ construction

    @classmethod
    def bundled(cls) -> IdMap:
        """The ID map shipped in the package (read once per process)."""
        return _bundled()

    @classmethod
    def from_hgnc(cls, path: str | os.PathLike[str]) -> IdMap:
        """Read an HGNC complete-set TSV (optionally gzipped).

        Only ``symbol`` is required; ``alias_symbol``, ``prev_symbol`` (``|``-separated),
        ``ensembl_gene_id`` and ``entrez_id`` are used when present. Rows whose
        ``status`` is not ``Approved`` (withdrawn entries) are skipped.

        Raises
        ------
        InputError
            When the file cannot be read or has no ``symbol`` column.
        """
        from gsea_plus.textio import read_user_text

        path = Path(path)
        text = read_user_text(path, what="an HGNC table")
        return cls.from_hgnc_text(text, source=str(path))

    @classmethod
    def from_hgnc_text(cls, text: str, *, source: str = "HGNC table") -> IdMap:
        """Build from the text of an HGNC complete-set TSV; see :meth:`from_hgnc`."""
        approved, tables = hgnc_tables(text, source=source)
        return cls.from_tables(
            approved,
            previous=tables.get("prev_symbol"),
            aliases=tables.get("alias_symbol"),
            ensembl=tables.get("ensembl_gene_id"),
            entrez=tables.get("entrez_id"),
            source=source,
        )

    # ------------------------------------------------------------------ symbols only

    def normalize(self, symbol: str) -> str:
        """The current symbol for a symbol (upper-cased), or the symbol unchanged.

        Only symbols: approved, previous, unique aliases. IDs are handled by
        :meth:`convert`.
        """
        symbol = symbol.upper()
        entry = self._symbols.get(symbol)
        if entry is None or _is_approved(entry):
            return symbol
        previous = alias = None
        for item in entry.split(";"):
            if item.startswith("P="):
                previous = item[2:]
            elif item.startswith("A="):
                alias = item[2:]
        if previous is not None:  # a previous symbol wins, even an ambiguous one
            return symbol if "|" in previous else previous
        if alias is not None and "|" not in alias:
            return alias
        return symbol

    def normalize_many(self, symbols: Iterable[str]) -> list[str]:
        """Normalize each symbol; see :meth:`normalize`."""
        return [self.normalize(s) for s in symbols]

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

    def match(self, genes: Iterable[str], universe: Mapping[str, object]) -> dict[str, str]:
        """Map genes missing from ``universe`` to the universe symbol of the same gene.

        A gene matches when its current symbol is in the universe, or when a universe
        symbol normalizes to the same current symbol (the library uses an older name,
        e.g. ``SEPT7`` in KEGG 2016). Returns ``{input symbol: universe symbol}`` for
        the genes that could be matched.
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

    # ------------------------------------------------------------------ identifiers

    def lookup(self, token: str, *, species: str = "human") -> tuple[str, str, tuple[str, ...]]:
        """Resolve one token: ``(status, kind, candidates)``.

        ``status`` is ``"symbol"`` (already current), ``"converted"``, ``"ambiguous"`` or
        ``"unknown"``; ``kind`` names the table that decided; ``candidates`` are the
        current symbols it gave (one when converted).
        """
        key = token.strip().upper()
        if species == "mouse":
            return self._lookup_mouse(key)
        if species != "human":
            raise InputError(f"species must be one of {', '.join(SPECIES)}, got {species!r}")
        entry = self._symbols.get(key)
        if _is_approved(entry):
            return "symbol", "", (key,)
        match = _ENSEMBL_RE.match(key)
        if match is not None:
            found = self._id_index().table("E", match.group(1))
            if found is not None:
                return _decide(found, ENSEMBL)
        if _ENTREZ_RE.match(key):
            found = self._id_index().table("N", key)
            if found is not None:
                return _decide(found, ENTREZ)
        if entry is None:
            return _decide(None, ALIAS)
        previous = self._symbols.table("P", key)
        if previous is not None:
            return _decide(previous, PREVIOUS)
        return _decide(self._symbols.table("A", key), ALIAS)

    def _lookup_mouse(self, key: str) -> tuple[str, str, tuple[str, ...]]:
        by_symbol, by_entrez = self._orthologs()
        if _ENTREZ_RE.match(key):
            return _decide(by_entrez.get(key), MOUSE_ENTREZ)
        return _decide(by_symbol.get(key), MOUSE)

    def _orthologs(self) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
        """Mouse symbol (upper-cased) and mouse Entrez -> current human symbols."""
        if self._mouse is None:
            by_symbol: dict[str, set[str]] = {}
            by_entrez: dict[str, set[str]] = {}
            for mouse_symbol, mouse_entrez, human in _read_orthologs():
                human = self.normalize(human)
                by_symbol.setdefault(mouse_symbol.upper(), set()).add(human)
                if mouse_entrez:
                    by_entrez.setdefault(mouse_entrez, set()).add(human)
            # A mouse symbol with several human orthologs is ambiguous, unless one of them
            # has the same name (Ankhd1 -> ANKHD1, not the read-through ANKHD1-EIF4EBP3).
            self._mouse = (
                {k: (k,) if k in v else tuple(sorted(v)) for k, v in by_symbol.items()},
                {k: tuple(sorted(v)) for k, v in by_entrez.items()},
            )
        return self._mouse

    def convert(
        self,
        tokens: Iterable[str],
        *,
        species: str = "human",
        originals: Mapping[str, str] | None = None,
    ) -> Conversion:
        """Convert identifiers to current symbols; see the module docstring for the rules.

        Parameters
        ----------
        tokens
            Gene identifiers (any case), e.g. :attr:`GeneList.genes`.
        species
            ``"human"`` (symbols, aliases, previous symbols, Ensembl, Entrez) or
            ``"mouse"`` (mouse symbols and mouse Entrez IDs -> human orthologs).
        originals
            Token -> the text as typed, when ``tokens`` were already upper-cased
            (:attr:`GeneList.original`); used only for the mouse-symbol hint.

        Returns
        -------
        Conversion
            The symbols in input order, and what was converted, ambiguous or unknown.
        """
        if species not in SPECIES:
            raise InputError(f"species must be one of {', '.join(SPECIES)}, got {species!r}")
        tokens = list(tokens)
        out = Conversion(symbols=[], species=species)
        for token in tokens:
            upper = token.upper()
            if species == "human" and self.is_approved(upper):  # the common case
                out.symbols.append(upper)
                continue
            status, kind, candidates = self.lookup(upper, species=species)
            if status in ("symbol", "converted"):
                symbol = candidates[0]
                out.symbols.append(symbol)
                if symbol != upper or status == "converted":
                    out.converted.setdefault(token, (symbol, kind))
                continue
            out.symbols.append(upper)
            if status == "ambiguous":
                out.ambiguous.setdefault(token, candidates)
            elif token not in out.unknown:
                out.unknown.append(token)
        if species == "human":
            out.mouse_examples = self._mouse_like(tokens, out, originals or {})
            out.looks_like_mouse = bool(out.mouse_examples)
        return out

    def _mouse_like(
        self, tokens: list[str], conversion: Conversion, originals: Mapping[str, str]
    ) -> list[str]:
        """Examples when a list read as human looks like mouse symbols, else ``[]``.

        Either most tokens are typed in mouse case (``Trp53``, ``Cdkn1a``) and are mouse
        symbols, or most tokens the human map does not know are mouse symbols.
        """
        typed = [originals.get(t, t) for t in tokens]
        if not conversion.unknown and not any(_MOUSE_CASE_RE.match(t) for t in typed):
            return []  # the common case: no need to read the ortholog table
        by_symbol = _MouseSymbols.bundled()
        mouse_case = [t for t in typed if _MOUSE_CASE_RE.match(t) and t.upper() in by_symbol]
        if len(mouse_case) * 2 >= len(tokens):
            # prefer examples that differ from the human symbol (Trp53 over Cdkn1a)
            return sorted(mouse_case, key=lambda t: self.is_approved(t.upper()))[:3]
        unknown = conversion.unknown
        mouse_only = [originals.get(t, t) for t in unknown if t.upper() in by_symbol]
        if mouse_only and len(mouse_only) * 2 >= len(unknown):
            return mouse_only[:3]
        return []


class _MouseSymbols:
    """The mouse symbols of the ortholog table (upper-cased), for the mouse hint only."""

    def __init__(self, symbols: list[str]):
        self.symbols = symbols

    @classmethod
    @lru_cache(maxsize=1)
    def bundled(cls) -> _MouseSymbols:
        from gsea_plus.data import read_data

        lines = read_data(_BUNDLED_ORTHOLOGS).decode("utf-8").upper().split("\n")[1:]
        return cls(sorted({line.partition("\t")[0] for line in lines if line}))

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        i = bisect_left(self.symbols, key)
        return i < len(self.symbols) and self.symbols[i] == key


def _decide(candidates: tuple[str, ...] | None, kind: str) -> tuple[str, str, tuple[str, ...]]:
    if not candidates:
        return "unknown", kind, ()
    if len(candidates) > 1:
        return "ambiguous", kind, candidates
    return "converted", kind, candidates


def _read_tsv_rows(rel: str) -> list[list[str]]:
    from gsea_plus.data import read_data

    lines = read_data(rel).decode("utf-8").split("\n")
    return [line.split("\t") for line in lines[1:] if line]


def _read_orthologs() -> list[tuple[str, str, str]]:
    return [(r[0], r[1], r[2]) for r in _read_tsv_rows(_BUNDLED_ORTHOLOGS)]


def _read_index(rel: str) -> _Index:
    from gsea_plus.data import read_data

    return _Index.parse(read_data(rel).decode("utf-8"))


@lru_cache(maxsize=1)
def _bundled() -> IdMap:
    return IdMap(
        lambda: _read_index(_BUNDLED_SYMBOLS),
        lambda: _read_index(_BUNDLED_IDS),
        source="bundled HGNC table (gsea_plus/data)",
    )


_LOADED: dict[str, IdMap] = {}


def load_idmap(hgnc: str | os.PathLike[str] | IdMap | None = None) -> IdMap:
    """The ID map to use: ``hgnc`` (a path or a map), else ``GSEA_PLUS_HGNC``, else bundled.

    Tables read from a path are kept for the process (batches reuse them).
    """
    if isinstance(hgnc, IdMap):
        return hgnc
    hgnc = hgnc_default(hgnc)
    path = os.fspath(hgnc) if hgnc is not None else ""
    if not path:
        return IdMap.bundled()
    if path not in _LOADED:
        _LOADED[path] = IdMap.from_hgnc(path)
    return _LOADED[path]
