import json

import pytest
from typer.testing import CliRunner

import interfaces.cli.ask_cmd  # noqa: F401  (registers the commands)
import interfaces.cli.ingest_cmd  # noqa: F401
from advisor.core.errors import ConfigError
from interfaces.cli.base import app

BODY = "Postmortems are blameless and published within five working days of the incident."


@pytest.fixture
def runner(embeddings, monkeypatch):
    # The session's MiniLM is reused through load_embeddings' per-process cache.
    monkeypatch.setenv("ADVISOR_PARSE_WORKERS", "1")
    return CliRunner()


@pytest.fixture
def docs(tmp_path):
    root = tmp_path / "docs"
    root.mkdir()
    (root / "postmortems.md").write_text(f"---\ntitle: Postmortems\n---\n## Timing\n\n{BODY}\n")
    (root / "broken.pdf").write_bytes(b"this is not a pdf")
    return root


def test_ingest_prints_a_summary_and_status_reports_the_index(runner, docs):
    result = runner.invoke(app, ["ingest", str(docs), "--client", "acme"])
    assert result.exit_code == 0, result.output
    assert "1 indexed" in result.output and "1 failed" in result.output
    assert "broken.pdf" in result.output and "%PDF-" in result.output

    status = runner.invoke(app, ["status", "--json"])
    assert status.exit_code == 0, status.output
    info = json.loads(status.output)
    assert info["documents"] == 1 and info["chunks"] == 1
    assert info["clients"] == ["acme"]
    assert info["embedding_model"] == "all-MiniLM-L6-v2"
    assert info["sources"] == [
        {
            "source": "postmortems.md",
            "scope": "acme",
            "chunks": 1,
            "pages": None,
            "title": "Postmortems",
            "redactions": 0,
        }
    ]

    human = runner.invoke(app, ["status"])
    assert "postmortems.md" in human.output and "acme" in human.output

    again = runner.invoke(app, ["ingest", str(docs), "--client", "acme", "--json"])
    report = json.loads(again.output)
    assert report["counts"]["unchanged"] == 1 and report["parsed"] == 0


def test_strict_and_nothing_indexed_exit_codes(runner, docs, tmp_path):
    assert runner.invoke(app, ["ingest", str(docs), "--strict"]).exit_code == 1
    only_bad = tmp_path / "bad"
    only_bad.mkdir()
    (only_bad / "x.docx").write_bytes(b"not a zip")
    result = runner.invoke(app, ["ingest", str(only_bad)])
    assert result.exit_code == 1
    assert "nothing could be indexed" in result.output


def test_invalid_client_is_a_domain_error(runner, docs):
    result = runner.invoke(app, ["ingest", str(docs), "--client", "playbook"])
    assert isinstance(result.exception, ConfigError)
    assert "reserved" in str(result.exception)


def test_reset_needs_yes_then_empties_the_index(runner, docs, tmp_path):
    assert runner.invoke(app, ["ingest", str(docs)]).exit_code == 0
    refused = runner.invoke(app, ["reset"])
    assert refused.exit_code == 1 and "--yes" in refused.output
    assert json.loads(runner.invoke(app, ["status", "--json"]).output)["chunks"] == 1

    runner.invoke(app, ["ask", "When are postmortems published?"])  # builds a BM25 cache
    data = tmp_path / "advisor-data"
    assert any((data / "lexical").iterdir())
    (data / "evals" / "some-index").mkdir(parents=True)

    done = runner.invoke(app, ["reset", "--yes"])
    assert done.exit_code == 0, done.output
    assert not (data / "manifest.sqlite").exists()
    assert not (data / "lexical").exists() and not (data / "evals").exists(), "derived caches"
    assert json.loads(runner.invoke(app, ["status", "--json"]).output)["chunks"] == 0
    # After a reset everything is indexed again, not "unchanged".
    report = json.loads(runner.invoke(app, ["ingest", str(docs), "--json"]).output)
    assert report["counts"]["indexed"] == 1


def test_status_says_where_answers_go_and_names_a_dotenv_that_redirects_them(runner, tmp_path):
    offline = runner.invoke(app, ["status"])
    assert "answers go to" in offline.output and "offline" in offline.output
    info = json.loads(runner.invoke(app, ["status", "--json"]).output)
    assert info["data_dir"] == str((tmp_path / "advisor-data").resolve())
    assert info["dotenv"] is None
    assert ".env" not in offline.output

    # A .env left in the folder the CLI is started from (the tests run in tmp_path).
    (tmp_path / ".env").write_text("OPENAI_BASE_URL=http://llm.example.net:8080/v1\n")
    redirected = runner.invoke(app, ["status"])
    assert "LLM at llm.example.net:8080" in redirected.output
    assert "settings from .env" in redirected.output and "OPENAI_BASE_URL" in redirected.output
    info = json.loads(runner.invoke(app, ["status", "--json"]).output)
    assert info["dotenv"]["settings"] == ["OPENAI_BASE_URL"]
    assert info["answers_go_to"].startswith("LLM at llm.example.net:8080")


def test_forget_asks_for_confirmation_then_removes_the_client(runner, docs):
    assert runner.invoke(app, ["ingest", str(docs), "--client", "acme"]).exit_code == 0
    unconfirmed = runner.invoke(app, ["forget", "--client", "acme"])
    assert unconfirmed.exit_code == 1 and "--yes" in unconfirmed.output
    assert "acme" in json.loads(runner.invoke(app, ["status", "--json"]).output)["clients"]

    done = runner.invoke(app, ["forget", "--client", "acme", "--yes"])

    assert done.exit_code == 0, done.output
    assert "Forgot client 'acme'" in done.output
    assert json.loads(runner.invoke(app, ["status", "--json"]).output)["clients"] == []
