"""Building the training corpus from GMT files.

Every set is upper-cased, mapped to current HGNC symbols (aliases and previous
symbols; mouse sets through the human/mouse ortholog table first), kept only if its
size after mapping lies strictly between ``min_size`` and ``max_size``, and dropped if
an identical set was seen before. Its description column is replaced by its source
library tag (``dir/file`` without the ``.gmt.gz``; ``dir:CATEGORY`` for the mouse
MSigDB file, whose description holds the category). Entries of an ``EXCLUDE.txt`` are
left out: a path relative to the training root, or ``name:CATEGORY_PREFIX`` for a
file whose description column starts with that category.
"""

from __future__ import annotations

import csv
import gzip
import io
import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gsea_plus.errors import InputError
from gsea_plus.library.gmt import GeneSet, read_gmt

log = logging.getLogger(__name__)

__all__ = [
    "Corpus",
    "CorpusStats",
    "Exclusions",
    "build_corpus",
    "build_vocab",
    "find_gmt_files",
    "read_orthologs",
    "source_counts",
]

GMT_SUFFIXES = (".gmt", ".gmt.gz")
MIN_SIZE = 10
MAX_SIZE = 1000
MIN_SETS = 5


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".gz", ".gmt", ".txt"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name


def find_gmt_files(paths: Iterable[str | Path]) -> list[tuple[Path, Path]]:
    """GMT files under ``paths`` (files or directories, searched recursively).

    Returns ``(file, root)`` pairs, where ``root`` is the directory given (or the
    parent of a file given), sorted by relative path for a reproducible corpus.
    """
    found: list[tuple[Path, Path]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files = sorted(
                p for p in path.rglob("*") if p.is_file() and p.name.endswith(GMT_SUFFIXES)
            )
            found.extend((p, path) for p in files)
        elif path.is_file():
            found.append((path, path.parent))
        else:
            raise InputError(f"{path}: no such file or directory")
    if not found:
        raise InputError("no GMT files found (expected *.gmt or *.gmt.gz)")
    return found


@dataclass
class Exclusions:
    """Entries of ``EXCLUDE.txt``: relative paths, and ``name:category`` prefixes."""

    paths: set[str] = field(default_factory=set)
    categories: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def read(cls, path: str | Path) -> Exclusions:
        """Parse an exclusion file (``#`` comments, one entry per line)."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(f"{path}: cannot read the exclusion list ({exc})") from exc
        out = cls()
        for line in text.splitlines():
            entry = line.split("#", 1)[0].strip()
            if not entry:
                continue
            if ":" in entry:
                name, category = entry.split(":", 1)
                out.categories.setdefault(name.strip(), []).append(category.strip())
            else:
                out.paths.add(entry.replace("\\", "/").strip("/"))
        return out

    def __bool__(self) -> bool:
        return bool(self.paths or self.categories)

    def excludes_file(self, rel: str) -> bool:
        """Whether the file at relative path ``rel`` is excluded as a whole."""
        rel = rel.replace("\\", "/")
        return any(rel == p or rel.endswith("/" + p) for p in self.paths)

    def category_prefixes(self, rel: str) -> list[str]:
        """Category prefixes excluded for the file at ``rel`` (by any path component)."""
        parts = set(rel.replace("\\", "/").split("/"))
        parts.add(_stem(Path(rel)))
        return [c for name, cats in self.categories.items() if name in parts for c in cats]


def read_orthologs(path: str | Path) -> dict[str, str]:
    """Mouse symbol (upper-cased) -> human symbol, from a HomoloGene-style table.

    The table needs columns ``human_symbol`` and ``mouse_symbol``; a mouse symbol with
    several human orthologs is left unmapped.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read the ortholog table ({exc})") from exc
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    reader = csv.DictReader(io.StringIO(data.decode("utf-8", "replace")), delimiter="\t")
    if not {"human_symbol", "mouse_symbol"} <= set(reader.fieldnames or []):
        raise InputError(f"{path}: expected columns human_symbol and mouse_symbol")
    targets: dict[str, set[str]] = {}
    for row in reader:
        mouse = (row["mouse_symbol"] or "").strip().upper()
        human = (row["human_symbol"] or "").strip().upper()
        if mouse and human:
            targets.setdefault(mouse, set()).add(human)
    return {m: next(iter(h)) for m, h in targets.items() if len(h) == 1}


def _is_mouse(rel: str) -> bool:
    lowered = rel.lower()
    return "_mm" in lowered or ".mm." in lowered


@dataclass
class CorpusStats:
    """What went into the corpus, per source library."""

    files: int = 0
    read: Counter = field(default_factory=Counter)
    kept: Counter = field(default_factory=Counter)
    size_filtered: int = 0
    duplicates: int = 0
    excluded_files: list[str] = field(default_factory=list)
    excluded_sets: int = 0

    def to_dict(self) -> dict[str, object]:
        """A JSON-friendly summary."""
        return {
            "files": self.files,
            "sets_read": sum(self.read.values()),
            "sets_kept": sum(self.kept.values()),
            "size_filtered": self.size_filtered,
            "duplicates": self.duplicates,
            "excluded_files": sorted(self.excluded_files),
            "excluded_sets": self.excluded_sets,
            "kept_per_source": dict(sorted(self.kept.items())),
        }


@dataclass
class Corpus:
    """The corpus sets (description = source tag) and how they were chosen."""

    sets: list[GeneSet]
    stats: CorpusStats


def build_corpus(
    paths: Sequence[str | Path],
    *,
    hgnc: str | Path | None = None,
    orthologs: str | Path | None = None,
    exclude: str | Path | Exclusions | None = None,
    min_size: int = MIN_SIZE,
    max_size: int = MAX_SIZE,
    approved_only: bool = True,
    mouse: bool | None = None,
) -> Corpus:
    """Build the training corpus from GMT files and directories.

    Parameters
    ----------
    paths
        GMT files or directories searched recursively.
    hgnc
        HGNC complete-set table for alias/previous-symbol mapping (``None``: upper-case
        only).
    orthologs
        Human/mouse ortholog table, used for files whose path says ``_Mm``/``.Mm.``
        (or for every file when ``mouse=True``).
    exclude
        An ``EXCLUDE.txt`` (or parsed :class:`Exclusions`); ``None`` excludes nothing.
    min_size, max_size
        Keep sets with ``min_size < size < max_size`` after mapping.
    approved_only
        With ``hgnc``: drop symbols that are not approved HGNC symbols after mapping
        (probe ids, lncRNA ids, unmapped mouse names).
    mouse
        Force every file to be read as mouse (``True``) or human (``False``);
        ``None`` decides per file from its path.
    """
    from gsea_plus.genes import SymbolMapper

    mapper = SymbolMapper.from_hgnc(hgnc) if hgnc is not None else None
    ortho = read_orthologs(orthologs) if orthologs is not None else None
    if exclude is not None and not isinstance(exclude, Exclusions):
        exclude = Exclusions.read(exclude)
    stats = CorpusStats()
    seen: set[frozenset[str]] = set()
    sets: list[GeneSet] = []
    for path, root in find_gmt_files(paths):
        rel = path.relative_to(root).as_posix()
        short = f"{path.parent.name}/{path.name}"
        if exclude and (exclude.excludes_file(rel) or exclude.excludes_file(short)):
            stats.excluded_files.append(rel)
            continue
        stats.files += 1
        is_mouse = _is_mouse(short) if mouse is None else mouse
        if is_mouse and ortho is None:
            log.warning("%s: mouse sets but no ortholog table; symbols kept as is", rel)
        prefixes = exclude.category_prefixes(short) if exclude else []
        parent = path.parent.name
        tag_base = f"{parent}/{_stem(path)}" if parent else _stem(path)
        for gs in read_gmt(path):
            category = gs.description.split("|", 1)[0].strip()
            if prefixes and any(category.startswith(p) for p in prefixes):
                stats.excluded_sets += 1
                continue
            tag = f"{parent}:{category}" if is_mouse and category else tag_base
            stats.read[tag] += 1
            genes = _map_genes(
                gs.genes, mapper, ortho if is_mouse else None, approved_only=approved_only
            )
            if not min_size < len(genes) < max_size:
                stats.size_filtered += 1
                continue
            key = frozenset(genes)
            if key in seen:
                stats.duplicates += 1
                continue
            seen.add(key)
            stats.kept[tag] += 1
            sets.append(GeneSet(gs.term, tag, genes))
    if not sets:
        raise InputError("the corpus is empty after filtering")
    log.info(
        "corpus: %d sets kept from %d files (%d outside the size range, %d duplicates)",
        len(sets),
        stats.files,
        stats.size_filtered,
        stats.duplicates,
    )
    return Corpus(sets, stats)


def _map_genes(
    genes: Iterable[str],
    mapper: object | None,
    ortho: dict[str, str] | None,
    *,
    approved_only: bool,
) -> tuple[str, ...]:
    out: dict[str, None] = {}
    for gene in genes:
        gene = gene.upper()
        if ortho is not None:
            human = ortho.get(gene)
            if human is None:
                continue
            gene = human
        if mapper is not None:
            gene = mapper.normalize(gene)  # type: ignore[attr-defined]
            if approved_only and gene not in mapper.approved:  # type: ignore[attr-defined]
                continue
        out.setdefault(gene, None)
    return tuple(out)


def build_vocab(sets: Iterable[GeneSet], *, min_sets: int = MIN_SETS) -> list[str]:
    """Genes in at least ``min_sets`` sets, sorted, after ``<unk>`` and ``<pad>``."""
    counts: Counter = Counter()
    for gs in sets:
        counts.update(gs.genes)
    genes = sorted(g for g, n in counts.items() if n >= min_sets)
    return ["<unk>", "<pad>", *genes]


def source_counts(sets: Iterable[GeneSet]) -> dict[str, int]:
    """Sets per source tag (the description column of a corpus)."""
    return dict(sorted(Counter(gs.description for gs in sets).items()))
