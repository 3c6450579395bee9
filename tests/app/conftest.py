"""One small indexed corpus for the app tests, and an AppTest pointed at it."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from advisor.core.settings import Settings
from advisor.service.facade import Advisor
from tests.advisor.corpus import index_corpus, write_corpus

APP = Path(__file__).resolve().parents[2] / "app.py"

# Text that must reach the page as text: math, HTML, an image that would load a tracker, tildes.
HOSTILE = (  # one sentence per line: the offline answer quotes whole lines
    "Recruiter fees for senior engineers run $40k per hire <br> in the recruiter fee plan that "
    "the founders agreed with the agency in the spring.\n"
    "The recruiter fee plan ![tracker](http://example.com/pixel.png) covers ~6 engineers.\n"
)


@pytest.fixture(autouse=True)
def loopback_server(monkeypatch):
    """AppTest reads no .streamlit/config.toml: bind to loopback as `make run` does."""
    from streamlit import config

    previous = config.get_option("server.address")
    config.set_option("server.address", "localhost")
    yield
    config.set_option("server.address", previous)


@pytest.fixture(scope="session")
def app_data_dir(tmp_path_factory, embeddings) -> Path:
    """The two-client corpus (plus a hostile playbook), indexed once for all app tests."""
    root = write_corpus(tmp_path_factory.mktemp("app-corpus"))
    (root / "playbooks" / "hiring-budget.txt").write_text(HOSTILE, encoding="utf-8")
    data_dir = tmp_path_factory.mktemp("app-data")
    index_corpus(Advisor(Settings(data_dir=data_dir), embeddings=embeddings), root)
    return data_dir


@pytest.fixture
def app(app_data_dir, monkeypatch) -> AppTest:
    """The app, run once, against the indexed corpus (the model is shared via the cache)."""
    monkeypatch.setenv("ADVISOR_DATA_DIR", str(app_data_dir))
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.run()
    assert not at.exception, at.exception
    return at
