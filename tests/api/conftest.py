"""An API over a private copy of the two-client index, with a CTO and a founder per client."""

from __future__ import annotations

import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from advisor.core.settings import Settings
from advisor.service.accounts import AccountStore
from advisor.service.facade import Advisor

PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Tokens:
    cto: str
    acme: str  # the founder of acme
    globex: str  # the founder of globex


def copy_index(two_clients_index: Path, dest: Path) -> Path:
    """A writable copy: the session index is shared and read-only."""
    shutil.copytree(two_clients_index, dest)
    return dest


def add_accounts(settings: Settings) -> Tokens:
    store = AccountStore(settings)
    store.add_user("cto@example.com", "cto", None, PASSWORD)
    store.add_user("ana@acme.example", "founder", "acme", PASSWORD)
    store.add_user("gus@globex.example", "founder", "globex", PASSWORD)
    return Tokens(
        cto=store.create_token("cto@example.com", "tests"),
        acme=store.create_token("ana@acme.example", "tests"),
        globex=store.create_token("gus@globex.example", "tests"),
    )


@pytest.fixture(scope="module")
def api_data(two_clients_index, tmp_path_factory) -> tuple[Settings, Tokens]:
    data_dir = copy_index(two_clients_index, tmp_path_factory.mktemp("api") / "data")
    settings = Settings(data_dir=data_dir)
    return settings, add_accounts(settings)


@pytest.fixture(scope="module")
def tokens(api_data) -> Tokens:
    return api_data[1]


@pytest.fixture(scope="module")
def advisor(api_data, embeddings) -> Advisor:
    return Advisor(api_data[0], embeddings=embeddings)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def client(advisor):
    """FastAPI's TestClient (ASGI, in process) over the module's index."""
    from fastapi.testclient import TestClient

    from interfaces.api.app import create_app
    from interfaces.api.config import ApiSettings

    with TestClient(create_app(advisor=advisor, api=ApiSettings(rate_limit=0))) as test_client:
        yield test_client


class LiveServer:
    """A real uvicorn on a free loopback port, in a thread."""

    def __init__(self, app) -> None:
        import uvicorn

        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    @property
    def url(self) -> str:
        host, port = self.server.servers[0].sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@pytest.fixture(scope="module")
def live(advisor):
    from interfaces.api.app import create_app
    from interfaces.api.config import ApiSettings

    with LiveServer(create_app(advisor=advisor, api=ApiSettings(rate_limit=0))) as server:
        yield server
