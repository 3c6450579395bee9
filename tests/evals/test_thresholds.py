"""Quality gates from --fail-under and the checked-in thresholds file."""

import pytest

from evals.scoring import metric_names
from evals.thresholds import (
    DEFAULT_PATH,
    Threshold,
    ThresholdError,
    check,
    load_thresholds,
    parse_fail_under,
    unknown_metrics,
)


def test_parse_fail_under():
    assert parse_fail_under(["hit@5=0.8", " mrr@10 = 0.5"]) == [
        Threshold("hit@5", "min", 0.8, "--fail-under"),
        Threshold("mrr@10", "min", 0.5, "--fail-under"),
    ]


@pytest.mark.parametrize("spec", ["hit@5", "hit@5=", "=0.5", "hit@5=high", "hit@5=nan"])
def test_parse_fail_under_rejects_malformed(spec):
    with pytest.raises(ThresholdError, match="METRIC=VALUE"):
        parse_fail_under([spec])


def test_only_the_matching_dataset_section_applies(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text(
        '[sample.min]\n"hit@5" = 0.9\n[sample.max]\nlatency_p95_ms = 500\n'
        '[other.min]\n"hit@5" = 0.1\n'
    )
    gates = load_thresholds(path, "sample")
    assert [(g.metric, g.bound, g.value) for g in gates] == [
        ("hit@5", "min", 0.9),
        ("latency_p95_ms", "max", 500.0),
    ]
    assert load_thresholds(path, "unknown-set") == []


@pytest.mark.parametrize(
    "text", ["[sample.min]\nhit = 'high'\n", "[sample]\nhit = 1\n", "not toml ["]
)
def test_malformed_thresholds_file(tmp_path, text):
    path = tmp_path / "t.toml"
    path.write_text(text)
    with pytest.raises(ThresholdError):
        load_thresholds(path, "sample")


def test_check_min_max_and_unmeasured():
    gates = [
        Threshold("hit@5", "min", 0.9, "f"),
        Threshold("latency_p95_ms", "max", 500, "f"),
        Threshold("faithfulness", "min", 0.5, "f"),
        Threshold("mrr@10", "min", 0.5, "f"),
    ]
    metrics = {"hit@5": 0.85, "latency_p95_ms": 650.0, "mrr@10": 0.5, "faithfulness": None}
    failures, skipped = check(metrics, gates)
    assert failures == [
        "hit@5 = 0.85, required >= 0.9 (f)",
        "latency_p95_ms = 650, required <= 500 (f)",
    ]
    assert skipped == ["faithfulness: not measured in this run (f)"]


def test_the_checked_in_file_names_only_real_metrics():
    known = metric_names(5, judged=True)
    for dataset in ("sample", "dev-questions"):
        gates = load_thresholds(DEFAULT_PATH, dataset)
        assert gates, dataset
        assert unknown_metrics(gates, known) == []
