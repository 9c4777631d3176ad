"""The methods paragraph of a report, written per library from the header's own values.

Each library's sentence states the background and the terms tested with
:func:`~gsea_plus.report.context.background_text` and
:func:`~gsea_plus.report.context.library_facts`, the functions the header's Libraries
table uses: the two cannot disagree (a two-library report once gave KEGG the other
library's background). The scope of the correction follows the test: the classical test
corrects over the terms that share a gene with the list, the model's test over every
term that passes the size filters.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from gsea_plus.report.context import ReportContext, background_text, library_facts, version

__all__ = ["CORRECTION_NAMES", "methods_section"]

_e = html.escape

CORRECTION_NAMES = {
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


def _name(lib: Mapping[str, Any]) -> str:
    facts = library_facts(lib)
    if facts["sha256"]:
        return f"{facts['library']} (sha256 {facts['sha256'][:12]})"
    if facts["version"] and facts["version"] != facts["library"]:
        return f"{facts['library']} ({facts['version']})"
    return facts["library"]


def _library_sentence(lib: Mapping[str, Any], kind: str, context: ReportContext) -> str:
    """One library: its background and the terms its correction ran over."""
    facts = library_facts(lib)
    bg = background_text(lib) or (context.background or "")
    tested = facts["terms_tested"]
    per_list = " per list" if kind == "batch" and "-" in tested else ""
    if kind == "prerank":
        scope = f"{tested} terms were tested" if tested else "the terms were tested"
        text = f"{_name(lib)}: {scope}"
    elif lib.get("method"):
        scope = f"all {tested} terms{per_list}" if tested else "every term"
        text = (
            f"{_name(lib)}: background {bg}; {scope} that pass the size filters were tested "
            "by the model-based test and corrected together, terms that share no gene with "
            "the list included (the model scores every term)"
        )
    else:
        scope = f"the {tested} terms{per_list}" if tested else "the terms"
        text = (
            f"{_name(lib)}: background {bg}; {scope} that share at least one gene with the "
            "list were tested and corrected together"
        )
    return f'<span class="library-method" data-library="{_e(facts["library"])}">{_e(text)}</span>'


def _libraries_sentence(context: ReportContext, kind: str) -> str:
    if not context.libraries:
        bg = f" Background: {_e(context.background)}." if context.background else ""
        return bg
    parts = [_library_sentence(lib, kind, context) for lib in context.libraries]
    return " Per library: " + "; ".join(parts) + "."


def _size_filter(params: Mapping[str, Any]) -> str:
    if params.get("min_size") is None and params.get("max_size") is None:
        return ""
    lo = params.get("min_size")
    hi = params.get("max_size")
    upper = hi if hi is not None else "any number of"
    return f" Terms with {lo if lo is not None else 1} to {upper} genes were kept."


def _software_versions() -> str:
    import importlib.metadata as md

    parts = []
    for name in ("numpy", "scipy", "pandas", "statsmodels", "matplotlib"):
        try:
            parts.append(f"{name} {md.version(name)}")
        except md.PackageNotFoundError:
            continue
    return ", ".join(parts)


def _libraries_phrase(context: ReportContext) -> str:
    names = [_name(lib) for lib in context.libraries]
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
        + ", a gene set foundation model in the GSFM family (Clarke et al., Patterns 2025), "
        f"with the '{_e(test)}' test" + (f" ({_e(str(null))})" if null else "") + "."
    )
    if aug:
        text += (
            f" The model's top {int(aug)} predicted genes for the list are shown per term "
            "(Predicted Genes); they do not enter the list's own overlap."
        )
    return text + (
        " Terms marked 'model' in the Evidence column were found by the model's "
        "predictions rather than by the genes of the list."
    )


def _test_paragraph(context: ReportContext, kind: str) -> str:
    correction = CORRECTION_NAMES.get(context.correction, _e(context.correction))
    libs = _e(_libraries_phrase(context))
    size_filter = _e(_size_filter(context.parameters))
    if kind == "prerank":
        perms = context.parameters.get("permutations", 2000)
        weight = context.parameters.get("weight", 1)
        return (
            "Preranked gene set enrichment analysis (GSEA; Subramanian et al., PNAS 2005) was "
            f"run with gsea-plus {_e(version(context))} against {libs}. Enrichment scores are "
            f"the maximum deviation of the running sum weighted by |score|^{_e(str(weight))}; "
            "p-values are the same-sign tail of a gamma distribution fitted to the "
            f"enrichment scores of {_e(str(perms))} random gene sets at a grid of set sizes "
            "and interpolated to each term's size (the approach of blitzgsea; Lachmann et "
            "al., Bioinformatics 2022); NES = ES / mean same-sign null ES. P-values were "
            f"corrected with {correction} over all tested terms of each library; terms with "
            f"FDR <= {context.threshold:g} are called significant.{size_filter}"
            + _libraries_sentence(context, kind)
        )
    what = "each gene list" if kind == "batch" else "the gene list"
    model = any(lib.get("method") for lib in context.libraries) or bool(context.model)
    return (
        f"Over-representation of {what} in {libs} was tested with the one-sided "
        f"hypergeometric test (Fisher's exact test) in gsea-plus {_e(version(context))}"
        + (
            ", together with the gene set model's evidence (below; the P-value is the "
            "model-based test's). "
            if model
            else ". "
        )  # fmt: skip
        + f"P-values were corrected for multiple testing with {correction}, separately for "
        "each library"
        + (" and each list" if kind == "batch" else "")
        + "."
        + _libraries_sentence(context, kind)
        + f" Terms with adjusted p <= {context.threshold:g} are called significant."
        + size_filter
        + " Odds ratios and combined scores (-ln p x odds ratio) follow Enrichr "
        "(Kuleshov et al., Nucleic Acids Res. 2016)."
    )


def methods_section(context: ReportContext, kind: str, *, cluster_rule: str = "") -> str:
    """The Methods section: the test and correction per library, the model, clustering."""
    paras = [_test_paragraph(context, kind)]
    model = _model_sentence(context)
    if model:
        paras.append(model)
    if cluster_rule:
        paras.append(
            _e(cluster_rule)
            + " (as DAVID functional annotation clustering and Metascape do; Huang et al., "
            "Genome Biol. 2007)."
        )
    paras.append(f"Software: gsea-plus {_e(version(context))}; {_e(_software_versions())}.")
    body = "".join(f"<p>{p}</p>" for p in paras)
    return (
        '<section id="methods"><h2>Methods</h2>'
        '<p class="note">A paragraph to adapt for a paper; check the citations against '
        'your journal\'s style. <button class="copy" type="button" data-target="methods-text">'
        "Copy text</button></p>"
        f'<div class="methods" id="methods-text">{body}</div></section>'
    )
