"""The memo as a record, and its exports: Markdown and DOCX, with the options as a real table."""

from __future__ import annotations

import io
import re
import time
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from advisor.answering.answer import scope_label
from advisor.core.models import Citation, Passage
from advisor.core.sanitize import escape_md, neutralize_md  # noqa: F401 (the app imports both here)

OPTIONS = "Options considered"
OPEN_QUESTIONS = "Open questions"
RECOMMENDATION = "Recommendation"
SECTIONS = ("Context", RECOMMENDATION, OPTIONS, "Risks", "Next steps", OPEN_QUESTIONS)
PROSE_SECTIONS = ("Context", RECOMMENDATION)  # paragraphs; the others are bullet lists
NOT_COVERED = "The retrieved sources do not cover this; add it before sending."
CELL_NOT_COVERED = "Not covered by the sources."
OPTION_COLUMNS = ("benefits", "costs", "risks")
COLUMN_TITLES = ("Benefits", "Costs", "Risks")


class OptionRow(BaseModel):
    """One option side by side: each cell is cited text, or empty when no source covers it."""

    option: str
    benefits: str = ""
    costs: str = ""
    risks: str = ""

    def cells(self) -> list[str]:
        return [getattr(self, c) or CELL_NOT_COVERED for c in OPTION_COLUMNS]


class Memo(BaseModel):
    """A recommendation memo: points under fixed headings, each claim cited as [n]."""

    topic: str
    client: str | None = None
    mode: Literal["offline", "llm"] = "offline"
    sections: dict[str, list[str]]  # heading -> plain-text points with [n] markers
    options: list[OptionRow] = Field(default_factory=list)
    citations: list[Citation] = Field(default_factory=list)
    note: str = ""
    # What the options table shows about the choice, in words (derived from the table, so it
    # quotes nothing and cites nothing); the first paragraph of the Recommendation.
    verdict: str = ""
    warning: str | None = None
    conflicts: list[str] = Field(default_factory=list)  # figures the documents state differently
    created: float = Field(default_factory=time.time)

    @property
    def title(self) -> str:
        return f"Recommendation memo: {self.topic}"

    def slug(self) -> str:
        """A file-name-safe stem for downloads."""
        words = re.sub(r"[^a-z0-9]+", "-", self.topic.lower()).strip("-")[:60].strip("-")
        return f"memo-{words or 'recommendation'}"

    def byline(self) -> str:
        who = f"Client: {self.client}" if self.client else "Playbooks only"
        when = datetime.fromtimestamp(self.created).strftime("%Y-%m-%d")
        how = "offline draft from retrieved sources" if self.mode == "offline" else "LLM draft"
        return f"{who} · {when} · {how}"

    def points(self, heading: str) -> list[str]:
        """What a heading shows; an empty one says so plainly (Open questions may be empty)."""
        found = self.sections.get(heading) or []
        if found or heading == OPEN_QUESTIONS:
            return found
        if heading == OPTIONS and self.options:
            return []
        return [NOT_COVERED]

    def to_markdown(self, level: int = 1) -> str:
        """The memo as Markdown (title at heading `level`); document text is escaped."""
        title, section = "#" * level, "#" * (level + 1)
        out = [f"{title} {escape_md(self.title)}", "", f"*{escape_md(self.byline())}*", ""]
        if self.note:
            out += [f"> {escape_md(self.note)}", ""]
        if self.conflicts:
            out += [f"> **Figures that disagree:** {escape_md('; '.join(self.conflicts))}", ""]
        for heading in SECTIONS:
            points = self.points(heading)
            if heading == OPEN_QUESTIONS and not points:
                continue
            out += [f"{section} {heading}", ""]
            if heading == OPTIONS and self.options:
                out += [
                    "| Option | Benefits | Costs | Risks |",
                    "| --- | --- | --- | --- |",
                    *(
                        "| " + " | ".join(escape_md(c) for c in [row.option, *row.cells()]) + " |"
                        for row in self.options
                    ),
                    "",
                ]
            if heading == RECOMMENDATION and self.verdict:
                out += [f"*{escape_md(self.verdict)}*", ""]
            if heading in PROSE_SECTIONS:
                for point in points:
                    out += [escape_md(point), ""]
            elif points:
                out += [f"- {escape_md(point)}" for point in points] + [""]
        out += [f"{section} Sources", ""]
        out += [f"- [{c.n}] {escape_md(source_line(c))}" for c in self.citations] or ["- none"]
        return "\n".join(out).rstrip() + "\n"

    def to_docx(self) -> bytes:
        """The memo as a Word document (python-docx): headings, a real options table and
        numbered sources naming document, section, page or slide."""
        from docx import Document
        from docx.shared import Pt

        doc = Document()
        doc.core_properties.title = self.title
        doc.core_properties.author = "CTO Advisor"
        doc.add_heading(self.title, level=0)
        doc.add_paragraph(self.byline()).runs[0].italic = True
        if self.note:
            doc.add_paragraph(self.note).runs[0].italic = True
        if self.conflicts:
            doc.add_paragraph("Figures that disagree: " + "; ".join(self.conflicts))
        for heading in SECTIONS:
            points = self.points(heading)
            if heading == OPEN_QUESTIONS and not points:
                continue
            doc.add_heading(heading, level=1)
            if heading == OPTIONS and self.options:
                table = doc.add_table(rows=1, cols=4)
                table.style = "Light Grid Accent 1"
                for cell, name in zip(table.rows[0].cells, ("Option", *COLUMN_TITLES), strict=True):
                    cell.text = name
                    cell.paragraphs[0].runs[0].bold = True
                for row in self.options:
                    cells = table.add_row().cells
                    for cell, text in zip(cells, [row.option, *row.cells()], strict=True):
                        cell.text = text
                        for run in cell.paragraphs[0].runs:
                            run.font.size = Pt(9)
            if heading == RECOMMENDATION and self.verdict:
                doc.add_paragraph(self.verdict).runs[0].italic = True
            style = None if heading in PROSE_SECTIONS else "List Bullet"
            for point in points:
                doc.add_paragraph(point, style=style)
        doc.add_heading("Sources", level=1)
        for c in self.citations:
            doc.add_paragraph(f"[{c.n}] {source_line(c)}")
        buf = io.BytesIO()
        doc.save(buf)
        return buf.getvalue()


# -- text helpers shared with the app (escape_md and neutralize_md live in core.sanitize) --------


def location(c: Citation | Passage) -> str:
    """Section path plus page or slide, e.g. 'Hiring > Order · p. 3'."""
    parts = [c.section] if c.section and c.section != c.title else []
    if c.page is not None:
        parts.append(f"p. {c.page}")
    if c.slide is not None:
        parts.append(f"slide {c.slide}")
    return " · ".join(parts)


def source_line(c: Citation) -> str:
    """One line naming a source: title, where in it, whose it is, and the file."""
    where = f" — {location(c)}" if location(c) else ""
    return f"{c.title or c.source}{where} ({scope_label(c.scope)}, {c.source})"
