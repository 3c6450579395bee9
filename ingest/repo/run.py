"""`ingest-repo`: mirror a repository, read its new commits, and index its documentation and its
derived facts (stack, who knows what, how the team ships) as the client's chunks.

Incremental by commit: the state remembers the last indexed commit of each repository and
branch; a re-run fetches, reads only the new commits, re-blames only changed files, re-parses
only changed documentation and rewrites only documents whose text changed.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from advisor.core.clients import client_name
from advisor.core.models import Chunk
from advisor.core.settings import Settings
from advisor.core.store import Store
from ingest.files import check_size, credential_name, kind_from_name
from ingest.parse import ParsedDoc
from ingest.pipeline import journalled, writer_lock
from ingest.repo.history import read_history
from ingest.repo.knowledge import component_titles, compute, last_changes
from ingest.repo.render import FactDoc, cadence_doc, facts_json, knowledge_docs, stack_docs
from ingest.repo.source import locate, mirror, repos_dir, resolve_branch
from ingest.repo.stack import build_profile
from ingest.repo.state import RepoState
from ingest.repo.tree import RepoFile, blame_lines, classify_tree, is_test
from ingest.worker import _chunker, redact_doc

# Bumped when what is derived or how it is rendered changes: every document is rewritten once.
RENDER_RULES = "2026-12 repo facts v1"
REPO_FILE_TYPE = "repo"  # `file_type` of derived fact chunks
DOC_KINDS = ("md", "text", "html", "pdf", "docx", "pptx")

Progress = Callable[[str], None]


@dataclass
class RepoReport:
    """What one `ingest-repo` run did."""

    repository: str
    location: str
    branch: str
    head: str
    previous: str | None
    new_commits: int = 0
    commits: int = 0
    files: int = 0
    counted_files: int = 0
    excluded: dict[str, int] = field(default_factory=dict)
    indexed: list[str] = field(default_factory=list)  # sources written this run
    unchanged: int = 0
    removed: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    chunks: int = 0
    redactions: int = 0
    seconds: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["seconds"] = round(self.seconds, 3)
        data["stage_seconds"] = {k: round(v, 3) for k, v in self.stage_seconds.items()}
        return data


def doc_id_for(client: str, key: str, kind: str, path: str) -> str:
    return hashlib.sha1(f"repo\n{client}\n{key}\n{kind}\n{path}".encode()).hexdigest()[:16]


def source_for(repo: str, path: str, sha: str) -> str:
    """How a repository source reads in citations: ``repo/path@abc1234`` (``repo@abc1234``)."""
    return f"{repo}/{path}@{sha[:7]}" if path else f"{repo}@{sha[:7]}"


def _resolve_embeddings(embeddings):
    if hasattr(embeddings, "embed_documents"):
        return embeddings
    return embeddings()


class _Clock:
    def __init__(self, report: RepoReport) -> None:
        self.report = report
        self.t = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.report.stage_seconds[stage] = self.report.stage_seconds.get(stage, 0.0) + now - self.t
        self.t = now


def ingest_repository(
    location: str,
    *,
    client: str,
    settings: Settings,
    embeddings,
    store: Store,
    branch: str | None = None,
    progress: Progress | None = None,
) -> RepoReport:
    """Index one repository for `client` (see the module docstring)."""
    client = client_name(client)
    loc = locate(location)
    say = progress or (lambda _msg: None)
    base = repos_dir(settings, client)
    started = time.perf_counter()
    with writer_lock(settings, store):  # as a document ingest: one writer at a time
        say(f"fetching {loc.shown}")
        git_dir = mirror(loc, base / loc.key / "mirror.git")
        with RepoState(base / "state.sqlite") as state:
            return _Run(loc, client, settings, store, embeddings, state, say).run(
                git_dir, branch, started
            )


class _Run:
    def __init__(self, loc, client, settings, store, embeddings, state, say) -> None:
        self.loc = loc
        self.client = client
        self.settings = settings
        self.store = store
        self.embeddings = embeddings
        self.state = state
        self.say = say

    def run(self, git_dir: Path, branch: str | None, started: float) -> RepoReport:
        import pygit2

        repo = pygit2.Repository(str(git_dir))
        branch, head = resolve_branch(repo, branch)
        key = self.loc.key
        prev = self.state.repo(key)
        report = RepoReport(
            self.loc.name, self.loc.shown, branch, head, prev["head"] if prev else None
        )
        clock = _Clock(report)
        clock.t = started
        clock.lap("fetch")
        last = prev["head"] if prev and prev["branch"] == branch else None
        if prev and prev["branch"] != branch:
            self.state.forget_history(key)
        self.say(f"reading history of {branch}")
        report.new_commits = read_history(
            repo, key, head, last, self.state, is_test, lambda n: self.say(f"{n} commits read")
        )
        clock.lap("history")
        files, contents = classify_tree(repo, head)
        report.files = len(files)
        report.counted_files = sum(1 for f in files if not f.excluded)
        for f in files:
            if f.excluded:
                report.excluded[f.excluded] = report.excluded.get(f.excluded, 0) + 1
        clock.lap("tree")
        self.say("blaming current lines")
        try:
            mailmap = pygit2.Mailmap.from_repository(repo)
        except pygit2.GitError:
            mailmap = None
        blame = blame_lines(str(git_dir), head, files, self.state.blamed(key), mailmap)
        self.state.save_blame(key, blame)
        clock.lap("blame")
        commits = self.state.commits(key)
        changes = self.state.changes(key)
        renames = self.state.renames(key)
        report.commits = len(commits)
        knowledge = compute(
            files, commits, changes, renames, blame, component_titles(files, contents)
        )
        profile = build_profile(files, contents)
        facts = stack_docs(self.loc.name, head, profile, knowledge)
        facts += knowledge_docs(self.loc.name, head, knowledge)
        facts.append(cadence_doc(self.loc.name, head, knowledge, profile))
        clock.lap("facts")
        changed_at = last_changes(commits, changes, renames)
        docs = self._documents(files, changed_at, report)
        self._write(repo, head, knowledge.window_end, facts, docs, report)
        clock.lap("index")
        collection = self.store.version[0]
        self.state.save_repo(
            key, self.loc.name, self.loc.shown, branch, head, collection, time.time()
        )
        report.seconds = time.perf_counter() - started
        return report

    # -- documentation --------------------------------------------------------------------

    def _documents(self, files: list[RepoFile], changed_at: dict, report) -> list[tuple]:
        """(file, kind, commit sha, commit time) of every documentation file to index."""
        out = []
        for f in files:
            if f.excluded or not f.documentation:
                continue
            kind = kind_from_name(Path(f.path))
            if kind not in DOC_KINDS:
                continue
            refused = credential_name(Path(f.path)) or check_size(
                Path(f.path), f.size, self.settings.max_file_mb
            )
            if refused:
                report.skipped.append((f.path, refused))
                continue
            sha, when = changed_at.get(f.path, (report.head, 0))
            out.append((f, kind, sha, when))
        return out

    def _parse_docs(self, repo, todo: list[tuple]) -> dict[str, tuple]:
        """Parse documentation blobs in the sandboxed parser pool (as `ingest` does)."""
        from ingest.sandbox import ParsePool

        if not todo:
            return {}
        settings = self.settings
        model = self.store.embedding_model
        out: dict[str, tuple] = {}
        with tempfile.TemporaryDirectory(prefix="repo-docs-") as tmp:
            os.chmod(tmp, 0o700)
            jobs = []
            for i, (f, kind, sha, when) in enumerate(todo):
                folder = Path(tmp) / str(i)
                folder.mkdir()
                path = folder / posixpath.basename(f.path)
                path.write_bytes(repo[f.blob].data)
                jobs.append(
                    (
                        (f, kind, sha, when),
                        (str(path), kind, model, settings.chunk_tokens, settings.chunk_max_chars),
                    )
                )
            workers = max(1, min(2, len(jobs), (os.cpu_count() or 1) - 1))
            with ParsePool(
                workers,
                settings.parse_timeout,
                settings.parse_memory_mb,
                {k for _, k, _, _ in todo},
            ) as pool:
                for item, outcome in pool.run(jobs):
                    out[item[0].path] = (item, outcome)
        return out

    # -- writing --------------------------------------------------------------------------

    def _fact_chunks(self, fact: FactDoc, head: str, when: float) -> tuple[str, list[Chunk], int]:
        doc: ParsedDoc = fact.doc
        redactions = redact_doc(doc)  # every text read from the repository goes through it
        drafts = _chunker(
            self.store.embedding_model, self.settings.chunk_tokens, self.settings.chunk_max_chars
        ).chunk(doc)
        doc_id = doc_id_for(self.client, self.loc.key, fact.kind, fact.path)
        source = source_for(self.loc.name, fact.path, head)
        chunks = [
            Chunk(
                id=f"{doc_id}:{i}", text=d.text, source=source, root="", doc_id=doc_id,
                title=doc.title, section=d.section, scope=self.client, sha256=head,
                chunk_index=i, mtime=when, file_type=REPO_FILE_TYPE, commit=head,
                facts=facts_json({"kind": fact.kind, "repo": self.loc.name, **fact.facts}),
            )
            for i, d in enumerate(drafts)
        ]  # fmt: skip
        return doc_id, chunks, redactions

    def _write(self, repo, head, window_end, facts, docs, report: RepoReport) -> None:
        key = self.loc.key
        known = self.state.docs(key)
        if self.state.repo(key) and self.state.repo(key)["collection"] != self.store.version[0]:
            known = {}  # the index was reset or replaced since: everything is written again
        wanted: dict[str, tuple[str, list[Chunk], str]] = {}
        for fact in facts:
            doc_id, chunks, n = self._fact_chunks(fact, head, float(window_end))
            report.redactions += n
            wanted[doc_id] = (_digest(chunks), chunks, chunks[0].source if chunks else "")
        parse = []
        for f, kind, sha, when in docs:
            doc_id = doc_id_for(self.client, key, "doc", f.path)
            digest = f"{RENDER_RULES}:{f.blob}:{sha}"
            if known.get(doc_id, ("",))[0] == digest:
                wanted[doc_id] = (digest, [], known[doc_id][2])  # unchanged: not parsed
                continue
            parse.append((f, kind, sha, when))
        for path, ((f, kind, sha, when), outcome) in self._parse_docs(repo, parse).items():
            if outcome.error or not outcome.drafts:
                report.skipped.append((path, outcome.error or "no text found"))
                continue
            doc_id = doc_id_for(self.client, key, "doc", path)
            source = source_for(self.loc.name, path, sha)
            report.redactions += outcome.redactions
            chunks = [
                Chunk(
                    id=f"{doc_id}:{i}", text=d.text, source=source, root="", doc_id=doc_id,
                    title=outcome.title, section=d.section, page=d.page if outcome.paging == "page" else None,
                    slide=d.page if outcome.paging == "slide" else None, scope=self.client,
                    sha256=f.blob, chunk_index=i, mtime=float(when or window_end), file_type=kind,
                    commit=sha,
                )
                for i, d in enumerate(outcome.drafts)
            ]  # fmt: skip
            wanted[doc_id] = (f"{RENDER_RULES}:{f.blob}:{sha}", chunks, source)
        write = [
            (doc_id, digest, chunks, source)
            for doc_id, (digest, chunks, source) in wanted.items()
            if chunks and (known.get(doc_id, ("",))[0] != digest)
        ]
        report.unchanged = len(wanted) - len(write)
        gone = [doc_id for doc_id in known if doc_id not in wanted]
        vectors = []
        all_chunks = [c for _, _, chunks, _ in write for c in chunks]
        if write:
            self.say(f"embedding {len(all_chunks)} chunks")
            vectors = _resolve_embeddings(self.embeddings).embed_documents(
                [c.context_text() for c in all_chunks]
            )
        if write or gone:
            # Journalled, then only this client's caches rebuild (see ingest/pipeline.journalled).
            with journalled(self.settings, self.store, [self.client]):
                if write:
                    self.store.replace_docs(
                        all_chunks, vectors, [d for d, *_ in write if d in known]
                    )
                if gone:
                    self.store.delete_docs(gone)
        if write:
            report.chunks = len(all_chunks)
            report.indexed = [source for *_, source in write]
        report.removed = len(gone)
        self.state.save_docs(
            key, [(d, digest, len(chunks), source) for d, digest, chunks, source in write]
        )
        self.state.drop_docs(key, gone)


def _digest(chunks: list[Chunk]) -> str:
    h = hashlib.sha256(RENDER_RULES.encode())
    for c in chunks:
        h.update(f"\n{c.source}\n{c.title}\n{c.section}\n{c.text}\n{c.facts}".encode())
    return h.hexdigest()
