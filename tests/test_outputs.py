"""``-o``, ``--plot`` and ``--report`` behave like standard tools' outputs.

A regular file (or a new path) is replaced atomically, through a symlink to its target;
a character device, a FIFO or a process substitution is written directly; ``-o -`` is
standard output; a directory is refused before any work; a full device is one error
line. Devices are made with ``os.mknod`` in a temp directory (the real ``/dev`` is never
touched); making them needs root, which CI has.
"""

from __future__ import annotations

import os
import stat
import subprocess
import threading

import pytest
from conftest import GSEA_PLUS_EXE, TINY_SETS, assert_one_error_line, gmt_text, subprocess_env
from conftest import run_exe as run

NULL = (1, 3)  # the Linux device numbers of /dev/null and /dev/full
FULL = (1, 7)


def _device(path, numbers):
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(*numbers))
    except PermissionError:
        pytest.skip("making a character device needs root (CI runs as root)")
    return path


@pytest.fixture
def files(tmp_path):
    gmt = tmp_path / "tiny.gmt"
    gmt.write_text(gmt_text(TINY_SETS))
    genes = tmp_path / "genes.txt"
    genes.write_text("G1\nG2\nG3\nG5\n")
    lists = tmp_path / "lists.gmt"
    lists.write_text("a\t\tG1\tG2\tG3\nb\t\tG3\tG4\tG5\n")
    out = tmp_path / "out"
    out.mkdir()
    return gmt, genes, lists, out


def _leftovers(directory):
    return sorted(n for n in os.listdir(directory) if n.endswith(".part"))


@pytest.mark.parametrize("command", ["enrich", "batch"])
def test_a_null_device_is_written_not_replaced(files, command):
    gmt, genes, lists, out = files
    null = _device(out / "null", NULL)
    code, _, err = run(command, genes if command == "enrich" else lists, "-l", gmt, "-o", null)
    assert code == 0, err
    assert stat.S_ISCHR(os.stat(null).st_mode)  # still a device, not a regular file
    assert _leftovers(out) == []


@pytest.mark.parametrize("command", ["enrich", "batch"])
def test_a_full_device_is_one_error_line(files, command):
    gmt, genes, lists, out = files
    full = _device(out / "full", FULL)
    code, _, err = run(command, genes if command == "enrich" else lists, "-l", gmt, "-o", full)
    assert code == 2
    assert_one_error_line(code, err, "No space left on device")
    assert _leftovers(out) == []


def test_stdout_on_a_full_device(files):
    gmt, genes, _, out = files
    full = _device(out / "full", FULL)
    with open(full, "wb") as sink:
        code, _, err = run("enrich", genes, "-l", gmt, stdout=sink)
    assert code == 2
    assert_one_error_line(code, err, "standard output", "No space left on device")


@pytest.mark.parametrize("command", ["enrich", "batch"])
def test_a_fifo_reader_gets_the_table(files, command):
    gmt, genes, lists, out = files
    fifo = out / "fifo"
    os.mkfifo(fifo)
    received = []

    def read():
        with open(fifo, "rb") as fh:
            received.append(fh.read())

    reader = threading.Thread(target=read)
    reader.start()
    code, _, err = run(command, genes if command == "enrich" else lists, "-l", gmt, "-o", fifo)
    reader.join(30)
    assert code == 0, err
    first = b"Term\t" if command == "enrich" else b"List\tTerm\t"
    assert received and received[0].startswith(first)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_a_symlink_is_followed_and_its_target_replaced(files):
    gmt, genes, _, out = files
    target = out / "target.tsv"
    target.write_text("old\n")
    target.chmod(0o640)
    link = out / "link.tsv"
    link.symlink_to("target.tsv")
    code, _, err = run("enrich", genes, "-l", gmt, "-o", link)
    assert code == 0, err
    assert link.is_symlink() and os.readlink(link) == "target.tsv"
    assert target.read_text().startswith("Term\t")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # the file keeps its permissions
    assert "wrote" in err and str(link) in err  # the path written is reported


def test_dash_is_stdout_and_creates_no_file(files):
    gmt, genes, _, out = files
    code, stdout, err = run("enrich", genes, "-l", gmt, "-o", "-", cwd=out)
    assert code == 0, err
    assert stdout.startswith(b"Term\t")
    assert os.listdir(out) == []


@pytest.mark.parametrize("command", ["enrich", "batch"])
def test_a_directory_is_refused_before_any_work(files, command):
    gmt, genes, lists, out = files
    code, _, err = run(command, genes if command == "enrich" else lists, "-l", gmt, "-o", out)
    assert code == 2
    assert_one_error_line(code, err, "is a directory")
    assert os.listdir(out) == []


def test_process_substitution(files):
    gmt, genes, _, out = files
    packed = out / "x.tsv.gz"
    proc = subprocess.run(
        ["bash", "-c", f'{GSEA_PLUS_EXE} enrich {genes} -l {gmt} -o >(gzip > "{packed}"); wait'],
        capture_output=True,
        env=subprocess_env(),
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    import gzip
    import time

    for _ in range(100):  # the substituted process may still be finishing
        if packed.exists() and packed.stat().st_size:
            break
        time.sleep(0.05)
    assert gzip.decompress(packed.read_bytes()).startswith(b"Term\t")


def test_plot_and_report_to_a_device(files):
    pytest.importorskip("matplotlib")
    gmt, genes, _, out = files
    null = _device(out / "null", NULL)
    code, _, err = run("enrich", genes, "-l", gmt, "--plot", null, "-o", out / "r.tsv")
    assert code == 0, err
    assert stat.S_ISCHR(os.stat(null).st_mode)


def test_batch_gz_output_is_compressed(files):
    import gzip

    gmt, _, lists, out = files
    code, _, err = run("batch", lists, "-l", gmt, "-o", out / "r.tsv.gz")
    assert code == 0, err
    assert gzip.decompress((out / "r.tsv.gz").read_bytes()).startswith(b"List\tTerm\t")
