"""Gzip is inflated in bounded steps under a cap, on every path (issue 10.5).

A 1 MB ``.gmt.gz`` holding 1 GiB used to peak at 2.1 GB of memory before being refused:
the download cap did not apply to the inflated size (local files, and downloads without
Content-Encoding).
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import zlib

import pytest
from conftest import (
    GSEA_PLUS_EXE,
    TINY_SETS,
    assert_one_error_line,
    cache_files,
    gmt_text,
    subprocess_env,
)

from gsea_plus.errors import InputError, LibraryError, NetworkError
from gsea_plus.library import load_library
from gsea_plus.library.download import download
from gsea_plus.textio import decode_text, gunzip

MiB = 1024 * 1024


def _bomb(inflated: int, unit: bytes = b"A" * MiB) -> bytes:
    """Gzip bytes that inflate to ``inflated`` bytes (made without holding them)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts = [packer.compress(unit) for _ in range(inflated // len(unit))]
    parts.append(packer.flush())
    return b"".join(parts)


def test_cap_is_exact():
    data = gzip.compress(b"x" * 1000)
    assert len(gunzip(data, "x", limit=1000)) == 1000
    with pytest.raises(InputError, match="more than 999 bytes.*GSEA_PLUS_MAX_INFLATE_BYTES"):
        gunzip(data, "x", limit=999)


def test_cap_comes_from_the_environment(monkeypatch):
    data = gzip.compress(b"T\t\tA\n" * 1000)
    monkeypatch.setenv("GSEA_PLUS_MAX_INFLATE_BYTES", "100")
    with pytest.raises(LibraryError, match="more than 100 bytes"):
        decode_text(data, "lib.gmt.gz", error=LibraryError)
    monkeypatch.delenv("GSEA_PLUS_MAX_INFLATE_BYTES")
    monkeypatch.setenv("GSEA_PLUS_MAX_DOWNLOAD_BYTES", "200")  # the default inflate cap
    with pytest.raises(LibraryError, match="more than 200 bytes"):
        decode_text(data, "lib.gmt.gz", error=LibraryError)


def test_binary_content_is_refused_without_inflating_it_all():
    # 64 MiB of zeros: refused after the first 64 KiB, under a cap that would allow it
    with pytest.raises(InputError, match="binary"):
        decode_text(_bomb(64 * MiB, b"\x00" * MiB), "zeros.gz")


def test_members_padding_and_damage():
    two = gzip.compress(b"T1\t\tA\n") + gzip.compress(b"T2\t\tB\n") + b"\x00" * 8
    assert decode_text(two, "x") == "T1\t\tA\nT2\t\tB\n"
    whole = gzip.compress(b"T1\t\tA\n" * 1000)
    for damaged, why in (
        (whole[:-4], "cut short"),
        (whole[:40], "cut short"),
        (whole + b"junk", "unexpected bytes"),
        (whole[:20] + b"\xff" * 20 + whole[40:], "corrupt gzip"),
    ):
        with pytest.raises(InputError, match=why):
            decode_text(damaged, "x")


def test_local_gzip_library_over_the_cap(tmp_path, monkeypatch, cache_root):
    path = tmp_path / "big.gmt.gz"
    path.write_bytes(gzip.compress(gmt_text(TINY_SETS).encode() * 100))
    monkeypatch.setenv("GSEA_PLUS_MAX_INFLATE_BYTES", "1000")
    with pytest.raises(LibraryError, match="inflates to more than 1000 bytes"):
        load_library(path)
    monkeypatch.delenv("GSEA_PLUS_MAX_INFLATE_BYTES")
    assert len(load_library(path)) == len(TINY_SETS)


def test_download_of_raw_gzip_is_capped_too(enrichr, monkeypatch, cache_root):
    # a .gmt.gz served as a file (no Content-Encoding): the wire size is small
    enrichr.extra["Big_2024"] = gmt_text(TINY_SETS).encode() * 100
    enrichr.faults["Big_2024"] = ["raw_gzip"]
    monkeypatch.setenv("GSEA_PLUS_MAX_INFLATE_BYTES", "1000")
    with pytest.raises(NetworkError, match="inflates to more than 1000 bytes"):
        download("Big_2024", progress=False)
    assert enrichr.count("Big_2024") == 1
    assert [f for f in cache_files(cache_root) if not f.endswith("/")] == []


def test_download_with_content_encoding_is_capped_on_the_decoded_size(enrichr, monkeypatch):
    enrichr.extra["Big_2024"] = gmt_text(TINY_SETS).encode() * 100
    enrichr.faults["Big_2024"] = ["gzip"]
    monkeypatch.setenv("GSEA_PLUS_MAX_DOWNLOAD_BYTES", "5000")  # the gzip on the wire is smaller
    with pytest.raises(NetworkError, match="cap"):
        download("Big_2024", progress=False)


_MEASURE = r"""
import json, resource, subprocess, sys
proc = subprocess.run(sys.argv[1:], capture_output=True)
print(json.dumps({
    "rc": proc.returncode,
    "err": proc.stderr.decode(errors="replace"),
    "maxrss_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
}))
"""


def _peak(args: list[str], **env: str) -> dict:
    """Run the console script under a fresh parent; return exit code, stderr, peak RSS."""
    proc = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(GSEA_PLUS_EXE), *args],
        capture_output=True,
        text=True,
        env=subprocess_env(**env),
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss is in KiB on Linux only")
def test_gzip_bomb_peak_memory_stays_bounded(tmp_path):
    inflated = 384 * MiB
    bomb = tmp_path / "bomb.gmt.gz"
    bomb.write_bytes(_bomb(inflated, b"T\t\tGENE\n" * (MiB // 8)))
    assert bomb.stat().st_size < 2 * MiB
    small = tmp_path / "small.gmt"
    small.write_text(gmt_text(TINY_SETS))
    genes = tmp_path / "genes.txt"
    genes.write_text("G1\nG2\nG3\n")

    base = _peak(["enrich", str(genes), "-l", str(small), "-f", "tsv"])
    assert base["rc"] == 0, base["err"]
    hit = _peak(
        ["enrich", str(genes), "-l", str(bomb), "-f", "tsv"],
        GSEA_PLUS_MAX_INFLATE_BYTES=str(8 * MiB),
    )
    assert hit["rc"] == 2
    assert_one_error_line(hit["rc"], hit["err"], "inflates to more than")
    grew = (hit["maxrss_kib"] - base["maxrss_kib"]) * 1024
    # the cap plus a step, some copies of it, never the inflated size
    assert grew < 64 * MiB, (base, hit)
    assert hit["maxrss_kib"] * 1024 < inflated / 2, hit
