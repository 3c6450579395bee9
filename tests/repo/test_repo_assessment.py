"""Repository facts in the assessment and in answers: the bus-factor practice is judged on every
component, and a document's platform claim that the code contradicts is a conflict."""

from __future__ import annotations

import json

import pytest

from advisor.assessment.checklist import Practice, Target
from advisor.assessment.repo_checks import claims, measured, stack_conflicts
from advisor.core.models import Passage
from advisor.core.principal import Principal
from advisor.core.settings import Settings
from advisor.service.facade import Advisor

LOCAL = Principal.local()
CLIENT = "acme"
PRACTICE = Practice(
    id="no-single-point-of-knowledge",
    practice="Every active component has a bus factor of at least two.",
    target=Target(min=2, unit="bus factor"),
)


def _stack(
    platforms: dict, components=("billing/", "Billing", "dispatch-classic/", "Dispatch Classic")
) -> Passage:
    facts = {
        "kind": "stack",
        "repo": "acme-platform",
        "platforms": platforms,
        "components": list(components),
    }
    text = (
        "The acme-platform stack: Python; deployed to Heroku. Deployment targets found in the "
        "code: Heroku (Procfile). There are no Kubernetes manifests."
    )
    return Passage(
        id="s:0",
        text=text,
        source="acme-platform@abc1234",
        scope=CLIENT,
        doc_id="s",
        facts=json.dumps(facts),
    )


def _doc(text: str, doc_id: str = "deck") -> Passage:
    return Passage(
        id=f"{doc_id}:0", text=text, source=f"{doc_id}.pptx", scope=CLIENT, doc_id=doc_id
    )


HEROKU = {"hosting": {"Heroku": ["Procfile"]}}


@pytest.mark.parametrize(
    "sentence, flagged",
    [
        ("We run everything on Kubernetes in three EKS clusters.", True),
        ("Acme's billing service runs on EKS behind the API gateway.", True),
        ("Billing runs on Heroku with a Postgres add-on.", False),  # agrees with the code
        ("We do not use Kubernetes anywhere.", False),  # negated
        ("Billing runs on Heroku dynos, outside Kubernetes.", False),  # excluded
        ("We will move billing to Kubernetes after the Series A.", False),  # a plan
        ("The platform team operates three EKS clusters for the data group.", False),  # not us
        # A one-word folder name ("billing/", "tools/") is an ordinary word in any document.
        ("The billing tools cluster runs on EKS.", False),
        ("The Dispatch Classic servers run on EKS.", True),  # a distinctive component name
    ],
)
def test_a_platform_claim_conflicts_only_when_asserted_about_this_client(sentence, flagged):
    found = stack_conflicts([_stack(HEROKU), _doc(sentence)])
    assert bool(found) is flagged
    if flagged:
        (c,) = found
        assert (c.first.doc_id, c.second.doc_id) == ("deck", "s")
        assert c.first_value in ("Kubernetes", "Kubernetes (EKS)")
        assert c.second_value == "Heroku (Procfile) in the code, no Kubernetes"
        assert c.first_sentence == sentence and "Heroku" in c.second_sentence


def test_no_conflict_when_the_code_says_nothing_about_the_category():
    assert stack_conflicts([_stack({}), _doc("We run on Kubernetes.")]) == []
    assert stack_conflicts([_doc("We run on Kubernetes.")]) == []  # no repository at all
    ci_only = {"ci": {"CircleCI": [".circleci/config.yml"]}}
    (c,) = stack_conflicts([_stack(ci_only), _doc("Our CI runs on GitHub Actions in 14 minutes.")])
    assert c.first_value == "GitHub Actions"


def test_repository_facts_are_not_claims():
    facts = _stack(HEROKU)
    assert claims([facts, _doc("x")]) == [_doc("x")]


def _ownership(component: str, bus: int, *, stale=False, code=True) -> Passage:
    facts = {
        "kind": "ownership",
        "component": component,
        "name": component.strip("/").title(),
        "bus_factor": bus,
        "stale": stale,
        "code": code,
    }
    return Passage(
        id=f"{component}:0", text=f"Who knows {component}: bus factor {bus}.", source=f"r/{component}@abc",
        scope=CLIENT, doc_id=component, facts=json.dumps(facts),
    )  # fmt: skip


def test_the_bus_factor_practice_is_judged_on_every_component():
    ok = [_ownership("api/", 2), _ownership("billing/", 3)]
    assert measured(PRACTICE, ok).verdict == "evidenced"
    one = [*ok, _ownership("ledger/", 1)]
    verdict = measured(PRACTICE, one)
    assert verdict.verdict == "contradicted" and "Ledger (1)" in verdict.reason
    assert [e.passage.doc_id for e in verdict.evidence] == ["ledger/"]
    # Stale areas and folders of documents have no current knowledge to spread.
    quiet = [*ok, _ownership("old/", 1, stale=True), _ownership("docs/", 1, code=False)]
    assert measured(PRACTICE, quiet).verdict == "evidenced"
    # Without repository facts (or a practice without that measure) the documents decide.
    assert measured(PRACTICE, [_doc("We pair on everything.")]) is None
    other = Practice(
        id="x", practice="The rotation has five people.", target=Target(min=5, unit="engineers")
    )
    assert measured(other, one) is None


def test_the_assessment_flags_the_deck_against_the_repository(tmp_path, embeddings, team_repo):
    settings = Settings(data_dir=tmp_path / "data", checklist=tmp_path / "checklist.yaml")
    (tmp_path / "checklist.yaml").write_text(
        "areas:\n  - id: knowledge\n    name: Knowledge\n    practices:\n"
        f"      - id: {PRACTICE.id}\n        practice: {PRACTICE.practice}\n"
        "        target: {min: 2, unit: bus factor}\n"
    )
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "board-deck.md").write_text(
        "# Acme board update\n\n## Platform\n\nWe run on Kubernetes (EKS) with autoscaling.\n"
    )
    advisor = Advisor(settings, embeddings=embeddings)
    advisor.ingest(LOCAL, [docs], client=CLIENT)
    advisor.ingest_repo(LOCAL, str(team_repo.path), CLIENT)
    result = advisor.assess(LOCAL, CLIENT)
    (verdict,) = result.verdicts
    assert verdict.verdict == "contradicted"
    by_n = {c.n: c for c in result.citations}
    assert {by_n[m].source.split("@")[0] for m in verdict.evidence} >= {"acme-platform/billing/"}
    kube = [c for c in result.conflicts if c.first_value.startswith("Kubernetes")]
    assert len(kube) == 1
    assert by_n[kube[0].first].source == "board-deck.md"
    assert by_n[kube[0].second].source.startswith("acme-platform@")
    # Two components' different line counts are facts, not a disagreement.
    assert not [c for c in result.conflicts if "current" in c.first_value + c.second_value]
