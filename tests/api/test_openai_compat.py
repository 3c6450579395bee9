"""The OpenAI-compatible endpoint through the `openai` Python client against a real uvicorn."""

from __future__ import annotations

import openai
import pytest

from tests.advisor.corpus import ACME_FACT, GLOBEX_FACT
from tests.api.test_isolation import openai_client

PAGER = "Which pager does the on-call engineer carry?"


def test_a_completion_cites_its_sources_as_a_numbered_list(live, tokens):
    reply = openai_client(live, tokens.acme).chat.completions.create(
        model="cto-advisor/acme",
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": PAGER}],
        temperature=0.2,
    )
    content = reply.choices[0].message.content
    assert reply.object == "chat.completion" and reply.choices[0].finish_reason == "stop"
    assert ACME_FACT in content
    answer, sources = content.split("\n\nSources:\n")
    assert "[1]" in answer and sources.splitlines()[0].startswith("[1] on-call.md (acme)")


def test_a_streamed_completion_arrives_as_chunks_with_the_sources_last(live, tokens):
    stream = openai_client(live, tokens.cto).chat.completions.create(
        model="cto-advisor/acme", messages=[{"role": "user", "content": PAGER}], stream=True
    )
    chunks = list(stream)
    assert {c.object for c in chunks} == {"chat.completion.chunk"}
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason == "stop"
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert ACME_FACT in text and "\n\nSources:\n[1] on-call.md (acme)" in text


def test_earlier_turns_are_the_conversation(live, tokens):
    reply = openai_client(live, tokens.globex).chat.completions.create(
        model="cto-advisor/globex",
        messages=[
            {"role": "user", "content": "How does Globex deploy?"},
            {"role": "assistant", "content": f"Through the {GLOBEX_FACT} pipeline."},
            {"role": "user", "content": [{"type": "text", "text": "Who approves it?"}]},
        ],
    )
    assert "head of engineering" in reply.choices[0].message.content


def test_an_unknown_model_is_404_naming_the_available_ones(live, tokens):
    with pytest.raises(openai.NotFoundError) as missing:
        openai_client(live, tokens.acme).chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": PAGER}]
        )
    assert "cto-advisor/acme" in str(missing.value) and "globex" not in str(missing.value)


def test_a_bad_key_is_an_authentication_error(live):
    with pytest.raises(openai.AuthenticationError):
        openai_client(live, "cta_not-a-token").models.list()
