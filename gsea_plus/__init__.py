"""gsea-plus: exact, fast, offline gene set enrichment with a gene set foundation model.

The public API is imported lazily so that ``import gsea_plus`` (and ``gsea-plus --help``)
stays cheap: pandas and scipy load on first use, torch only for training.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from gsea_plus._version import __version__

_EXPORTS = {
    "BatchOptions": "gsea_plus.options",
    "EnrichOptions": "gsea_plus.options",
    "ModelOptions": "gsea_plus.options",
    "enrich": "gsea_plus.api",
    "enrich_many": "gsea_plus.api",
    "load_library": "gsea_plus.library",
    "GeneSetLibrary": "gsea_plus.library",
    "read_gene_list": "gsea_plus.genes",
    "predict": "gsea_plus.model",
    "embed": "gsea_plus.model",
    "load_model": "gsea_plus.model",
    "GseaPlusError": "gsea_plus.errors",
}

__all__ = sorted(_EXPORTS) + ["__version__"]

if TYPE_CHECKING:  # pragma: no cover
    from gsea_plus.api import enrich, enrich_many
    from gsea_plus.errors import GseaPlusError
    from gsea_plus.genes import read_gene_list
    from gsea_plus.library import GeneSetLibrary, load_library
    from gsea_plus.model import embed, load_model, predict
    from gsea_plus.options import BatchOptions, EnrichOptions, ModelOptions


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'gsea_plus' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
