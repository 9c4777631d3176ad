"""Gene set libraries: catalog, download and cache, GMT parsing, the in-memory library."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from gsea_plus.errors import GseaPlusError, LibraryError
from gsea_plus.library.catalog import CatalogEntry, catalog, find_entry, suggest
from gsea_plus.library.core import GeneSetLibrary, sha256_bytes
from gsea_plus.library.gmt import GeneSet, parse_gmt_bytes, read_gmt, write_gmt
from gsea_plus.options import offline_default

log = logging.getLogger(__name__)

__all__ = [
    "CatalogEntry",
    "GeneSet",
    "GeneSetLibrary",
    "cached_names",
    "catalog",
    "download_library",
    "find_entry",
    "load_library",
    "read_gmt",
    "resolve_name",
    "write_gmt",
]


# In-process memo: repeated calls (an API user looping over lists) reuse parsed libraries.
_MEMO: dict[tuple, GeneSetLibrary] = {}


def _looks_like_path(spec: str) -> bool:
    if (
        os.sep in spec
        or "/" in spec
        or spec.startswith(".")
        or spec.lower().endswith((".gmt", ".gz", ".txt", ".tsv"))
    ):
        return True
    try:
        return Path(spec).is_file()
    except (OSError, ValueError):  # a name too long for a file, a NUL byte: not a path
        return False


def resolve_name(spec: str) -> str:
    """The Enrichr library name for an alias or name (case-insensitive catalog lookup).

    A name not in the catalog is returned unchanged: it may still be a valid Enrichr name.
    """
    entry = find_entry(spec)
    return entry.name if entry is not None else spec


def load_library(
    spec: str | os.PathLike[str] | GeneSetLibrary | Mapping[str, Iterable[str]],
    *,
    offline: bool | None = None,
    name: str | None = None,
) -> GeneSetLibrary:
    """Load a gene set library.

    Parameters
    ----------
    spec
        A short alias (``"KEGG"``, ``"GO_BP"``), an Enrichr library name
        (``"KEGG_2021_Human"``), a path to a GMT file (any extension, gzipped or not),
        a ``{term: genes}`` mapping, or a :class:`GeneSetLibrary` (returned as is).
    offline
        Never touch the network; a library that is not cached is an error. Defaults to
        the ``GSEA_PLUS_OFFLINE`` environment variable.
    name
        Name to give a library built from a mapping or a file (default: the file stem).

    Raises
    ------
    LibraryError
        Unknown name (with close suggestions), missing or corrupt file.
    NetworkError
        The download failed.
    """
    if isinstance(spec, GeneSetLibrary):
        return spec
    if isinstance(spec, Mapping):
        return GeneSetLibrary.from_gene_sets(name or "custom", spec)
    offline = offline_default(offline)
    text = os.fspath(spec)
    if not text.strip():
        raise LibraryError("empty library name")
    if isinstance(spec, os.PathLike) or _looks_like_path(text):
        return _load_path(Path(text), name=name)
    return _load_named(text, offline=offline)


def _load_path(path: Path, *, name: str | None) -> GeneSetLibrary:
    """A GMT file: from the parsed cache (keyed by the file's sha256) or parsed, streaming.

    A file seen before with the same inode, size and modification and change times is
    known by the sha256 recorded then (:func:`_known_sha`), so a cached library opens
    without reading the file; otherwise the file is hashed in one streaming pass, and,
    when no parsed copy exists, parsed in another (:func:`_parse_path`).
    """
    from gsea_plus.textio import os_error

    try:
        st = path.stat()
        if path.is_dir():
            raise IsADirectoryError(path)
    except ValueError as exc:  # os.stat refuses NUL bytes with a ValueError
        raise LibraryError(f"{str(path)[:80]!r}: a file name cannot hold a NUL byte") from exc
    except FileNotFoundError as exc:
        # a spec with a suffix or a slash is read as a path: say what was looked for
        raise LibraryError(f"{path}: no such library file") from exc
    except OSError as exc:
        raise os_error(exc, path, error=LibraryError, what="a GMT file") from exc
    # the same file however it is named (a memo hit skips resolving the path)
    key = ("path", st.st_dev, st.st_ino, st.st_mtime_ns, st.st_ctime_ns, st.st_size, name)
    lib = _MEMO.get(key)
    if lib is not None:
        return lib
    resolved = str(path.resolve())
    stem = path.name
    for suffix in (".gz", ".gmt", ".txt", ".tsv"):
        stem = stem.removesuffix(suffix)
    lib_name = name or stem
    sha = _known_sha(resolved, st)
    lib = _load_parsed(sha) if sha is not None else None
    if lib is None:
        sha = _hash_file(path)
        lib = _load_parsed(sha)
        if lib is None:
            lib = _parse_path(path, sha, lib_name, resolved)
        _remember_sha(resolved, st, sha)
    lib.name = lib_name
    _MEMO[key] = lib
    return lib


def _hash_file(path: Path) -> str:
    """The file's sha256, read in blocks (never held whole)."""
    import hashlib

    from gsea_plus.textio import os_error

    digest = hashlib.sha256()
    blank = True
    try:
        with open(path, "rb") as fh:
            while block := fh.read(1 << 22):
                digest.update(block)
                blank = blank and not block.strip()
    except OSError as exc:
        raise os_error(exc, path, error=LibraryError, what="a GMT file") from exc
    if blank:
        raise LibraryError(f"{path}: the library file is empty")
    return digest.hexdigest()


def _parse_path(path: Path, sha: str, lib_name: str, resolved: str) -> GeneSetLibrary:
    """Parse a GMT file streaming (whole, for unusual encodings) and cache the result."""
    from gsea_plus.library.gmt import StreamUnsupported, parse_gmt_stream, stream_text
    from gsea_plus.textio import os_error, read_user_bytes

    meta = {"sha256": sha, "source": resolved}
    try:
        with open(path, "rb") as fh:
            blocks = iter(lambda: fh.read(1 << 22), b"")
            parsed = parse_gmt_stream(stream_text(blocks, str(path)), str(path))
        lib = GeneSetLibrary.from_parsed(lib_name, parsed, meta=meta)
    except StreamUnsupported:
        data = read_user_bytes(path, error=LibraryError, what="a GMT file")
        if sha256_bytes(data) != sha:
            raise LibraryError(f"{path}: the file changed while it was read") from None
        lib = GeneSetLibrary.from_gene_sets(lib_name, parse_gmt_bytes(data, str(path)), meta=meta)
    except OSError as exc:
        raise os_error(exc, path, error=LibraryError, what="a GMT file") from exc
    _save_parsed(lib, sha)
    return lib


def _parsed_cache_path(sha: str, *, version: int = 2) -> Path | None:
    from gsea_plus.errors import CacheError
    from gsea_plus.library.cache import cache_dir

    # format 2 has its own name: versions that read only format 1 keep their own file
    suffix = ".npz" if version == 1 else f".v{version}.npz"
    try:
        return cache_dir("parsed", create=False) / f"{sha[:32]}{suffix}"
    except CacheError as exc:  # pragma: no cover - create=False does not raise today
        log.info("no parsed-library cache: %s", exc)
        return None


def _load_parsed(sha: str) -> GeneSetLibrary | None:
    """The cached parse of the text whose sha256 is ``sha`` (a format-1 file is upgraded)."""
    for version in (2, 1):
        binary = _parsed_cache_path(sha, version=version)
        if binary is None or not binary.is_file():
            continue
        try:
            lib = GeneSetLibrary.load(binary)
        except LibraryError as exc:
            log.info("rebuilding %s: %s", binary, exc)
            continue
        if lib.meta.get("sha256") != sha:
            continue
        if version != 2:
            _save_parsed(lib, sha)
        return lib
    return None


def _save_parsed(lib: GeneSetLibrary, sha: str) -> None:
    binary = _parsed_cache_path(sha)
    if binary is not None:  # a cache that cannot be written only costs speed
        from gsea_plus.library.cache import optional_cache_write

        optional_cache_write(lambda: lib.save(binary), binary, what="the parsed-library cache")


#: A file changed less than this long before it was hashed may change again unseen
#: within the file system's timestamp resolution: its sha256 is not remembered.
_RACY_NS = 2_000_000_000


def _stat_record(resolved: str) -> Path | None:
    import hashlib

    from gsea_plus.errors import CacheError
    from gsea_plus.library.cache import cache_dir

    try:
        root = cache_dir("parsed", create=False)
    except CacheError:  # pragma: no cover
        return None
    return (
        root
        / f"{hashlib.sha256(resolved.encode('utf-8', 'surrogatepass')).hexdigest()[:32]}.path.json"
    )


def _stat_key(st: os.stat_result) -> list[int]:
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def _known_sha(resolved: str, st: os.stat_result) -> str | None:
    """The sha256 recorded for this path when its inode, size and times were the same."""
    import json

    record = _stat_record(resolved)
    if record is None:
        return None
    try:
        data = json.loads(record.read_bytes())
    except (OSError, ValueError):
        return None
    if (
        not isinstance(data, dict)
        or data.get("path") != resolved
        or data.get("stat") != _stat_key(st)
        or not isinstance(data.get("sha256"), str)
    ):
        return None
    return data["sha256"]


def _remember_sha(resolved: str, st: os.stat_result, sha: str) -> None:
    """Record the sha256 of a file as it was when hashed (skipped for a file still changing)."""
    import json
    import time

    if time.time_ns() - max(st.st_mtime_ns, st.st_ctime_ns) < _RACY_NS:
        return
    record = _stat_record(resolved)
    if record is None:
        return
    from gsea_plus.library.cache import atomic_write, optional_cache_write

    body = json.dumps({"path": resolved, "stat": _stat_key(st), "sha256": sha}).encode()
    optional_cache_write(
        lambda: atomic_write(record, body), record, what="the parsed-library cache"
    )


def _load_named(spec: str, *, offline: bool) -> GeneSetLibrary:
    from gsea_plus.errors import CorruptCacheError
    from gsea_plus.library.download import cached

    name = resolve_name(spec)
    catalog_entry = find_entry(name)
    if catalog_entry is not None and catalog_entry.is_bundled:
        # The bundled copy wins over a cached download of the same name: its content is
        # pinned by the catalog's sha256, so results do not depend on the cache or network.
        return _load_bundled(catalog_entry)
    entry = cached(name)  # checks the name: it can never point outside the cache
    if not entry.exists():
        if offline:
            hint = suggest(spec, cached_names())
            more = f"; close names: {', '.join(hint)}" if hint and spec not in hint else ""
            raise LibraryError(
                f"library {name} is not in the cache and --offline forbids downloading it "
                f"(run: gsea-plus libraries download {name}){more}; {_offline_hint(offline=True)}"
            )
        return _fetch_named(spec)
    try:
        key: tuple | None = ("name", name, entry.meta_path.stat().st_mtime_ns)
    except OSError:  # a concurrent download is replacing the entry: load() will tell
        key = None
    lib = _MEMO.get(key) if key is not None else None
    if lib is None:
        try:
            lib = entry.load()
        except CorruptCacheError as exc:
            if offline:
                raise
            log.warning("%s; downloading it again", str(exc).split("; run:")[0])
            return _fetch_named(spec)
        if key is not None:
            _MEMO[key] = lib
    return lib


def _offline_hint(*, offline: bool) -> str:
    """What to do when a library is neither bundled, cached nor downloadable."""
    from gsea_plus.library.catalog import bundled_entries

    names = ", ".join(
        f"{e.aliases[0]}={e.name}" if e.aliases else e.name for e in bundled_entries()
    )
    if offline:
        return (
            f"bundled libraries work offline: {names}; or pass a GMT file (-l path/to/file.gmt); "
            "or drop --offline (GSEA_PLUS_OFFLINE) to download it, from an Enrichr mirror if "
            "GSEA_PLUS_ENRICHR_URL is set"
        )
    return (
        f"without network, use a bundled library ({names}) or a GMT file "
        "(-l path/to/file.gmt), and --offline to never try the network; "
        "or set GSEA_PLUS_ENRICHR_URL to a reachable Enrichr mirror"
    )


def _load_bundled(entry: CatalogEntry) -> GeneSetLibrary:
    """A library shipped in the package: no network, no cache needed, sha256 checked."""
    from gsea_plus.data import read_data

    key = ("bundled", entry.name, entry.bundled_sha256)
    lib = _MEMO.get(key)
    if lib is not None:
        return lib
    rel = f"libraries/{entry.bundled}"
    try:
        data = read_data(rel, sha256=entry.bundled_sha256)
    except GseaPlusError as exc:
        raise LibraryError(f"bundled library {entry.name}: {exc}") from exc
    lib = _load_parsed(entry.bundled_sha256)
    if lib is None:
        from gsea_plus.data import manifest

        record = manifest().get(rel, {})
        source = f"bundled with gsea-plus (gsea_plus/data/{rel})"
        if record.get("source"):
            source += f"; from {record['source']}; licence {record.get('licence', '?')}"
        meta = {"sha256": entry.bundled_sha256, "source": source}
        lib = GeneSetLibrary.from_gene_sets(entry.name, parse_gmt_bytes(data, rel), meta=meta)
        _save_parsed(lib, entry.bundled_sha256)
    lib.name = entry.name
    _MEMO[key] = lib
    return lib


def _fetch_named(spec: str) -> GeneSetLibrary:
    """Download a library for use now; caching it is attempted, not required."""
    from gsea_plus.errors import NetworkError
    from gsea_plus.library.download import fetch_library

    try:
        with _unknown_library(spec):
            return fetch_library(resolve_name(spec))
    except NetworkError as exc:
        raise type(exc)(f"{exc}; {_offline_hint(offline=False)}") from exc


def download_library(spec: str, *, force: bool = False):
    """Download a library by alias or Enrichr name into the cache.

    A name that is neither in the catalog nor known to the server is reported as an
    unknown library with close names, instead of as an HTTP error.
    """
    from gsea_plus.library.download import download

    with _unknown_library(spec):
        return download(resolve_name(spec), force=force)


@contextmanager
def _unknown_library(spec: str) -> Iterator[None]:
    """Report a name unknown to both the catalog and the server with close names."""
    from gsea_plus.errors import NotFoundError

    try:
        yield
    except NotFoundError as exc:
        if find_entry(spec) is not None:
            raise
        hint = suggest(spec, cached_names())
        more = f"; did you mean: {', '.join(hint)}?" if hint else ""
        raise LibraryError(f"unknown library {spec!r}{more}") from exc


def cached_names() -> list[str]:
    """Names of the libraries in the cache (empty when there is no cache yet)."""
    from gsea_plus.errors import CacheError
    from gsea_plus.library.cache import cache_dir

    try:
        root = cache_dir("libraries", create=False)
    except CacheError:  # pragma: no cover
        return []
    if not root.is_dir():
        return []
    return sorted(p.stem for p in root.glob("*.json"))
