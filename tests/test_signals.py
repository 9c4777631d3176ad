"""Ctrl-C and SIGTERM during a long batch: the code says so, and nothing half-written stays.

A batch of many lists runs in a subprocess (the installed console script); once it has
started writing, the test sends the signal and checks the exit code, the one stderr line
and the output directory (no result file, no temp file). Writing to stdout, the exit code
is what tells the pipeline.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time

import pytest
from conftest import GSEA_PLUS_EXE, subprocess_env


@pytest.fixture(scope="module")
def big_batch(tmp_path_factory):
    """A library of 2,000 terms and 3,000 lists: several seconds of work in small chunks."""
    rng = random.Random(0)
    root = tmp_path_factory.mktemp("signals")
    genes = [f"G{i}" for i in range(6000)]
    lib = root / "lib.gmt"
    lib.write_text(
        "".join(f"T{t}\t\t" + "\t".join(rng.sample(genes, 60)) + "\n" for t in range(2000))
    )
    lists = root / "lists.gmt"
    lists.write_text(
        "".join(f"L{i}\t\t" + "\t".join(rng.sample(genes, 150)) + "\n" for i in range(3000))
    )
    return lib, lists


def _default_sigint() -> None:
    # A shell starts background jobs with SIGINT ignored, and a process keeps an ignored
    # SIGINT (as Python and coreutils do): give the child the terminal's default, so the
    # test holds however the suite itself was started.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(args, out_dir, **kw):
    return subprocess.Popen(
        [str(GSEA_PLUS_EXE), *map(str, args)],
        stderr=subprocess.PIPE,
        env=subprocess_env(),
        cwd=out_dir,
        preexec_fn=_default_sigint,
        **kw,
    )


def _wait_for_part(directory, proc, limit=60.0):
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if any(n.endswith(".part") for n in os.listdir(directory)):
            return
        if proc.poll() is not None:
            pytest.fail(f"the batch ended before the signal: {proc.stderr.read().decode()}")
        time.sleep(0.02)
    pytest.fail("the batch never started writing")


@pytest.mark.parametrize(
    ("sig", "code", "word"),
    [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")],
)
@pytest.mark.parametrize("fmt", ["tsv", "parquet"])
def test_signal_during_a_batch_to_a_file(big_batch, tmp_path, sig, code, word, fmt):
    lib, lists = big_batch
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    proc = _start(
        ["batch", lists, "-l", lib, "--chunk-size", "20", "-o", f"results.{fmt}"], out_dir
    )
    _wait_for_part(out_dir, proc)
    time.sleep(0.3)
    proc.send_signal(sig)
    err = proc.communicate(timeout=60)[1].decode()
    assert proc.returncode == code, err
    assert err.strip().splitlines()[-1] == f"gsea-plus: error: {word}"
    assert "Traceback" not in err and "Exception ignored" not in err
    assert os.listdir(out_dir) == []  # no partial result, no temp file


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_while_writing_to_stdout_is_a_failure_code(big_batch, tmp_path, sig, code):
    lib, lists = big_batch
    proc = _start(
        ["batch", lists, "-l", lib, "--chunk-size", "20"], tmp_path, stdout=subprocess.PIPE
    )
    first = proc.stdout.readline()  # it has started writing rows
    assert first.startswith(b"List\tTerm")
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == code
    assert "Traceback" not in err.decode()


def test_sigterm_cleans_up_a_parquet_stream_on_stdout(big_batch, tmp_path):
    lib, lists = big_batch
    proc = _start(
        ["batch", lists, "-l", lib, "--chunk-size", "20", "-f", "parquet"],
        tmp_path,
        stdout=subprocess.PIPE,
    )
    head = proc.stdout.read(4)
    assert head == b"PAR1"
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 143
    assert "Exception ignored" not in err.decode()
    assert not out.endswith(b"PAR1")  # no footer: the stream cannot pass for a whole file
