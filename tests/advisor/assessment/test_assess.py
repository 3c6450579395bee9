"""Practice verdicts: cited on both sides, from the client's own documents only, offline and LLM."""

from __future__ import annotations

import csv
import io
import json

import docx
import pytest

from advisor.answering.support import Support
from advisor.assessment.assess import Practice, Thresholds, _Sentence, judge
from advisor.core.errors import AccessError, InputError
from advisor.core.models import Passage
from advisor.core.principal import Principal
from advisor.core.settings import Settings
from advisor.service.facade import Advisor
from tests.advisor.corpus import ACME_FACT, GLOBEX_FACT
from tests.fakes.openai_server import FakeOpenAI

CHECKLIST = """
areas:
  - id: on-call
    name: On-call
    practices:
      - id: rotation-size
        practice: The on-call rotation has at least five engineers.
        playbook: on-call.md
        section: Rotation size
        target: {min: 5, unit: engineers}
  - id: review
    name: Code review
    practices:
      - id: small-prs
        practice: Pull requests are kept under 400 lines of change.
        playbook: code-review.md
        section: Pull request size
"""
LOCAL = Principal.local()


@pytest.fixture
def advisor(two_clients_index, embeddings, tmp_path):
    path = tmp_path / "checklist.yaml"
    path.write_text(CHECKLIST)
    return Advisor(Settings(data_dir=two_clients_index, checklist=path), embeddings=embeddings)


def _sentences(*texts):
    return [_Sentence(Passage(id=str(i), text=t, source="x.md"), t) for i, t in enumerate(texts)]


def _support(text, score, **kw):
    fields = (
        dict(similarity=score, coverage=score, opposite=False, excluded=0.0, numbers="none") | kw
    )
    return Support(sentence=text, score=score, **fields)


def test_each_rule_decides_its_own_case():
    practice = Practice(id="p", practice="The commander does not debug.")
    t = Thresholds()
    strong = max(t.supports, t.contradicts) + 0.05
    between = (t.related + t.supports) / 2
    weak = t.related - 0.05
    said = "The commander never debugs."
    assert judge(practice, [], []).verdict == "missing"
    assert judge(practice, _sentences("x"), [_support("x", weak)]).verdict == "missing"
    assert judge(practice, _sentences(said), [_support(said, strong)]).verdict == "evidenced"
    opposite = _support("The commander debugged alone.", strong, opposite=True)
    assert judge(practice, _sentences(opposite.sentence), [opposite]).verdict == "contradicted"
    # a plan that says the opposite is not a contradiction, nor evidence
    plan = _support("The commander will debug.", strong, opposite=True, plan=True)
    assert judge(practice, _sentences(plan.sentence), [plan]).verdict == "partial"
    assert judge(practice, _sentences(said), [_support(said, between)]).verdict == "partial"
    wrong = _support("It has two engineers.", between, numbers="disagree", stated="two engineers")
    verdict = judge(practice, _sentences(wrong.sentence), [wrong])
    assert verdict.verdict == "contradicted" and "two engineers" in verdict.reason
    ruled_out = _support("A customer told us.", between, excluded=strong)
    assert judge(practice, _sentences(ruled_out.sentence), [ruled_out]).verdict == "contradicted"


def test_verdicts_cite_the_playbook_and_only_the_clients_own_documents(advisor):
    result = advisor.assess(LOCAL, "acme")
    by_id = {v.practice_id: v for v in result.verdicts}
    assert by_id["rotation-size"].verdict == "contradicted"  # three engineers, not five
    assert "three engineers" in by_id["rotation-size"].reason
    assert by_id["small-prs"].verdict == "missing" and by_id["small-prs"].evidence == []
    by_n = {c.n: c for c in result.citations}
    for v in result.verdicts:
        assert by_n[v.playbook].scope == "playbook"
        assert all(by_n[m].scope == "acme" for m in v.evidence)
    assert by_n[by_id["rotation-size"].playbook].source == "on-call.md"
    text = result.to_markdown()
    assert GLOBEX_FACT not in text and "seven" not in text


def test_the_other_client_gets_its_own_verdicts(advisor):
    result = advisor.assess(LOCAL, "globex")
    by_id = {v.practice_id: v for v in result.verdicts}
    assert by_id["rotation-size"].verdict == "evidenced"  # seven engineers
    assert ACME_FACT not in result.to_markdown()
    assert {c.scope for c in result.citations} <= {"playbook", "globex"}


def test_a_founder_sees_only_their_own_companys_assessment(advisor):
    founder = Principal(user="f@acme.test", role="founder", client="acme")
    assert advisor.assess(founder, None).client == "acme"
    with pytest.raises(AccessError):
        advisor.assess(founder, "globex")
    with pytest.raises(InputError, match="one client"):
        advisor.assess(LOCAL, None)


def test_exports_carry_the_same_verdicts_and_sources(advisor):
    result = advisor.assess(LOCAL, "acme")
    rows = list(csv.DictReader(io.StringIO(result.to_csv())))
    assert [r["verdict"] for r in rows] == [v.verdict for v in result.verdicts]
    assert all("Playbook" in r["playbook_source"] for r in rows)
    document = docx.Document(io.BytesIO(result.to_docx()))
    tables = document.tables
    assert len(tables) == 2
    verdict_rows = [[c.text for c in row.cells] for row in tables[1].rows[1:]]
    assert [r[2] for r in verdict_rows] == [v.verdict for v in result.verdicts]
    paragraphs = "\n".join(p.text for p in document.paragraphs)
    for c in result.citations:
        assert f"[{c.n}]" in paragraphs
    data = result.to_json_dict()
    assert data["coverage"][0]["total"] == 1 and json.dumps(data)


def _verdicts_reply(verdicts: dict[str, tuple[str, list[int]]]) -> str:
    return "Here you go:\n" + json.dumps(
        {
            "verdicts": [
                {"practice_id": k, "verdict": v, "reason": f"because {k}", "evidence": ev}
                for k, (v, ev) in verdicts.items()
            ]
        }
    )


def test_llm_verdicts_are_validated_and_cite_only_the_clients_documents(
    two_clients_index, embeddings, tmp_path
):
    path = tmp_path / "checklist.yaml"
    path.write_text(CHECKLIST)
    reply = _verdicts_reply(
        {"rotation-size": ("partial", [1, 2, 99]), "small-prs": ("missing", [2])}
    )
    with FakeOpenAI(reply) as server:
        settings = Settings(
            data_dir=two_clients_index, checklist=path, openai_base_url=server.base_url,
            openai_api_key="k",
        )  # fmt: skip
        result = Advisor(settings, embeddings=embeddings).assess(LOCAL, "acme")
        sent = json.dumps(server.requests[-1])
    assert result.mode == "llm"
    by_id = {v.practice_id: v for v in result.verdicts}
    assert by_id["rotation-size"].verdict == "partial"
    assert by_id["small-prs"].evidence == []
    by_n = {c.n: c for c in result.citations}
    assert all(by_n[m].scope == "acme" for m in by_id["rotation-size"].evidence)
    assert GLOBEX_FACT not in sent and "rotation-size" in sent


@pytest.mark.parametrize(
    "reply",
    [
        "I think they are doing fine.",
        '{"verdicts": [{"practice_id": "rotation-size", "verdict": "great", "reason": "x"}]}',
        '{"verdicts": [{"practice_id": "rotation-size", "verdict": "missing", "reason": "x"}]}',
    ],
)
def test_invalid_llm_output_falls_back_to_offline_verdicts(
    two_clients_index, embeddings, tmp_path, reply
):
    path = tmp_path / "checklist.yaml"
    path.write_text(CHECKLIST)
    with FakeOpenAI(reply) as server:
        settings = Settings(
            data_dir=two_clients_index, checklist=path, openai_base_url=server.base_url,
            openai_api_key="k",
        )  # fmt: skip
        result = Advisor(settings, embeddings=embeddings).assess(LOCAL, "acme")
    assert result.mode == "offline" and "offline verdicts" in result.warning
    assert {v.practice_id: v.verdict for v in result.verdicts}["rotation-size"] == "contradicted"
