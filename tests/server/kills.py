"""SIGKILL at random points of an upload (API, app), an ingest, a forget and an answer, then a
start of the next process and a look at what is left (issue 25, attack 3).

Shared by tests/server/test_kills.py (a few kills per operation) and benchmarks/kill_bench.py
(ten or more). Each operation is timed once unkilled; each kill then lands at a uniformly
random moment of that duration (start-up, parsing, embedding, the store write, the clean-up),
and only kills that landed before the operation finished are counted.

After each kill the next process starts (a real `cto-advisor serve`, `streamlit run` or CLI
command) and must have left: no half-written document in the index and no pending row in the
manifest, chunks exactly matching the manifest's indexed rows, no file under uploads/ that is
not an indexed document (no unlisted copy of a confidential document), no temporary file, and
for a forget, nothing of the client at all.
"""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.chroma_server import free_port, stop_process
from tests.processes import CLI
from tests.server.scenario import environment


@dataclass
class Kills:
    """What a series of kills did."""

    operation: str
    landed: int = 0  # killed before the operation finished
    late: int = 0  # the operation had finished: not counted
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0  # one unkilled run

    def line(self) -> str:
        state = "nothing left behind" if not self.problems else f"{len(self.problems)} problems"
        return (
            f"{self.operation:<22} {self.landed:>3} kills mid-way ({self.late} too late), "
            f"one run {self.seconds:.1f} s: {state}"
        )


def leftovers(data_dir: Path, forgotten: str | None = None) -> list[str]:
    """Everything a killed process left that it should not have (empty when all is well)."""
    from advisor.core.settings import Settings
    from advisor.core.store import open_store

    out: list[str] = []
    settings = Settings(data_dir=data_dir)
    rows: dict[tuple[str, str], tuple[str, int, str, str]] = {}
    if settings.manifest_path.exists():
        with sqlite3.connect(f"file:{settings.manifest_path}?mode=ro", uri=True) as db:
            for root, source, doc_id, chunks, status, scope in db.execute(
                "SELECT root, source, doc_id, chunks, status, scope FROM files"
            ):
                rows[(root, source)] = (doc_id, chunks, status, scope)
    out += [f"pending row {k[1]}" for k, r in rows.items() if r[2] == "pending"]
    store = open_store(settings)
    got = store.collection.get(include=["metadatas"])
    docs: dict[str, set[str]] = {}
    scopes: dict[str, str] = {}
    for id_, meta in zip(got["ids"], got["metadatas"], strict=True):
        docs.setdefault(meta["doc_id"], set()).add(id_)
        scopes[meta["doc_id"]] = meta["scope"]
    indexed = {r[0]: r[1] for r in rows.values() if r[2] == "indexed"}
    for doc_id, ids in docs.items():
        if doc_id not in indexed:
            out.append(f"chunks of a document the manifest does not list ({doc_id})")
        elif ids != {f"{doc_id}:{i}" for i in range(indexed[doc_id])}:
            out.append(f"document {doc_id} has {len(ids)} chunks, not {indexed[doc_id]}")
    out += [f"indexed row without chunks {d}" for d in indexed if d not in docs]
    uploads = data_dir.resolve() / "uploads"
    for path in uploads.rglob("*") if uploads.exists() else []:
        if path.is_dir():
            continue
        row = rows.get((str(path.parent), path.name))
        if path.name.startswith("."):
            out.append(f"temporary or journal file left: {path.relative_to(uploads)}")
        elif row is None or row[2] != "indexed":
            out.append(f"unlisted copy of an uploaded document: {path.relative_to(uploads)}")
    lexical = data_dir / "lexical"
    out += (
        [f"half-saved cache {p.name}" for p in lexical.glob("*.tmp*")] if lexical.exists() else []
    )
    if (data_dir / "forgetting").exists():
        out.append("a forget was left unfinished")
    if forgotten:
        if forgotten in scopes.values() or any(r[3] == forgotten for r in rows.values()):
            out.append(f"{forgotten} is still indexed")
        if (uploads / forgotten).exists():
            out.append(f"{forgotten}'s uploads are still on disk")
    return out


def kill_at(proc: subprocess.Popen, seconds: float) -> bool:
    """SIGKILL `proc` after `seconds`; True if it was still running (the kill landed)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        time.sleep(0.005)
    if proc.poll() is not None:
        return False
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    return True


def _series(
    name: str,
    kills: int,
    seed: int,
    once: Callable[[], float],
    killed_run: Callable[[float], bool],
    check: Callable[[], list[str]],
    max_rounds: int | None = None,
) -> Kills:
    """Time one run, then kill runs at random points until `kills` landed."""
    rng = random.Random(seed)
    result = Kills(name)
    result.seconds = once()
    rounds = 0
    while result.landed < kills and rounds < (max_rounds or kills * 3):
        rounds += 1
        if killed_run(rng.uniform(0.02, 1.0) * result.seconds):
            result.landed += 1
        else:
            result.late += 1
        result.problems += [f"round {rounds}: {p}" for p in check()]
    return result


# -- the CLI: ingest, forget, ask -----------------------------------------------------------------


def _cli(data_dir: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [*CLI, *args],
        env=environment(data_dir, None),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _next_start(data_dir: Path) -> list[str]:
    """Start the next process (`status`, which opens the index and so cleans up), then look."""
    done = subprocess.run(
        [*CLI, "status"], env=environment(data_dir, None), capture_output=True, text=True
    )
    if done.returncode:
        return [f"the next start failed: {done.stderr[-500:]}"]
    return leftovers(data_dir)


def _write_docs(folder: Path, tag: str, n: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (folder / f"note-{i:02d}.md").write_text(
            f"# Note {i}\n\n"
            + "".join(f"## Part {s}\n\nRule {s} of note {i}, {tag}.\n\n" for s in range(6))
        )


def ingest_kills(tmp: Path, kills: int, seed: int = 1) -> Kills:
    data_dir, docs = tmp / "data", tmp / "docs"
    state = {"round": 0}

    def changed() -> None:
        state["round"] += 1
        _write_docs(docs, f"round {state['round']}", 12)

    def once() -> float:
        changed()
        started = time.monotonic()
        subprocess.run([*CLI, "ingest", str(docs)], env=environment(data_dir, None), check=True,
                       capture_output=True)  # fmt: skip
        return time.monotonic() - started

    def killed_run(at: float) -> bool:
        changed()
        return kill_at(_cli(data_dir, "ingest", str(docs)), at)

    return _series("ingest (CLI)", kills, seed, once, killed_run, lambda: _next_start(data_dir))


def forget_kills(tmp: Path, kills: int, seed: int = 2) -> Kills:
    data_dir = tmp / "data"
    state = {"n": 0, "client": ""}

    def a_client() -> str:
        state["n"] += 1
        client = f"client-{state['n']:02d}"
        _write_docs(tmp / client, client, 4)
        subprocess.run([*CLI, "ingest", str(tmp / client), "--client", client],
                       env=environment(data_dir, None), check=True, capture_output=True)  # fmt: skip
        state["client"] = client
        return client

    def once() -> float:
        client = a_client()
        started = time.monotonic()
        subprocess.run([*CLI, "forget", "--client", client, "--yes"],
                       env=environment(data_dir, None), check=True, capture_output=True)  # fmt: skip
        return time.monotonic() - started

    def killed_run(at: float) -> bool:
        client = a_client()
        return kill_at(_cli(data_dir, "forget", "--client", client, "--yes"), at)

    def check() -> list[str]:
        # Killed before it began, the client is all there; after, it is all gone: never half.
        problems = _next_start(data_dir)
        gone = leftovers(data_dir, state["client"])
        if set(gone) - set(problems) and _documents_of(data_dir, state["client"]) != 4:
            problems += [p for p in gone if p not in problems]
        return problems

    return _series("forget (CLI)", kills, seed, once, killed_run, check)


def ask_kills(tmp: Path, kills: int, seed: int = 3) -> Kills:
    import shutil

    data_dir = tmp / "data"
    _write_docs(tmp / "acme", "acme", 8)
    subprocess.run([*CLI, "ingest", str(tmp / "acme"), "--client", "acme"],
                   env=environment(data_dir, None), check=True, capture_output=True)  # fmt: skip
    question = ["ask", "Which rule does note 3 keep?", "--client", "acme"]

    def once() -> float:
        shutil.rmtree(data_dir / "lexical", ignore_errors=True)  # so the answer saves a cache
        started = time.monotonic()
        subprocess.run([*CLI, *question], env=environment(data_dir, None), check=True,
                       capture_output=True)  # fmt: skip
        return time.monotonic() - started

    def killed_run(at: float) -> bool:
        shutil.rmtree(data_dir / "lexical", ignore_errors=True)
        return kill_at(_cli(data_dir, *question), at)

    return _series("answer (CLI)", kills, seed, once, killed_run, lambda: _next_start(data_dir))


# -- the API: uploads -----------------------------------------------------------------------------


def _serve(data_dir: Path, log: Path) -> tuple[subprocess.Popen, str]:
    import httpx

    port = free_port()
    with open(log, "a") as out:
        proc = subprocess.Popen([*CLI, "serve", "--port", str(port)],
                                env=environment(data_dir, None), stdout=out,
                                stderr=subprocess.STDOUT)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"cto-advisor serve did not start: {log.read_text()[-2000:]}")


def api_upload_kills(tmp: Path, kills: int, seed: int = 4) -> Kills:
    import httpx

    from advisor.core.settings import Settings
    from advisor.service.accounts import AccountStore

    data_dir, log = tmp / "data", tmp / "serve.log"
    accounts = AccountStore(Settings(data_dir=data_dir))
    accounts.add_user("cto@kills.example", "cto", None, "kill-test-password")
    token = accounts.create_token("cto@kills.example", "kills")
    state = {"n": 0}

    def files() -> list:
        state["n"] += 1
        return [
            ("files", (f"upload-{state['n']:02d}-{i}.md", (
                f"# Upload {state['n']} part {i}\n\n## Facts\n\nUpload {state['n']} says rule {i}."
                * 20).encode(), "text/markdown"))
            for i in range(6)
        ]  # fmt: skip

    def post(url: str, out: dict) -> None:
        try:
            r = httpx.post(url + "/v1/documents", files=files(), data={"client": "acme"},
                           headers={"Authorization": f"Bearer {token}"}, timeout=120)  # fmt: skip
            out["status"] = r.status_code
        except httpx.HTTPError as exc:
            out["error"] = str(exc)

    def once() -> float:
        proc, url = _serve(data_dir, log)
        try:
            out: dict = {}
            started = time.monotonic()
            post(url, out)
            assert out.get("status") == 200, out
            return time.monotonic() - started
        finally:
            stop_process(proc)

    pending: list[str] = []

    def killed_run(at: float) -> bool:
        proc, url = _serve(data_dir, log)  # this start cleans up after the previous kill
        pending.extend(leftovers(data_dir))
        out: dict = {}
        sender = threading.Thread(target=post, args=(url, out))
        sender.start()
        landed = kill_at(proc, at) and "status" not in out
        if proc.poll() is None:
            stop_process(proc)
        sender.join(timeout=60)
        return landed

    def check() -> list[str]:
        found = list(pending)
        pending.clear()
        return found

    result = _series("upload (API)", kills, seed, once, killed_run, check)
    proc, _ = _serve(data_dir, log)  # the last kill's clean-up
    try:
        result.problems += [f"after the last kill: {p}" for p in leftovers(data_dir)]
    finally:
        stop_process(proc)
    return result


# -- the app: uploads -----------------------------------------------------------------------------


def app_upload_kills(tmp: Path, kills: int, seed: int = 5) -> Kills:
    """Upload through a real browser into `streamlit run app.py`, killed at random points."""
    from playwright.sync_api import expect, sync_playwright

    from tests.server.scenario import CHROMIUM, CHROMIUM_ARGS, app_process

    data_dir = tmp / "data"
    _write_docs(tmp / "acme", "acme", 2)
    subprocess.run([*CLI, "ingest", str(tmp / "acme"), "--client", "acme"],
                   env=environment(data_dir, None), check=True, capture_output=True)  # fmt: skip
    state = {"n": 0}

    def upload(url: str, browser, until_done: bool) -> float:
        """Upload four files; returns when "Index files" was clicked (monotonic)."""
        state["n"] += 1
        page = browser.new_page(viewport={"width": 1280, "height": 1400})
        page.goto(url)
        sidebar = page.get_by_test_id("stSidebar")
        expect(sidebar.get_by_text("Add documents")).to_be_visible(timeout=120_000)
        sidebar.get_by_text("Add documents").click()
        sidebar.locator("input[type=file]").set_input_files([
            {"name": f"app-{state['n']:02d}-{i}.md", "mimeType": "text/markdown",
             "buffer": f"# App upload {state['n']}\n\nRule {i} of upload {state['n']}.\n".encode()}
            for i in range(4)
        ])  # fmt: skip
        expect(sidebar.get_by_text(f"app-{state['n']:02d}-0.md").first).to_be_visible()
        sidebar.get_by_role("button", name="Index files").click()
        clicked = time.monotonic()
        if until_done:
            expect(sidebar.get_by_text(f"app-{state['n']:02d}-3.md: indexed")).to_be_visible(
                timeout=120_000
            )
        return clicked

    def session(body: Callable[[str, object, subprocess.Popen], object]):
        env = environment(data_dir, None)
        with sync_playwright() as pw, app_process(data_dir, env, tmp / "app") as (url, proc):
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                return body(url, browser, proc)
            finally:
                browser.close()

    def once() -> float:
        def run(url, browser, proc):
            clicked = upload(url, browser, until_done=True)
            return time.monotonic() - clicked  # from the click: when a kill can land

        return session(run)

    def killed_run(at: float) -> bool:
        def run(url, browser, proc):
            clicked = upload(url, browser, until_done=False)
            last = f"app-{state['n']:02d}-3.md"
            landed = kill_at(proc, max(0.0, at - (time.monotonic() - clicked)))
            return landed and not _listed(data_dir, last)

        return session(run)

    def check() -> list[str]:
        def look(url, browser, proc):
            page = browser.new_page()
            page.goto(url)  # the page opens the index: the app cleans up first
            expect(page.get_by_test_id("stSidebar").get_by_text("Add documents")).to_be_visible(
                timeout=120_000
            )
            return leftovers(data_dir)

        return session(look)

    return _series("upload (app)", kills, seed, once, killed_run, check)


def _documents_of(data_dir: Path, client: str) -> int:
    with sqlite3.connect(f"file:{data_dir / 'manifest.sqlite'}?mode=ro", uri=True) as db:
        return db.execute(
            "SELECT count(*) FROM files WHERE scope = ? AND status = 'indexed'", (client,)
        ).fetchone()[0]


def _listed(data_dir: Path, name: str) -> bool:
    path = Path(data_dir) / "manifest.sqlite"
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as db:
            row = db.execute("SELECT status FROM files WHERE source = ?", (name,)).fetchone()
    except sqlite3.Error:
        return False
    return bool(row and row[0] == "indexed")
