"""Batch enrichment: many gene lists, one library load, bounded memory.

One module per job: :mod:`~gsea_plus.batch.reading` (directories, GMTs of lists, long
tables, stdin), :mod:`~gsea_plus.batch.scoring` (chunks through the same engine as one
list), :mod:`~gsea_plus.batch.compute` (the seam between local and Dask engines) and
:mod:`~gsea_plus.batch.writing` (streaming TSV, CSV, JSON lines, Parquet). The public
entry points are :func:`gsea_plus.enrich_many` and :func:`gsea_plus.api.iter_enrich_many`.
"""

from gsea_plus.batch.compute import BatchEngine, LocalEngine
from gsea_plus.batch.reading import BatchItem, batch_items, check_unique, chunked, read_batch
from gsea_plus.batch.scoring import (
    SUMMARY_COLUMNS,
    BatchResult,
    ChunkContext,
    WarningSummary,
    default_chunk_size,
    process_chunk,
)
from gsea_plus.batch.writing import BATCH_FORMATS, ResultWriter, text_bytes

__all__ = [
    "BATCH_FORMATS",
    "SUMMARY_COLUMNS",
    "BatchEngine",
    "BatchItem",
    "BatchResult",
    "ChunkContext",
    "LocalEngine",
    "ResultWriter",
    "WarningSummary",
    "batch_items",
    "check_unique",
    "chunked",
    "default_chunk_size",
    "process_chunk",
    "read_batch",
    "text_bytes",
]
