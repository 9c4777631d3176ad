"""Downloads from a real loopback HTTP server speaking Enrichr's text endpoint, with faults."""

from __future__ import annotations

import io
import json
import sys

import pytest
from conftest import TINY, TINY_SETS, cache_files, gmt_text, requires_shared

from gsea_plus.errors import CacheError, LibraryError, NetworkError
from gsea_plus.library import load_library
from gsea_plus.library.core import sha256_bytes
from gsea_plus.library.download import cached, download, enrichr_url, fetch_bytes


@pytest.fixture
def server(tiny_server):
    return tiny_server


def test_enrichr_url_layout(monkeypatch):
    monkeypatch.setenv("GSEA_PLUS_ENRICHR_URL", "http://mirror.example/Enrichr/")
    assert (
        enrichr_url("GO_Biological_Process_2025")
        == "http://mirror.example/Enrichr/geneSetLibrary?mode=text&libraryName=GO_Biological_Process_2025"
    )
    assert enrichr_url("A B&C").endswith("libraryName=A%20B%26C")


def test_download_writes_text_meta_and_binary(server, cache_root):
    entry = download(TINY, progress=False)
    body = gmt_text(TINY_SETS).encode()
    assert entry.text.read_bytes() == body
    meta = json.loads(entry.meta_path.read_text())
    assert meta["sha256"] == sha256_bytes(body)
    assert meta["bytes"] == len(body)
    assert meta["n_terms"] == len(TINY_SETS)
    assert meta["source"] == f"{server.url}/geneSetLibrary?mode=text&libraryName={TINY}"
    assert entry.binary.is_file()
    assert cache_files(cache_root) == sorted(
        f"libraries/{TINY}{ext}" for ext in (".gmt", ".json", ".npz")
    )
    # cached: a second call does not ask the server again
    assert server.count(TINY) == 1
    download(TINY, progress=False)
    assert server.count(TINY) == 1
    download(TINY, force=True, progress=False)
    assert server.count(TINY) == 2


@requires_shared
def test_alias_downloads_the_enrichr_library(server, cache_root):
    lib = load_library("KEGG")  # alias -> KEGG_2021_Human
    assert lib.name == "KEGG_2021_Human"
    assert len(lib) == 320
    assert server.count("KEGG_2021_Human") == 1
    assert lib.meta["sha256"] == sha256_bytes((server.root / "KEGG_2021_Human.gmt").read_bytes())
    assert (cache_root / "libraries" / "KEGG_2021_Human.gmt").is_file()
    # the alias is case-insensitive and the second load is served from the cache
    import gsea_plus.library as library

    library._MEMO.clear()
    assert len(load_library("kegg", offline=True)) == 320
    assert server.count() == 1


def test_500_then_success_is_retried(server):
    server.faults[TINY] = ["500", "500", "ok"]
    entry = download(TINY, progress=False)
    assert entry.exists()
    assert server.count(TINY) == 3


def _assert_clean(root):
    assert cache_files(root) == [], cache_files(root)


def test_persistent_500(server, cache_root):
    server.faults[TINY] = ["500"]
    with pytest.raises(NetworkError, match="HTTP 500") as info:
        download(TINY, progress=False)
    assert info.value.exit_code == 3
    assert server.count(TINY) == 3  # RETRIES attempts, then give up
    _assert_clean(cache_root)


def test_404_is_not_retried(server, cache_root):
    server.faults[TINY] = ["404"]
    with pytest.raises(NetworkError, match="404"):
        download(TINY, progress=False)
    assert server.count(TINY) == 1
    _assert_clean(cache_root)


def test_unknown_name_online_suggests_close_names(server, cache_root):
    with pytest.raises(LibraryError, match="unknown library 'KEGGG'") as info:
        load_library("KEGGG")
    assert "KEGG" in str(info.value)
    _assert_clean(cache_root)


def test_truncated_body(server, cache_root):
    server.faults[TINY] = ["truncated"]
    with pytest.raises(NetworkError, match="truncated"):
        download(TINY, progress=False)
    assert server.count(TINY) == 3
    _assert_clean(cache_root)


def test_truncated_then_ok(server, cache_root):
    server.faults[TINY] = ["truncated", "ok"]
    entry = download(TINY, progress=False)
    assert entry.text.read_bytes() == gmt_text(TINY_SETS).encode()


@pytest.mark.parametrize("mode", ["stall", "stall_body"])
def test_stalled_response_times_out(server, cache_root, monkeypatch, mode):
    monkeypatch.setenv("GSEA_PLUS_TIMEOUT", "0.3")
    server.stall_s = 1.0
    server.faults[TINY] = [mode]
    with pytest.raises(NetworkError, match="timed out") as info:
        download(TINY, progress=False)
    assert "network down" not in str(info.value)
    assert server.count(TINY) == 3
    _assert_clean(cache_root)


def test_non_gmt_body(server, cache_root):
    server.faults[TINY] = ["html"]
    with pytest.raises(NetworkError, match="not a gene set library"):
        download(TINY, progress=False)
    _assert_clean(cache_root)


def test_empty_body(server, cache_root):
    server.faults[TINY] = ["empty"]
    with pytest.raises(NetworkError, match="empty library"):
        download(TINY, progress=False)
    _assert_clean(cache_root)


@pytest.mark.parametrize("mode", ["ok", "chunked"])
def test_oversize_download(server, cache_root, monkeypatch, mode):
    # with a Content-Length the cap is checked up front, without one while reading
    monkeypatch.setenv("GSEA_PLUS_MAX_DOWNLOAD_BYTES", "50")
    server.faults[TINY] = [mode]
    with pytest.raises(NetworkError, match="cap"):
        download(TINY, progress=False)
    assert server.count(TINY) == 1  # a size problem is not retried
    _assert_clean(cache_root)


@pytest.mark.parametrize("mode", ["chunked", "gzip"])
def test_body_without_length_or_compressed_is_accepted(server, mode):
    # Content-Length counts the bytes on the wire; a gzip-encoded body decodes to more
    server.faults[TINY] = [mode]
    entry = download(TINY, progress=False)
    assert entry.text.read_bytes() == gmt_text(TINY_SETS).encode()
    assert server.count(TINY) == 1


def test_network_down(monkeypatch, closed_port, cache_root):
    monkeypatch.setenv("GSEA_PLUS_ENRICHR_URL", closed_port)
    with pytest.raises(NetworkError, match="cannot reach") as info:
        download(TINY, progress=False)
    msg = str(info.value)
    assert "127.0.0.1" in msg and "\n" not in msg
    assert msg.endswith("(network down? Connection refused)"), msg
    _assert_clean(cache_root)


def test_fetch_bytes_direct(server):
    body = fetch_bytes(enrichr_url(TINY), what=TINY, progress=False)
    assert body == gmt_text(TINY_SETS).encode()


def test_offline_never_touches_the_network(server, cache_root):
    with pytest.raises(LibraryError) as info:
        load_library(TINY, offline=True)
    msg = str(info.value)
    assert TINY in msg and "not in the cache" in msg and "--offline" in msg
    assert f"gsea-plus libraries download {TINY}" in msg
    assert server.count() == 0
    # the environment variable does the same
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GSEA_PLUS_OFFLINE", "1")
        with pytest.raises(LibraryError, match="not in the cache"):
            load_library(TINY)
    assert server.count() == 0
    # once cached, offline works without a request
    download(TINY, progress=False)
    assert server.count() == 1
    assert len(load_library(TINY, offline=True)) == len(TINY_SETS)
    assert server.count() == 1


def test_cache_dir_not_writable(server, tmp_path, monkeypatch):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("GSEA_PLUS_CACHE", str(blocker / "cache"))
    with pytest.raises(CacheError) as info:
        load_library(TINY)
    msg = str(info.value)
    assert "\n" not in msg and "GSEA_PLUS_CACHE" in msg
    assert server.count() == 0  # fails before downloading anything


def test_checksum_mismatch_is_an_error(server):
    entry = download(TINY, progress=False)
    entry.binary.unlink()
    entry.text.write_bytes(entry.text.read_bytes().replace(b"G1", b"GX"))
    with pytest.raises(LibraryError, match="checksum"):
        entry.load()
    # also through the public loader, with the corrupt binary form present
    entry.binary.write_bytes(b"PK\x03\x04 not really a zip")
    import gsea_plus.library as library

    library._MEMO.clear()
    with pytest.raises(LibraryError, match="checksum"):
        load_library(TINY, offline=True)


def test_stale_binary_is_rebuilt_from_verified_text(server):
    entry = download(TINY, progress=False)
    entry.binary.write_bytes(b"garbage")
    lib = entry.load()
    assert sorted(lib.terms.tolist()) == sorted(TINY_SETS)
    assert entry.binary.read_bytes()[:2] == b"PK"  # rewritten as an npz


def test_cached_entry_paths(cache_root):
    entry = cached("X_2024")
    assert entry.text == cache_root / "libraries" / "X_2024.gmt"
    assert not entry.exists()


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("GSEA_PLUS_TIMEOUT", "abc"),
        ("GSEA_PLUS_TIMEOUT", "-1"),
        ("GSEA_PLUS_MAX_DOWNLOAD_BYTES", "1e9x"),
    ],
)
def test_bad_environment_numbers_are_input_errors(server, monkeypatch, var, value, cache_root):
    from gsea_plus.errors import InputError

    monkeypatch.setenv(var, value)
    with pytest.raises(InputError, match=var):
        download(TINY, progress=False)
    _assert_clean(cache_root)


class _FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_goes_to_stderr_not_stdout(server, monkeypatch):
    # `gsea-plus enrich ... > out.tsv` on a terminal: the bar must not land in out.tsv
    out, err = io.StringIO(), _FakeTerminal()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    entry = download(TINY, progress=True)
    assert entry.exists()
    assert out.getvalue() == ""
    assert err.getvalue() != ""  # the bar was drawn (then cleared) on the terminal


def test_subprocess_stdout_redirected_stays_clean_while_downloading(server, tmp_path):
    # the same through the real console script, with stderr on a pseudo-terminal
    import os
    import pty
    import subprocess

    from conftest import GSEA_PLUS_EXE, subprocess_env

    genes = tmp_path / "genes.txt"
    genes.write_text("G1\nG2\nG3\n")
    master, slave = pty.openpty()
    with open(tmp_path / "out.tsv", "wb") as out:
        proc = subprocess.Popen(
            [str(GSEA_PLUS_EXE), "enrich", str(genes), "-l", TINY],
            stdout=out,
            stderr=slave,
            stdin=subprocess.DEVNULL,
            env=subprocess_env(),
        )
        os.close(slave)
        while True:
            try:
                if not os.read(master, 65536):
                    break
            except OSError:
                break
        os.close(master)
        assert proc.wait(timeout=120) == 0
    assert (tmp_path / "out.tsv").read_text().startswith("Term\tOverlap\tP-value\t")
    assert server.count(TINY) == 1
