"""The sample corpus's PDF, DOCX and PPTX files are rendered from Markdown sources kept outside
data/: the checked-in files are exactly what the sources render, and they carry the sources' text
(read back with independent parsers, not with the generator)."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import docx
import pptx
import pypdf
import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"


def _load_generator():
    spec = importlib.util.spec_from_file_location(
        "build_sample_data", ROOT / "scripts" / "build_sample_data.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


gen = _load_generator()
SOURCES = gen.all_sources()


def words(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def test_every_binary_sample_file_has_a_source_outside_the_indexed_folders():
    binaries = {
        p.relative_to(DATA).as_posix()
        for p in DATA.rglob("*")
        if p.suffix in (".pdf", ".docx", ".pptx") and ".advisor" not in p.parts
    }

    assert {s.target for s in SOURCES} == binaries
    assert all(DATA not in s.path.parents for s in SOURCES)


def test_checked_in_files_are_byte_for_byte_what_their_sources_render(tmp_path):
    written = gen.build(tmp_path)

    stale = [
        p.relative_to(tmp_path).as_posix()
        for p in written
        if p.read_bytes() != (DATA / p.relative_to(tmp_path)).read_bytes()
    ]
    assert not stale, f"run scripts/build_sample_data.py: {stale} differ from their sources"


def _expected_lines(blocks) -> list[str]:
    lines = []
    for kind, payload in blocks:
        if kind in ("h1", "h2", "p"):
            lines.append(payload)
        elif kind == "bullets":
            lines += payload
        elif kind == "table":
            lines += [" | ".join(row) for row in payload]
    return lines


def _docx_lines(path: Path) -> list[str]:
    document = docx.Document(str(path))
    lines = []
    for child in document.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            text = docx.text.paragraph.Paragraph(child, document).text
            if text:
                lines.append(text)
        elif tag == "tbl":
            table = docx.table.Table(child, document)
            lines += [" | ".join(cell.text for cell in row.cells) for row in table.rows]
    return lines


@pytest.mark.parametrize("source", [s for s in SOURCES if s.kind == "docx"], ids=lambda s: s.target)
def test_a_docx_carries_its_sources_text_in_order(source):
    assert _docx_lines(DATA / source.target) == _expected_lines(source.blocks)


@pytest.mark.parametrize("source", [s for s in SOURCES if s.kind == "pptx"], ids=lambda s: s.target)
def test_a_deck_carries_its_sources_slides_in_order(source):
    deck = pptx.Presentation(str(DATA / source.target))
    shown = [
        [shape.text_frame.text for shape in slide.shapes if shape.has_text_frame]
        for slide in deck.slides
    ]

    expected = [[title, "\n".join(lines)] for title, lines in gen.slides(source.blocks)]
    expected[0][1] = " ".join(gen.slides(source.blocks)[0][1])  # the subtitle is one paragraph
    assert shown == expected


@pytest.mark.parametrize("source", [s for s in SOURCES if s.kind == "pdf"], ids=lambda s: s.target)
def test_a_pdf_carries_its_sources_text_page_by_page(source):
    reader = pypdf.PdfReader(str(DATA / source.target))
    source_pages = gen.pages(source.blocks)

    assert len(reader.pages) == len(source_pages)
    for number, (page, blocks) in enumerate(zip(reader.pages, source_pages, strict=True), 1):
        lines = []
        for kind, payload in blocks:
            lines += [f"- {item}" for item in payload] if kind == "bullets" else [payload]
        footer = f"{source.meta['footer']} - page {number} of {len(source_pages)}"
        assert words(page.extract_text()) == words(" ".join([*lines, footer]))
