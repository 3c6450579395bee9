"""The Chroma store: embedded by default, a `chroma run` server when configured, and a clear
refusal when the index was built with another embedding model."""

from __future__ import annotations

import pytest

from advisor.core.errors import EmbeddingMismatchError, StoreError
from advisor.core.principal import Principal
from advisor.core.settings import Settings
from advisor.core.store import Store
from advisor.service.facade import Advisor
from tests.advisor.corpus import ACME_FACT, GLOBEX_FACT, index_corpus, write_corpus
from tests.chroma_server import free_port

LOCAL = Principal.local()


def test_server_mode_indexes_and_answers_with_scoping(tmp_path, chroma_server, embeddings):
    settings = Settings(
        data_dir=tmp_path / "data", chroma_host="127.0.0.1", chroma_port=chroma_server
    )
    advisor = Advisor(settings, embeddings=embeddings)
    index_corpus(advisor, write_corpus(tmp_path / "corpus"))

    status = advisor.status(LOCAL)
    assert status["store"] == f"http://127.0.0.1:{chroma_server}"
    assert status["clients"] == ["acme", "globex"] and status["documents"] == 5
    assert not (tmp_path / "data" / "chroma").exists(), "server mode must not create a local store"

    answer = advisor.ask(LOCAL, "Which pager does the on-call engineer carry?", client="globex")
    assert all(p.scope in ("playbook", "globex") for p in answer.passages)
    assert ACME_FACT not in answer.answer
    assert GLOBEX_FACT in " ".join(
        p.text for p in advisor.retrieve(LOCAL, "Quasar", client="globex")
    )


def test_unreachable_server_says_how_to_fix_it(tmp_path):
    settings = Settings(data_dir=tmp_path, chroma_host="127.0.0.1", chroma_port=free_port())
    with pytest.raises(StoreError, match="chroma run --path DIR --port"):
        Store(settings, "all-MiniLM-L6-v2", 384)


def test_index_built_with_another_model_is_refused_with_the_fix(tmp_path):
    settings = Settings(data_dir=tmp_path)
    Store(settings, "all-MiniLM-L6-v2", 384)
    with pytest.raises(EmbeddingMismatchError) as raised:
        Store(settings, "openai:text-embedding-3-small", 1536)
    message = str(raised.value)
    assert "ADVISOR_EMBEDDING_MODEL=all-MiniLM-L6-v2" in message
    assert "cto-advisor reset --yes" in message


def test_whole_index_reads_go_a_page_at_a_time_with_the_same_result(two_clients_index, monkeypatch):
    # One `get` of 100k chunks fails inside Chroma ("too many SQL variables").
    settings = Settings(data_dir=two_clients_index)
    whole = Store(settings, "all-MiniLM-L6-v2", 384)
    expected = (whole.source_stats(), sorted(p.id for p in whole.chunks_in(["playbook", "acme"])))
    monkeypatch.setattr(Store, "PAGE", 2)
    paged = Store(settings, "all-MiniLM-L6-v2", 384)
    got = (paged.source_stats(), sorted(p.id for p in paged.chunks_in(["playbook", "acme"])))
    assert got == expected and len(expected[1]) > 2
