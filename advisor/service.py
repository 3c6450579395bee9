"""The one facade the CLI, the Streamlit app and the evals call: ask, retrieve, ingest, status."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import cached_property
from typing import Any

from advisor.errors import ConfigError, InputError
from advisor.models import Answer, Passage
from advisor.settings import PLAYBOOK_SCOPE, Settings, get_settings
from advisor.store import Store, open_store


class AnswerStream:
    """Iterate for the answer's text as it is generated; `.answer` holds the result afterwards."""

    def __init__(self, chunks: Iterator[str | Answer]) -> None:
        self._chunks = chunks
        self.answer: Answer | None = None

    def __iter__(self) -> Iterator[str]:
        for item in self._chunks:
            if isinstance(item, Answer):
                self.answer = item
            else:
                yield item

    def result(self) -> Answer:
        """Consume whatever is left and return the final answer."""
        for _ in self:
            pass
        assert self.answer is not None
        return self.answer


class Advisor:
    """Wires settings, embeddings, store, retriever and answerer together (built lazily)."""

    def __init__(
        self, settings: Settings | None = None, embeddings=None, store: Store | None = None
    ):
        self.settings = settings or get_settings()
        self._embeddings = embeddings
        self._store = store

    @cached_property
    def embeddings(self):
        if self._embeddings is None:
            from advisor.embeddings import load_embeddings

            self._embeddings = load_embeddings(self.settings)
        return self._embeddings

    @cached_property
    def store(self) -> Store:
        return self._store or open_store(self.settings, self._embeddings)

    @cached_property
    def retriever(self):
        from advisor.retrieval import HybridRetriever

        return HybridRetriever(self.store, self.embeddings, self.settings)

    @cached_property
    def answerer(self):
        from advisor.answering import Answerer

        return Answerer(self.retriever, self.settings)

    # -- questions ----------------------------------------------------------------------------

    def retrieve(
        self, query: str, client: str | None = None, k: int | None = None
    ) -> list[Passage]:
        """The top passages for `query`, only from the playbooks and `client`'s documents."""
        return self.retriever.retrieve(query, client=client, k=k or self.settings.top_k)

    def ask(
        self, question: str, client: str | None = None, history: Sequence[dict[str, str]] = ()
    ) -> Answer:
        """A cited answer (or an honest abstention) to `question` under `client`."""
        return self.ask_stream(question, client=client, history=history).result()

    def ask_stream(
        self, question: str, client: str | None = None, history: Sequence[dict[str, str]] = ()
    ) -> AnswerStream:
        """Like `ask`, streamed: iterate for text, then read `.answer`.

        `history` is the conversation so far: [{"role": "user"|"assistant", "content": ...}].
        """
        if not question or not question.strip():
            raise InputError("the question is empty: type what you want to know")
        return AnswerStream(self.answerer.stream(question, client=client, history=list(history)))

    # -- index --------------------------------------------------------------------------------

    def ingest(self, paths, client: str | None = None, **options: Any):
        """Parse, chunk, embed and store files or folders; returns the run's report."""
        from ingest.pipeline import ingest_paths

        # The model is loaded only if some file actually needs embedding.
        report = ingest_paths(
            paths,
            client=client,
            settings=self.settings,
            embeddings=self._embeddings or (lambda: self.embeddings),
            store=self.store,
            **options,
        )
        return report

    def clients(self) -> list[str]:
        """Client names that have documents in the index."""
        return sorted({r["scope"] for r in self.store.source_stats()} - {PLAYBOOK_SCOPE})

    def require_client(self, client: str | None) -> None:
        """Refuse an unknown client: a typo would otherwise answer from the playbooks alone."""
        if client and client not in (known := self.clients()):
            raise ConfigError(
                f"no documents for client {client!r}: known clients are "
                f"{', '.join(known) or 'none'} (index theirs with "
                f"`cto-advisor ingest PATH --client {client}`)"
            )

    def status(self) -> dict[str, Any]:
        """Counts and settings for `status --json` and the app's sidebar."""
        sources = self.store.source_stats()
        return {
            "documents": len(sources),
            "chunks": self.store.count(),
            "clients": sorted({r["scope"] for r in sources} - {PLAYBOOK_SCOPE}),
            "embedding_model": self.store.embedding_model,
            "store": self.store.location(),
            "last_ingest": self.store.updated_at,
            "sources": [
                {k: r[k] for k in ("source", "scope", "chunks", "pages", "title")} for r in sources
            ],
        }
