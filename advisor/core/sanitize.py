"""The one mechanism that makes what we emit inert, whatever documents, names or models put in it.

Two layers, used by every output route (REST, the OpenAI-compatible endpoint, MCP, the CLI, the
app, the Word exports):

- `plain(text)`: for any text at all. Removes terminal escape sequences (CSI, OSC such as
  `ESC ] 52` clipboard writes, `ESC ] 8` hidden links, `ESC ] 0` window titles; DCS/APC/PM/SOS, their
  8-bit forms), the other control characters (a lone carriage return or backspace overwrites what
  a terminal shows), bidi embeddings, overrides and isolates (which make `evil\u202egnp.exe` read
  as `evilexe.png`), invisible Unicode tag characters, characters XML cannot hold (python-docx
  refuses them) and lone surrogates (undecodable file names), which crash an encoder.
- `markdown(text, allowed)`: text that a Markdown renderer (a chat UI, the app) shows without
  making a request or running script. Images and links are kept only when their URL's origin is in
  `allowed` (the operator's `ADVISOR_ALLOWED_LINK_ORIGINS`, empty by default): otherwise an image
  becomes its alt text and a link its text; raw HTML (`<img>`, `<script>`, comments, autolinks) is
  escaped; link reference definitions and footnote definitions, which can turn any later `[1]` into
  a link, are broken; a bare URL to another origin is shown as code, which no renderer links.
  `MarkdownStream` does the same to text that arrives in pieces: it holds back only a construct
  that is not finished yet (an image whose URL has not arrived, a word that may become a URL), so
  streaming a reply in any split gives exactly `markdown()` of the whole.

The rules are conservative on purpose: where this scanner and a renderer might disagree (nested
brackets, code spans that a table row would split), the text is escaped rather than trusted.
Benign text passes through unchanged, so citation markers `[1]` and formatting survive.
`escape_md` (document text shown as literal text inside our own Markdown) lives here too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

# -- plain text -----------------------------------------------------------------------------------

_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]?"  # CSI (colours, cursor moves, erase)
    r"|\x1b\][^\x07\x1b\n]*(?:\x07|\x1b\\)?"  # OSC: titles, hyperlinks, clipboard
    r"|\x1b[PX^_][^\x1b\n]*(?:\x1b\\)?"  # DCS, SOS, PM, APC
    r"|\x1b[ -/]*[0-~]?"  # any other escape, or a lone ESC
    r"|\x9b[0-?]*[ -/]*[@-~]?"  # 8-bit CSI
    r"|\x9d[^\x07\x9c\n]*[\x07\x9c]?"  # 8-bit OSC
    r"|[\x90\x98\x9e\x9f][^\x9c\n]*\x9c?"  # 8-bit DCS, SOS, PM, APC
)
# C0 controls but tab and newline, DEL, C1; bidi embeddings/overrides (LRE..RLO) and isolates
# (LRI..PDI); tag characters (invisible text); noncharacters XML refuses; lone surrogates.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufffe\uffff\U000e0000-\U000e007f]"
)
_SURROGATE = re.compile("[\ud800-\udfff]")
_LINE_BREAKS = re.compile("\r\n?|[\u2028\u2029\x85]")


def plain(text: Any) -> str:
    """`text` with nothing a terminal, a file viewer or an XML writer would act on or choke on."""
    text = str(text if text is not None else "")
    if text.isascii() and text.isprintable():
        return text  # the common case, at no cost
    text = _SURROGATE.sub("\ufffd", text)
    text = _LINE_BREAKS.sub("\n", text)
    text = _ESCAPES.sub("", text)
    return _INVISIBLE.sub("", text)


def one_line(text: Any) -> str:
    """`plain` text on one line (names, titles, table cells in a terminal)."""
    return " ".join(plain(text).split())


def json_text(data: Any, **kwargs: Any) -> str:
    """JSON whose strings keep their exact value but cannot act on a terminal: the characters
    `plain` removes are written as \\uXXXX escapes (json.dumps escapes only U+0000-U+001F)."""
    text = json.dumps(data, ensure_ascii=False, **kwargs)
    return re.sub(
        "[\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029\ufffe\uffff\ud800-\udfff]"
        "|[\U000e0000-\U000e007f]",
        lambda m: "".join(f"\\u{u:04x}" for u in _utf16(m.group())),
        text,
    )


def _utf16(char: str) -> Iterable[int]:
    code = ord(char)
    if code < 0x10000:
        return (code,)
    code -= 0x10000
    return (0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF))


# -- Markdown -------------------------------------------------------------------------------------


# Inline syntax: emphasis, code, links and images, HTML, entities, tables, math, strikethrough.
_INLINE = re.compile(r"([\\`*_\[\]<>$~|!&#])")
# Block syntax at the start of the text: headings, quotes, list items, thematic breaks.
_BLOCK = re.compile(r"^(\s*)([-+=>]|\d{1,9}(?=[.)](?:\s|$)))")


def escape_md(text: Any) -> str:
    """Document text as inert Markdown: no links, images, HTML, math or headings; [n] stays.

    Only where text is rendered as Markdown (the Markdown exports, the app's Markdown widgets):
    the DOCX, the CSV and the terminal carry the text unchanged. Escaping follows CommonMark: a
    backslash escapes only ASCII punctuation, so a digit is never escaped ("6." at the start
    becomes "6\\.", not "\\6.", which a renderer would show with its backslash). A word
    holding a URL is shown as code, exactly as written, so that no renderer loads or links it."""
    words = " ".join(plain(text).split()).split(" ")
    text = " ".join(code_span(w) if _URL_LIKE.search(w) else _escape_word(w) for w in words)
    m = _BLOCK.match(text)
    if m and m.group(2)[0].isdigit():  # "6. Add a check": escape the dot, never the digit
        return f"{text[: m.end()]}\\{text[m.end() :]}"
    if m:
        return f"{m.group(1)}\\{text[m.start(2) :]}"
    return text


def _escape_word(text: str) -> str:
    text = _INLINE.sub(r"\\\1", text)
    # Keep citation markers readable, unless they could start a link or a link definition.
    return re.sub(r"\\\[(\d{1,3})\\\](?![(:])", r"[\1]", text)


def neutralize_md(text: Any) -> str:
    """Keep Markdown emphasis and lists but disable links, images, HTML, math and strikethrough.

    Works character by character, so it is safe on streamed deltas.
    """
    return re.sub(r"([\\$\[\]<~])", r"\\\1", plain(text))


def code_span(text: Any) -> str:
    """`text` as one inline code span, whatever backticks it holds (a name cannot break out)."""
    text = one_line(text)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def origin(url: str) -> str | None:
    """`scheme://host[:port]` of an absolute http(s) URL written plainly, else None.

    Anything a renderer might decode differently from us (entities, backslashes, user info,
    spaces, quotes) gives None, so it can never pass for an allowed origin.
    """
    if not re.fullmatch(r"(?i:https?)://[A-Za-z0-9.-]+(?::\d{1,5})?(?:[/?#][^\s\\<>\"'`]*)?", url):
        return None
    if re.search(r"&#?\w+;", url):
        return None
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        return None
    port = parts.port
    default = {"http": 80, "https": 443}[parts.scheme.lower()]
    return f"{parts.scheme.lower()}://{host}" + (f":{port}" if port and port != default else "")


def allowed_origins(values: Iterable[str]) -> frozenset[str]:
    """The operator's allowed origins, normalised like `origin` (bad entries are ignored)."""
    out = set()
    for value in values:
        found = origin(value.strip().rstrip("/") + "/")
        if found:
            out.add(found)
    return frozenset(out)


_FENCE = re.compile(r"(`{3,}|~{3,})([^\n]*)")
_TRAILING = ".,;:!?'\")*_~>"
_MAX_CONSTRUCT = 4000  # a link longer than this is not waited for: its bracket is escaped


class MarkdownStream:
    """Feed pieces of Markdown, get back safe Markdown; `close()` flushes what was held back."""

    def __init__(self, allowed: Iterable[str] = ()) -> None:
        self.allowed = frozenset(allowed)
        self._raw = ""  # received, not yet through `plain` (an escape sequence may be cut)
        self._pending = ""  # plain text not yet decided on
        self._fence: str | None = None  # the fence of an open top-level fenced code block
        self._line_start = True  # `_pending` begins at the start of a line
        self._last = ""  # the last character written (by an earlier piece too)

    def feed(self, piece: str) -> str:
        self._raw += str(piece)
        cut = len(self._raw)
        last = max(self._raw.rfind(c) for c in "\x1b\x9b\x9d\x90\x98\x9e\x9f\r")
        if last >= 0:
            m = _ESCAPES.match(self._raw, last)
            if self._raw[last] == "\r" or (m and m.end() == len(self._raw)):
                cut = last  # an escape sequence (or CR LF) that may go on in the next piece
        self._pending += plain(self._raw[:cut])
        self._raw = self._raw[cut:]
        return self._drain(final=False)

    def close(self) -> str:
        self._pending += plain(self._raw)
        self._raw = ""
        return self._drain(final=True)

    # -- the scanner ------------------------------------------------------------------------

    def _drain(self, final: bool) -> str:
        out: list[str] = []
        text, i = self._pending, 0
        while i < len(text):
            step = self._line(text, i, final, out) if self._line_start else i
            if step is None:
                break  # a line start we cannot judge yet
            if step == i:
                step = self._inline(text, i, final, out)
                if step is None:
                    break  # an unfinished construct: wait for more text
            i = step
        self._pending = text[i:]
        done = "".join(out)
        self._last = done[-1:] or self._last
        return done

    def _line(self, text: str, i: int, final: bool, out: list[str]) -> int | None:
        """At a line start: a top-level fenced code block (column 0 only, where every renderer
        agrees it is one) is copied as it is; its info string keeps only a language name."""
        end = text.find("\n", i)
        if end < 0 and not final:
            partial = text[i:]
            if self._fence is not None or re.match(r"`{0,2}$|~{0,2}$|`{3,}|~{3,}", partial):
                return None  # a fence line is judged once it is complete
        stop = end + 1 if end >= 0 else len(text)
        line = text[i : end if end >= 0 else len(text)]
        if self._fence is not None:
            fence = line.strip(" ")
            indent = len(line) - len(line.lstrip(" "))
            if indent <= 3 and fence.startswith(self._fence) and set(fence) == {self._fence[0]}:
                self._fence = None
            out.append(text[i:stop])
            self._line_start = end >= 0
            return stop
        m = _FENCE.match(line)
        if m and not (m.group(1)[0] == "`" and "`" in m.group(2)):
            self._fence = m.group(1)
            info = re.sub(r"[^\w+.#-]", "", m.group(2))  # a language name, nothing else
            out.append(m.group(1) + info + ("\n" if end >= 0 else ""))
            self._line_start = end >= 0
            return stop
        self._line_start = False
        return i

    def _inline(self, text: str, i: int, final: bool, out: list[str]) -> int | None:
        c = text[i]
        if c == "\n":
            out.append(c)
            self._line_start = True
            return i + 1
        if c == "\\":
            if i + 1 >= len(text):
                return None if not final else _emit(out, "\\\\", i + 1)
            if text[i + 1] in _PUNCTUATION:
                return _emit(out, text[i : i + 2], i + 2)
            # A literal backslash, written escaped so that it cannot escape what we write next.
            return _emit(out, "\\\\", i + 1)
        if c == "`":
            return self._code(text, i, final, out)
        if c in "<]!" and i + 1 >= len(text) and not final:
            return None
        if c == "<":
            nxt = text[i + 1 : i + 2]
            return _emit(out, "\\<" if nxt and (nxt.isalpha() or nxt in "/!?") else "<", i + 1)
        if c == "]":
            # `]:` ends a link or footnote definition label; `](` an inline link we did not build.
            return _emit(out, "\\]" if text[i + 1 : i + 2] in (":", "(") else "]", i + 1)
        if c == "!" and text.startswith("![", i):
            return self._bracket(text, i + 1, final, out, image=True)
        if c == "[":
            return self._bracket(text, i, final, out, image=False)
        if c.isalnum():
            # A word, and what follows it up to a space: a URL if it holds `://` or `www.`
            # (some renderers link `xhttps://...` from the middle of a word).
            j = i
            while j < len(text) and not text[j].isspace() and text[j] != "<":
                j += 1
            if j == len(text) and not final:
                return None  # the word may go on (and become a URL)
            if _URL_LIKE.search(text, i, j):
                return self._url(text[i:j], out, j)
            k = i + 1
            while k < j and text[k].isalnum():
                k += 1
            return _emit(out, text[i:k], k)
        j = i + 1
        while j < len(text) and text[j] not in _SPECIAL and not text[j].isalnum():
            j += 1
        return _emit(out, text[i:j], j)

    def _code(self, text: str, i: int, final: bool, out: list[str]) -> int | None:
        """A code span on one line is copied as it is, unless a table row could split it."""
        run = re.match(r"`+", text[i:]).end()
        line_end = text.find("\n", i)
        limit = line_end if line_end >= 0 else len(text)
        if i + run == len(text) and not final:
            return None  # the run itself may grow
        for m in re.finditer(r"`+", text[i + run : limit]):
            if i + run + m.end() == len(text) and not final:
                return None  # a closing run at the end may still grow
            if len(m.group()) == run:
                if "|" in text[i + run : i + run + m.start()]:
                    break  # a GFM table cell boundary would cut it: scan it as text
                return _emit(out, text[i : i + run + m.end()], i + run + m.end())
        else:
            if line_end < 0 and not final:
                return None  # the closing run may still come on this line
        # Literal backticks, escaped so that they cannot join a code span written after them.
        return _emit(out, "\\`" * run, i + run)

    def _bracket(self, text: str, i: int, final: bool, out: list[str], image: bool) -> int | None:
        """`[` at i (after `!` for an image): an inline link or image is rebuilt if its URL is
        allowed, else reduced to its text; a bracket that is not one stays literal text."""
        opener = "!\\[" if image else "\\["
        waiting = not final and len(text) - i < _MAX_CONSTRUCT
        close = _matching_bracket(text, i)
        if close is None:
            if waiting and "\n\n" not in text[i:]:
                return None
            return _emit(out, opener, i + 1)
        after = text[close + 1 : close + 2]
        if not after and not final:
            return None
        if after != "(":
            # `![alt]`, `[1]`, `[a][b]`: no definition survives, so these are only text.
            return _emit(out, opener if image else "[", i + 1)
        parsed = _destination(text, close + 2)
        if parsed is None and waiting:
            return None  # the destination has not arrived yet
        if not parsed:  # `](` that is no link: keep it inert
            return _emit(out, opener, i + 1)
        url, title, end = parsed
        inner = _sub(text[i + 1 : close], self.allowed)
        if origin(url) not in self.allowed:
            return _emit(out, inner, end)
        title = f' "{escape_md(title)}"' if title else ""
        return _emit(out, f"{'!' if image else ''}[{inner}]({url}{title})", end)

    def _url(self, word: str, out: list[str], step: int) -> int:
        """A bare URL (GFM renderers link them) to an origin not allowed is shown as code."""
        core = word.rstrip(_TRAILING)
        while core.endswith(")") and core.count("(") < core.count(")"):
            core = core[:-1]
        tail = _sub(word[len(core) :], self.allowed)
        if origin(core) in self.allowed:  # an autolink: no linkifier can run it into what follows
            return _emit(out, f"<{core}>{tail}", step)
        # A space keeps the code span from merging with a backtick written just before it.
        gap = " " if ("".join(out[-1:]) or self._last).endswith("`") else ""
        return _emit(out, gap + code_span(core) + tail, step)


_PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
_SPECIAL = "\n\\`<![]"
_URL_LIKE = re.compile(r"(?i)://|www\.")


def _emit(out: list[str], piece: str, step: int) -> int:
    out.append(piece)
    return step


def _matching_bracket(text: str, i: int) -> int | None:
    """The `]` closing the `[` at i (nesting, escapes and code spans respected), or None."""
    depth, j = 0, i
    while j < len(text) and j - i < _MAX_CONSTRUCT:
        c = text[j]
        if c == "\\":
            j += 2
            continue
        if c == "`":
            run = re.match(r"`+", text[j:]).end()
            close = text.find("`" * run, j + run)
            j = close + run if close >= 0 and "\n\n" not in text[j:close] else j + run
            continue
        if text.startswith("\n\n", j):
            return None
        if c == "[":
            depth += 1
        elif c == "]":
            depth -= 1
            if depth == 0:
                return j
        j += 1
    return None


def _destination(text: str, i: int) -> tuple[str, str, int] | bool | None:
    """An inline link's `(url "title")` from i (just after `(`): (url, title, end), False when
    it is not a valid destination, None when it is not complete yet."""
    j = i
    while j < len(text) and text[j] in " \t\n":
        j += 1
    if j >= len(text):
        return None
    if text[j] == "<":
        close = text.find(">", j)
        if close < 0:
            return None if "\n" not in text[j:] else False
        url, j = text[j + 1 : close], close + 1
    else:
        depth, k = 0, j
        while k < len(text) and not text[k].isspace():
            ch = text[k]
            if ch == "\\":
                k += 2
                continue
            if ch == "(":
                depth += 1
            elif ch == ")":
                if depth == 0:
                    break
                depth -= 1
            k += 1
        if k >= len(text):
            return None
        url, j = text[j:k], k
    while j < len(text) and text[j] in " \t\n":
        j += 1
    if j >= len(text):
        return None
    title = ""
    if text[j] in "\"'(":
        closer = {"(": ")"}.get(text[j], text[j])
        close = text.find(closer, j + 1)
        if close < 0:
            return None if len(text) - j < _MAX_CONSTRUCT else False
        title, j = text[j + 1 : close], close + 1
        while j < len(text) and text[j] in " \t\n":
            j += 1
        if j >= len(text):
            return None
    if text[j] != ")":
        return False
    return url, title, j + 1


def _sub(text: str, allowed: frozenset[str]) -> str:
    """Safe Markdown of a finished fragment (link text, a URL's tail)."""
    stream = MarkdownStream(allowed)
    stream._line_start = False
    return stream.feed(text) + stream.close()


def markdown(text: Any, allowed: Iterable[str] = ()) -> str:
    """Safe Markdown of a whole text: `MarkdownStream` fed it in one piece."""
    stream = MarkdownStream(allowed)
    return stream.feed(str(text if text is not None else "")) + stream.close()


def clean_model(value: Any) -> Any:
    """Every string inside a record (pydantic models, lists, dicts) made `plain`, in place."""
    from pydantic import BaseModel

    if isinstance(value, str):
        return plain(value)
    if isinstance(value, list):
        value[:] = [clean_model(v) for v in value]
    elif isinstance(value, dict):
        for key in list(value):
            value[key] = clean_model(value[key])
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            current = getattr(value, name)
            cleaned = clean_model(current)
            if cleaned is not current:
                object.__setattr__(value, name, cleaned)
    return value
