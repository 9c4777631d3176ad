"""Shared helpers for the benchmark scripts: timing, shared data, markdown tables.

Timing rules used by every script here: report the median of several runs, compare tools
in the same run (interleaved where possible), and print the exact command that produced a
table, so the README can be refreshed from the script's output.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: ``../shared/data`` next to the checkout; override with ``GSEA_PLUS_SHARED_DATA``.
SHARED_DATA = Path(os.environ.get("GSEA_PLUS_SHARED_DATA", REPO.parent / "shared" / "data"))
BENCHMARK_DATA = SHARED_DATA / "benchmark"
#: The libraries the model is benchmarked on (issue 13), with the ChEA stand-in.
MODEL_BENCHMARKS = {
    "KEGG_2021_Human": BENCHMARK_DATA / "KEGG_2021_Human.gmt",
    "GO_Biological_Process_2023": BENCHMARK_DATA / "GO_Biological_Process_2023.gmt",
    "GWAS_Catalog_2023": BENCHMARK_DATA / "GWAS_Catalog_2023.gmt",
    "MSigDB_Hallmark_2020": BENCHMARK_DATA / "MSigDB_Hallmark_2020.gmt",
    "ChEA_Literature_ChIP-seq": SHARED_DATA / "training/chea3_2019/Literature_ChIP-seq.gmt.gz",
}
#: Console scripts of the running interpreter's environment (the venv's gsea-plus, gseapy).
BIN = Path(sys.executable).parent


def compile_tree(tree: Path) -> None:
    """Byte-compile a source tree's package, so that no timed run compiles it.

    With ``PYTHONDONTWRITEBYTECODE`` set (as here), a module edited since its last
    compilation is compiled again in every process: ~10-30 ms of start-up that an
    installed package never pays.
    """
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(Path(tree) / "gsea_plus")],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def benchmark_gmt(name: str) -> Path:
    """Path of a GMT file in the shared benchmark data (read in place, never copied)."""
    path = BENCHMARK_DATA / f"{name}.gmt"
    if not path.is_file():
        sys.exit(f"missing {path}: set GSEA_PLUS_SHARED_DATA to the shared data folder")
    return path


def read_gmt_sets(path: Path) -> dict[str, list[str]]:
    """A GMT file as ``{term: genes}`` (tab-separated, description column skipped)."""
    sets: dict[str, list[str]] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            parts = line.rstrip("\r\n").split("\t")
            if len(parts) > 2:
                sets[parts[0]] = [g for g in parts[2:] if g]
    return sets


# --- timing -----------------------------------------------------------------------------


def median(xs: Sequence[float]) -> float:
    return statistics.median(xs)


def time_call(
    fn: Callable[[], object],
    repeats: int,
    *,
    before: Callable[[], object] | None = None,
) -> list[float]:
    """Wall-clock seconds of ``repeats`` calls of ``fn``; ``before`` runs untimed first."""
    times = []
    for _ in range(repeats):
        if before is not None:
            before()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


@dataclass
class Command:
    """A whole-process command: argv, optional stdout file, optional prepare step."""

    name: str
    argv: list[str]
    stdout: Path | None = None
    prepare: list[str] | None = None  # argv run untimed before every timed run
    warmup: int = 1
    env: dict[str, str] = field(default_factory=dict)

    def shell(self) -> str:
        cmd = shlex.join(self.argv)
        if self.stdout is not None:
            cmd += f" > {shlex.quote(str(self.stdout))}"
        return cmd


def have_hyperfine() -> bool:
    return shutil.which("hyperfine") is not None


def _run_once(cmd: Command, env: dict[str, str]) -> float:
    if cmd.prepare:
        subprocess.run(cmd.prepare, env=env, check=True)
    out = open(cmd.stdout, "wb") if cmd.stdout is not None else subprocess.DEVNULL
    try:
        t0 = time.perf_counter()
        proc = subprocess.run(cmd.argv, stdout=out, stderr=subprocess.DEVNULL, env=env)
        elapsed = time.perf_counter() - t0
    finally:
        if cmd.stdout is not None:
            out.close()
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd.shell()} exited with {proc.returncode}")
    return elapsed


def time_commands(
    commands: Sequence[Command], repeats: int, *, timer: str = "auto"
) -> tuple[dict[str, list[float]], str]:
    """Time whole-process commands; returns ``{name: [seconds...]}`` and the timer used.

    ``timer="hyperfine"`` runs each command with hyperfine (warm-up runs, ``--prepare``
    for per-run setup, shell start-up subtracted); ``"python"`` interleaves the commands
    round-robin in a Python loop, which spreads background-load noise evenly across them.
    ``"auto"`` picks hyperfine when it is on PATH.
    """
    if timer == "auto":
        timer = "hyperfine" if have_hyperfine() else "python"
    results: dict[str, list[float]] = {}
    if timer == "hyperfine":
        for cmd in commands:
            env = {**os.environ, **cmd.env}
            with tempfile.TemporaryDirectory() as tmp:
                js = Path(tmp) / "out.json"
                argv = [
                    "hyperfine",
                    "--runs",
                    str(repeats),
                    "--warmup",
                    str(cmd.warmup),
                    "--style",
                    "none",
                    "--export-json",
                    str(js),
                    "--command-name",
                    cmd.name,
                ]
                if cmd.prepare:
                    argv += ["--prepare", shlex.join(cmd.prepare)]
                argv.append(cmd.shell())
                subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
                results[cmd.name] = json.loads(js.read_text())["results"][0]["times"]
        return results, "hyperfine"
    if timer != "python":
        raise ValueError(f"unknown timer {timer!r}")
    for cmd in commands:
        env = {**os.environ, **cmd.env}
        for _ in range(cmd.warmup):
            _run_once(cmd, env)
        results[cmd.name] = []
    for _ in range(repeats):
        for cmd in commands:
            results[cmd.name].append(_run_once(cmd, {**os.environ, **cmd.env}))
    return results, "python loop (interleaved)"


# --- reporting --------------------------------------------------------------------------


def measured(
    argv: list[str], env: dict[str, str], *, keep_stdout: bool = False
) -> dict[str, object]:
    """One whole process under ``/usr/bin/time``: wall and CPU (user + system) seconds,
    peak resident MB, and its stdout bytes (``out``) when ``keep_stdout``.

    A failed process stops the benchmark with the end of its stderr.
    """
    with tempfile.TemporaryDirectory() as tmp:
        usage = Path(tmp) / "usage"
        t0 = time.perf_counter()
        proc = subprocess.run(
            ["/usr/bin/time", "-f", "%U %S %M", "-o", str(usage), *argv],
            env=env,
            stdout=subprocess.PIPE if keep_stdout else subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise SystemExit(f"failed ({proc.returncode}): {proc.stderr.decode()[-1500:]}")
        user, system, rss = usage.read_text().split()[-3:]
    result: dict[str, object] = {
        "wall": wall,
        "cpu": float(user) + float(system),
        "rss": float(rss) / 1024,
    }
    if keep_stdout:
        result["out"] = proc.stdout
    return result


def fmt_s(x: float) -> str:
    """Seconds for a table of whole runs: ``1,234 s``, ``12.34 s``, ``123 ms``."""
    if x >= 100:
        return f"{x:,.0f} s"
    if x >= 1:
        return f"{x:.2f} s"
    return f"{x * 1000:.0f} ms"


def fmt_seconds(s: float) -> str:
    """Seconds with a unit that keeps 2-3 significant digits."""
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.3g} ms"
    return f"{s * 1e6:.3g} µs"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def machine_line() -> str:
    """CPU count and load average: the context a reader needs to judge the numbers."""
    try:
        load = "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover
        load = "load average unknown"
    return f"{os.cpu_count()} CPUs, {load}, Python {sys.version.split()[0]}"
