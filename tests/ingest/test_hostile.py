"""A generated hostile corpus, ingested mixed with good files into an index that already holds
another client: every good file is indexed, every bad one has a reason, nothing hangs, memory
stays bounded, and the earlier index is untouched."""

from __future__ import annotations

import contextlib
import threading
import time

import psutil
import pytest

from advisor.core.principal import Principal
from advisor.core.settings import Settings
from advisor.service.facade import Advisor
from ingest.redact import REDACTED
from tests.ingest.hostile_corpus import (
    DEPTH,
    SECRETS,
    remove_deep_chain,
    write_good,
    write_hostile,
)
from tests.ingest.test_pipeline import _assert_store_matches_manifest

LOCAL = Principal.local()


class PeakMemory:
    """Samples the RSS the ingest adds: this process's growth plus all its descendants (the
    parser workers)."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        me = psutil.Process()
        # The test process already holds whatever earlier tests loaded: count only its growth.
        before = me.memory_info().rss
        while not self._stop.is_set():
            total = max(0, me.memory_info().rss - before)
            for proc in me.children(recursive=True):
                with contextlib.suppress(psutil.Error):  # a worker that just exited
                    total += proc.memory_info().rss
            self.peak = max(self.peak, total)
            time.sleep(0.05)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def _chunks(advisor: Advisor) -> dict[str, tuple[str, dict]]:
    got = advisor.store.collection.get(include=["documents", "metadatas"])
    return {
        i: (doc, meta)
        for i, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
    }


@pytest.mark.slow
def test_a_hostile_folder_is_ingested_with_a_reason_for_every_bad_file(
    tmp_path, embeddings, request
):
    settings = Settings(
        data_dir=tmp_path / "data", max_file_mb=1, max_uncompressed_mb=10, parse_timeout=300
    )
    advisor = Advisor(settings, embeddings=embeddings)
    earlier = write_good(tmp_path / "earlier")
    advisor.ingest(LOCAL, [tmp_path / "earlier"], client="earlier-client")
    before = _chunks(advisor)

    root = tmp_path / "hostile"
    good = write_good(root)
    expect = write_hostile(root, tmp_path / "elsewhere")
    request.addfinalizer(lambda: remove_deep_chain(root / "d"))
    assert len(expect) >= 30
    started = time.monotonic()
    with PeakMemory() as memory:
        report = advisor.ingest(LOCAL, [root], client="hostile-client")
    seconds = time.monotonic() - started
    print(
        f"\nhostile ingest: {len(report.files)} files in {seconds:.1f} s, peak RSS of the "
        f"ingest's growth and its parser workers {memory.peak / 2**20:.0f} MB"
    )
    results = {f.source: f for f in report.files}

    for source in good:
        assert results[source].status == "indexed", (source, results[source].reason)
    for source, outcome in expect.items():
        got = results[source]
        if outcome == "indexed":
            assert got.status == "indexed", (source, got.reason)
        else:
            status, words = outcome
            assert (got.status, words in got.reason) == (status, True), (source, got.reason)
    assert all(f.reason for f in report.files if f.status in ("skipped", "failed"))
    # A parse is bounded by its worker's limit; the whole run stays far below a bomb's 1.45 GB.
    assert memory.peak < 3 * 2**30

    chunks = _chunks(advisor)
    # The earlier client's index is untouched, byte for byte.
    assert {i: chunks[i] for i in before} == before
    hostile = [(doc, meta) for doc, meta in chunks.values() if meta["scope"] == "hostile-client"]
    texts = "\n".join(doc for doc, _ in hostile)
    for secret in SECRETS:
        assert secret not in texts
    assert REDACTED in texts
    assert "victimmarker" not in texts  # the symlinked file of another folder
    assert "scriptmarker" not in texts and "javascript:" not in texts
    for marker in ("nestedmarker", "deepmarker", "blobmarker", "utf16marker", "hugetitlemarker"):
        assert marker in texts, marker
    assert max(len(doc) for doc, _ in hostile) <= settings.chunk_max_chars
    assert max(len(meta.get("title", "")) for _, meta in hostile) <= 200
    assert max(len(meta.get("section", "")) for _, meta in hostile) <= 2000
    deep = "/".join(["d"] * DEPTH) + "/deep.md"
    assert sum(meta["source"] == deep for _, meta in hostile) >= 1
    inside = [meta for _, meta in hostile if meta["source"] in ("roadmap.md", "inside-copy.md")]
    assert {meta["source"] for meta in inside} == {"roadmap.md"}  # indexed once

    status = advisor.status(LOCAL)
    redacted = {r["source"]: r["redactions"] for r in status["sources"]}
    assert redacted["runbook.md"] >= 4
    assert redacted["roadmap.md"] == 0
    _assert_store_matches_manifest(advisor.store, settings)
    assert set(earlier) <= {r["source"] for r in status["sources"] if r["scope"] != "hostile"}
