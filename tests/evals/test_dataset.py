"""The dataset validator: good items load, each malformation is reported with its line number."""

import json
from pathlib import Path

import pytest

from evals.dataset import DatasetError, load_dataset, parse_dataset
from tests.conftest import ROOT, SAMPLE_DATA

GOOD = {
    "id": "q-1",
    "question": "Which database should we start on?",
    "client": None,
    "category": "stack",
    "answerable": True,
    "gold_sources": ["playbooks/stack.md"],
    "must_include": ["Postgres"],
    "must_not_include": [],
}


def line(**changes) -> str:
    data = {**GOOD, **changes}
    return json.dumps({k: v for k, v in data.items() if v is not ...})


def test_a_good_item_with_unknown_fields_loads():
    [(number, item)], problems = parse_dataset([line(notes="ignored", extra=1)])
    assert problems == []
    assert number == 1
    assert item.final_question == GOOD["question"]
    assert item.gold_sources == ["playbooks/stack.md"]


def test_optional_fields_default_and_sources_are_normalised():
    [(_, item)], _ = parse_dataset(
        [line(client=..., must_include=..., must_not_include=..., gold_sources=["./a\\b.md"])]
    )
    assert item.client is None
    assert item.must_include == [] and item.must_not_include == []
    assert item.gold_sources == ["a/b.md"]


def test_multi_turn_item_scores_the_last_turn():
    [(_, item)], _ = parse_dataset([line(question=..., turns=["Who is on call?", "And after?"])])
    assert item.all_turns == ["Who is on call?", "And after?"]
    assert item.final_question == "And after?"


def test_unanswerable_item_needs_no_gold():
    [(_, item)], problems = parse_dataset([line(answerable=False, gold_sources=[])])
    assert problems == [] and not item.answerable


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        ('{"id": "q-2", "question": ', "invalid JSON"),
        ("[1, 2]", "expected a JSON object"),
        (line(category=...), "category"),
        (line(category="sales"), "category"),
        (line(answerable="maybe"), "answerable"),
        (line(id=""), "id"),
        (line(turns=["a", "b"]), "exactly one of 'question' or 'turns'"),
        (line(question=...), "exactly one of 'question' or 'turns'"),
        (line(question=..., turns=[]), "turns"),
        (line(question="   "), "question is empty"),
        (line(gold_sources=[]), "needs at least one gold source"),
        (line(gold_sources="playbooks/stack.md"), "gold_sources"),
    ],
)
def test_each_malformation_is_reported_with_its_line_number(bad, expected):
    items, problems = parse_dataset([line(id="q-0"), "", bad])
    assert len(items) == 1
    assert len(problems) == 1
    assert problems[0].startswith("line 3: ")
    assert expected in problems[0]


def test_duplicate_id_names_both_lines():
    _, problems = parse_dataset([line(), line(question="Another?")])
    assert problems == ["line 2: duplicate id 'q-1' (first on line 1)"]


def test_load_dataset_lists_every_bad_line(tmp_path):
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join([line(), "{oops", line(id="q-2", category="x")]) + "\n")
    with pytest.raises(DatasetError) as info:
        load_dataset(path)
    assert [p.split(":")[0] for p in info.value.problems] == ["line 2", "line 3"]
    assert str(path) in str(info.value)


def test_gold_sources_must_exist_in_the_corpus(tmp_path):
    (tmp_path / "playbooks").mkdir()
    (tmp_path / "playbooks" / "stack.md").write_text("# Stack\n")
    path = tmp_path / "set.jsonl"
    path.write_text(line() + "\n" + line(id="q-2", gold_sources=["playbooks/gone.md"]) + "\n")
    with pytest.raises(DatasetError) as info:
        load_dataset(path, corpus=tmp_path)
    assert info.value.problems == ["line 2: gold source not found in the corpus: playbooks/gone.md"]


def test_missing_or_empty_file_is_an_error(tmp_path):
    with pytest.raises(DatasetError, match="cannot read"):
        load_dataset(tmp_path / "nope.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(DatasetError, match="empty"):
        load_dataset(tmp_path / "empty.jsonl")


def test_the_checked_in_sample_dataset_fits_the_sample_corpus():
    path = ROOT / "evals" / "datasets" / "sample.jsonl"
    if not path.exists():
        pytest.skip("evals/datasets/sample.jsonl not written yet")
    items = load_dataset(path, corpus=SAMPLE_DATA)
    assert len(items) >= 30
    assert sum(not i.answerable for i in items) >= 5
    assert sum(i.client is not None for i in items) >= 3


def test_the_shared_dev_dataset_fits_the_dev_corpus(shared_corpora: Path):
    items = load_dataset(shared_corpora / "dev-questions.jsonl", corpus=shared_corpora / "dev")
    assert len(items) == 30
