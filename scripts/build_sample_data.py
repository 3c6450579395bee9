#!/usr/bin/env python3
"""Render the PDF, DOCX and PPTX files of the sample corpus from their Markdown sources.

The prose lives in `scripts/sample_sources/<path in data/>.md` (outside `data/`, so nothing is
indexed twice); this script only lays it out. Markdown, HTML and CSV files in `data/` are plain
text already and are edited in place. Run from the repository root after editing a source:

    .venv/bin/python scripts/build_sample_data.py

A source is YAML front matter (`subject`; PDFs also `title` and `footer`) and a Markdown body:

    PDF   `#`/`##` headings, paragraphs and lists; `---` starts the next page (one topic a page)
    DOCX  `#` is the document title, `##` a section; paragraphs, lists and pipe tables
    PPTX  `#` and the paragraph under it make the title slide; each `##` is a slide of bullets

Numbered list items keep their number in the text ("1. Add a CI check"). Output is
deterministic (fixed metadata dates and ZIP timestamps): re-running without changes leaves every
file byte-identical, and tests/scripts/test_build_sample_data.py checks the files match their sources.
"""

from __future__ import annotations

import datetime as dt
import io
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import yaml
from docx import Document
from docx.shared import Pt
from fpdf import FPDF
from markdown_it import MarkdownIt
from pptx import Presentation
from pptx.util import Pt as PptPt

ROOT = Path(__file__).resolve().parent.parent
SOURCES = Path(__file__).resolve().parent / "sample_sources"
DATA = ROOT / "data"

FIXED_DATETIME = dt.datetime(2026, 10, 1, 9, 0, 0, tzinfo=dt.UTC)
FIXED_NAIVE = FIXED_DATETIME.replace(tzinfo=None)
ZIP_TIMESTAMP = (2026, 10, 1, 9, 0, 0)
AUTHOR = "CTO Advisor sample data"

# A block is ("h1" | "h2" | "p", text), ("bullets", [items]), ("table", [header, *rows]) or
# ("page", None) for a page break.
Block = tuple[str, object]


@dataclass
class Source:
    path: Path  # the .md file
    target: str  # where it renders, relative to data/ ("playbooks/security-basics.pdf")
    meta: dict
    blocks: list[Block]

    @property
    def kind(self) -> str:
        return Path(self.target).suffix.lstrip(".")


# -- reading a source -------------------------------------------------------------------------


def _inline(token) -> str:
    return token.content.replace("\n", " ")


def parse_blocks(markdown: str) -> list[Block]:
    """The Markdown body as blocks (headings, paragraphs, lists, tables, page breaks)."""
    tokens = MarkdownIt("commonmark").enable("table").parse(markdown)
    blocks: list[Block] = []
    items: list[str] | None = None
    table: list[list[str]] | None = None
    heading = number = None
    in_cell = False
    for tok in tokens:
        if tok.type == "heading_open":
            heading = tok.tag
        elif tok.type in ("bullet_list_open", "ordered_list_open"):
            items = []
        elif tok.type in ("bullet_list_close", "ordered_list_close"):
            blocks.append(("bullets", items))
            items = None
        elif tok.type == "list_item_open":
            number = f"{tok.info}. " if tok.info else ""
        elif tok.type == "table_open":
            table = []
        elif tok.type == "table_close":
            blocks.append(("table", table))
            table = None
        elif tok.type == "tr_open":
            table.append([])
        elif tok.type in ("th_open", "td_open", "th_close", "td_close"):
            in_cell = tok.type.endswith("open")
        elif tok.type == "hr":
            blocks.append(("page", None))
        elif tok.type == "inline":
            if in_cell:
                table[-1].append(_inline(tok))
            elif heading:
                blocks.append(({"h1": "h1", "h2": "h2"}[heading], _inline(tok)))
                heading = None
            elif items is not None:
                items.append(number + _inline(tok))
            else:
                blocks.append(("p", _inline(tok)))
    return blocks


def read_source(path: Path, root: Path = SOURCES) -> Source:
    text = path.read_text(encoding="utf-8")
    _, front, body = text.split("---\n", 2)
    target = path.relative_to(root).as_posix().removesuffix(".md")
    return Source(path, target, yaml.safe_load(front), parse_blocks(body))


def all_sources(root: Path = SOURCES) -> list[Source]:
    """Every document source under `root`; repos/ holds repository trees, built by build_sample_repo.py."""
    return [
        read_source(p, root)
        for p in sorted(root.rglob("*.md"))
        if "repos" not in p.relative_to(root).parts[:1]
    ]


# -- PDF --------------------------------------------------------------------------------------


class _PlaybookPDF(FPDF):
    """A4 PDF with a running footer carrying the document name and page number."""

    def __init__(self, footer_label: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.footer_label = footer_label

    def footer(self) -> None:  # fpdf hook
        self.set_y(-15)
        self.set_font("Helvetica", "I", 8)
        self.set_text_color(110, 110, 110)
        self.cell(0, 8, f"{self.footer_label} - page {self.page_no()} of {{nb}}", align="C")
        self.set_text_color(0, 0, 0)


def pages(blocks: list[Block]) -> list[list[Block]]:
    """The blocks split at page breaks."""
    out: list[list[Block]] = [[]]
    for block in blocks:
        if block[0] == "page":
            out.append([])
        else:
            out[-1].append(block)
    return out


def _latin1(text: str) -> str:
    text.encode("latin-1")  # the core PDF fonts: raises if a non-latin-1 character slipped in
    return text


def build_pdf(source: Source, path: Path) -> None:
    pdf = _PlaybookPDF(source.meta["footer"])
    pdf.set_creation_date(FIXED_DATETIME)
    pdf.set_title(source.meta["title"])
    pdf.set_author(AUTHOR)
    pdf.set_subject(source.meta["subject"])
    pdf.set_creator("scripts/build_sample_data.py")
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.alias_nb_pages()

    for page_number, blocks in enumerate(pages(source.blocks), start=1):
        pdf.add_page()
        for kind, payload in blocks:
            if kind == "h1":
                pdf.set_font("Helvetica", "B", 16)
                pdf.multi_cell(0, 8, _latin1(payload), new_x="LMARGIN", new_y="NEXT")
                pdf.ln(2)
            elif kind == "h2":
                pdf.ln(1)
                pdf.set_font("Helvetica", "B", 12)
                pdf.multi_cell(0, 7, _latin1(payload), new_x="LMARGIN", new_y="NEXT")
            elif kind == "p":
                pdf.set_font("Helvetica", "", 10)
                pdf.multi_cell(0, 5, _latin1(payload), new_x="LMARGIN", new_y="NEXT")
                pdf.ln(1.5)
            elif kind == "bullets":
                pdf.set_font("Helvetica", "", 10)
                for item in payload:
                    pdf.set_x(pdf.l_margin + 3)
                    pdf.multi_cell(0, 5, "- " + _latin1(item), new_x="LMARGIN", new_y="NEXT")
                    pdf.ln(0.8)
                pdf.ln(1)
            else:
                raise ValueError(f"{source.path}: a PDF page cannot hold a {kind}")
        if pdf.page_no() != page_number:
            raise RuntimeError(f"{source.path}: page {page_number} overflowed onto another page")

    path.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(path))


# -- DOCX and PPTX ----------------------------------------------------------------------------


def _normalise_zip(path: Path) -> None:
    """Rewrite an Office ZIP container with fixed timestamps so output is reproducible."""
    with zipfile.ZipFile(path) as src:
        entries = [(info.filename, src.read(info.filename)) for info in src.infolist()]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for name, blob in entries:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIMESTAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, blob)
    path.write_bytes(buffer.getvalue())


def _set_core_properties(props, *, title: str, subject: str) -> None:
    props.title = title
    props.subject = subject
    props.author = AUTHOR
    props.last_modified_by = AUTHOR
    props.created = FIXED_NAIVE
    props.modified = FIXED_NAIVE
    props.last_printed = FIXED_NAIVE
    props.revision = 1
    props.keywords = "CTO Advisor; sample data; fictional"


def _add_docx_table(document, rows: list[list[str]]) -> None:
    header, *body = rows
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = ""
        cell.paragraphs[0].add_run(text).bold = True
    for row in body:
        for cell, text in zip(table.add_row().cells, row, strict=True):
            cell.text = text
    document.add_paragraph()


def build_docx(source: Source, path: Path) -> None:
    document = Document()
    document.styles["Normal"].font.name = "Calibri"
    document.styles["Normal"].font.size = Pt(11)
    title = next(text for kind, text in source.blocks if kind == "h1")
    _set_core_properties(document.core_properties, title=title, subject=source.meta["subject"])

    for kind, payload in source.blocks:
        if kind in ("h1", "h2"):
            document.add_heading(payload, level=0 if kind == "h1" else 1)
        elif kind == "p":
            document.add_paragraph(payload)
        elif kind == "bullets":
            for item in payload:
                document.add_paragraph(item, style="List Bullet")
        elif kind == "table":
            _add_docx_table(document, payload)
        else:
            raise ValueError(f"{source.path}: a DOCX cannot hold a {kind}")

    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    _normalise_zip(path)


def slides(blocks: list[Block]) -> list[tuple[str, list[str]]]:
    """(title, lines) per slide: the title slide's lines are its subtitle, the others bullets."""
    out: list[tuple[str, list[str]]] = []
    for kind, payload in blocks:
        if kind in ("h1", "h2"):
            out.append((payload, []))
        elif kind == "p":
            out[-1][1].append(payload)
        elif kind == "bullets":
            out[-1][1].extend(payload)
        else:
            raise ValueError(f"a slide cannot hold a {kind}")
    return out


def build_pptx(source: Source, path: Path) -> None:
    prs = Presentation()
    (title_text, subtitle), *rest = slides(source.blocks)
    _set_core_properties(prs.core_properties, title=title_text, subject=source.meta["subject"])

    slide = prs.slides.add_slide(prs.slide_layouts[0])  # Title Slide
    slide.shapes.title.text = title_text
    slide.placeholders[1].text = " ".join(subtitle)

    for slide_title, bullets in rest:
        slide = prs.slides.add_slide(prs.slide_layouts[1])  # Title and Content
        slide.shapes.title.text = slide_title
        body = slide.placeholders[1].text_frame
        body.clear()
        for index, bullet in enumerate(bullets):
            paragraph = body.paragraphs[0] if index == 0 else body.add_paragraph()
            paragraph.text = bullet
            paragraph.font.size = PptPt(20)

    path.parent.mkdir(parents=True, exist_ok=True)
    prs.save(str(path))
    _normalise_zip(path)


BUILDERS = {"pdf": build_pdf, "docx": build_docx, "pptx": build_pptx}


def build(out: Path = DATA, sources: Path = SOURCES) -> list[Path]:
    """Render every source under `sources` into `out`; the paths written."""
    written = []
    for source in all_sources(sources):
        target = out / source.target
        BUILDERS[source.kind](source, target)
        written.append(target)
    return written


def main(argv: list[str]) -> None:
    out = Path(argv[0]) if argv else DATA
    for path in build(out):
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main(sys.argv[1:])
