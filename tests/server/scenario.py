"""Another process ingests while a long-running server answers: the scenario the concurrency
test and benchmarks/concurrency_bench.py share.

Two clients (acme, globex) and a few playbooks are indexed by the CLI. A server is started over
the same data dir (a real `cto-advisor serve`, or `streamlit run app.py` driven by Chromium), and
askers put questions to it without pause. Meanwhile acme's folder changes (documents edited,
added and deleted) and a separate `cto-advisor ingest` process indexes the change. Every answer
is kept with its timing, so the checks can say, for the whole run:

- how many requests failed (5xx, a transport error, the app's error box);
- whether an answer cited one document in two versions (half old, half new);
- whether an answer showed another client's text;
- how long after the ingest ended the new documents were answerable and the deleted ones gone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.browser.test_chat_browser import CHROMIUM
from tests.browser.test_chat_browser import CHROMIUM_ARGS as BROWSER_ARGS
from tests.chroma_server import free_port, running_chroma, stop_process
from tests.processes import CLI, ROOT

TOPICS = ["billing", "hiring", "incidents", "security", "roadmap", "vendors"]
ACME_FILES = 24
CHANGED = range(0, 12)  # edited: "in v1." becomes "in v2."
DELETED = range(12, 16)  # removed from the folder
ADDED = 6  # new files, about something no other document mentions
NEW_MARK = "zeppelin"
GLOBEX_MARK = "quasar"
NEW_QUESTION = "Which guild is the onboarding buddy for new hires chosen from?"
PASSWORD = "scenario-password-not-secret"
SETTLE = 5.0  # seconds after the ingest ends from which no answer may cite a deleted document


def acme_doc(i: int, version: str) -> str:
    topic = TOPICS[i % len(TOPICS)]
    sections = "".join(
        f"## {topic.title()} practice {s}\n\nFor {topic}, the team keeps rule {s} of document "
        f"{i} in {version}. Reviewed by the {topic} owner every quarter.\n\n"
        for s in range(6)
    )
    return f"# {topic.title()} guide {i}\n\n{sections}"


def write_corpus(root: Path) -> dict[str, Path]:
    """acme v1 (24 guides), globex (6 documents with its own marker), 3 playbooks."""
    folders = {name: root / name for name in ("acme", "globex", "playbooks")}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    for i in range(ACME_FILES):
        (folders["acme"] / f"{TOPICS[i % 6]}-{i:02d}.md").write_text(acme_doc(i, "v1"))
    for i, topic in enumerate(TOPICS):
        (folders["globex"] / f"{topic}.md").write_text(
            f"# Globex {topic}\n\n## {topic.title()} at Globex\n\nGlobex keeps the {topic} "
            f"ledger in the {GLOBEX_MARK}-{i} vault, and the team keeps rule {i} for {topic}.\n"
        )
    for topic in TOPICS[:3]:
        (folders["playbooks"] / f"{topic}-playbook.md").write_text(
            f"# {topic.title()} playbook\n\n## Principles\n\nA healthy {topic} practice has an "
            f"owner, a written rule and a quarterly review.\n"
        )
    return folders


def change_acme(folder: Path) -> None:
    """Edit, delete and add acme documents (what the ingest in another process indexes)."""
    for i in CHANGED:
        (folder / f"{TOPICS[i % 6]}-{i:02d}.md").write_text(acme_doc(i, "v2"))
    for i in DELETED:
        (folder / f"{TOPICS[i % 6]}-{i:02d}.md").unlink()
    for k in range(ADDED):
        (folder / f"onboarding-new-{k}.md").write_text(
            f"# Onboarding {k}\n\n## Buddies\n\nThe onboarding buddy for new hires is chosen "
            f"from the {NEW_MARK} guild, group {k}, and meets them on their first day.\n"
        )


DELETED_SOURCES = {f"{TOPICS[i % 6]}-{i:02d}.md" for i in DELETED}


def questions_for(client: str) -> list[str]:
    if client == "globex":
        return [f"Where does Globex keep the {t} ledger?" for t in TOPICS]
    return [f"What rule does the team keep for {t}?" for t in TOPICS] + [NEW_QUESTION]


# -- what one answer showed ----------------------------------------------------------------------


@dataclass
class Sample:
    """One question and what came back."""

    asker: int
    client: str
    question: str
    started: float
    seconds: float
    status: int  # HTTP status; 0 for a transport error; 500 for the app's error box
    text: str = ""  # the answer and every citation's snippet
    sources: dict[str, list[str]] = field(default_factory=dict)  # source -> its snippets
    scopes: set[str] = field(default_factory=set)
    error: str = ""


def versions_of(snippets: list[str]) -> set[str]:
    return {v for v in ("v1", "v2") if any(f" in {v}." in s for s in snippets)}


def problems(sample: Sample) -> list[str]:
    """What is wrong with one answer, beyond its status."""
    out = []
    for source, snippets in sample.sources.items():
        if len(versions_of(snippets)) > 1:
            out.append(f"{source} cited half old, half new")
    other = "globex" if sample.client == "acme" else "acme"
    if other in sample.scopes:
        out.append(f"cited {other}'s documents")
    leaked = GLOBEX_MARK if sample.client == "acme" else "team keeps rule 0 of document"
    if leaked in sample.text.lower():
        out.append(f"showed {other}'s text")
    return out


# -- the askers ----------------------------------------------------------------------------------


class Run:
    """Askers running until stopped; the ingest's start and end are marked on the same clock."""

    def __init__(self) -> None:
        self.samples: list[Sample] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.t0 = time.monotonic()
        self.ingest_started: float | None = None
        self.ingest_ended: float | None = None
        self.asked_since_ingest: dict[int, int] = {}  # asker -> questions begun after it

    def now(self) -> float:
        return time.monotonic() - self.t0

    def question(self, asker: int, client: str, n: int) -> str:
        """The n-th question of an asker; once the ingest has ended, acme's askers ask about
        the new documents first, then every other time (how soon they are answerable is
        measured)."""
        pool = questions_for(client)
        if client == "acme" and self.ingest_ended is not None:
            with self.lock:
                since = self.asked_since_ingest.get(asker, 0)
                self.asked_since_ingest[asker] = since + 1
            if since % 2 == 0:
                return NEW_QUESTION
        return pool[n % len(pool)]

    def add(self, sample: Sample) -> None:
        with self.lock:
            self.samples.append(sample)

    def keep_asking(self, after: float, new_answers: int = 2, limit: float = 300.0) -> None:
        """After the ingest: `after` seconds, then on until `new_answers` answers to the
        new-document question asked after the ingest ended have come back (on a loaded machine
        an app page may still be writing an answer begun before the ingest ended), at most
        `limit` seconds in all."""
        deadline = time.monotonic() + limit
        time.sleep(after)
        while time.monotonic() < deadline:
            with self.lock:
                got = sum(
                    1
                    for s in self.samples
                    if s.question == NEW_QUESTION and s.started >= (self.ingest_ended or 0.0)
                )
            if got >= new_answers:
                return
            time.sleep(0.5)

    def phase(self, sample: Sample) -> str:
        if self.ingest_started is None or sample.started < self.ingest_started:
            return "before"
        if self.ingest_ended is None or sample.started < self.ingest_ended:
            return "during"
        return "after"

    def first_success(self, predicate: Callable[[Sample], bool]) -> float | None:
        """Seconds after the ingest ended until every later answer to the new-document question
        satisfied `predicate` (None if the last one still did not)."""
        if self.ingest_ended is None:
            return None
        mine = sorted(
            (s for s in self.samples if s.question == NEW_QUESTION and s.status == 200),
            key=lambda s: s.started,
        )
        settled = None
        for s in mine:
            ok = predicate(s)
            if ok and settled is None:
                settled = s.started + s.seconds
            elif not ok and s.started >= self.ingest_ended:
                settled = None
        return None if settled is None else max(0.0, settled - self.ingest_ended)

    def report(self) -> dict:
        def p95(values: list[float]) -> float | None:
            if not values:
                return None
            ordered = sorted(values)
            return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]

        out: dict = {"requests": len(self.samples)}
        out["failed"] = sum(1 for s in self.samples if s.status == 0 or s.status >= 500)
        out["statuses"] = {}
        for s in self.samples:
            out["statuses"][str(s.status)] = out["statuses"].get(str(s.status), 0) + 1
        out["problems"] = [(s.question, p) for s in self.samples for p in problems(s)]
        for phase in ("before", "during", "after"):
            mine = [s for s in self.samples if self.phase(s) == phase]
            out[phase] = {
                "requests": len(mine),
                "failed": sum(1 for s in mine if s.status == 0 or s.status >= 500),
                "p95_s": p95([s.seconds for s in mine]),
            }
        # Answers being written at some moment of the ingest (an app page may begin one just
        # before it and finish after it: "during" counts only those begun during it).
        out["overlapping"] = sum(
            1
            for s in self.samples
            if self.ingest_started is not None
            and self.ingest_ended is not None
            and s.started < self.ingest_ended
            and s.started + s.seconds > self.ingest_started
        )
        out["ingest_s"] = (
            self.ingest_ended - self.ingest_started
            if self.ingest_started is not None and self.ingest_ended is not None
            else None
        )
        out["new_answerable_after_s"] = self.first_success(
            lambda s: any(src.startswith("onboarding-new") for src in s.sources)
        )
        # Every new-document question begun after the ingest ended: (seconds after the end it
        # was asked, seconds its answer took, whether it cited a new document).
        out["new_after"] = [
            (
                round(s.started - self.ingest_ended, 2),
                round(s.seconds, 2),
                any(src.startswith("onboarding-new") for src in s.sources),
            )
            for s in sorted(self.samples, key=lambda s: s.started)
            if self.ingest_ended is not None
            and s.question == NEW_QUESTION
            and s.status == 200
            and s.started >= self.ingest_ended
        ]
        deleted_after = [
            s
            for s in self.samples
            if self.ingest_ended is not None
            and s.started > self.ingest_ended + SETTLE
            and DELETED_SOURCES & set(s.sources)
        ]
        out["deleted_cited_after"] = len(deleted_after)
        # Every question here is about documents in its scope: an answer citing nothing was
        # read before it was finished, or abstained where it should not have.
        out["uncited"] = sum(1 for s in self.samples if s.status == 200 and not s.sources)
        examples = [s for s in self.samples if s.status == 0 or s.status >= 500]
        out["first_errors"] = [s.error[:300] for s in examples[:3]]
        out["new_question_answers"] = [
            (round(s.started, 1), s.status, sorted(s.sources))
            for s in self.samples
            if s.question == NEW_QUESTION
        ][-4:]
        return out


def print_report(title: str, report: dict) -> None:
    def fmt(v: float | None) -> str:
        return "-" if v is None else f"{v:.2f}"

    print(f"\n{title}")
    print(
        f"  requests {report['requests']}, failed (5xx/transport/error box) {report['failed']}, "
        f"statuses {report['statuses']}"
    )
    for phase in ("before", "during", "after"):
        r = report[phase]
        print(
            f"  {phase:<7} requests {r['requests']:>5}  failed {r['failed']:>4}  "
            f"p95 {fmt(r['p95_s'])} s"
        )
    print(
        f"  ingest took {fmt(report['ingest_s'])} s ({report['overlapping']} answers "
        f"overlapped it); new documents answerable "
        f"{fmt(report['new_answerable_after_s'])} s after it ended; answers citing a deleted "
        f"one from {SETTLE:g} s after: {report['deleted_cited_after']}"
    )
    asked = report["new_after"]
    print(
        f"  new-document questions asked after it: {len(asked)}, citing a new document: "
        f"{sum(1 for *_, cited in asked if cited)}; the first asked "
        f"{fmt(asked[0][0] if asked else None)} s after, answered in "
        f"{fmt(asked[0][1] if asked else None)} s"
    )
    print(f"  answers half old/half new or with another client's text: {len(report['problems'])}")
    for question, problem in report["problems"][:5]:
        print(f"    {question}: {problem}")
    for error in report["first_errors"]:
        print(f"    error: {error}")


# -- processes -----------------------------------------------------------------------------------


def environment(data_dir: Path, chroma_port: int | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ADVISOR_"))}
    env |= {
        "ADVISOR_DATA_DIR": str(data_dir),
        "ADVISOR_MODE": "offline",
        "ADVISOR_API_RATE_LIMIT": "0",
        "PYTHONPATH": str(ROOT),
    }
    if chroma_port is not None:
        env |= {"ADVISOR_CHROMA_HOST": "127.0.0.1", "ADVISOR_CHROMA_PORT": str(chroma_port)}
    return env


def cli(args: list[str], env: dict[str, str], timeout: float = 600) -> None:
    out = subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=timeout)
    if out.returncode:
        raise RuntimeError(f"cto-advisor {' '.join(args)} failed: {out.stderr[-2000:]}")


def index(folders: dict[str, Path], env: dict[str, str]) -> None:
    cli(["ingest", str(folders["playbooks"])], env)
    for client in ("acme", "globex"):
        cli(["ingest", str(folders[client]), "--client", client], env)


@contextmanager
def store_for(tmp: Path, store: str) -> Iterator[int | None]:
    """None for the embedded store, else the port of a `chroma run` server."""
    if store == "embedded":
        yield None
        return
    with running_chroma(tmp / "chroma-server") as port:
        yield port


def add_tokens(data_dir: Path, askers: int) -> list[tuple[str, str]]:
    """(token, client) per asker: founders of acme and globex, alternately."""
    from advisor.core.settings import Settings
    from advisor.service.accounts import AccountStore

    accounts = AccountStore(Settings(data_dir=data_dir))
    for client in ("acme", "globex"):
        accounts.add_user(f"founder@{client}.example", "founder", client, PASSWORD)
    out = []
    for i in range(askers):
        client = "acme" if i % 2 == 0 else "globex"
        out.append((accounts.create_token(f"founder@{client}.example", f"asker-{i}"), client))
    return out


@contextmanager
def api_server(env: dict[str, str], log: Path) -> Iterator[str]:
    """A real `cto-advisor serve` on a free loopback port; yields its URL once /healthz answers
    (the model and the index are loaded before it does)."""
    import httpx

    port = free_port()
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [*CLI, "serve", "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"cto-advisor serve did not start: {log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield url
    finally:
        stop_process(proc, timeout=30)


def api_asker(run: Run, url: str, i: int, token: str, client: str) -> None:
    import httpx

    n = i
    with httpx.Client(base_url=url, timeout=180) as http:
        while not run.stop.is_set():
            question = run.question(i, client, n)
            n += 1
            started = run.now()
            try:
                r = http.post(
                    "/v1/ask",
                    json={"question": question},
                    headers={"Authorization": f"Bearer {token}"},
                )
                status, body = r.status_code, r.json() if r.content else {}
            except (httpx.HTTPError, ValueError) as exc:
                status, body = 0, {"detail": f"{type(exc).__name__}: {exc}"}
            sample = Sample(i, client, question, started, run.now() - started, status)
            if status == 200:
                sample.text = (
                    body["answer"] + "\n" + "\n".join(c["snippet"] for c in body["citations"])
                )
                for c in body["citations"]:
                    sample.sources.setdefault(c["source"], []).append(c["snippet"])
                    sample.scopes.add(c["scope"])
            else:
                sample.error = str(body.get("detail", body))
            run.add(sample)


def ingest_meanwhile(run: Run, folders: dict[str, Path], env: dict[str, str], wait: float):
    """After `wait` seconds, change acme's folder and index it from another process."""
    time.sleep(wait)
    change_acme(folders["acme"])
    run.ingest_started = run.now()
    out = subprocess.run(
        [*CLI, "ingest", str(folders["acme"]), "--client", "acme"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    run.ingest_ended = run.now()
    if out.returncode:
        raise RuntimeError(f"the concurrent ingest failed: {out.stderr[-2000:]}")


def _indexed(stack: ExitStack, tmp: Path, store: str) -> tuple[Path, dict, dict[str, Path]]:
    """The store (a `chroma run` server held by `stack`, or embedded), the corpus indexed by the
    CLI; returns (data dir, environment, folders)."""
    port = stack.enter_context(store_for(tmp, store))
    data_dir = tmp / "data"
    env = environment(data_dir, port)
    folders = write_corpus(tmp / "docs")
    index(folders, env)
    return data_dir, env, folders


def run_api(
    tmp: Path, store: str, askers: int, before: float, after: float
) -> dict:  # pragma: no cover - exercised through the test and the benchmark
    """The whole scenario against `cto-advisor serve`; returns Run.report()."""
    with ExitStack() as stack:
        data_dir, env, folders = _indexed(stack, tmp, store)
        tokens = add_tokens(data_dir, askers)
        url = stack.enter_context(api_server(env, tmp / "serve.log"))
        run = Run()
        threads = [
            threading.Thread(target=api_asker, args=(run, url, i, tok, cl), daemon=True)
            for i, (tok, cl) in enumerate(tokens)
        ]
        for t in threads:
            t.start()
        try:
            ingest_meanwhile(run, folders, env, before)
            run.keep_asking(after)
        finally:
            run.stop.set()
            for t in threads:
                t.join(timeout=240)
        report = run.report()
        report["log_tail"] = (tmp / "serve.log").read_text()[-3000:]
        return report


# -- the app -------------------------------------------------------------------------------------

# Twenty pages in one browser: /dev/shm is small in containers.
CHROMIUM_ARGS = [*BROWSER_ARGS, "--disable-dev-shm-usage"]


def _card_source(caption: str) -> str:
    """A source card's caption is "[where · ]source[ · modified N days ago]"."""
    parts = [p.strip() for p in caption.split(" · ") if not p.strip().startswith("modified")]
    return parts[-1] if parts else caption


async def app_asker(run: Run, browser, url: str, i: int, client: str) -> None:
    """One Chromium page: choose the client, then ask, wait for the answer, start a new chat."""
    from playwright.async_api import expect

    page = await browser.new_page(viewport={"width": 1280, "height": 2400})
    try:
        await page.goto(url, timeout=180_000)
        sidebar = page.get_by_test_id("stSidebar")
        await expect(sidebar.get_by_test_id("stSelectbox").first).to_be_visible(timeout=180_000)
        await sidebar.get_by_test_id("stSelectbox").first.click()
        await page.get_by_role("option", name=client).click()
        await expect(page.get_by_text(f"Scope: {client} documents + playbooks")).to_be_visible(
            timeout=60_000
        )
        running = page.get_by_test_id("stStatusWidget")
        n = i
        while not run.stop.is_set():
            question = run.question(i, client, n)
            n += 1
            box = page.get_by_test_id("stChatInputTextArea")
            await expect(box).to_be_editable(timeout=180_000)
            started = run.now()
            await box.fill(question)
            await box.press("Enter")
            answer = page.get_by_test_id("stChatMessage").nth(1)
            sample = Sample(i, client, question, started, 0.0, 200)
            # Finished: while a worker writes the answer, the same place shows the fragment
            # that follows it ("Reading the documents…", Stop), redrawn every 0.3 s, so the
            # status widget is hidden most of the time. Only a finished answer has its rating
            # (drawn after its sources); an error or an interruption has its alert.
            finished = answer.locator(
                "[data-testid='stFeedback'], [data-testid='stAlertContentError'], "
                "[data-testid='stAlertContentInfo']"
            )
            try:
                await expect(finished.first).to_be_visible(timeout=180_000)
                await expect(running).to_be_hidden(timeout=180_000)
                sample.seconds = run.now() - started
                text = await answer.inner_text()
                sample.text = text
                errors = answer.locator(
                    "[data-testid='stAlertContentError'], [data-testid='stAlertContentInfo']"
                )  # an error, or an answer interrupted (no restart here: a failure too)
                if await errors.count() or "Something went wrong" in text or "Traceback" in text:
                    sample.status, sample.error = 500, text[:500]
                cards = answer.locator("[class*='st-key-src-']")
                for k in range(await cards.count()):
                    card = cards.nth(k)
                    await card.locator("summary").click()  # a source is one line until opened
                    caption = await card.get_by_test_id("stCaptionContainer").first.inner_text()
                    snippet = await card.locator("blockquote").first.inner_text()
                    sample.sources.setdefault(_card_source(caption), []).append(snippet)
                    body = await card.inner_text()
                    sample.scopes |= {s for s in ("acme", "globex") if f"Client: {s}" in body}
            except Exception as exc:  # a timeout is a failure of the app, counted as such
                sample.seconds = run.now() - started
                sample.status, sample.error = 0, f"{type(exc).__name__}: {exc}"[:500]
            run.add(sample)
            await page.get_by_role("button", name="New chat").click(timeout=180_000)
            await expect(page.get_by_test_id("stChatMessage")).to_have_count(0, timeout=180_000)
    finally:
        await page.close()


@contextmanager
def app_process(data_dir: Path, env: dict[str, str], cwd: Path) -> Iterator[tuple[str, object]]:
    """`streamlit run app.py` on a free loopback port; yields (URL, its Popen) once healthy."""
    import shutil
    import urllib.request

    port = free_port()
    cwd.mkdir(parents=True, exist_ok=True)
    shutil.copytree(ROOT / ".streamlit", cwd / ".streamlit", dirs_exist_ok=True)
    log = open(cwd / "streamlit.log", "a")  # noqa: SIM115 - closed after the server stops
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.headless", "true"],
        cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("streamlit did not start")
            time.sleep(0.2)
        yield url, proc
    finally:
        stop_process(proc)
        log.close()


@contextmanager
def app_server(data_dir: Path, env: dict[str, str], cwd: Path) -> Iterator[str]:
    with app_process(data_dir, env, cwd) as (url, _):
        yield url


def run_app(
    tmp: Path, store: str, askers: int, before: float, after: float
) -> dict:  # pragma: no cover - exercised through the test and the benchmark
    """The whole scenario against `streamlit run app.py`, one Chromium page per asker (the app
    on loopback with no accounts: each page is the CTO, choosing acme or globex), all pages in
    one headless browser driven by Playwright's async API."""
    import asyncio

    from playwright.async_api import async_playwright

    with ExitStack() as stack:
        data_dir, env, folders = _indexed(stack, tmp, store)
        url = stack.enter_context(app_server(data_dir, env, tmp / "app"))
        run = Run()
        errors: list[str] = []

        async def drive() -> None:
            async with async_playwright() as pw:
                browser = await pw.chromium.launch(
                    executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
                )

                async def asker(i: int) -> None:
                    try:
                        await app_asker(run, browser, url, i, "acme" if i % 2 == 0 else "globex")
                    except Exception as exc:
                        errors.append(f"asker {i}: {type(exc).__name__}: {exc}"[:500])

                try:
                    await asyncio.gather(*(asker(i) for i in range(askers)))
                finally:
                    await browser.close()

        driver = threading.Thread(target=asyncio.run, args=(drive(),), daemon=True)
        driver.start()
        # Every page must be asking before the ingest starts.
        deadline = time.monotonic() + 300
        while len({s.asker for s in run.samples}) < askers and time.monotonic() < deadline:
            if not driver.is_alive() or len(errors) == askers:
                break
            time.sleep(0.5)
        try:
            ingest_meanwhile(run, folders, env, before)
            run.keep_asking(after)
        finally:
            run.stop.set()
            driver.join(timeout=300)
        report = run.report()
        report["asker_errors"] = errors
        report["log_tail"] = (tmp / "app" / "streamlit.log").read_text()[-3000:]
        return report


def main() -> None:  # pragma: no cover - `python -m tests.server.scenario api embedded`
    import tempfile

    target, store = sys.argv[1], sys.argv[2]
    askers = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    with tempfile.TemporaryDirectory(prefix="scenario-") as tmp:
        runner = run_api if target == "api" else run_app
        report = runner(Path(tmp), store, askers, before=8, after=20)
        print_report(f"{target} / {store} / {askers} askers", report)
        print(json.dumps({k: v for k, v in report.items() if k != "log_tail"}, default=str))
        print(report["log_tail"][-1500:])


if __name__ == "__main__":
    main()
