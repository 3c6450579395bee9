"""Recommendation memos: every heading, every [n] resolves, scoped sources, Markdown and DOCX."""

from __future__ import annotations

import io
import re
import socket

import docx
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from advisor.core.errors import ConfigError
from advisor.core.models import Passage
from advisor.core.principal import Principal
from advisor.core.settings import Settings
from advisor.memo.draft import (
    SECTIONS,
    Memo,
    _renumber,
    escape_md,
    neutralize_md,
    parse_sections,
    source_line,
)
from advisor.service.facade import Advisor
from interfaces.cli import _register
from interfaces.cli.base import app
from tests.advisor.corpus import ACME_FACT, GLOBEX_FACT, INJECTION
from tests.fakes.openai_server import FakeOpenAI, messages_text

LOCAL = Principal.local()

TOPIC = "How should we run on-call for a small team?"


@pytest.fixture
def indexed(two_clients_index):
    return two_clients_index


def offline(indexed, embeddings) -> Advisor:
    return Advisor(Settings(data_dir=indexed), embeddings=embeddings)


def check_structure(memo: Memo) -> str:
    """Every heading present, every [n] resolves, sources numbered 1..N with none unused."""
    markdown = memo.to_markdown()
    for heading in [*SECTIONS, "Sources"]:
        assert f"\n## {heading}\n" in markdown
    body, sources = markdown.split("\n## Sources\n")
    cited = [int(n) for n in re.findall(r"\[(\d+)\]", body)]
    listed = [int(n) for n in re.findall(r"^- \[(\d+)\]", sources, flags=re.M)]
    assert cited and listed == list(range(1, len(memo.citations) + 1))
    assert set(cited) == set(listed)
    assert [c.n for c in memo.citations] == listed
    return markdown


def test_offline_memo_is_structured_cited_and_honest(indexed, embeddings):
    memo = offline(indexed, embeddings).memo(LOCAL, TOPIC, client="acme")
    markdown = check_structure(memo)
    assert memo.mode == "offline" and "Offline draft" in memo.note
    assert "five engineers" in markdown, "the playbook's key fact is quoted"
    assert ACME_FACT in markdown, "the client's own situation leads the context"
    assert GLOBEX_FACT not in markdown and "globex" not in markdown.lower()
    assert {c.scope for c in memo.citations} <= {"playbook", "acme"}
    for point in [p for name in SECTIONS for p in memo.sections[name]]:
        assert re.search(r"\[\d+\]", point) or "do not cover" in point, point


def test_memo_from_the_conversation_uses_its_questions(indexed, embeddings):
    history = [
        {"role": "user", "content": "How big should our pull requests be?"},
        {"role": "assistant", "content": "Keep them under 400 lines [1]."},
    ]
    memo = offline(indexed, embeddings).memo(LOCAL, "", client=None, history=history)
    assert memo.topic == "How big should our pull requests be?"
    assert "code-review.md" in [c.source for c in memo.citations]
    check_structure(memo)


def test_docx_opens_with_every_heading_and_source(indexed, embeddings):
    memo = offline(indexed, embeddings).memo(LOCAL, TOPIC, client="acme")
    document = docx.Document(io.BytesIO(memo.to_docx()))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert headings == [*SECTIONS, "Sources"]
    assert document.paragraphs[0].text == f"Recommendation memo: {TOPIC}"
    texts = [p.text for p in document.paragraphs]
    assert texts[texts.index("Sources") + 1 :] == [
        f"[{c.n}] {source_line(c)}" for c in memo.citations
    ]
    assert document.core_properties.title == memo.title


def test_a_memo_needs_a_topic_or_a_conversation(indexed, embeddings):
    with pytest.raises(ConfigError, match="needs a topic"):
        offline(indexed, embeddings).memo(LOCAL, "  ")


LLM_MEMO = """Here is the memo.

## Context
Acme runs a three-person rotation [1].

## Recommendation
**Grow the rotation to five engineers** before adding services [2].

## Options considered
- Keep three people: cheap now, but burns them out [1][2].
- Hire two more: costs money, gives one week in five [2].

## Risks
- Pager fatigue [7].

## Next steps
1. Pay an on-call stipend [2].

## Sources
[1] made up
"""


def test_llm_memo_is_parsed_renumbered_and_invented_markers_dropped(indexed, embeddings):
    with FakeOpenAI(LLM_MEMO) as server:
        settings = Settings(data_dir=indexed, openai_base_url=server.base_url, llm_model="fake")
        memo = Advisor(settings, embeddings=embeddings).memo(LOCAL, TOPIC, client="acme")
        sent = messages_text(server.requests[-1])

    assert memo.mode == "llm"
    check_structure(memo)
    assert memo.sections["Recommendation"] == [
        "Grow the rotation to five engineers before adding services [2]."
    ]
    assert memo.sections["Options considered"][0] == (
        "Keep three people: cheap now, but burns them out [1][2]."
    )
    assert memo.sections["Risks"] == ["Pager fatigue."]
    assert "removed 1 citation" in memo.warning.lower()
    assert "made up" not in memo.to_markdown()
    assert "<<<SOURCES" in sent and TOPIC in sent and ACME_FACT in sent
    assert GLOBEX_FACT not in sent
    assert INJECTION not in sent.split("<<<SOURCES")[0], "document text only inside the block"


def test_llm_down_falls_back_to_an_offline_draft(indexed, embeddings):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = Settings(
        data_dir=indexed, openai_base_url=f"http://127.0.0.1:{port}/v1", llm_max_retries=0
    )
    memo = Advisor(settings, embeddings=embeddings).memo(LOCAL, TOPIC)
    assert memo.mode == "offline" and "offline draft instead" in memo.warning
    check_structure(memo)


def test_parse_sections_accepts_bold_headings_and_skips_preamble():
    text = "Sure!\n**Context:**\nA [1].\nB [2].\n\n**Next steps**\n- one [1]\n- two\n"
    assert parse_sections(text) == {"Context": ["A [1]. B [2]."], "Next steps": ["one [1]", "two"]}


def test_escaping_keeps_citations_and_disarms_everything_else():
    assert escape_md("Budget $40k [2] <img src=x> ![t](http://e/p.png) ~6") == (
        "Budget \\$40k [2] \\<img src=x\\> !\\[t\\](http://e/p.png) \\~6"
    )
    assert escape_md("[1](http://evil)") == "\\[1\\](http://evil)"
    assert escape_md("# Not a heading") == "\\# Not a heading"
    assert escape_md("- not a bullet") == "\\- not a bullet"
    assert neutralize_md("**Bold** $5 [1] <b>") == "**Bold** \\$5 \\[1\\] \\<b>"


def test_cli_memo_writes_markdown_and_docx(indexed, tmp_path, monkeypatch):
    monkeypatch.setenv("ADVISOR_DATA_DIR", str(indexed))
    _register()
    runner = CliRunner()
    md = tmp_path / "memo.md"
    result = runner.invoke(app, ["memo", TOPIC, "--client", "acme", "--out", str(md)])
    assert result.exit_code == 0, result.output
    assert md.read_text().startswith(f"# Recommendation memo: {escape_md(TOPIC)}")

    result = runner.invoke(app, ["memo", TOPIC, "--out", str(tmp_path / "memo.docx")])
    assert result.exit_code == 0, result.output
    assert docx.Document(str(tmp_path / "memo.docx")).paragraphs[0].text.endswith(TOPIC)

    printed = runner.invoke(app, ["memo", TOPIC])
    assert "## Recommendation" in printed.stdout

    typo = runner.invoke(app, ["memo", TOPIC, "--client", "acmee"])
    assert typo.exit_code != 0 and "known clients are acme, globex" in str(typo.exception)


@hypothesis_settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.sampled_from([*"[]【】^0123456789 ,;-\n#*.ab", "## Risks\n", "1. ", "**"]), max_size=80
    ).map("".join)
)
def test_no_model_reply_can_crash_a_memo_or_leave_a_marker_unresolved(reply):
    passages = [Passage(id=str(n), text=f"text {n}", source=f"s{n}.md") for n in range(3)]
    memo = Memo(topic="t", mode="llm", sections=parse_sections("## Context\n" + reply))

    memo = _renumber(memo, passages)

    body = " ".join(p for points in memo.sections.values() for p in points)
    numbers = [int(n) for n in re.findall(r"[\[【]\^?\s*(\d+)", body)]
    assert all(1 <= n <= len(memo.citations) for n in numbers)
    assert [c.n for c in memo.citations] == list(range(1, len(memo.citations) + 1))
    assert set(numbers) == {c.n for c in memo.citations}
