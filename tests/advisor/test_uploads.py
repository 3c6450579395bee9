"""Uploads: unsafe or oversize files are refused before anything touches the disk."""

from __future__ import annotations

import pytest

from advisor.core.clients import client_name
from advisor.core.errors import AccessError, ConfigError
from advisor.core.principal import Principal
from advisor.core.settings import Settings
from advisor.service.facade import Advisor
from advisor.service.uploads import (
    refusal,
    save_uploads,
    upload_dir,
)

LOCAL = Principal.local()

MB = 1024 * 1024


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("../x.md", "path"),
        ("a/b.md", "path"),
        ("a\\b.md", "path"),
        ("..", "path"),
        ("notes..md", "path"),
        (".env", "hidden"),
        (".notes.md", "hidden"),
        ("", "no name"),
        ("bad\x00name.md", "control characters"),
        ("run.exe", "unsupported file type"),
    ],
)
def test_unsafe_or_unsupported_names_are_refused(name, why):
    assert why in refusal(name, 10, max_file_mb=1)


def test_size_limits_are_enforced():
    assert "over the 1 MB limit" in refusal("big.pdf", 2 * MB, max_file_mb=1)
    assert "ADVISOR_MAX_FILE_MB" in refusal("big.pdf", 2 * MB, max_file_mb=1)
    assert "empty" in refusal("empty.md", 0, max_file_mb=1)
    assert refusal("fine.pdf", MB, max_file_mb=1) is None
    assert refusal("Roadmap 2027 (v2).docx", 100, max_file_mb=1) is None


@pytest.mark.parametrize(
    "name", ["../acme", "a/b", "playbook", "Playbook", "", "x" * 65, "acme corp", "acme\n", "-x"]
)
def test_client_names_that_are_not_safe_folders_are_refused(name):
    with pytest.raises(ConfigError, match="invalid client name|reserved"):
        client_name(name)


def test_client_names_are_one_rule_compared_case_insensitively():
    assert client_name("Acme-Corp") == client_name("acme-corp") == "acme-corp"


def test_save_writes_only_accepted_files_into_the_scope_folder(settings, tmp_path):
    files = [
        ("plan.md", b"# Plan\n"),
        ("../escape.md", b"x"),
        (".env", b"OPENAI_API_KEY=sk-secret"),
        ("huge.md", b"x" * (2 * MB)),
    ]
    settings = Settings(data_dir=settings.data_dir, max_file_mb=1)
    saved, refused = save_uploads(settings, files, client="acme")

    folder = settings.data_dir / "uploads" / "acme"
    assert [s.path for s in saved] == [folder / "plan.md"]
    assert saved[0].path.read_bytes() == b"# Plan\n"
    assert [r.name for r in refused] == ["../escape.md", ".env", "huge.md"]
    assert all(r.status == "refused" and r.reason for r in refused)
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    journal = "advisor-data/uploads/.journal"  # what an upload in progress created, for a kill
    assert written == [journal, "advisor-data/uploads/acme/plan.md"], "nothing else on disk"
    assert (tmp_path / journal).read_text().split() == [str((folder / "plan.md").resolve())]
    assert upload_dir(settings, None) == settings.data_dir / "uploads" / "playbook"


def test_ingest_reports_each_file_and_the_document_becomes_searchable(settings, embeddings):
    advisor = Advisor(settings, embeddings=embeddings)
    doc = b"# Laptop policy\n\nEvery laptop needs full-disk encryption before joining the VPN.\n"
    seen = []
    results = advisor.upload(
        LOCAL, [("laptops.md", doc), ("a/b.md", doc)], client="acme", on_file=seen.append
    )
    assert [(r.name, r.status) for r in results] == [
        ("laptops.md", "indexed"),
        ("a/b.md", "refused"),
    ]
    assert results[0].chunks >= 1
    assert sorted(r.name for r in seen) == ["a/b.md", "laptops.md"], "progress for every file"

    again = advisor.upload(LOCAL, [("laptops.md", doc)], client="acme")
    assert [(r.name, r.status) for r in again] == [("laptops.md", "unchanged")]

    status = advisor.status(LOCAL)
    assert status["clients"] == ["acme"]
    assert [s["source"] for s in status["sources"]] == ["laptops.md"]
    top = advisor.retrieve(LOCAL, "disk encryption for laptops", client="acme", k=1)[0]
    assert top.source == "laptops.md" and top.scope == "acme"
    with pytest.raises(ConfigError, match="no documents for client 'globex'"):
        advisor.retrieve(LOCAL, "disk encryption for laptops", client="globex", k=1)


def test_a_second_upload_with_the_same_name_keeps_both_versions(settings, embeddings):
    advisor = Advisor(settings, embeddings=embeddings)
    first = b"# Pricing\n\nThe Basic plan costs 40 euros per seat per month for Acme.\n"
    second = b"# Pricing\n\nThe Basic plan costs 55 euros per seat per month from April.\n"
    folder = upload_dir(settings, "acme")

    advisor.upload(LOCAL, [("pricing.md", first)], client="acme")
    results = advisor.upload(LOCAL, [("pricing.md", second)], client="acme")
    again = advisor.upload(LOCAL, [("pricing.md", second)], client="acme")

    assert (folder / "pricing.md").read_bytes() == first, "the earlier upload was overwritten"
    assert (folder / "pricing (v2).md").read_bytes() == second
    assert sorted(p.name for p in folder.iterdir()) == ["pricing (v2).md", "pricing.md"]
    assert results[0].status == "indexed" and "saved as 'pricing (v2).md'" in results[0].reason
    assert again[0].status == "unchanged", "the same bytes again are not a third version"
    sources = {s["source"] for s in advisor.status(LOCAL)["sources"]}
    assert sources == {"pricing.md", "pricing (v2).md"}, "both versions are searchable"


def test_a_file_the_pipeline_does_not_index_leaves_nothing_behind(settings, embeddings):
    advisor = Advisor(settings, embeddings=embeddings)
    results = advisor.upload(LOCAL, [("board-deck.pdf", b"%PDF-1.7 not really a pdf")], "zeta")

    assert results[0].status in ("failed", "skipped", "refused") and results[0].reason
    assert not upload_dir(settings, "zeta").exists(), "an unindexed copy was left on disk"
    assert advisor.status(LOCAL)["documents"] == 0


def test_an_upload_the_service_refuses_writes_nothing(settings, embeddings):
    advisor = Advisor(settings, embeddings=embeddings)
    founder = Principal(user="fay", role="founder", client="acme")
    with pytest.raises(ConfigError, match="invalid client name"):
        advisor.upload(LOCAL, [("plan.md", b"# Plan\n")], client="acme\n")
    with pytest.raises(AccessError):
        advisor.upload(founder, [("plan.md", b"# Plan\n")], client="globex")
    uploads = settings.data_dir / "uploads"
    assert not uploads.exists() or not any(p.is_file() for p in uploads.rglob("*"))
