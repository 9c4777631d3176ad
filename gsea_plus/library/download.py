"""Downloading libraries from Enrichr's text endpoint into the cache.

Safe by construction:

- names are checked against a strict pattern, so a cache path never leaves the cache;
- TLS verified, a User-Agent, a connect and read timeout, retries with exponential
  backoff on connection errors and 5xx answers, a size cap, and an overall deadline per
  download (attempts and backoff included; see :mod:`gsea_plus.library.limits`);
- a body is complete only if it matches its Content-Length, or, without one, if it ends
  with a newline-terminated row (a gzip body: if its stream ends properly);
- it is parsed strictly before anything is committed: an HTML, XML, JSON or binary answer
  is never cached, even when some of its rows hold tabs;
- the text, its parsed form and its metadata (with the sha256 of the text) are staged as
  temp files and renamed into place only when all three are written, so nothing
  half-written, and no file without its metadata, is left in the cache;
- a cached entry is verified when it is read (checksum; content, for entries written by
  older versions): a bad entry is downloaded again, or offline the error says
  ``--force``.

Nothing downloaded is ever unpickled: the parsed form is an ``.npz`` read with
``allow_pickle=False``.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from gsea_plus._version import __version__
from gsea_plus.errors import (
    CacheError,
    CorruptCacheError,
    GseaPlusError,
    LibraryError,
    NetworkError,
    NotFoundError,
)
from gsea_plus.library import limits
from gsea_plus.library.cache import cache_dir, discard, optional_cache_write, stage, temp_beside
from gsea_plus.library.core import GeneSetLibrary, sha256_bytes
from gsea_plus.library.gmt import parse_gmt_bytes

log = logging.getLogger(__name__)

__all__ = [
    "ENRICHR_URL_ENV",
    "CachedLibrary",
    "Fetched",
    "Retry",
    "cached",
    "download",
    "enrichr_url",
    "fetch",
    "fetch_bytes",
    "fetch_library",
    "validate_name",
]

#: Environment variable overriding Enrichr's base URL (tests, mirrors).
ENRICHR_URL_ENV = "GSEA_PLUS_ENRICHR_URL"
DEFAULT_ENRICHR_URL = "https://maayanlab.cloud/Enrichr"
#: Environment variable overriding the download size cap, in bytes.
MAX_BYTES_ENV = limits.MAX_DOWNLOAD_BYTES_ENV
DEFAULT_MAX_BYTES = limits.DEFAULT_MAX_BYTES
TIMEOUT = limits.DEFAULT_TIMEOUTS
RETRIES = 3
BACKOFF = 1.0
#: Library names: a letter or digit, then letters, digits and ``_ . + -``; at most 200
#: characters, so that every cache file name (temp files included) fits in 255 bytes.
NAME_MAX = 200
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]*")
#: Written into the metadata of entries whose content was checked by this version's rules;
#: entries without it (older versions) are checked once when read.
CHECKS_VERSION = 1
#: A cached ``.gmt``/``.npz`` without its ``.json`` (a run killed while committing) is
#: deleted once it is this old (younger ones may be a concurrent writer's).
ORPHAN_AGE_S = 600.0
_NOT_LIBRARY_TYPES = ("text/html", "application/xhtml+xml", "application/json", "text/xml")
_ORPHANS_SWEPT: set[str] = set()


def validate_name(name: str) -> str:
    """Return ``name`` if it can be a library name (and a cache file name), else raise.

    Raises
    ------
    LibraryError
        The name is too long or holds characters other than letters, digits and
        ``_ . + -`` (slashes, NUL bytes, spaces...), or starts with another character.
    """
    if not isinstance(name, str):
        raise LibraryError(f"a library name must be a string, not {type(name).__name__}")
    if len(name) > NAME_MAX:
        raise LibraryError(
            f"invalid library name {name[:40]!r}...: {len(name)} characters, "
            f"at most {NAME_MAX} are allowed"
        )
    if not _NAME.fullmatch(name):
        raise LibraryError(
            f"invalid library name {name!r}: use letters, digits and _ . + - only, "
            "starting with a letter or digit (a GMT file is given by its path)"
        )
    return name


def enrichr_url(name: str) -> str:
    """The text-mode download URL of an Enrichr library."""
    from urllib.parse import quote

    base = os.environ.get(ENRICHR_URL_ENV, DEFAULT_ENRICHR_URL).rstrip("/")
    return f"{base}/geneSetLibrary?mode=text&libraryName={quote(name)}"


# --------------------------------------------------------------------------- fetching


@dataclass(frozen=True)
class Fetched:
    """A completed HTTP body: in memory (``bytes``) or in a temp file (``Path``).

    ``length_checked`` says whether its size was verified against a Content-Length.
    """

    body: bytes | Path
    length_checked: bool
    content_type: str
    url: str


class Retry(Exception):
    """A failed attempt worth repeating (raised by a ``check``, or for a short body)."""


class _Cancelled(Exception):
    pass


def fetch_bytes(
    url: str,
    *,
    what: str,
    max_bytes: int | None = None,
    progress: bool = True,
    check: Callable[[Fetched], None] | None = None,
) -> bytes:
    """GET ``url`` with retries, a size cap, a deadline and a progress bar; return the body.

    See :func:`fetch`.
    """
    body = fetch(url, what=what, max_bytes=max_bytes, progress=progress, check=check).body
    assert isinstance(body, bytes)
    return body


def fetch(
    url: str,
    *,
    what: str,
    max_bytes: int | None = None,
    progress: bool = True,
    check: Callable[[Fetched], None] | None = None,
    to_file: Path | None = None,
    timeout: float | None = None,
) -> Fetched:
    """GET ``url`` with retries, a size cap, an overall deadline and a progress bar.

    Parameters
    ----------
    url
        What to get.
    what
        The thing downloaded, for messages.
    max_bytes
        Size cap (default ``GSEA_PLUS_MAX_DOWNLOAD_BYTES``).
    progress
        Show a progress bar on stderr when it is a terminal.
    check
        Called with each complete body; raises :class:`Retry` to try again (an
        incomplete body) or a ``GseaPlusError`` to give up.
    to_file
        Stream the body into a unique temp file beside this path (``Fetched.body`` is
        then the temp file, which the caller renames or deletes) instead of memory.
    timeout
        Seconds to wait for each connect and read (default ``GSEA_PLUS_TIMEOUT``, else
        10 s to connect and 30 s per read).

    Raises
    ------
    NetworkError
        Network down, timeout, deadline passed, HTTP error, oversize or truncated body.
    NotFoundError
        HTTP 404.
    InputError
        A limit variable in the environment is not a positive finite number.
    """
    cap = max_bytes or limits.max_download_bytes()
    timeout_pair = limits.timeouts() if timeout is None else (timeout, timeout)
    budget = limits.deadline()
    end = time.monotonic() + budget
    last: Exception | None = None
    out_of_time = False
    for attempt in range(RETRIES):
        if attempt:
            pause = BACKOFF * 2 ** (attempt - 1)
            if time.monotonic() + pause >= end:
                out_of_time = True
                break
            time.sleep(pause)
        left = end - time.monotonic()
        if left <= 0:
            out_of_time = True
            break
        read_timeout = (min(timeout_pair[0], left), min(timeout_pair[1], left))

        def one(cancel: threading.Event, held: list, read_timeout=read_timeout) -> Fetched:
            return _attempt(
                url,
                what=what,
                cap=cap,
                timeout=read_timeout,
                progress=progress,
                check=check,
                to_file=to_file,
                cancel=cancel,
                held=held,
            )

        try:
            return _within(one, left, what=what, budget=budget)
        except Retry as exc:
            last = exc
            log.info("attempt %d failed: %s", attempt + 1, exc)
    if last is None:
        raise NetworkError(_deadline_message(what, budget))
    if out_of_time:
        raise NetworkError(f"{last}; gave up at the {budget:g} s deadline ({limits.DEADLINE_ENV})")
    raise NetworkError(str(last))


def _deadline_message(what: str, budget: float) -> str:
    return (
        f"{what}: the download did not finish within {budget:g} s "
        f"(set {limits.DEADLINE_ENV} to allow longer)"
    )


def _within(fn, left: float, *, what: str, budget: float):
    """Run ``fn(cancel, held)`` in a worker thread; give up when ``left`` seconds pass.

    Per-read timeouts cannot bound a server that drips one byte at a time, or a hung
    name lookup; so the attempt runs in a thread, and on the deadline its socket is shut
    down (which wakes a blocked read) and the caller gets a ``NetworkError`` at once.
    """
    cancel = threading.Event()
    held: list = []
    box: dict[str, object] = {}
    done = threading.Event()

    def run() -> None:
        try:
            box["value"] = fn(cancel, held)
        except BaseException as exc:  # handed to the caller's thread
            box["error"] = exc
        finally:
            done.set()

    worker = threading.Thread(target=run, name="gsea-plus-download", daemon=True)
    worker.start()
    gave_up = True
    try:
        gave_up = not done.wait(left)
    finally:
        if gave_up:  # the deadline, or Ctrl-C in the caller
            cancel.set()
            _shut(held)
            worker.join(0.5)  # time to discard a partial temp file; never much longer
    if gave_up:
        raise NetworkError(_deadline_message(what, budget))
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]


def _shut(held: list) -> None:
    """Shut down the attempt's sockets: a read blocked on them returns at once."""
    import socket

    for sock in list(held):
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except (OSError, AttributeError):  # already closed: nothing to wake
            pass


_LOCAL = threading.local()


@functools.lru_cache(maxsize=1)
def _tracking_adapter_class():
    """A requests adapter whose connections record their socket in ``_LOCAL.held``.

    The socket is known from the moment it connects, so a deadline can wake a read that
    is blocked on a server dripping its headers, not only its body.
    """
    from requests.adapters import HTTPAdapter
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    class _Tracked:
        def connect(self) -> None:
            super().connect()  # type: ignore[misc]
            held = getattr(_LOCAL, "held", None)
            if held is not None:
                held.append(self.sock)  # type: ignore[attr-defined]

    class _Conn(_Tracked, HTTPConnection):
        pass

    class _TLSConn(_Tracked, HTTPSConnection):
        pass

    class _Pool(HTTPConnectionPool):
        ConnectionCls = _Conn

    class _TLSPool(HTTPSConnectionPool):
        ConnectionCls = _TLSConn

    class _Adapter(HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {"http": _Pool, "https": _TLSPool}

    return _Adapter


def _session():
    import requests

    session = requests.Session()
    adapter = _tracking_adapter_class()()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _attempt(
    url: str,
    *,
    what: str,
    cap: int,
    timeout: tuple[float, float],
    progress: bool,
    check: Callable[[Fetched], None] | None,
    to_file: Path | None,
    cancel: threading.Event,
    held: list,
) -> Fetched:
    import requests

    headers = {"User-Agent": f"gsea-plus/{__version__} (+https://pypi.org/project/gsea-plus)"}
    _LOCAL.held = held
    try:
        with (
            _session() as session,
            session.get(url, headers=headers, timeout=timeout, stream=True) as resp,
        ):
            if cancel.is_set():
                raise _Cancelled
            if resp.status_code == 404:
                raise NotFoundError(f"{what}: not found at {url} (HTTP 404)")
            if 400 <= resp.status_code < 500:
                raise NetworkError(f"{what}: HTTP {resp.status_code} from {url}")
            if resp.status_code >= 500:
                raise Retry(f"{what}: HTTP {resp.status_code} from {url}")
            expected = resp.headers.get("Content-Length", "").strip()
            total = int(expected) if expected.isdigit() else None
            if total is not None and total > cap:
                raise NetworkError(f"{what}: {total} bytes is over the {cap}-byte cap")
            sink: _Sink = _FileSink(to_file) if to_file is not None else _MemorySink()
            try:
                size = _read_body(
                    resp, sink, total=total, cap=cap, what=what, progress=progress, cancel=cancel
                )
                # Content-Length counts the bytes on the wire: a gzip-encoded body decodes
                # to more (urllib3 checks the wire length itself and raises on a short read).
                encoding = resp.headers.get("Content-Encoding", "").strip().lower()
                if total is not None and encoding in ("", "identity") and size != total:
                    raise Retry(f"{what}: truncated download ({size} of {total} bytes)")
                content_type = resp.headers.get("Content-Type", "").split(";")[0].strip()
                fetched = Fetched(sink.result(), total is not None, content_type.lower(), url)
                if check is not None:
                    check(fetched)
                if cancel.is_set():  # too late: the caller has given up on this attempt
                    raise _Cancelled
                return fetched
            except BaseException:
                sink.discard()
                raise
    except (GseaPlusError, Retry, _Cancelled):
        raise
    except requests.exceptions.Timeout as exc:
        raise Retry(f"{what}: timed out waiting for {url}") from exc
    except requests.exceptions.ChunkedEncodingError as exc:
        raise Retry(f"{what}: truncated download from {url} (connection broken)") from exc
    except requests.exceptions.ConnectionError as exc:
        if _read_timed_out(exc):  # a stall while streaming the body comes as this
            raise Retry(f"{what}: timed out waiting for {url}") from exc
        reason = str(exc).split("] ")[-1][:120].rstrip("\"')")  # drop the repr tail
        raise Retry(f"{what}: cannot reach {url} (network down? {reason})") from exc
    except requests.exceptions.RequestException as exc:
        raise Retry(f"{what}: download failed ({exc})") from exc


def _read_timed_out(exc: Exception) -> bool:
    from urllib3.exceptions import ReadTimeoutError

    return any(isinstance(a, ReadTimeoutError) for a in exc.args)


class _Sink:
    def write(self, chunk: bytes) -> None:
        raise NotImplementedError

    def result(self) -> bytes | Path:
        raise NotImplementedError

    def discard(self) -> None:
        raise NotImplementedError


class _MemorySink(_Sink):
    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def write(self, chunk: bytes) -> None:
        self.chunks.append(chunk)

    def result(self) -> bytes:
        return b"".join(self.chunks)

    def discard(self) -> None:
        self.chunks.clear()


class _FileSink(_Sink):
    def __init__(self, target: Path) -> None:
        fd, self.tmp = temp_beside(target)
        self.target = target
        self.fh = os.fdopen(fd, "wb")

    def write(self, chunk: bytes) -> None:
        try:
            self.fh.write(chunk)
        except OSError as exc:
            raise CacheError(f"cannot write {self.target} ({exc.strerror or exc})") from exc

    def result(self) -> Path:
        try:
            self.fh.close()
        except OSError as exc:
            raise CacheError(f"cannot write {self.target} ({exc.strerror or exc})") from exc
        return self.tmp

    def discard(self) -> None:
        try:
            self.fh.close()
        except OSError:
            pass
        discard(self.tmp)


def _read_body(
    resp, sink: _Sink, *, total: int | None, cap: int, what: str, progress: bool, cancel
) -> int:
    import sys

    size = 0
    show = progress and sys.stderr.isatty()
    bar = None
    if show:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TransferSpeedColumn,
        )

        # On stderr (the terminal we checked): rich's default console is stdout, which
        # may be the TSV being redirected to a file.
        bar = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            transient=True,
            console=Console(stderr=True),
        )
        bar.start()
        task = bar.add_task(f"downloading {what}", total=total)
    try:
        for chunk in resp.iter_content(chunk_size=1 << 16):
            if cancel.is_set():
                raise _Cancelled
            size += len(chunk)
            if size > cap:
                raise NetworkError(
                    f"{what}: download exceeds the {cap}-byte cap ({limits.MAX_DOWNLOAD_BYTES_ENV})"
                )
            sink.write(chunk)
            if bar is not None:
                bar.update(task, advance=len(chunk))
    finally:
        if bar is not None:
            bar.stop()
    if cancel.is_set():
        raise _Cancelled
    return size


# --------------------------------------------------------------------------- the cache


def _hint(name: str) -> str:
    return f"run: gsea-plus libraries download {name} --force"


@dataclass(frozen=True)
class CachedLibrary:
    """Paths of a cached library: raw text, metadata (with sha256) and binary form."""

    name: str
    root: Path

    @property
    def text(self) -> Path:
        """The raw GMT text as downloaded."""
        return self.root / f"{self.name}.gmt"

    @property
    def meta_path(self) -> Path:
        """JSON metadata: url, sha256, bytes, downloaded_at."""
        return self.root / f"{self.name}.json"

    @property
    def binary(self) -> Path:
        """The parsed library (sparse membership, gene and term index) as .npz."""
        return self.root / f"{self.name}.npz"

    def exists(self) -> bool:
        """Whether the raw text and its metadata are both present."""
        return self.text.is_file() and self.meta_path.is_file()

    def meta(self) -> dict:
        """The recorded metadata.

        Raises
        ------
        CorruptCacheError
            Unreadable, not a JSON object, or without a sha256.
        """
        try:
            meta = json.loads(self.meta_path.read_bytes())
        except (OSError, ValueError) as exc:
            raise CorruptCacheError(
                f"{self.meta_path}: unreadable cache metadata ({exc}); {_hint(self.name)}"
            ) from exc
        if not isinstance(meta, dict) or not isinstance(meta.get("sha256"), str):
            raise CorruptCacheError(
                f"{self.meta_path}: invalid cache metadata (not an object with a sha256); "
                f"{_hint(self.name)}"
            )
        return meta

    def _verified_text(self, meta: dict) -> bytes:
        try:
            data = self.text.read_bytes()
        except OSError as exc:
            raise CorruptCacheError(
                f"cached library {self.name}: cannot read {self.text} "
                f"({exc.strerror or exc}); {_hint(self.name)}"
            ) from exc
        if sha256_bytes(data) != meta["sha256"]:
            raise CorruptCacheError(
                f"cached library {self.name} is corrupt (checksum mismatch); {_hint(self.name)}"
            )
        return data

    def _parse(self, data: bytes) -> list:
        try:
            return parse_gmt_bytes(data, self.name, strict=True)
        except LibraryError as exc:
            raise CorruptCacheError(
                f"cached library {self.name} is not a valid library ({exc}); {_hint(self.name)}"
            ) from exc

    def verify(self) -> None:
        """Check the entry: metadata, checksum, and (once, for old entries) content.

        Raises
        ------
        CorruptCacheError
            The entry fails a check.
        """
        meta = self.meta()
        data = self._verified_text(meta)
        if meta.get("checked") != CHECKS_VERSION:
            self._parse(data)
            self._mark_checked(meta)

    def _mark_checked(self, meta: dict) -> None:
        from gsea_plus.library.cache import atomic_write

        body = json.dumps({**meta, "checked": CHECKS_VERSION}, indent=1).encode()
        optional_cache_write(
            lambda: atomic_write(self.meta_path, body), self.meta_path, what="cache metadata"
        )

    def load(self) -> GeneSetLibrary:
        """Load from the binary form, rebuilding it from verified text when stale.

        Raises
        ------
        CorruptCacheError
            The metadata or the text fails its checks.
        """
        meta = self.meta()
        sha = meta["sha256"]
        checked = meta.get("checked") == CHECKS_VERSION
        if checked and self.binary.is_file():
            try:
                lib = GeneSetLibrary.load(self.binary)
            except LibraryError as exc:
                log.info("rebuilding %s: %s", self.binary, exc)
            else:
                if lib.meta.get("sha256") == sha:
                    return lib
        data = self._verified_text(meta)
        lib = GeneSetLibrary.from_gene_sets(self.name, self._parse(data), meta=_lib_meta(meta))
        optional_cache_write(
            lambda: lib.save(self.binary), self.binary, what="the parsed-library cache"
        )
        if not checked:
            self._mark_checked(meta)
        return lib


def _lib_meta(meta: dict) -> dict:
    return {k: meta[k] for k in ("sha256", "source", "downloaded_at") if k in meta}


def cached(name: str, *, create: bool = False) -> CachedLibrary:
    """The cache entry for an Enrichr library name (it may not exist yet).

    Raises
    ------
    LibraryError
        ``name`` is not a valid library name (:func:`validate_name`).
    CacheError
        ``create`` and the cache directory cannot be created.
    """
    entry = CachedLibrary(validate_name(name), cache_dir("libraries", create=create))
    if str(entry.root) not in _ORPHANS_SWEPT:
        _ORPHANS_SWEPT.add(str(entry.root))
        _sweep_orphans(entry.root)
    return entry


def _sweep_orphans(root: Path, *, now: float | None = None) -> None:
    """Delete ``X.gmt``/``X.npz`` without ``X.json`` (a commit cut short), once old enough."""
    now = time.time() if now is None else now
    try:
        entries = list(os.scandir(root))
    except OSError:
        return
    names = {e.name for e in entries}
    for entry in entries:
        stem, dot, ext = entry.name.rpartition(".")
        if not dot or ext not in ("gmt", "npz") or entry.name.startswith("."):
            continue
        if f"{stem}.json" in names:
            continue
        try:
            if entry.is_file(follow_symlinks=False) and (
                now - entry.stat(follow_symlinks=False).st_mtime > ORPHAN_AGE_S
            ):
                os.unlink(entry.path)
                log.info("removed %s (left by an interrupted download)", entry.path)
        except OSError:
            pass


def _check_library_body(fetched: Fetched) -> None:
    """Refuse answers that are not a library; retry bodies that may be cut short."""
    if fetched.content_type in _NOT_LIBRARY_TYPES:
        raise NetworkError(
            f"the server answered with a {fetched.content_type} page, not a gene set library"
        )
    if fetched.length_checked:
        return
    body = fetched.body
    assert isinstance(body, bytes)
    from gsea_plus.textio import GZIP_MAGIC, gunzip

    if body[:2] == GZIP_MAGIC:
        try:
            body = bytes(gunzip(body, "the download", error=LibraryError))
        except LibraryError as exc:
            raise Retry(f"incomplete download ({exc})") from exc
    if body and not body.endswith(b"\n"):
        raise Retry(
            "incomplete download: no Content-Length, and the body does not end with a "
            "complete row (connection cut?)"
        )


def _fetch_library(name: str, *, progress: bool) -> tuple[bytes, GeneSetLibrary, dict]:
    url = enrichr_url(name)

    def check(fetched: Fetched) -> None:
        try:
            _check_library_body(fetched)
        except (Retry, NetworkError) as exc:
            text = str(exc)
            raise type(exc)(f"{name}: {text}") from exc

    data = fetch_bytes(url, what=name, progress=progress, check=check)
    if not data.strip():
        raise NotFoundError(f"{name}: the server sent an empty library (unknown library name?)")
    try:
        sets = parse_gmt_bytes(data, name, strict=True)
    except LibraryError as exc:
        detail = str(exc).removeprefix(f"{name}: ").removeprefix(f"{name}, ")
        raise NetworkError(f"{name}: the download is not a gene set library ({detail})") from exc
    meta = {
        "name": name,
        "source": url,
        "sha256": sha256_bytes(data),
        "bytes": len(data),
        "n_terms": len(sets),
        "downloaded_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "checked": CHECKS_VERSION,
    }
    return data, GeneSetLibrary.from_gene_sets(name, sets, meta=_lib_meta(meta)), meta


def _store(entry: CachedLibrary, data: bytes, lib: GeneSetLibrary, meta: dict) -> None:
    """Commit text, parsed form and metadata: all staged first, then renamed, metadata last.

    A failure while staging (disk full) leaves the previous entry untouched; a failure
    while renaming removes the half-replaced entry. Either way no temp file is left.

    Raises
    ------
    CacheError
        A file cannot be written.
    """
    files = [
        (entry.text, data),
        (entry.binary, lib.npz_bytes()),
        (entry.meta_path, json.dumps(meta, indent=1).encode()),
    ]
    staged: list[Path] = []
    committing = False
    try:
        for path, blob in files:
            staged.append(stage(path, blob))
        committing = True
        # Without metadata the entry is 'not cached': readers never pair new text with
        # old metadata, and a crash between renames leaves no 'complete' entry.
        entry.meta_path.unlink(missing_ok=True)
        for (path, _), tmp in zip(files, staged, strict=True):
            os.replace(tmp, path)
    except OSError as exc:
        if committing:
            for path, _ in files:
                discard(path)
        raise CacheError(f"cannot write {entry.text} ({exc.strerror or exc})") from exc
    finally:
        for tmp in staged:
            discard(tmp)


def download(name: str, *, force: bool = False, progress: bool = True) -> CachedLibrary:
    """Download an Enrichr library into the cache.

    A cached entry is kept (no request) when it passes :meth:`CachedLibrary.verify`;
    one that fails is downloaded again, with a warning. ``force`` always downloads.
    The download is parsed before it is committed: a body that is not a whole GMT
    library is an error and leaves the cache untouched.

    Raises
    ------
    LibraryError
        Invalid name.
    CacheError
        The cache cannot be written (caching is this function's job).
    NetworkError
        The download failed or is not a library.
    """
    entry = cached(name, create=True)
    if entry.exists() and not force:
        try:
            entry.verify()
        except CorruptCacheError as exc:
            log.warning("%s; downloading it again", str(exc).split("; run:")[0])
        else:
            return entry
    data, lib, meta = _fetch_library(name, progress=progress)
    _store(entry, data, lib, meta)
    return entry


def fetch_library(name: str, *, progress: bool = True) -> GeneSetLibrary:
    """Download a library and return it, caching it when the cache can be written.

    A write that fails (disk full, read-only files) costs a warning, not the result. A
    cache directory that cannot be created or is not writable is a configuration error,
    reported before any request (it names ``GSEA_PLUS_CACHE``).

    Raises
    ------
    LibraryError
        Invalid name.
    CacheError
        The cache directory is unusable.
    NetworkError
        The download failed or is not a library.
    """
    entry = cached(name, create=True)
    data, lib, meta = _fetch_library(name, progress=progress)
    optional_cache_write(
        lambda: _store(entry, data, lib, meta), entry.text, what=f"library {name} to the cache"
    )
    return lib
