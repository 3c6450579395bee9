"""Answers are written by workers: Stop stops the model's stream itself, and the outcome is stored
whoever is watching (against a real OpenAI-protocol server on loopback that streams slowly)."""

from __future__ import annotations

import time

import pytest

from advisor.core.principal import Principal
from advisor.core.settings import Settings
from advisor.service.facade import Advisor
from interfaces.web import jobs
from tests.fakes.openai_server import FakeOpenAI, answering

LOCAL = Principal.local()
CLAIM = "Keep pull requests small [1]."
REPLY = " ".join([CLAIM] * 60)  # 1,800 characters; as JSON claims, ~330 pieces of 7


@pytest.fixture
def slow_llm():
    with FakeOpenAI(answering(*[CLAIM] * 60)) as fake:
        yield fake


def advisor_for(app_data_dir, embeddings, fake) -> Advisor:
    settings = Settings(data_dir=app_data_dir, openai_base_url=fake.base_url, llm_max_retries=0)
    return Advisor(settings, embeddings=embeddings)


def start(advisor: Advisor, question: str):
    chat = advisor.conversations.create(LOCAL, None, question)
    advisor.conversations.append(LOCAL, chat.id, "user", {"content": question})
    body = {"status": "running", "question": question, "history": [], "client": None}
    msg = advisor.conversations.append(LOCAL, chat.id, "assistant", body)
    return chat, msg, jobs.start(advisor, LOCAL, chat.id, msg.id, body)


def wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_stop_closes_the_models_stream_and_keeps_what_was_written(
    app_data_dir, embeddings, slow_llm
):
    slow_llm.fail_next("drip", 0.05)  # the whole reply would take ~13 s
    advisor = advisor_for(app_data_dir, embeddings, slow_llm)
    chat, msg, job = start(advisor, "How big should a pull request be?")
    assert wait_for(lambda: len(job.text) > 40, 30), "the answer started streaming"
    stopped_at = time.monotonic()
    assert jobs.stop(msg.id)
    assert job.done.wait(5), "the worker ended"
    assert wait_for(lambda: slow_llm.disconnects == 1, 5), (
        "the model's stream was closed, not drained"
    )
    print(f"stopped {time.monotonic() - stopped_at:.2f}s after Stop")
    stored = advisor.conversations.messages(LOCAL, chat.id)[-1].body
    assert stored["status"] == "stopped"
    assert 40 < len(stored["text"]) < len(REPLY) / 2 and stored["text"] in job.text
    assert not jobs.stop(msg.id), "stopping twice does nothing"


def test_an_answer_nobody_watches_is_finished_and_stored(app_data_dir, embeddings, slow_llm):
    advisor = advisor_for(app_data_dir, embeddings, slow_llm)
    chat, msg, job = start(advisor, "How big should a pull request be?")
    assert job.done.wait(60)
    stored = advisor.conversations.messages(LOCAL, chat.id)[-1].body
    assert stored["status"] == "done" and stored["answer"]["mode"] == "llm"
    assert "Keep pull requests small" in stored["answer"]["answer"]
    assert stored["answer"]["citations"][0]["root"], "the file's root is kept for downloads"
    assert slow_llm.disconnects == 0
