"""Self-contained HTML reports of ``enrich``, ``batch`` and ``prerank`` results (``--report``).

One file holds everything: CSS and a small script inline, figures as inline SVG, no
request of any kind (no font, script, image or link outside the file), so it can be
mailed, archived with a paper, or opened offline years later. It has

- a header: the input, genes read, recognized and converted, the background and its
  size, each library with its version, sha256 and source, the exact command line, the
  gsea-plus version and the model's fingerprint (model-based runs);
- the figures (:mod:`gsea_plus.plot`): dot or bar plot, enrichment map when the terms
  were clustered, the lists x terms comparison of a batch, running sums of a preranked
  analysis;
- the results table with every row (embedded as compact columns, gzip-compressed when
  large), sortable (click a header), filterable (text, significant only, cluster
  representatives only, library, evidence, list) and paged in the browser; the state is
  kept in the address after ``#`` (``#sort=P-value:asc&filter=mhc&sig=1&rep=1``);
- model evidence marked (an ``Evidence`` badge per row, model-only rows with a magenta
  edge, predicted genes in magenta, a caption on each figure);
- a methods paragraph to paste into a paper, written per library from the values the
  header shows (test, background, the terms corrected over, versions).

Every user string is HTML-escaped. The caller describes the run with a
:class:`ReportContext`; the CLI builds one from its arguments and the run's summary.

Modules: :mod:`~gsea_plus.report.context` (the run and each library's facts),
:mod:`~gsea_plus.report.table` (the embedded tables), :mod:`~gsea_plus.report.methods`,
:mod:`~gsea_plus.report.sections` (header, figures, page) and
:mod:`~gsea_plus.report.pages` (the three reports); the HTML, CSS and script are
templates in ``templates/`` (package data).
"""

from gsea_plus.report.context import ReportContext, check_report_path
from gsea_plus.report.pages import (
    render_batch_report,
    render_enrich_report,
    render_prerank_report,
    write_batch_report,
    write_enrich_report,
    write_prerank_report,
)

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
