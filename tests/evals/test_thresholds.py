"""Quality gates from --fail-under and the checked-in thresholds file."""

import pytest

from evals.scoring import metric_names
from evals.thresholds import (
    DEFAULT_PATH,
    Threshold,
    ThresholdError,
    check,
    load_gates,
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
    failures, skipped = check(metrics, gates, optional=["faithfulness"])
    assert failures == [
        "hit@5 = 0.85, required >= 0.9 (f)",
        "latency_p95_ms = 650, required <= 500 (f)",
    ]
    assert skipped == ["faithfulness: not measured in this run (f), declared optional"]


def test_a_gated_metric_the_run_does_not_report_fails_unless_optional():
    gates = [
        Threshold("faithfulness", "min", 0.5, "f"),
        Threshold("citation_validity", "min", 1, "f"),
    ]
    failures, skipped = check({"citation_validity": None}, gates)
    assert len(failures) == 2 and skipped == []
    assert "faithfulness: not measured in this run (f); declare it optional" in failures[0]


def test_a_missing_thresholds_file_is_an_error_not_no_gates(tmp_path):
    with pytest.raises(ThresholdError, match="cannot read the thresholds file"):
        load_gates(tmp_path / "absent.toml", "sample")


def test_a_section_declares_optional_metrics_and_its_baseline_next_to_the_file(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text(
        '[sample]\nbaseline = "baselines/sample.json"\noptional = ["faithfulness"]\n'
        '[sample.min]\n"hit@5" = 0.9\n'
    )
    gates = load_gates(path, "sample")
    assert gates.baseline == tmp_path / "baselines" / "sample.json"
    assert gates.optional == {"faithfulness"} and len(gates.thresholds) == 1
    assert not load_gates(path, "other").found


def test_the_checked_in_file_names_only_real_metrics():
    known = metric_names(5, judged=True)
    for dataset in ("sample", "dev-questions"):
        gates = load_gates(DEFAULT_PATH, dataset)
        assert gates.thresholds, dataset
        assert unknown_metrics(gates.thresholds, known) == []
        assert gates.baseline is not None and gates.baseline.is_file(), dataset


def test_margins_are_shared_and_a_dataset_may_override_them(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text(
        '[margins]\nfact_recall = 0.05\n"mrr@10" = 0.03\n'
        '[sample]\nbaseline = "b.json"\n[sample.margins]\nfact_recall = 0.1\n'
        "[nobase.max]\nscope_leaks = 0\n"
    )
    assert load_gates(path, "sample").margins == {"fact_recall": 0.1, "mrr@10": 0.03}
    assert load_gates(path, "nobase").margins == {}, "no baseline, nothing to compare with"
    path.write_text('[margins]\nfact_recall = -1\n[sample]\nbaseline = "b.json"\n')
    with pytest.raises(ThresholdError, match="margin"):
        load_gates(path, "sample")


def test_every_checked_in_baseline_section_has_margins_for_its_quality_metrics():
    for dataset in ("sample", "dev-questions", "dev-extra", "llm-replay", "memos", "memos-dev",
                    "assessment"):  # fmt: skip
        margins = load_gates(DEFAULT_PATH, dataset).margins
        assert margins, dataset
        assert margins.get("mrr@10") == 0.03 and margins.get("fact_recall") == 0.05
