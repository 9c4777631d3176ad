"""Self-contained HTML reports of ``enrich``, ``batch`` and ``prerank`` results (``--report``).

One file holds everything: CSS and a small script inline, figures as inline SVG, no
request of any kind (no font, script, image or link outside the file), so it can be
mailed, archived with a paper, or opened offline years later. It has

- a header: the input, genes read, recognized and converted, the background and its
  size, each library with its version and sha256, the exact command line, the gsea-plus
  version and the model's fingerprint (model-based runs);
- the figures (:mod:`gsea_plus.plot`): dot or bar plot, enrichment map when the terms
  were clustered, the lists x terms comparison of a batch, running sums of a preranked
  analysis;
- the results table, sortable (click a header) and filterable (text, significant only,
  cluster representatives only, library, evidence) in the browser; the state is kept in
  the address after ``#`` (``#sort=P-value:asc&filter=mhc&sig=1&rep=1``);
- model evidence marked (an ``Evidence`` badge per row, model-only rows with a magenta
  edge, predicted genes in magenta, a caption on each figure);
- a methods paragraph to paste into a paper (tests, background, correction, versions).

Every user string is HTML-escaped. The caller describes the run with a
:class:`ReportContext`; the CLI builds one from its arguments and the run's summary.

Entry points: :func:`write_enrich_report`, :func:`write_batch_report`,
:func:`write_prerank_report` (and ``render_*`` that return the HTML text).
"""

from __future__ import annotations

import html
import logging
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gsea_plus.errors import InputError, MissingExtraError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

log = logging.getLogger(__name__)

__all__ = [
    "ReportContext",
    "check_report_path",
    "render_batch_report",
    "render_enrich_report",
    "render_prerank_report",
    "write_batch_report",
    "write_enrich_report",
    "write_prerank_report",
]

_SUFFIXES = (".html", ".htm")
_CORRECTION_NAMES = {
    "fdr_bh": "the Benjamini-Hochberg procedure (FDR)",
    "fdr_by": "the Benjamini-Yekutieli procedure (FDR)",
    "bonferroni": "Bonferroni correction",
    "holm": "Holm's step-down correction",
    "holm-sidak": "Holm-Sidak correction",
    "sidak": "Sidak correction",
    "hommel": "Hommel's correction",
    "simes-hochberg": "the Simes-Hochberg procedure",
    "fdr_tsbh": "the two-stage Benjamini-Hochberg procedure",
    "fdr_tsbky": "the two-stage Benjamini-Krieger-Yekutieli procedure",
    "none": "no correction",
}
# Columns of the results table; others are left to the -o file.
_HIDDEN = {
    "Log10 P-value",
    "Background Size",
    "Term Size",
    "List Size",
    "Overlap Size",
    "Method",
    "Cluster Size",
    "List",
}
_NUMERIC_FORMAT = {
    "P-value": "p",
    "Adjusted P-value": "p",
    "Classical P-value": "p",
    "Model P-value": "p",
    "Classical Adjusted P-value": "p",
    "Model Adjusted P-value": "p",
    "FDR": "p",
    "Odds Ratio": "f2",
    "Combined Score": "f1",
    "Model Score": "f2",
    "ES": "f3",
    "NES": "f2",
}
# Columns whose first click sorts descending (bigger is more interesting).
_DESCENDING = {"Odds Ratio", "Combined Score", "Model Score", "Overlap", "Predicted Overlap"}


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
        in the library), ``terms_tested``, ``recognized`` (input genes found in it),
        ``list_size`` (n), ``background`` (e.g. ``"14698 (library genes)"``),
        ``method`` (model test). :attr:`gsea_plus.engine.EnrichInfo.per_library` rows
        fit as they are.
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
        Multiple-testing method (a :data:`gsea_plus.stats.CORRECTIONS` name).
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
        """A context from :class:`gsea_plus.engine.EnrichInfo` (``run_enrich``'s summary).

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
    from gsea_plus.output import output_kind

    path = Path(path)
    if output_kind(path) == "file" and path.suffix.lower() not in _SUFFIXES:
        raise InputError(f"--report: use a .html file name, not {path.name!r}")
    return path


# --------------------------------------------------------------------------- helpers

_e = html.escape


def _version(context: ReportContext) -> str:
    if context.version:
        return context.version
    import gsea_plus

    return gsea_plus.__version__


def _created(context: ReportContext) -> str:
    if context.created:
        return context.created
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def _asset(name: str) -> str:
    from importlib.resources import files

    return (files("gsea_plus.report") / name).read_text(encoding="utf-8")


def _fmt_number(value, kind: str) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return _e(str(value))
    if math.isnan(v):
        return ""
    if kind == "p":
        if v == 0:
            return "0"
        return f"{v:.2e}" if v < 1e-3 else f"{v:.3g}"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if kind == "f1":
        return f"{v:,.1f}"
    if kind == "f3":
        return f"{v:.3f}"
    return f"{v:.2f}"


def _p_exact(row: Mapping[str, Any]) -> str | None:
    """P-value text from ``Log10 P-value`` when p underflows to 0."""
    try:
        p = float(row["P-value"])
        lg = float(row["Log10 P-value"])
    except (KeyError, TypeError, ValueError):
        return None
    if p == 0.0 and math.isfinite(lg):
        exp = math.floor(lg)
        return f"{10 ** (lg - exp):.2f}e{exp}"
    return None


_SVG_DROP = [
    re.compile(r"<\?xml[^>]*\?>\s*", re.S),
    re.compile(r"<!DOCTYPE[^>]*>\s*", re.S),
    re.compile(r"<metadata>.*?</metadata>\s*", re.S),
    re.compile(r'\s+xmlns(:\w+)?="[^"]*"'),
]


def _inline_svg(svg: str, prefix: str) -> str:
    """Matplotlib SVG made fit to sit inside HTML: no prolog, no namespace URIs, unique ids."""
    for pattern in _SVG_DROP:
        svg = pattern.sub("", svg)
    svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}-{m.group(1)}"', svg)
    svg = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}-{m.group(1)}"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}-{m.group(1)})", svg)
    return svg.strip()


class _Figures:
    """Draws figures into inline SVG, turning a missing extra or an empty plot into a note."""

    def __init__(self) -> None:
        self.count = 0
        self.missing_extra: str | None = None

    def render(self, build, caption: str, *, label: str) -> str:
        if self.missing_extra is not None:
            return ""
        try:
            fig = build()
        except MissingExtraError as exc:
            self.missing_extra = str(exc)
            log.warning("report without figures: %s", exc)
            return ""
        except InputError as exc:
            return f'<p class="note">{_e(label)}: not drawn ({_e(str(exc))}).</p>'
        from gsea_plus.plot import figure_to_svg

        self.count += 1
        svg = _inline_svg(figure_to_svg(fig), f"f{self.count}")
        return (
            f'<figure class="figure" data-figure="{_e(label)}">{svg}'
            f"<figcaption>{caption}</figcaption></figure>"
        )

    def note(self) -> str:
        if self.missing_extra is None:
            return ""
        return f'<p class="note warn">Figures are missing: {_e(self.missing_extra)}</p>'

    def enrichment_map(
        self,
        result: pd.DataFrame,
        cluster: Mapping[str, Any] | None,
        list_name: str | None,
        caption: str,
    ) -> str:
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

    def section(self, parts: list[str], summary: str) -> str:
        """The Figures section: a summary line, the figures, the missing-extra note."""
        return (
            f'<section id="figures"><h2>Figures</h2>{summary}'
            f"{''.join(parts)}{self.note()}</section>"
        )


def _genes_html(value, *, predicted: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    genes = [g for g in str(value).split(";") if g]
    text = ", ".join(_e(g) for g in genes)
    return f'<span class="pred">{text}</span>' if predicted and text else text


def _evidence_badge(ev: str) -> str:
    cls = {"model": "model", "list+model": "list-model"}.get(ev, "")
    return f'<span class="badge {cls}">{_e(ev)}</span>'


def _table(
    df: pd.DataFrame,
    *,
    table_id: str,
    threshold: float,
    max_rows: int,
    show_library: bool,
    representatives: bool = False,
) -> str:
    """The sortable, filterable results table with its controls."""
    from gsea_plus.plot import evidence_of

    p_col = "Adjusted P-value" if "Adjusted P-value" in df.columns else "FDR"
    total = len(df)
    data = df.head(max_rows).reset_index(drop=True)
    evidence = evidence_of(data)
    columns = [c for c in data.columns if c not in _HIDDEN]
    if not show_library and "Library" in columns:
        columns.remove("Library")
    if evidence is not None and "Evidence" not in columns:
        columns.insert(columns.index("Genes") if "Genes" in columns else len(columns), "Evidence")
    clustered = "Representative" in data.columns
    head = ['<th data-col="#" data-type="num">#</th>']
    for col in columns:
        numeric = col in _NUMERIC_FORMAT or col in (
            "Overlap",
            "Size",
            "Leading Edge Size",
            "Predicted Overlap",
            "Cluster",
        )
        attrs = f' data-col="{_e(col)}" data-type="{"num" if numeric else "text"}"'
        if col in _DESCENDING:
            attrs += ' data-desc="1"'
        if col == "Overlap":
            attrs += ' title="list genes in the term / term size"'
        head.append(f"<th{attrs}>{_e(col)}</th>")
    body = []
    records = data.to_dict("records")
    for i, row in enumerate(records):
        padj = row.get(p_col)
        sig = padj is not None and padj == padj and float(padj) <= threshold
        ev = str(evidence.iloc[i]) if evidence is not None else ""
        is_rep = bool(row.get("Representative", False)) if clustered else False
        classes = []
        if not sig:
            classes.append("notsig")
        if ev == "model":
            classes.append("ev-model")
        if is_rep:
            classes.append("rep")
        attrs = (
            f' data-sig="{1 if sig else 0}" data-rep="{1 if is_rep else 0}"'
            f' data-library="{_e(str(row.get("Library", "")))}" data-evidence="{_e(ev)}"'
        )
        if classes:
            attrs += f' class="{" ".join(classes)}"'
        cells = [f'<td class="num" data-v="{i + 1}">{i + 1}</td>']
        for col in columns:
            value = ev if col == "Evidence" else row.get(col)
            if col == "Evidence":
                cells.append(f'<td data-v="{_e(ev)}">{_evidence_badge(ev)}</td>')
            elif col in _NUMERIC_FORMAT:
                kind = _NUMERIC_FORMAT[col]
                text = (_p_exact(row) if col == "P-value" else None) or _fmt_number(value, kind)
                raw = "" if value is None or value != value else repr(float(value))
                if col == "P-value" and row.get("Log10 P-value") is not None:
                    # log10 p sorts as p does and keeps p-values that underflow to 0 apart
                    raw = repr(float(row["Log10 P-value"]))
                cells.append(f'<td class="num" data-v="{_e(raw)}">{text}</td>')
            elif col == "Overlap":
                k = row.get("Overlap Size")
                if k is None:
                    k = str(value).split("/")[0]
                cells.append(f'<td class="num" data-v="{_e(str(k))}">{_e(str(value))}</td>')
            elif col in ("Genes", "Leading Edge"):
                cells.append(f'<td class="genes">{_genes_html(value)}</td>')
            elif col == "Predicted Genes":
                cells.append(f'<td class="genes">{_genes_html(value, predicted=True)}</td>')
            elif col == "Term":
                cells.append(f'<td class="term">{_e(str(value))}</td>')
            elif col == "Representative":
                cells.append(f'<td data-v="{int(is_rep)}">{"yes" if is_rep else ""}</td>')
            elif col == "Cluster":
                text = "" if value is None or value != value else str(int(value))
                cells.append(f'<td class="num" data-v="{text}">{text}</td>')
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                text = "" if value != value else f"{value:g}"
                cells.append(f'<td class="num" data-v="{text}">{text}</td>')
            else:
                text = "" if value is None or value != value else str(value)
                cells.append(f"<td>{_e(text)}</td>")
        body.append(f"<tr{attrs}>{''.join(cells)}</tr>")
    controls = [
        f'<label>Filter <input type="search" placeholder="term or gene" '
        f'aria-controls="{table_id}"></label>',
        f'<label><input type="checkbox" class="only-sig"> adjusted p &le; {threshold:g} only'
        "</label>",
    ]
    if clustered:
        checked = " checked" if representatives else ""
        controls.append(
            f'<label><input type="checkbox" class="only-rep"{checked}> cluster '
            "representatives only</label>"
        )
    if show_library and "Library" in data.columns:
        import pandas as pd

        options = "".join(
            f'<option value="{_e(str(v))}">{_e(str(v))}</option>'
            for v in pd.unique(data["Library"])
        )
        controls.append(
            f'<label>Library <select class="library"><option value="">all</option>{options}'
            "</select></label>"
        )
    if evidence is not None:
        options = "".join(
            f'<option value="{v}">{v}</option>' for v in ("list", "list+model", "model")
        )
        controls.append(
            f'<label>Evidence <select class="evidence"><option value="">all</option>{options}'
            "</select></label>"
        )
    controls.append(f'<span class="count">{len(data)} rows</span>')
    cut = (
        f'<p class="note">The first {len(data)} of {total} rows (by p-value); the full table '
        "is in the results file.</p>"
        if total > len(data)
        else ""
    )
    return (
        f'<div class="results-block"><div class="controls">{"".join(controls)}</div>{cut}'
        f'<div class="tablewrap"><table class="results" id="{table_id}">'
        f"<thead><tr>{''.join(head)}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        "</div></div>"
    )


def _gene_header(context: ReportContext) -> list[tuple[str, str]]:
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
        rows.append(
            (
                "Genes converted",
                f"{len(items)}: " + _collapsible(items, 12),
            )
        )
    if context.duplicates:
        dups = [_e(str(d)) for d in context.duplicates]
        rows.append(("Duplicates removed", f"{len(dups)}: " + _collapsible(dups, 12)))
    if context.unrecognized:
        genes = [_e(str(d)) for d in context.unrecognized]
        rows.append(("Not recognized", f"{len(genes)}: " + _collapsible(genes, 20)))
    backgrounds = {str(lib["background"]) for lib in context.libraries if lib.get("background")}
    if context.background:
        rows.append(("Background", _e(context.background)))
    elif len(backgrounds) == 1:
        rows.append(("Background", _e(backgrounds.pop())))
    elif backgrounds:
        rows.append(("Background", "per library, see below"))
    return rows


def _collapsible(items: list[str], limit: int) -> str:
    if len(items) <= limit:
        return ", ".join(items)
    return (
        ", ".join(items[:limit])
        + f" <details><summary>all {len(items)}</summary>{', '.join(items)}</details>"
    )


def _libraries_table(context: ReportContext) -> str:
    if not context.libraries:
        return ""
    cols = [
        ("library", "Library"),
        ("version", "Version"),
        ("sha256", "sha256"),
        ("terms", "Terms"),
        ("terms_tested", "Terms tested"),
        ("list_size", "n (list genes)"),
        ("background", "Background"),
        ("source", "Source"),
    ]
    cols = [
        (k, t) for k, t in cols if any(lib.get(k) not in (None, "") for lib in context.libraries)
    ]
    head = "".join(f"<th>{_e(t)}</th>" for _, t in cols)
    body = []
    for lib in context.libraries:
        cells = []
        for key, _ in cols:
            value = lib.get(key)
            text = "" if value is None else str(value)
            if key == "sha256" and text:
                cells.append(f'<td><code title="{_e(text)}">{_e(text)}</code></td>')
            elif isinstance(value, int):
                cells.append(f'<td class="num">{value:,}</td>')
            else:
                cells.append(f"<td>{_e(text)}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f'<table class="info libraries"><tr>{head}</tr>{"".join(body)}</table>'


def _header(context: ReportContext, rows: list[tuple[str, str]]) -> str:
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
    meta.append(("gsea-plus", _e(_version(context))))
    meta.append(("Created", _e(_created(context))))
    dl = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in meta)
    cmd = (
        f'<h3>Command line</h3><pre class="cmd">{_e(context.command_line)}</pre>'
        if context.command_line
        else ""
    )
    libs = _libraries_table(context)
    return (
        f'<section id="run"><h2>Run</h2><dl class="meta">{dl}</dl>{cmd}'
        + (f"<h3>Libraries</h3>{libs}" if libs else "")
        + "</section>"
    )


def _software_versions() -> str:
    import importlib.metadata as md

    parts = []
    for name in ("numpy", "scipy", "pandas", "statsmodels", "matplotlib"):
        try:
            parts.append(f"{name} {md.version(name)}")
        except md.PackageNotFoundError:
            continue
    return ", ".join(parts)


def _library_phrase(context: ReportContext) -> str:
    names = []
    for lib in context.libraries:
        name = str(lib.get("library", ""))
        sha = str(lib.get("sha256") or "")
        version = str(lib.get("version") or "")
        if sha:
            names.append(f"{name} (sha256 {sha[:12]})")
        elif version and version != name:
            names.append(f"{name} ({version})")
        else:
            names.append(name)
    if not names:
        return "the gene set libraries listed above"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _model_sentence(context: ReportContext) -> str:
    m = context.model
    if not m:
        return ""
    test = str(m.get("test") or "combined")
    null = m.get("null")
    if not null:
        from gsea_plus.options import MODEL_TESTS

        null = MODEL_TESTS[test].null if test in MODEL_TESTS else ""
    name = str(m.get("name") or "the gene set foundation model bundled with gsea-plus")
    fp = str(m.get("fingerprint") or "")
    aug = m.get("augment")
    text = (
        f"Model-based evidence came from {_e(name)}"
        + (f" (fingerprint {_e(fp[:16])})" if fp else "")
        + f", a gene set foundation model in the GSFM family (Clarke et al., Patterns 2025), "
        f"with the '{_e(test)}' test" + (f" ({_e(str(null))})" if null else "") + "."
    )
    if aug:
        text += (
            f" The model's top {int(aug)} predicted genes for the list are shown per term "
            "(Predicted Genes); they do not enter the list's own overlap."
        )
    text += (
        " Terms marked 'model' in the Evidence column were found by the model's "
        "predictions rather than by the genes of the list."
    )
    return text


def _methods(context: ReportContext, kind: str, *, cluster_rule: str = "") -> str:
    version = _version(context)
    correction = _CORRECTION_NAMES.get(context.correction, _e(context.correction))
    libs = _e(_library_phrase(context))
    bg = context.background or next(
        (str(lib["background"]) for lib in context.libraries if lib.get("background")), ""
    )
    params = context.parameters
    size_filter = ""
    if params.get("min_size") is not None or params.get("max_size") is not None:
        lo = params.get("min_size")
        hi = params.get("max_size")
        upper = hi if hi is not None else "any number of"
        size_filter = f" Terms with {lo if lo is not None else 1} to {upper} genes were tested."
    paras = []
    if kind == "prerank":
        perms = params.get("permutations", 2000)
        weight = params.get("weight", 1)
        paras.append(
            "Preranked gene set enrichment analysis (GSEA; Subramanian et al., PNAS 2005) was "
            f"run with gsea-plus {_e(version)} against {libs}. Enrichment scores are the "
            f"maximum deviation of the running sum weighted by |score|^{_e(str(weight))}; "
            "p-values are the same-sign tail of a gamma distribution fitted to the "
            f"enrichment scores of {_e(str(perms))} random gene sets at a grid of set sizes "
            "and interpolated to each term's size (the approach of blitzgsea; Lachmann et "
            "al., Bioinformatics 2022); NES = ES / mean same-sign null ES. P-values were "
            f"corrected with {correction} over all tested terms; terms with FDR <= "
            f"{context.threshold:g} are called significant.{_e(size_filter)}"
        )
    else:
        what = "each gene list" if kind == "batch" else "the gene list"
        paras.append(
            f"Over-representation of {what} in {libs} was tested with the one-sided "
            f"hypergeometric test (Fisher's exact test) in gsea-plus {_e(version)}"
            + (f" against a background of {_e(bg)} genes" if bg else "")
            + ". "
            f"P-values were corrected for multiple testing with {correction}, separately "
            "for each library, over the terms that share at least one gene with the list"
            + (" (each list on its own)" if kind == "batch" else "")
            + f"; terms with adjusted p <= {context.threshold:g} are called significant."
            + _e(size_filter)
            + " Odds ratios and combined scores (-ln p x odds ratio) follow Enrichr "
            "(Kuleshov et al., Nucleic Acids Res. 2016)."
        )
    model = _model_sentence(context)
    if model:
        paras.append(model)
    if cluster_rule:
        paras.append(
            _e(cluster_rule)
            + " (as DAVID functional annotation clustering and Metascape do; Huang et al., "
            "Genome Biol. 2007)."
        )
    paras.append(f"Software: gsea-plus {_e(version)}; {_e(_software_versions())}.")
    body = "".join(f"<p>{p}</p>" for p in paras)
    return (
        '<section id="methods"><h2>Methods</h2>'
        '<p class="note">A paragraph to adapt for a paper; check the citations against '
        'your journal\'s style. <button class="copy" data-target="methods-text">Copy text'
        "</button></p>"
        f'<div class="methods" id="methods-text">{body}</div></section>'
    )


def _page(title: str, subtitle: str, sections: list[str], context: ReportContext) -> str:
    toc_items = [
        (m.group(1), m.group(2))
        for s in sections
        for m in [re.match(r'<section id="([^"]+)"><h2>(.*?)</h2>', s)]
        if m
    ]
    toc = "".join(f'<a href="#{i}">{t}</a>' for i, t in toc_items)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="generator" content="gsea-plus">'
        f"<title>{_e(title)}</title><style>{_asset('report.css')}</style></head>"
        f"<body><main><h1>{_e(title)}</h1>"
        f'<p class="subtitle">{subtitle}</p>'
        f'<nav class="toc">{toc}</nav>'
        + "".join(sections)
        + f"<footer>Made by gsea-plus {_e(_version(context))} on {_e(_created(context))}. "
        "This file is self-contained: it loads nothing from the network.</footer>"
        f"</main><script>{_asset('report.js')}</script></body></html>\n"
    )


def _cluster_rule(df: pd.DataFrame, cluster: Mapping[str, Any] | None) -> str:
    if "Cluster" not in df.columns:
        return ""
    from gsea_plus.cluster import describe_rule

    opts = dict(cluster or {})
    return describe_rule(
        opts.get("method", "kappa"),
        opts.get("threshold"),
        p_cutoff=opts.get("p_cutoff", 0.05),
        full_sets=bool(opts.get("full_sets", False)),
    )


def _significant_counts(df: pd.DataFrame, threshold: float) -> str:
    p_col = "Adjusted P-value" if "Adjusted P-value" in df.columns else "FDR"
    if "Library" not in df.columns:
        n = int((df[p_col] <= threshold).sum())
        return f"{n} of {len(df)} terms"
    parts = []
    for lib, g in df.groupby("Library", sort=False):
        parts.append(f"{_e(str(lib))}: {int((g[p_col] <= threshold).sum())} of {len(g)}")
    return "; ".join(parts)


def _evidence_caption(df: pd.DataFrame) -> str:
    from gsea_plus.plot import evidence_of

    ev = evidence_of(df)
    if ev is None:
        return ""
    counts = ev.value_counts()
    parts = ", ".join(f"{int(counts.get(k, 0))} {k}" for k in ("list", "list+model", "model"))
    return (
        " <strong>Evidence: gene set model.</strong> P-values combine the list's own overlap "
        f"with the model's predictions (rows: {parts}); diamonds mark terms found by the "
        "model alone."
    )


def _write(path: str | Path, text: str) -> Path:
    from gsea_plus.output import write_output

    path = check_report_path(path)
    write_output(path, text.encode("utf-8"), compress=False)
    return path


# ---------------------------------------------------------------------------- enrich


def render_enrich_report(
    result: pd.DataFrame,
    context: ReportContext | None = None,
    *,
    list_name: str | None = None,
    top: int = 20,
    plot_kind: str = "dot",
    color_by: str = "p",
    representatives: bool = False,
    cluster: Mapping[str, Any] | None = None,
    max_rows: int = 2000,
) -> str:
    """The HTML report of one list's ``enrich`` results (see the module docstring).

    Parameters
    ----------
    result
        ``enrich`` results (classical or model-based; clustered by
        :func:`gsea_plus.cluster.cluster_terms` for the enrichment map and the
        representatives filter).
    context
        The run (:class:`ReportContext`).
    list_name
        Name of the list, for titles.
    top
        Terms per library in the dot or bar plot.
    plot_kind
        ``"dot"`` or ``"bar"``.
    color_by
        ``"p"`` or ``"combined"`` (see :func:`gsea_plus.plot.enrichment_figure`).
    representatives
        Figures show cluster representatives, and the table starts filtered to them.
    cluster
        The clustering options used (``method``, ``threshold``, ``p_cutoff``,
        ``full_sets``), for the captions and the methods text.
    max_rows
        Rows of the table (the rest stay in the results file).
    """
    from gsea_plus.plot import enrichment_figure

    context = context or ReportContext()
    thr = context.threshold
    figures = _Figures()
    rule = _cluster_rule(result, cluster)
    n_libs = result["Library"].nunique() if "Library" in result.columns and len(result) else 1
    want_map = plot_kind == "map" or "Cluster" in result.columns
    plot_kind = "bar" if plot_kind == "bar" else "dot"
    sections = [_header(context, _gene_header(context))]
    fig_html = []
    if len(result):
        what = "Dot plot" if plot_kind == "dot" else "Bar plot"
        caption = (
            f"{what} of the top {top} terms per library by adjusted p. x: -log10 adjusted "
            f"p-value; dashed line: adjusted p = {thr:g}; "
            + ("size: list genes in the term; " if plot_kind == "dot" else "label: overlap; ")
            + ("colour: adjusted p-value." if color_by == "p" else "colour: combined score.")
            + (
                " Cluster representatives only; (+k similar) counts the terms each stands for."
                if representatives and "Representative" in result.columns
                else ""
            )
            + _evidence_caption(result.head(top))
        )
        fig_html.append(
            figures.render(
                lambda: enrichment_figure(
                    result,
                    kind=plot_kind,
                    top=top,
                    color_by=color_by,
                    threshold=thr,
                    list_name=list_name,
                    representatives=representatives and "Representative" in result.columns,
                ),
                caption,
                label="enrichment",
            )
        )
        if want_map:
            rule = rule or _cluster_rule(result.assign(Cluster=0), cluster)
            fig_html.append(
                figures.enrichment_map(
                    result,
                    cluster,
                    list_name,
                    "Enrichment map: significant terms as nodes (the 30 most significant), "
                    "edges where two terms share list genes beyond the clustering threshold, "
                    "colour: cluster, size: overlap. " + _e(rule),
                )
            )
    summary = (
        f"<p>Significant at adjusted p &le; {thr:g}: {_significant_counts(result, thr)}.</p>"
        if len(result)
        else '<p class="note">No term was reported.</p>'
    )
    sections.append(figures.section(fig_html, summary))
    if "Cluster" in result.columns:
        n_clusters = int(result["Cluster"].nunique())
        n_clustered = int(result["Cluster"].notna().sum())
        sections.append(
            '<section id="clusters"><h2>Term clusters</h2>'
            f"<p>{n_clustered} significant terms form {n_clusters} clusters. {_e(rule)} "
            "Tick 'cluster representatives only' above the table to see one term per "
            "cluster.</p></section>"
        )
    sections.append(
        '<section id="results"><h2>Results</h2>'
        + _table(
            result,
            table_id="results-table",
            threshold=thr,
            max_rows=max_rows,
            show_library=n_libs > 1,
            representatives=representatives,
        )
        + "</section>"
    )
    sections.append(_methods(context, "enrich", cluster_rule=rule))
    title = context.title or "Gene set enrichment report"
    subtitle = _e(list_name or context.input or "") + (
        " &middot; model-based evidence" if context.model else ""
    )
    return _page(title, subtitle, sections, context)


def write_enrich_report(
    path: str | Path,
    result: pd.DataFrame,
    context: ReportContext | None = None,
    **options,
) -> Path:
    """Write :func:`render_enrich_report` to ``path`` (.html, atomically)."""
    check_report_path(path)
    return _write(path, render_enrich_report(result, context, **options))


# ----------------------------------------------------------------------------- batch


def _batch_summary(results: pd.DataFrame, summary, threshold: float) -> pd.DataFrame:
    import pandas as pd

    if summary is not None:
        frame = summary if isinstance(summary, pd.DataFrame) else pd.DataFrame(list(summary))
        return frame
    rows = []
    p_col = "Adjusted P-value"
    for name, g in results.groupby("List", sort=False):
        best = g.sort_values(p_col, kind="stable").iloc[0] if len(g) else None
        rows.append(
            {
                "List": name,
                "List Size": int(g["List Size"].max()) if "List Size" in g.columns else None,
                "Terms Reported": len(g),
                "Significant": int((g[p_col] <= threshold).sum()),
                "Top Term": "" if best is None else best["Term"],
                "Top Adjusted P-value": None if best is None else best[p_col],
            }
        )
    return pd.DataFrame(rows)


def _summary_table(frame: pd.DataFrame, anchors: Mapping[str, str]) -> str:
    cols = [c for c in frame.columns if c not in ("Status",) or frame[c].astype(str).ne("ok").any()]
    head = "".join(f"<th>{_e(str(c))}</th>" for c in cols)
    body = []
    for row in frame.to_dict("records"):
        cells = []
        for c in cols:
            v = row.get(c)
            if c == "List" and str(v) in anchors:
                cells.append(f'<td><a href="#{anchors[str(v)]}">{_e(str(v))}</a></td>')
            elif isinstance(v, float):
                text = "" if v != v else (_fmt_number(v, "p") if "P-value" in c else f"{v:g}")
                cells.append(f'<td class="num">{text}</td>')
            elif isinstance(v, int) and not isinstance(v, bool):
                cells.append(f'<td class="num">{v:,}</td>')
            else:
                cells.append(f"<td>{_e('' if v is None else str(v))}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return (
        '<div class="tablewrap" style="max-height:420px"><table class="info summary">'
        f"<tr>{head}</tr>{''.join(body)}</table></div>"
    )


def render_batch_report(
    results: pd.DataFrame,
    context: ReportContext | None = None,
    *,
    summary: pd.DataFrame | Iterable[Mapping[str, Any]] | None = None,
    top: int = 5,
    list_top: int = 15,
    plot_kind: str = "dot",
    color_by: str = "p",
    representatives: bool = False,
    cluster: Mapping[str, Any] | None = None,
    max_rows_per_list: int = 200,
    max_list_figures: int = 24,
) -> str:
    """The HTML report of a batch: the comparison figure, then one section per list.

    Parameters
    ----------
    results
        Batch results (a ``List`` column first; clustered or not).
    context
        The run (:class:`ReportContext`); ``input_size`` is the number of lists.
    summary
        The per-list summary (:data:`gsea_plus.batch.SUMMARY_COLUMNS` records or frame);
        default: computed from ``results``.
    top
        Terms taken from each list for the comparison figure (compareCluster's rule).
    list_top
        Terms per library in each list's own dot plot.
    plot_kind, color_by, representatives, cluster
        As in :func:`render_enrich_report`.
    max_rows_per_list
        Table rows per list.
    max_list_figures
        Lists that get their own figure (the first ones); the others get a table only.
    """
    import pandas as pd

    from gsea_plus.plot import comparison_figure, enrichment_figure

    if "List" not in results.columns:
        raise InputError("a batch report needs batch results (a List column)")
    context = context or ReportContext()
    thr = context.threshold
    figures = _Figures()
    rule = _cluster_rule(results, cluster)
    plot_kind = "bar" if plot_kind == "bar" else "dot"
    names = [str(x) for x in pd.unique(results["List"])]
    frame = _batch_summary(results, summary, thr)
    listed = [str(x) for x in frame["List"]] if "List" in frame.columns else names
    order = list(dict.fromkeys(listed + names))
    anchors = {name: f"list-{i + 1}" for i, name in enumerate(order)}
    rows = [("Lists", f"{len(order):,}")]
    rows += [r for r in _gene_header(context) if r[0] != "Genes read"]
    sections = [_header(context, rows)]
    sections.append(f'<section id="lists"><h2>Lists</h2>{_summary_table(frame, anchors)}</section>')
    comp = ""
    if len(results):
        comp = figures.render(
            lambda: comparison_figure(
                results,
                top=top,
                threshold=thr,
                color_by=color_by,
                representatives=representatives and "Representative" in results.columns,
            ),
            f"The top {top} terms of each list (adjusted p &le; {thr:g}), side by side, as "
            "clusterProfiler's compareCluster chooses them; a dot where the term is "
            "significant in the list; size: gene ratio (list genes in the term / list "
            "size); colour: "
            + ("adjusted p-value." if color_by == "p" else "combined score.")
            + _evidence_caption(results),
            label="comparison",
        )
    sections.append(
        '<section id="comparison"><h2>Lists compared</h2>'
        + (comp or '<p class="note">No term was reported.</p>')
        + figures.note()
        + "</section>"
    )
    parts = []
    groups = {str(k): g for k, g in results.groupby("List", sort=False)}
    for i, name in enumerate(order):
        g = groups.get(name)
        head = f'<section id="{anchors[name]}" class="list"><h2>List: {_e(name)}</h2>'
        if g is None or len(g) == 0:
            parts.append(head + '<p class="note">No term reported for this list.</p></section>')
            continue
        g = g.reset_index(drop=True)
        fig = ""
        if i < max_list_figures:
            fig = figures.render(
                lambda g=g, name=name: enrichment_figure(
                    g,
                    kind=plot_kind,
                    top=list_top,
                    color_by=color_by,
                    threshold=thr,
                    list_name=name,
                    representatives=representatives and "Representative" in g.columns,
                ),
                f"Top {list_top} terms per library by adjusted p; dashed line: adjusted p = "
                f"{thr:g}." + _evidence_caption(g.head(list_top)),
                label=f"list-{i + 1}",
            )
        n_libs = g["Library"].nunique() if "Library" in g.columns else 1
        parts.append(
            head
            + f"<p>Significant at adjusted p &le; {thr:g}: {_significant_counts(g, thr)}.</p>"
            + fig
            + _table(
                g,
                table_id=f"table-{i + 1}",
                threshold=thr,
                max_rows=max_rows_per_list,
                show_library=n_libs > 1,
                representatives=representatives,
            )
            + "</section>"
        )
    if len(order) > max_list_figures:
        parts.append(
            f'<p class="note">Figures are drawn for the first {max_list_figures} lists; the '
            "others have their table only.</p>"
        )
    sections.append('<section id="per-list"><h2>Each list</h2></section>' + "".join(parts))
    sections.append(_methods(context, "batch", cluster_rule=rule))
    title = context.title or "Gene set enrichment report: many lists"
    subtitle = f"{len(order)} lists" + (f" &middot; {_e(context.input)}" if context.input else "")
    subtitle += " &middot; model-based evidence" if context.model else ""
    return _page(title, subtitle, sections, context)


def write_batch_report(
    path: str | Path,
    results: pd.DataFrame,
    context: ReportContext | None = None,
    **options,
) -> Path:
    """Write :func:`render_batch_report` to ``path`` (.html, atomically)."""
    check_report_path(path)
    return _write(path, render_batch_report(results, context, **options))


# --------------------------------------------------------------------------- prerank


def render_prerank_report(
    result: pd.DataFrame,
    context: ReportContext | None = None,
    *,
    signature=None,
    gene_sets: Mapping[str, Iterable[str]] | None = None,
    library=None,
    offline: bool | None = None,
    plot_terms: Sequence[str] | None = None,
    signature_name: str | None = None,
    weight: float = 1.0,
    top: int = 20,
    cluster: Mapping[str, Any] | None = None,
    max_rows: int = 2000,
) -> str:
    """The HTML report of a preranked analysis.

    Figures: NES of the top terms; running sums (``plot_terms``, or the 3 most
    significant terms with a positive NES and the 3 with a negative NES); the
    enrichment map of leading edges when ``result`` is clustered.

    Parameters
    ----------
    result
        :func:`gsea_plus.prerank.prerank` results.
    context
        The run (:class:`ReportContext`); ``input_size``: genes in the signature.
    signature
        The signature (needed for the running sums; without it they are left out).
    gene_sets, library, offline
        Where the terms' genes come from (as :func:`gsea_plus.plot.running_sum_figure`).
    plot_terms
        Terms for one running-sum figure (``--plot-term``, up to 6).
    signature_name
        For titles.
    weight
        The running sum's weight used by ``prerank``.
    top
        Terms per library in the NES figure.
    cluster
        The clustering options used, for captions and methods.
    max_rows
        Table rows.
    """
    from gsea_plus.plot import nes_figure, running_sum_figure

    context = context or ReportContext()
    thr = context.threshold
    figures = _Figures()
    rule = _cluster_rule(result, cluster)
    rows = _gene_header(context)
    rows = [("Genes in signature", v) if k == "Genes read" else (k, v) for k, v in rows]
    sections = [_header(context, rows)]
    fig_html = []
    if len(result):
        fig_html.append(
            figures.render(
                lambda: nes_figure(result, top=top, threshold=thr, signature_name=signature_name),
                f"Normalized enrichment scores of the top {top} terms per library by FDR; "
                f"pale bars: FDR &gt; {thr:g}; colour: FDR.",
                label="nes",
            )
        )
        if signature is not None and (gene_sets is not None or library is not None):
            if plot_terms:
                sets = [list(plot_terms)]
            else:
                ranked = result.sort_values(["FDR", "P-value"], kind="stable")
                sets = [
                    ranked[ranked["NES"] > 0]["Term"].head(3).tolist(),
                    ranked[ranked["NES"] < 0]["Term"].head(3).tolist(),
                ]
            for terms in sets:
                if not terms:
                    continue
                fig_html.append(
                    figures.render(
                        lambda terms=terms: running_sum_figure(
                            signature,
                            result,
                            terms=terms,
                            gene_sets=gene_sets,
                            library=library,
                            offline=offline,
                            weight=weight,
                            signature_name=signature_name,
                        ),
                        "Running enrichment score along the ranked signature (as gseapy's "
                        "gseaplot2); shaded: leading edge; ticks: the term's genes, dark in "
                        "the leading edge; bottom: the ranked metric.",
                        label="running-sum",
                    )
                )
        if "Cluster" in result.columns:
            fig_html.append(
                figures.enrichment_map(
                    result,
                    cluster,
                    signature_name,
                    "Enrichment map of leading edges: terms as nodes, edges where their "
                    "leading edges overlap beyond the threshold, colour: cluster, size: "
                    "leading-edge genes. " + _e(rule),
                )
            )
    summary = (
        f"<p>Significant at FDR &le; {thr:g}: {_significant_counts(result, thr)}.</p>"
        if len(result)
        else '<p class="note">No term was tested.</p>'
    )
    sections.append(figures.section(fig_html, summary))
    n_libs = result["Library"].nunique() if "Library" in result.columns and len(result) else 1
    sections.append(
        '<section id="results"><h2>Results</h2>'
        + _table(
            result,
            table_id="results-table",
            threshold=thr,
            max_rows=max_rows,
            show_library=n_libs > 1,
        )
        + "</section>"
    )
    sections.append(_methods(context, "prerank", cluster_rule=rule))
    title = context.title or "Preranked gene set enrichment report"
    return _page(title, _e(signature_name or context.input or ""), sections, context)


def write_prerank_report(
    path: str | Path,
    result: pd.DataFrame,
    context: ReportContext | None = None,
    **options,
) -> Path:
    """Write :func:`render_prerank_report` to ``path`` (.html, atomically)."""
    check_report_path(path)
    return _write(path, render_prerank_report(result, context, **options))
