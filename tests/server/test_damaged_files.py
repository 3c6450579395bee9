"""Damaged files of the data dir (issue 25, attack 2), through real `cto-advisor` processes.

Each case damages one file of an indexed data dir the way disks, users and other programs do
(truncated, zero bytes, garbage, another program's database, read-only, not readable by this
user), then runs `status`, `ask` and `ingest`. Every one must name the file and the fix, print
no traceback, and change nothing already indexed: a damaged index file is left exactly as it
was (a zero-byte chroma.sqlite3 used to be taken as a new, empty index and overwritten), and a
damaged manifest is kept beside and rebuilt from the index by the next ingest.

Read-only and unreadable files need a user the permissions apply to: root ignores them, so
those cases run the CLI as `nobody` (setpriv) when the suite runs as root.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.processes import CLI, ROOT

pytestmark = pytest.mark.slow

NOBODY = 65534
QUESTION = "Which pager does the on-call engineer carry?"


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ADVISOR_"))}
    # A wide terminal: rich must not fold the message (the test reads the path in it).
    return env | {"ADVISOR_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT), "COLUMNS": "400"}


def cli(data_dir: Path, *args: str, as_nobody: bool = False) -> subprocess.CompletedProcess:
    command = [*CLI, *args]
    env = _env(data_dir)
    if as_nobody:
        command = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *command]
        env["HOME"] = "/tmp"
    return subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=300, cwd=data_dir.parent
    )


def _said(out: subprocess.CompletedProcess) -> str:
    text = " ".join((out.stdout + out.stderr).split())
    assert "Traceback" not in out.stdout + out.stderr, out.stderr[-3000:]
    return text


@pytest.fixture(scope="module")
def indexed(tmp_path_factory) -> tuple[Path, Path]:
    """(a data dir indexed by the CLI: two acme documents and a playbook, its corpus)."""
    from tests.advisor.corpus import write_corpus

    base = tmp_path_factory.mktemp("damage")
    corpus = write_corpus(base / "corpus")
    data_dir = base / "data"
    for args in (
        ["ingest", str(corpus / "playbooks")],
        ["ingest", str(corpus / "clients" / "acme"), "--client", "acme"],
    ):
        out = cli(data_dir, *args)
        assert out.returncode == 0, out.stderr
    assert cli(data_dir, "ask", QUESTION, "--client", "acme").returncode == 0  # BM25 cached
    return data_dir, corpus


def _copy(indexed, tmp_path: Path) -> Path:
    data_dir = tmp_path / "data"
    shutil.copytree(indexed[0], data_dir)
    return data_dir


@pytest.fixture
def nobodys(indexed, tmp_path_factory):
    """A copy of the data dir and corpus that `nobody` owns, where `nobody` can reach it
    (pytest's own temporary folders are private to root). Yields (data dir, corpus)."""
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="nobody-", dir="/tmp"))
    try:
        base.chmod(0o755)
        data_dir, corpus = base / "data", base / "corpus"
        shutil.copytree(indexed[0], data_dir)
        shutil.copytree(indexed[1], corpus)
        for path in [base, *base.rglob("*")]:
            os.chown(path, NOBODY, NOBODY)
        yield data_dir, corpus
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _damage(path: Path, how: str, other: Path | None = None) -> None:
    size = path.stat().st_size
    if how == "zero":
        path.write_bytes(b"")
    elif how == "truncated":
        with open(path, "r+b") as fh:
            fh.truncate(size // 2 + 100)
    elif how == "garbage":
        path.write_bytes(os.urandom(size))
    elif how == "foreign":  # another program's SQLite database in its place
        path.unlink()
        db = sqlite3.connect(path)
        db.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
        db.commit()
        db.close()
    else:
        raise AssertionError(how)


def _acme_sources(data_dir: Path) -> set[str]:
    out = cli(data_dir, "status", "--json")
    assert out.returncode == 0, out.stderr
    import json

    return {s["source"] for s in json.loads(out.stdout)["sources"]}


# -- chroma.sqlite3: the index itself ------------------------------------------------------------


@pytest.mark.parametrize("how", ["zero", "truncated", "garbage", "foreign"])
def test_a_damaged_index_database_is_named_with_the_fix_and_left_as_it_is(indexed, tmp_path, how):
    data_dir = _copy(indexed, tmp_path)
    index = data_dir / "chroma" / "chroma.sqlite3"
    _damage(index, how)
    before = _sha(index)
    for args in (
        ["status"],
        ["ask", QUESTION, "--client", "acme"],
        ["ingest", str(indexed[1] / "clients" / "acme"), "--client", "acme"],
    ):
        out = cli(data_dir, *args)
        said = _said(out)
        assert out.returncode == 2, said
        assert f"the index file {index} cannot be used" in said
        assert "cto-advisor rebuild --yes" in said
    # Nothing was written into it: a zero-byte file is still zero bytes, not a new index.
    assert _sha(index) == before
    if how != "zero":
        return  # the fix is the same for every case: shown once, it is slow (a whole ingest)

    # The fix works: rebuild sets the damaged folder aside and indexes what the manifest lists.
    out = cli(data_dir, "rebuild", "--yes")
    assert out.returncode == 0, _said(out)
    assert _acme_sources(data_dir) == {
        "code-review.md", "on-call.md", "vendor-notes.md",
    }  # fmt: skip
    kept = [p for p in data_dir.iterdir() if p.name.startswith("chroma.damaged-")]
    assert len(kept) == 1 and _sha(kept[0] / "chroma.sqlite3") == before


@pytest.mark.parametrize("how", ["truncated", "garbage"])
def test_damaged_vector_files_are_named_with_the_fix(tmp_path, how):
    """Chroma saves its vector index (HNSW) to disk every 1,000 chunks: an index that size."""
    data_dir = tmp_path / "data"
    from tests.processes import run_python

    run_python(
        "import numpy as np\n"
        "from advisor.core.models import Chunk\n"
        "from advisor.core.settings import Settings\n"
        "from advisor.core.store import open_store\n"
        f"store = open_store(Settings(data_dir={str(data_dir)!r}))\n"
        "chunks = [Chunk(id=f'd{i // 10}:{i % 10}', text=f'rule {i} of hiring', source="
        "f'f{i // 10}.md', root='/gone', doc_id=f'd{i // 10}', scope='acme', chunk_index=i % 10,"
        " title='Hiring', sha256='x', mtime=1.0, file_type='md') for i in range(1200)]\n"
        "v = np.random.default_rng(1).normal(size=(1200, 384))\n"
        "store.upsert(chunks, (v / np.linalg.norm(v, axis=1, keepdims=True)).tolist())\n"
        "store.bump_generation(['acme'])\n"
    )
    (segment,) = [p for p in (data_dir / "chroma").iterdir() if p.is_dir()]
    target = segment / ("data_level0.bin" if how == "truncated" else "index_metadata.pickle")
    _damage(target, how)
    for args in (["status"], ["ask", "hiring rule", "--client", "acme"]):
        said = _said(out := cli(data_dir, *args))
        assert out.returncode == 2, said
        assert f"the index file {target} cannot be used" in said
        assert "rebuild" in said


# -- manifest.sqlite: what ingest knows about each file -----------------------------------------


@pytest.mark.parametrize("how", ["zero", "truncated", "garbage", "foreign"])
def test_a_damaged_manifest_is_said_then_rebuilt_from_the_index(indexed, tmp_path, how):
    data_dir = _copy(indexed, tmp_path)
    manifest = data_dir / "manifest.sqlite"
    for side in ("-wal", "-shm"):
        Path(f"{manifest}{side}").unlink(missing_ok=True)
    _damage(manifest, how)
    damaged = _sha(manifest)
    out = cli(data_dir, "status")
    said = _said(out)
    assert out.returncode == 0, said  # what is indexed is still shown
    assert f"warning: the ingest manifest {manifest} cannot be used" in said
    assert "rebuilds it from the index" in said
    if how not in ("zero", "garbage"):
        return  # the repair is the same for every case; shown for two, it runs an ingest
    assert cli(data_dir, "ask", QUESTION, "--client", "acme").returncode == 0

    out = cli(data_dir, "ingest", str(indexed[1] / "clients" / "acme"), "--client", "acme")
    said = _said(out)
    assert out.returncode == 0, said
    assert "rebuilt from the index" in said
    # Nothing re-embedded, nothing lost, nothing duplicated; the damaged file is kept.
    assert "0 indexed, 2 unchanged, 0 removed" in said
    assert _acme_sources(data_dir) == {"code-review.md", "on-call.md", "vendor-notes.md"}
    kept = [p for p in data_dir.iterdir() if p.name.startswith("manifest.sqlite.damaged-")]
    assert [_sha(p) for p in kept] == [damaged]


# -- permissions: read-only and unreadable files --------------------------------------------------

needs_root = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("setpriv"),
    reason="permission cases run the CLI as another user: needs root and setpriv",
)


@needs_root
@pytest.mark.parametrize("name", ["chroma/chroma.sqlite3", "manifest.sqlite", "store.lock"])
@pytest.mark.parametrize("how", ["read-only", "unreadable"])
def test_a_file_this_user_may_not_write_or_read_is_named_with_the_fix(nobodys, name, how):
    data_dir, corpus = nobodys
    path = data_dir / name
    if how == "read-only":
        path.chmod(0o444)
    else:
        os.chown(path, 0, 0)
        path.chmod(0o600)
    before = _sha(path)
    # Opening the index is the same step for status, ask and ingest: two of them are enough;
    # only ingest writes the manifest.
    commands = {
        "status": ["status"],
        "ask": ["ask", QUESTION, "--client", "acme"],
        "ingest": ["ingest", str(corpus / "clients" / "acme"), "--client", "acme"],
    }
    checked = ["status", "ingest"] if name == "manifest.sqlite" else ["status", "ask"]
    for command in checked:
        out = cli(data_dir, *commands[command], as_nobody=True)
        said = _said(out)
        # status still shows what is indexed when only the manifest is unusable (a warning)
        expected = 0 if (name, command) == ("manifest.sqlite", "status") else 2
        assert out.returncode == expected, (command, said)
        assert str(path) in said, (command, said)
        assert "chmod" in said or "chown" in said or "run as root" in said, (command, said)
    with open(path, "rb") as fh:  # as root
        assert hashlib.sha256(fh.read()).hexdigest() == before


# -- the BM25 cache: derived, so rebuilt ----------------------------------------------------------


@pytest.mark.parametrize("how", ["zero", "truncated", "garbage"])
def test_a_damaged_bm25_cache_is_rebuilt_and_the_answer_unchanged(indexed, tmp_path, how):
    data_dir = _copy(indexed, tmp_path)
    expected = cli(data_dir, "ask", QUESTION, "--client", "acme")
    cached = [p for p in (data_dir / "lexical").rglob("*") if p.is_file()]
    assert cached
    for path in cached:
        _damage(path, how if path.stat().st_size else "garbage")
    out = cli(data_dir, "ask", QUESTION, "--client", "acme")
    _said(out)
    assert out.returncode == 0
    assert out.stdout == expected.stdout


@needs_root
def test_an_unwritable_bm25_cache_folder_still_answers(nobodys):
    data_dir, _ = nobodys
    shutil.rmtree(data_dir / "lexical")
    (data_dir / "lexical").mkdir(mode=0o500)
    os.chown(data_dir / "lexical", 0, 0)
    out = cli(data_dir, "ask", QUESTION, "--client", "acme", as_nobody=True)
    _said(out)
    assert out.returncode == 0
    assert "Zebra-7" in out.stdout


# -- the API and the app -------------------------------------------------------------------------


def test_the_api_names_a_damaged_index_and_the_fix(indexed, tmp_path):
    import httpx

    from tests.api.conftest import add_accounts, bearer
    from tests.server.scenario import api_server, environment

    data_dir = _copy(indexed, tmp_path)
    from advisor.core.settings import Settings

    tokens = add_accounts(Settings(data_dir=data_dir))
    index = data_dir / "chroma" / "chroma.sqlite3"
    _damage(index, "zero")
    log = tmp_path / "serve.log"
    with api_server(environment(data_dir, None), log) as url:
        for method, route, body in (
            ("POST", "/v1/ask", {"question": QUESTION}),
            ("GET", "/v1/status", None),
            ("GET", "/v1/clients", None),
        ):
            r = httpx.request(
                method, url + route, json=body, headers=bearer(tokens.cto), timeout=60
            )
            assert r.status_code == 503, (route, r.text)
            detail = r.json()["detail"]
            assert f"the index file {index} cannot be used: it is empty (0 bytes)" in detail
            assert "cto-advisor rebuild --yes" in detail
    assert "Traceback" not in log.read_text()
    assert index.stat().st_size == 0


@pytest.mark.browser
def test_the_app_names_a_damaged_index_and_the_fix(indexed, tmp_path):
    from tests.browser.test_chat_browser import CHROMIUM, CHROMIUM_ARGS

    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: run scripts/install_browser.sh")
    pytest.importorskip("playwright")
    from playwright.sync_api import expect, sync_playwright

    from tests.server.scenario import app_server, environment

    data_dir = _copy(indexed, tmp_path)
    index = data_dir / "chroma" / "chroma.sqlite3"
    _damage(index, "garbage")
    with (
        app_server(data_dir, environment(data_dir, None), tmp_path / "app") as url,
        sync_playwright() as pw,
    ):
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(url)
            alert = page.get_by_test_id("stAlertContentError")
            expect(alert).to_contain_text(f"the index file {index}", timeout=120_000)
            expect(alert).to_contain_text("cto-advisor rebuild --yes")
            assert "Traceback" not in page.content()
        finally:
            browser.close()
    assert "Traceback" not in (tmp_path / "app" / "streamlit.log").read_text()
