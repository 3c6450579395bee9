"""Turning one file into a title and a flat list of blocks (headings, text, tables)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from advisor.core.errors import IngestError
from advisor.core.nlp import import_spacy, load_spacy
from ingest.files import read_text

LANGUAGES = ["eng"]
# Element categories that carry no content worth retrieving.
_DROP = {"PageNumber", "PageBreak", "Image", "Formula"}
# Kept unless they repeat on several pages: short pages put real text in the header band.
_RUNNING = {"Header", "Footer"}


@dataclass
class Block:
    """One unit of document structure: a heading, a run of text, or a table's rows."""

    kind: str  # "title" | "text" | "table"
    text: str
    depth: int | None = None  # heading level, 0 = top
    page: int | None = None  # PDF page or PPTX slide
    rows: list[list[str]] | None = None  # tables: header row first


@dataclass
class ParsedDoc:
    """A parsed file: its title, its blocks in reading order and what `page` means for it."""

    title: str
    blocks: list[Block]
    paging: str | None = None  # "page" (PDF), "slide" (PPTX) or None
    notes: list[str] = field(default_factory=list)


# -- spaCy: unstructured would download en_core_web_sm; we load the packaged copy instead ---------


def patch_spacy() -> None:
    """Point unstructured's spaCy loader at the installed model, so it never downloads one."""
    import_spacy()  # before unstructured imports spaCy itself: ours keeps torch out (~2 s)
    import unstructured.nlp.tokenize as tokenize

    if getattr(tokenize._get_nlp, "_advisor_patched", False):
        return

    @lru_cache(maxsize=1)
    def _get_nlp():
        return load_spacy(tokenize._SPACY_EXCLUDE)

    _get_nlp._advisor_patched = True  # type: ignore[attr-defined]
    tokenize._get_nlp = _get_nlp


def skip_narrative_classifier() -> None:
    """Stop the HTML parser asking spaCy whether each paragraph is narrative text.

    HTML and Markdown headings come from <h1>-<h6> tags, so the answer only picks NarrativeText
    over Text, which chunking treats alike; it cost ~80% of Markdown parse time on the dev corpus
    (37 s -> 6 s for 166 files). Plain text and PDF title detection still use spaCy.
    """
    import unstructured.partition.html.parser as html_parser

    if hasattr(html_parser, "is_possible_narrative_text"):
        html_parser.is_possible_narrative_text = _always_narrative


def _always_narrative(text: str, *args, **kwargs) -> bool:
    return True


# -- Markdown clean-up ---------------------------------------------------------------------------

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S)
# Site-generator template tags: ERB (Middleman) and Liquid/Nunjucks ({% include %}, {{ var }},
# used by Jekyll and Eleventy handbooks). They are build instructions, not content.
_TEMPLATE_TAG = r"(?:<%.*?%>|\{%.*?%\}|\{\{.*?\}\})"
_ERB_ONLY_LINE = re.compile(rf"^[ \t]*(?:{_TEMPLATE_TAG}[ \t]*)+\r?\n?", re.M)
_ERB = re.compile(_TEMPLATE_TAG, re.S)
_ADMONITION = re.compile(r'^(?:!!!|\?\?\?\+?)[ \t]*[\w-]+(?:[ \t]+"([^"]*)")?[ \t]*$')


def split_front_matter(text: str) -> tuple[dict, str]:
    """YAML front matter (as a dict, {} if absent or invalid) and the body after it."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        meta = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        meta = None
    return (meta if isinstance(meta, dict) else {}), text[match.end() :]


def _dedent_admonitions(text: str) -> str:
    # MkDocs `!!! note "Title"` blocks indent their body by 4 spaces, which Markdown reads as code.
    out: list[str] = []
    inside = False
    for line in text.split("\n"):
        match = _ADMONITION.match(line)
        if match:
            inside = True
            if match.group(1):
                out.append(f"**{match.group(1)}**")
            out.append("")
            continue
        if inside and (line.startswith("    ") or line.startswith("\t")):
            out.append(line[4:] if line.startswith("    ") else line[1:])
            continue
        if inside and line.strip():
            inside = False
        out.append(line)
    return "\n".join(out)


def clean_markdown(text: str) -> tuple[str | None, str]:
    """The front-matter title (if any) and the Markdown body without front matter or ERB tags."""
    meta, body = split_front_matter(text)
    title = meta.get("title")
    body = _ERB_ONLY_LINE.sub("", body)
    body = _ERB.sub("", body)
    body = _dedent_admonitions(body)
    return (str(title).strip() if title else None), body


# -- element conversion --------------------------------------------------------------------------


def _table_rows(element) -> list[list[str]] | None:
    html = getattr(element.metadata, "text_as_html", None)
    if not html:
        return None
    import lxml.html

    try:
        root = lxml.html.fromstring(html)
    except Exception:  # malformed table markup: fall back to the element's plain text
        return None
    rows = []
    for tr in root.iter("tr"):
        cells = [" ".join(c.text_content().split()) for c in tr if c.tag in ("td", "th")]
        if any(cells):
            rows.append(cells)
    return rows or None


def _running_key(text: str) -> str:
    """Running headers and footers differ only in their numbers (page 1 of 3, page 2 of 3)."""
    return re.sub(r"\d+", "#", " ".join(text.split()).lower())


def _page_edges(elements) -> set[int]:
    """ids of the first and last element of each page: where running headers and footers sit."""
    first: dict[object, int] = {}
    last: dict[object, int] = {}
    for el in elements:
        page = el.metadata.page_number
        first.setdefault(page, id(el))
        last[page] = id(el)
    return set(first.values()) | set(last.values())


def _maybe_running(el, edges: set[int]) -> bool:
    """Short text at the top or bottom of a page: a running line if it recurs on other pages."""
    return id(el) in edges and el.category not in ("Title", "Table") and len(el.text or "") <= 120


def to_blocks(elements, *, paged: bool) -> list[Block]:
    """Map unstructured elements to blocks, dropping page furniture and empty text."""
    blocks: list[Block] = []
    elements = list(elements)
    edges = _page_edges(elements) if paged else set()
    pages_by_text: dict[str, set] = {}
    for el in elements:
        if el.category in _RUNNING or _maybe_running(el, edges):
            key = _running_key(el.text or "")
            pages_by_text.setdefault(key, set()).add(el.metadata.page_number)
    for el in elements:
        category = el.category
        text = (el.text or "").strip()
        if category in _DROP or (not text and category != "Table"):
            continue
        repeats = len(pages_by_text.get(_running_key(text), ())) > 1
        if category in _RUNNING and (not paged or repeats):
            continue
        if _maybe_running(el, edges) and repeats:
            continue  # a footer the parser took for text ("Acme report - page 2 of 3")
        page = el.metadata.page_number if paged else None
        if category == "Table":
            rows = _table_rows(el)
            if not rows and not text:
                continue
            blocks.append(Block("table", text, page=page, rows=rows))
        elif category == "Title":
            blocks.append(Block("title", text, depth=el.metadata.category_depth, page=page))
        else:
            blocks.append(Block("text", text, page=page))
    return blocks


def _humanize(path: Path) -> str:
    stem = path.name.split(".")[0] or path.name
    return re.sub(r"[-_]+", " ", stem).strip().capitalize() or path.name


def _leading_title(blocks: list[Block], max_depth: int = 0) -> str | None:
    for block in blocks[:3]:
        if block.kind == "title" and (block.depth or 0) <= max_depth:
            return block.text
        if block.kind != "title":
            break
    return None


# -- per-format parsers --------------------------------------------------------------------------


def _parse_md(path: Path) -> ParsedDoc:
    from unstructured.partition.md import partition_md

    raw, note = read_text(path)
    title, body = clean_markdown(raw)
    elements = partition_md(text=body, languages=LANGUAGES) if body.strip() else []
    blocks = to_blocks(elements, paged=False)
    title = title or _leading_title(blocks) or _humanize(path)
    return ParsedDoc(title, blocks, notes=[note] if note else [])


_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.S | re.I)


def _parse_html(path: Path) -> ParsedDoc:
    import html as htmllib

    from unstructured.partition.html import partition_html

    raw, note = read_text(path)
    notes = [note] if note else []
    elements = partition_html(text=raw, languages=LANGUAGES) if raw.strip() else []
    blocks = to_blocks(elements, paged=False)
    if not blocks and raw.strip():
        blocks = _html_text(raw)
        if blocks:
            notes.append("markup nested too deeply for structure: read as plain text")
    match = _HTML_TITLE.search(raw)
    head_title = " ".join(htmllib.unescape(match.group(1)).split()) if match else None
    title = head_title or _leading_title(blocks) or _humanize(path)
    return ParsedDoc(title, blocks, notes=notes)


def _html_text(raw: str) -> list[Block]:
    """The visible text of HTML that unstructured returned nothing for.

    libxml2 stops at 256 levels of nesting and unstructured then finds no text at all; with
    huge_tree it reads up to 2,048 levels. Scripts and styles are dropped, never indexed.
    """
    from lxml import etree

    try:
        parser = etree.HTMLParser(huge_tree=True, remove_comments=True, remove_pis=True)
        root = etree.fromstring(raw.encode("utf-8", errors="replace"), parser)
    except (etree.LxmlError, ValueError):
        return []
    if root is None:
        return []
    etree.strip_elements(root, "script", "style", "noscript", "head", with_tail=False)
    texts = (" ".join(t.split()) for t in root.itertext())
    return [Block("text", t) for t in texts if t]


# Past this line length, plain text is split into paragraphs without unstructured: its title
# and list heuristics run spaCy over each element (a 2.3 MB one-line file: 69 s to parse).
LONG_LINE_CHARS = 20_000


def _parse_text(path: Path) -> ParsedDoc:
    from unstructured.partition.text import partition_text

    raw, note = read_text(path)
    notes = [note] if note else []
    if any(len(line) > LONG_LINE_CHARS for line in raw.splitlines()):
        paragraphs = (p.strip() for p in re.split(r"\n\s*\n", raw))
        blocks = [Block("text", p) for p in paragraphs if p]
        notes.append("very long lines: read as plain paragraphs, without heading detection")
        return ParsedDoc(_humanize(path), blocks, notes=notes)
    elements = partition_text(text=raw, languages=LANGUAGES) if raw.strip() else []
    blocks = to_blocks(elements, paged=False)
    return ParsedDoc(_humanize(path), blocks, notes=notes)


def _check_pdf(path: Path) -> str | None:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path), strict=False)
        if reader.is_encrypted:
            raise IngestError("encrypted PDF: remove the password and re-ingest")
        info = reader.metadata
        title = (info.title or "").strip() if info else ""
    except IngestError:
        raise
    except (PdfReadError, ValueError, KeyError, OSError) as exc:
        raise IngestError(f"corrupt PDF ({exc}): re-export or repair the file") from exc
    # Producer-generated titles ("Microsoft Word - x.docx") are worse than none.
    if not title or title.lower().startswith("microsoft") or re.search(r"\.\w{2,4}$", title):
        return None
    return title


def _parse_pdf(path: Path) -> ParsedDoc:
    from unstructured.partition.pdf import partition_pdf

    meta_title = _check_pdf(path)
    elements = partition_pdf(
        filename=str(path), strategy="fast", languages=LANGUAGES, infer_table_structure=False
    )
    blocks = to_blocks(elements, paged=True)
    # unstructured's PDF titles carry no depth: every heading is a top-level section.
    for block in blocks:
        if block.kind == "title":
            block.depth = 0
    title = meta_title or _leading_title(blocks) or _humanize(path)
    return ParsedDoc(title, blocks, paging="page")


# Placeholder titles that Office and converters write into document properties.
_GENERIC_TITLES = {"word document", "document", "untitled", "microsoft word document", "title"}


def _parse_docx(path: Path) -> ParsedDoc:
    from unstructured.partition.docx import partition_docx

    elements = partition_docx(filename=str(path), languages=LANGUAGES)
    blocks = to_blocks(elements, paged=False)
    core_title = None
    try:
        import docx

        core_title = (docx.Document(str(path)).core_properties.title or "").strip() or None
    except Exception:  # core properties are optional; the body already parsed
        core_title = None
    if core_title and core_title.lower() in _GENERIC_TITLES:
        core_title = None
    title = core_title or _leading_title(blocks) or _humanize(path)
    return ParsedDoc(title, blocks)


def _parse_pptx(path: Path) -> ParsedDoc:
    from unstructured.partition.pptx import partition_pptx

    elements = partition_pptx(filename=str(path), languages=LANGUAGES)
    blocks = to_blocks(elements, paged=True)
    first = next((b for b in blocks if b.kind == "title"), None)
    title = first.text if first and first.page == 1 else _humanize(path)
    return ParsedDoc(title, blocks, paging="slide")


def _parse_xlsx(path: Path) -> ParsedDoc:
    from unstructured.partition.xlsx import partition_xlsx

    elements = partition_xlsx(
        filename=str(path), find_subtable=False, include_header=True, languages=LANGUAGES
    )
    blocks: list[Block] = []
    for el in elements:
        sheet = getattr(el.metadata, "page_name", None)
        if sheet:
            blocks.append(Block("title", str(sheet), depth=0))
        blocks.extend(to_blocks([el], paged=False))
    return ParsedDoc(_humanize(path), blocks)


def _parse_csv(path: Path) -> ParsedDoc:
    from unstructured.partition.csv import partition_csv

    elements = partition_csv(filename=str(path), include_header=True, languages=LANGUAGES)
    return ParsedDoc(_humanize(path), to_blocks(elements, paged=False))


_PARSERS = {
    "md": _parse_md,
    "html": _parse_html,
    "text": _parse_text,
    "pdf": _parse_pdf,
    "docx": _parse_docx,
    "pptx": _parse_pptx,
    "xlsx": _parse_xlsx,
    "csv": _parse_csv,
}


def parse_file(path: Path, kind: str) -> ParsedDoc:
    """Parse `path` as `kind`; a file that cannot be read raises IngestError with the reason."""
    patch_spacy()
    skip_narrative_classifier()
    try:
        return _PARSERS[kind](Path(path))
    except IngestError:
        raise
    except MemoryError:
        raise
    except Exception as exc:  # parsers raise anything from zipfile to lxml errors
        detail = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise IngestError(f"could not parse as {kind.upper()}: {detail}") from exc
