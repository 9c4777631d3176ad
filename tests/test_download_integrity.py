"""Only whole, valid libraries are cached; every download has an overall deadline.

Issue 10.6: a body without Content-Length cut mid-row was cached as complete; an HTML
page holding tab-separated rows was cached and kept by a later ``libraries download``.
Issue 10.9: the timeout was per read, so a 1 byte/s drip never timed out.
All against the loopback Enrichr of conftest; each fault is bounded in time and count.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time as _time

import pytest
from conftest import (
    GSEA_PLUS_EXE,
    TINY,
    TINY_BODY,
    TINY_SETS,
    assert_one_error_line,
    cache_files,
    requires_shared,
    subprocess_env,
)

import gsea_plus.library as library
from gsea_plus.errors import CorruptCacheError, LibraryError, NetworkError
from gsea_plus.library import download_library, load_library
from gsea_plus.library.core import sha256_bytes
from gsea_plus.library.download import cached, download


@pytest.fixture
def server(tiny_server):
    return tiny_server


def _libraries(root) -> list[str]:
    return [f for f in cache_files(root) if f.startswith("libraries/")]


def _cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(GSEA_PLUS_EXE), *args],
        capture_output=True,
        text=True,
        env=subprocess_env(**env),
        timeout=120,
    )


# --------------------------------------------------------------------------- completeness


@pytest.mark.parametrize("mode", ["cut_nolength", "cut_nolength_gzip"])
def test_body_cut_without_content_length_is_retried_then_refused(server, cache_root, mode):
    server.faults[TINY] = [mode]
    with pytest.raises(NetworkError, match="incomplete download"):
        download(TINY, progress=False)
    assert server.count(TINY) == 3
    assert _libraries(cache_root) == []


def test_body_cut_once_then_whole_is_accepted(server):
    server.faults[TINY] = ["cut_nolength", "ok"]
    entry = download(TINY, progress=False)
    assert entry.text.read_bytes() == TINY_BODY
    assert server.count(TINY) == 2


@requires_shared
def test_cli_cut_kegg_is_not_cached_as_complete(server, cache_root):
    # the case: 162 of 320 terms, the last one cut mid-row, cached, exit 0
    server.faults["KEGG_2021_Human"] = ["cut_nolength"]
    proc = _cli("libraries", "download", "KEGG")
    assert proc.returncode == 3, proc.stderr
    assert_one_error_line(proc.returncode, proc.stderr, "incomplete download")
    assert _libraries(cache_root) == []
    server.faults["KEGG_2021_Human"] = ["ok"]
    proc = _cli("libraries", "download", "KEGG")
    assert proc.returncode == 0, proc.stderr
    assert (
        json.loads((cache_root / "libraries" / "KEGG_2021_Human.json").read_text())["n_terms"]
        == 320
    )


# --------------------------------------------------------------------------- not a library


@pytest.mark.parametrize(
    ("mode", "why"),
    [
        ("html_tabs", "HTML"),
        ("html_type", "text/html"),
        ("json", "JSON"),
    ],
)
def test_answers_that_are_not_libraries_are_never_cached(server, cache_root, mode, why):
    server.faults[TINY] = [mode]
    with pytest.raises(NetworkError, match="not a gene set library") as info:
        download(TINY, progress=False)
    assert why in str(info.value)
    assert info.value.exit_code == 3
    assert server.count(TINY) == 1  # the server answered: asking again would not help
    assert _libraries(cache_root) == []


def _plant_old_entry(cache_root, name: str, body: bytes, **meta) -> None:
    """A cache entry as an older version wrote it (no 'checked' marker)."""
    root = cache_root / "libraries"
    root.mkdir(parents=True, exist_ok=True)
    (root / f"{name}.gmt").write_bytes(body)
    record = {"name": name, "sha256": sha256_bytes(body), "bytes": len(body), **meta}
    (root / f"{name}.json").write_text(json.dumps(record))


HTML_WITH_TABS = b"<!DOCTYPE html>\n<html><body><pre>\n" + TINY_BODY + b"</pre></body></html>\n"


def test_html_cached_by_an_older_version_is_fetched_again(server, cache_root, caplog):
    _plant_old_entry(cache_root, TINY, HTML_WITH_TABS)
    with caplog.at_level("WARNING", logger="gsea_plus"):
        entry = download_library(TINY)  # no --force: used to keep the page
    assert server.count(TINY) == 1
    assert entry.text.read_bytes() == TINY_BODY
    assert any("downloading it again" in r.getMessage() for r in caplog.records)
    # a good entry is kept without a request
    download_library(TINY)
    assert server.count(TINY) == 1


def test_load_library_refetches_a_bad_entry_online_and_says_force_offline(server, cache_root):
    _plant_old_entry(cache_root, TINY, HTML_WITH_TABS)
    with pytest.raises(CorruptCacheError, match=f"libraries download {TINY} --force"):
        load_library(TINY, offline=True)
    assert server.count() == 0
    lib = load_library(TINY)
    assert sorted(lib.terms.tolist()) == sorted(TINY_SETS)
    assert server.count(TINY) == 1
    library._MEMO.clear()
    assert len(load_library(TINY, offline=True)) == len(TINY_SETS)


@pytest.mark.parametrize(
    "meta",
    ["[1, 2, 3]", '"text"', "{}", '{"sha256": 5}', "not json", ""],
    ids=["list", "string", "empty-object", "sha-not-str", "garbage", "empty"],
)
def test_bad_metadata_is_a_clear_error_offline_and_refetched_online(server, cache_root, meta):
    download(TINY, progress=False)
    entry = cached(TINY)
    entry.meta_path.write_text(meta)
    library._MEMO.clear()
    with pytest.raises(CorruptCacheError, match="--force") as info:
        load_library(TINY, offline=True)
    assert isinstance(info.value, LibraryError) and info.value.exit_code == 2
    assert len(load_library(TINY)) == len(TINY_SETS)
    assert server.count(TINY) == 2
    assert json.loads(entry.meta_path.read_text())["sha256"] == sha256_bytes(TINY_BODY)


def test_cli_bad_metadata_is_one_line_with_the_fix(server, cache_root):
    download(TINY, progress=False)
    cached(TINY).meta_path.write_text("[]")
    proc = _cli("libraries", "info", TINY)  # offline by default
    assert proc.returncode == 2
    assert_one_error_line(proc.returncode, proc.stderr, "--force")


def test_checksum_mismatch_online_is_fetched_again(server, cache_root):
    entry = download(TINY, progress=False)
    entry.binary.unlink()
    entry.text.write_bytes(TINY_BODY.replace(b"G1", b"GX"))
    library._MEMO.clear()
    lib = load_library(TINY)
    assert "GX" not in lib.genes.tolist()
    assert server.count(TINY) == 2
    assert entry.text.read_bytes() == TINY_BODY


# --------------------------------------------------------------------------- deadline


@pytest.mark.parametrize("mode", ["drip", "drip_headers"])
def test_drip_is_stopped_by_the_deadline(server, monkeypatch, cache_root, mode):
    # each byte comes well within the per-read timeout; only the deadline can stop it
    monkeypatch.setenv("GSEA_PLUS_TIMEOUT", "5")
    monkeypatch.setenv("GSEA_PLUS_DEADLINE", "1")
    server.drip_s = 0.05  # the whole body would take > 6 s (headers: > 20 s)
    server.faults[TINY] = [mode]
    with pytest.raises(NetworkError, match=r"did not finish within 1 s.*GSEA_PLUS_DEADLINE"):
        download(TINY, progress=False)
    sent, total = server.drips.wait()
    assert sent < total  # the client left mid-drip: the deadline, not the body's end
    assert server.count(TINY) == 1  # no retry past the deadline
    # the worker was woken (its socket shut down), not left dripping in the background
    assert not [t for t in threading.enumerate() if t.name == "gsea-plus-download"]
    assert _libraries(cache_root) == []


def test_stall_retries_stop_at_the_deadline(server, monkeypatch):
    monkeypatch.setenv("GSEA_PLUS_TIMEOUT", "0.4")
    monkeypatch.setenv("GSEA_PLUS_DEADLINE", "0.6")
    server.stall_s = 1.0
    server.faults[TINY] = ["stall"]
    with pytest.raises(NetworkError, match="timed out|did not finish"):
        download(TINY, progress=False)
    assert server.count(TINY) <= 2  # a third try would start past the deadline


def test_backoff_never_sleeps_past_the_deadline(server, monkeypatch):
    import gsea_plus.library.download as dl

    class Clock:  # the download's clock: only its own pauses move it
        now = 0.0
        pauses: list[float] = []

        def monotonic(self) -> float:
            return self.now

        def sleep(self, seconds: float) -> None:
            self.pauses.append(seconds)
            self.now += seconds

        def time(self) -> float:  # wall-clock stamps (metadata) stay real
            return _time.time()

    clock = Clock()
    monkeypatch.setattr(dl, "time", clock)
    monkeypatch.setattr(dl, "BACKOFF", 1.0)  # backoff: 1 s, then 2 s
    monkeypatch.setenv("GSEA_PLUS_DEADLINE", "1.8")
    server.faults[TINY] = ["500"]
    with pytest.raises(NetworkError, match=r"HTTP 500.*gave up at the 1.8 s deadline"):
        download(TINY, progress=False)
    assert clock.pauses == [1.0]  # the 2 s pause would end past the deadline: not taken
    assert server.count(TINY) == 2


def test_cli_drip_fails_at_the_deadline_with_exit_3(server, cache_root):
    server.drip_s = 0.1
    server.faults[TINY] = ["drip"]
    proc = _cli("libraries", "download", TINY, GSEA_PLUS_TIMEOUT="5", GSEA_PLUS_DEADLINE="2")
    assert proc.returncode == 3, proc.stderr
    assert_one_error_line(proc.returncode, proc.stderr, "did not finish within 2 s")
    sent, total = server.drips.wait()
    assert sent < total  # the command left mid-drip (the whole drip would take 12 s)
    assert [f for f in _libraries(cache_root) if not f.endswith(".part")] == []
