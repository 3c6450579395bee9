import pytest

from advisor.core.errors import ConfigError
from advisor.core.settings import PLAYBOOK_SCOPE
from ingest.manifest import PENDING, Manifest
from ingest.pipeline import doc_id_for, ingest_paths, scope_for
from tests.ingest.conftest import (
    make_docx,
    make_encrypted_pdf,
    make_pdf,
    make_pptx,
    make_xlsx,
)

BODY = (
    "On-call engineers acknowledge pages within five minutes. If nobody answers, the page "
    "escalates to the secondary and then to the engineering manager."
)


def _ingest(paths, settings, embeddings, store, client=None, **kw):
    return ingest_paths(
        paths if isinstance(paths, list) else [paths],
        client=client,
        settings=settings,
        embeddings=embeddings,
        store=store,
        **kw,
    )


def _by_source(report):
    return {f.source: f for f in report.files}


def _store_docs(store):
    """doc_id -> chunk ids currently in the store."""
    got = store.collection.get(include=["metadatas"])
    docs = {}
    for id_, meta in zip(got["ids"], got["metadatas"], strict=True):
        docs.setdefault(meta["doc_id"], set()).add(id_)
    return docs


def _assert_store_matches_manifest(store, settings):
    """No duplicates, no orphans: the store holds exactly the manifest's indexed chunks."""
    with Manifest(settings.manifest_path) as manifest:
        rows = manifest.rows().values()
    assert not [r for r in rows if r.status == PENDING]
    expected = {r.doc_id: r.chunks for r in rows if r.status == "indexed"}
    docs = _store_docs(store)
    assert {d: len(ids) for d, ids in docs.items()} == expected
    for doc_id, ids in docs.items():
        assert ids == {f"{doc_id}:{i}" for i in range(len(ids))}


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "handbook"
    (root / "ops").mkdir(parents=True)
    (root / "ops" / "on-call.html.md.erb").write_text(
        f"---\ntitle: On-call\n---\n# <%= current_page.data.title %>\n\n## Paging\n\n{BODY}\n"
    )
    (root / "hosting.html").write_text(
        f"<html><head><title>Hosting</title></head><body><h1>Regions</h1><p>{BODY}</p>"
    )
    (root / "notes.txt").write_text(f"Team notes\n\n{BODY}\n")
    (root / "radar.json").write_text('{"entries": [{"label": "Postgres", "ring": "ADOPT"}]}')
    (root / "team.csv").write_text("name,role\nAda,CTO\nLin,SRE\n")
    make_pdf(root / "security.pdf", [("Access", BODY * 2), ("Backups", BODY * 2)], "ACME")
    make_docx(root / "arch.docx", "Architecture", [("Data stores", BODY)])
    make_pptx(root / "board.pptx", [("Board update", "Revenue grew"), ("Hiring", BODY)])
    make_xlsx(root / "roster.xlsx", [["name", "team"], ["Ada", "platform"]])
    return root


def test_every_format_is_indexed_with_its_metadata(folder, fast_settings, embeddings, store):
    report = _ingest(folder, fast_settings, embeddings, store, client="acme")

    results = _by_source(report)
    assert {s: r.status for s, r in results.items()} == dict.fromkeys(results, "indexed")
    assert len(results) == 9 and report.exit_code() == 0
    metas = store.collection.get(include=["metadatas"])["metadatas"]
    by_source = {}
    for m in metas:
        by_source.setdefault(m["source"], []).append(m)
    assert {m["scope"] for m in metas} == {"acme"}
    assert {m["root"] for m in metas} == {str(folder.resolve())}
    md = by_source["ops/on-call.html.md.erb"][0]
    assert (md["title"], md["section"], md["file_type"]) == ("On-call", "Paging", "md")
    assert {m["page"] for m in by_source["security.pdf"]} == {1, 2}
    assert {m["slide"] for m in by_source["board.pptx"]} == {1, 2}
    assert all("page" not in m for m in by_source["board.pptx"])
    assert by_source["hosting.html"][0]["title"] == "Hosting"
    assert by_source["arch.docx"][0]["title"] == "Architecture"
    assert by_source["radar.json"][0]["file_type"] == "text"
    one = by_source["team.csv"][0]
    assert len(one["sha256"]) == 64 and one["mtime"] > 0 and one["chunk_index"] == 0
    assert one["doc_id"] == doc_id_for(str(folder.resolve()), "team.csv")
    _assert_store_matches_manifest(store, fast_settings)


@pytest.mark.slow
def test_pool_parsing_gives_the_same_chunks(
    tmp_path, settings, fast_settings, embeddings, monkeypatch
):
    import ingest.pipeline as pipeline
    from advisor.core.store import Store

    monkeypatch.setattr(pipeline.os, "cpu_count", lambda: 8)  # a pool even on a small CI box
    assert pipeline.parse_processes(settings.model_copy(update={"parse_workers": 2})) == 2

    folder = tmp_path / "pool"
    folder.mkdir()
    for i in range(3):
        (folder / f"doc{i}.md").write_text(f"# Doc {i}\n\n## Part\n\n{BODY}\n")

    serial_store = Store(fast_settings, embeddings.name, embeddings.dimension)
    serial = _ingest(folder, fast_settings, embeddings, serial_store)
    pooled_settings = settings.model_copy(
        update={"parse_workers": 2, "data_dir": settings.data_dir.parent / "pooled"}
    )
    pooled_store = Store(pooled_settings, embeddings.name, embeddings.dimension)
    pooled = _ingest(folder, pooled_settings, embeddings, pooled_store)
    assert sorted(serial_store.collection.get()["ids"]) == sorted(
        pooled_store.collection.get()["ids"]
    )
    assert pooled.parsed == serial.parsed == 3


def test_unchanged_changed_and_deleted(tmp_path, fast_settings, embeddings, store):
    root = tmp_path / "docs"
    root.mkdir()
    for name in ("a", "b", "c"):
        (root / f"{name}.md").write_text(f"# {name.upper()}\n\n{BODY}\n")
    first = _ingest(root, fast_settings, embeddings, store)
    assert first.counts["indexed"] == 3 and first.embedded == 3
    generation = store.generation

    again = _ingest(root, fast_settings, embeddings, store)
    assert again.counts["unchanged"] == 3
    assert (again.parsed, again.embedded) == (0, 0)
    assert store.generation == generation  # nothing changed: the BM25 index stays valid

    # Touched but identical content: still unchanged, and not parsed.
    (root / "a.md").write_text((root / "a.md").read_text())
    assert _ingest(root, fast_settings, embeddings, store).parsed == 0

    long_text = "\n\n".join(f"## Part {i}\n\n{BODY}" for i in range(8))
    (root / "b.md").write_text(f"# B\n\n{long_text}\n")
    (root / "c.md").unlink()
    changed = _ingest(root, fast_settings, embeddings, store)
    results = _by_source(changed)
    assert results["b.md"].status == "indexed" and results["b.md"].chunks > 1
    assert results["c.md"].status == "removed"
    assert results["a.md"].status == "unchanged"
    assert changed.parsed == 1
    assert store.generation > generation
    docs = _store_docs(store)
    assert len(docs[doc_id_for(str(root.resolve()), "b.md")]) == results["b.md"].chunks
    assert doc_id_for(str(root.resolve()), "c.md") not in docs
    _assert_store_matches_manifest(store, fast_settings)

    # Shrinking a document leaves none of its old chunks behind.
    (root / "b.md").write_text("# B\n\nShort now.\n")
    _ingest(root, fast_settings, embeddings, store)
    assert len(_store_docs(store)[doc_id_for(str(root.resolve()), "b.md")]) == 1
    _assert_store_matches_manifest(store, fast_settings)


def test_bad_inputs_get_reasons_and_the_run_goes_on(tmp_path, fast_settings, embeddings, store):
    root = tmp_path / "mixed"
    root.mkdir()
    (root / "good.md").write_text(f"# Good\n\n{BODY}\n")
    first = _ingest(root, fast_settings, embeddings, store)
    assert first.counts["indexed"] == 1

    make_encrypted_pdf(root / "locked.pdf", make_pdf(tmp_path / "plain.pdf", [("X", BODY)]))
    (root / "corrupt.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\ngarbage")
    (root / "random.pdf").write_bytes(bytes(range(256)) * 4)
    (root / "random.docx").write_bytes(bytes(range(256)) * 4)
    (root / "empty.md").write_text("")
    (root / "latin1.txt").write_bytes(b"Caf\xe9 menu: the team lunch is on Fridays at noon.\n")
    (root / "big.md").write_text("# Big\n\n" + BODY * 200)
    (root / "image.bin").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" * 50)
    (root / "more.md").write_text(f"# More\n\n{BODY}\n")
    small_limit = fast_settings.model_copy(update={"max_file_mb": 0.02})

    report = _ingest(root, small_limit, embeddings, store)

    r = _by_source(report)
    assert r["locked.pdf"].status == "failed"
    assert r["locked.pdf"].reason == "encrypted PDF: remove the password and re-ingest"
    assert r["corrupt.pdf"].status == "failed" and "PDF" in r["corrupt.pdf"].reason
    assert r["random.pdf"].status == "failed" and "%PDF-" in r["random.pdf"].reason
    assert r["random.docx"].status == "failed" and "zip" in r["random.docx"].reason
    assert (r["empty.md"].status, r["empty.md"].reason) == ("skipped", "empty file")
    assert r["latin1.txt"].status == "indexed" and "invalid UTF-8" in r["latin1.txt"].reason
    assert r["big.md"].status == "skipped" and "0.02 MB limit" in r["big.md"].reason
    assert r["image.bin"].status == "skipped" and "binary" in r["image.bin"].reason
    assert r["more.md"].status == "indexed"
    assert r["good.md"].status == "unchanged"
    assert report.exit_code() == 0 and report.exit_code(strict=True) == 1
    _assert_store_matches_manifest(store, fast_settings)

    # Failures are remembered: an unchanged bad file is not parsed again.
    rerun = _ingest(root, small_limit, embeddings, store)
    assert rerun.parsed == 0
    assert _by_source(rerun)["locked.pdf"].status == "failed"


def test_nothing_indexable_exits_nonzero(tmp_path, fast_settings, embeddings, store):
    root = tmp_path / "bad"
    root.mkdir()
    (root / "x.pdf").write_bytes(b"not a pdf")
    (root / "y.md").write_text("")
    assert _ingest(root, fast_settings, embeddings, store).exit_code() == 1


def test_client_names_are_validated():
    assert scope_for(None) == PLAYBOOK_SCOPE
    assert scope_for("acme-corp_2") == "acme-corp_2"
    with pytest.raises(ConfigError, match="reserved"):
        scope_for("playbook")
    assert scope_for("Acme") == "acme"  # one client, whatever the case it is typed in
    for bad in ("a b", "", "x" * 65, "../etc", "acme\n"):
        with pytest.raises(ConfigError, match="invalid client name"):
            scope_for(bad)


def test_same_folder_under_a_new_client_is_rescoped(tmp_path, fast_settings, embeddings, store):
    root = tmp_path / "docs"
    root.mkdir()
    (root / "a.md").write_text(f"# A\n\n{BODY}\n")
    _ingest(root, fast_settings, embeddings, store)
    report = _ingest(root, fast_settings, embeddings, store, client="acme")
    assert report.counts["indexed"] == 1
    assert {m["scope"] for m in store.collection.get()["metadatas"]} == {"acme"}


def test_embeddings_factory_is_not_called_when_nothing_changed(
    tmp_path, fast_settings, embeddings, store
):
    root = tmp_path / "docs"
    root.mkdir()
    (root / "a.md").write_text(f"# A\n\n{BODY}\n")
    calls = []

    def factory():
        calls.append(1)
        return embeddings

    _ingest(root, fast_settings, factory, store)
    _ingest(root, fast_settings, factory, store)
    assert calls == [1]


def test_progress_and_on_file_callbacks(tmp_path, fast_settings, embeddings, store):
    root = tmp_path / "docs"
    root.mkdir()
    for name in ("a", "b"):
        (root / f"{name}.md").write_text(f"# {name}\n\n{BODY}\n")
    ticks, seen = [], []
    _ingest(
        root,
        fast_settings,
        embeddings,
        store,
        progress=lambda d, t, s: ticks.append((d, t)),
        on_file=seen.append,
    )
    assert ticks[0] == (0, 2) and ticks[-1] == (2, 2)
    assert sorted(f.source for f in seen) == ["a.md", "b.md"]


class _Interrupt(Exception):
    pass


def test_run_interrupted_by_a_callback_is_completed_next_time(
    tmp_path, fast_settings, embeddings, store, monkeypatch
):
    import ingest.pipeline as pipeline

    monkeypatch.setattr(pipeline, "FLUSH_CHUNKS", 1)  # one file per store write
    root = tmp_path / "docs"
    root.mkdir()
    for i in range(5):
        (root / f"doc{i}.md").write_text(f"# Doc {i}\n\n{BODY}\n")

    def stop_after_two(result, seen=[]):  # noqa: B006
        seen.append(result)
        if len(seen) == 2:
            raise _Interrupt

    with pytest.raises(_Interrupt):
        _ingest(root, fast_settings, embeddings, store, on_file=stop_after_two)
    _assert_store_matches_manifest(store, fast_settings)

    rerun = _ingest(root, fast_settings, embeddings, store)
    assert rerun.counts["indexed"] + rerun.counts["unchanged"] == 5
    assert rerun.counts["unchanged"] >= 2
    _assert_store_matches_manifest(store, fast_settings)


class _DyingCollection:
    """Chroma stand-in that writes part of an upsert, then dies (like a killed process)."""

    def __init__(self, real, fail_on_call: int):
        self._real = real
        self._calls = 0
        self._fail_on = fail_on_call

    def upsert(self, ids, documents, metadatas, embeddings):
        self._calls += 1
        if self._calls == self._fail_on:
            self._real.upsert(
                ids=ids[:1],
                documents=documents[:1],
                metadatas=metadatas[:1],
                embeddings=embeddings[:1],
            )
            raise _Interrupt("killed mid-write")
        return self._real.upsert(
            ids=ids, documents=documents, metadatas=metadatas, embeddings=embeddings
        )

    def __getattr__(self, name):
        return getattr(self._real, name)


def test_crash_mid_write_leaves_pending_rows_that_the_next_run_repairs(
    tmp_path, fast_settings, embeddings, store, monkeypatch
):
    import ingest.pipeline as pipeline

    monkeypatch.setattr(pipeline, "FLUSH_CHUNKS", 1)
    root = tmp_path / "docs"
    root.mkdir()
    for i in range(4):
        (root / f"doc{i}.md").write_text(f"# Doc {i}\n\n" + "\n\n".join([BODY] * (i + 2)))
    _ingest(root, fast_settings, embeddings, store)
    for i in range(4):  # every file changes and gets longer
        (root / f"doc{i}.md").write_text(f"# Doc {i}\n\n" + "\n\n".join([BODY * 3] * 6))

    real = store.collection
    store.collection = _DyingCollection(real, fail_on_call=2)
    with pytest.raises(_Interrupt):
        _ingest(root, fast_settings, embeddings, store)
    store.collection = real
    with Manifest(fast_settings.manifest_path) as manifest:
        assert len(manifest.pending()) == 1  # the half-written document is known

    rerun = _ingest(root, fast_settings, embeddings, store)
    assert rerun.recovered == 1
    _assert_store_matches_manifest(store, fast_settings)
    assert sum(r.chunks for r in rerun.files) == store.count()


def test_pending_row_for_a_vanished_file_is_removed(tmp_path, fast_settings, embeddings, store):
    root = tmp_path / "docs"
    root.mkdir()
    (root / "a.md").write_text(f"# A\n\n{BODY}\n")
    (root / "b.md").write_text(f"# B\n\n{BODY}\n")
    _ingest(root, fast_settings, embeddings, store)
    with Manifest(fast_settings.manifest_path) as manifest:
        row = manifest.rows()[(str(root.resolve()), "b.md")]
        row.status = PENDING
        manifest.put(row)
    (root / "b.md").unlink()
    other = tmp_path / "other"
    other.mkdir()
    (other / "c.md").write_text(f"# C\n\n{BODY}\n")
    report = _ingest(other, fast_settings, embeddings, store)  # a different folder
    assert report.recovered == 1
    assert doc_id_for(str(root.resolve()), "b.md") not in _store_docs(store)
    _assert_store_matches_manifest(store, fast_settings)


def test_manifest_is_forgotten_when_the_store_was_emptied(
    tmp_path, fast_settings, embeddings, store
):
    root = tmp_path / "docs"
    root.mkdir()
    (root / "a.md").write_text(f"# A\n\n{BODY}\n")
    _ingest(root, fast_settings, embeddings, store)
    store.delete_docs([doc_id_for(str(root.resolve()), "a.md")])
    report = _ingest(root, fast_settings, embeddings, store)
    assert report.counts["indexed"] == 1 and store.count() == 1


def test_parse_processes_leave_cores_for_embedding(settings, monkeypatch):
    import ingest.pipeline as pipeline

    two = settings.model_copy(update={"parse_workers": 2})
    monkeypatch.setattr(pipeline.os, "cpu_count", lambda: 2)
    assert pipeline.parse_processes(two) == 1
    monkeypatch.setattr(pipeline.os, "cpu_count", lambda: 16)
    assert pipeline.parse_processes(two) == 2


def test_an_unreadable_folder_is_reported_and_its_chunks_are_kept(
    tmp_path, fast_settings, embeddings, store, monkeypatch
):
    import ingest.files

    root = tmp_path / "docs"
    (root / "locked").mkdir(parents=True)
    (root / "open.md").write_text(f"# Open\n\n{BODY}\n")
    (root / "locked" / "kept.md").write_text(f"# Kept\n\n{BODY}\n")
    first = _ingest(root, fast_settings, embeddings, store)
    assert first.counts["indexed"] == 2

    # The tests run as root, whom chmod 000 does not stop: the OS refusal is injected.
    real = ingest.files.os.scandir

    def scandir(path):
        if str(path) == str(root / "locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(ingest.files.os, "scandir", scandir)
    second = _ingest(root, fast_settings, embeddings, store)

    locked = _by_source(second)["locked/"]
    assert locked.status == "failed"
    assert "cannot read this folder" in locked.reason and "stay indexed" in locked.reason
    assert second.counts["removed"] == 0
    assert {r["source"] for r in store.source_stats()} == {"open.md", "locked/kept.md"}
    _assert_store_matches_manifest(store, fast_settings)


def test_a_symlinked_file_from_another_clients_folder_is_not_indexed(
    tmp_path, fast_settings, embeddings, store
):
    mine, theirs = tmp_path / "client-c", tmp_path / "client-d"
    mine.mkdir()
    theirs.mkdir()
    (mine / "plan.md").write_text(f"# C plan\n\n{BODY}\n")
    (theirs / "secret.md").write_text("# D secret\n\nClient D acquires a competitor in May.\n")
    (mine / "secret.md").symlink_to(theirs / "secret.md")

    report = _ingest(mine, fast_settings, embeddings, store, client="client-c")

    assert _by_source(report)["secret.md"].status == "skipped"
    assert [r["source"] for r in store.source_stats()] == ["plan.md"]


def test_credential_files_are_skipped_and_secrets_in_documents_redacted(
    tmp_path, fast_settings, embeddings, store
):
    from ingest.redact import REDACTED

    root = tmp_path / "docs"
    root.mkdir()
    (root / "id_rsa").write_text(
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----\n"
    )
    (root / "env.production").write_text("DB_PASSWORD=hunter2-prod-77\n")
    (root / "terraform.tfstate").write_text('{"terraform_version": "1.6.0"}')
    (root / "runbook.md").write_text(
        "# Runbook\n\nReporting reads postgresql://app:Vx9-k2m-hunter@10.0.0.5/app nightly.\n"
    )

    report = _ingest(root, fast_settings, embeddings, store)

    results = _by_source(report)
    for name in ("id_rsa", "env.production", "terraform.tfstate"):
        assert results[name].status == "skipped" and "credential" in results[name].reason
    assert results["runbook.md"].redactions == 1
    text = "\n".join(store.collection.get()["documents"])
    assert "Vx9-k2m-hunter" not in text and REDACTED in text
    with Manifest(fast_settings.manifest_path) as manifest:
        assert {r.source: r.redactions for r in manifest.rows().values()}["runbook.md"] == 1


def test_a_base64_blob_never_becomes_one_huge_chunk(tmp_path, fast_settings, embeddings, store):
    import base64
    import random

    root = tmp_path / "docs"
    root.mkdir()
    blob = base64.b64encode(random.Random(3).randbytes(45_000)).decode()  # 60 KB
    (root / "attachment.md").write_text(f"# Attachment\n\n{BODY}\n\n{blob}\n")

    _ingest(root, fast_settings, embeddings, store)

    docs = store.collection.get()["documents"]
    assert max(map(len, docs)) <= fast_settings.chunk_max_chars
    assert sum(map(len, docs)) >= len(blob)  # cut, not dropped


def test_an_office_file_that_expands_past_the_limit_is_refused_before_parsing(
    tmp_path, fast_settings, embeddings, store
):
    from tests.ingest.hostile_corpus import _docx_bomb

    root = tmp_path / "docs"
    root.mkdir()
    _docx_bomb(root / "bomb.docx", 25)
    settings = fast_settings.model_copy(update={"max_uncompressed_mb": 10})

    report = _ingest(root, settings, embeddings, store)

    result = _by_source(report)["bomb.docx"]
    assert result.status == "skipped" and "uncompressed" in result.reason
    assert report.parsed == 0
