"""The checklist file: validated with errors that name the fix; drafted from the playbooks."""

from __future__ import annotations

import pytest
import yaml

from advisor.assessment.checklist import Checklist, draft_checklist, load_checklist
from advisor.core.errors import ConfigError
from advisor.core.principal import Principal
from advisor.core.settings import Settings
from advisor.service.facade import Advisor
from tests.conftest import SAMPLE_DATA


def test_the_sample_checklist_loads_and_links_every_practice_to_a_playbook():
    checklist = load_checklist(SAMPLE_DATA / "checklist.yaml")
    items = checklist.items()
    assert len(items) >= 12 and len(checklist.areas) >= 6
    for _, practice in items:
        assert (SAMPLE_DATA / "playbooks" / practice.playbook).is_file(), practice.playbook
        assert practice.section


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("areas: [", "not valid YAML"),
        ("areas: []", "areas"),
        (
            "areas:\n- {id: a, name: A, practices: [{id: Bad Id, practice: Do the thing now.}]}",
            "id",
        ),
        (
            "areas:\n- {id: a, name: A, practices: [{id: x, practice: Do the thing now., "
            "target: {min: 1, max: 2, unit: d}}]}",
            "exactly one of min or max",
        ),
        (
            "areas:\n- {id: a, name: A, practices: [{id: x, practice: Do the thing now.}, "
            "{id: x, practice: Do it again please.}]}",
            "appears twice",
        ),
    ],
)
def test_a_broken_checklist_is_refused_with_the_file_and_the_fix(tmp_path, text, message):
    path = tmp_path / "checklist.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as error:
        load_checklist(path)
    assert str(path) in str(error.value)


def test_a_missing_checklist_says_how_to_make_one(tmp_path):
    with pytest.raises(ConfigError, match="checklist draft"):
        load_checklist(tmp_path / "nope.yaml")


def test_a_drafted_checklist_is_valid_and_points_at_real_playbook_sections(
    two_clients_index, embeddings
):
    advisor = Advisor(Settings(data_dir=two_clients_index), embeddings=embeddings)
    text = advisor.draft_checklist(Principal.local())
    checklist = Checklist.model_validate(yaml.safe_load(text))
    sections = {
        (p.source, p.section.split(" > ")[-1]) for p in advisor.store.chunks_in(["playbook"])
    }
    for _, practice in checklist.items():
        assert (practice.playbook, practice.section) in sections
    assert "Rotation size" in {p.section for _, p in checklist.items()}


def test_only_a_cto_may_draft_the_checklist(two_clients_index, embeddings):
    from advisor.core.errors import AccessError

    advisor = Advisor(Settings(data_dir=two_clients_index), embeddings=embeddings)
    founder = Principal(user="f@acme.test", role="founder", client="acme")
    with pytest.raises(AccessError):
        advisor.draft_checklist(founder)


def test_draft_checklist_of_nothing_is_an_empty_but_valid_document():
    assert "areas: []" in draft_checklist([])
