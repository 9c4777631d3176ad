"""The report's tables: every row embedded as compact columns, shown by the page's script.

A table is written once, as JSON columns (repeated text such as ``Library``, ``List`` and
``Term`` dictionary-encoded, numbers to 6 significant digits); above
:data:`COMPRESS_FROM` bytes the JSON is gzip-compressed and base64-encoded, and the browser
unpacks it with its ``DecompressionStream``. The script (``templates/report.js``) sorts,
filters and pages over all the rows, so nothing the user does covers only part of them.

The table may be a DataFrame, a mapping of columns or an encoded
:class:`~gsea_plus.columnar.ResultTable` (a batch's rows, written without building a
DataFrame).
"""

from __future__ import annotations

import base64
import gzip
import html
import json
from collections.abc import Mapping
from typing import Any

import numpy as np

from gsea_plus.columnar import Codes, ResultTable
from gsea_plus.report.context import template

__all__ = ["COMPRESS_FROM", "table_block", "table_payload"]

_e = html.escape

#: JSON larger than this is embedded gzip-compressed (base64).
COMPRESS_FROM = 100_000

# How columns are shown: number formats, and columns whose first click sorts descending.
_FORMATS = {
    "P-value": "p",
    "Adjusted P-value": "p",
    "Classical P-value": "p",
    "Model P-value": "p",
    "Classical Adjusted P-value": "p",
    "Model Adjusted P-value": "p",
    "FDR": "p",
    "Top Adjusted P-value": "p",
    "Odds Ratio": "f2",
    "Combined Score": "f1",
    "Model Score": "f2",
    "ES": "f3",
    "NES": "f2",
}
_INTEGERS = {
    "Cluster",
    "Cluster Size",
    "Size",
    "Leading Edge Size",
    "Predicted Overlap",
    "Overlap Size",
    "Term Size",
    "List Size",
    "Background Size",
    "Input Genes",
    "Converted",
    "Recognized",
    "Unrecognized",
    "Terms Tested",
    "Significant",
}
_DESCENDING = {"Odds Ratio", "Combined Score", "Model Score", "Overlap", "Predicted Overlap"}
_KINDS = {
    "Term": "term",
    "Top Term": "term",
    "Genes": "genes",
    "Leading Edge": "genes",
    "Predicted Genes": "pred",
    "Evidence": "evidence",
    "Representative": "bool",
    "Overlap": "overlap",
}
# Columns embedded only as sort keys (or for the P-value text when p underflows to 0).
_KEYS = {"P-value": "Log10 P-value", "Overlap": "Overlap Size"}
#: Result columns the table leaves to the results file.
HIDDEN = {
    "Log10 P-value",
    "Background Size",
    "Term Size",
    "List Size",
    "Overlap Size",
    "Method",
    "Cluster Size",
}


def _raw(table: Any, name: str) -> Any:
    if isinstance(table, ResultTable):
        return table.raw(name)
    values = table[name]
    return values.to_numpy() if hasattr(values, "to_numpy") else np.asarray(values)


def _n_rows(table: Any) -> int:
    if isinstance(table, ResultTable):
        return table.rows
    if hasattr(table, "iloc"):
        return len(table)
    return len(next(iter(table.values()))) if len(table) else 0


def _number_json(values: np.ndarray, *, integer: bool) -> str:
    """A JSON array of numbers: 6 significant digits, NaN as null, infinity as 1e999."""
    v = np.asarray(values, dtype=np.float64)
    if len(v) == 0:
        return "[]"
    text = np.char.mod("%d" if integer else "%.6g", np.nan_to_num(v, nan=0, posinf=0, neginf=0))
    text = text.astype(object)
    text[np.isnan(v)] = "null"
    text[np.isposinf(v)] = "1e999"
    text[np.isneginf(v)] = "-1e999"
    return "[" + ",".join(text.tolist()) + "]"


def _text_json(raw: Any, n: int) -> str:
    """A text column: dictionary-encoded where values repeat, else one string a row."""
    if isinstance(raw, Codes):
        used, codes = np.unique(raw.codes, return_inverse=True)
        words = [_cell(v) for v in np.asarray(raw.values, dtype=object)[used].tolist()]
        return _dict_json(words, codes.ravel())
    if hasattr(raw, "materialize"):
        raw = raw.materialize()
    items = [_cell(v) for v in np.asarray(raw, dtype=object).tolist()]
    sample = items[:4096]
    if n and len(set(sample)) * 2 <= len(sample):
        index: dict[str, int] = {}
        codes = np.fromiter((index.setdefault(t, len(index)) for t in items), np.int64, len(items))
        return _dict_json(list(index), codes)
    return json.dumps(items, ensure_ascii=False)


def _cell(value: Any) -> Any:
    from gsea_plus.columnar import is_missing

    return None if is_missing(value) else str(value)


def _dict_json(words: list, codes: np.ndarray) -> str:
    return (
        '{"dict":'
        + json.dumps(words, ensure_ascii=False)
        + ',"codes":['
        + ",".join(map(str, codes.tolist()))
        + "]}"
    )


def _spec(name: str, raw: Any, *, links: bool) -> dict[str, Any]:
    """How the page shows column ``name``: kind, number format, sort key, first direction."""
    spec: dict[str, Any] = {"name": name}
    if name == "List":
        spec["kind"] = "list" if links else "text"
    elif name in _KINDS:
        spec["kind"] = _KINDS[name]
    elif name in _FORMATS:
        spec.update(kind="num", fmt=_FORMATS[name])
    elif name in _INTEGERS:
        spec.update(kind="num", fmt="int")
    elif not isinstance(raw, (Codes,)) and not hasattr(raw, "materialize"):
        kind = np.asarray(raw).dtype.kind
        if kind in "biuf":
            spec.update(kind="num", fmt="g" if kind == "f" else "int")
        elif kind == "O" and _numbers_only(raw):
            spec.update(kind="num", fmt="int")
        else:
            spec["kind"] = "text"
    else:
        spec["kind"] = "text"
    if name in _KEYS:
        spec["key"] = _KEYS[name]
    if name in _DESCENDING:
        spec["desc"] = True
    if name == "Overlap":
        spec["title"] = "list genes in the term / term size"
    return spec


def _numbers_only(raw: Any) -> bool:
    """An object column of ints and missing values (a nullable ``Cluster``)."""
    present = [v for v in np.asarray(raw, dtype=object)[:4096].tolist() if _cell(v) is not None]
    return bool(present) and all(isinstance(v, (int, np.integer)) for v in present)


def table_payload(
    table: Any,
    *,
    threshold: float | None = None,
    columns: list[str] | None = None,
    links: bool = False,
) -> dict[str, str]:
    """The JSON text of a table's columns, and the flags the filters use.

    Parameters
    ----------
    table
        A DataFrame, a mapping of columns or a :class:`~gsea_plus.columnar.ResultTable`.
    threshold
        Adjusted p (or FDR) at or below which a row is significant (a ``sig`` flag per
        row); ``None``: no such flag.
    columns
        The columns shown, in order (default: all but :data:`HIDDEN`).
    links
        ``List`` cells are links that filter the results table to that list.

    Returns
    -------
    dict
        ``text`` (the payload, JSON or base64 of gzip) and ``encoding`` (``json`` or
        ``gzip-base64``).
    """
    n = _n_rows(table)
    names = list(table.columns) if hasattr(table, "columns") else list(table)
    shown = columns if columns is not None else [c for c in names if c not in HIDDEN]
    keys = [_KEYS[c] for c in shown if c in _KEYS and _KEYS[c] in names]
    specs = [{"name": "#", "kind": "rank"}]
    parts = []
    for name in shown + [k for k in keys if k not in shown]:
        raw = _raw(table, name)
        spec = _spec(name, raw, links=links)
        if name not in shown:
            spec["hidden"] = True
        specs.append(spec)
        numeric = spec["kind"] in ("num", "bool")
        body = (
            _number_json(_as_floats(raw), integer=spec.get("fmt") == "int")
            if numeric
            else _text_json(raw, n)
        )
        parts.append(f"{json.dumps(name)}:{body}")
    flags = _flags(table, names, n, threshold)
    text = (
        f'{{"rows":{n},"columns":{json.dumps(specs)},"values":{{{",".join(parts)}}},'
        f'"flags":{{{",".join(f"{json.dumps(k)}:{v}" for k, v in flags.items())}}}}}'
    )
    if len(text) < COMPRESS_FROM:
        return {"text": text.replace("</", "<\\/"), "encoding": "json"}
    packed = gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0)
    return {"text": base64.b64encode(packed).decode("ascii"), "encoding": "gzip-base64"}


def _as_floats(raw: Any) -> np.ndarray:
    if isinstance(raw, Codes):
        raw = raw.materialize()
    values = np.asarray(raw)
    if values.dtype == object:
        return np.array([np.nan if _cell(v) is None else float(v) for v in values.tolist()])
    return values.astype(np.float64)


def _flags(table: Any, names: list[str], n: int, threshold: float | None) -> dict[str, str]:
    flags = {}
    p_col = next((c for c in ("Adjusted P-value", "FDR") if c in names), None)
    if threshold is not None and p_col is not None:
        padj = _as_floats(_raw(table, p_col))
        flags["sig"] = _number_json((padj <= threshold).astype(float), integer=True)
    if "Representative" in names:
        rep = _as_floats(_raw(table, "Representative"))
        flags["rep"] = _number_json(np.nan_to_num(rep), integer=True)
    return flags


def table_block(
    table: Any,
    *,
    table_id: str,
    threshold: float | None = None,
    columns: list[str] | None = None,
    filters: Mapping[str, bool] | None = None,
    representatives: bool = False,
    hash_state: bool = False,
    links: bool = False,
    page: int = 100,
) -> str:
    """The HTML of a table: its controls, an empty table the script fills, the payload.

    ``filters`` turns controls on: ``sig`` (significant only), ``rep``
    (representatives only; ticked when ``representatives``), ``library``, ``evidence``
    and ``list`` (a selector of the values of that column). ``hash_state``: the table's
    sort and filters live in the page address (the main results table).
    """
    filters = dict(filters or {})
    payload = table_payload(table, threshold=threshold, columns=columns, links=links)
    controls = [
        f'<label>Filter <input type="search" placeholder="term, gene, list" '
        f'aria-controls="{_e(table_id)}"></label>'
    ]
    if filters.get("sig") and threshold is not None:
        controls.append(
            f'<label><input type="checkbox" class="only-sig"> adjusted p &le; {threshold:g} '
            "only</label>"
        )
    if filters.get("rep"):
        checked = " checked" if representatives else ""
        controls.append(
            f'<label><input type="checkbox" class="only-rep"{checked}> cluster '
            "representatives only</label>"
        )
    for key, label, cls in (
        ("library", "Library", "library"),
        ("evidence", "Evidence", "evidence"),
        ("list", "List", "list"),
    ):
        if filters.get(key):
            controls.append(_select(table, label, cls))
    controls.append('<span class="count"></span>')
    return template("table.html").substitute(
        id=_e(table_id),
        hash="1" if hash_state else "0",
        controls="".join(controls),
        encoding=payload["encoding"],
        payload=payload["text"],
        page=str(int(page)),
    )


def _select(table: Any, label: str, cls: str) -> str:
    """A selector of the distinct values of a column (in order of appearance)."""
    column = {"library": "Library", "evidence": "Evidence", "list": "List"}[cls]
    raw = _raw(table, column)
    if isinstance(raw, Codes):
        _, first = np.unique(raw.codes, return_index=True)
        codes = raw.codes[np.sort(first)]
        values = [str(v) for v in np.asarray(raw.values, dtype=object)[codes].tolist()]
    else:
        values = [str(v) for v in dict.fromkeys(np.asarray(raw, dtype=object).tolist())]
    options = "".join(f'<option value="{_e(v)}">{_e(v)}</option>' for v in values)
    return (
        f'<label>{label} <select class="{cls}"><option value="">all</option>{options}'
        "</select></label>"
    )
