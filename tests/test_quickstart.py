"""The README's first code block works on a fresh machine: empty cache, no network.

The test reads the README, takes the first bash block's ``gsea-plus`` command (after
``pip install . &&``) and runs it with the installed console script, with every download
pointed at a closed loopback port and a new, empty cache.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

from conftest import GSEA_PLUS_EXE, subprocess_env

README = Path(__file__).resolve().parents[1] / "README.md"


def first_block_command() -> list[str]:
    block = re.search(r"```bash\n(.*?)```", README.read_text(), re.S).group(1)
    line = next(ln for ln in block.splitlines() if "gsea-plus" in ln)
    assert line.startswith("pip install . && "), line  # the block installs, then runs
    command = shlex.split(line.split("&&", 1)[1])
    assert command[0] == "gsea-plus" and command[1] == "enrich", command
    return command[1:]


def test_the_first_code_block_prints_results_offline(tmp_path, closed_port):
    args = first_block_command()
    env = subprocess_env(
        GSEA_PLUS_CACHE=str(tmp_path / "empty-cache"),
        GSEA_PLUS_ENRICHR_URL=closed_port,
        GSEA_PLUS_HUB_URL=closed_port,
    )
    env.pop("GSEA_PLUS_OFFLINE", None)  # no offline flag: nothing needs the network anyway
    proc = subprocess.run(
        [str(GSEA_PLUS_EXE), *args], capture_output=True, text=True, env=env, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("Term\tOverlap\tP-value")
    rows = [ln.split("\t") for ln in lines[1:]]
    assert len(rows) > 10
    assert all(r[7] == "GO_Biological_Process_2023" for r in rows)
    assert "genes recognized" in proc.stderr
    # nothing was downloaded: the cache holds no library
    cache = tmp_path / "empty-cache"
    assert not list(cache.glob("libraries/*.gmt"))
