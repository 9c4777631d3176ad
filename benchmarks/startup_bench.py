"""Start-up (issue 12.2): what a command costs before it works, and typer 0.29's share.

Whole-process commands run interleaved round-robin (``--rounds`` rounds after one warm-up
round); each run's CPU time (user + system, ``os.wait4``), wall time and peak memory are
recorded and medians reported. Measured:

* ``python -c pass``, ``import gsea_plus``, ``gsea-plus --help``, ``gsea-plus enrich --help``;
* ``gsea-plus enrich LIST -l GO_BP.gmt -o out.tsv`` (parsed-library cache warm), as it is
  (values coerced without pydantic, ``gsea_plus/cli/coercion.py``) and with typer's own
  pydantic coercion (``GSEA_PLUS_TYPER_PYDANTIC=1``);
* ``gsea-plus --help`` with the app's ``rich_markup_mode`` set to ``None`` (click's plain
  help formatter: what rich costs there);
* the gseapy CLI on the same list and library (``gseapy enrichr ... --no-plot``), for the
  issue's ratio; ``--gseapy-rounds`` of them;
* ``--baseline DIR``: the same gsea-plus commands from another source tree (e.g. an export
  of main), paired round by round.

Then typer's cost per option: a synthetic command with 0, 5, 15 or 30 options (``str``
and ``int`` with ``min``, as gsea-plus declares them), invoked with its defaults, with and
without the pydantic-free coercion.

Usage::

    python benchmarks/startup_bench.py --rounds 10 [--baseline /tmp/base]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BIN, REPO, benchmark_gmt, compile_tree, machine_line, markdown_table  # noqa: E402

HERE = Path(__file__).resolve().parent
CLI = "import sys; sys.argv = ['gsea-plus'] + sys.argv[1:]; from gsea_plus.cli import main; main()"
PLAIN_HELP = (
    "import sys; sys.argv = ['gsea-plus', '--help']; from gsea_plus.cli.app import app, main; "
    "app.rich_markup_mode = None; main()"
)

SYNTHETIC = """
import sys
from typing import Annotated
if sys.argv[2] == "fast":
    from gsea_plus.cli import coercion
    coercion.install()
import typer
app = typer.Typer(add_completion=False)
n = int(sys.argv[1])
params = []
for i in range(n):
    if i % 2:
        params.append(f"o{{i}}: Annotated[int, typer.Option(min=0)] = {{i}}")
    else:
        params.append(f"o{{i}}: Annotated[str, typer.Option()] = 'x{{i}}'")
src = "def cmd(" + ", ".join(params) + "):\\n    pass\\n"
ns = {{"Annotated": Annotated, "typer": typer}}
exec(src, ns)
app.command()(ns["cmd"])
app.command("other")(lambda: None)
sys.argv = ["prog", "cmd"]
try:
    app()
except SystemExit:
    pass
"""


def run(
    argv: list[str], env: dict[str, str], stdout=subprocess.DEVNULL
) -> tuple[float, float, float]:
    """CPU seconds, wall seconds and peak MiB of one process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=stdout, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(argv)}")
    return usage.ru_utime + usage.ru_stime, wall, usage.ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--gseapy-rounds", type=int, default=3)
    ap.add_argument("--baseline", type=Path, help="another source tree to pair with")
    ap.add_argument("--library", default="GO_Biological_Process_2023")
    args = ap.parse_args()

    gmt = benchmark_gmt(args.library)
    work = Path(tempfile.mkdtemp(prefix="startup_"))
    genes = sorted({g for line in gmt.read_text().splitlines() for g in line.split("\t")[2:] if g})
    import random

    listfile = work / "list.txt"
    listfile.write_text("\n".join(random.Random(0).sample(genes, 200)) + "\n")
    out = work / "out.tsv"
    py = sys.executable
    trees = {"gsea-plus": REPO}
    if args.baseline:
        trees["baseline"] = args.baseline.resolve()
    for tree in trees.values():
        compile_tree(tree)
    commands: dict[str, tuple[list[str], dict[str, str]]] = {}
    base_env = dict(os.environ, GSEA_PLUS_OFFLINE="1")
    base_env.pop("PYTHONPATH", None)
    commands["python -c pass"] = ([py, "-P", "-c", "pass"], base_env)
    for label, tree in trees.items():
        env = dict(base_env, PYTHONPATH=str(tree), GSEA_PLUS_CACHE=str(work / f"cache-{label}"))
        enrich = ["enrich", str(listfile), "-l", str(gmt), "-o", str(out)]
        commands[f"{label}: import gsea_plus"] = ([py, "-P", "-c", "import gsea_plus"], env)
        commands[f"{label}: --help"] = ([py, "-P", "-c", CLI, "--help"], env)
        commands[f"{label}: enrich --help"] = ([py, "-P", "-c", CLI, "enrich", "--help"], env)
        commands[f"{label}: enrich LIST -o out.tsv"] = ([py, "-P", "-c", CLI, *enrich], env)
        if label == "gsea-plus":
            slow = dict(env, GSEA_PLUS_TYPER_PYDANTIC="1")
            commands[f"{label}: enrich, typer's pydantic coercion"] = (
                [py, "-P", "-c", CLI, *enrich],
                slow,
            )
            commands[f"{label}: --help, typer's pydantic coercion"] = (
                [py, "-P", "-c", CLI, "--help"],
                slow,
            )
            commands[f"{label}: --help, rich_markup_mode=None"] = (
                [py, "-P", "-c", PLAIN_HELP],
                env,
            )
    print(f"# {machine_line()}", flush=True)
    results: dict[str, list[tuple[float, float, float]]] = {k: [] for k in commands}
    for rnd in range(args.rounds + 1):
        for name, (argv, env) in commands.items():
            r = run(argv, env)
            if rnd:
                results[name].append(r)
    gseapy = [
        str(BIN / "gseapy"),
        "enrichr",
        "-i",
        str(listfile),
        "-g",
        str(gmt),
        "-o",
        str(work / "gseapy"),
        "--no-plot",
    ]
    gseapy_runs = [run(gseapy, base_env) for _ in range(args.gseapy_rounds)]
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    rows = []
    gp_wall = statistics.median(r[1] for r in gseapy_runs)
    gp_cpu = statistics.median(r[0] for r in gseapy_runs)
    for name, rs in results.items():
        cpu = statistics.median(r[0] for r in rs)
        wall = statistics.median(r[1] for r in rs)
        peak = max(r[2] for r in rs)
        ratio = (
            f"{gp_wall / wall:.1f}x / {gp_cpu / cpu:.1f}x"
            if "enrich LIST" in name or ("enrich, typer" in name)
            else ""
        )
        rows.append([name, f"{cpu * 1e3:.0f} ms", f"{wall * 1e3:.0f} ms", f"{peak:.0f} MB", ratio])
    rows.append(
        ["gseapy CLI (enrichr, same list and GMT)", f"{gp_cpu:.2f} s", f"{gp_wall:.2f} s", "", ""]
    )
    print(
        f"\nCommand: `python benchmarks/startup_bench.py --rounds {args.rounds}"
        + (f" --baseline {args.baseline}" if args.baseline else "")
        + f"` ({args.library}, 200-gene list; {args.rounds} interleaved rounds; "
        f"gseapy {args.gseapy_rounds} runs)  \nLoad average at the end: {load}\n"
    )
    print(
        markdown_table(
            [
                "command",
                "CPU (median)",
                "wall (median)",
                "peak RSS",
                "gseapy CLI / this (wall / CPU)",
            ],
            rows,
        )
    )

    # typer's cost per option
    synth = SYNTHETIC.format()
    counts = [0, 5, 15, 30]
    per: dict[tuple[str, int], list[float]] = {}
    env = dict(base_env, PYTHONPATH=str(REPO))
    for rnd in range(args.rounds + 1):
        for mode in ("typer", "fast"):
            for n in counts:
                cpu, _, _ = run([py, "-P", "-c", synth, str(n), mode], env)
                if rnd:
                    per.setdefault((mode, n), []).append(cpu)
    rows = []
    labels = (("typer", "typer 0.29 as is"), ("fast", "gsea_plus.cli.coercion installed"))
    for mode, label in labels:
        med = [statistics.median(per[mode, n]) for n in counts]
        slope = (med[-1] - med[1]) / (counts[-1] - counts[1])
        rows.append([label, *(f"{m * 1e3:.0f} ms" for m in med), f"{slope * 1e3:.2f} ms"])
    print("\nA command with N options (str / int with min), invoked with its defaults, CPU:\n")
    print(
        markdown_table(
            ["", *(f"N={n}" for n in counts), "per option (N=5 to 30)"],
            rows,
        )
    )


if __name__ == "__main__":
    main()
