"""Metric functions against hand-computed cases."""

import math

import pytest

from evals import metrics as m


def test_dedupe_keeps_first_occurrence_in_rank_order():
    assert m.dedupe(["a", "b", "a", "c", "b"]) == ["a", "b", "c"]


def test_hit_at_k_counts_documents_not_chunks():
    ranked = ["x", "x", "x", "y", "gold"]  # five chunks, but gold is the 3rd document
    assert m.hit_at_k(ranked, ["gold"], k=3) == 1.0
    assert m.hit_at_k(ranked, ["gold"], k=2) == 0.0


def test_recall_with_two_golds_one_retrieved():
    assert m.recall_at_k(["g1", "x", "y"], ["g1", "g2"], k=5) == 0.5


def test_recall_undefined_without_gold():
    assert m.recall_at_k(["a"], [], k=5) is None


def test_mrr_when_the_gold_is_at_rank_3():
    assert m.mrr_at_k(["a", "b", "gold", "d"], ["gold"]) == pytest.approx(1 / 3)


def test_mrr_ranks_after_dedupe_and_is_zero_beyond_k():
    assert m.mrr_at_k(["a", "a", "gold"], ["gold"]) == 0.5
    assert m.mrr_at_k(["a", "b", "gold"], ["gold"], k=2) == 0.0


def test_ndcg_with_several_gold_sources():
    # dcg = 1/log2(2) + 1/log2(4) = 1.5; ideal (3 golds) = 1 + 1/log2(3) + 1/log2(4)
    ideal = 1 + 1 / math.log2(3) + 0.5
    assert m.ndcg_at_k(["g1", "x", "g2"], ["g1", "g2", "g3"]) == pytest.approx(1.5 / ideal)
    assert m.ndcg_at_k(["g1", "x", "g2"], ["g1", "g2", "g3"]) == pytest.approx(0.70392, abs=1e-5)


def test_ndcg_counts_a_gold_retrieved_twice_once():
    # Deduped: [g, x, h] -> dcg = 1 + 1/log2(4) = 1.5; ideal (2 golds) = 1 + 1/log2(3).
    expected = 1.5 / (1 + 1 / math.log2(3))
    assert m.ndcg_at_k(["g", "g", "x", "h"], ["g", "h"]) == pytest.approx(expected)
    assert m.ndcg_at_k(["g", "g", "x", "h"], ["g", "h"]) == pytest.approx(0.91972, abs=1e-5)


def test_ndcg_perfect_and_empty():
    assert m.ndcg_at_k(["g1", "g2", "x"], ["g2", "g1"]) == pytest.approx(1.0)
    assert m.ndcg_at_k([], ["g"]) == 0.0
    assert m.ndcg_at_k(["a"], []) is None


def test_fact_recall_is_case_insensitive_share():
    answer = "Start with a MODULAR MONOLITH until you have about 25 engineers."
    assert m.fact_recall(answer, ["modular monolith", "25 engineers", "Kubernetes"]) == 2 / 3
    assert m.fact_recall(answer, []) is None


def test_fact_recall_normalises_quotes_dashes_whitespace_and_markup():
    answer = "Review in 3\u20135 people,\nthe team\u2019s   **no forced ranking** rule [2] applies."
    phrases = ["3-5 people", "team's no", "no forced ranking rule applies"]
    assert m.fact_recall(answer, phrases) == 1.0


def test_citation_markers_parse_lists_and_ignore_non_numbers():
    assert m.citation_markers("See [1][2], also [3, 4] and [a] or [x1].") == [1, 2, 3, 4]


def test_citation_validity_with_invented_markers():
    markers = m.citation_markers("Use Postgres [1]. Hire slowly [7]. Ship daily [2] [9].")
    assert m.citation_validity(markers, valid={1, 2, 3}) == 0.5


def test_citation_validity_undefined_without_markers():
    assert m.citation_validity([], valid={1}) is None


def test_citation_precision_over_distinct_cited_documents():
    assert m.citation_precision(["g", "g", "x"], ["g"]) == 0.5
    assert m.citation_precision([], ["g"]) is None


def test_percentile_interpolates_like_numpy():
    assert m.percentile([40, 10, 30, 20], 50) == 25
    assert m.percentile([10, 20, 30, 40], 95) == pytest.approx(38.5)
    assert m.percentile([], 50) is None


def test_mean_leaves_out_none_and_nan():
    assert m.mean([1.0, None, float("nan"), 0.0]) == 0.5
    assert m.mean([None]) is None
    assert m.rate([True, False, False, True]) == 0.5


def test_fact_recall_matches_whole_words_only():
    answer = "We default to JavaScript and TypeScript; Javaland is a conference."
    assert m.fact_recall(answer, ["Java"]) == 0.0
    assert m.fact_recall("Core languages: Java, Ruby and Python.", ["Java", "Ruby"]) == 1.0
    assert m.fact_recall("Hire 25 engineers", ["5 engineers"]) == 0.0


def test_fact_recall_ignores_punctuation_between_words_but_keeps_symbols():
    answer = "Move once spend passes $15,000 per month (about 40%)."
    assert m.fact_recall(answer, ["$15,000 per month", "15,000", "40%"]) == 1.0
    assert m.fact_recall(answer, ["$40"]) == 0.0
    assert m.fact_recall("Use a follow the sun rotation", ["follow-the-sun"]) == 1.0
    assert m.fact_recall("We write C code.", ["C++"]) == 0.0


def test_malformed_markers_are_found_and_valid_ones_are_not():
    answer = (
        "Ship small [1]. Roll back fast [1-3], see [^2] and [ 4 ] or [source 5]; in [2026] too."
    )
    # [1-3], [^2] and [ 4 ] are markers in the citation grammar; "[source 5]" is not, and counts.
    assert m.malformed_markers(answer) == ["[source 5]"]
    assert m.malformed_markers("Fine [1][2] and [3, 4] and [note].") == []
