"""Frozen test parts: every dataset has one, CI verifies its digest, edits are refused."""

import json

import pytest
import yaml

from evals.splits import (
    DEFAULT_PATH,
    TEST,
    TUNING,
    FrozenSplitError,
    load_splits,
    render_section,
    stratified_test_ids,
    verified_split,
)
from tests.conftest import ROOT, SHARED

DATASETS = sorted((ROOT / "evals/datasets").glob("*.jsonl")) + [
    ROOT / "evals/datasets/assessment.yaml"
]


def test_every_checked_in_dataset_declares_a_frozen_part_that_matches_its_digest():
    declared = load_splits()
    for path in DATASETS:
        assert path.stem in declared, f"{path.name} has no frozen test part in splits.toml"
        split = verified_split(path)  # raises on any edited, renamed or removed test item
        assert split.test, path.name
    assert "dev-questions" in declared


def test_the_shared_dev_questions_are_split_by_a_declared_id_list(shared_corpora):
    split = verified_split(shared_corpora / "dev-questions.jsonl")
    assert len(split.test) == 15
    assert split.part_of("dev-001") in (TUNING, TEST)


def test_an_edited_renamed_or_removed_test_item_is_refused_and_a_new_item_is_tuning(tmp_path):
    source = ROOT / "evals/datasets/sample.jsonl"
    split = load_splits()["sample"]
    lines = [json.loads(line) for line in source.read_text().splitlines() if line.strip()]
    frozen = next(i for i, line in enumerate(lines) if line["id"] in split.test)

    def write(rows):
        path = tmp_path / "sample.jsonl"  # same stem: the same declared split applies
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        return path

    added = write([*lines, {**lines[0], "id": "s-new"}])
    assert verified_split(added).part_of("s-new") == TUNING
    reformatted = write(lines)  # json.dumps spacing differs from the file's: content is the same
    assert verified_split(reformatted) is not None

    edited = [dict(r) for r in lines]
    edited[frozen]["must_include"] = ["something easier"]
    with pytest.raises(FrozenSplitError, match=rf"{lines[frozen]['id']}: edited"):
        verified_split(write(edited))
    removed = lines[:frozen] + lines[frozen + 1 :]
    with pytest.raises(FrozenSplitError, match="removed or renamed"):
        verified_split(write(removed))


def test_the_assessment_is_split_by_client(tmp_path):
    split = load_splits()["assessment"]
    assert split.unit == "client"
    labels = yaml.safe_load((ROOT / "evals/datasets/assessment.yaml").read_text())
    assert set(split.test) < set(labels["clients"]), "some clients are tuning"
    client = next(iter(split.test))
    verdicts = labels["clients"][client]["verdicts"]
    verdicts["rotation-size"] = "missing" if verdicts["rotation-size"] != "missing" else "partial"
    path = tmp_path / "assessment.yaml"
    path.write_text(yaml.safe_dump(labels))
    with pytest.raises(FrozenSplitError, match=f"{client}: edited"):
        verified_split(path)


def test_a_proposed_split_halves_every_stratum_deterministically():
    records = {
        f"q{i}": {"answerable": i % 3 > 0, "category": ["stack", "process"][i % 2]}
        for i in range(40)
    }
    first, again = stratified_test_ids(records, "x"), stratified_test_ids(records, "x")
    assert first == again and 18 <= len(first) <= 22
    unanswerable = [i for i, r in records.items() if not r["answerable"]]
    assert abs(2 * len(set(first) & set(unanswerable)) - len(unanswerable)) <= 2
    section = render_section("x", "item", records, first)
    assert section.startswith('["x"]\nunit = "item"\nsha256 = "')


def test_a_malformed_splits_file_is_an_error(tmp_path):
    path = tmp_path / "splits.toml"
    path.write_text('["sample"]\nunit = "item"\n')
    with pytest.raises(Exception, match="needs unit"):
        load_splits(path)
    assert DEFAULT_PATH.is_file() and SHARED.name == "corpora"
