"""The files of the indexed commit, each classified the way GitHub's linguist does (go-enry, its
Go port): language, vendored, generated, binary, documentation, test; plus the repository's own
.gitignore rules. Only what is left (the team's own code and text) counts towards languages,
ownership and documentation."""

from __future__ import annotations

import os
import posixpath
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache

# Blobs larger than this are not read whole (their language comes from the name alone).
READ_LIMIT = 1 << 20
# Blame only text files up to this size; larger ones are data, not code anyone "knows".
BLAME_LIMIT = 512 * 1024
_SYMLINK = 0o120000
_SUBMODULE = 0o160000
# Path segments the issue names as documentation even outside docs/ (runbooks, ADRs).
_DOC_SEGMENTS = ("runbook", "runbooks", "adr", "adrs", "decisions")


@dataclass
class RepoFile:
    path: str
    blob: str
    size: int
    language: str = ""
    language_type: str = ""  # programming | markup | data | prose (linguist's types)
    excluded: str = ""  # why it does not count: vendored | generated | binary | ignored
    documentation: bool = False
    test: bool = False


@lru_cache(maxsize=1)
def _enry():
    import enry

    return enry


def is_test(path: str) -> bool:
    return _enry().is_test(path)


def is_vendored(path: str) -> bool:
    return _enry().is_vendor(path)


def _walk(repo, tree, prefix: str = "") -> Iterator[tuple[str, object]]:
    for entry in tree:
        path = f"{prefix}{entry.name}"
        if entry.filemode in (_SYMLINK, _SUBMODULE):
            continue
        if entry.type_str == "tree":
            yield from _walk(repo, repo[entry.id], f"{path}/")
        elif entry.type_str == "blob":
            yield path, entry


class IgnoreRules:
    """The repository's committed .gitignore files (nested ones apply below their folder)."""

    def __init__(self, specs: dict[str, object]) -> None:
        self.specs = specs  # folder ("" or "a/b/") -> pathspec.GitIgnoreSpec

    @classmethod
    def from_tree(cls, repo, files: dict[str, object]) -> IgnoreRules:
        import pathspec

        specs = {}
        for path, entry in files.items():
            if posixpath.basename(path) == ".gitignore":
                text = repo[entry.id].data.decode("utf-8", errors="replace")
                folder = posixpath.dirname(path)
                specs[f"{folder}/" if folder else ""] = pathspec.GitIgnoreSpec.from_lines(
                    text.splitlines()
                )
        return cls(specs)

    def ignored(self, path: str) -> bool:
        verdict = None
        for folder, spec in sorted(self.specs.items(), key=lambda kv: len(kv[0])):
            if folder and not path.startswith(folder):
                continue
            result = spec.check_file(path[len(folder) :])
            if result.include is not None:
                verdict = result.include  # a deeper .gitignore overrides a shallower one
        return bool(verdict)


def classify_tree(repo, commit_sha: str) -> tuple[list[RepoFile], dict[str, bytes]]:
    """Every file of the commit, classified; plus the contents read (for manifests, docs)."""
    enry = _enry()
    commit = repo[commit_sha]
    entries = dict(_walk(repo, commit.tree))
    rules = IgnoreRules.from_tree(repo, entries)
    files: list[RepoFile] = []
    contents: dict[str, bytes] = {}
    for path, entry in sorted(entries.items()):
        blob = repo[entry.id]
        size = blob.size
        f = RepoFile(path, str(entry.id), size)
        name = posixpath.basename(path)
        if rules.ignored(path):
            f.excluded = "ignored"
        elif enry.is_vendor(path):
            f.excluded = "vendored"
        data = blob.data if size <= READ_LIMIT else b""
        if not f.excluded:
            head = data[:8000]
            if size and (blob.is_binary or enry.is_binary(head)):
                f.excluded = "binary"
            elif enry.is_generated(path, data):
                f.excluded = "generated"
        if not f.excluded or (f.excluded == "vendored" and path.startswith(".github/")):
            # linguist counts .github/ as vendored (not the team's code), but its workflows
            # are the repository's CI configuration: read them for the stack profile.
            contents[path] = data
        if not f.excluded:
            language = enry.get_language(name, data) if data else ""
            if not language:
                guess = enry.get_language_by_extension(name)
                language = getattr(guess, "language", "") or ""
            f.language = language
            f.language_type = enry.get_language_type(language) if language else ""
            segments = set(path.lower().split("/")[:-1])
            f.documentation = enry.is_documentation(path) or bool(segments & set(_DOC_SEGMENTS))
            f.test = enry.is_test(path)
        files.append(f)
    return files, contents


def blame_lines(
    git_dir: str, commit_sha: str, files: list[RepoFile], cached: dict, mailmap=None
) -> dict[tuple[str, str], dict[str, int]]:
    """Current lines per author for each counted text file, from `git blame` (GitPython).

    A file whose blob is unchanged since the last run keeps its cached ownership: blame of an
    unchanged file at an extended history only changes if history was rewritten.
    """
    import git

    from ingest.repo.history import identity

    local = threading.local()
    out: dict[tuple[str, str], dict[str, int]] = {}
    todo = []
    for f in files:
        if f.excluded or f.size > BLAME_LIMIT or f.language_type not in ("programming", "markup"):
            continue
        key = (f.path, f.blob)
        if key in cached:
            out[key] = cached[key]
        else:
            todo.append(f)

    def blame(f: RepoFile) -> tuple[tuple[str, str], dict[str, int] | None]:
        owners: dict[str, int] = {}
        if not hasattr(local, "repo"):
            local.repo = git.Repo(git_dir)  # one per thread: a Repo is not shared across threads
        try:
            for entry in local.repo.blame_incremental(commit_sha, f.path, w=True):
                author = entry.commit.author
                name, _email = identity(mailmap, author.name, author.email)
                owners[name] = owners.get(name, 0) + len(entry.linenos)
        except git.GitCommandError:
            return (f.path, f.blob), None  # a file git cannot blame counts no lines
        return (f.path, f.blob), owners

    # Each blame is a `git` process: one per core keeps both busy.
    with ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1)) as pool:
        for key, owners in pool.map(blame, todo):
            if owners is not None:
                out[key] = owners
    return out
