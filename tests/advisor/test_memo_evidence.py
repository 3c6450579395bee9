"""Memo evidence: a well-matching playbook's opening is read as its advice, inside the scope."""

from __future__ import annotations

import pytest

from advisor.core.principal import Principal
from advisor.core.settings import PLAYBOOK_SCOPE, Settings
from advisor.memo.evidence import OPENINGS, Evidence, add_openings
from advisor.service.facade import Advisor

LOCAL = Principal.local()
ADVICE = "We recommend a small set of tools so that people can move between teams easily."
SECRET = "Orbit-9"

# A playbook whose advice is its first paragraph, followed by sections that match a question on
# one language far better than the opening does; and a client document with its own opening.
LANGUAGES = ["Python", "Go", "Ruby", "Java", "Kotlin", "Node.js", "Rust", "Scala", "PHP", "Elixir"]
SECTIONS = [
    (name, f"A new backend written in {name} needs {name} engineers to review and run it.")
    for name in LANGUAGES
] + [
    (f"{name} and {other}", f"Backends written in {name} and {other} share a deploy pipeline.")
    for name, other in zip(LANGUAGES, LANGUAGES[1:], strict=False)
]
PLAYBOOK = (
    "---\ntitle: Programming languages\n---\n# Programming languages\n\n"
    f"{ADVICE} It also makes shared components and support cheaper.\n\n"
    + "\n\n".join(
        f"## {name}\n{text} " + "Teams review this choice yearly. " * 20 for name, text in SECTIONS
    )
)
CLIENT_DOC = (
    f"# Acme stack\n\nAcme's backend is written in {SECRET}, a language only Acme uses.\n\n"
    "## Services\nThe billing service is written in Python 3 with Django. "
    + "It is deployed every weekday by the platform team. " * 40
    + "\n"
)


@pytest.fixture(scope="module")
def advisor(tmp_path_factory, embeddings) -> Advisor:
    root = tmp_path_factory.mktemp("languages-corpus")
    (root / "playbooks").mkdir()
    (root / "playbooks" / "languages.md").write_text(PLAYBOOK, encoding="utf-8")
    (root / "acme").mkdir()
    (root / "acme" / "stack.md").write_text(CLIENT_DOC, encoding="utf-8")
    advisor = Advisor(Settings(data_dir=tmp_path_factory.mktemp("languages-data")), embeddings)
    advisor.ingest(LOCAL, [root / "playbooks"])
    advisor.ingest(LOCAL, [root / "acme"], client="acme")
    return advisor


def section_hit(advisor, scopes, client, language="Go"):
    """The single best passage for one language's section, as a part's retrieval returns it."""
    query = f"A new backend written in {language}"
    return advisor.retriever.search_within(query, scopes, client, k=1)


def test_the_opening_of_a_well_matching_playbook_is_read_as_guidance(advisor):
    found = section_hit(advisor, [PLAYBOOK_SCOPE], None)
    assert found and found[0].chunk_index != 0, "the question matches a later section"
    evidence = Evidence()
    evidence.add("guidance", found, [0.6])
    add_openings(advisor.retriever, evidence, None)
    opening = [evidence.passages[i] for i in evidence.openings]
    assert [p.id for p in opening] == [f"{found[0].doc_id}:0"]
    assert ADVICE in opening[0].text
    i = next(iter(evidence.openings))
    assert i in evidence.parts["guidance"]
    assert evidence.relevance[("guidance", i)] == 0.6, "as relevant as the document's best match"


def test_only_the_best_matching_playbooks_are_opened(advisor):
    evidence = Evidence()
    for n, language in enumerate(LANGUAGES[:3]):
        found = section_hit(advisor, [PLAYBOOK_SCOPE], None, language)
        evidence.add("guidance", found, [0.5 - n / 10])
    add_openings(advisor.retriever, evidence, None)
    assert len({evidence.passages[i].doc_id for i in evidence.openings}) <= OPENINGS


def test_a_clients_opening_never_reaches_a_memo_for_anyone_else(advisor):
    own = advisor.retriever.search_within("billing service Python Django", ["acme"], "acme", k=1)
    assert own and own[0].scope == "acme" and own[0].chunk_index != 0
    evidence = Evidence()
    evidence.add("guidance", own, [0.9])
    add_openings(advisor.retriever, evidence, None)  # a memo with no client: playbooks only
    assert not evidence.openings
    assert all(SECRET not in p.text for p in evidence.passages)
    add_openings(advisor.retriever, evidence, "acme")  # acme's own memo may read it
    assert any(SECRET in evidence.passages[i].text for i in evidence.openings)


def test_a_memo_quotes_the_advice_a_playbook_opens_with(advisor):
    memo = advisor.memo(LOCAL, "Should a new backend be written in Python or Go?")
    assert "small set of tools" in " ".join(memo.sections["Recommendation"])
