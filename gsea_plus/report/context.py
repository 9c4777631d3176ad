"""What a report says about its run: the :class:`ReportContext`, and the facts of each library.

The header's Libraries table and the methods text both read a library's facts through
:func:`library_facts` and :func:`background_text`, so the two always say the same thing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from string import Template
from typing import Any

from gsea_plus.options import REPORT_SUFFIXES

__all__ = [
    "ReportContext",
    "background_text",
    "check_report_path",
    "created",
    "library_facts",
    "template",
    "version",
]


@dataclass
class ReportContext:
    """What the report says about the run (the header and the methods paragraph).

    All fields are optional; what is missing is left out of the report.

    Attributes
    ----------
    command_line
        The exact command line (``shlex.join(sys.argv)``), or the Python call.
    input
        What was analysed: a file name, ``"stdin"``, ``"a Python list"``, a directory.
    input_size
        Genes read from the input (after removing duplicates); for ``prerank``, genes in
        the signature; for ``batch``, the number of lists.
    libraries
        One mapping per library, keys (all optional but ``library``): ``library``
        (name), ``version`` (e.g. ``KEGG_2021_Human@3f2a...``), ``sha256`` (of the GMT
        text), ``source`` (file or download address, shown as text), ``terms`` (terms
        in the library), ``terms_tested`` (a number, or a range over the lists of a
        batch), ``recognized`` (input genes found in it), ``list_size`` (n),
        ``background_size`` and ``background_kind`` (``library``, ``size`` or
        ``genes``; a batch may give a ``(low, high)`` size range) or ``background`` (text,
        e.g. ``"14698 (library genes)"``), ``method`` (model test; the model tests every
        term that passes the size filters). :attr:`gsea_plus.api.EnrichInfo.per_library`
        rows fit as they are.
    converted
        Input symbol -> the symbol(s) it was matched as (spreadsheet-mangled names,
        HGNC aliases and previous symbols, mouse -> human).
    duplicates
        Input genes given more than once.
    unrecognized
        Input genes found in no library.
    background
        The background, when it is one for all libraries (e.g. ``"20000 (fixed
        size)"``); otherwise per library in ``libraries``.
    correction
        Multiple-testing method (a :data:`gsea_plus.options.CORRECTIONS` name).
    threshold
        Adjusted-p (FDR) threshold called significant in the report and figures.
    parameters
        Other options to list (name -> value), e.g. ``{"min_size": 5}``.
    model
        Model-based runs: keys ``name``, ``source``, ``fingerprint``, ``test``,
        ``augment``, ``null`` (the test's null in words; default from
        :data:`gsea_plus.options.MODEL_TESTS`).
    version
        gsea-plus version (default: the installed one).
    created
        When the analysis ran (ISO 8601 text; default: now, UTC).
    title
        Report title (default from the analysis).
    extra
        More header rows (label -> text).
    """

    command_line: str = ""
    input: str = ""
    input_size: int | None = None
    libraries: list[Mapping[str, Any]] = field(default_factory=list)
    converted: Mapping[str, Sequence[str] | str] = field(default_factory=dict)
    duplicates: Sequence[str] = ()
    unrecognized: Sequence[str] = ()
    background: str | None = None
    correction: str = "fdr_bh"
    threshold: float = 0.05
    parameters: Mapping[str, Any] = field(default_factory=dict)
    model: Mapping[str, Any] | None = None
    version: str | None = None
    created: str | None = None
    title: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_enrich_info(cls, info, **fields) -> ReportContext:
        """A context from :class:`gsea_plus.api.EnrichInfo` (``enrich_table``'s summary).

        ``fields`` adds or overrides attributes (``command_line``, ``input``, ...).
        """
        values: dict[str, Any] = {
            "input_size": getattr(info, "input_size", None),
            "libraries": [dict(x) for x in getattr(info, "per_library", [])],
            "converted": {
                k: tuple(v) if not isinstance(v, str) else (v,)
                for k, v in (getattr(info, "mangled", None) or {}).items()
            },
            "duplicates": list(getattr(info, "duplicates", None) or []),
        }
        values.update(fields)
        return cls(**values)


def check_report_path(path: str | Path) -> Path:
    """Raise unless ``path`` can take a report: an .html file name, or a device or FIFO."""
    from gsea_plus.output import check_figure_path

    check_figure_path("--report", path, REPORT_SUFFIXES)
    return Path(path)


def version(context: ReportContext) -> str:
    """The gsea-plus version the report names."""
    if context.version:
        return context.version
    from gsea_plus._version import __version__

    return __version__


def created(context: ReportContext) -> str:
    """When the analysis ran (ISO 8601)."""
    if context.created:
        return context.created
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


@cache
def template(name: str) -> Template:
    """A template or asset of the report (package data under ``templates/``)."""
    from importlib.resources import files

    return Template((files("gsea_plus.report") / "templates" / name).read_text(encoding="utf-8"))


# ----------------------------------------------------------------------- library facts

#: How each kind of background is named, in the header and in the methods text.
BACKGROUND_KINDS = {
    "library": "the genes in the library's terms",
    "size": "a fixed number",
    "genes": "the user's background genes",
}


def _count(value: Any) -> str:
    """``8078`` -> ``8,078``; a ``(low, high)`` range -> ``12,000-15,000``."""
    if isinstance(value, (tuple, list)) and len(value) == 2:
        lo, hi = (int(v) for v in value)
        return f"{lo:,}" if lo == hi else f"{lo:,}-{hi:,}"
    return f"{int(value):,}"


def background_text(lib: Mapping[str, Any]) -> str:
    """A library's background as the header and the methods text both write it.

    ``8,078 genes (the genes in the library's terms)``; a batch whose lists differ:
    ``12,000-15,000 genes (per list: ...)``; a context that only has the legacy
    ``background`` text gets that text.
    """
    size = lib.get("background_size")
    if size is None:
        return str(lib.get("background") or "")
    kind = BACKGROUND_KINDS.get(str(lib.get("background_kind", "")), "")
    per_list = isinstance(size, (tuple, list)) and int(size[0]) != int(size[1])
    what = ("per list: " if per_list else "") + kind
    return f"{_count(size)} genes" + (f" ({what})" if what else "")


def library_facts(lib: Mapping[str, Any]) -> dict[str, str]:
    """The Libraries table's cells of one library (what the methods text also states)."""
    facts = {
        "library": str(lib.get("library", "")),
        "version": str(lib.get("version") or ""),
        "sha256": str(lib.get("sha256") or ""),
        "terms": _count(lib["terms"]) if lib.get("terms") is not None else "",
        "terms_tested": (
            _count(lib["terms_tested"]) if lib.get("terms_tested") is not None else ""
        ),
        "list_size": _count(lib["list_size"]) if lib.get("list_size") is not None else "",
        "background": background_text(lib),
        "source": str(lib.get("source") or ""),
    }
    return facts
