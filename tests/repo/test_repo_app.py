"""The CTO adds a client's repository from the app's upload panel; its facts become sources."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.helpers import ask

APP = Path(__file__).resolve().parents[2] / "app.py"


@pytest.fixture(autouse=True)
def loopback_server():
    """AppTest reads no .streamlit/config.toml: bind to loopback as `make run` does."""
    from streamlit import config

    previous = config.get_option("server.address")
    config.set_option("server.address", "localhost")
    yield
    config.set_option("server.address", previous)


def test_the_cto_indexes_a_repository_from_the_app(
    two_clients_index, team_repo, tmp_path, monkeypatch
):
    data_dir = tmp_path / "app-data"
    shutil.copytree(two_clients_index, data_dir)  # the shared index stays as other tests expect it
    monkeypatch.setenv("ADVISOR_DATA_DIR", str(data_dir))
    app = AppTest.from_file(str(APP), default_timeout=120)
    app.run()
    app.selectbox(key="client").set_value("acme").run()
    app.text_input(key="repo-acme").set_value(str(team_repo.path)).run()
    app.button(key="repo-go-acme").click().run()
    assert not app.exception, app.exception
    shown = " ".join(c.value for c in app.sidebar.caption)
    assert "acme-platform at" in shown and "11 new commits" in shown
    ask(app, "Who knows billing?")
    assert not app.exception, app.exception
    page = " ".join(m.value for m in app.markdown)
    assert "acme-platform/billing/@" in page and "Priya Nair" in page
