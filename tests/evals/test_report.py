"""report.json and report.md: keys, tables, deltas against a baseline, worst items."""

import json

import pytest

from evals.report import (
    ReportError,
    build_report,
    delta,
    load_baseline,
    metrics_table,
    render_markdown,
    write_report,
)


def entry(id_, quality, category="stack", **extra):
    return {
        "id": id_,
        "category": category,
        "client": None,
        "answerable": True,
        "abstained": False,
        "quality": quality,
        "retrieved": ["playbooks/x.md", "playbooks/gold.md"],
        "gold_sources": ["playbooks/gold.md"],
        "must_include_missing": ["managed Postgres"],
        "must_not_include_found": [],
        "scores": {"hit@5": quality},
        **extra,
    }


def report(metrics=None, items=None):
    metrics = metrics or {
        "hit@5": 0.8,
        "ndcg@10": 0.5,
        "citation_validity": None,
        "false_abstain_rate": 0.1,
        "scope_leaks": 0,
        "latency_p95_ms": 120.4,
    }
    items = items if items is not None else [entry(f"q-{i:02d}", i / 20) for i in range(12)]
    by_cat = {"stack": {"n": 12, "hit@5": 0.8}}
    config = {"dataset_name": "sample", "system": "ours", "k": 5, "out": "reports/x"}
    return build_report(metrics, by_cat, items, config, {"hit@5": 12}, ["a note"])


def test_json_has_the_contract_keys_and_nulls(tmp_path):
    json_path, md_path = write_report(report(), tmp_path / "out")
    data = json.loads(json_path.read_text())
    assert {"metrics", "by_category", "items", "config"} <= set(data)
    assert data["metrics"]["citation_validity"] is None
    assert len(data["items"]) == 12
    assert md_path.exists()


def test_nan_never_reaches_the_json(tmp_path):
    with pytest.raises(ValueError):
        write_report(report(metrics={"hit@5": float("nan")}), tmp_path)


def with_parts(run, tuning=None, test=None):
    run["parts"] = {
        "tuning": {"items": 7, "metrics": tuning or run["metrics"], "ci": {"hit@5": [0.6, 0.95]}},
        "test": {"items": 5, "metrics": test or run["metrics"], "ci": {}},
    }
    return run


def test_markdown_tables_show_both_parts_without_baseline():
    md = render_markdown(with_parts(report(), test={"hit@5": 0.5}))
    assert "| metric | all | tuning (n=7) | 95% CI | test (frozen) (n=5) | 95% CI |" in md
    assert "| hit@5 | 0.800 | 0.800 | [0.600, 0.950] | 0.500 |  |" in md
    assert "| citation_validity | n/a | n/a |  | n/a |  |" in md
    assert "| latency_p95_ms | 120 | 120 |  | n/a |  |" in md
    assert "## By category" in md and "| stack | 12 | 0.800 |" in md
    assert "- a note" in md


def test_markdown_deltas_and_each_parts_verdict_against_a_baseline():
    base = report(
        metrics={"hit@5": 0.7, "ndcg@10": 0.6, "false_abstain_rate": 0.2, "latency_p95_ms": 100}
    )
    run = with_parts(report())
    run["comparison"] = {
        "tuning": {"hit@5": {"p_value": 0.01, "verdict": "better", "reason": ""}},
        "test": {
            "hit@5": {"p_value": 0.25, "verdict": "worse", "reason": "beyond the margin"},
            "ndcg@10": {"p_value": 0.4, "verdict": "same", "reason": ""},
        },
    }
    md = render_markdown(run, base)
    assert "| baseline | delta |  | tuning verdict | test verdict |" in md
    assert (
        "| 0.700 | +0.100 | better | better (p 0.010) | worse: beyond the margin (p 0.250) |" in md
    )
    assert (
        "| ndcg@10 | 0.500 | 0.500 |  | 0.500 |  | 0.600 | -0.100 | worse |  | same (p 0.400) |"
        in md
    )
    assert "| false_abstain_rate | 0.100 |" in md and "| -0.100 | better |" in md  # lower is better
    assert "| scope_leaks | 0 | 0 |  | 0 |  | n/a |  |  |" in md  # not in the baseline


def test_worst_ten_items_with_retrieved_versus_gold():
    md = render_markdown(report())
    worst = md.split("## Worst 10 items")[1]
    assert "q-00" in worst and "q-09" in worst and "q-10" not in worst
    assert "playbooks/x.md<br>**playbooks/gold.md**" in worst
    assert "managed Postgres" in worst


def test_delta_directions():
    assert delta("hit@5", 0.5, 0.5) == ("+0.000", "")
    assert delta("latency_p50_ms", 90.0, 100.0) == ("-10", "better")
    assert delta("hit@5", None, 0.5) == ("", "")


def test_metrics_table_has_a_row_per_metric():
    table = metrics_table(with_parts(report()))
    assert table.row_count == 6
    assert [c.header for c in metrics_table(with_parts(report()), report()).columns] == [
        "metric",
        "all",
        "tuning (n=7)",
        "95% CI",
        "test (frozen) (n=5)",
        "95% CI",
        "delta",
        "verdict (tuning / test)",
    ]


def test_load_baseline_rejects_non_reports(tmp_path):
    (tmp_path / "bad.json").write_text("{not json")
    (tmp_path / "other.json").write_text('{"items": []}')
    with pytest.raises(ReportError, match="cannot read"):
        load_baseline(tmp_path / "bad.json")
    with pytest.raises(ReportError, match="no 'metrics'"):
        load_baseline(tmp_path / "other.json")
    write_report(report(), tmp_path)
    assert load_baseline(tmp_path / "report.json")["metrics"]["hit@5"] == 0.8
