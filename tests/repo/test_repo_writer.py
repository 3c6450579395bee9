"""Repositories follow the one writer model like documents (issue 25): an `ingest-repo` from
another process is served by a running advisor without a restart, it journals and republishes
only its client's scope, and `rebuild` indexes the repositories again from where they were read.
"""

from __future__ import annotations

import json
import os
import subprocess

from advisor.core.principal import Principal
from advisor.core.settings import PLAYBOOK_SCOPE, Settings
from advisor.service.facade import Advisor
from ingest.manifest import Manifest
from ingest.pipeline import UNPUBLISHED
from tests.processes import CLI, ROOT
from tests.repo.conftest import SAM
from tests.repo.gitrepo import DAY, T0

LOCAL = Principal.local()
CLIENT = "acme"


def _repo_cli(data_dir, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ADVISOR_"))}
    env |= {"ADVISOR_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT), "ADVISOR_MODE": "offline"}
    out = subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]


def test_another_processs_repository_ingest_is_served_without_a_restart(
    tmp_path, team_repo, embeddings
):
    data_dir = tmp_path / "data"
    url = f"file://{team_repo.path}"
    advisor = Advisor(Settings(data_dir=data_dir, mode="offline"), embeddings=embeddings)
    advisor.ingest_repo(LOCAL, url, CLIENT)
    # The long-running process has loaded acme's vectors and BM25 index.
    first = advisor.ask(LOCAL, "Why do we stay a modular monolith?", client=CLIENT)
    assert any("0001-monolith" in c.source for c in first.citations)
    before = advisor.store.versions()
    team_repo.write(
        "docs/adr/0002-queues.md",
        "# ADR 0002: Background jobs on Celery\n\nInvoices are rendered by Celery workers "
        "reading a Redis queue; retries back off exponentially.\n",
    )
    team_repo.commit(SAM, T0 + 2 * DAY, "ADR 0002")
    _repo_cli(data_dir, "ingest-repo", url, "--client", CLIENT)  # another process writes
    after = advisor.store.versions()
    assert after.of([CLIENT]) > before.of([CLIENT])
    # Only acme's caches rebuild: the playbooks' stay (every scope was bumped before).
    assert after.of([PLAYBOOK_SCOPE]) == before.of([PLAYBOOK_SCOPE])
    answer = advisor.ask(LOCAL, "How are invoices rendered in the background?", client=CLIENT)
    assert any("0002-queues" in c.source for c in answer.citations), answer.citations
    with Manifest(advisor.settings.manifest_path) as manifest:  # published: the journal is empty
        assert json.loads(manifest.get_meta(UNPUBLISHED) or "[]") == []


def test_rebuild_indexes_the_repositories_again(tmp_path, team_repo, embeddings):
    settings = Settings(data_dir=tmp_path / "data", mode="offline")
    advisor = Advisor(settings, embeddings=embeddings)
    report = advisor.ingest_repo(LOCAL, f"file://{team_repo.path}", CLIENT)

    def repo_chunks(a: Advisor) -> set[str]:
        return {p.id for p in a.store.chunks_in([CLIENT]) if p.scope == CLIENT}

    indexed = repo_chunks(advisor)
    assert indexed
    collection = advisor.store.version[0]
    done = advisor.rebuild(LOCAL)
    assert [r.head for r in done["repositories"]] == [report.head]
    fresh = Advisor(settings, embeddings=embeddings)
    assert fresh.store.version[0] != collection  # a new index, the old one set aside
    assert repo_chunks(fresh) == indexed  # on the branch before: the repository was gone
