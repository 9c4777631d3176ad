"""The limit variables: each checked, each bad value one clear error (issue 10.10).

``GSEA_PLUS_TIMEOUT=nan`` used to be accepted (every comparison with nan is false) and
``inf`` disabled the timeout.
"""

from __future__ import annotations

import gzip
import subprocess

import pytest
from conftest import (
    GSEA_PLUS_EXE,
    TINY_SETS,
    assert_one_error_line,
    cache_files,
    gmt_text,
    subprocess_env,
)

from gsea_plus.errors import InputError
from gsea_plus.library import limits
from gsea_plus.library.download import download

VARS = [
    limits.TIMEOUT_ENV,
    limits.DEADLINE_ENV,
    limits.MAX_DOWNLOAD_BYTES_ENV,
    limits.MAX_INFLATE_BYTES_ENV,
]
BAD = ["nan", "NaN", "inf", "-inf", "Infinity", "-1", "0", "abc", "1e999", " ", "5s"]


@pytest.mark.parametrize("var", VARS)
@pytest.mark.parametrize("value", BAD)
def test_bad_values_are_one_input_error_naming_the_variable(monkeypatch, var, value):
    monkeypatch.setenv(var, value)
    if not value.strip():  # blank means unset: the default
        limits.check_environment()
        return
    with pytest.raises(InputError) as info:
        limits.check_environment()
    msg = str(info.value)
    assert var in msg and repr(value) in msg and "\n" not in msg


def test_defaults(monkeypatch):
    assert limits.timeouts() == (10.0, 30.0)
    assert limits.deadline() == 300.0
    assert limits.max_download_bytes() == 512 * 1024 * 1024
    assert limits.max_inflate_bytes() == limits.max_download_bytes()
    # the inflate cap follows the download cap unless it is set itself
    monkeypatch.setenv(limits.MAX_DOWNLOAD_BYTES_ENV, "1000")
    assert limits.max_inflate_bytes() == 1000
    monkeypatch.setenv(limits.MAX_INFLATE_BYTES_ENV, "2000")
    assert limits.max_inflate_bytes() == 2000
    monkeypatch.setenv(limits.TIMEOUT_ENV, "2.5")
    monkeypatch.setenv(limits.DEADLINE_ENV, "7")
    assert limits.timeouts() == (2.5, 2.5) and limits.deadline() == 7.0


@pytest.mark.parametrize("var", [limits.TIMEOUT_ENV, limits.DEADLINE_ENV])
def test_a_download_with_a_bad_value_fails_before_any_request(
    enrichr, monkeypatch, var, cache_root
):
    enrichr.extra["Tiny_2024"] = gmt_text(TINY_SETS).encode()
    monkeypatch.setenv(var, "nan")
    with pytest.raises(InputError, match=var):
        download("Tiny_2024", progress=False)
    assert enrichr.count() == 0
    assert [f for f in cache_files(cache_root) if not f.startswith("libraries/")] == []


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_cli_bad_timeout_is_one_line_exit_2(enrichr, value):
    enrichr.extra["Tiny_2024"] = gmt_text(TINY_SETS).encode()
    proc = subprocess.run(
        [str(GSEA_PLUS_EXE), "libraries", "download", "Tiny_2024"],
        capture_output=True,
        text=True,
        env=subprocess_env(GSEA_PLUS_TIMEOUT=value),
        timeout=120,
    )
    assert proc.returncode == 2
    assert_one_error_line(proc.returncode, proc.stderr, "GSEA_PLUS_TIMEOUT")
    assert enrichr.count() == 0


def test_cli_bad_inflate_cap_for_a_local_gzip(tmp_path):
    gmt = tmp_path / "lib.gmt.gz"
    gmt.write_bytes(gzip.compress(gmt_text(TINY_SETS).encode()))
    genes = tmp_path / "genes.txt"
    genes.write_text("G1\nG2\n")
    proc = subprocess.run(
        [str(GSEA_PLUS_EXE), "enrich", str(genes), "-l", str(gmt)],
        capture_output=True,
        text=True,
        env=subprocess_env(GSEA_PLUS_MAX_INFLATE_BYTES="-5"),
        timeout=120,
    )
    assert_one_error_line(proc.returncode, proc.stderr, "GSEA_PLUS_MAX_INFLATE_BYTES")
    assert proc.returncode == 2
