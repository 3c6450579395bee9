"""The eval corpus layout: scopes, ingest groups, corpus-relative sources, cache keys."""

import shutil
from pathlib import Path

from advisor.core.settings import Settings
from evals.corpus import (
    content_fingerprint,
    corpus_files,
    eval_data_dir,
    ingest_groups,
    relative_source,
    scope_of,
    with_data_dir,
)
from tests.evals.tiny_corpus import write_corpus


def test_corpus_files_skip_hidden_entries_and_scope_clients(tmp_path):
    corpus = write_corpus(tmp_path)
    assert list(corpus_files(corpus)) == [
        ("clients/acme/roster.md", "acme"),
        ("clients/globex/roster.md", "globex"),
        ("playbooks/databases.md", "playbook"),
        ("playbooks/hiring.md", "playbook"),
        ("playbooks/incidents.md", "playbook"),
    ]


def test_scope_of_stray_file_in_clients_is_none():
    assert scope_of("clients/readme.md") is None
    assert scope_of("handbook.md") == "playbook"  # a loose file at the root is a playbook


def test_the_corpus_readme_is_no_playbook(tmp_path):
    """The root README describes the corpus and its clients ("ledgerly/: seed-stage fintech, ~6
    engineers"): indexed as a playbook, every client would see a line about every other."""
    assert scope_of("README.md") is None
    assert scope_of("readme.txt") is None
    assert scope_of("playbooks/README.md") == "playbook"  # a handbook's own README is content
    corpus = write_corpus(tmp_path)
    (corpus / "README.md").write_text("# Corpus\n\nclients/acme: a fintech\n")
    assert "README.md" not in [rel for rel, _ in corpus_files(corpus)]


def test_ingest_groups_playbooks_then_each_client(tmp_path):
    corpus = write_corpus(tmp_path)
    (corpus / "README.md").write_text("# Corpus\n")
    (corpus / "handbook.md").write_text("# Handbook\n")
    groups = ingest_groups(corpus)
    assert groups == [
        ([corpus / "handbook.md", corpus / "playbooks"], None),
        ([corpus / "clients" / "acme"], "acme"),
        ([corpus / "clients" / "globex"], "globex"),
    ]


def test_relative_source_joins_root_and_source():
    corpus = Path("/c")
    assert relative_source("/c/playbooks", "sub/a.md", corpus) == "playbooks/sub/a.md"
    assert relative_source("/c/clients/acme", "roster.md", corpus) == "clients/acme/roster.md"


def test_eval_dir_depends_on_corpus_and_index_settings(tmp_path):
    base = Settings(data_dir=tmp_path)
    a = eval_data_dir(base, tmp_path / "one")
    assert a.parent == tmp_path / "evals"
    assert eval_data_dir(base, tmp_path / "one") == a
    assert eval_data_dir(base, tmp_path / "two") != a
    assert eval_data_dir(Settings(data_dir=tmp_path, chunk_tokens=120), tmp_path / "one") != a
    assert eval_data_dir(Settings(data_dir=tmp_path, top_k=3), tmp_path / "one") == a


def test_fingerprint_changes_with_content(tmp_path):
    corpus = write_corpus(tmp_path)
    before = content_fingerprint(corpus)
    assert content_fingerprint(corpus) == before
    (corpus / "playbooks" / "hiring.md").write_text("# Hiring\n\nchanged and longer text\n")
    assert content_fingerprint(corpus) != before


def test_with_data_dir_moves_every_derived_path(tmp_path):
    base = Settings(data_dir=tmp_path / "a", chroma_host="example.org")
    assert base.chroma_path == tmp_path / "a" / "chroma"  # cached on the original
    moved = with_data_dir(base, tmp_path / "b")
    assert moved.chroma_path == tmp_path / "b" / "chroma"
    # On a team's Chroma server the eval stays there, in a collection of its own.
    assert moved.chroma_host == "example.org"
    assert moved.collection == "eval-b" != base.collection


def test_eval_dir_changes_when_a_client_folder_is_renamed_or_removed(tmp_path):
    """A folder no longer ingested keeps its chunks in an incremental index: start a new one."""
    corpus = tmp_path / "corpus"
    for rel in ("playbooks/a.md", "clients/acme/x.md", "clients/globex/y.md"):
        (corpus / rel).parent.mkdir(parents=True, exist_ok=True)
        (corpus / rel).write_text("# Doc\n")
    settings = Settings(data_dir=tmp_path / "data")
    before = eval_data_dir(settings, corpus)

    (corpus / "playbooks" / "b.md").write_text("# More\n")  # content only: same index, updated
    assert eval_data_dir(settings, corpus) == before
    (corpus / "clients" / "globex").rename(corpus / "clients" / "initech")
    renamed = eval_data_dir(settings, corpus)
    assert renamed != before
    shutil.rmtree(corpus / "clients" / "initech")
    assert eval_data_dir(settings, corpus) not in (before, renamed)
    assert settings.data_dir / "evals" in settings.derived_dirs, "reset deletes eval caches"
