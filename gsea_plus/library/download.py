"""Downloading libraries from Enrichr's text endpoint into the cache.

Safe by construction: TLS verified, a User-Agent, a connect and read timeout, retries
with exponential backoff on connection errors and 5xx answers, a size cap, a check of the
received size against Content-Length, parsing before anything is committed, and atomic
writes (temp file, then rename) so that nothing half-written ever sits in the cache. The
sha256 of the content is recorded beside it and verified when the cache is read.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from gsea_plus._version import __version__
from gsea_plus.errors import InputError, LibraryError, NetworkError, NotFoundError
from gsea_plus.library.cache import atomic_write, cache_dir
from gsea_plus.library.core import GeneSetLibrary, sha256_bytes
from gsea_plus.library.gmt import parse_gmt_bytes

log = logging.getLogger(__name__)

__all__ = [
    "ENRICHR_URL_ENV",
    "CachedLibrary",
    "cached",
    "download",
    "enrichr_url",
    "fetch_bytes",
]

#: Environment variable overriding Enrichr's base URL (tests, mirrors).
ENRICHR_URL_ENV = "GSEA_PLUS_ENRICHR_URL"
DEFAULT_ENRICHR_URL = "https://maayanlab.cloud/Enrichr"
#: Environment variable overriding the download size cap, in bytes.
MAX_BYTES_ENV = "GSEA_PLUS_MAX_DOWNLOAD_BYTES"
DEFAULT_MAX_BYTES = 512 * 1024 * 1024
TIMEOUT = (10.0, 60.0)
RETRIES = 3
BACKOFF = 1.0


def enrichr_url(name: str) -> str:
    """The text-mode download URL of an Enrichr library."""
    from urllib.parse import quote

    base = os.environ.get(ENRICHR_URL_ENV, DEFAULT_ENRICHR_URL).rstrip("/")
    return f"{base}/geneSetLibrary?mode=text&libraryName={quote(name)}"


def _env_number(name: str, kind: type) -> float | None:
    value = os.environ.get(name)
    if not value:
        return None
    try:
        number = kind(value)
    except ValueError:
        number = 0
    if number <= 0:
        raise InputError(f"{name} must be a positive number, not {value!r}")
    return number


def _timeout() -> tuple[float, float]:
    t = _env_number("GSEA_PLUS_TIMEOUT", float)
    return (t, t) if t is not None else TIMEOUT


def fetch_bytes(
    url: str, *, what: str, max_bytes: int | None = None, progress: bool = True
) -> bytes:
    """GET ``url`` with retries, a size cap and a progress bar; return the body.

    Raises
    ------
    NetworkError
        Network down, timeout, HTTP error, oversize or truncated body.
    """
    import requests

    cap = max_bytes or _env_number(MAX_BYTES_ENV, int) or DEFAULT_MAX_BYTES
    headers = {"User-Agent": f"gsea-plus/{__version__} (+https://pypi.org/project/gsea-plus)"}
    last: Exception | None = None
    for attempt in range(RETRIES):
        if attempt:
            time.sleep(BACKOFF * 2 ** (attempt - 1))
        try:
            with requests.get(url, headers=headers, timeout=_timeout(), stream=True) as resp:
                if resp.status_code == 404:
                    raise NotFoundError(f"{what}: not found at {url} (HTTP 404)")
                if 400 <= resp.status_code < 500:
                    raise NetworkError(f"{what}: HTTP {resp.status_code} from {url}")
                if resp.status_code >= 500:
                    last = NetworkError(f"{what}: HTTP {resp.status_code} from {url}")
                    log.info("attempt %d: HTTP %d", attempt + 1, resp.status_code)
                    continue
                expected = resp.headers.get("Content-Length")
                total = int(expected) if expected and expected.isdigit() else None
                if total is not None and total > cap:
                    raise NetworkError(f"{what}: {total} bytes is over the {cap}-byte cap")
                body = _read_body(resp, total=total, cap=cap, what=what, progress=progress)
                # Content-Length counts the bytes on the wire: a gzip-encoded body decodes to
                # more (urllib3 checks the wire length itself and raises on a short read).
                encoding = resp.headers.get("Content-Encoding", "").strip().lower()
                if total is not None and encoding in ("", "identity") and len(body) != total:
                    raise _Truncated(f"{what}: truncated download ({len(body)} of {total} bytes)")
                return body
        except NetworkError:
            raise
        except _Truncated as exc:
            last = NetworkError(str(exc))
        except requests.exceptions.Timeout:
            last = NetworkError(f"{what}: timed out waiting for {url}")
        except requests.exceptions.ChunkedEncodingError:
            last = NetworkError(f"{what}: truncated download from {url} (connection broken)")
        except requests.exceptions.ConnectionError as exc:
            if _read_timed_out(exc):  # a stall while streaming the body comes as this
                last = NetworkError(f"{what}: timed out waiting for {url}")
                log.info("attempt %d failed: %s", attempt + 1, last)
                continue
            reason = str(exc).split("] ")[-1][:120].rstrip("\"')")  # drop the repr tail
            last = NetworkError(f"{what}: cannot reach {url} (network down? {reason})")
        except requests.exceptions.RequestException as exc:
            last = NetworkError(f"{what}: download failed ({exc})")
        log.info("attempt %d failed: %s", attempt + 1, last)
    assert last is not None
    raise last


def _read_timed_out(exc: Exception) -> bool:
    from urllib3.exceptions import ReadTimeoutError

    return any(isinstance(a, ReadTimeoutError) for a in exc.args)


class _Truncated(Exception):
    pass


def _read_body(resp, *, total: int | None, cap: int, what: str, progress: bool) -> bytes:
    import sys

    chunks: list[bytes] = []
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
            size += len(chunk)
            if size > cap:
                raise NetworkError(f"{what}: download exceeds the {cap}-byte cap")
            chunks.append(chunk)
            if bar is not None:
                bar.update(task, advance=len(chunk))
    finally:
        if bar is not None:
            bar.stop()
    return b"".join(chunks)


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
        """The recorded metadata."""
        try:
            return json.loads(self.meta_path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise LibraryError(f"{self.meta_path}: unreadable cache metadata ({exc})") from exc

    def load(self) -> GeneSetLibrary:
        """Load from the binary form, rebuilding it from verified text when stale."""
        meta = self.meta()
        sha = meta.get("sha256")
        if self.binary.is_file():
            try:
                lib = GeneSetLibrary.load(self.binary)
            except LibraryError as exc:
                log.info("rebuilding %s: %s", self.binary, exc)
            else:
                if lib.meta.get("sha256") == sha:
                    return lib
        data = self.text.read_bytes()
        if sha256_bytes(data) != sha:
            raise LibraryError(
                f"cached library {self.name} is corrupt (checksum mismatch); "
                f"run: gsea-plus libraries download {self.name} --force"
            )
        lib = GeneSetLibrary.from_gene_sets(
            self.name, parse_gmt_bytes(data, self.name), meta=_lib_meta(meta)
        )
        try:
            lib.save(self.binary)
        except LibraryError:  # pragma: no cover - cache became read-only
            log.warning("could not write %s", self.binary)
        return lib


def _lib_meta(meta: dict) -> dict:
    return {k: meta[k] for k in ("sha256", "source", "downloaded_at") if k in meta}


def cached(name: str, *, create: bool = False) -> CachedLibrary:
    """The cache entry for an Enrichr library name (it may not exist yet)."""
    return CachedLibrary(name, cache_dir("libraries", create=create))


def download(name: str, *, force: bool = False, progress: bool = True) -> CachedLibrary:
    """Download an Enrichr library into the cache (no-op when cached, unless ``force``).

    The text is parsed before it is committed: a body that is not a GMT library is an
    error and leaves the cache untouched.
    """
    entry = cached(name, create=True)
    if entry.exists() and not force:
        return entry
    url = enrichr_url(name)
    data = fetch_bytes(url, what=name, progress=progress)
    if not data.strip():
        raise NotFoundError(f"{name}: the server sent an empty library (unknown library name?)")
    try:
        sets = parse_gmt_bytes(data, name)
    except LibraryError as exc:
        raise NetworkError(f"{name}: the download is not a gene set library ({exc})") from exc
    sha = sha256_bytes(data)
    meta = {
        "name": name,
        "source": url,
        "sha256": sha,
        "bytes": len(data),
        "n_terms": len(sets),
        "downloaded_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    lib = GeneSetLibrary.from_gene_sets(name, sets, meta=_lib_meta(meta))
    # Order matters: metadata last, so an interrupted write leaves no 'complete' entry.
    for stale in (entry.meta_path, entry.binary):
        stale.unlink(missing_ok=True)
    atomic_write(entry.text, data)
    lib.save(entry.binary)
    atomic_write(entry.meta_path, json.dumps(meta, indent=1).encode())
    return entry
