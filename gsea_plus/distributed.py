"""The Dask engine: batch chunks scored on a dask.distributed cluster.

dask is an optional extra (``pip install 'gsea-plus[dask]'``) and is imported only here.
The prepared libraries and options are sent to every worker once
(``client.scatter(..., broadcast=True)``); each chunk of lists then travels alone and
runs :func:`gsea_plus.batch.process_chunk`, the function the local engine runs, so the
results are identical. A bounded window of chunks is in flight, and results come back in
input order, so memory stays bounded on the client too.
"""

from __future__ import annotations

import logging
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from gsea_plus.batch.compute import BatchEngine
from gsea_plus.errors import InputError, require

log = logging.getLogger(__name__)

__all__ = ["DaskEngine"]


class DaskEngine(BatchEngine):
    """Score chunks on a Dask cluster.

    Parameters
    ----------
    scheduler
        Address of a running scheduler (``tcp://host:8786``); ``None`` starts a
        ``LocalCluster`` of worker processes on loopback for the duration of the run.
    workers
        Worker processes of the local cluster (default: CPU count); ignored with a
        scheduler address.
    in_flight
        Chunks submitted ahead of the one being collected, per worker.
    client
        An existing ``distributed.Client`` to use (not closed by :meth:`close`).
    """

    name = "dask"

    def __init__(
        self,
        *,
        scheduler: str | None = None,
        workers: int | None = None,
        in_flight: int = 2,
        client: Any = None,
    ):
        distributed = require("dask.distributed", "dask", "--engine dask")
        self._cluster = None
        self._own_client = client is None
        if client is not None:
            self.client = client
        elif scheduler:
            try:
                self.client = distributed.Client(scheduler, timeout="10s")
            except (OSError, TimeoutError) as exc:
                raise InputError(f"cannot reach the Dask scheduler at {scheduler} ({exc})") from exc
        else:
            n = workers or os.cpu_count() or 1
            if n < 1:
                raise InputError("--workers must be at least 1")
            self._cluster = distributed.LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
            )
            self.client = distributed.Client(self._cluster)
        n_workers = len(self.client.scheduler_info().get("workers", {})) or 1
        self.window = max(2, in_flight * n_workers)

    def map(
        self, func: Callable[[Any, Any], Any], chunks: Iterable[Any], shared: Any
    ) -> Iterator[Any]:
        """Yield ``func(chunk, shared)`` per chunk, in order, with ``shared`` broadcast once."""
        # hash=False: a fresh key per run. With content hashing, a second run on the same
        # client reuses the key the first run is still releasing, and its chunks fail
        # with "lost dependencies".
        (shared_future,) = self.client.scatter([shared], broadcast=True, hash=False)
        pending: deque = deque()
        try:
            for chunk in chunks:
                pending.append(self.client.submit(func, chunk, shared_future, pure=False))
                if len(pending) >= self.window:
                    yield _result(pending.popleft())
            while pending:
                yield _result(pending.popleft())
        finally:
            for future in pending:
                future.cancel()
            del shared_future

    def close(self) -> None:
        """Close the client and the local cluster this engine started."""
        if self._own_client:
            self.client.close()
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None


def _result(future):
    # A GseaPlusError raised on a worker comes back as the same exception type.
    return future.result()
