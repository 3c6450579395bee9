"""The Chroma store: embedded by default, a `chroma run` server when configured, and a clear
refusal when the index was built with another embedding model."""

from __future__ import annotations

import pytest

from advisor.core.errors import EmbeddingMismatchError, StoreError
from advisor.core.principal import Principal
from advisor.core.settings import Settings
from advisor.core.store import Store
from advisor.service.facade import Advisor
from tests.advisor.corpus import ACME_FACT, GLOBEX_FACT, index_corpus, write_corpus
from tests.chroma_server import free_port

LOCAL = Principal.local()


def test_server_mode_indexes_and_answers_with_scoping(tmp_path, chroma_server, embeddings):
    settings = Settings(
        data_dir=tmp_path / "data", chroma_host="127.0.0.1", chroma_port=chroma_server
    )
    advisor = Advisor(settings, embeddings=embeddings)
    index_corpus(advisor, write_corpus(tmp_path / "corpus"))

    status = advisor.status(LOCAL)
    assert status["store"] == f"http://127.0.0.1:{chroma_server}"
    assert status["clients"] == ["acme", "globex"] and status["documents"] == 5
    assert not (tmp_path / "data" / "chroma").exists(), "server mode must not create a local store"

    answer = advisor.ask(LOCAL, "Which pager does the on-call engineer carry?", client="globex")
    assert all(p.scope in ("playbook", "globex") for p in answer.passages)
    assert ACME_FACT not in answer.answer
    assert GLOBEX_FACT in " ".join(
        p.text for p in advisor.retrieve(LOCAL, "Quasar", client="globex")
    )


def test_unreachable_server_says_how_to_fix_it(tmp_path):
    settings = Settings(data_dir=tmp_path, chroma_host="127.0.0.1", chroma_port=free_port())
    with pytest.raises(StoreError, match="chroma run --path DIR --port"):
        Store(settings, "all-MiniLM-L6-v2", 384)


def test_index_built_with_another_model_is_refused_with_the_fix(tmp_path):
    settings = Settings(data_dir=tmp_path)
    Store(settings, "all-MiniLM-L6-v2", 384)
    with pytest.raises(EmbeddingMismatchError) as raised:
        Store(settings, "openai:text-embedding-3-small", 1536)
    message = str(raised.value)
    assert "ADVISOR_EMBEDDING_MODEL=all-MiniLM-L6-v2" in message
    assert "cto-advisor reset --yes" in message


def test_whole_index_reads_go_a_page_at_a_time_with_the_same_result(two_clients_index, monkeypatch):
    # One `get` of 100k chunks fails inside Chroma ("too many SQL variables").
    settings = Settings(data_dir=two_clients_index)
    whole = Store(settings, "all-MiniLM-L6-v2", 384)
    expected = (whole.source_stats(), sorted(p.id for p in whole.chunks_in(["playbook", "acme"])))
    monkeypatch.setattr(Store, "PAGE", 2)
    paged = Store(settings, "all-MiniLM-L6-v2", 384)
    got = (paged.source_stats(), sorted(p.id for p in paged.chunks_in(["playbook", "acme"])))
    assert got == expected and len(expected[1]) > 2


WRITE_ONE = """
import sys
from advisor.core.models import Chunk
from advisor.core.settings import Settings
from advisor.core.store import open_store

store = open_store(Settings(data_dir=sys.argv[1]))
chunk = Chunk(id="late:0", text="a late chunk", source="late.md", root="/r", doc_id="late",
              title="t", scope="acme", sha256="x", chunk_index=0, mtime=1.0, file_type="md")
store.upsert([chunk], [[1.0] + [0.0] * 383])
"""


def test_a_paged_read_holds_no_lock_and_reads_again_after_another_processs_write(
    two_clients_index, tmp_path, monkeypatch
):
    """A whole scope read a page at a time must not hold the store lock: this process's own
    fresh client (after another process wrote) needs it exclusively, and at 100k chunks the
    first question waited 14 s for the client list being read in the background. Consistency
    comes from the write count instead: a write counted during the read makes it read again."""
    import fcntl
    import os
    import shutil
    import subprocess
    import sys

    from tests.processes import ROOT

    data_dir = tmp_path / "data"
    shutil.copytree(two_clients_index, data_dir)
    settings = Settings(data_dir=data_dir)
    store = Store(settings, "all-MiniLM-L6-v2", 384)
    monkeypatch.setattr(Store, "PAGE", 2)
    live = store._live
    calls = {"get": 0, "locked": None}

    class Pausing:
        """The real collection; after the first page, another process writes one chunk."""

        def __init__(self, collection) -> None:
            self.collection = collection

        def get(self, **kwargs):
            calls["get"] += 1
            if calls["get"] == 2:
                fd = os.open(data_dir / "store.lock", os.O_RDWR)
                try:  # nobody holds the lock in the middle of the read
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    calls["locked"] = False
                except BlockingIOError:
                    calls["locked"] = True
                finally:
                    os.close(fd)
                if calls["locked"]:
                    return self.collection.get(**kwargs)  # the write would wait for the read
                subprocess.run(
                    [sys.executable, "-c", WRITE_ONE, str(data_dir)], check=True,
                    env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
                )  # fmt: skip
            return self.collection.get(**kwargs)

    monkeypatch.setattr(store, "_live", lambda: Pausing(live()))
    got = sorted(p.id for p in store.chunks_in(["acme"]))
    assert calls["locked"] is False, "the paged read held the store lock"
    fresh = Store(settings, "all-MiniLM-L6-v2", 384)
    monkeypatch.setattr(Store, "PAGE", 10_000)
    assert got == sorted(p.id for p in fresh.chunks_in(["acme"]))
    assert "late:0" in got  # read again after the write, not a mix of before and after
