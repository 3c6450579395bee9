"""`cto-advisor eval` end to end on a tiny corpus: reports, gates and exit codes."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from interfaces.cli import _register
from interfaces.cli.base import app
from tests.evals.tiny_corpus import ITEMS, write_corpus, write_dataset

_register()
runner = CliRunner()


@pytest.fixture
def corpus(tmp_path):
    return write_corpus(tmp_path)


@pytest.fixture
def dataset(tmp_path):
    return write_dataset(tmp_path / "tiny.jsonl")


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    """One corpus and data dir shared by the tests that run our system (ingest once)."""
    root = tmp_path_factory.mktemp("ours")
    return write_corpus(root), root / "advisor-data"


@pytest.fixture
def ours_corpus(indexed, monkeypatch):
    corpus, data_dir = indexed
    monkeypatch.setenv("ADVISOR_DATA_DIR", str(data_dir))
    return corpus


def run(*args: str):
    return runner.invoke(app, ["eval", *map(str, args)], catch_exceptions=False)


def test_naive_run_writes_both_reports_and_exits_0(tmp_path, corpus, dataset, embeddings):
    out = tmp_path / "out"
    result = run("--corpus", corpus, "--dataset", dataset, "--out", out, "--system", "naive")
    assert result.exit_code == 0, result.output
    assert "hit@5" in result.stdout and "mrr@10" in result.stdout

    report = json.loads((out / "report.json").read_text())
    assert set(report) >= {"metrics", "by_category", "items", "config"}
    assert report["config"]["system"] == "naive" and report["config"]["k"] == 5
    assert [i["id"] for i in report["items"]] == [i["id"] for i in ITEMS]
    assert report["metrics"]["hit@5"] == 1.0
    assert report["metrics"]["citation_validity"] is None  # naive does not cite
    assert report["metrics"]["abstain_rate_unanswerable"] == 0.0  # and never abstains
    assert report["metrics"]["faithfulness"] is None  # nothing cited, nothing to check
    assert "faithfulness_llm" not in report["metrics"]  # no judge asked for: absent, not zero
    assert report["parts"]["tuning"]["items"] == len(ITEMS)  # no declared split: all tuning
    acme = next(i for i in report["items"] if i["id"] == "t-3")
    assert acme["retrieved"][0] == "clients/acme/roster.md"
    assert "clients/globex/roster.md" not in acme["retrieved"]
    assert "## Worst" in (out / "report.md").read_text()
    assert any(n.startswith("naive system: its answer is the top 3") for n in report["notes"])

    # --k renames the cut-off metrics; --baseline adds deltas to report.md.
    again = run(
        "--corpus",
        corpus,
        "--dataset",
        dataset,
        "--out",
        tmp_path / "k3",
        "--system",
        "naive",
        "--k",
        "3",
        "--baseline",
        out / "report.json",
    )
    assert again.exit_code == 0, again.output
    metrics = json.loads((tmp_path / "k3" / "report.json").read_text())["metrics"]
    assert "hit@3" in metrics and "hit@5" not in metrics
    md = (tmp_path / "k3" / "report.md").read_text()
    assert (
        "| mrr@10 | 1.000 | 1.000 | [1.000, 1.000] | n/a |  | 1.000 | +0.000 |  | same (p 1.000) |"
        in md
    )


def test_failing_fail_under_exits_1_and_names_it(tmp_path, corpus, dataset, embeddings):
    result = run(
        "--corpus",
        corpus,
        "--dataset",
        dataset,
        "--out",
        tmp_path / "out",
        "--system",
        "naive",
        "--fail-under",
        "hit@5=0.5",
        "--fail-under",
        "fact_recall=1.01",
    )
    assert result.exit_code == 1
    assert "fact_recall" in result.stderr and "required >= 1.01" in result.stderr
    assert "hit@5 =" not in result.stderr  # the passing gate is not reported as failed
    assert (tmp_path / "out" / "report.json").exists()  # the report is written regardless


def test_malformed_dataset_exits_2_before_any_work(tmp_path, corpus):
    bad = tmp_path / "bad.jsonl"
    write_dataset(bad, [ITEMS[0], {**ITEMS[1], "category": "sales"}])
    with bad.open("a") as f:
        f.write("{not json\n")
    result = run("--corpus", corpus, "--dataset", bad, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert "line 2:" in result.stderr and "line 3:" in result.stderr
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "advisor-data" / "evals").exists()  # nothing was indexed


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--corpus", "missing-dir"], "does not exist"),
        (["--fail-under", "hit@5"], "METRIC=VALUE"),
        (["--fail-under", "hit@7=0.5"], "unknown metric"),
        (["--system", "magic"], "--system"),
        (["--baseline", "nope.json"], "baseline"),
        (["--thresholds", "nope.toml"], "thresholds"),
    ],
)
def test_bad_input_exits_2(tmp_path, corpus, dataset, args, message):
    base = ["--corpus", corpus, "--dataset", dataset, "--out", tmp_path / "out"]
    result = run(*base, *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_ours_end_to_end_with_the_thresholds_file(tmp_path, ours_corpus, embeddings):
    corpus = ours_corpus
    # The client, multi-turn and unanswerable items: enough to cover ours, and quick.
    dataset = write_dataset(tmp_path / "tiny.jsonl", ITEMS[2:])
    thresholds = tmp_path / "gates.toml"
    thresholds.write_text(
        '[tiny]\noptional = ["recall@7"]\n'
        '[tiny.min]\n"hit@5" = 0.5\nfaithfulness_llm = 0.9\n"recall@7" = 0.1\n'
        "[tiny.max]\nscope_leaks = 0\nmust_not_include_violations = -1\n"
        '[other.min]\n"hit@5" = 1.1\n'
    )
    out = tmp_path / "out"
    saved = tmp_path / "baselines" / "tiny.json"
    result = run(
        "--corpus", corpus, "--dataset", dataset, "--out", out, "--thresholds", thresholds,
        "--save-baseline", saved,
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "must_not_include_violations = 0, required <= -1" in result.stderr
    assert "hit@5 =" not in result.stderr  # [other] does not apply to tiny.jsonl
    assert "skipped:" in result.stderr and "recall@7" in result.stderr  # declared optional
    assert "FAILED: faithfulness_llm: not measured in this run" in result.stderr  # not optional

    # Against its own saved run as the checked-in baseline: nothing moved, the gates pass.
    thresholds.write_text('[tiny]\nbaseline = "baselines/tiny.json"\n')
    again = run("--corpus", corpus, "--dataset", dataset, "--out", out, "--thresholds", thresholds)
    assert again.exit_code == 0, again.output
    assert "same (p 1.000)" in (out / "report.md").read_text()
    # A baseline of another mode cannot be compared: that is a failure, not a pass.
    base = json.loads(saved.read_text())
    saved.write_text(json.dumps({**base, "config": {**base["config"], "mode": "llm"}}))
    other = run("--corpus", corpus, "--dataset", dataset, "--out", out, "--thresholds", thresholds)
    assert other.exit_code == 1 and "another system, mode or k" in other.stderr

    report = json.loads((out / "report.json").read_text())
    metrics = report["metrics"]
    assert report["config"]["system"] == "ours" and report["config"]["mode"] == "offline"
    assert metrics["hit@5"] == 1.0
    assert metrics["scope_leaks"] == 0 and metrics["must_not_include_violations"] == 0
    assert metrics["citation_validity"] is not None
    assert metrics["abstain_rate_unanswerable"] is not None
    assert metrics["faithfulness"] == 1.0  # offline answers quote the passages they cite
    assert "faithfulness_llm" not in metrics
    multi = next(i for i in report["items"] if i["id"] == "t-4")
    assert multi["turns"] == ITEMS[3]["turns"] and multi["retrieved"][0] == "playbooks/incidents.md"


@pytest.mark.slow
def test_with_a_model_and_judge_llm_faithfulness_is_judged_once_and_cached(
    tmp_path, ours_corpus, embeddings, monkeypatch
):
    corpus = ours_corpus
    from tests.fakes.openai_server import FakeOpenAI, messages_text

    verdict = '{"claims": [{"claim": "a", "supported": true}, {"claim": "b", "supported": false}]}'

    def reply(request):
        text = messages_text(request)
        if "faithful to its sources" in text:
            return verdict
        return json.dumps({"covered": True, "recommendation": ["Start on managed Postgres [1]."]})

    dataset = write_dataset(tmp_path / "tiny.jsonl", ITEMS[:1])
    args = ["--corpus", corpus, "--dataset", dataset, "--out", tmp_path / "out"]
    with FakeOpenAI(reply) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        unjudged = run(*args)
        assert not [r for r in server.requests if "faithful to" in messages_text(r)]
        assert (
            "faithfulness_llm"
            not in json.loads((tmp_path / "out/report.json").read_text())["metrics"]
        )
        first = run(*args, "--judge", "llm", "--fail-under", "faithfulness_llm=0.4")
        judge_calls = [r for r in server.requests if "faithful to" in messages_text(r)]
        second = run(*args, "--judge", "llm")
        judge_calls_after = [r for r in server.requests if "faithful to" in messages_text(r)]

    assert unjudged.exit_code == 0, unjudged.output
    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["config"]["mode"] == "llm"
    assert report["metrics"]["faithfulness_llm"] == 0.5
    assert report["items"][0]["scores"]["faithfulness_llm"] == 0.5
    assert report["metrics"]["faithfulness"] is not None  # the claim check runs regardless
    judged = messages_text(judge_calls[0])
    assert "Start on managed Postgres [1]." in judged  # the answer ...
    assert "Start every new SaaS product on managed Postgres" in judged  # ... and its source
    assert len(judge_calls) == 1 and len(judge_calls_after) == 1  # the re-run used the cache
    assert report["config"]["judge_calls"] == 0


@pytest.mark.slow
def test_llm_mode_counts_invented_and_malformed_markers_against_validity(
    tmp_path, ours_corpus, monkeypatch
):
    from tests.fakes.openai_server import FakeOpenAI, Replay

    replay = Replay(
        [
            {
                "when": ["Question:"],
                "reply": json.dumps(
                    {"recommendation": ["Use managed Postgres [1], see [9] and [source 2]."]}
                ),
            },
        ]
    )
    dataset = write_dataset(tmp_path / "tiny.jsonl", ITEMS[:1])
    thresholds = tmp_path / "gates.toml"
    thresholds.write_text("[tiny.min]\ncitation_validity = 0.9\n")
    out = tmp_path / "out"
    with FakeOpenAI(replay) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        result = run(
            "--corpus", ours_corpus, "--dataset", dataset, "--out", out, "--thresholds", thresholds
        )  # fmt: skip
    assert result.exit_code == 1, result.output
    item = json.loads((out / "report.json").read_text())["items"][0]
    assert item["mode"] == "llm" and item["invented_markers"] == 1
    assert item["malformed_markers"] == ["[source 2]"]
    assert item["scores"]["citation_validity"] == pytest.approx(1 / 3)
    assert "citation_validity = 0.3333, required >= 0.9" in result.stderr


def test_an_edited_frozen_test_item_is_refused_before_any_work(tmp_path):
    from evals.splits import load_splits
    from tests.conftest import ROOT, SAMPLE_DATA

    frozen = load_splits()["sample"].test
    lines = (ROOT / "evals/datasets/sample.jsonl").read_text().splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    target = next(r for r in rows if r["id"] in frozen)
    target["must_include"] = ["an easier fact"]
    dataset = write_dataset(tmp_path / "sample.jsonl", rows)
    result = run("--corpus", SAMPLE_DATA, "--dataset", dataset, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert "frozen test part of sample changed" in result.stderr and target["id"] in result.stderr
    assert not (tmp_path / "out").exists()
