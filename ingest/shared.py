"""What ingest keeps beside the chunks when several processes, on several machines, share one
Chroma server: the manifest, and a lease that lets one ingest write at a time.

Why in Chroma itself: it is the one thing every process already reaches (an ADVISOR_DATA_DIR is
per machine), so a manifest there can never describe another store, and it goes when the store
goes (`cto-advisor reset`). It is a second collection, `<collection>-manifest`, holding one
record per file (the SQLite manifest's row as metadata; a one-number placeholder vector, since
Chroma stores a vector with every record), the manifest's meta values, and the ingest lease.

Why a lease: ingest replaces a document by deleting its chunks and writing the new ones; two
runs interleaving those steps on a changed file could leave chunks of both versions (orphans).
Chroma has no transactions, but `add` of an existing id is ignored (the first writer wins) and
`delete` takes a `where` condition, which is enough for a lease: take it with `add`, read back
who holds it, let it expire if its holder died, release it only if still ours. A second ingest
of the same folder waits, then finds every file unchanged. Readers (ask, eval, the app) never
wait. The BM25 side needs no shared copy: each process rebuilds it from the collection when the
collection's generation (in its metadata, bumped by every ingest that changed it) moves.
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import time
import uuid
from dataclasses import asdict, fields

from advisor.core.errors import StoreError
from ingest.manifest import PENDING, Row

_ROW_FIELDS = [f.name for f in fields(Row)]
_PLACEHOLDER = [0.0]  # Chroma stores a vector with every record; these need none
LEASE_ID = "lease:ingest"


def _file_id(key: tuple[str, str]) -> str:
    return "file:" + hashlib.sha1("\n".join(key).encode()).hexdigest()


class ChromaManifest:
    """The manifest's interface (see ingest/manifest.py) over a Chroma collection."""

    def __init__(self, client, name: str) -> None:
        self.collection = client.get_or_create_collection(name, embedding_function=None)
        self._step = max(1, min(client.get_max_batch_size(), 1000))

    def close(self) -> None:
        pass

    def __enter__(self) -> ChromaManifest:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- reads --------------------------------------------------------------------------------

    def _rows(self, where: dict) -> list[Row]:
        metas: list = []
        while True:  # a page at a time: one get of many records fails inside Chroma
            res = self.collection.get(
                where=where, include=["metadatas"], limit=self._step, offset=len(metas)
            )
            metas += res["metadatas"]
            if len(res["ids"]) < self._step:
                break
        return [Row(**{k: m[k] for k in _ROW_FIELDS if k in m}) for m in metas]

    def rows(self) -> dict[tuple[str, str], Row]:
        return {r.key: r for r in self._rows({"kind": "file"})}

    def pending(self) -> list[Row]:
        return self._rows({"$and": [{"kind": "file"}, {"status": PENDING}]})

    def get_meta(self, key: str) -> str | None:
        res = self.collection.get(ids=[f"meta:{key}"], include=["metadatas"])
        return str(res["metadatas"][0]["value"]) if res["ids"] else None

    # -- writes -------------------------------------------------------------------------------

    def put(self, row: Row) -> None:
        self.put_many([row])

    def put_many(self, rows: list[Row]) -> None:
        now = time.time()
        for row in rows:
            row.updated_at = now
        for start in range(0, len(rows), self._step):
            part = rows[start : start + self._step]
            self.collection.upsert(
                ids=[_file_id(r.key) for r in part],
                embeddings=[_PLACEHOLDER for _ in part],
                metadatas=[{"kind": "file", **asdict(r)} for r in part],
            )

    def touch(self, key: tuple[str, str], mtime_ns: int, size: int) -> None:
        row = self.rows_for([key]).get(key)
        if row is not None:
            row.mtime_ns, row.size = mtime_ns, size
            self.put(row)

    def rows_for(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Row]:
        res = self.collection.get(ids=[_file_id(k) for k in keys], include=["metadatas"])
        rows = [Row(**{k: m[k] for k in _ROW_FIELDS if k in m}) for m in res["metadatas"]]
        return {r.key: r for r in rows}

    def delete(self, key: tuple[str, str]) -> None:
        self.collection.delete(ids=[_file_id(key)])

    def set_meta(self, key: str, value: str) -> None:
        self.collection.upsert(
            ids=[f"meta:{key}"],
            embeddings=[_PLACEHOLDER],
            metadatas=[{"kind": "meta", "value": value}],
        )

    def clear(self) -> None:
        self.collection.delete(where={"kind": "file"})

    def invalidate(self) -> None:
        """Make every file look changed, so the next run parses it again (rows stay)."""
        rows = list(self.rows().values())
        for row in rows:
            row.sha256, row.mtime_ns = "", -1
        self.put_many(rows)

    def delete_scope(self, scope: str) -> list[str]:
        """Forget every file of one scope; returns their doc ids."""
        rows = self._rows({"$and": [{"kind": "file"}, {"scope": scope}]})
        for row in rows:
            self.delete(row.key)
        return [r.doc_id for r in rows]


class IngestLease:
    """One ingest at a time per collection, across processes and machines (a context manager).

    Held for `ttl` seconds and renewed by a background thread every ttl/3, so a holder that dies
    blocks the others for at most `ttl`. Waiters poll every `poll` seconds up to `wait`.
    """

    def __init__(
        self, manifest: ChromaManifest, ttl: float = 120.0, wait: float = 3600.0, poll=0.5
    ) -> None:
        self.collection = manifest.collection
        self.ttl = ttl
        self.wait = wait
        self.poll = poll
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def _holder(self) -> dict | None:
        res = self.collection.get(ids=[LEASE_ID], include=["metadatas"])
        return res["metadatas"][0] if res["ids"] else None

    def try_acquire(self) -> bool:
        """Take the lease if it is free or expired; True when it is ours."""
        now = time.time()
        # An expired lease is removed only if it is still the expired one (the where clause).
        self.collection.delete(ids=[LEASE_ID], where={"expires": {"$lt": now}})
        self.collection.add(  # ignored when a lease record exists: the first writer wins
            ids=[LEASE_ID],
            embeddings=[_PLACEHOLDER],
            metadatas=[{"kind": "lease", "owner": self.owner, "expires": now + self.ttl}],
        )
        holder = self._holder()
        return holder is not None and holder.get("owner") == self.owner

    def acquire(self) -> None:
        deadline = time.monotonic() + self.wait
        while not self.try_acquire():
            if time.monotonic() > deadline:
                holder = self._holder() or {}
                raise StoreError(
                    f"another ingest ({holder.get('owner', 'unknown')}) has held the store for "
                    f"over {self.wait:.0f} s: wait for it to finish, or if it died, retry after "
                    f"its lease expires ({self.ttl:.0f} s)"
                )
            time.sleep(self.poll)
        self._stop.clear()
        self._renewer = threading.Thread(target=self._renew, daemon=True)
        self._renewer.start()

    def _renew(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            holder = self._holder()
            if holder is None or holder.get("owner") != self.owner:
                return  # lost it (expired while this process was stalled): do not steal it back
            self.collection.update(
                ids=[LEASE_ID],
                metadatas=[
                    {"kind": "lease", "owner": self.owner, "expires": time.time() + self.ttl}
                ],
            )

    def release(self) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
        self.collection.delete(ids=[LEASE_ID], where={"owner": self.owner})

    def __enter__(self) -> IngestLease:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
