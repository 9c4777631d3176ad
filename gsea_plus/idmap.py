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
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from gsea_plus.errors import InputError

log = logging.getLogger(__name__)

__all__ = [
    "SPECIES",
    "Conversion",
    "IdMap",
    "load_idmap",
]

#: Species whose identifiers can be converted to human symbols.
SPECIES = ("human", "mouse")
#: Environment variable naming an HGNC complete-set table that replaces the bundled one.
HGNC_ENV = "GSEA_PLUS_HGNC"

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

_BUNDLED_HGNC = "idmap/hgnc_genes.tsv.gz"
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


class IdMap:
    """Identifier conversion tables: symbols, aliases, previous symbols, Ensembl, Entrez.

    Build one with :meth:`bundled` (the package's map, cached) or :meth:`from_hgnc`
    (an HGNC complete-set table). All keys and symbols are upper-case, like library
    genes.

    It also serves as the alias matcher of the engine (formerly ``SymbolMapper``):
    :meth:`normalize` and :meth:`match` work on symbols only.

    Attributes
    ----------
    approved
        Current (approved) symbols.
    mapping
        Previous symbol or alias -> current symbol, for keys with a single gene
        (a previous symbol wins over an alias).
    source
        Where the human table came from (for messages).
    """

    def __init__(
        self,
        approved: Iterable[str],
        *,
        previous: Mapping[str, Iterable[str]] | None = None,
        aliases: Mapping[str, Iterable[str]] | None = None,
        ensembl: Mapping[str, Iterable[str]] | None = None,
        entrez: Mapping[str, Iterable[str]] | None = None,
        source: str = "",
    ):
        self.approved: frozenset[str] = frozenset(approved)
        self.source = source

        def freeze(table: Mapping[str, Iterable[str]] | None, *, drop_approved: bool):
            out: dict[str, tuple[str, ...]] = {}
            for key, values in (table or {}).items():
                if drop_approved and key in self.approved:
                    continue
                values = list(values)
                out[key] = (values[0],) if len(values) == 1 else tuple(sorted(set(values)))
            return out

        self._previous = freeze(previous, drop_approved=True)
        self._aliases = freeze(aliases, drop_approved=True)
        self._ensembl = freeze(ensembl, drop_approved=False)
        self._entrez = freeze(entrez, drop_approved=False)
        self.mapping: dict[str, str] = {}
        for table in (self._aliases, self._previous):  # later tables override earlier ones
            for key, symbols in table.items():
                if len(symbols) == 1:
                    self.mapping[key] = symbols[0]
                elif key in self.mapping and table is self._previous:
                    del self.mapping[key]  # an ambiguous previous symbol beats an alias
        self._universes: dict[tuple[int, int], tuple[Mapping[str, object], dict[str, str]]] = {}
        self._mouse: tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]] | None = None

    def __repr__(self) -> str:
        return f"IdMap({len(self.approved)} symbols, source={self.source!r})"

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
            if not symbol or (
                i_status is not None and row[i_status].strip() not in ("APPROVED", "")
            ):
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
        tables = {names[i]: table for i, table in columns}
        return cls(
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
        if symbol in self.approved:
            return symbol
        return self.mapping.get(symbol, symbol)

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
        if key in self.approved:
            return "symbol", "", (key,)
        match = _ENSEMBL_RE.match(key)
        if match is not None and match.group(1) in self._ensembl:
            return _decide(self._ensembl[match.group(1)], ENSEMBL)
        if key in self._entrez and _ENTREZ_RE.match(key):
            return _decide(self._entrez[key], ENTREZ)
        if key in self._previous:
            return _decide(self._previous[key], PREVIOUS)
        return _decide(self._aliases.get(key), ALIAS)

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
        approved = self.approved
        for token in tokens:
            upper = token.upper()
            if species == "human" and upper in approved:  # the common case, kept fast
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
        by_symbol, _ = self._orthologs()
        mouse_case = [t for t in typed if _MOUSE_CASE_RE.match(t) and t.upper() in by_symbol]
        if len(mouse_case) * 2 >= len(tokens):
            # prefer examples that differ from the human symbol (Trp53 over Cdkn1a)
            return sorted(mouse_case, key=lambda t: t.upper() in self.approved)[:3]
        unknown = conversion.unknown
        mouse_only = [originals.get(t, t) for t in unknown if t.upper() in by_symbol]
        if mouse_only and len(mouse_only) * 2 >= len(unknown):
            return mouse_only[:3]
        return []


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


@lru_cache(maxsize=1)
def _bundled() -> IdMap:
    from gsea_plus.data import read_data

    text = read_data(_BUNDLED_HGNC).decode("utf-8")
    return IdMap.from_hgnc_text(text, source="bundled HGNC table (gsea_plus/data)")


_LOADED: dict[str, IdMap] = {}


def load_idmap(hgnc: str | os.PathLike[str] | IdMap | None = None) -> IdMap:
    """The ID map to use: ``hgnc`` (a path or a map), else ``GSEA_PLUS_HGNC``, else bundled.

    Tables read from a path are kept for the process (batches reuse them).
    """
    if isinstance(hgnc, IdMap):
        return hgnc
    path = os.fspath(hgnc) if hgnc is not None else os.environ.get(HGNC_ENV, "")
    if not path:
        return IdMap.bundled()
    if path not in _LOADED:
        _LOADED[path] = IdMap.from_hgnc(path)
    return _LOADED[path]
