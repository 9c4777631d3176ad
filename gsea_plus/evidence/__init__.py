"""Model-based evidence: the gene set model's view of a list, above the classical engine.

:class:`ModelEvidence` is the :class:`~gsea_plus.engine.Evidence` of model-based runs
(``--augment N``, ``--rank embedding``): it adds the model's statistics
(:mod:`gsea_plus.evidence.statistics`) to the classical scores of a chunk of lists and
makes the result tables (:mod:`gsea_plus.evidence.tables`). :func:`gene_function` ranks
the terms the model would add a gene to. The tests and their nulls are described once,
in :data:`gsea_plus.options.MODEL_TESTS`.
"""

from gsea_plus.evidence.function import (
    GENE_COLUMN_DOCS,
    GENE_COLUMNS,
    TermAurocs,
    gene_function,
    gene_libraries,
    term_aurocs,
)
from gsea_plus.evidence.statistics import (
    STATISTICS,
    TermNull,
    combine_bonferroni,
    combine_fisher,
    model_statistics,
    prediction_test,
    signature_prerank_test,
    term_null,
)
from gsea_plus.evidence.tables import (
    CLASSICAL_WEIGHT,
    COMPARE_COLUMNS,
    EVIDENCE,
    MODEL_COLUMNS,
    MODEL_ONLY_CAPTION,
    NULLS,
    TESTS,
    ModelEvidence,
    classical_weights,
    dense_scores,
    evidence_labels,
    model_evidence,
    model_table,
    model_view,
)
from gsea_plus.evidence.view import (
    PREDICTION_BUDGET,
    ModelView,
    TermPredictions,
    augment_matches,
    model_scores,
    predicted_genes,
    random_matches,
    vocab_ids,
)

__all__ = [
    "CLASSICAL_WEIGHT",
    "COMPARE_COLUMNS",
    "EVIDENCE",
    "GENE_COLUMNS",
    "GENE_COLUMN_DOCS",
    "MODEL_COLUMNS",
    "MODEL_ONLY_CAPTION",
    "NULLS",
    "PREDICTION_BUDGET",
    "STATISTICS",
    "TESTS",
    "ModelEvidence",
    "ModelView",
    "TermAurocs",
    "TermNull",
    "TermPredictions",
    "augment_matches",
    "classical_weights",
    "combine_bonferroni",
    "combine_fisher",
    "dense_scores",
    "evidence_labels",
    "gene_function",
    "gene_libraries",
    "model_evidence",
    "model_scores",
    "model_statistics",
    "model_table",
    "model_view",
    "prediction_test",
    "predicted_genes",
    "random_matches",
    "signature_prerank_test",
    "term_aurocs",
    "term_null",
    "vocab_ids",
]
