"""The one facade every interface calls (CLI, app, API, MCP, evals).

Every method takes the principal (who asks, with which role, for which client). What that
principal may see or change is decided here, never in a widget; the final scope gate in
`advisor.core.principal.visible` applies the same rule again to whatever leaves this layer.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import uuid
from collections.abc import Callable, Iterator, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

from advisor.core.clients import client_name
from advisor.core.errors import AccessError, AdvisorError, InputError, NotFoundError
from advisor.core.models import Answer, Passage
from advisor.core.principal import Principal, scopes_for, visible
from advisor.core.runtime import secure_data_dir
from advisor.core.sanitize import MarkdownStream, clean_model, markdown
from advisor.core.settings import PLAYBOOK_SCOPE, Settings, get_settings
from advisor.core.store import (
    Store,
    delete_collection,
    open_store,
    purge_deleted,
    set_aside_index,
)
from advisor.service.audit import AuditLog, redact

log = logging.getLogger("advisor.service")
FORGETTING = "forgetting"  # clients whose forget has started and not yet finished


class AnswerStream:
    """Iterate for the answer's text as it is generated; `.answer` holds the result afterwards.

    Every piece is made safe on the way out (`advisor.core.sanitize`): no image, link to an
    origin not allowed, HTML, terminal escape or bidi override reaches any interface, streamed or
    not. `id` names the answer (for feedback); it belongs to the principal who asked.
    """

    def __init__(
        self,
        chunks: Iterator[str | Answer],
        scopes: Sequence[str],
        finish=None,
        on_answer: Callable[[Answer], None] | None = None,
        allowed: frozenset[str] = frozenset(),
        answer_id: str | None = None,
    ) -> None:
        self._chunks = chunks
        self._scopes = list(scopes)
        self._finish = finish
        self._on_answer = on_answer
        self._allowed = allowed
        self.id = answer_id or uuid.uuid4().hex
        self.answer: Answer | None = None

    def __iter__(self) -> Iterator[str]:
        safe = MarkdownStream(self._allowed)
        for item in self._chunks:
            if isinstance(item, Answer):
                if rest := safe.close():
                    yield rest
                item.citations = visible(item.citations, self._scopes, "answer citations")
                item.passages = visible(item.passages, self._scopes, "answer passages")
                if self._finish is not None:
                    self._finish(item)
                clean_model(item)
                item.answer = markdown(item.answer, self._allowed)
                self.answer = item
                if self._on_answer is not None:
                    self._on_answer(item)  # the audit: who was shown which sources
            elif piece := safe.feed(item):
                yield piece

    def close(self) -> None:
        """Stop the work (the model's stream is closed too); nothing more is yielded."""
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()

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
        secure_data_dir(self.settings.data_dir)  # at start: fix (and warn about) open files
        self._embeddings = embeddings
        self._store = store

    @cached_property
    def audit(self) -> AuditLog:
        return AuditLog(self.settings)

    @cached_property
    def answers(self):
        from advisor.service.feedback import AnswerLedger

        return AnswerLedger(self.settings)

    @cached_property
    def conversations(self):
        """Chats, memos and assessments kept per user and client (every call takes the principal)."""
        from advisor.service.conversations import ConversationStore

        return ConversationStore(self.settings)

    @cached_property
    def embeddings(self):
        if self._embeddings is None:
            from advisor.core.embeddings import load_embeddings

            self._embeddings = load_embeddings(self.settings)
        from advisor.service.sentence_vectors import persistent_sentences

        # Sentence vectors are kept on disk per data directory (the model is shared by every
        # Advisor of the process): the offline answer embeds a sentence once, not per process.
        return persistent_sentences(self._embeddings, self.settings.data_dir)

    @cached_property
    def store(self) -> Store:
        store = self._store or open_store(self.settings, self._embeddings)
        self.__dict__["store"] = store  # recover() below uses it
        self.recover()
        return store

    def recover(self) -> dict[str, int]:
        """Finish what a killed process left (run whenever a process first opens the index):
        half-written documents leave the index, uploads that were never indexed leave the
        disk, and a forget that was cut short is completed (see ingest/repair.reconcile)."""
        from ingest.repair import reconcile

        done: dict[str, int] = {}
        try:
            done = reconcile(self.settings, self.store)
            for client in self._forgetting():
                self.forget(Principal.local(), client)
                done["forgotten"] = done.get("forgotten", 0) + 1
        except (AdvisorError, OSError, sqlite3.Error) as exc:  # read-only or full: reads work
            log.warning("could not finish what an earlier process left: %s", exc)
        if any(done.values()):
            log.warning("finished what an earlier, killed process left: %s", done)
        return done

    def _forgetting(self) -> list[str]:
        path = self.settings.data_dir / FORGETTING
        try:
            return [c for c in path.read_text(encoding="utf-8").split() if c]
        except FileNotFoundError:
            return []

    @cached_property
    def retriever(self):
        from advisor.retrieval.hybrid import HybridRetriever

        return HybridRetriever(self.store, self.embeddings, self.settings)

    @cached_property
    def answerer(self):
        from advisor.answering.answer import Answerer

        return Answerer(self.retriever, self.settings)

    def warm_up(self) -> None:
        """Load now what the first answer would otherwise load while the asker waits (about 2 s
        on two cores): the model, the index, the list of clients, spaCy's pipelines and the
        decision engine's modules. For processes that answer many questions (the API, the app,
        the eval)."""
        from advisor.core import nlp
        from advisor.core.sentences import sentences
        from advisor.memo.evidence import gather  # noqa: F401 (what `make_decide` imports)
        from advisor.memo.offline import assemble  # noqa: F401
        from advisor.memo.topic import find_options

        self.embeddings.embed_query("warm up")
        self.answerer  # noqa: B018 (builds the store and the retriever)
        self._all_clients()  # every question checks its client against it
        nlp.pipeline()
        nlp.parse("warm-up", whole_hyphens=True)  # its hyphen-keeping tokenizer too
        sentences("Warm up. Ready.")
        find_options("warm up or wait")

    # -- scope --------------------------------------------------------------------------------

    def scope(self, principal: Principal, client: str | None) -> tuple[str | None, list[str]]:
        """The client a request acts on and the scopes it may read; refuses what it may not."""
        try:
            client = principal.resolve_client(client_name(client) if client else None)
        except AccessError:
            self.audit.record(
                "refused", principal, client=principal.client, asked_for=str(client)[:80]
            )
            raise
        if client and client not in self.clients(principal):
            self.require_client(principal, client)
        return client, scopes_for(client)

    # -- questions ----------------------------------------------------------------------------

    def retrieve(
        self,
        principal: Principal,
        query: str,
        client: str | None = None,
        k: int | None = None,
        record: bool = True,
    ) -> list[Passage]:
        """The top passages for `query`, only from the playbooks and `client`'s documents.

        `record=False` is for warm-up calls whose passages nobody sees (nothing is audited).
        """
        client, scopes = self.scope(principal, client)
        found = self.retriever.retrieve(query, client=client, k=k or self.settings.top_k)
        found = visible(found, scopes, "retrieve")
        if record:
            self.audit.record(
                "search", principal, client=client, query=redact(query),
                sources=[f"{p.scope}:{p.source}" for p in found],
            )  # fmt: skip
        return found

    def ask(
        self,
        principal: Principal,
        question: str,
        client: str | None = None,
        history: Sequence[dict[str, str]] = (),
    ) -> Answer:
        """A cited answer (or an honest abstention) to `question` under `client`."""
        return self.ask_stream(principal, question, client=client, history=history).result()

    def ask_stream(
        self,
        principal: Principal,
        question: str,
        client: str | None = None,
        history: Sequence[dict[str, str]] = (),
    ) -> AnswerStream:
        """Like `ask`, streamed: iterate for text, then read `.answer`.

        `history` is the conversation so far: [{"role": "user"|"assistant", "content": ...}].
        """
        if not question or not question.strip():
            raise InputError("the question is empty: type what you want to know")
        if len(question) > (limit := self.settings.max_question_chars):
            raise InputError(
                f"the question has {len(question):,} characters, over the limit of {limit:,} "
                "(ADVISOR_MAX_QUESTION_CHARS): shorten it, or ask it in two parts"
            )
        from advisor.service.advice import make_decide, make_notices, risk_intent

        client, scopes = self.scope(principal, client)
        chunks = self.answerer.stream(
            question, client=client, history=list(history),
            decide=make_decide(self, client, history), notices=make_notices(self),
            unsaid=[c for c in self._all_clients() if c != client], risk_intent=risk_intent(),
        )  # fmt: skip
        answer_id = uuid.uuid4().hex

        def on_answer(answer: Answer) -> None:
            self.answers.add(answer_id, principal.user, client)  # only they may rate it
            self.audit.record(
                "ask", principal, client=client, question=redact(question),
                turns=len(history) // 2 + 1, abstained=answer.abstained, mode=answer.mode,
                sources=[f"{c.scope}:{c.source}" for c in answer.citations],
            )  # fmt: skip

        return AnswerStream(
            chunks,
            scopes,
            finish=self._annotate,
            on_answer=on_answer,
            allowed=self.settings.link_origins,
            answer_id=answer_id,
        )

    def _annotate(self, answer: Answer) -> None:
        """Warn when cited client documents disagree or are older than the configured age."""
        if answer.mode == "offline" and not answer.abstained:
            return  # the offline answer says its notices itself, in its "Watch out" part
        if answer.citations:
            from advisor.assessment.notices import annotate

            annotate(answer, self.embeddings, self.settings.stale_after_days)

    def memo(
        self,
        principal: Principal,
        topic: str,
        client: str | None = None,
        history: Sequence[dict[str, str]] = (),
        model=None,
    ):
        """A cited recommendation memo on `topic` for `client`."""
        from advisor.memo.draft import draft_memo

        client, scopes = self.scope(principal, client)
        if model is None and self.settings.use_llm:
            from advisor.core.llm import load_chat_model

            model = load_chat_model(self.settings)
        memo = draft_memo(
            self.retriever, self.embeddings, topic, client=client, history=history, model=model
        )
        if client:
            self._memo_conflicts(memo, client)
        memo.citations = visible(memo.citations, scopes, "memo")
        clean_model(memo)  # control characters would break the Word export and terminals
        self.audit.record(
            "memo", principal, client=client, topic=redact(topic),
            sources=[f"{c.scope}:{c.source}" for c in memo.citations],
        )  # fmt: skip
        return memo

    def _memo_conflicts(self, memo, client: str) -> None:
        """Flag figures the memo quotes that another document of the client states differently
        (the same fact extractor as answers and assessments); the other side is cited too."""
        from advisor.answering.answer import citation_for
        from advisor.answering.facts import find_conflicts

        quoted = " ".join(
            [*(p for points in memo.sections.values() for p in points)]
            + [c for row in memo.options for c in (row.benefits, row.costs, row.risks)]
        )
        quoted = " ".join(quoted.split())
        by_source = {(c.scope, c.source): c.n for c in memo.citations}
        if not any(scope == client for scope, _ in by_source):
            return
        chunks = [p for p in self.store.chunks_in([client]) if p.scope == client]
        for k in find_conflicts(chunks, self.embeddings):
            sides = ((k.first, k.first_sentence), (k.second, k.second_sentence))
            if not any(
                (p.scope, p.source) in by_source and " ".join(s.split())[:80] in quoted
                for p, s in sides
            ):
                continue  # a disagreement about something the memo does not quote
            numbers = []
            for p, _ in sides:
                if (p.scope, p.source) not in by_source:
                    n = len(memo.citations) + 1
                    memo.citations.append(citation_for(n, p))
                    by_source[(p.scope, p.source)] = n
                numbers.append(by_source[(p.scope, p.source)])
            memo.conflicts.append(k.describe(*numbers))
        if memo.conflicts:
            note = "The client's documents disagree: " + "; ".join(memo.conflicts) + "."
            memo.warning = f"{memo.warning} {note}" if memo.warning else note

    def assess(self, principal: Principal, client: str | None, model=None):
        """The practice assessment of `client` against the CTO's checklist (see Settings.checklist)."""
        from advisor.assessment.assess import Assessor
        from advisor.assessment.checklist import load_checklist

        client, scopes = self.scope(principal, client)
        if not client:
            raise InputError("an assessment is of one client: choose one (--client NAME)")
        if model is None and self.settings.use_llm:
            from advisor.core.llm import load_chat_model

            model = load_chat_model(self.settings)
        checklist = load_checklist(self.settings.checklist)
        result = Assessor(self.store, self.embeddings, self.settings).assess(
            checklist, client, model=model
        )
        result.citations = visible(result.citations, scopes, "assessment")
        clean_model(result)
        self.audit.record(
            "assess", principal, client=client,
            sources=[f"{c.scope}:{c.source}" for c in result.citations],
        )  # fmt: skip
        return result

    def draft_checklist(self, principal: Principal) -> str:
        """A checklist proposed from the indexed playbooks' sections (YAML for the CTO to edit)."""
        from advisor.assessment.checklist import draft_checklist

        if not principal.is_cto:
            raise AccessError(f"{principal.user} may not draft the checklist: only a CTO may")
        return draft_checklist(self.store.chunks_in([PLAYBOOK_SCOPE]))

    # -- index --------------------------------------------------------------------------------

    def ingest(self, principal: Principal, paths, client: str | None = None, **options: Any):
        """Parse, chunk, embed and store files or folders; returns the run's report."""
        from ingest.pipeline import ingest_paths
        from ingest.sandbox import warm_up

        client = self._writable(principal, client)
        store = self.store  # a damaged or unreachable index is said before anything starts
        warm_up()  # the parsers load on the other core while the files hash
        # The model is loaded only if some file actually needs embedding.
        report = ingest_paths(
            paths,
            client=client,
            settings=self.settings,
            embeddings=self._embeddings or (lambda: self.embeddings),
            store=store,
            **options,
        )
        if "retriever" in self.__dict__:  # what was just indexed is answerable when this returns
            self.retriever.refresh()
        self.audit.record(
            "ingest", principal, client=client,
            files=[f"{f.status}:{Path(f.path).name}" for f in report.files],
        )  # fmt: skip
        return report

    def ingest_repo(
        self,
        principal: Principal,
        location: str,
        client: str,
        branch: str | None = None,
        progress=None,
    ):
        """Index a client's code repository (a local path or a clone URL); CTO only: a path or a
        file:// URL reads whatever repository this machine holds."""
        from ingest.repo import ingest_repository
        from ingest.sandbox import warm_up

        if not principal.is_cto:
            raise AccessError(f"{principal.user} may not add a repository: only a CTO may")
        client = self._writable(principal, client)
        if not client:
            raise InputError("a repository belongs to one client: choose one (--client NAME)")
        warm_up()
        report = ingest_repository(
            location, client=client, settings=self.settings, branch=branch, progress=progress,
            embeddings=self._embeddings or (lambda: self.embeddings), store=self.store,
        )  # fmt: skip
        if "retriever" in self.__dict__:  # answerable when this returns, as after an ingest
            self.retriever.refresh()
        self.audit.record(
            "ingest_repo", principal, client=client, repository=report.location,
            head=report.head, chunks=report.chunks,
        )  # fmt: skip
        return report

    def repositories(self, principal: Principal, client: str) -> list[dict[str, Any]]:
        """A client's indexed repositories and their authors (emails masked unless a CTO)."""
        from advisor.service.repos import repositories

        client = principal.resolve_client(client_name(client))
        return repositories(self.settings, principal, client)

    def _writable(self, principal: Principal, client: str | None) -> str | None:
        """The canonical client to write into (None: the playbooks), if this principal may."""
        client = client_name(client) if client else None
        scope = client or PLAYBOOK_SCOPE
        if not principal.may_write_scope(scope):
            raise AccessError(f"{principal.user} may not add documents to {scope!r}")
        return client

    def upload(
        self,
        principal: Principal,
        files: Sequence[tuple[str, bytes]],
        client: str | None,
        on_file=None,
    ):
        """Save uploaded (name, bytes) pairs into a scope the principal may write, and ingest them."""
        from advisor.service.uploads import ingest_uploads

        client = self._writable(principal, client)
        results = ingest_uploads(self, principal, files, client, on_file)
        self.audit.record(
            "upload", principal, client=client,
            files=[f"{r.status}:{r.name}" for r in results],
        )  # fmt: skip
        return results

    def reset(self, principal: Principal) -> str:
        """Drop the index, the manifest and every cache derived from them; returns where."""
        if not principal.is_cto:
            raise AccessError(f"{principal.user} may not reset the index: only a CTO may")
        where = delete_collection(self.settings)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.settings.manifest_path}{suffix}").unlink(missing_ok=True)
        for derived in self.settings.derived_dirs:
            shutil.rmtree(derived, ignore_errors=True)
        self.__dict__.pop("store", None)
        self.__dict__.pop("retriever", None)
        self.__dict__.pop("answerer", None)
        self.__dict__.pop("_clients_cache", None)
        self.audit.record("delete", principal, what="the whole index", where=where)
        return where

    def rebuild(self, principal: Principal, **options: Any) -> dict[str, Any]:
        """Rebuild a damaged index from the documents it was built from (the manifest's list,
        or the index's own metadata): the old index and manifest are kept beside, renamed,
        then every folder and file is ingested again under its scope. CTO only."""
        from ingest.lock import exclusive
        from ingest.repair import keep_aside, plan_rebuild

        if not principal.is_cto:
            raise AccessError(f"{principal.user} may not rebuild the index: only a CTO may")
        settings = self.settings
        with exclusive(settings.data_dir, settings.ingest_lock_wait):
            plan = plan_rebuild(settings)
            repos = self._indexed_repositories()
            if not plan and not repos:
                raise InputError(
                    "nothing says what was indexed here (no readable manifest or index): ingest "
                    "your folders again with `cto-advisor ingest FOLDER [--client NAME]`"
                )
            kept = [set_aside_index(settings)]
            if settings.manifest_path.exists():
                kept.append(f"kept the old manifest as {keep_aside(settings.manifest_path, 'old')}")
            for derived in settings.derived_dirs:
                shutil.rmtree(derived, ignore_errors=True)
        for name in ("store", "retriever", "answerer", "_clients_cache"):
            self.__dict__.pop(name, None)
        self._store = None
        reports = []
        for scope, paths in plan.batches():
            client = None if scope == PLAYBOOK_SCOPE else scope
            reports.append(self.ingest(principal, paths, client=client, **options))
        missing, repositories = sorted(str(p) for p in plan.missing), []
        for client, repo in repos:  # each repository again, from where it was read
            try:
                repositories.append(
                    self.ingest_repo(principal, repo["location"], client, branch=repo["branch"])
                )
            except (AdvisorError, OSError) as exc:
                missing.append(f"{repo['location']} ({exc})")
        self.audit.record("rebuild", principal, folders=sum(len(p) for _, p in plan.batches()))
        return {
            "from": plan.source,
            "kept": kept,
            "missing": missing,
            "reports": reports,
            "repositories": repositories,
        }

    def _indexed_repositories(self) -> list[tuple[str, dict[str, Any]]]:
        """(client, repository) for every repository indexed here (their state files)."""
        from ingest.repo.state import RepoState

        root = self.settings.data_dir / "repos"
        found = []
        for state in sorted(root.glob("*/state.sqlite")) if root.is_dir() else []:
            with RepoState(state) as repos:
                found += [(state.parent.name, repo) for repo in repos.repos()]
        return found

    def forget(self, principal: Principal, client: str) -> dict[str, int]:
        """Remove everything held about one client: chunks, manifest rows, derived caches,
        uploads, feedback and chats, and its founders' sessions. A client's contract ends; their data
        goes. CTO only."""
        from advisor.service.feedback import FeedbackStore
        from advisor.service.sessions import SessionStore
        from advisor.service.uploads import upload_dir
        from ingest.lock import exclusive
        from ingest.manifest import Manifest
        from ingest.repo import repos_dir

        if not principal.is_cto:
            raise AccessError(f"{principal.user} may not forget a client: only a CTO may")
        client = client_name(client)
        settings = self.settings
        journal = settings.data_dir / FORGETTING
        store = self.store  # opened first: opening finishes an earlier, interrupted forget
        # No ingest may write this client's files back while they are being removed.
        with exclusive(settings.data_dir, settings.ingest_lock_wait):
            # Journalled first: a forget killed half-way is finished by the next process.
            with open(journal, "a", encoding="utf-8") as fh:
                fh.write(client + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            chunks = sum(r["chunks"] for r in store.source_stats() if r["scope"] == client)
            store.delete_scope(client)  # the store first: nothing of theirs stays visible
            with Manifest(settings.manifest_path) as manifest:
                files = len(manifest.delete_scope(client))
            store.bump_generation(forgotten=[client])
            purge_deleted(settings, client)
            repos = repos_dir(settings, client)  # mirrors and history: authors' names, emails
            repositories = sum(1 for p in repos.iterdir() if p.is_dir()) if repos.exists() else 0
            shutil.rmtree(repos, ignore_errors=True)
        for derived in settings.derived_dirs:
            shutil.rmtree(derived, ignore_errors=True)  # rebuilt from what remains
        uploads = upload_dir(settings, client)
        uploaded = sum(1 for p in uploads.rglob("*") if p.is_file()) if uploads.exists() else 0
        shutil.rmtree(uploads, ignore_errors=True)
        feedback = FeedbackStore(settings).forget(client)
        self.answers.forget(client)
        chats = self.conversations.forget_client(client, principal)
        SessionStore(settings).end_client(client, reason="client forgotten")  # its founders
        for name in ("retriever", "answerer"):
            self.__dict__.pop(name, None)
        left = [c for c in self._forgetting() if c != client]
        if left:
            journal.write_text("".join(f"{c}\n" for c in left), encoding="utf-8")
        else:
            journal.unlink(missing_ok=True)
        gone = {
            "chunks": chunks, "files": files, "uploads": uploaded, "feedback": feedback,
            "repositories": repositories,
            "chats": chats,
        }  # fmt: skip
        # The client's questions stay in the audit only sealed with its key: destroy the key.
        self.audit.forget_client(principal, client, **gone)
        return gone

    @cached_property
    def _clients_cache(self):
        from advisor.core.refresh import VersionedCache

        return VersionedCache(self.settings.refresh_inline_chunks)

    def _all_clients(self, now: bool = False) -> list[str]:
        # Every question checks its client against this list, and reading every chunk's
        # metadata takes seconds at 100k chunks: recompute only when an ingest has bumped the
        # store's generation (in any process, on a shared server), and at scale in the
        # background, answering meanwhile from the list as it was (`now`: not good enough).
        def build() -> tuple[list[str], int]:
            stats = self.store.source_stats()
            clients = sorted({r["scope"] for r in stats} - {PLAYBOOK_SCOPE})
            return clients, sum(r["chunks"] for r in stats)

        clients, _ = self._clients_cache.get(
            "clients", self.store.version, build, size=lambda value: value[1], now=now
        )
        return list(clients)

    def clients(self, principal: Principal, now: bool = False) -> list[str]:
        """Client names with documents in the index that this principal may see."""
        return [c for c in self._all_clients(now) if principal.may_read_scope(c)]

    def require_client(self, principal: Principal, client: str | None) -> None:
        """Refuse an unknown client: a typo would otherwise answer from the playbooks alone."""
        if not client:
            return
        client = principal.resolve_client(client_name(client))
        # Not in the list as it was: perhaps just ingested (elsewhere); look again at once.
        if client not in self.clients(principal) and client not in (
            known := self.clients(principal, now=True)
        ):
            raise NotFoundError(
                f"no documents for client {client!r}: known clients are "
                f"{', '.join(known) or 'none'} (index theirs with "
                f"`cto-advisor ingest PATH --client {client}`)"
            )

    def documents(self, principal: Principal, client: str | None = None) -> list[dict[str, Any]]:
        """One row per indexed document this principal may see (optionally one client's)."""
        rows = [r for r in self.store.source_stats() if principal.may_read_scope(r["scope"])]
        if client:
            client = principal.resolve_client(client_name(client))
            rows = [r for r in rows if r["scope"] in (client, PLAYBOOK_SCOPE)]
        return rows

    # -- files --------------------------------------------------------------------------------

    def may_download(self, principal: Principal, scope: str) -> bool:
        """Whether this principal may download the original files of `scope`."""
        if not principal.may_read_scope(scope):
            return False
        if scope == PLAYBOOK_SCOPE and not principal.is_cto:
            return self.settings.founders_may_download_playbooks
        return True

    def download(self, principal: Principal, source: str, scope: str | None = None) -> Path:
        """The original file of an indexed document this principal may download.

        The file is looked up in the index by its `source` (and `scope` when two scopes hold
        the same name), never taken from the caller as a path; a document the principal may
        not see is refused with the same words as one that does not exist.
        """
        rows = [
            r
            for r in self.store.source_stats()
            if r["source"] == source
            and (scope is None or r["scope"] == scope)
            and principal.may_read_scope(r["scope"])
        ]
        missing = AccessError(f"no document {source!r} that {principal.user} may download")
        if not rows:
            self.audit.record("download_refused", principal, source=str(source)[:300])
            raise missing
        if len(rows) > 1:
            raise InputError(
                f"{source!r} exists in {', '.join(r['scope'] for r in rows)}: say which scope"
            )
        row = rows[0]
        if not self.may_download(principal, row["scope"]):
            self.audit.record("download_refused", principal, client=row["scope"], source=source)
            raise AccessError(
                "playbook files are the CTO's: you can read the cited passages, and a CTO can "
                "allow downloads with ADVISOR_FOUNDERS_MAY_DOWNLOAD_PLAYBOOKS=true"
            )
        root = Path(str(row["root"] or "")).resolve()
        path = (root / source).resolve()
        if not row["root"] or not path.is_relative_to(root) or not path.is_file():
            self.audit.record("download_refused", principal, client=row["scope"], source=source)
            raise missing
        client = None if row["scope"] == PLAYBOOK_SCOPE else row["scope"]
        self.audit.record("download", principal, client=client, source=source)
        return path

    # -- feedback -----------------------------------------------------------------------------

    def feedback(self, principal: Principal, record):
        """Store a rating of an answer, as this principal, for a client it may use."""
        from advisor.service.feedback import FeedbackStore

        client = principal.resolve_client(client_name(record.client) if record.client else None)
        answer_id = record.answer_id.removeprefix("chatcmpl-")  # an OpenAI completion's id
        owner = self.answers.owner(answer_id)
        if owner is None or owner[0] != principal.user:
            # The same words whether the answer is someone else's or does not exist.
            self.audit.record("feedback_refused", principal, answer_id=answer_id[:80])
            raise NotFoundError(
                f"no answer {answer_id[:80]!r} was given to {principal.user}: rate an answer "
                "you were given, by the id it came with"
            )
        client = owner[1]
        record = record.model_copy(
            update={"user": principal.user, "client": client, "answer_id": answer_id}
        )
        FeedbackStore(self.settings).record(record)
        self.audit.record(
            "feedback", principal, client=client, answer_id=record.answer_id, rating=record.rating
        )
        return record

    def feedback_records(self, principal: Principal) -> list:
        """The current ratings this principal may see: a CTO all, a founder their own."""
        from advisor.service.feedback import FeedbackStore

        latest = FeedbackStore(self.settings).latest().values()
        if principal.is_cto:
            return list(latest)
        return [r for r in latest if r.user == principal.user]

    def export_feedback(self, principal: Principal, out: Path | None = None):
        """Thumbs-down answers as eval cases (CTO only); written to `out` when given."""
        from advisor.service.feedback import write_eval_cases

        if not principal.is_cto:
            raise AccessError(f"{principal.user} may not export feedback: only a CTO may")
        lines, written = write_eval_cases(self.settings, self.embeddings, out)
        self.audit.record("feedback_export", principal, cases=len(lines), out=str(out or "-"))
        return lines, written

    def status(self, principal: Principal) -> dict[str, Any]:
        """Counts and settings for `status --json` and the app's sidebar."""
        sources = self.documents(principal)
        warnings: list[str] = []
        redactions = self._redactions(warnings)
        return {
            "documents": len(sources),
            "chunks": sum(r["chunks"] for r in sources),
            "clients": sorted({r["scope"] for r in sources} - {PLAYBOOK_SCOPE}),
            "embedding_model": self.store.embedding_model,
            "store": self.store.location() if principal.is_cto else "",
            "data_dir": str(self.settings.data_dir.resolve()) if principal.is_cto else "",
            "answers_go_to": self.settings.answer_destination,
            "dotenv": {"path": str(Path(".env").resolve()), "settings": dotenv}
            if (dotenv := self.settings.dotenv_settings()) and principal.is_cto
            else None,
            "last_ingest": self.store.updated_at,
            "warnings": warnings if principal.is_cto else [],
            "sources": [
                {k: r[k] for k in ("source", "scope", "chunks", "pages", "title")}
                | {"redactions": redactions.get((r["root"], r["source"]), 0)}
                for r in sources
            ],
        }

    def _redactions(self, warnings: list[str]) -> dict[tuple[str, str], int]:
        """Secrets redacted per indexed file, from the ingest manifest (read only: a damaged
        one is reported in `warnings`, and the next ingest rebuilds it)."""
        from ingest.manifest import Manifest, ManifestDamaged

        if not self.settings.manifest_path.exists():
            return {}
        try:
            with Manifest(self.settings.manifest_path, read_only=True) as manifest:
                rows = {key: row.redactions for key, row in manifest.rows().items()}
            try:  # readable, but the next ingest must write it too
                Manifest(self.settings.manifest_path).close()
            except ManifestDamaged as exc:
                warnings.append(str(exc))
            return rows
        except ManifestDamaged as exc:
            warnings.append(str(exc))
            return {}
