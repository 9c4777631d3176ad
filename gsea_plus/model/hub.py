"""Downloading published checkpoints (``owner/name`` ids) from a model hub.

Files are fetched from ``{base}/{repo_id}/resolve/main/{file}`` (the Hugging Face
layout; ``base`` defaults to https://huggingface.co and is overridden by the
environment variable ``GSEA_PLUS_HUB_URL``) into ``cache_dir("models")/owner--name``.
Only ``config.json``, ``vocab.txt`` and ``model.safetensors`` are fetched: pickle
checkpoints are never downloaded or loaded.

The transfer is the library downloader's (:func:`gsea_plus.library.download.fetch`):
retries with backoff, a per-read timeout, an overall deadline per file, a size cap.
Each file streams into a temp file unique to its writer, is checked (a JSON object, a
text vocabulary, a safetensors header that fits the file; never an HTML page) and only
then renamed into place. A cached file that fails the same checks (an error page saved
by an older version) is downloaded again on its own.
"""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path

from gsea_plus.errors import CacheError, ModelError, NotFoundError
from gsea_plus.options import offline_default

log = logging.getLogger(__name__)

__all__ = ["HUB_ENV", "HUB_FILES", "cache_path", "check_file", "download", "is_hub_id"]

HUB_ENV = "GSEA_PLUS_HUB_URL"
DEFAULT_HUB = "https://huggingface.co"
HUB_FILES = ("config.json", "vocab.txt", "model.safetensors")
#: Size cap of one file, unless GSEA_PLUS_MAX_DOWNLOAD_BYTES is set.
MAX_BYTES = 2 * 1024**3
_MAX_HEADER = 100 * 1024**2
_MAX_SMALL = 64 * 1024**2
# Hugging Face's rules: letters, digits, '_', '.', '-'; no leading/trailing '.' or '-';
# no '--' or '..'; at most 96 characters per part. Without '--' in either part, the
# cache folder 'owner--name' names exactly one repository.
_PART = r"[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,94}[A-Za-z0-9_])?"
_ID = re.compile(rf"({_PART})/({_PART})")


def _id_problem(repo_id: object) -> str | None:
    if not isinstance(repo_id, str):
        return "not a string"
    if len(repo_id) > 193:
        return f"{len(repo_id)} characters, at most 96 per part"
    if not _ID.fullmatch(repo_id):
        return "expected owner/name of letters, digits, '_', '.', '-'"
    if "--" in repo_id or ".." in repo_id:
        return "'--' and '..' are not allowed"
    return None


def is_hub_id(spec: str) -> bool:
    """Whether ``spec`` is a valid ``owner/name`` (and not an existing path)."""
    if _id_problem(spec) is not None:
        return False
    try:
        return not Path(spec).exists()
    except (OSError, ValueError):
        return True


def cache_path(repo_id: str) -> Path:
    """The cache folder of a hub id (it may not exist yet).

    Raises
    ------
    ModelError
        ``repo_id`` is not a valid hub id.
    """
    from gsea_plus.library.cache import cache_dir

    problem = _id_problem(repo_id)
    if problem is not None:
        shown = repo_id[:60] if isinstance(repo_id, str) else repo_id
        raise ModelError(f"{shown!r} is not a hub id ({problem})")
    return cache_dir("models", create=False) / repo_id.replace("/", "--")


def download(
    repo_id: str,
    *,
    force: bool = False,
    timeout: float | None = None,
    offline: bool | None = None,
) -> Path:
    """Download a published checkpoint into the cache and return its directory.

    Parameters
    ----------
    repo_id
        ``owner/name`` on the hub, e.g. ``maayanlab/gsfm-rummagene``.
    force
        Download again even when the cached files pass their checks.
    timeout
        Seconds to wait for each connect and read (default ``GSEA_PLUS_TIMEOUT``).
        The whole of each file is bounded by ``GSEA_PLUS_DEADLINE``.
    offline
        Never use the network: the cached files, or an error naming what is missing
        (default: the ``GSEA_PLUS_OFFLINE`` environment variable).

    Raises
    ------
    ModelError
        Invalid id; a file is missing on the hub or is not what it should be; offline
        (``GSEA_PLUS_OFFLINE``) and not cached.
    NetworkError
        The download failed.
    CacheError
        The model cache cannot be written.
    """
    from gsea_plus.library.cache import cache_dir, sweep_stale

    target = cache_path(repo_id)
    if not force and all(check_file(n, target / n) is None for n in HUB_FILES):
        return target  # cached and sound: nothing to write (a read-only cache is fine)
    cache_dir("models")  # create it, or a clear CacheError
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CacheError(f"cannot create {target} ({exc.strerror or exc})") from exc
    sweep_stale(target)
    base = os.environ.get(HUB_ENV, DEFAULT_HUB).rstrip("/")
    try:
        _download_files(
            repo_id, target, base, force=force, timeout=timeout, offline=offline_default(offline)
        )
    except BaseException:
        try:
            target.rmdir()  # only if empty: a first download that failed leaves no folder
        except OSError:
            pass
        raise
    return target


def _download_files(
    repo_id: str, target: Path, base: str, *, force: bool, timeout: float | None, offline: bool
) -> None:
    for name in HUB_FILES:
        path = target / name
        if path.is_file() and not force:
            problem = check_file(name, path)
            if problem is None:
                continue
            log.warning("cached %s is not valid (%s); downloading it again", path, problem)
        if offline:
            raise ModelError(
                f"model {repo_id} is not in the cache ({name} missing or invalid) and offline "
                "mode (--offline or GSEA_PLUS_OFFLINE=1) forbids downloading it"
            )
        _fetch_file(
            f"{base}/{repo_id}/resolve/main/{name}", path, what=f"{repo_id}/{name}", timeout=timeout
        )


def _fetch_file(url: str, path: Path, *, what: str, timeout: float | None) -> None:
    from gsea_plus.library import limits
    from gsea_plus.library.cache import discard
    from gsea_plus.library.download import Fetched, fetch

    def check(fetched: Fetched) -> None:
        if fetched.content_type in ("text/html", "application/xhtml+xml"):
            raise ModelError(
                f"{url}: the hub answered with an HTML page (a login or error page?), "
                f"not {path.name}"
            )
        assert isinstance(fetched.body, Path)
        problem = check_file(path.name, fetched.body)
        if problem is not None:
            raise ModelError(f"{url}: {problem}")

    log.info("downloading %s", url)
    try:
        fetched = fetch(
            url,
            what=what,
            max_bytes=limits.max_download_bytes(MAX_BYTES),
            check=check,
            to_file=path,
            timeout=timeout,
        )
    except NotFoundError as exc:
        hint = (
            " (only safetensors checkpoints are supported)"
            if path.name.endswith(".safetensors")
            else ""
        )
        raise ModelError(f"{url}: not found on the hub{hint}") from exc
    tmp = fetched.body
    assert isinstance(tmp, Path)
    try:
        os.replace(tmp, path)
    except OSError as exc:
        discard(tmp)
        raise CacheError(f"cannot write {path} ({exc.strerror or exc})") from exc


def check_file(name: str, path: Path) -> str | None:
    """Why the file ``path`` cannot be the checkpoint file ``name``, or ``None`` if it can.

    Cheap: a safetensors file is checked by its header (its length, JSON, and tensor
    offsets within the file), not read whole.
    """
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            if name.endswith(".safetensors"):
                return _safetensors_problem(fh, size)
            if size > _MAX_SMALL:
                return f"{size} bytes, too large for {name}"
            data = fh.read()
    except OSError as exc:
        return f"unreadable ({exc.strerror or exc})"
    if _looks_html(data):
        return "it is an HTML page"
    if name.endswith(".json"):
        try:
            value = json.loads(data)
        except ValueError as exc:
            return f"not valid JSON ({exc})"
        return None if isinstance(value, dict) else "not a JSON object"
    if b"\x00" in data:
        return "binary content, not text"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "not UTF-8 text"
    return None if text.strip() else "empty"


def _looks_html(data: bytes) -> bool:
    head = data[:512].lstrip().lower()
    return head.startswith((b"<!doctype", b"<html", b"<?xml", b"<head", b"<body", b"<!--"))


def _safetensors_problem(fh, size: int) -> str | None:
    head = fh.read(8)
    if _looks_html(head + fh.read(504)):
        return "it is an HTML page, not a safetensors file"
    if len(head) < 8:
        return "too short to be a safetensors file"
    n = int.from_bytes(head, "little")
    if n < 2 or n > min(size - 8, _MAX_HEADER):
        return "not a safetensors file (bad header length)"
    fh.seek(8)
    try:
        header = json.loads(fh.read(n))
    except ValueError:
        return "not a safetensors file (unreadable header)"
    if not isinstance(header, dict):
        return "not a safetensors file (header is not a JSON object)"
    room = size - 8 - n
    for key, info in header.items():
        if key == "__metadata__":
            continue
        offsets = info.get("data_offsets") if isinstance(info, dict) else None
        if (
            not isinstance(offsets, list)
            or len(offsets) != 2
            or not all(isinstance(o, int) for o in offsets)
            or not 0 <= offsets[0] <= offsets[1] <= room
        ):
            return f"not a complete safetensors file (tensor {key!r} lies outside the file)"
    return None
