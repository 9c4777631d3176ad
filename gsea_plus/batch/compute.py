"""The compute seam of batch enrichment: where chunks of lists are scored.

:class:`BatchEngine` is the abstract seam (as PyDESeq2's ``inference.py``); it imports no
implementation. :class:`LocalEngine` runs chunks in this process;
:class:`gsea_plus.distributed.DaskEngine` runs them on a Dask cluster. The API picks one
(:func:`gsea_plus.api.get_engine`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from typing import Any

__all__ = ["BatchEngine", "LocalEngine"]


class BatchEngine(ABC):
    """Where chunks of lists are scored: maps a function over chunks, in order.

    The seam between the batch logic and the compute backend: :class:`LocalEngine` runs
    chunks in this process; :class:`gsea_plus.distributed.DaskEngine` sends them to a
    Dask cluster with the shared data broadcast once.
    """

    name = "abstract"

    @abstractmethod
    def map(
        self, func: Callable[[Any, Any], Any], chunks: Iterable[Any], shared: Any
    ) -> Iterator[Any]:
        """Yield ``func(chunk, shared)`` for each chunk, in the order of ``chunks``."""

    def close(self) -> None:  # noqa: B027 (optional hook, nothing to release by default)
        """Release resources (clusters, clients)."""

    def __enter__(self) -> BatchEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LocalEngine(BatchEngine):
    """Run chunks one after another in this process (memory: one chunk at a time)."""

    name = "local"

    def map(self, func, chunks, shared):
        """Yield ``func(chunk, shared)`` for each chunk, lazily."""
        for chunk in chunks:
            yield func(chunk, shared)
