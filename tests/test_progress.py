"""Progress bars: silent unless enabled, drawn on the given console, nested tasks quiet."""

from __future__ import annotations

import io

from rich.console import Console

from gsea_plus import progress


def test_silent_by_default():
    progress.disable()
    steps = []
    with progress.task("work", total=3) as advance:
        for _ in range(3):
            steps.append(advance(1))
    assert steps == [None, None, None]
    assert not progress.enabled()


def test_enabled_draws_on_the_console_and_nests_quietly():
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, width=80)
    progress.enable(console)
    try:
        with progress.task("outer step", total=2) as advance:
            with progress.task("inner step", total=5) as inner:
                inner(5)
            advance(2)
    finally:
        progress.disable()
    text = buf.getvalue()
    assert "outer step" in text
    assert "inner step" not in text  # a nested task keeps the outer bar
    assert not progress.enabled()
