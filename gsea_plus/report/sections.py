"""The parts every report is made of: the Run header, figures, the results table, the page."""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gsea_plus.errors import InputError, MissingExtraError
from gsea_plus.report.context import (
    ReportContext,
    check_report_path,
    created,
    library_facts,
    template,
    version,
)
from gsea_plus.report.table import HIDDEN, table_block

log = logging.getLogger(__name__)

__all__ = [
    "Figures",
    "cluster_rule",
    "evidence_caption",
    "gene_rows",
    "header",
    "inline_svg",
    "libraries_table",
    "page",
    "results_section",
    "significant_counts",
    "with_evidence",
    "write_html",
]

_e = html.escape

# ------------------------------------------------------------------------------ figures

_SVG_DROP = [
    re.compile(r"<\?xml[^>]*\?>\s*", re.S),
    re.compile(r"<!DOCTYPE[^>]*>\s*", re.S),
    re.compile(r"<metadata>.*?</metadata>\s*", re.S),
    re.compile(r'\s+xmlns(:\w+)?="[^"]*"'),
]


def inline_svg(svg: str, prefix: str) -> str:
    """Matplotlib SVG made fit to sit inside HTML: no prolog, no namespace URIs, unique ids."""
    for pattern in _SVG_DROP:
        svg = pattern.sub("", svg)
    svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}-{m.group(1)}"', svg)
    svg = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}-{m.group(1)}"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}-{m.group(1)})", svg)
    return svg.strip()


class Figures:
    """Draws figures into inline SVG, turning a missing matplotlib or an empty plot into a note."""

    def __init__(self) -> None:
        self.count = 0
        self.missing: str | None = None

    def render(self, build, caption: str, *, label: str) -> str:
        """One figure (``build()`` makes it) with its caption, or a note saying why not."""
        if self.missing is not None:
            return ""
        try:
            fig = build()
        except MissingExtraError as exc:
            self.missing = str(exc)
            log.warning("report without figures: %s", exc)
            return ""
        except InputError as exc:
            return f'<p class="note">{_e(label)}: not drawn ({_e(str(exc))}).</p>'
        from gsea_plus.plot import figure_to_svg

        self.count += 1
        svg = inline_svg(figure_to_svg(fig), f"f{self.count}")
        return (
            f'<figure class="figure" data-figure="{_e(label)}">{svg}'
            f"<figcaption>{caption}</figcaption></figure>"
        )

    def note(self) -> str:
        """A warning when figures could not be drawn at all."""
        if self.missing is None:
            return ""
        return f'<p class="note warn">Figures are missing: {_e(self.missing)}</p>'

    def enrichment_map(self, result, cluster, list_name, caption: str) -> str:
        """The enrichment map with the clustering options the results were clustered by."""
        from gsea_plus.plot import enrichment_map_figure

        opts = dict(cluster or {})
        return self.render(
            lambda: enrichment_map_figure(
                result,
                method=opts.get("method", "kappa"),
                threshold=opts.get("threshold"),
                p_cutoff=opts.get("p_cutoff", 0.05),
                list_name=list_name,
            ),
            caption,
            label="enrichment-map",
        )


# ------------------------------------------------------------------------------ header


def _collapsible(items: list[str], limit: int) -> str:
    if len(items) <= limit:
        return ", ".join(items)
    return (
        ", ".join(items[:limit])
        + f" <details><summary>all {len(items)}</summary>{', '.join(items)}</details>"
    )


def gene_rows(context: ReportContext) -> list[tuple[str, str]]:
    """Header rows about the input genes: read, recognized, converted, duplicates."""
    rows: list[tuple[str, str]] = []
    if context.input:
        rows.append(("Input", f"<code>{_e(context.input)}</code>"))
    if context.input_size is not None:
        rows.append(("Genes read", f"{int(context.input_size):,}"))
    per_lib = [lib for lib in context.libraries if lib.get("recognized") is not None]
    if per_lib:
        parts = []
        for lib in per_lib:
            n = lib.get("recognized") or 0
            total = context.input_size
            share = f" of {int(total):,} ({100 * int(n) / total:.0f}%)" if total else ""
            parts.append(f"{_e(str(lib.get('library', '')))}: {int(n):,}{share}")
        rows.append(("Genes recognized", "; ".join(parts)))
    if context.converted:
        items = []
        for src, dst in sorted(context.converted.items()):
            target = dst if isinstance(dst, str) else ", ".join(str(x) for x in dst)
            items.append(f"{_e(str(src))} &rarr; {_e(target)}")
        rows.append(("Genes converted", f"{len(items)}: " + _collapsible(items, 12)))
    if context.duplicates:
        dups = [_e(str(d)) for d in context.duplicates]
        rows.append(("Duplicates removed", f"{len(dups)}: " + _collapsible(dups, 12)))
    if context.unrecognized:
        genes = [_e(str(d)) for d in context.unrecognized]
        rows.append(("Not recognized", f"{len(genes)}: " + _collapsible(genes, 20)))
    backgrounds = {library_facts(lib)["background"] for lib in context.libraries} - {""}
    if context.background:
        rows.append(("Background", _e(context.background)))
    elif len(backgrounds) == 1:
        rows.append(("Background", _e(backgrounds.pop())))
    elif backgrounds:
        rows.append(("Background", "per library, see the Libraries table"))
    return rows


_LIBRARY_COLUMNS = [
    ("library", "Library"),
    ("version", "Version"),
    ("sha256", "sha256"),
    ("terms", "Terms"),
    ("terms_tested", "Terms tested"),
    ("list_size", "n (list genes)"),
    ("background", "Background"),
    ("source", "Source"),
]


def libraries_table(context: ReportContext) -> str:
    """The Libraries table: one row per library, the facts the methods text also states."""
    if not context.libraries:
        return ""
    facts = [library_facts(lib) for lib in context.libraries]
    cols = [(k, t) for k, t in _LIBRARY_COLUMNS if any(f[k] for f in facts)]
    head = "".join(f'<th data-col="{k}">{_e(t)}</th>' for k, t in cols)
    body = []
    for f in facts:
        cells = []
        for key, _ in cols:
            text = f[key]
            if key == "sha256" and text:
                cells.append(f'<td class="sha"><code title="{_e(text)}">{_e(text)}</code></td>')
            elif key in ("terms", "terms_tested", "list_size"):
                cells.append(f'<td class="num" data-col="{key}">{_e(text)}</td>')
            else:
                cells.append(f'<td class="{key}" data-col="{key}">{_e(text)}</td>')
        body.append(f'<tr data-library="{_e(f["library"])}">{"".join(cells)}</tr>')
    return (
        '<div class="infowrap"><table class="info libraries">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def header(context: ReportContext, rows: list[tuple[str, str]]) -> str:
    """The Run section: facts, parameters, the model, versions, command line, libraries."""
    meta = list(rows)
    for key, value in context.parameters.items():
        meta.append((_e(str(key).replace("_", " ")), _e(str(value))))
    if context.model:
        m = context.model
        bits = [_e(str(m.get("name") or m.get("source") or "bundled model"))]
        if m.get("fingerprint"):
            bits.append(f"fingerprint <code>{_e(str(m['fingerprint']))}</code>")
        if m.get("test"):
            bits.append(f"test {_e(str(m['test']))}")
        if m.get("augment"):
            bits.append(f"augment {_e(str(m['augment']))}")
        meta.append(("Gene set model", "; ".join(bits)))
    for key, value in context.extra.items():
        meta.append((_e(str(key)), _e(str(value))))
    meta.append(("gsea-plus", _e(version(context))))
    meta.append(("Created", _e(created(context))))
    dl = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in meta)
    cmd = (
        f'<h3>Command line</h3><pre class="cmd">{_e(context.command_line)}</pre>'
        if context.command_line
        else ""
    )
    libs = libraries_table(context)
    return (
        f'<section id="run"><h2>Run</h2><dl class="meta">{dl}</dl>{cmd}'
        + (f"<h3>Libraries</h3>{libs}" if libs else "")
        + "</section>"
    )


# ------------------------------------------------------------------------------ helpers


def page(title: str, subtitle: str, sections: list[str], context: ReportContext) -> str:
    """The whole document: sections in order, a table of contents, style and script inline."""
    toc = "".join(
        f'<a href="#{m.group(1)}">{m.group(2)}</a>'
        for s in sections
        for m in [re.match(r'<section id="([^"]+)"[^>]*><h2>(.*?)</h2>', s)]
        if m
    )
    return template("page.html").substitute(
        title=_e(title),
        subtitle=subtitle,
        toc=toc,
        sections="\n".join(sections),
        version=_e(version(context)),
        created=_e(created(context)),
        style=template("report.css").template,
        script=template("report.js").template,
    )


def cluster_rule(df, cluster: Mapping[str, Any] | None, *, force: bool = False) -> str:
    """The clustering rule in words, when the results are clustered (or ``force``)."""
    if "Cluster" not in df.columns and not force:
        return ""
    from gsea_plus.cluster import describe_rule

    opts = dict(cluster or {})
    return describe_rule(
        opts.get("method", "kappa"),
        opts.get("threshold"),
        p_cutoff=opts.get("p_cutoff", 0.05),
        full_sets=bool(opts.get("full_sets", False)),
    )


def significant_counts(df, threshold: float) -> str:
    """``Library: k of n`` per library (terms at adjusted p <= threshold)."""
    p_col = "Adjusted P-value" if "Adjusted P-value" in df.columns else "FDR"
    if "Library" not in df.columns:
        return f"{int((df[p_col] <= threshold).sum())} of {len(df)} terms"
    return "; ".join(
        f"{_e(str(lib))}: {int((g[p_col] <= threshold).sum())} of {len(g)}"
        for lib, g in df.groupby("Library", sort=False)
    )


def evidence_caption(df) -> str:
    """How the figures mark the model's evidence, with the rows of each kind."""
    from gsea_plus.plot import evidence_of

    ev = evidence_of(df)
    if ev is None:
        return ""
    counts = ev.value_counts()
    parts = ", ".join(f"{int(counts.get(k, 0))} {k}" for k in ("list", "list+model", "model"))
    return (
        " <strong>Evidence: gene set model.</strong> P-values combine the list's own overlap "
        f"with the model's predictions (rows: {parts}); magenta edges mark terms the model's "
        "predictions count for, a white centre the terms found by the model alone."
    )


def with_evidence(df):
    """Results with an ``Evidence`` column where the model's evidence can be told."""
    from gsea_plus.plot import evidence_of

    if "Evidence" in df.columns:
        return df
    ev = evidence_of(df)
    return df if ev is None else df.assign(Evidence=ev.to_numpy())


#: With the model's evidence, these come right after the adjusted p-value (in this order),
#: before the classical columns, so that a 1,024-px window shows them without scrolling.
_MODEL_FIRST = ["Evidence", "Model Score", "Predicted Overlap", "Predicted Genes", "Genes"]


def result_columns(df, *, show_library: bool, show_list: bool) -> list[str]:
    """The columns of a results table, in order (the rest stay in the results file)."""
    cols = [c for c in df.columns if c not in HIDDEN]
    if not show_library and "Library" in cols:
        cols.remove("Library")
    if not show_list and "List" in cols:
        cols.remove("List")
    if "Evidence" in cols and "Adjusted P-value" in cols:
        first = [c for c in _MODEL_FIRST if c in cols]
        rest = [c for c in cols if c not in first]
        at = rest.index("Adjusted P-value") + 1
        cols = rest[:at] + first + rest[at:]
    return cols


def results_section(
    df, *, threshold: float, representatives: bool, show_library: bool, table=None, note=""
) -> str:
    """The Results section: one table of every row, sortable, filterable, paged."""
    table = df if table is None else table
    names = list(table.columns) if hasattr(table, "columns") else list(table)
    show_list = "List" in names
    cols = result_columns(
        table if hasattr(table, "columns") else _Names(names),
        show_library=show_library,
        show_list=show_list,
    )
    filters = {
        "sig": True,
        "rep": "Representative" in names,
        "library": show_library,
        "evidence": "Evidence" in names,
        "list": show_list,
    }
    block = table_block(
        table,
        table_id="results-table",
        threshold=threshold,
        columns=cols,
        filters=filters,
        representatives=representatives,
        hash_state=True,
        links=False,
    )
    return f'<section id="results"><h2>Results</h2>{note}{block}</section>'


class _Names:
    """Column names of a mapping, where a DataFrame's ``columns`` is expected."""

    def __init__(self, names: list[str]):
        self.columns = names


def write_html(path: str | Path, text: str) -> Path:
    """Write a report (a file atomically; a device or FIFO directly)."""
    from gsea_plus.output import write_output

    path = check_report_path(path)
    write_output(path, text.encode("utf-8"), compress=False)
    return path
