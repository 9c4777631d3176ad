"""Progress of long steps, shown only where an application asks for it.

Library code reports progress through :func:`task` and never prints: by default a task
is silent and costs a function call per update. The command line calls :func:`enable`
when stderr is a terminal, and then each task draws a transient rich progress bar on
stderr (so a redirected stdout never receives it). rich is imported only then.

Examples
--------
>>> with task("running terms through the model", total=len(batches)) as advance:
...     for b in batches:
...         work(b)
...         advance(1)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["disable", "enable", "enabled", "task"]

_STATE: dict[str, Any] = {"console": None, "depth": 0}


def enable(console: Any = None) -> None:
    """Draw progress bars from now on (on ``console``, default: a rich console on stderr)."""
    if console is None:
        from rich.console import Console

        console = Console(stderr=True)
    _STATE["console"] = console


def disable() -> None:
    """Stop drawing progress bars."""
    _STATE["console"] = None


def enabled() -> bool:
    """Whether progress bars are drawn."""
    return _STATE["console"] is not None


def _silent(_: float = 1) -> None:
    return None


@contextmanager
def task(description: str, *, total: float | None = None) -> Iterator[Callable[[float], None]]:
    """A step of known (``total``) or unknown length; yields ``advance(n=1)``.

    Nested tasks draw nothing (the outer bar stays), so a function may report its own
    progress whether or not its caller does.
    """
    console = _STATE["console"]
    if console is None or _STATE["depth"]:
        _STATE["depth"] += 1 if console is not None else 0
        try:
            yield _silent
        finally:
            _STATE["depth"] -= 1 if console is not None else 0
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn()]
    if total is not None:
        columns.append(MofNCompleteColumn())
    columns.append(TimeElapsedColumn())
    bar = Progress(*columns, console=console, transient=True)
    handle = bar.add_task(description, total=total)
    _STATE["depth"] += 1
    bar.start()
    try:

        def advance(n: float = 1) -> None:
            bar.update(handle, advance=n)

        yield advance
    finally:
        bar.stop()
        _STATE["depth"] -= 1
