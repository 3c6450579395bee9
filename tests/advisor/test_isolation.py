"""Client isolation under attack: stale derived data, a corrupted cache, a leaking retriever and
forged downloads. Another client's document must never reach an answer, a prompt, a memo or a
download, whatever goes wrong upstream; the final gate logs when it has to act."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from advisor.core.errors import AccessError
from advisor.core.principal import Principal
from advisor.core.settings import Settings
from advisor.retrieval.hybrid import HybridRetriever
from advisor.retrieval.lexical import LexicalIndex
from advisor.service.facade import Advisor
from tests.advisor.corpus import ACME_FACT, GLOBEX_FACT, write_corpus
from tests.fakes.openai_server import FakeOpenAI, messages_text

LOCAL = Principal.local()
# Asked for Acme: its own on-call document answers it; Globex's release document matches it
# word for word ("The on-call rotation at Globex has seven engineers").
QUESTION = "How many engineers are in the on-call rotation?"
GATE = "advisor.scope"


def everything_shown(answer) -> str:
    """All text of an answer a user or a later step could read."""
    parts = [answer.answer]
    parts += [c.snippet for c in answer.citations]
    parts += [p.text for p in answer.passages]
    return "\n".join(parts)


@pytest.fixture
def corpus(tmp_path) -> Path:
    return write_corpus(tmp_path / "corpus")


@pytest.mark.parametrize("mode", ["offline", "llm"])
def test_a_wrong_ingest_then_reset_and_reingest_never_brings_back_the_other_client(
    corpus, tmp_path, embeddings, mode
):
    """The original attack: Globex's folder ingested under Acme by mistake, `reset`, a correct
    re-ingest with the same number of runs (so the store's generation counter is the same as
    before), while the app keeps running with the BM25 index it built before the reset."""
    with FakeOpenAI("Deploys are described in the sources [1].") as server:
        settings = Settings(data_dir=tmp_path / "data")
        if mode == "llm":
            settings = Settings(data_dir=tmp_path / "data", openai_base_url=server.base_url)
        cli = Advisor(Settings(data_dir=settings.data_dir), embeddings=embeddings)
        app = Advisor(settings, embeddings=embeddings)  # long-lived, like the Streamlit app

        cli.ingest(LOCAL, [corpus / "playbooks"])
        cli.ingest(LOCAL, [corpus / "clients" / "acme"], client="acme")
        cli.ingest(LOCAL, [corpus / "clients" / "globex"], client="acme")  # the mistake
        mistaken = app.ask(LOCAL, QUESTION, client="acme")
        assert GLOBEX_FACT in everything_shown(mistaken), "the mistake itself must be visible"

        cli.reset(LOCAL)
        cli.ingest(LOCAL, [corpus / "playbooks"])
        cli.ingest(LOCAL, [corpus / "clients" / "acme"], client="acme")
        cli.ingest(LOCAL, [corpus / "clients" / "globex"], client="globex")
        server.requests.clear()
        answer = app.ask(LOCAL, QUESTION, client="acme")
        fresh = Advisor(settings, embeddings=embeddings).ask(LOCAL, QUESTION, client="acme")

    for a in (answer, fresh):
        assert GLOBEX_FACT not in everything_shown(a)
        assert {p.scope for p in a.passages} <= {"playbook", "acme"}
    if mode == "llm":
        assert len(server.requests) == 2, "both questions reached the model"
        assert all(GLOBEX_FACT not in messages_text(r) for r in server.requests)
        assert ACME_FACT in messages_text(server.requests[0]) or answer.passages


def _corrupt_lexical_cache(advisor: Advisor) -> None:
    """Overwrite Acme's saved BM25 index with one over every scope (as a bug or a stale copy
    restored from a backup could leave it), under the exact key the retriever will look up."""
    advisor.retrieve(LOCAL, "warm up", client="acme", k=1)
    folder = advisor.settings.data_dir / "lexical"
    everything = LexicalIndex.build(advisor.store.chunks_in(["playbook", "acme", "globex"]))
    for path in folder.iterdir():
        if len(LexicalIndex.load(path)) < len(everything):  # a per-scope index, not all of it
            shutil.rmtree(path)
            everything.save(path)


def test_a_corrupted_bm25_cache_on_disk_makes_the_gate_fire_and_nothing_leaks(
    corpus, tmp_path, embeddings, caplog
):
    settings = Settings(data_dir=tmp_path / "data")
    from tests.advisor.corpus import index_corpus

    index_corpus(Advisor(settings, embeddings=embeddings), corpus)
    _corrupt_lexical_cache(Advisor(settings, embeddings=embeddings))

    restarted = Advisor(settings, embeddings=embeddings)  # loads the cache from disk
    with caplog.at_level(logging.ERROR, logger=GATE):
        answer = restarted.ask(LOCAL, QUESTION, client="acme")

    assert GLOBEX_FACT not in everything_shown(answer)
    fired = [r.getMessage() for r in caplog.records if r.name == GATE]
    assert any("lexical hits" in m and "globex" in m for m in fired), fired


class LeakingRetriever(HybridRetriever):
    """The real retriever with one injected fault: every search also returns Globex's chunks,
    as a future retrieval bug might. Only the final gate stands between it and the user."""

    def search(self, query, client=None, k=10):
        found = super().search(query, client=client, k=k)
        found.passages = self.store.chunks_in(["globex"]) + found.passages
        return found

    def search_within(self, query, scopes, client, k=10):
        return self.store.chunks_in(["globex"]) + super().search_within(query, scopes, client, k)


def leaking_advisor(settings: Settings, embeddings) -> Advisor:
    advisor = Advisor(settings, embeddings=embeddings)
    advisor.__dict__["retriever"] = LeakingRetriever(advisor.store, embeddings, settings)
    return advisor


@pytest.mark.parametrize("mode", ["offline", "llm"])
def test_the_final_gate_drops_a_leaked_passage_before_the_prompt_and_the_answer(
    two_clients_index, embeddings, caplog, mode
):
    question = "How is our on-call rotation set up?"
    with FakeOpenAI("The rotation is described in the sources [1].") as server:
        url = server.base_url if mode == "llm" else None
        settings = Settings(data_dir=two_clients_index, openai_base_url=url)
        with caplog.at_level(logging.ERROR, logger=GATE):
            answer = leaking_advisor(settings, embeddings).ask(LOCAL, question, client="acme")

    assert GLOBEX_FACT not in everything_shown(answer)
    assert ACME_FACT in everything_shown(answer), "the client's own document still answers"
    if mode == "llm":
        assert len(server.requests) == 1
        assert GLOBEX_FACT not in messages_text(server.requests[0])
    fired = [r.getMessage() for r in caplog.records if r.name == GATE]
    assert any("answer passages" in m and "globex" in m for m in fired), fired


def test_the_final_gate_keeps_a_leaked_passage_out_of_a_memo(two_clients_index, embeddings, caplog):
    advisor = leaking_advisor(Settings(data_dir=two_clients_index), embeddings)
    with caplog.at_level(logging.ERROR, logger=GATE):
        memo = advisor.memo(LOCAL, "our on-call rotation and release process", client="acme")

    assert GLOBEX_FACT not in memo.to_markdown()
    assert {c.scope for c in memo.citations} <= {"playbook", "acme"}
    assert any("memo" in r.getMessage() for r in caplog.records if r.name == GATE)


# -- downloads -----------------------------------------------------------------------------------


def test_a_cited_document_downloads_only_for_those_who_may_read_its_client(
    two_clients_index, embeddings
):
    advisor = Advisor(Settings(data_dir=two_clients_index), embeddings=embeddings)

    assert ACME_FACT.encode() in advisor.download(LOCAL, "on-call.md", "acme").read_bytes()
    founder = Principal(user="gil", role="founder", client="globex")
    with pytest.raises(AccessError):
        advisor.download(founder, "on-call.md", "acme")


def test_a_forged_download_request_is_refused(two_clients_index, embeddings):
    advisor = Advisor(Settings(data_dir=two_clients_index), embeddings=embeddings)
    acme_root = next(r["root"] for r in advisor.documents(LOCAL) if r["scope"] == "acme")

    # The caller's claim of scope is not trusted: the index says whose document it is.
    with pytest.raises(AccessError):
        advisor.download(LOCAL, "release.md", "acme")
    # A path that walks out of an indexed folder is not a document.
    with pytest.raises(AccessError):
        advisor.download(LOCAL, "../globex/release.md", "acme")
    (Path(acme_root).parent.parent / "secret.txt").write_text("not indexed")
    with pytest.raises(AccessError):
        advisor.download(LOCAL, "../../secret.txt", "acme")
