"""Downloading published checkpoints (``owner/name`` ids) from a model hub.

Files are fetched from ``{base}/{repo_id}/resolve/main/{file}`` (the Hugging Face
layout; ``base`` defaults to https://huggingface.co and is overridden by the
environment variable ``GSEA_PLUS_HUB_URL``) into ``cache_dir("models")``, each through
a ``.part`` file renamed when complete. Only ``config.json``, ``vocab.txt`` and
``model.safetensors`` are fetched: pickle checkpoints are never downloaded or loaded.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from gsea_plus.errors import ModelError, NetworkError

log = logging.getLogger(__name__)

__all__ = ["HUB_ENV", "HUB_FILES", "download", "is_hub_id"]

HUB_ENV = "GSEA_PLUS_HUB_URL"
DEFAULT_HUB = "https://huggingface.co"
HUB_FILES = ("config.json", "vocab.txt", "model.safetensors")
MAX_BYTES = 2 * 1024**3
_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def is_hub_id(spec: str) -> bool:
    """Whether ``spec`` looks like ``owner/name`` (and is not an existing path)."""
    return bool(_ID.match(spec)) and not Path(spec).exists()


def download(
    repo_id: str, *, force: bool = False, timeout: float = 60.0, offline: bool = False
) -> Path:
    """Download a published checkpoint into the cache and return its directory.

    Parameters
    ----------
    repo_id
        ``owner/name`` on the hub, e.g. ``maayanlab/gsfm-rummagene``.
    force
        Download again even when the files are cached.
    timeout
        Seconds to wait for the server on each request.
    offline
        Never use the network: the cached files, or an error naming what is missing.
    """
    import requests

    from gsea_plus._version import __version__
    from gsea_plus.library.cache import cache_dir

    if not _ID.match(repo_id):
        raise ModelError(f"{repo_id!r} is not a hub id (expected owner/name)")
    base = os.environ.get(HUB_ENV, DEFAULT_HUB).rstrip("/")
    target = cache_dir("models") / repo_id.replace("/", "--")
    target.mkdir(parents=True, exist_ok=True)
    missing = [n for n in HUB_FILES if force or not (target / n).exists()]
    if offline and missing:
        raise ModelError(
            f"model {repo_id} is not in the cache ({', '.join(missing)} missing) and offline "
            "mode (--offline or GSEA_PLUS_OFFLINE=1) forbids downloading it"
        )
    headers = {"User-Agent": f"gsea-plus/{__version__}"}
    for name in HUB_FILES:
        path = target / name
        if path.exists() and not force:
            continue
        url = f"{base}/{repo_id}/resolve/main/{name}"
        log.info("downloading %s", url)
        try:
            with requests.get(url, stream=True, timeout=timeout, headers=headers) as resp:
                if resp.status_code == 404:
                    hint = (
                        " (only safetensors checkpoints are supported)"
                        if name == "model.safetensors"
                        else ""
                    )
                    raise ModelError(f"{url}: not found on the hub{hint}")
                resp.raise_for_status()
                _stream_to(path, resp)
        except requests.RequestException as exc:
            raise NetworkError(f"cannot download {url} ({exc})") from exc
    return target


def _stream_to(path: Path, resp) -> None:
    part = path.with_name(f".{path.name}.part")
    total = 0
    expected = resp.headers.get("Content-Length")
    try:
        with open(part, "wb") as fh:
            for block in resp.iter_content(1 << 20):
                total += len(block)
                if total > MAX_BYTES:
                    raise NetworkError(f"{resp.url}: larger than {MAX_BYTES} bytes")
                fh.write(block)
        if expected is not None and int(expected) != total:
            raise NetworkError(f"{resp.url}: truncated download ({total} of {expected} bytes)")
        os.replace(part, path)
    finally:
        if part.exists():
            part.unlink()
