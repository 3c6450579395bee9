"""Bootstrap intervals over questions and paired tests against a baseline run."""

from evals.stats import bootstrap_ci, compare, confidence_intervals, item_values, significant_drops


def entry(id_, fact, abstained=False, answerable=True, latency=100.0):
    return {
        "id": id_,
        "answerable": answerable,
        "abstained": abstained,
        "scores": {"fact_recall": fact if answerable else None},
        "must_not_include": [],
        "must_not_include_found": [],
        "scope_leaks": [],
        "latency_ms": latency,
    }


def test_an_interval_brackets_the_mean_and_narrows_with_more_questions():
    few = bootstrap_ci([0.0, 1.0] * 5, lambda x, axis=-1: x.mean(axis=axis))
    many = bootstrap_ci([0.0, 1.0] * 50, lambda x, axis=-1: x.mean(axis=axis))
    assert few[0] < 0.5 < few[1] and many[0] < 0.5 < many[1]
    assert many[1] - many[0] < few[1] - few[0]
    assert bootstrap_ci([1.0], lambda x, axis=-1: x.mean(axis=axis)) is None
    assert bootstrap_ci([1.0, 1.0, 1.0], lambda x, axis=-1: x.mean(axis=axis)) == [1.0, 1.0]


def test_rates_are_per_item_flags_over_the_right_items():
    entries = [entry("a", 1.0), entry("b", 0.5, abstained=True), entry("u", None, True, False)]
    assert item_values(entries, "false_abstain_rate") == {"a": 0.0, "b": 1.0}
    assert item_values(entries, "abstain_rate_unanswerable") == {"u": 1.0}
    assert item_values(entries, "fact_recall") == {"a": 1.0, "b": 0.5}
    intervals = confidence_intervals(entries, ["fact_recall", "latency_p95_ms", "scope_leaks"])
    assert intervals["latency_p95_ms"] == [100.0, 100.0] and intervals["scope_leaks"] == [0.0, 0.0]


def test_a_broad_drop_is_beyond_noise_and_a_single_item_is_not():
    base = [entry(f"q{i}", 1.0) for i in range(30)]
    broad = [entry(f"q{i}", 0.5 if i < 12 else 1.0) for i in range(30)]
    single = [entry(f"q{i}", 0.0 if i == 0 else 1.0) for i in range(30)]

    drop = compare(broad, base, ["fact_recall", "latency_p95_ms"])
    assert drop["fact_recall"]["verdict"] == "worse" and drop["fact_recall"]["p_value"] < 0.05
    assert drop["latency_p95_ms"]["verdict"] == "untested"
    assert len(significant_drops(drop)) == 1

    noise = compare(single, base, ["fact_recall"])
    assert noise["fact_recall"]["verdict"] == "same" and significant_drops(noise) == []


def test_only_shared_question_ids_are_paired_and_lower_is_better_for_error_rates():
    base = [entry(f"q{i}", 1.0, abstained=True) for i in range(20)]
    ours = [entry(f"q{i}", 1.0) for i in range(10, 40)]
    result = compare(ours, base, ["false_abstain_rate"])["false_abstain_rate"]
    assert result["paired_items"] == 10
    assert result["mean_difference"] == -1.0 and result["verdict"] == "better"
