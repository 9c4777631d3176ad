"""Grouping redundant terms (gsea_plus.cluster): the kappa rule, representatives, GO BP."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from conftest import BENCHMARK, SHARED, requires_shared

from gsea_plus.cluster import (
    CLUSTER_COLUMNS,
    DEFAULT_THRESHOLDS,
    cluster_terms,
    describe_rule,
    representatives,
    similarity_matrix,
    term_gene_sets,
)
from gsea_plus.errors import InputError


def _rows(spec, list_size=50):
    """A result frame from (term, genes, adjusted p) triples."""
    return pd.DataFrame(
        {
            "Term": [t for t, _, _ in spec],
            "P-value": [p / 10 for _, _, p in spec],
            "Adjusted P-value": [p for _, _, p in spec],
            "Genes": [";".join(g) for _, g, _ in spec],
            "Overlap Size": [len(g) for _, g, _ in spec],
            "Library": "L",
            "List Size": list_size,
        }
    )


def test_kappa_matches_the_two_by_two_table():
    # n = 20 list genes; A has 6, B has 5, 4 shared: a=4, b=2, c=1, d=13.
    a_set = {f"G{i}" for i in range(6)}
    b_set = {"G0", "G1", "G2", "G3", "G10"}
    sim = similarity_matrix([a_set, b_set], method="kappa", universe_size=20)
    po = (4 + 13) / 20
    pe = (6 * 5 + 14 * 15) / 400
    assert sim[0, 1] == pytest.approx((po - pe) / (1 - pe))
    assert sim[1, 0] == pytest.approx(sim[0, 1])
    assert np.diag(sim).tolist() == [1.0, 1.0]
    jac = similarity_matrix([a_set, b_set], method="jaccard")
    assert jac[0, 1] == pytest.approx(4 / 7)
    ovl = similarity_matrix([a_set, b_set], method="overlap")
    assert ovl[0, 1] == pytest.approx(4 / 5)


def test_kappa_of_disjoint_and_identical_sets():
    sim = similarity_matrix([{"A", "B"}, {"C", "D"}, {"A", "B"}], universe_size=30)
    assert sim[0, 2] == pytest.approx(1.0)
    assert sim[0, 1] < 0  # less agreement than chance
    with pytest.raises(InputError, match="unknown similarity"):
        similarity_matrix([{"A"}], method="cosine")


def test_subset_child_scores_higher_with_kappa_than_jaccard():
    """The docstring's example: 3 of 8 genes shared in a 76-gene list."""
    parent = {f"G{i}" for i in range(8)}
    child = {"G0", "G1", "G2"}
    kappa = similarity_matrix([parent, child], universe_size=76)[0, 1]
    jaccard = similarity_matrix([parent, child], method="jaccard")[0, 1]
    assert kappa == pytest.approx(0.52, abs=0.01)
    assert jaccard == pytest.approx(0.375)
    assert kappa >= DEFAULT_THRESHOLDS["kappa"] > 0


def test_groups_representatives_and_numbering():
    mhc = ["HLA-DRA", "HLA-DRB1", "HLA-DPA1", "CD74"]
    ecm = ["COL1A1", "COL1A2", "COL3A1", "FN1", "SPARC"]
    df = _rows(
        [
            ("ECM organization", ecm, 1e-3),
            ("MHC II antigen presentation", mhc, 1e-5),
            ("Collagen fibril organization", ecm[:4], 2e-3),
            ("MHC II complex assembly", mhc[:3], 1e-4),
            ("Lonely term", ["TP53", "MDM2"], 0.01),
            ("Not significant", mhc, 0.2),
        ]
    )
    out = cluster_terms(df)
    assert list(out.columns[-3:]) == CLUSTER_COLUMNS
    assert out["Term"].tolist() == df["Term"].tolist()  # same rows, same order
    by = dict(zip(out["Term"], out["Cluster"], strict=True))
    assert by["MHC II antigen presentation"] == by["MHC II complex assembly"] == 1
    assert by["ECM organization"] == by["Collagen fibril organization"] == 2
    assert by["Lonely term"] == 3
    assert pd.isna(by["Not significant"])
    reps = out[out["Representative"]]["Term"].tolist()
    assert reps == ["ECM organization", "MHC II antigen presentation", "Lonely term"]
    sizes = dict(zip(out["Term"], out["Cluster Size"], strict=True))
    assert sizes["ECM organization"] == 2 and sizes["Lonely term"] == 1
    assert pd.isna(sizes["Not significant"])
    only = representatives(out)
    assert only["Term"].tolist() == reps
    # the input frame is not modified
    assert "Cluster" not in df.columns


def test_threshold_is_inclusive_and_p_cutoff_none_clusters_everything():
    a, b = {"A", "B", "C", "D"}, {"A", "B", "C", "E"}
    kappa = similarity_matrix([a, b], universe_size=50)[0, 1]
    df = _rows([("t1", sorted(a), 0.01), ("t2", sorted(b), 0.02)])
    assert cluster_terms(df, threshold=kappa)["Cluster"].tolist() == [1, 1]
    assert cluster_terms(df, threshold=kappa + 1e-6)["Cluster"].tolist() == [1, 2]
    df.loc[1, "Adjusted P-value"] = 0.5
    assert cluster_terms(df)["Cluster"].isna().tolist() == [False, True]
    assert cluster_terms(df, p_cutoff=None)["Cluster"].notna().all()


def test_average_linkage_does_not_chain_through_one_term():
    """A bridge term similar to two unrelated groups does not merge them."""
    g1 = ["A1", "A2", "A3", "A4", "A5", "A6"]
    g2 = ["B1", "B2", "B3", "B4", "B5", "B6"]
    df = _rows(
        [
            ("a", g1, 1e-4),
            ("a'", g1[:5], 2e-4),
            ("b", g2, 3e-4),
            ("b'", g2[:5], 4e-4),
            ("bridge", g1[:3] + g2[:3], 5e-4),
        ],
        list_size=60,
    )
    clusters = cluster_terms(df)["Cluster"].tolist()
    assert clusters[0] == clusters[1] != clusters[2] == clusters[3]
    single = cluster_terms(df, threshold=0.3)  # still not one big cluster
    assert single["Cluster"].nunique() >= 2


def test_each_list_of_a_batch_is_clustered_on_its_own():
    mhc = ["HLA-DRA", "HLA-DRB1", "HLA-DPA1"]
    one = _rows([("x", mhc, 0.01), ("y", mhc, 0.02)])
    two = _rows([("x", mhc, 0.03), ("z", ["TP53", "MDM2"], 0.001)])
    batch = pd.concat([one.assign(List="L1"), two.assign(List="L2")], ignore_index=True)
    batch = batch[["List"] + [c for c in batch.columns if c != "List"]]
    out = cluster_terms(batch)
    l1 = out[out["List"] == "L1"]
    l2 = out[out["List"] == "L2"]
    assert l1["Cluster"].tolist() == [1, 1]
    assert dict(zip(l2["Term"], l2["Cluster"], strict=True)) == {"z": 1, "x": 2}
    assert out.groupby("List")["Representative"].sum().tolist() == [1, 2]


def test_prerank_results_use_fdr_and_leading_edges():
    df = pd.DataFrame(
        {
            "Term": ["up1", "up2", "down"],
            "NES": [2.1, 1.9, -2.0],
            "P-value": [1e-6, 1e-5, 1e-4],
            "FDR": [1e-5, 1e-4, 1e-3],
            "Leading Edge": ["A;B;C;D", "A;B;C", "X;Y;Z"],
        }
    )
    out = cluster_terms(df, universe_size=1000)
    assert out["Cluster"].tolist() == [1, 1, 2]
    assert out["Representative"].tolist() == [True, False, True]


def test_model_rows_count_predicted_genes():
    df = pd.DataFrame(
        {
            "Term": ["listed", "model only"],
            "Adjusted P-value": [0.001, 0.002],
            "P-value": [1e-4, 2e-4],
            "Genes": ["A;B", ""],
            "Predicted Genes": ["C;D", "A;B;C;D"],
            "List Size": [20, 20],
        }
    )
    sets = term_gene_sets(df)
    assert sets == [frozenset("ABCD"), frozenset("ABCD")]
    assert cluster_terms(df)["Cluster"].tolist() == [1, 1]
    alone = cluster_terms(df, include_predicted=False)
    assert alone["Cluster"].tolist() == [1, 2]


def test_full_gene_sets_and_errors():
    df = _rows([("t1", ["A"], 0.01), ("t2", ["B"], 0.01)])
    sets = {"t1": ["A", "B", "C"], "t2": ["a", "b", "c"]}
    out = cluster_terms(df, gene_sets=sets, universe_size=100)
    assert out["Cluster"].tolist() == [1, 1]
    with pytest.raises(InputError, match="not in the given gene sets"):
        cluster_terms(df, gene_sets={"t1": ["A"]})
    with pytest.raises(InputError, match="between -1 and 1"):
        cluster_terms(df, threshold=2)
    with pytest.raises(InputError, match="--representatives needs"):
        representatives(df)
    assert cluster_terms(df.iloc[:0])["Cluster"].tolist() == []
    assert "kappa" in describe_rule() and "0.35" in describe_rule()
    assert "Jaccard" in describe_rule("jaccard", 0.5) and "0.5" in describe_rule("jaccard", 0.5)


# ------------------------------------------------------------------ GO Biological Process

GO_BP = BENCHMARK / "GO_Biological_Process_2023.gmt"
HALLMARK = BENCHMARK / "MSigDB_Hallmark_2020.gmt"
SIGNATURE = SHARED / "signatures" / "ageing_muscle_gtex.tsv"


def _strip_id(term: str) -> str:
    return re.sub(r"\s*\(GO:\d+\)$", "", term)


def _regulation_pairs(terms):
    """(child, parent) pairs 'Positive/Negative Regulation Of X' is_a 'Regulation Of X'."""
    names = {_strip_id(t): t for t in terms}
    out = []
    for name, term in names.items():
        m = re.match(r"(?:Positive|Negative) Regulation Of (.+)$", name)
        if m and f"Regulation Of {m.group(1)}" in names:
            out.append((term, names[f"Regulation Of {m.group(1)}"]))
    return out


@requires_shared
@pytest.mark.skipif(not SIGNATURE.is_file(), reason="needs ../shared/data/signatures (absent)")
def test_go_bp_parent_and_child_mhc_terms_fall_together():
    """Ageing muscle (top 100 up genes): the MHC class II parent/child terms form one cluster."""
    import gsea_plus

    sig = pd.read_csv(SIGNATURE, header=None, names=["gene", "score"], skiprows=1)
    genes = sig.sort_values("score", ascending=False)["gene"].head(100).tolist()
    df = cluster_terms(gsea_plus.enrich(genes, library=str(GO_BP), offline=True))
    by = {_strip_id(t): c for t, c in zip(df["Term"], df["Cluster"], strict=True)}
    family = [
        "Antigen Processing And Presentation Of Exogenous Peptide Antigen Via MHC Class II",
        "Antigen Processing And Presentation Of Peptide Antigen Via MHC Class II",
        "Antigen Processing And Presentation Of Exogenous Peptide Antigen",
        "Peptide Antigen Assembly With MHC Class II Protein Complex",
        "Peptide Antigen Assembly With MHC Protein Complex",
        "MHC Class II Protein Complex Assembly",
    ]
    assert {by[name] for name in family} == {1}
    significant = df[df["Cluster"].notna()]
    assert significant["Cluster"].nunique() < len(significant) / 2  # redundancy removed
    reps = significant[significant["Representative"]]
    assert reps["Cluster"].is_unique
    # each representative is its cluster's lowest adjusted p
    best = significant.groupby("Cluster")["Adjusted P-value"].min()
    assert np.allclose(reps.set_index("Cluster")["Adjusted P-value"].sort_index(), best)


@requires_shared
def test_go_bp_regulation_parents_and_children_cluster_together_more_than_chance():
    """GO's 'Positive Regulation Of X' is_a 'Regulation Of X': on Hallmark lists enriched in
    GO BP, such pairs fall in one cluster far more often than random pairs of terms do."""
    import gsea_plus
    from gsea_plus.library import load_library

    hallmark = load_library(str(HALLMARK), offline=True).to_dict()
    names = [
        "Epithelial Mesenchymal Transition",
        "Inflammatory Response",
        "Apoptosis",
        "Hypoxia",
        "TNF-alpha Signaling via NF-kB",
        "Coagulation",
    ]
    res = gsea_plus.enrich_many({n: hallmark[n] for n in names}, library=str(GO_BP), offline=True)
    out = cluster_terms(res)
    out = out[out["Cluster"].notna()]
    pairs = together = random_pairs = random_together = 0
    for _, g in out.groupby("List"):
        cluster = dict(zip(g["Term"], g["Cluster"], strict=True))
        for child, parent in _regulation_pairs(g["Term"]):
            pairs += 1
            together += cluster[child] == cluster[parent]
        counts = g["Cluster"].value_counts().to_numpy()
        random_pairs += len(g) * (len(g) - 1) // 2
        random_together += int((counts * (counts - 1) // 2).sum())
    assert pairs >= 50
    assert together / pairs >= 0.6
    assert random_together / random_pairs <= 0.1
