"""The naive LangChain baseline over a tiny corpus: chunking, scoping, caching, its 'answer'."""

from advisor.core.settings import Settings
from evals.naive import ANSWER_CHUNKS, NaiveSystem, load_documents, split_documents
from tests.evals.tiny_corpus import write_corpus


def test_documents_carry_corpus_relative_source_and_scope(tmp_path):
    corpus = write_corpus(tmp_path)
    docs = {d.metadata["source"]: d.metadata for d in load_documents(corpus)}
    assert set(docs) == {
        "playbooks/databases.md",
        "playbooks/hiring.md",
        "playbooks/incidents.md",
        "clients/acme/roster.md",
        "clients/globex/roster.md",
    }
    assert docs["clients/acme/roster.md"]["scope"] == "acme"
    assert docs["playbooks/hiring.md"]["root"] == str(corpus.resolve())


def test_splitter_uses_1000_char_chunks_with_stable_ids(tmp_path):
    from langchain_core.documents import Document

    long = Document(page_content="word " * 600, metadata={"source": "a.md"})
    chunks = split_documents([long])
    assert len(chunks) == 4
    assert all(len(c.page_content) <= 1000 for c in chunks)
    assert [c.id for c in chunks] == ["a.md#0", "a.md#1", "a.md#2", "a.md#3"]


def test_naive_scopes_clients_and_answers_with_top_chunks(tmp_path, embeddings):
    corpus = write_corpus(tmp_path)
    system = NaiveSystem(Settings(data_dir=tmp_path / "data"), corpus, embeddings=embeddings)
    system.prepare()

    answer = system.ask("Who is on call this week?", "acme", [])
    sources = [p.source for p in answer.passages]
    assert sources[0] == "clients/acme/roster.md"
    assert "clients/globex/roster.md" not in sources
    assert answer.answer == "\n\n".join(p.text for p in answer.passages[:ANSWER_CHUNKS])
    assert not answer.abstained and answer.citations == []

    unscoped = system.ask("Who is on call this week?", None, [])
    assert {p.scope for p in unscoped.passages} == {"playbook"}
    assert "Priya Nair" not in unscoped.answer  # hidden files are never indexed


def test_naive_index_is_cached_by_content(tmp_path, embeddings):
    corpus = write_corpus(tmp_path)
    settings = Settings(data_dir=tmp_path / "data")
    first = NaiveSystem(settings, corpus, embeddings=embeddings)
    first.prepare()
    marker = first.index_dir / "complete"
    built_at = marker.stat().st_mtime_ns

    again = NaiveSystem(settings, corpus, embeddings=embeddings)
    again.prepare()
    assert again.index_dir == first.index_dir
    assert marker.stat().st_mtime_ns == built_at  # reused, not rebuilt

    (corpus / "playbooks" / "hiring.md").write_text("# Hiring\n\nHire a staff engineer first.\n")
    changed = NaiveSystem(settings, corpus, embeddings=embeddings)
    changed.prepare()
    assert changed.index_dir != first.index_dir
    assert not first.index_dir.exists()  # the stale index is dropped
    assert "staff engineer" in changed.ask("Who to hire first?", None, []).answer
