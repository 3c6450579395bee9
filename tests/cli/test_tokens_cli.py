"""`cto-advisor tokens` and the bind check of `cto-advisor serve`, as a user runs them."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from advisor.core.errors import AccessError, ConfigError
from advisor.core.settings import Settings
from advisor.service.accounts import AccountStore
from interfaces.cli import _register
from interfaces.cli.base import app
from interfaces.cli.serve_cmd import check_bind, is_loopback

_register()
runner = CliRunner()


@pytest.fixture
def store(settings) -> AccountStore:
    accounts = AccountStore(settings)
    accounts.add_user("ana@acme.example", "founder", "acme", "correct horse battery")
    return accounts


def test_create_prints_the_token_once_and_stores_only_its_hash(store, settings):
    done = runner.invoke(app, ["tokens", "create", "ana@acme.example", "--name", "slack-bot"])
    assert done.exit_code == 0, done.output
    token = done.stdout.strip()
    assert token.startswith("cta_") and len(token) > 40
    assert "cannot be shown again" in " ".join(done.stderr.split())
    assert token.encode() not in store.path.read_bytes()
    principal = store.principal_for_token(token)
    assert (principal.user, principal.role, principal.client) == (
        "ana@acme.example",
        "founder",
        "acme",
    )

    listed = runner.invoke(app, ["tokens", "list"])
    assert "slack-bot" in listed.stdout and "active" in listed.stdout and token not in listed.stdout


def test_revoke_refuses_the_token_from_then_on(store):
    token = store.create_token("ana@acme.example", "laptop")
    token_id = store.list_tokens()[0].id
    done = runner.invoke(app, ["tokens", "revoke", token_id])
    assert done.exit_code == 0 and token_id in done.stderr
    with pytest.raises(AccessError, match="revoked"):
        store.principal_for_token(token)
    assert "revoked" in runner.invoke(app, ["tokens", "list"]).stdout


def test_a_token_for_an_unknown_user_is_refused_with_the_fix(store):
    from interfaces.cli import main

    with pytest.raises(SystemExit) as exited:
        import sys

        sys.argv = ["cto-advisor", "tokens", "create", "nobody@example.com"]
        main()
    assert exited.value.code == 2
    assert store.list_tokens() == []


def test_serve_binds_loopback_freely_and_refuses_the_network_without_tls():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.10")
    check_bind("127.0.0.1", tls=False, behind_proxy=False)
    with pytest.raises(ConfigError, match="--ssl-certfile"):
        check_bind("0.0.0.0", tls=False, behind_proxy=False)
    check_bind("0.0.0.0", tls=True, behind_proxy=False)
    check_bind("0.0.0.0", tls=False, behind_proxy=True)


def test_serve_refuses_a_public_address_before_starting(settings, monkeypatch):
    monkeypatch.setenv("ADVISOR_DATA_DIR", str(settings.data_dir))
    done = runner.invoke(app, ["serve", "--host", "0.0.0.0", "--port", "0"])
    assert isinstance(done.exception, ConfigError) and "--behind-tls-proxy" in str(done.exception)
    assert not Settings(data_dir=settings.data_dir).data_dir.joinpath("accounts.sqlite").exists()
