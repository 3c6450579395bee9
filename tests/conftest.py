"""Shared fixtures. The suite never reaches the network: pytest-socket (see pyproject) allows
loopback only, and every test gets its own ADVISOR_DATA_DIR."""

from __future__ import annotations

from pathlib import Path

import pytest

from advisor.core.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "corpora"
SAMPLE_DATA = ROOT / "data"

_LEAKY_ENV = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "ADVISOR_LLM_MODEL",
    "ADVISOR_MODE",
    "ADVISOR_CHROMA_HOST",
    "ADVISOR_CHROMA_PORT",
    "ADVISOR_EMBEDDING_MODEL",
)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    """Each test starts offline, with a private data dir and no .env from the developer."""
    for name in _LEAKY_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ADVISOR_DATA_DIR", str(tmp_path / "advisor-data"))
    monkeypatch.chdir(tmp_path)  # so a developer's ./.env is never read
    yield


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path / "advisor-data")


@pytest.fixture(scope="session")
def embeddings():
    """The packaged MiniLM, loaded once for the whole session."""
    from advisor.core.embeddings import load_embeddings

    return load_embeddings(Settings())


@pytest.fixture(scope="session")
def two_clients_index(tmp_path_factory, embeddings) -> Path:
    """The data dir of the two-client corpus (tests/advisor/corpus.py), indexed once.

    Read-only for its users: a test that ingests or writes app state builds its own.
    """
    from advisor.service.facade import Advisor
    from tests.advisor.corpus import index_corpus, write_corpus

    root = write_corpus(tmp_path_factory.mktemp("two-clients-corpus"))
    data_dir = tmp_path_factory.mktemp("two-clients-data")
    index_corpus(Advisor(Settings(data_dir=data_dir), embeddings=embeddings), root)
    return data_dir


@pytest.fixture(scope="session")
def shared_corpora() -> Path:
    if not SHARED.exists():
        pytest.skip(f"shared corpora not found at {SHARED}")
    return SHARED


@pytest.fixture
def chroma_server(tmp_path):
    """A real Chroma server (`chroma run`) on a free loopback port, for this test only."""
    from tests.chroma_server import running_chroma

    with running_chroma(tmp_path / "chroma-server") as port:
        yield port
