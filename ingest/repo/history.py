"""Reading a branch's commits with pygit2 (libgit2): who changed which files, how many lines,
renames, merges and whether tests were touched. Incremental: only commits that are new since
the last run are read; a rewritten branch (force-push) is read again from scratch."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from ingest.repo.state import RepoState

BATCH = 500  # commits written to the state per transaction


def identity(mailmap, name: str | None, email: str | None) -> tuple[str, str]:
    """(name, email) after the repository's .mailmap, whitespace tidied."""
    name, email = name or "", email or ""
    if mailmap is not None:
        with contextlib.suppress(ValueError, TypeError):
            name, email = mailmap.resolve(name, email)
    return " ".join(name.split()) or email or "unknown", email.strip().lower()


def read_history(
    repo,
    key: str,
    head: str,
    last: str | None,
    state: RepoState,
    is_test: Callable[[str], bool],
    progress: Callable[[int], None] | None = None,
) -> int:
    """Store the commits reachable from `head` that were not read before; returns how many.

    Merge commits are recorded as merges without changes: their changes were authored in the
    commits they merge, which are read (and credited to their authors) on their own.
    """
    import pygit2
    from pygit2.enums import DiffFind, SortMode

    if last and last != head:
        try:
            known = repo.get(last) is not None and repo.descendant_of(head, last)
        except (pygit2.GitError, ValueError):
            known = False
        if not known:
            state.forget_history(key)  # the branch was rewritten: read it again
            last = None
    if last == head:
        return 0
    try:
        mailmap = pygit2.Mailmap.from_repository(repo)
    except pygit2.GitError:
        mailmap = None
    walker = repo.walk(pygit2.Oid(hex=head), SortMode.TOPOLOGICAL | SortMode.TIME)
    if last:
        walker.hide(pygit2.Oid(hex=last))
    commits: list[tuple] = []
    changes: list[tuple] = []
    renames: list[tuple] = []
    total = 0
    for commit in walker:
        name, email = identity(mailmap, commit.author.name, commit.author.email)
        when = int(commit.author.time)
        sha = str(commit.id)
        if len(commit.parents) > 1:
            commits.append((sha, name, email, when, 1, 0))
        else:
            if commit.parents:
                diff = commit.parents[0].tree.diff_to_tree(commit.tree)
            else:
                diff = commit.tree.diff_to_tree(swap=True)  # the root commit: from nothing
            diff.find_similar(DiffFind.FIND_RENAMES)
            tests = False
            for patch in diff:
                delta = patch.delta
                path = delta.new_file.path if delta.status_char() != "D" else delta.old_file.path
                if delta.status_char() == "R" and delta.old_file.path != delta.new_file.path:
                    renames.append((sha, when, delta.old_file.path, delta.new_file.path))
                _, added, deleted = patch.line_stats
                changes.append((sha, path, added, deleted))
                tests = tests or is_test(path)
            commits.append((sha, name, email, when, 0, int(tests)))
        total += 1
        if len(commits) >= BATCH:
            state.add_commits(key, commits, changes, renames)
            commits, changes, renames = [], [], []
            if progress is not None:
                progress(total)
    state.add_commits(key, commits, changes, renames)
    return total
