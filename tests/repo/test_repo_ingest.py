"""Repositories as a source, end to end on real git repositories (tests/repo/conftest.py):
the stack profile against what was built in, ownership against hand-counted commits and lines,
exclusions, secrets, a clone over file://, incremental re-runs, forget and who may see what."""

from __future__ import annotations

import json
import sqlite3

import pytest

from advisor.core.errors import AccessError, IngestError
from advisor.core.principal import Principal
from advisor.core.settings import Settings
from advisor.service.facade import Advisor
from ingest.repo import repos_dir
from tests.repo.conftest import DOC_SECRET, HISTORY_SECRET, PRIYA, SAM, TOM, lines
from tests.repo.gitrepo import DAY, T0

LOCAL = Principal.local()
CLIENT = "acme"


@pytest.fixture
def advisor(tmp_path, embeddings) -> Advisor:
    return Advisor(Settings(data_dir=tmp_path / "data"), embeddings=embeddings)


def _chunks(advisor: Advisor, client: str = CLIENT):
    return [p for p in advisor.store.chunks_in([client]) if p.scope == client]


def _facts(advisor: Advisor, kind: str) -> list[dict]:
    """One dict per derived document of `kind`: its facts, its whole text, source and commit."""
    docs: dict[str, dict] = {}
    for p in sorted(_chunks(advisor), key=lambda p: p.chunk_index or 0):
        facts = json.loads(p.facts) if p.facts else {}
        if facts.get("kind") == kind:
            doc = docs.setdefault(
                p.doc_id, facts | {"_text": "", "_source": p.source, "_commit": p.commit}
            )
            doc["_text"] += p.text + "\n"
    return list(docs.values())


@pytest.fixture
def indexed(advisor, team_repo):
    report = advisor.ingest_repo(LOCAL, f"file://{team_repo.path}", CLIENT)
    return advisor, team_repo, report


def test_the_stack_profile_is_what_was_built_in(indexed):
    advisor, repo, report = indexed
    (stack,) = _facts(advisor, "stack")
    hosting = stack["platforms"]["hosting"]
    assert set(hosting) == {"Heroku"}  # a Procfile and a heroku_app; nothing Kubernetes
    assert set(hosting["Heroku"]) == {"Procfile", "infra/main.tf"}
    assert set(stack["platforms"]["ci"]) == {"GitHub Actions", "GitLab CI", "CircleCI"}
    assert stack["_source"] == f"acme-platform@{report.head[:7]}"
    assert stack["_commit"] == report.head
    text: dict[str, str] = {}
    for p in sorted(_chunks(advisor), key=lambda p: p.chunk_index or 0):
        key = p.source.split("@")[0]
        text[key] = text.get(key, "") + p.text + "\n"
    expected = {  # manifest -> what it declares, as built into the repository
        "api/pyproject.toml": [
            "fastapi ==0.115.6, sqlalchemy >=2.0",
            "Runtime: python >=3.12",
            "Development: pytest ==8.3.4",
        ],
        "frontend/package.json": [
            "react ^18.3.1, react-dom ^18.3.1",
            "(yarn)",
            "typescript ^5.6.0",
        ],
        "worker/go.mod": ["github.com/redis/go-redis/v9 v9.5.1", "Runtime: go 1.22"],
        "mobile-api/Gemfile": ["rails ~> 7.1", "Development: rspec-rails", "Runtime: ruby 3.3.0"],
        "rust-core/Cargo.toml": ["serde 1.0, tokio 1.38"],
        "jvm/pom.xml": ["org.postgresql:postgresql 42.7.3"],
        "jvm/build.gradle": [
            "com.google.guava:guava 33.2.0-jre",
            "Development: junit:junit 4.13.2",
        ],
        "api/requirements-dev.txt": ["ruff ==0.8.0"],
    }
    for manifest, fragments in expected.items():
        for fragment in fragments:
            assert fragment in text[f"acme-platform/{manifest}"], (manifest, fragment)
    assert "golang.org/x/sync" not in text["acme-platform/worker/go.mod"]  # indirect
    compose = text["acme-platform/docker-compose.yml"]
    assert "db (postgres:15), cache (redis:7-alpine) and api (built from ./api)" in compose
    assert "hunter2" not in " ".join(text.values())  # environment values are never read
    assert "base image python:3.12-slim." in text["acme-platform/api/Dockerfile"]  # not "build"
    tf = text["acme-platform/infra/"]
    assert "providers heroku/heroku ~> 5.2" in tf and "2 aws_s3_bucket" in tf
    gh = text["acme-platform/.github/workflows/ci.yml"]
    assert "does not run on pull requests" in gh and "Tests" in gh
    assert "It runs on pull requests" in text["acme-platform/.gitlab-ci.yml"]
    assert "It runs on pull requests" in text["acme-platform/.circleci/config.yml"]
    langs = next(p.text for p in _chunks(advisor) if p.section == "Languages by size")
    sizes = {row.split(" | ")[0]: int(row.split(" | ")[1]) for row in langs.splitlines()[2:]}
    # Python bytes are the team's own .py files: vendor/ (the largest Python folder) is out.
    own = [p for p in repo.path.rglob("*.py") if "vendor" not in p.parts and ".git" not in p.parts]
    assert sizes["Python"] == sum(p.stat().st_size for p in own)
    assert sizes["TSX"] == (repo.path / "frontend/src/App.tsx").stat().st_size
    assert list(sizes)[0] == "Python" and "Go" in sizes
    assert "There are no Kubernetes manifests" in text["acme-platform"]


def test_ownership_and_bus_factor_match_hand_counts(indexed):
    advisor, _repo, _report = indexed
    by_component = {f["component"]: f for f in _facts(advisor, "ownership")}
    assert "legacy/" not in by_component  # deleted before the indexed commit
    assert "vendor/" not in by_component and "logs/" not in by_component
    billing = by_component["billing/"]
    # In the window: Priya's rename, two more of hers and Tom's invoice (the first import is
    # 500 days old). Current lines: 22 of Priya's (10 kept through the rename) and 6 of Tom's.
    assert (billing["commits_12m"], billing["authors_12m"], billing["bus_factor"]) == (4, 2, 1)
    assert (
        f"{PRIYA} 75% of commits (3) and 79% of lines; {TOM} 25% of commits (1) and 21% of lines"
        in billing["_text"]
    )
    assert f"{PRIYA} is a single point of knowledge for Billing" in billing["_text"]
    api = by_component["api/"]
    # Priya (1), Sam's feature commit and his stack commit (2), Tom (1); the merge is not a
    # change of its own. Lines: Sam 5 + 4 (test) + 4 (Dockerfile), Priya 10, Tom 2.
    assert (api["commits_12m"], api["bus_factor"]) == (4, 1)
    assert (
        f"{SAM} 50% of commits (2) and 52% of lines; {PRIYA} 25% of commits (1) and 40% of lines"
        in api["_text"]
    )
    old = by_component["old-tools/"]
    assert old["stale"] and "stale area" in old["_text"] and TOM in old["_text"]
    (summary,) = _facts(advisor, "knowledge")
    assert "legacy/ (last changed" in summary["_text"] and TOM in summary["_text"]
    (cadence,) = _facts(advisor, "cadence")
    assert (cadence["commits_12m"], cadence["merges_12m"], cadence["test_share"]) == (8, 1, 0.125)
    assert cadence["ci_on_pull_requests"] is True  # GitLab merge requests, CircleCI branches


def test_excluded_files_and_secrets(indexed, tmp_path):
    advisor, _repo, report = indexed
    assert report.excluded == {"vendored": 3, "ignored": 1, "binary": 1, "generated": 1}
    adr = next(p for p in _chunks(advisor) if "monolith" in p.title.lower())
    assert "[REDACTED]" in adr.text and DOC_SECRET not in adr.text
    assert adr.source.startswith("acme-platform/docs/adr/0001-monolith.md@")
    assert adr.commit == report.head and report.redactions >= 1
    # Neither secret is anywhere the index or the state can be read from (the mirror is the
    # client's own repository, so it holds its history as a copy of their folder would).
    mirror = repos_dir(advisor.settings, CLIENT)
    for path in advisor.settings.data_dir.rglob("*"):
        if path.is_file() and "mirror.git" not in path.parts:
            data = path.read_bytes()
            assert HISTORY_SECRET.encode() not in data, path
            assert DOC_SECRET.encode() not in data, path
    assert (mirror / "state.sqlite").is_file()
    # Emails stay in the client's state, never in the index.
    assert not any("@example.com" in p.text for p in _chunks(advisor))


def test_who_knows_a_component_is_answered_from_its_ownership(indexed):
    advisor, _repo, report = indexed
    answer = advisor.ask(LOCAL, "Who knows billing?", client=CLIENT)
    assert not answer.abstained
    first = answer.citations[0]
    assert (
        first.source == f"acme-platform/billing/@{report.head[:7]}" and first.commit == report.head
    )
    assert PRIYA in answer.answer and "75% of commits" in answer.answer


def test_incremental_rerun_reads_only_new_commits(advisor, team_repo):
    url = f"file://{team_repo.path}"
    first = advisor.ingest_repo(LOCAL, url, CLIENT)
    assert first.new_commits == first.commits == 11
    again = advisor.ingest_repo(LOCAL, url, CLIENT)
    assert (again.new_commits, again.chunks, again.indexed) == (0, 0, [])
    team_repo.append("billing/invoice.py", lines("invoice_b", 3))
    team_repo.commit(TOM, T0 + DAY, "invoice rounding")
    team_repo.write(
        "docs/adr/0002-queues.md", "# ADR 0002: Use Celery\n\nWe use Celery for jobs.\n"
    )
    team_repo.commit(SAM, T0 + 2 * DAY, "ADR 0002")
    third = advisor.ingest_repo(LOCAL, url, CLIENT)
    assert (third.previous, third.new_commits, third.commits) == (first.head, 2, 13)
    written = {s.split("@")[0] for s in third.indexed}
    assert "acme-platform/docs/adr/0002-queues.md" in written
    assert "acme-platform/README.md" not in written  # unchanged documentation is not re-read
    billing = next(f for f in _facts(advisor, "ownership") if f["component"] == "billing/")
    assert billing["commits_12m"] == 5 and f"{TOM} 40% of commits (2)" in billing["_text"]
    # A rewritten branch (a force-push) is read again from scratch, not added on top.
    team_repo.git("reset", "-q", "--hard", "HEAD~2")
    team_repo.append("billing/invoice.py", lines("invoice_c", 1))
    team_repo.commit(PRIYA, T0 + 3 * DAY, "rewritten")
    team_repo.git("reflog", "expire", "--expire=now", "--all")
    fourth = advisor.ingest_repo(LOCAL, url, CLIENT)
    assert fourth.commits == 12
    assert not any("0002-queues" in p.source for p in _chunks(advisor))  # its doc left the tree


def test_a_local_repository_is_mirrored_and_never_written(advisor, team_repo):
    before = sorted(p.relative_to(team_repo.path) for p in team_repo.path.rglob("*"))
    report = advisor.ingest_repo(LOCAL, str(team_repo.path), CLIENT)
    assert report.location == str(team_repo.path) and report.commits == 11
    assert sorted(p.relative_to(team_repo.path) for p in team_repo.path.rglob("*")) == before
    assert list(repos_dir(advisor.settings, CLIENT).glob("acme-platform-*/mirror.git/HEAD"))


@pytest.mark.parametrize(
    "location, message",
    [
        ("/no/such/folder", "no such folder"),
        ("ext::sh -c touch% /tmp/pwned", "unsupported URL scheme"),
        ("--upload-pack=touch /tmp/pwned", "looks like an option"),
        ("ftp://example.com/repo.git", "unsupported URL scheme"),
    ],
)
def test_bad_locations_are_refused_with_the_fix(advisor, location, message):
    with pytest.raises(IngestError, match=message):
        advisor.ingest_repo(LOCAL, location, CLIENT)


def test_a_folder_that_is_not_a_repository_and_an_unreachable_url(advisor, tmp_path):
    (tmp_path / "plain").mkdir()
    with pytest.raises(IngestError, match="not a git repository"):
        advisor.ingest_repo(LOCAL, str(tmp_path / "plain"), CLIENT)
    with pytest.raises(IngestError, match="git could not read"):
        advisor.ingest_repo(LOCAL, f"file://{tmp_path}/missing.git", CLIENT)


def test_only_a_cto_adds_repositories_and_sees_emails(indexed):
    advisor, _repo, _report = indexed
    founder = Principal(user="f", role="founder", client=CLIENT)
    with pytest.raises(AccessError, match="only a CTO"):
        advisor.ingest_repo(founder, "/tmp", CLIENT)
    cto_view = advisor.repositories(LOCAL, CLIENT)[0]
    founder_view = advisor.repositories(founder, CLIENT)[0]
    priya = {a["name"]: a for a in cto_view["authors"]}[PRIYA]
    assert priya["emails"] == ["priya.nair@example.com"] and priya["commits"] == 4
    masked = {a["name"]: a for a in founder_view["authors"]}[PRIYA]
    assert masked["emails"] == ["p•••@example.com"] and founder_view["location"] == ""
    other = Principal(user="o", role="founder", client="otherco")
    with pytest.raises(AccessError):
        advisor.repositories(other, CLIENT)
    # Another client's questions never see the repository's facts or authors.
    assert not [
        p for p in advisor.retrieve(LOCAL, "Who knows billing?", client=None) if p.scope == CLIENT
    ]


def test_forget_removes_the_repository_and_its_authors(indexed):
    advisor, _repo, _report = indexed
    gone = advisor.forget(LOCAL, CLIENT)
    assert gone["repositories"] == 1 and gone["chunks"] > 20
    assert not repos_dir(advisor.settings, CLIENT).exists()
    for path in advisor.settings.data_dir.rglob("*"):
        if path.is_file() and path.name != "audit.jsonl":
            data = path.read_bytes()
            assert PRIYA.encode() not in data and b"priya.nair@" not in data, path


def test_state_survives_an_index_reset(indexed):
    advisor, repo, first = indexed
    advisor.reset(LOCAL)
    again = advisor.ingest_repo(LOCAL, f"file://{repo.path}", CLIENT)
    assert again.new_commits == 0 and again.chunks == first.chunks  # rewritten in full
    db = sqlite3.connect(repos_dir(advisor.settings, CLIENT) / "state.sqlite")
    assert db.execute("SELECT COUNT(*) FROM commits").fetchone()[0] == 11
