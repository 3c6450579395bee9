"""Recommendation memos: every heading, every [n] resolves, scoped sources, Markdown and DOCX."""

from __future__ import annotations

import io
import re
import socket

import docx
import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from advisor.core.errors import AccessError, ConfigError
from advisor.core.models import Passage
from advisor.core.principal import Principal
from advisor.core.settings import Settings
from advisor.memo.draft import (
    CELL_NOT_COVERED,
    OPEN_QUESTIONS,
    SECTIONS,
    Memo,
    OptionRow,
    escape_md,
    finish,
    neutralize_md,
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


def docx_text(data: bytes) -> str:
    return "\n".join(p.text for p in docx.Document(io.BytesIO(data)).paragraphs)


def headings(memo: Memo) -> list[str]:
    """What the exports show: every section, Open questions only when there are some."""
    shown = [h for h in SECTIONS if h != OPEN_QUESTIONS or memo.sections.get(OPEN_QUESTIONS)]
    return [*shown, "Sources"]


def check_structure(memo: Memo) -> str:
    """Every heading present, every [n] resolves, sources numbered 1..N with none unused."""
    markdown = memo.to_markdown()
    for heading in headings(memo):
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
    claims = [p for name in SECTIONS if name != OPEN_QUESTIONS for p in memo.sections[name]]
    cells = [c for row in memo.options for c in (row.benefits, row.costs, row.risks) if c]
    assert claims, "the memo says something"
    for point in claims + cells:
        assert re.search(r"\[\d+\]", point), point
    context_sources = {
        memo.citations[n - 1].scope
        for point in memo.sections["Context"]
        for n in map(int, re.findall(r"\[(\d+)\]", point))
    }
    assert context_sources == {"acme"}, "the situation comes from the client's own documents"
    assert not memo.options and "Which options" in " ".join(memo.sections[OPEN_QUESTIONS])


def test_a_choice_in_the_topic_becomes_an_options_table_with_a_row_per_option(indexed, embeddings):
    topic = "Should Acme keep its three-person rotation or grow it to five engineers?"
    memo = offline(indexed, embeddings).memo(LOCAL, topic, client="acme")
    check_structure(memo)
    assert [r.option for r in memo.options] == [
        "Keep its three-person rotation",
        "Grow it to five engineers",
    ]
    for row in memo.options:
        for cell in (row.benefits, row.costs, row.risks):
            assert cell == "" or re.search(r"\[\d+\]", cell), cell
        missing = [c for c in ("benefits", "costs", "risks") if not getattr(row, c)]
        if missing:  # a gap is said plainly in the table and asked in Open questions
            assert CELL_NOT_COVERED in row.cells()
            assert any(row.option in q for q in memo.sections[OPEN_QUESTIONS])
    markdown = memo.to_markdown()
    assert "| Option | Benefits | Costs | Risks |" in markdown
    assert GLOBEX_FACT not in markdown and "globex" not in markdown.lower()


def test_an_option_no_document_mentions_gets_no_cells_and_is_asked_about(indexed, embeddings):
    # "Nomad" is in no document of the two-client corpus; a rotation of five engineers is.
    topic = "Should Acme adopt Nomad or grow its rotation to five engineers?"
    memo = offline(indexed, embeddings).memo(LOCAL, topic, client="acme")
    check_structure(memo)
    absent, present = memo.options
    assert "Nomad" in absent.option and "five engineers" in present.option
    assert (absent.benefits, absent.costs, absent.risks) == ("", "", ""), (
        "a passage retrieved for an option nothing mentions is about something else"
    )
    assert any(re.search(r"\[\d+\]", c) for c in present.cells()), present
    asked = " ".join(memo.sections[OPEN_QUESTIONS])
    assert "No document mentions 'Nomad'" in asked and absent.option in asked
    recommendation = memo.to_markdown().split("## Recommendation\n")[1].split("\n## ")[0]
    assert memo.verdict and memo.verdict in recommendation.replace("\\", "")
    assert "'Nomad'" in memo.verdict and "cannot be weighed" in memo.verdict
    assert memo.verdict in docx_text(memo.to_docx())


def test_section_retrieval_never_reaches_beyond_the_clients_own_scope(indexed, embeddings):
    retriever = offline(indexed, embeddings).retriever
    own = retriever.search_within("on-call rotation", ["acme"], "acme", k=5)
    assert own and {p.scope for p in own} == {"acme"}
    playbooks = retriever.search_within("on-call rotation", ["playbook"], "acme", k=5)
    assert playbooks and {p.scope for p in playbooks} == {"playbook"}
    with pytest.raises(AccessError):
        retriever.search_within("deploy days", ["globex"], "acme", k=5)
    with pytest.raises(AccessError):
        retriever.search_within("deploy days", ["acme"], None, k=5)


def test_memo_from_the_conversation_uses_its_questions(indexed, embeddings):
    history = [
        {"role": "user", "content": "How big should our pull requests be?"},
        {"role": "assistant", "content": "Keep them under 400 lines [1]."},
    ]
    memo = offline(indexed, embeddings).memo(LOCAL, "", client=None, history=history)
    assert memo.topic == "How big should our pull requests be?"
    assert "code-review.md" in [c.source for c in memo.citations]
    check_structure(memo)


def test_docx_reads_back_with_headings_a_real_options_table_and_numbered_sources(
    indexed, embeddings
):
    topic = "Should Acme keep its three-person rotation or grow it to five engineers?"
    memo = offline(indexed, embeddings).memo(LOCAL, topic, client="acme")
    document = docx.Document(io.BytesIO(memo.to_docx()))
    found = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert found == headings(memo)
    assert document.paragraphs[0].text == f"Recommendation memo: {topic}"
    texts = [p.text for p in document.paragraphs]
    assert texts[texts.index("Sources") + 1 :] == [
        f"[{c.n}] {source_line(c)}" for c in memo.citations
    ]
    assert all(c.source and c.title for c in memo.citations)
    assert document.core_properties.title == memo.title
    [table] = document.tables
    rows = [[cell.text for cell in row.cells] for row in table.rows]
    assert rows[0] == ["Option", "Benefits", "Costs", "Risks"]
    assert rows[1:] == [[r.option, *r.cells()] for r in memo.options]


def test_a_memo_needs_a_topic_or_a_conversation(indexed, embeddings):
    with pytest.raises(ConfigError, match="needs a topic"):
        offline(indexed, embeddings).memo(LOCAL, "  ")


LLM_MEMO = """Here is the memo as JSON:
```json
{
  "context": ["Acme runs a three-person rotation [1]."],
  "recommendation": ["Grow the rotation to five engineers before adding services [2].",
                     "Trust me on this."],
  "options": [
    {"option": "Keep three people", "benefits": "Cheap now [1].", "costs": "",
     "risks": "Burns them out [2][99]."},
    {"option": "Hire two more", "benefits": "One week in five [2].", "costs": "Salaries.",
     "risks": ""}
  ],
  "risks": ["Pager fatigue [7]."],
  "next_steps": ["Pay an on-call stipend [2]."],
  "open_questions": ["What budget is there for two hires? [1]"]
}
```"""


def test_llm_memo_is_validated_renumbered_and_stripped_of_invented_or_missing_citations(
    indexed, embeddings
):
    with FakeOpenAI(LLM_MEMO) as server:
        settings = Settings(data_dir=indexed, openai_base_url=server.base_url, llm_model="fake")
        memo = Advisor(settings, embeddings=embeddings).memo(LOCAL, TOPIC, client="acme")
        sent = messages_text(server.requests[-1])

    assert memo.mode == "llm" and memo.warning
    check_structure(memo)
    assert memo.sections["Recommendation"] == [
        "Grow the rotation to five engineers before adding services [2]."
    ], "an uncited claim is dropped"
    assert [r.option for r in memo.options] == ["Keep three people", "Hire two more"]
    keep, hire = memo.options
    assert keep.benefits == "Cheap now [1]." and keep.risks == "Burns them out [2]."
    assert hire.costs == "" and CELL_NOT_COVERED in hire.cells(), "an uncited cell is a gap"
    assert memo.sections["Risks"] == [], "a claim whose only source is invented is dropped"
    assert memo.sections[OPEN_QUESTIONS] == ["What budget is there for two hires?"]
    warning = memo.warning.lower()
    assert "removed 2 uncited point" in warning and "removed 1 citation" in warning
    assert "<<<SOURCES" in sent and TOPIC in sent and ACME_FACT in sent
    assert GLOBEX_FACT not in sent
    assert INJECTION not in sent.split("<<<SOURCES")[0], "document text only inside the block"


def test_llm_output_that_breaks_the_schema_falls_back_to_the_offline_draft(indexed, embeddings):
    with FakeOpenAI('{"context": ["no recommendation key"]}') as server:
        settings = Settings(data_dir=indexed, openai_base_url=server.base_url, llm_model="fake")
        memo = Advisor(settings, embeddings=embeddings).memo(LOCAL, TOPIC, client="acme")
    assert memo.mode == "offline" and "memo schema" in memo.warning
    check_structure(memo)


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


def test_escaping_keeps_citations_and_disarms_everything_else():
    assert escape_md("Budget $40k [2] <img src=x> ![t](http://e/p.png) ~6") == (
        "Budget \\$40k [2] \\<img src=x\\> `![t](http://e/p.png)` \\~6"
    )  # a word holding a URL is shown as code, as written: nothing loads or links it
    assert escape_md("[1](http://evil) at http://evil/x") == "`[1](http://evil)` at `http://evil/x`"
    assert escape_md("[1](evil)") == "\\[1\\](evil)"
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
@example("[ [0]1")  # the opener before a removed marker must not make "[ 1" of what follows
def test_no_model_reply_can_crash_a_memo_or_leave_a_marker_unresolved(reply):
    from advisor.memo.evidence import Evidence

    passages = [Passage(id=str(n), text=f"text {n}", source=f"s{n}.md") for n in range(3)]
    memo = Memo(
        topic="t",
        mode="llm",
        sections={"Context": [reply]},
        options=[OptionRow(option="o", benefits=reply, risks=reply)],
    )

    memo = finish(memo, Evidence(passages=passages))

    texts = [p for points in memo.sections.values() for p in points]
    texts += [c for row in memo.options for c in (row.benefits, row.costs, row.risks)]
    numbers = [int(n) for text in texts for n in re.findall(r"[\[【]\^?\s*(\d+)", text)]
    assert all(1 <= n <= len(memo.citations) for n in numbers)
    assert [c.n for c in memo.citations] == list(range(1, len(memo.citations) + 1))
    assert set(numbers) == {c.n for c in memo.citations}
