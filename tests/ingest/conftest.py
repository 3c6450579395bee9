"""Builders for small documents in every supported format, written into tmp_path by tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from advisor.core.store import Store


def make_pdf(path: Path, pages: list[tuple[str, str]], running_header: str | None = None) -> Path:
    """A PDF with one (heading, body) pair per page, optionally under a running header line."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_auto_page_break(auto=False)
    for heading, body in pages:
        pdf.add_page()
        if running_header:
            pdf.set_font("Helvetica", size=9)
            pdf.cell(0, 5, running_header, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "B", 20)
        pdf.cell(0, 12, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(6)  # a real gap, so the text extractor sees the heading as its own line
        pdf.set_font("Helvetica", size=11)
        pdf.multi_cell(0, 6, body)
    pdf.output(str(path))
    return path


def make_encrypted_pdf(path: Path, source: Path) -> Path:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(str(source)).pages:
        writer.add_page(page)
    writer.encrypt(user_password="secret", owner_password="owner")
    with open(path, "wb") as fh:
        writer.write(fh)
    return path


def make_docx(path: Path, title: str, sections: list[tuple[str, str]]) -> Path:
    """A DOCX with a Title paragraph and Heading 1 sections."""
    import docx

    document = docx.Document()
    document.add_heading(title, level=0)
    for heading, body in sections:
        document.add_heading(heading, level=1)
        document.add_paragraph(body)
    document.save(str(path))
    return path


def make_pptx(path: Path, slides: list[tuple[str, str]]) -> Path:
    from pptx import Presentation

    deck = Presentation()
    for title, body in slides:
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = body
    deck.save(str(path))
    return path


def make_xlsx(path: Path, rows: list[list[str]]) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Roster"
    for row in rows:
        sheet.append(row)
    book.save(str(path))
    return path


@pytest.fixture
def fast_settings(settings):
    """Settings that parse in-process: a worker pool only costs start-up time on tiny inputs."""
    return settings.model_copy(update={"parse_workers": 1})


@pytest.fixture
def store(fast_settings, embeddings) -> Store:
    return Store(fast_settings, embeddings.name, embeddings.dimension)
