"""One bootstrap, one permutation test, and the gate rule built on them (noise OR margin)."""

import numpy as np
import pytest

from evals import stats
from evals.scoring import answer_metrics

FACTS = stats.Metric("fact_recall", lambda e: e.get("fact"))
ABSTAIN = stats.Metric("abstain", lambda e: float(e["abstained"]) if "abstained" in e else None)


def items(values, key="fact", prefix="q"):
    return [{"id": f"{prefix}{i}", key: v} for i, v in enumerate(values)]


def test_an_interval_brackets_the_mean_and_narrows_with_more_items():
    few = FACTS.table(items([0.0, 1.0] * 5))[1]
    many = FACTS.table(items([0.0, 1.0] * 50))[1]
    low, high = stats.bootstrap_ci(few, stats.mean)
    wide = high - low
    assert low < 0.5 < high
    low, high = stats.bootstrap_ci(many, stats.mean)
    assert low < 0.5 < high and high - low < wide
    assert stats.bootstrap_ci(FACTS.table(items([1.0]))[1], stats.mean) is None
    assert stats.bootstrap_ci(FACTS.table(items([1.0] * 3))[1], stats.mean) == [1.0, 1.0]


def test_undefined_values_are_left_out_of_a_metric():
    data = items([1.0, None, 0.0, float("nan")])
    ids, table = FACTS.table(data)
    assert ids == ["q0", "q2"] and table.shape == (2, 1)
    assert FACTS.value(data) == 0.5
    assert FACTS.value(items([None])) is None


def test_pooled_shares_weigh_items_by_their_points_and_macro_f1_matches_by_hand():
    share = stats.Metric("s", lambda e: (e["share"], e["points"]), stats.pooled)
    data = [{"id": "a", "share": 1.0, "points": 30}, {"id": "b", "share": 0.0, "points": 10}]
    assert share.value(data) == pytest.approx(0.75)
    # gold 0 0 1 2, predicted 0 1 1 1: F1 class 0 = 2/3, class 1 = 2/4, class 2 = 0
    f1 = stats.macro_f1(3)
    values = np.array([[0, 0], [0, 1], [1, 1], [2, 1]], dtype=float)
    assert float(f1(values)) == pytest.approx((2 / 3 + 0.5 + 0.0) / 3)
    batch = np.stack([values, values[[0, 0, 0, 0]]])  # vectorised over resamples
    assert f1(batch).shape == (2,) and float(f1(batch)[1]) == 1.0


def test_a_collapse_on_a_small_set_fails_on_the_margin_though_the_test_cannot_see_it():
    """The issue's finding: four unanswerable questions going from 1.0 to 0.0 give p = 0.125."""
    base = items([1.0] * 4, key="abstained", prefix="u")
    broken = items([0.0] * 4, key="abstained", prefix="u")
    row = stats.compare_metric(ABSTAIN, broken, base, margin=0.05)
    assert row["p_value"] == pytest.approx(0.125)
    assert row["verdict"] == "worse" and row["reason"] == "beyond the margin"
    assert stats.compare_metric(ABSTAIN, broken, base, margin=None)["verdict"] == "same"


def test_a_broad_drop_is_beyond_noise_and_a_small_one_within_margin_and_noise_is_not():
    base = items([1.0] * 40)
    broad = items([0.5 if i < 20 else 1.0 for i in range(40)])
    row = stats.compare_metric(FACTS, broad, base, margin=0.5)
    assert row["verdict"] == "worse" and row["reason"] == "beyond noise" and row["p_value"] < 0.05
    assert row["ci"][0] < -0.25 < row["ci"][1]
    single = items([0.0 if i == 0 else 1.0 for i in range(40)])  # -0.025
    assert stats.compare_metric(FACTS, single, base, margin=0.05)["verdict"] == "same"
    assert stats.compare_metric(FACTS, single, base, margin=0.02)["verdict"] == "worse"


def test_only_shared_ids_are_paired_and_lower_is_better_is_respected():
    errors = stats.Metric("err", lambda e: e["err"], higher_is_better=False)
    base = [{"id": f"q{i}", "err": 1.0} for i in range(20)]
    ours = [{"id": f"q{i}", "err": 0.0} for i in range(10, 40)]
    row = stats.compare_metric(errors, ours, base, margin=0.05)
    assert row["paired_items"] == 10 and row["difference"] == -1.0 and row["verdict"] == "better"
    assert stats.compare_metric(errors, base, ours, margin=0.05)["verdict"] == "worse"


def test_items_that_do_not_pair_are_tested_unpaired():
    right = stats.Metric("precision", lambda e: e["right"], paired=False)
    base = [{"id": f"d{i}", "right": 1.0} for i in range(12)]
    ours = [{"id": f"x{i}", "right": float(i % 4 == 0)} for i in range(12)]
    row = stats.compare_metric(right, ours, base, margin=0.1)
    assert row["paired_items"] is None and row["verdict"] == "worse" and row["p_value"] < 0.05


def test_one_changed_item_among_many_is_noise_whatever_the_summation_order():
    """Found by the rebase: one MRR of 36 moving 0.2 -> 0.167 was reported as p = 0.0002, because
    a batch of resamples sums in another order than the observed sample."""
    values = [1.0] * 17 + [0.25, 0.5, 1.0, 1.0, 1.0, 0.2, 0.5, 1.0, 1.0, 1.0, 0.5] + [1.0] * 8
    base = items(values)
    ours = items([1 / 6 if v == 0.2 else v for v in values])  # the rebase's MRR values
    row = stats.compare_metric(FACTS, ours, base, margin=0.03)
    assert row["p_value"] > 0.5 and row["verdict"] == "same"


def test_a_single_paired_item_is_judged_by_the_margin_alone():
    row = stats.compare_metric(FACTS, items([0.0]), items([1.0]), margin=0.05)
    assert (
        row["p_value"] == 1.0 and row["verdict"] == "worse" and row["reason"] == "beyond the margin"
    )


def test_machine_dependent_metrics_are_never_compared():
    latency = next(m for m in answer_metrics(5) if m.name == "latency_p95_ms")
    base = [{"id": "a", "latency_ms": 10.0}, {"id": "b", "latency_ms": 20.0}]
    slow = [{"id": "a", "latency_ms": 1e6}, {"id": "b", "latency_ms": 1e6}]
    assert stats.compare_metric(latency, slow, base, margin=0.0)["verdict"] == "untested"
