import pytest

from advisor.core.models import context_text
from ingest.chunking import Chunker, is_noise, sections
from ingest.parse import Block, ParsedDoc
from ingest.tokens import TokenCounter

SENTENCE = "The incident commander keeps a timeline and decides when to escalate to executives. "


@pytest.fixture(scope="module")
def counter():
    return TokenCounter("all-MiniLM-L6-v2")


@pytest.fixture
def chunker(counter):
    return Chunker(120, counter.count)


def _doc(*blocks, title="Incident response", paging=None):
    return ParsedDoc(title, list(blocks), paging=paging)


def t(text, depth):
    return Block("title", text, depth=depth)


def p(text, page=None):
    return Block("text", text, page=page)


def test_heading_path_and_document_title_not_repeated(chunker):
    doc = _doc(
        t("Incident response", 0),
        t("Severity levels", 1),
        t("SEV-1", 2),
        p(SENTENCE * 4),
        t("Roles", 1),
        p(SENTENCE * 4),
    )
    drafts = chunker.chunk(doc)
    assert [d.section for d in drafts] == ["Severity levels > SEV-1", "Roles"]


def test_every_chunk_fits_the_budget_including_its_prefix(chunker, counter):
    doc = _doc(t("Runbook", 1), p(SENTENCE * 40), t("Escalation", 1), p("Page the lead. " * 60))
    drafts = chunker.chunk(doc)
    assert len(drafts) > 4
    for d in drafts:
        assert counter.count(context_text("Incident response", d.section, d.text)) <= 120 + 2
    # Long paragraphs are split at sentence ends, not mid-word.
    assert all(d.text.rstrip().endswith(".") for d in drafts)


def test_small_sibling_sections_are_packed_under_their_parent(chunker):
    doc = _doc(
        t("Severity levels", 1),
        t("SEV-1", 2),
        p("Critical: customers cannot pay."),
        t("SEV-2", 2),
        p("Major: a feature is down."),
        t("Roles", 1),
        p("The commander leads."),
    )
    drafts = chunker.chunk(doc)
    assert drafts[0].section == "Severity levels"
    assert drafts[0].text.split("\n") == [
        "SEV-1",
        "Critical: customers cannot pay.",
        "SEV-2",
        "Major: a feature is down.",
    ]
    assert drafts[-1].section == "Roles"


def test_tiny_section_is_carried_into_the_next_not_left_alone(chunker):
    doc = _doc(t("Intro", 1), p("Read this first."), t("Setup", 1), p(SENTENCE * 5))
    drafts = chunker.chunk(doc)
    assert len(drafts) == 1 or all(d.tokens > 10 for d in drafts)
    assert "Read this first." in drafts[0].text


def test_paged_documents_never_cross_a_page(chunker):
    doc = _doc(
        Block("title", "Plan", depth=0, page=1),
        p("Short page one.", page=1),
        p("Short page two.", page=2),
        paging="page",
    )
    drafts = chunker.chunk(doc)
    assert [(d.page, d.text) for d in drafts] == [(1, "Short page one."), (2, "Short page two.")]
    assert all(d.section == "Plan" for d in drafts)


def test_tables_split_into_row_groups_that_repeat_the_header(chunker):
    rows = [["name", "role", "notes"]] + [[f"person {i}", "engineer", SENTENCE] for i in range(12)]
    drafts = chunker.chunk(_doc(Block("table", "", rows=rows)))
    assert len(drafts) > 1
    for d in drafts:
        assert d.text.startswith("name | role | notes\n")


def test_noise_is_dropped():
    assert all(is_noise(x) for x in ["Page 3", "3 of 10", "12", "—", "  ", "4.", "iv"])
    assert not is_noise("SEV-1")
    doc = _doc(t("A", 1), p("Page 2"), p("real text"))
    assert [b.text for s in sections(doc) for b in s.blocks] == ["real text"]
