"""Names can never leave the cache: library names and hub ids are checked first.

Issue 10.4: ``libraries download ../../etc/passwd`` wrote files outside the cache,
absolute names too, ``libraries path`` printed such paths, and hub ids ``owner/x--y``
and ``owner--x/y`` shared one folder. Issue 10.10: names over 255 characters and NUL
bytes raised raw OSError/ValueError.
"""

from __future__ import annotations

import subprocess

import pytest
from conftest import GSEA_PLUS_EXE, assert_one_error_line, cache_files, subprocess_env

from gsea_plus.errors import GseaPlusError, LibraryError, ModelError
from gsea_plus.library import download_library, load_library
from gsea_plus.library.download import cached, validate_name
from gsea_plus.model import hub

ESCAPES = [
    "../../etc/passwd",
    "..",
    "/etc/passwd",
    "/tmp/x",
    "a/../../b",
    "..\\..\\windows",
    ".hidden",
    "-rf",
    "name with space",
    "tab\tname",
    "nul\x00byte",
    "new\nline",
    "x" * 201,
    "x" * 300,
    "",
    "caf\xe9",
]


@pytest.mark.parametrize("name", ESCAPES, ids=range(len(ESCAPES)))
def test_bad_library_names_are_refused_before_any_path_is_built(name, cache_root):
    with pytest.raises(LibraryError, match="invalid library name|a library name"):
        cached(name)
    with pytest.raises(LibraryError):
        download_library(name)
    assert cache_files(cache_root) == []


@pytest.mark.parametrize(
    "name", ["KEGG_2021_Human", "ENCODE_TF_ChIP-seq_2015", "GO_BP.v2", "A+B", "x" * 200]
)
def test_valid_names_pass(name):
    assert validate_name(name) == name
    entry = cached(name)
    assert entry.text.parent == entry.root and entry.text.name == f"{name}.gmt"


@pytest.mark.parametrize("name", ["nul\x00byte", "x" * 300, "x" * 5000])
def test_load_library_gives_a_library_error_not_a_raw_exception(name):
    # was ValueError (embedded null byte) and OSError (File name too long)
    with pytest.raises(LibraryError):
        load_library(name, offline=True)
    with pytest.raises(LibraryError):
        load_library(name + ".gmt")


def test_every_catalog_name_and_alias_target_is_valid():
    from gsea_plus.library.catalog import catalog

    for entry in catalog():
        assert validate_name(entry.name) == entry.name


def test_message_is_one_short_line_for_a_huge_name():
    with pytest.raises(LibraryError) as info:
        validate_name("y" * 100_000)
    msg = str(info.value)
    assert "\n" not in msg and len(msg) < 200 and "100000 characters" in msg


def _run(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(GSEA_PLUS_EXE), *args],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=120,
        cwd=cwd,
    )


@pytest.mark.parametrize("name", ["../../etc/passwd", "/abs/path/lib", "../outside"])
def test_cli_download_and_path_refuse_escaping_names(name, cache_root, tmp_path):
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    before = sorted(p for p in tmp_path.rglob("*"))
    for command in (["libraries", "download", name], ["libraries", "path", name]):
        proc = _run(*command, cwd=work)
        assert proc.returncode == 2, proc.stderr
        assert_one_error_line(proc.returncode, proc.stderr, "invalid library name")
        assert proc.stdout == ""  # no path printed
    assert sorted(p for p in tmp_path.rglob("*")) == before
    assert cache_files(cache_root) == []


# --------------------------------------------------------------------------- hub ids


def test_hub_ids_that_used_to_share_a_folder_are_refused(cache_root):
    # owner/x--y and owner--x/y both mapped to owner--x--y
    for bad in ("owner/x--y", "owner--x/y"):
        assert not hub.is_hub_id(bad)
        with pytest.raises(ModelError, match="not a hub id"):
            hub.download(bad)
    # every valid id has its own folder
    a, b = hub.cache_path("owner/x-y"), hub.cache_path("owner-x/y")
    assert a != b and a.parent == b.parent == cache_root / "models"


@pytest.mark.parametrize(
    "bad",
    [
        "../x",
        "a/..",
        "a/../b",
        "/abs/x",
        "a/b/c",
        "a/.b",
        "a/b.",
        "a./b",
        "a/" + "b" * 97,
        "nul\x00/x",
        "a/b\x00",
        "o" * 300 + "/x",
        "a/b c",
    ],
)
def test_hub_id_pattern(bad, cache_root):
    assert not hub.is_hub_id(bad)
    with pytest.raises(ModelError):
        hub.download(bad)
    assert cache_files(cache_root) == []


def test_valid_hub_ids():
    for good in ("maayanlab/gsfm-rummagene", "a/b", "A_1/b.c_d", "o/" + "n" * 96):
        assert hub.is_hub_id(good), good


def test_errors_are_gsea_plus_errors():
    for fn, arg in ((validate_name, "../x"), (hub.cache_path, "a--b/c")):
        with pytest.raises(GseaPlusError):
            fn(arg)
