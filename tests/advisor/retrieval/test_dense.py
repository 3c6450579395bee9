"""Exact dense search from vectors held in memory: the same neighbours Chroma finds, only from
the scopes asked for, and never a moment older than the store."""

from __future__ import annotations

import numpy as np
import pytest

from advisor.core.principal import Principal, scopes_for
from advisor.core.settings import Settings
from advisor.retrieval.dense import ScopeVectors
from advisor.retrieval.hybrid import CANDIDATES
from advisor.service.facade import Advisor
from tests.advisor.corpus import ACME_FACT, GLOBEX_FACT, write_corpus

LOCAL = Principal.local()


@pytest.fixture
def advisor(two_clients_index, embeddings) -> Advisor:
    return Advisor(Settings(data_dir=two_clients_index), embeddings=embeddings)


@pytest.mark.parametrize(
    "question",
    [
        "How many engineers are in the on-call rotation?",
        "How large should a pull request be?",
        f"What is {GLOBEX_FACT}?",
    ],
)
def test_exact_search_finds_what_chromas_query_finds(advisor, embeddings, question):
    scopes = scopes_for("acme")
    vector = embeddings.embed_query(question)
    exact = advisor.retriever.dense_index.search(vector, scopes, CANDIDATES)
    chroma = advisor.store.dense_search(vector, scopes, CANDIDATES)
    assert [cid for cid, _ in exact] == [p.id for p in chroma]
    assert np.allclose([s for _, s in exact], [p.dense_score for p in chroma], atol=1e-4)


def test_the_nearest_chunk_of_another_client_is_never_a_candidate(advisor, embeddings):
    globex = advisor.store.chunks_in(["globex"])
    verbatim = next(p.text for p in globex if GLOBEX_FACT in p.text)
    hits = advisor.retriever.dense_index.search(
        embeddings.embed_query(verbatim), scopes_for("acme"), CANDIDATES
    )
    scopes = {p.scope for p in advisor.store.get([cid for cid, _ in hits])}
    assert hits and scopes <= {"playbook", "acme"}
    # The same search over Globex's scope puts that chunk first: the filter is what kept it out.
    best, _ = advisor.retriever.dense_index.search(
        embeddings.embed_query(verbatim), scopes_for("globex"), 1
    )[0]
    assert GLOBEX_FACT in advisor.store.get([best])[0].text


def test_the_playbooks_are_held_once_for_every_client(advisor):
    for client in ("acme", "globex"):
        advisor.retrieve(LOCAL, "on-call rotation", client=client)
    index = advisor.retriever.dense_index
    held = {scope: len(index.vectors(scope)) for scope in ("playbook", "acme", "globex")}
    assert index.nbytes == sum(held.values()) * advisor.store.dimension * 4
    assert held["playbook"] == len(advisor.store.chunks_in(["playbook"]))


def test_a_document_ingested_by_another_process_is_found_at_once(tmp_path, embeddings):
    corpus = write_corpus(tmp_path / "corpus")
    settings = Settings(data_dir=tmp_path / "data")
    app = Advisor(settings, embeddings=embeddings)  # long-lived, like the Streamlit app
    cli = Advisor(Settings(data_dir=settings.data_dir), embeddings=embeddings)
    cli.ingest(LOCAL, [corpus / "clients" / "acme"], client="acme")
    assert app.retrieve(LOCAL, "on-call rotation", client="acme")

    (corpus / "clients" / "acme" / "boiler.md").write_text(
        "# Boiler room\n\nThe boiler room key hangs behind the Kelvin-9 thermostat.\n",
        encoding="utf-8",
    )
    cli.ingest(LOCAL, [corpus / "clients" / "acme"], client="acme")
    top = app.retriever.search("Where is the boiler room key?", client="acme")
    assert "Kelvin-9" in top.passages[0].text
    assert top.top_dense == pytest.approx(top.passages[0].dense_score)


def test_after_a_reset_the_old_vectors_are_gone(tmp_path, embeddings):
    corpus = write_corpus(tmp_path / "corpus")
    settings = Settings(data_dir=tmp_path / "data")
    app = Advisor(settings, embeddings=embeddings)
    cli = Advisor(Settings(data_dir=settings.data_dir), embeddings=embeddings)
    cli.ingest(LOCAL, [corpus / "clients" / "acme"], client="acme")
    assert ACME_FACT in " ".join(p.text for p in app.retrieve(LOCAL, ACME_FACT, client="acme"))
    cli.reset(LOCAL)
    assert app.retriever.search(ACME_FACT, client="acme").passages == []
    assert app.retriever.dense_index.nbytes == 0


def test_scope_vectors_return_at_most_what_they_hold():
    rng = np.random.default_rng(3)
    matrix = rng.normal(size=(5, 4)).astype(np.float32)
    vectors = ScopeVectors([f"c{i}" for i in range(5)], matrix)
    query = matrix[2] / np.linalg.norm(matrix[2])
    assert [cid for cid, _ in vectors.top(query, 10)][0] == "c2"
    assert len(vectors.top(query, 10)) == 5
    assert len(vectors.top(query, 3)) == 3
    assert vectors.top(query, 0) == []
    assert ScopeVectors([], np.zeros((0, 4), np.float32)).top(query, 3) == []
    sims = [s for _, s in vectors.top(query, 5)]
    assert sims == sorted(sims, reverse=True) and sims[0] == pytest.approx(1.0)


def test_chromas_query_is_still_available_and_ranks_alike(two_clients_index, embeddings):
    exact = Advisor(Settings(data_dir=two_clients_index), embeddings=embeddings)
    hnsw = Advisor(Settings(data_dir=two_clients_index, dense_search="hnsw"), embeddings=embeddings)
    question = "How many engineers are in the on-call rotation?"
    a = exact.retriever.search(question, client="acme")
    b = hnsw.retriever.search(question, client="acme")
    assert [p.id for p in a.passages] == [p.id for p in b.passages]
    assert a.top_dense == pytest.approx(b.top_dense, abs=1e-4)
    assert hnsw.retriever.dense_index.nbytes == 0  # nothing held in memory in this mode
