"""Sentence vectors kept on disk: embedded once per data directory, the same answers, never an
error of their own, and gone with a forgotten client."""

from __future__ import annotations

import copy
import logging
import sqlite3

from advisor.core.principal import Principal
from advisor.core.settings import Settings
from advisor.service.facade import Advisor
from advisor.service.sentence_vectors import PersistentSentences, cache_path

LOCAL = Principal.local()
SENTENCES = [
    "Route every deploy through the canary stage before it reaches all customers.",
    "The on-call engineer owns the pager for one week at a time.",
    "Backups are restored into a scratch account every quarter to prove they work.",
]


def _fresh(embeddings):
    """The same model as a new process would hold it: nothing embedded in memory yet, and the
    sentences the model itself runs on (cut at 64 tokens: queries and chunks are not)."""
    model = copy.copy(embeddings)
    model._query_cache, model._sentence_cache = {}, {}
    model.encoded = []
    encode = model._encode

    def counting(texts, max_tokens):
        if max_tokens == 64:
            model.encoded += texts
        return encode(texts, max_tokens)

    model._encode = counting
    return model


def test_a_sentence_is_embedded_once_per_data_dir_and_read_back_exactly(tmp_path, embeddings):
    path = cache_path(tmp_path)
    first = PersistentSentences(_fresh(embeddings), path)
    computed = first.embed_sentences(SENTENCES)
    assert sorted(first.model.encoded) == sorted(SENTENCES)
    assert path.is_file() and path.stat().st_mode & 0o077 == 0  # private, like all client data

    later = PersistentSentences(_fresh(embeddings), path)  # the next process
    assert later.embed_sentences([SENTENCES[1], SENTENCES[0], "A new sentence to embed."]) == [
        computed[1],
        computed[0],
        embeddings.embed_documents(["A new sentence to embed."], max_tokens=64)[0],
    ]
    assert later.model.encoded == ["A new sentence to embed."]  # only what it had never seen
    # Everything else is the model's own.
    assert later.name == embeddings.name and later.dimension == embeddings.dimension
    assert later.embed_query("canary") == embeddings.embed_query("canary")


def test_a_damaged_or_unwritable_file_leaves_the_vectors_computed_in_memory(
    tmp_path, embeddings, caplog
):
    path = cache_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a database, a damaged file" * 100)
    cached = PersistentSentences(_fresh(embeddings), path)
    with caplog.at_level(logging.WARNING):
        vectors = cached.embed_sentences(SENTENCES)
        again = cached.embed_sentences(SENTENCES)
    assert vectors == again == embeddings.embed_sentences(SENTENCES)
    warnings = [r.getMessage() for r in caplog.records if "sentence vectors" in r.getMessage()]
    assert len(warnings) == 1 and "delete the file" in warnings[0]  # said once, with its fix


def _keys(path) -> set[bytes]:
    with sqlite3.connect(path) as conn:
        return {bytes(k) for (k,) in conn.execute("SELECT key FROM vectors")}


def test_answers_are_the_same_from_kept_vectors_and_forget_removes_a_clients(tmp_path, embeddings):
    folders = {}
    for client, system in (("gone-corp", "the Kestrel billing ledger"), ("kept-co", "Postgres")):
        folders[client] = tmp_path / client
        folders[client].mkdir()
        (folders[client] / "plan.md").write_text(
            f"# {client} platform plan\n\nThe {client} team runs billing on {system}, replicated "
            "across two regions. Every release goes through a canary stage first. The on-call "
            "rotation is one week, with a secondary who can be paged after ten minutes.\n"
        )
    settings = Settings(data_dir=tmp_path / "data")
    cold = Advisor(settings, embeddings=_fresh(embeddings))
    for client, folder in folders.items():
        cold.ingest(LOCAL, [folder], client=client)
    question = "How does our team run billing and releases?"
    first = cold.ask(LOCAL, question, client="gone-corp")
    assert not first.abstained and cold.embeddings.model.encoded  # it embedded sentences

    warm = Advisor(settings, embeddings=_fresh(embeddings))  # a new process, same data dir
    again = warm.ask(LOCAL, question, client="gone-corp")
    assert warm.embeddings.model.encoded == []  # every sentence came from the file
    assert again.answer == first.answer
    assert [c.snippet for c in again.citations] == [c.snippet for c in first.citations]

    path = cache_path(settings.data_dir)
    gone_sentence = next(u for u in first.answer.splitlines() if "Kestrel" in u)
    assert gone_sentence and _keys(path)
    warm.forget(LOCAL, "gone-corp")
    assert not path.exists()  # derived from the documents: a forget removes it with the rest
    warm.ask(LOCAL, question, client="kept-co")
    probe = PersistentSentences(_fresh(embeddings), path)
    kept_keys = _keys(path)
    gone_keys = {probe._key(s) for s in warm.embeddings.model._sentence_cache if "Kestrel" in s}
    assert gone_keys and not gone_keys & kept_keys


def test_warm_up_loads_what_the_first_answer_would_on_an_empty_index(tmp_path, embeddings):
    from advisor.core import nlp, sentences

    for loaded in (nlp.pipeline, nlp._whole_hyphens_tokenizer, sentences._pipeline):
        loaded.cache_clear()  # as in a new process (other tests loaded them already)
    advisor = Advisor(Settings(data_dir=tmp_path / "data"), embeddings=embeddings)
    advisor.warm_up()  # nothing indexed yet: it must not fail, a server starts this way
    assert nlp.pipeline.cache_info().currsize == 1
    assert nlp._whole_hyphens_tokenizer.cache_info().currsize == 1
    assert sentences._pipeline.cache_info().currsize == 1
    assert advisor._clients_cache.values() == [([], 0)]  # the client list is built (empty)
    answer = advisor.ask(LOCAL, "How should we run on-call?")
    assert answer.abstained  # and the first question is answered as before


def test_the_file_is_bounded_and_keeps_the_newest_vectors(tmp_path, embeddings, monkeypatch):
    import advisor.service.sentence_vectors as module

    monkeypatch.setattr(module, "MAX_ROWS", 6)
    path = cache_path(tmp_path)
    cached = PersistentSentences(_fresh(embeddings), path)
    texts = [f"Sentence number {i} says something about deploys." for i in range(10)]
    for i in range(0, 10, 2):
        cached.embed_sentences(texts[i : i + 2])
    kept = _keys(path)
    assert len(kept) <= 6
    assert {cached._key(t) for t in texts[-2:]} <= kept  # the newest stay
    assert cached._key(texts[0]) not in kept  # the oldest went
