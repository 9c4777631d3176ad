"""Cache writes that fail cost a warning, never the result; nothing stale is left behind.

Issue 10.7: a read-only cache with the ``.npz`` missing, or a full disk, failed
``enrich -l file.gmt`` ("cannot write .../parsed/<sha>.npz"). Issue 10.12: ``kill -9``
during the parsed-cache write left a hidden ``.part`` forever; a full disk during a
download left an orphan ``LIB.gmt``.

How failures are made without root tricks (the tests may run as root, where chmod does
not stop writes): a path component that is a file (ENOTDIR/EEXIST), a directory where
the cache wants a file (EISDIR on rename), and ENOSPC from a real ``/dev/full``-like
character device made with ``os.mknod`` in a temp dir, onto which the cache's temp-file
descriptors are redirected (skipped, with the reason, where mknod is not permitted).
"""

from __future__ import annotations

import errno
import logging
import os
import signal
import stat
import subprocess
import sys
import tempfile
import time

import pytest
from conftest import (
    GSEA_PLUS_EXE,
    TINY,
    TINY_BODY,
    TINY_SETS,
    cache_files,
    gmt_text,
    subprocess_env,
)

import gsea_plus.library as library
from gsea_plus.errors import CacheError
from gsea_plus.library import load_library
from gsea_plus.library.cache import STALE_AFTER_S, atomic_write, sweep_stale
from gsea_plus.library.download import ORPHAN_AGE_S, cached, download


@pytest.fixture
def server(tiny_server):
    return tiny_server


def _warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def _parts(root) -> list[str]:
    return [f for f in cache_files(root) if f.rsplit("/", 1)[-1].startswith(".")]


# --------------------------------------------------------------------------- a full disk


def _full_device(directory) -> str:
    """A character device like /dev/full (writes fail with ENOSPC), or skip."""
    dev = os.path.join(directory, "full")
    try:
        os.mknod(dev, stat.S_IFCHR | 0o666, os.makedev(1, 7))
        fd = os.open(dev, os.O_WRONLY)
    except OSError as exc:
        pytest.skip(f"cannot make a /dev/full-like device with mknod here ({exc.strerror})")
    try:
        os.write(fd, b"x")
    except OSError as exc:
        if exc.errno != errno.ENOSPC:  # pragma: no cover
            pytest.skip(f"the mknod device does not behave like /dev/full ({exc})")
    else:  # pragma: no cover
        pytest.skip("the mknod device accepted a write")
    finally:
        os.close(fd)
    return dev


@pytest.fixture
def full_disk(tmp_path, monkeypatch, cache_root):
    """Call it to make every temp file created under the cache write to a full device."""
    dev = _full_device(tmp_path)
    real = tempfile.mkstemp

    def mkstemp(*args, **kwargs):
        fd, name = real(*args, **kwargs)
        if str(name).startswith(str(cache_root)):
            full = os.open(dev, os.O_WRONLY)
            os.dup2(full, fd)
            os.close(full)
        return fd, name

    return lambda: monkeypatch.setattr(tempfile, "mkstemp", mkstemp)


def test_full_disk_parsed_cache_is_a_warning(tiny_gmt, cache_root, full_disk, caplog):
    full_disk()
    with caplog.at_level(logging.WARNING, logger="gsea_plus"):
        lib = load_library(tiny_gmt)
        library._MEMO.clear()
        load_library(tiny_gmt)  # a second library in the same run: no second warning
    assert sorted(lib.terms.tolist()) == sorted(TINY_SETS)
    (warning,) = _warnings(caplog)
    assert "parsed-library cache" in warning and "No space left" in warning
    assert cache_files(cache_root) == []  # no .part, no half .npz


def test_full_disk_new_download_leaves_no_orphan(server, cache_root, full_disk):
    full_disk()
    with pytest.raises(CacheError, match="No space left"):
        download(TINY, progress=False)
    assert cache_files(cache_root) == []


def test_full_disk_forced_download_keeps_the_old_entry(server, cache_root, full_disk):
    entry = download(TINY, progress=False)
    before = {f: (cache_root / f).read_bytes() for f in cache_files(cache_root)}
    full_disk()
    server.extra[TINY] = TINY_BODY + b"T_new\t\tG1\tG2\n"
    with pytest.raises(CacheError):
        download(TINY, force=True, progress=False)
    assert {f: (cache_root / f).read_bytes() for f in cache_files(cache_root)} == before
    library._MEMO.clear()
    assert len(load_library(TINY, offline=True)) == len(TINY_SETS)
    assert entry.exists()


def test_full_disk_named_library_still_loads(server, cache_root, full_disk, caplog):
    full_disk()
    with caplog.at_level(logging.WARNING, logger="gsea_plus"):
        lib = load_library(TINY)
    assert sorted(lib.terms.tolist()) == sorted(TINY_SETS)
    (warning,) = _warnings(caplog)
    assert TINY in warning and "No space left" in warning
    assert cache_files(cache_root) == []


_SITE_FULL = """
import os, tempfile
_real = tempfile.mkstemp
def mkstemp(*args, **kwargs):
    fd, name = _real(*args, **kwargs)
    if str(name).startswith(os.environ["GSEA_PLUS_CACHE"]):
        full = os.open(os.environ["FULL_DEVICE"], os.O_WRONLY)
        os.dup2(full, fd)
        os.close(full)
    return fd, name
tempfile.mkstemp = mkstemp
"""


def test_cli_enrich_on_a_full_disk_exits_0_with_one_warning(server, tmp_path, cache_root):
    dev = _full_device(tmp_path)
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(_SITE_FULL)
    genes = tmp_path / "genes.txt"
    genes.write_text("G1\nG2\nG3\n")
    env = subprocess_env(FULL_DEVICE=dev)
    env["PYTHONPATH"] = os.pathsep.join([str(site), env.get("PYTHONPATH", "")])
    for spec in (TINY, str(tmp_path / "tiny.gmt")):
        (tmp_path / "tiny.gmt").write_text(gmt_text(TINY_SETS))
        proc = subprocess.run(
            [str(GSEA_PLUS_EXE), "enrich", str(genes), "-l", spec, "-f", "tsv"],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.startswith("Term\t")
        warnings = [ln for ln in proc.stderr.splitlines() if ln.startswith("warning:")]
        assert len(warnings) == 1, proc.stderr
        assert "No space left" in " ".join(proc.stderr.split())  # rich may wrap the line
    assert cache_files(cache_root) == []


# --------------------------------------------------------------------------- read-only spots


def test_parsed_cache_blocked_by_a_file_is_a_warning_in_the_cli(tiny_gmt, tmp_path, cache_root):
    # `parsed` is a file: creating parsed/<sha>.npz fails for root as well
    (cache_root / "parsed").write_text("not a directory")
    genes = tmp_path / "genes.txt"
    genes.write_text("G1\nG2\nG3\n")
    proc = subprocess.run(
        [str(GSEA_PLUS_EXE), "enrich", str(genes), "-l", str(tiny_gmt), "-f", "tsv"],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Term\t")
    warnings = [ln for ln in proc.stderr.splitlines() if ln.startswith("warning:")]
    assert len(warnings) == 1 and "parsed-library cache" in warnings[0], proc.stderr


def test_cached_library_whose_npz_cannot_be_written(server, cache_root, caplog):
    # the read-only cache with the .npz missing; a directory in its place makes
    # the rename fail for root too (chmod would not)
    entry = download(TINY, progress=False)
    entry.binary.unlink()
    entry.binary.mkdir()
    library._MEMO.clear()
    with caplog.at_level(logging.WARNING, logger="gsea_plus"):
        lib = load_library(TINY, offline=True)
    assert sorted(lib.terms.tolist()) == sorted(TINY_SETS)
    (warning,) = _warnings(caplog)
    assert "parsed-library cache" in warning
    assert _parts(cache_root) == []


# --------------------------------------------------------------------------- killed runs

_KILLED_WRITER = r"""
import sys, time
import gsea_plus.library.cache as cache

def hang(src, dst):
    print("STAGED", src, flush=True)
    time.sleep(120)

cache.os.replace = hang
from gsea_plus.library import load_library
load_library(sys.argv[1])
"""


def test_kill_9_during_the_parsed_cache_write_is_cleaned_on_the_next_run(
    tiny_gmt, tmp_path, cache_root
):
    child = subprocess.Popen(
        [sys.executable, "-c", _KILLED_WRITER, str(tiny_gmt)],
        stdout=subprocess.PIPE,
        text=True,
        env=subprocess_env(),
    )
    try:
        line = child.stdout.readline()
        assert line.startswith("STAGED"), line
        assert _parts(cache_root) != []  # the hidden temp file is there
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
        child.stdout.close()
    genes = tmp_path / "genes.txt"
    genes.write_text("G1\nG2\n")
    proc = subprocess.run(
        [str(GSEA_PLUS_EXE), "enrich", str(genes), "-l", str(tiny_gmt), "-f", "tsv"],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert _parts(cache_root) == []
    assert [f for f in cache_files(cache_root) if f.startswith("parsed/")] != []


def _old(path, age: float) -> None:
    t = time.time() - age
    os.utime(path, (t, t))


def test_sweep_keeps_live_writers_and_young_foreign_files(tmp_path):
    from gsea_plus.library.cache import _HOST

    live = tmp_path / f".a.npz.{_HOST}-{os.getppid()}.x1y2z3.part"  # a live process
    mine = tmp_path / f".b.npz.{_HOST}-{os.getpid()}.x1y2z3.part"
    foreign = tmp_path / ".c.npz.abcdef-1.x1y2z3.part"  # another host: cannot be checked
    untagged = tmp_path / ".d.npz.part"  # older versions' name
    for p in (live, mine, foreign, untagged):
        p.write_bytes(b"x")
    assert sweep_stale(tmp_path) == []
    _old(foreign, STALE_AFTER_S + 60)
    _old(untagged, 2 * 3600)
    assert sorted(sweep_stale(tmp_path)) == sorted([foreign, untagged])
    assert live.exists() and mine.exists()


def test_sweep_removes_temp_files_of_dead_writers_at_once(tmp_path):
    from gsea_plus.library.cache import _HOST

    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead = tmp_path / f".lib.gmt.{_HOST}-{proc.stdout.strip()}.abc123.part"
    dead.write_bytes(b"x" * 1000)
    assert sweep_stale(tmp_path) == [dead]


def test_orphans_of_an_interrupted_commit_are_swept(cache_root):
    root = cache_root / "libraries"
    root.mkdir(parents=True)
    (root / "Done_2024.gmt").write_bytes(TINY_BODY)
    (root / "Done_2024.json").write_text("{}")
    old_gmt, young_npz = root / "Cut_2024.gmt", root / "Busy_2024.npz"
    old_gmt.write_bytes(TINY_BODY)
    young_npz.write_bytes(b"PK")
    _old(old_gmt, ORPHAN_AGE_S + 60)
    cached("Anything_2024")
    assert sorted(p.name for p in root.iterdir()) == [
        "Busy_2024.npz",  # may be a concurrent writer's: kept
        "Done_2024.gmt",
        "Done_2024.json",
    ]


def test_atomic_write_temp_names_are_unique_and_tagged(tmp_path, monkeypatch):
    from gsea_plus.library import cache

    seen = []
    real = cache.os.replace

    def spy(src, dst):
        seen.append(os.path.basename(src))
        return real(src, dst)

    monkeypatch.setattr(cache.os, "replace", spy)
    for _ in range(3):
        atomic_write(tmp_path / "x.bin", b"data")
    assert len(set(seen)) == 3
    assert all(cache._TAGGED.match(name) for name in seen), seen
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.bin"]
