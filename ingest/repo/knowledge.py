"""Who knows what, and how the team ships, computed from the stored history.

Components are the top-level folders of the indexed commit (a folder that only holds folders,
such as ``services/``, is split into its subfolders). The window is the 12 months up to the
newest commit on the branch, so the figures are the same whenever they are recomputed.
"""

from __future__ import annotations

import bisect
import posixpath
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from ingest.repo.tree import RepoFile

WINDOW_DAYS = 365
HALF = 0.5  # the bus factor: fewest authors who together made half the recent commits


@dataclass
class Share:
    author: str
    commits: int = 0
    commit_share: float = 0.0
    lines: int = 0
    line_share: float = 0.0
    last: int = 0  # time of the author's latest commit in the component (any age)


@dataclass
class Component:
    path: str  # "billing/" or "services/billing/"
    name: str  # human name: the component's README title or its folder, humanized
    files: int = 0
    lines: int = 0
    commits_12m: int = 0
    authors_12m: int = 0
    bus_factor: int = 0
    bus_authors: list[str] = field(default_factory=list)
    shares: list[Share] = field(default_factory=list)
    last_commit: int = 0
    last_author: str = ""
    stale: bool = False


@dataclass
class Removed:
    path: str
    last_commit: int
    last_author: str


@dataclass
class Cadence:
    months: list[tuple[str, int, int, int]] = field(
        default_factory=list
    )  # month, commits, merges, authors
    commits_12m: int = 0
    merges_12m: int = 0
    test_share: float = 0.0
    authors_12m: int = 0
    first_commit: int = 0
    last_commit: int = 0
    total_commits: int = 0


@dataclass
class Knowledge:
    window_end: int
    components: list[Component]
    removed: list[Removed]
    cadence: Cadence


def humanize(folder: str) -> str:
    """ "billing-core" -> "Billing Core"."""
    words = folder.replace("_", " ").replace("-", " ").split()
    return " ".join(w if w.isupper() else w.capitalize() for w in words) or folder


def component_of(path: str, containers: set[str]) -> str | None:
    """The component folder of a path ("billing/"), None for files at the top level."""
    parts = path.split("/")
    if len(parts) < 2 or parts[0].startswith("."):
        return None  # top-level files, and tool configuration folders (.github/, .circleci/)
    if parts[0] in containers and len(parts) >= 3:
        return f"{parts[0]}/{parts[1]}/"
    return f"{parts[0]}/"


def _containers(files: list[RepoFile]) -> set[str]:
    """Top-level folders holding only folders (two or more): ``services/``, ``apps/``."""
    direct: dict[str, set[str]] = defaultdict(set)
    has_files: set[str] = set()
    for f in files:
        parts = f.path.split("/")
        if len(parts) == 2:
            has_files.add(parts[0])
        elif len(parts) > 2:
            direct[parts[0]].add(parts[1])
    return {top for top, subs in direct.items() if top not in has_files and len(subs) >= 2}


class _Renames:
    """Follows a path through later renames to its name in the indexed commit."""

    def __init__(self, renames: list[tuple[int, str, str]]) -> None:
        self.by_old: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for when, old, new in renames:
            self.by_old[old].append((when, new))
        for moves in self.by_old.values():
            moves.sort()

    def current(self, path: str, when: int) -> str:
        for _ in range(100):  # a rename chain; bounded against a cycle in odd histories
            moves = self.by_old.get(path)
            if not moves:
                return path
            i = bisect.bisect_right([t for t, _ in moves], when)
            if i >= len(moves):
                return path
            when, path = moves[i]
        return path


def compute(
    files: list[RepoFile],
    commits: list[tuple],
    changes: list[tuple],
    renames: list[tuple],
    blame: dict[tuple[str, str], dict[str, int]],
    titles: dict[str, str],
    window_days: int = WINDOW_DAYS,
) -> Knowledge:
    """Ownership per component and the shipping cadence (see the module docstring)."""
    by_sha = {c[0]: c for c in commits}
    end = max((c[3] for c in commits), default=int(time.time()))
    start = end - window_days * 86400
    containers = _containers(files)
    counted = {f.path: f for f in files if not f.excluded}
    excluded = {f.path for f in files if f.excluded}
    follow = _Renames(renames)

    from ingest.repo.tree import is_vendored

    comp_commits: dict[str, Counter] = defaultdict(Counter)  # recent commits per author
    comp_last: dict[str, tuple[int, str]] = {}
    author_last: dict[tuple[str, str], int] = {}
    seen: set[tuple[str, str]] = set()
    for sha, path, _added, _deleted in changes:
        commit = by_sha.get(sha)
        if commit is None:
            continue
        _, author, _email, when, _merge, _tests = commit
        path = follow.current(path, when)
        if path in excluded or (path not in counted and is_vendored(path)):
            continue
        comp = component_of(path, containers)
        if comp is None or (sha, comp) in seen:
            continue
        seen.add((sha, comp))
        if when >= start:
            comp_commits[comp][author] += 1
        if when > comp_last.get(comp, (0, ""))[0]:
            comp_last[comp] = (when, author)
        author_last[(comp, author)] = max(author_last.get((comp, author), 0), when)

    comp_lines: dict[str, Counter] = defaultdict(Counter)
    comp_files: Counter = Counter()
    for f in counted.values():
        comp = component_of(f.path, containers)
        if comp is None:
            continue
        comp_files[comp] += 1
        for author, lines in blame.get((f.path, f.blob), {}).items():
            comp_lines[comp][author] += lines

    components = []
    for comp in sorted(comp_files):
        recent = comp_commits.get(comp, Counter())
        lines = comp_lines.get(comp, Counter())
        total_c, total_l = sum(recent.values()), sum(lines.values())
        authors = set(recent) | set(lines)
        shares = [
            Share(
                a,
                recent.get(a, 0),
                recent.get(a, 0) / total_c if total_c else 0.0,
                lines.get(a, 0),
                lines.get(a, 0) / total_l if total_l else 0.0,
                author_last.get((comp, a), 0),
            )
            for a in authors
        ]
        shares.sort(key=lambda s: (-s.commits, -s.lines, s.author))
        covered, bus = 0, []
        for s in shares:
            if total_c and covered < HALF * total_c and s.commits:
                covered += s.commits
                bus.append(s.author)
        last_when, last_author = comp_last.get(comp, (0, ""))
        folder = comp.rstrip("/").rsplit("/", 1)[-1]
        components.append(
            Component(
                path=comp,
                name=titles.get(comp) or humanize(folder),
                files=comp_files[comp],
                lines=total_l,
                commits_12m=total_c,
                authors_12m=sum(1 for a in recent if recent[a]),
                bus_factor=len(bus),
                bus_authors=bus,
                shares=shares,
                last_commit=last_when,
                last_author=last_author,
                stale=total_c == 0,
            )
        )
    current = set(comp_files)
    removed = [
        Removed(comp, when, author)
        for comp, (when, author) in sorted(comp_last.items())
        if comp not in current and not any(c.startswith(comp) for c in current)
    ]
    return Knowledge(end, components, removed, _cadence(commits, start, end))


def _month(ts: int) -> str:
    return time.strftime("%Y-%m", time.gmtime(ts))


def _cadence(commits: list[tuple], start: int, end: int) -> Cadence:
    cad = Cadence()
    if not commits:
        return cad
    cad.total_commits = len(commits)
    cad.first_commit = min(c[3] for c in commits)
    cad.last_commit = max(c[3] for c in commits)
    months: dict[str, list] = {}
    # Every month of the window, empty ones included: a quiet month is a fact too.
    t = start
    while _month(t) <= _month(end):
        months.setdefault(_month(t), [0, 0, set()])
        t += 28 * 86400
    recent = [c for c in commits if c[3] >= start]
    tests = 0
    for _sha, author, _email, when, merge, touched in recent:
        row = months.setdefault(_month(when), [0, 0, set()])
        if merge:
            row[1] += 1
        else:
            row[0] += 1
            tests += touched
        row[2].add(author)
    cad.months = [(m, r[0], r[1], len(r[2])) for m, r in sorted(months.items())]
    cad.commits_12m = sum(1 for c in recent if not c[4])
    cad.merges_12m = sum(1 for c in recent if c[4])
    cad.test_share = tests / cad.commits_12m if cad.commits_12m else 0.0
    cad.authors_12m = len({c[1] for c in recent})
    return cad


def component_titles(
    files: list[RepoFile], contents: dict[str, bytes], containers_from=None
) -> dict[str, str]:
    """A component's own name from the first heading of its README, when it has one."""
    containers = _containers(files)
    out = {}
    for f in files:
        if f.excluded or posixpath.basename(f.path).lower() not in ("readme.md", "readme.markdown"):
            continue
        comp = component_of(f.path, containers)
        if comp is None or f.path != f"{comp}{posixpath.basename(f.path)}":
            continue
        for line in contents.get(f.path, b"").decode("utf-8", errors="replace").splitlines():
            if line.startswith("# "):
                out[comp] = " ".join(line[2:].split())[:80]
                break
    return out


def last_changes(
    commits: list[tuple], changes: list[tuple], renames: list[tuple]
) -> dict[str, tuple[str, int]]:
    """Current path -> (sha, time) of the latest commit that changed it (renames followed)."""
    by_sha = {c[0]: c[3] for c in commits}
    follow = _Renames(renames)
    out: dict[str, tuple[str, int]] = {}
    for sha, path, _added, _deleted in changes:
        when = by_sha.get(sha)
        if when is None:
            continue
        path = follow.current(path, when)
        if when >= out.get(path, ("", -1))[1]:
            out[path] = (sha, when)
    return out
