"""What the browser tests share: the sample corpus indexed once per run, and Chromium."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from advisor.core.principal import Principal
from advisor.core.settings import Settings
from advisor.service.facade import Advisor

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="session")
def sample_corpus_index(tmp_path_factory, embeddings) -> Path:
    """The sample corpus in data/, indexed like a CTO would: playbooks, then each client.
    Indexed once for every browser module; each module works on its own copy."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: run scripts/install_browser.sh (apt-get chromium)")
    pytest.importorskip("playwright", reason="install the dev extra: pip install -e '.[dev]'")
    data_dir = tmp_path_factory.mktemp("browser-index") / "data"
    advisor = Advisor(Settings(data_dir=data_dir), embeddings=embeddings)
    local = Principal.local()
    advisor.ingest(local, [ROOT / "data" / "playbooks"])
    for client in ("ledgerly", "haulwise"):
        advisor.ingest(local, [ROOT / "data" / "clients" / client], client=client)
    return data_dir


def copy_index(source: Path, dest: Path) -> Path:
    shutil.copytree(source, dest)
    return dest


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def chromium(sample_corpus_index):
    """Headless Debian Chromium, one per test module (each test opens its own contexts)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
