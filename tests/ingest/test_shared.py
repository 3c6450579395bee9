"""A store shared by a team: with a Chroma server, the manifest and the ingest lease live on the
server, so processes on different machines (here: different data dirs) see one state, and two
ingests of one folder never duplicate or orphan chunks."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

from advisor.core.principal import Principal
from advisor.core.settings import Settings
from advisor.core.store import chroma_client
from advisor.service.facade import Advisor
from ingest.pipeline import file_sha256
from ingest.shared import ChromaManifest, IngestLease
from tests.processes import CLI

ROOT = Path(__file__).resolve().parents[2]
LOCAL = Principal.local()


def _server_settings(port: int, data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, chroma_host="127.0.0.1", chroma_port=port, parse_workers=1)


def _write_docs(root: Path, paragraphs: int) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name in ("incidents", "hiring", "architecture"):
        body = "\n\n".join(
            f"## Part {i}\n\nThe {name} practice number {i} says to write things down, review "
            f"them weekly, and keep the owner of decision {i} named in the {name} log. " * 6
            for i in range(paragraphs)
        )
        (root / f"{name}.md").write_text(f"# {name.title()}\n\n{body}\n")
    return root


def _chunks_by_doc(settings: Settings) -> dict[str, list[dict]]:
    res = chroma_client(settings).get_collection(settings.collection).get(include=["metadatas"])
    docs: dict[str, list[dict]] = {}
    for id_, meta in zip(res["ids"], res["metadatas"], strict=True):
        docs.setdefault(meta["source"], []).append({"id": id_, **meta})
    return docs


def _assert_exactly_the_current_files(settings: Settings, root: Path) -> None:
    """Every file has one contiguous run of chunks, all from its current content."""
    docs = _chunks_by_doc(settings)
    assert sorted(docs) == sorted(p.name for p in root.glob("*.md"))
    for source, chunks in docs.items():
        assert sorted(c["chunk_index"] for c in chunks) == list(range(len(chunks))), source
        assert {c["sha256"] for c in chunks} == {file_sha256(root / source)}, source


def test_a_second_machine_sees_the_first_machines_manifest(tmp_path, chroma_server, embeddings):
    docs = _write_docs(tmp_path / "docs", paragraphs=2)
    first = Advisor(_server_settings(chroma_server, tmp_path / "machine-a"), embeddings=embeddings)
    assert first.ingest(LOCAL, [docs]).counts.get("indexed") == 3

    second = Advisor(_server_settings(chroma_server, tmp_path / "machine-b"), embeddings=embeddings)
    report = second.ingest(LOCAL, [docs])
    assert report.counts["unchanged"] == 3 and report.embedded == 0
    assert not (tmp_path / "machine-b" / "manifest.sqlite").exists()


def test_reset_on_a_server_forgets_the_shared_manifest(tmp_path, chroma_server, embeddings):
    docs = _write_docs(tmp_path / "docs", paragraphs=1)
    settings = _server_settings(chroma_server, tmp_path / "a")
    advisor = Advisor(settings, embeddings=embeddings)
    advisor.ingest(LOCAL, [docs])
    advisor.reset(LOCAL)
    again = Advisor(settings, embeddings=embeddings).ingest(LOCAL, [docs])
    assert again.counts.get("indexed") == 3
    _assert_exactly_the_current_files(settings, docs)


def test_the_lease_has_one_holder_at_a_time_and_expires_when_its_holder_dies(
    tmp_path, chroma_server
):
    client = chroma_client(_server_settings(chroma_server, tmp_path))
    manifest = ChromaManifest(client, "leases-manifest")
    winners = []

    def contend() -> None:
        lease = IngestLease(ChromaManifest(client, "leases-manifest"), ttl=30)
        if lease.try_acquire():
            winners.append(lease)

    threads = [threading.Thread(target=contend) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1

    dead = IngestLease(manifest, ttl=0.5)  # a holder that stops renewing (its process died)
    winners[0].release()
    assert dead.try_acquire()
    waiter = IngestLease(manifest, ttl=30)
    assert not waiter.try_acquire()
    time.sleep(0.6)
    assert waiter.try_acquire()
    dead.release()  # a late release by the old holder must not free the new holder's lease
    assert not IngestLease(manifest).try_acquire()
    waiter.release()


@pytest.mark.slow
def test_two_ingests_of_one_folder_at_once_never_duplicate_or_orphan_chunks(
    tmp_path, chroma_server
):
    docs = _write_docs(tmp_path / "docs", paragraphs=8)
    settings = _server_settings(chroma_server, tmp_path / "check")

    def ingest_twice_at_once() -> None:
        procs = []
        for machine in ("a", "b"):
            env = {
                **os.environ,
                "PYTHONPATH": str(ROOT),
                "ADVISOR_DATA_DIR": str(tmp_path / f"machine-{machine}"),
                "ADVISOR_CHROMA_HOST": "127.0.0.1",
                "ADVISOR_CHROMA_PORT": str(chroma_server),
                "ADVISOR_PARSE_WORKERS": "1",
            }
            cli = [*CLI, "ingest"]
            cli.append(str(docs))
            procs.append(subprocess.Popen(cli, env=env, stdout=subprocess.PIPE, text=True))
        outputs = [p.communicate(timeout=600)[0] for p in procs]
        assert [p.returncode for p in procs] == [0, 0], outputs

    ingest_twice_at_once()
    _assert_exactly_the_current_files(settings, docs)
    first_count = sum(len(c) for c in _chunks_by_doc(settings).values())

    # Shrink one file and grow another: a run interleaved with the other would leave orphans.
    _write_docs(docs, paragraphs=3)
    (docs / "hiring.md").write_text((docs / "hiring.md").read_text() * 3)
    ingest_twice_at_once()
    _assert_exactly_the_current_files(settings, docs)
    assert sum(len(c) for c in _chunks_by_doc(settings).values()) != first_count


@pytest.mark.slow
def test_an_eval_on_a_server_indexes_into_its_own_collection_there(
    tmp_path, chroma_server, embeddings, monkeypatch
):
    from typer.testing import CliRunner

    import interfaces.cli.eval_cmd  # noqa: F401  (registers the command)
    import interfaces.cli.ingest_cmd  # noqa: F401  (more than one: `eval` is a subcommand)
    from interfaces.cli.base import app
    from tests.evals.tiny_corpus import write_corpus, write_dataset

    settings = _server_settings(chroma_server, tmp_path / "data")
    team = Advisor(settings, embeddings=embeddings)
    team.ingest(LOCAL, [_write_docs(tmp_path / "team-docs", paragraphs=1)])
    before = chroma_client(settings).get_collection(settings.collection).count()
    for name, value in (("DATA_DIR", tmp_path / "data"), ("CHROMA_HOST", "127.0.0.1")):
        monkeypatch.setenv(f"ADVISOR_{name}", str(value))
    monkeypatch.setenv("ADVISOR_CHROMA_PORT", str(chroma_server))
    corpus = write_corpus(tmp_path / "eval-corpus")
    dataset = write_dataset(tmp_path / "tiny.jsonl")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["eval", "--corpus", str(corpus), "--dataset", str(dataset), "--out", str(out)]
    )
    assert (out / "report.json").exists(), result.output
    names = {c.name for c in chroma_client(settings).list_collections()}
    assert any(n.startswith("eval-") for n in names), names
    assert chroma_client(settings).get_collection(settings.collection).count() == before
    assert not list((tmp_path / "data").glob("evals/*/chroma")), "no embedded store on a server"
