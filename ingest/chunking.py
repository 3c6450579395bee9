"""Structure-aware chunking: sections by heading path, packed up to the model's token window."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from advisor.core.models import context_text
from ingest.parse import Block, ParsedDoc

SECTION_SEP = " > "
# A section this small (a heading and a short line) is merged into the next one.
TINY_TOKENS = 40
# Never let a long heading path squeeze the body below this.
MIN_BODY_TOKENS = 64

_NOISE = re.compile(
    r"^(?:page\s*\d+(?:\s*(?:of|/)\s*\d+)?|\d+\s*(?:of|/)\s*\d+|[\divxlc]{1,4}[.)]?|[\W_]+)$", re.I
)


@dataclass
class Draft:
    """A chunk before ids and file metadata are attached."""

    text: str
    section: str
    page: int | None
    tokens: int


@dataclass
class _Section:
    path: tuple[str, ...]
    page: int | None
    blocks: list[Block] = field(default_factory=list)


@dataclass
class _Open:
    label: tuple[str, ...]
    page: int | None
    parts: list[str]
    tokens: int
    budget: int
    sections: int = 1


def is_noise(text: str) -> bool:
    """Page numbers, lone digits and bare punctuation carry nothing worth retrieving."""
    return not text.strip() or bool(_NOISE.match(text.strip()))


def sections(doc: ParsedDoc) -> list[_Section]:
    """Group blocks under their heading path; paged documents also break at every page."""
    out: list[_Section] = []
    stack: list[tuple[int, str]] = []
    current = _Section((), None)
    title_seen = False
    for block in doc.blocks:
        if block.kind == "title":
            # The document title heads every chunk already; it is not a section of its own.
            if not title_seen and not stack and block.text == doc.title and not current.blocks:
                title_seen = True
                continue
            depth = block.depth or 0
            while stack and stack[-1][0] >= depth:
                stack.pop()
            stack.append((depth, block.text))
            _close(out, current)
            current = _Section(tuple(t for _, t in stack), block.page)
            continue
        if block.kind == "text" and is_noise(block.text):
            continue
        if doc.paging and current.blocks and block.page != current.page:
            _close(out, current)
            current = _Section(current.path, block.page)
        if current.page is None:
            current.page = block.page
        current.blocks.append(block)
    _close(out, current)
    return out


def _close(out: list[_Section], section: _Section) -> None:
    if section.blocks:
        out.append(section)
    elif section.path and (not out or out[-1].path != section.path):
        # A heading with no body: keep it as text so e.g. a title-only slide is still findable;
        # if a deeper section follows, the packer merges this tiny one into it.
        out.append(_Section(section.path, section.page, [Block("text", section.path[-1])]))


class Chunker:
    """Packs a parsed document's sections into drafts of at most `budget` tokens (with prefix)."""

    def __init__(
        self, budget: int, count: Callable[[str], int], max_chars: int | None = None
    ) -> None:
        self.budget = budget
        self.count = count
        self.max_chars = max_chars
        self._splitters: dict[int, object] = {}

    def body_budget(self, title: str, path: tuple[str, ...]) -> int:
        prefix = context_text(title, SECTION_SEP.join(path), "")
        return max(MIN_BODY_TOKENS, self.budget - self.count(prefix) - 1)

    def chunk(self, doc: ParsedDoc) -> list[Draft]:
        """Drafts in reading order."""
        drafts: list[Draft] = []
        cur: _Open | None = None
        for sec in sections(doc):
            budget = self.body_budget(doc.title, sec.path)
            pieces = self._pieces(sec, budget)
            if not pieces:
                continue
            size = sum(t for _, t in pieces)
            if cur is not None and _heading_only(cur) and sec.path[: len(cur.label)] == cur.label:
                cur = None  # the next section's path already names this bare heading
            if cur is not None and self._mergeable(cur, sec, size, budget):
                self._merge(cur, sec, pieces)
                continue
            carry: list[tuple[str, int]] = []
            if cur is not None:
                carry = self._carry(cur, sec)
                if carry is None:
                    drafts.append(_draft(cur))
                    carry = []
            cur = None
            for text, tokens in carry + pieces:
                if cur is not None and cur.tokens + tokens > cur.budget:
                    drafts.append(_draft(cur))
                    cur = None
                if cur is None:
                    cur = _Open(sec.path, sec.page, [], 0, budget)
                cur.parts.append(text)
                cur.tokens += tokens
        if cur is not None:
            drafts.append(_draft(cur))
        if self.max_chars:
            drafts = [part for draft in drafts for part in self._capped(draft)]
        return drafts

    def _capped(self, draft: Draft) -> list[Draft]:
        """The hard character cap: a draft over it (joined parts, a huge table cell) is cut."""
        if len(draft.text) <= self.max_chars:
            return [draft]
        return [
            Draft(piece, draft.section, draft.page, self.count(piece))
            for piece in cut(draft.text, self.max_chars)
        ]

    def _mergeable(self, cur: _Open, sec: _Section, size: int, budget: int) -> bool:
        if cur.page != sec.page:
            return False
        heads = sec.path[len(_common(cur.label, sec.path)) :]
        total = cur.tokens + size + sum(self.count(h) for h in heads)
        if total > min(cur.budget, budget):
            return False
        same_top = cur.label[:1] == sec.path[:1]
        # Across a top-level boundary only a tiny leftover (a heading and a line) is carried on.
        return same_top or (cur.sections == 1 and cur.tokens < TINY_TOKENS)

    def _carry(self, cur: _Open, sec: _Section) -> list[tuple[str, int]] | None:
        """A tiny open chunk as lines to lead the next section with, or None to keep it apart."""
        if cur.page != sec.page or cur.tokens >= TINY_TOKENS or cur.sections > 1:
            return None
        kept = _common(cur.label, sec.path)
        lines = list(cur.label[len(kept) :]) + cur.parts
        return [(line, self.count(line)) for line in lines]

    def _merge(self, cur: _Open, sec: _Section, pieces: list[tuple[str, int]]) -> None:
        label = _common(cur.label, sec.path)
        if not label and cur.label[:1] != sec.path[:1]:
            # A tiny preamble merged forward takes the next section's heading path.
            label = sec.path if not cur.label else ()
        lost = cur.label[len(label) :]
        if lost:
            cur.parts[:0] = list(lost)
            cur.tokens += sum(self.count(h) for h in lost)
        for head in sec.path[len(label) :]:
            cur.parts.append(head)
            cur.tokens += self.count(head)
        for text, tokens in pieces:
            cur.parts.append(text)
            cur.tokens += tokens
        cur.label = label
        cur.sections += 1

    def _pieces(self, sec: _Section, budget: int) -> list[tuple[str, int]]:
        """The section's content as (text, tokens) pieces, each within `budget`."""
        out: list[tuple[str, int]] = []
        for block in sec.blocks:
            if block.kind == "table" and block.rows:
                out.extend(self._table_pieces(block.rows, budget))
                continue
            tokens = self.count(block.text)
            if tokens <= budget:
                out.append((block.text, tokens))
            else:
                out.extend(self._split(block.text, budget))
        return out

    def _table_pieces(self, rows: list[list[str]], budget: int) -> list[tuple[str, int]]:
        # Every group of rows repeats the header, so each chunk reads as a small table.
        header, *body = [" | ".join(cells) for cells in rows]
        if not body:
            return (
                self._split(header, budget)
                if self.count(header) > budget
                else [(header, self.count(header))]
            )
        header_tokens = self.count(header)
        out: list[tuple[str, int]] = []
        group: list[str] = [header]
        tokens = header_tokens
        for line in body:
            line_tokens = self.count(line)
            if header_tokens + line_tokens > budget:
                if len(group) > 1:
                    out.append(("\n".join(group), tokens))
                group, tokens = [header], header_tokens
                out.extend(self._split(f"{header}\n{line}", budget))
                continue
            if tokens + line_tokens > budget:
                out.append(("\n".join(group), tokens))
                group, tokens = [header], header_tokens
            group.append(line)
            tokens += line_tokens
        if len(group) > 1:
            out.append(("\n".join(group), tokens))
        return out

    def _split(self, text: str, budget: int) -> list[tuple[str, int]]:
        if self.max_chars and len(text) > 2 * self.max_chars:
            # Pre-cut by characters: the splitter measures every candidate piece, which on a
            # 2.3 MB line without separators meant millions of token counts (110 s).
            # The first piece's token density sizes the rest, so most are tokenized once.
            sample = text[: self.max_chars]
            density = max(1, self.count(sample)) / len(sample)
            size = max(1, min(self.max_chars, int(budget / density * 0.9)))
            return [part for piece in cut(text, size) for part in self._fit(piece, budget)]
        return self._splits(text, budget)

    def _fit(self, text: str, budget: int) -> list[tuple[str, int]]:
        """Cut `text` by characters at its own token density until each piece fits `budget`."""
        tokens = self.count(text)
        if tokens <= budget or len(text) < 2:
            return [(text, tokens)]
        size = max(1, min(len(text) - 1, int(len(text) * budget / tokens * 0.9)))
        return [part for piece in cut(text, size) for part in self._fit(piece, budget)]

    def _splits(self, text: str, budget: int) -> list[tuple[str, int]]:
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        splitter = self._splitters.get(budget)
        if splitter is None:
            splitter = RecursiveCharacterTextSplitter(
                chunk_size=budget,
                chunk_overlap=0,
                length_function=self.count,
                separators=["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""],
                keep_separator="end",
            )
            self._splitters[budget] = splitter
        return [(p, self.count(p)) for p in splitter.split_text(text) if p.strip()]


def cut(text: str, limit: int) -> list[str]:
    """`text` in pieces of at most `limit` characters, broken at a paragraph, line, sentence or
    space in the second half of each piece when there is one."""
    out: list[str] = []
    while len(text) > limit:
        window = text[:limit]
        at = limit
        for sep in ("\n\n", "\n", ". ", " "):
            i = window.rfind(sep)
            if i >= limit // 2:
                at = i + len(sep)
                break
        out.append(text[:at])
        text = text[at:]
    out.append(text)
    return [piece for piece in out if piece.strip()]


def _heading_only(cur: _Open) -> bool:
    return bool(cur.label) and cur.parts == [cur.label[-1]]


def _common(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    n = 0
    while n < len(a) and n < len(b) and a[n] == b[n]:
        n += 1
    return a[:n]


def _draft(cur: _Open) -> Draft:
    return Draft("\n".join(cur.parts), SECTION_SEP.join(cur.label), cur.page, cur.tokens)
