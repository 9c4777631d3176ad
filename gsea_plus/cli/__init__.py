"""The ``gsea-plus`` command line: one Typer app with a sub-app or command per module.

Only argument handling and printing live here; the work is done by the public API.
Heavy modules (pandas, scipy, torch) are imported inside commands, so ``--help`` is fast.
"""

from __future__ import annotations

from gsea_plus.cli.app import app, main

__all__ = ["app", "main"]
