"""A batch report of N rows: its size, the time to write it, the time a browser takes to open it.

The goal (issue 18): a 10,000-row batch report stays under 20 MB and opens in headless
Chromium in under 3 s, with every row in its table.

Lists come from ``make_lists.py`` (200 genes: 100 from one GO BP term + 100 random, seed
0); ``gsea-plus batch LISTS.gmt -l GO_Biological_Process_2023.gmt --top K -o out.tsv`` makes
``lists x K`` rows, run with and without ``--report`` (the report's cost: the difference).
Each size is opened in headless Chromium ``--repeats`` times: the time from navigation to
the table drawn and ready to sort (the page's ``performance.now()`` when its tables are
ready, read by a probe script added to a copy of the page), and the whole browser process
(``--dump-dom``, start to exit). The peer, in the same run: a blank page opened the same
way (the browser's own start-up). Medians.

Usage::

    flock /work/.bench.lock python benchmarks/report_bench.py --rows 10000 100000
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import benchmark_gmt, machine_line, markdown_table, measured, read_gmt_sets  # noqa: E402
from make_lists import make_lists, write  # noqa: E402

CLI = "import sys; sys.argv = ['gsea-plus'] + sys.argv[1:]; from gsea_plus.cli import main; main()"
PER_LIST = 100
PROBE = """<script>
(function () {
  (function wait() {
    var de = document.documentElement;
    if (de.getAttribute("data-tables") === "ready") {
      de.setAttribute("data-ready-ms", String(performance.now()));
      var t = document.getElementById("results-table");
      de.setAttribute("data-rows", t ? t.getAttribute("data-rows") : "");
    } else { setTimeout(wait, 5); }
  })();
})();
</script>"""


def chromium() -> str:
    for name in ("chromium-headless-shell", "chrome-headless-shell", "chromium", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise SystemExit("no headless Chromium: apt-get install chromium-headless-shell")


def open_page(browser: str, page: Path, profile: Path) -> tuple[float, float | None, str]:
    """(whole process seconds, ms until the tables were ready, rows the table holds)."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [
            browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update",
            f"--user-data-dir={profile}", "--virtual-time-budget=30000", "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-2000:])
    ready = re.search(r'data-ready-ms="([\d.]+)"', proc.stdout)
    rows = re.search(r'data-rows="(\d*)"', proc.stdout)
    return wall, float(ready.group(1)) if ready else None, rows.group(1) if rows else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="report-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    gmt = benchmark_gmt("GO_Biological_Process_2023")
    sets = read_gmt_sets(gmt)
    browser = chromium()
    env = dict(os.environ, GSEA_PLUS_OFFLINE="1")
    blank = work / "blank.html"
    blank.write_text("<!DOCTYPE html><html><body>" + PROBE.replace(
        'de.getAttribute("data-tables") === "ready"', "true") + "</body></html>")  # fmt: skip
    table = []
    for n_rows in args.rows:
        n_lists = n_rows // PER_LIST
        lists = work / f"lists{n_lists}.gmt"
        write(make_lists(sets, n_lists, seed=0), lists, "gmt")
        base = [sys.executable, "-c", CLI, "batch", str(lists), "-l", str(gmt), "--top",
                str(PER_LIST), "-o", str(work / "out.tsv")]  # fmt: skip
        report = work / f"report{n_rows}.html"
        plain = measured(base, env)
        with_report = measured([*base, "--report", str(report)], env)
        probed = work / f"probed{n_rows}.html"
        probed.write_text(report.read_text().replace("</body>", PROBE + "</body>"))
        opened, ready, blank_open = [], [], []
        for i in range(args.repeats):  # interleaved with the blank page
            wall, ms, rows = open_page(browser, probed, work / f"profile{i}")
            opened.append(wall)
            ready.append((ms or float("nan")) / 1000)
            blank_open.append(open_page(browser, blank, work / f"blank-profile{i}")[0])
        table.append(
            [
                f"{n_lists:,} lists x {PER_LIST}",
                rows,
                f"{report.stat().st_size / 1e6:.2f} MB",
                f"{with_report['wall'] - plain['wall']:.2f} s",
                f"{statistics.median(ready):.2f} s",
                f"{statistics.median(opened):.2f} s",
                f"{statistics.median(blank_open):.2f} s",
            ]
        )
        print(json.dumps({"rows": n_rows, "size": report.stat().st_size, "ready": ready,
                          "opened": opened, "blank": blank_open,
                          "batch": plain["wall"], "batch_report": with_report["wall"]}),
              file=sys.stderr)  # fmt: skip
    print(machine_line())
    print(
        markdown_table(
            [
                "batch",
                "rows in the table",
                "report size",
                "writing it (batch with - without --report)",
                "table ready (in the page)",
                "Chromium, start to exit",
                "peer: blank page, start to exit",
            ],
            table,
        )
    )


if __name__ == "__main__":
    main()
