"""The offline default: extractive, cited, scoped, and honest when the documents are silent."""

from __future__ import annotations

import re

import pytest

from advisor.core.errors import InputError
from advisor.core.principal import Principal
from advisor.core.settings import Settings
from advisor.service.facade import Advisor
from tests.advisor.corpus import ACME_FACT, GLOBEX_FACT

LOCAL = Principal.local()


@pytest.fixture(scope="module")
def advisor(two_clients_index, embeddings):
    return Advisor(Settings(data_dir=two_clients_index), embeddings=embeddings)


def test_offline_answer_is_a_short_cited_brief(advisor):
    answer = advisor.ask(
        LOCAL, "How large should our pull requests be, and how fast should reviews happen?"
    )
    assert answer.mode == "offline" and not answer.abstained
    assert "Offline mode" in answer.answer
    assert "400 lines" in answer.answer
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)}
    assert markers and markers == {c.n for c in answer.citations}
    assert len(answer.answer.split()) <= 260

    def words(text: str) -> str:
        return " ".join(re.findall(r"[\w-]+", text))

    texts = [words(p.text) for p in answer.passages]
    for c in answer.citations:  # snippets are quotes, not paraphrases
        for sentence in re.split(r"(?<=[.!?]) ", c.snippet):
            assert any(words(sentence) in t for t in texts), sentence


@pytest.mark.parametrize(
    ("client", "own", "other"),
    [("acme", ACME_FACT, GLOBEX_FACT), ("globex", GLOBEX_FACT, ACME_FACT)],
)
def test_a_client_never_sees_the_other_clients_documents(advisor, client, own, other):
    question = "What pager, pipeline and on-call rotation do we use?"
    answer = advisor.ask(LOCAL, question, client=client)
    assert all(p.scope in ("playbook", client) for p in answer.passages)
    assert own in " ".join(p.text for p in answer.passages)
    assert other not in answer.answer
    assert other not in " ".join(c.snippet for c in answer.citations)
    assert other not in " ".join(
        p.text for p in advisor.retrieve(LOCAL, other, client=client, k=20)
    )


def test_playbooks_only_sees_no_client_document(advisor):
    passages = advisor.retrieve(LOCAL, f"{ACME_FACT} {GLOBEX_FACT} pager pipeline", k=20)
    assert passages and {p.scope for p in passages} == {"playbook"}


@pytest.mark.parametrize("question", ["", "   \n\t"])
def test_an_empty_question_is_refused_with_the_fix(advisor, question):
    with pytest.raises(InputError, match="question is empty"):
        advisor.ask(LOCAL, question)


def test_a_question_at_the_length_limit_gets_a_cited_answer_and_one_over_it_the_fix(advisor):
    limit = advisor.settings.max_question_chars
    repeated = "How large should our pull requests be? " * (limit // 39 + 1)
    answer = advisor.ask(LOCAL, repeated[:limit])
    assert not answer.abstained and "400 lines" in answer.answer
    with pytest.raises(InputError, match="ADVISOR_MAX_QUESTION_CHARS"):
        advisor.ask(LOCAL, repeated[: limit + 1])


def test_off_topic_question_abstains_and_shows_the_closest(advisor):
    answer = advisor.ask(LOCAL, "What is a good recipe for sourdough bread with rye flour?")
    assert answer.abstained is True
    assert "don't answer" in answer.answer
    assert all(f"[{c.n}]" in answer.answer for c in answer.citations)


def test_follow_up_borrows_the_topic_of_the_previous_question(advisor):
    history = [
        {"role": "user", "content": "How should we organise the on-call rotation?"},
        {"role": "assistant", "content": "..."},
    ]
    answer = advisor.ask(LOCAL, "And how many engineers should be on it?", history=history)
    assert "on-call rotation" in answer.standalone_question
    assert answer.citations[0].source == "on-call.md"
    assert "five" in answer.answer
