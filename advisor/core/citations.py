"""The one citation-marker grammar: what a model may write to cite a numbered source, and how
each form becomes a canonical `[n]` (if `n` was shown) or disappears, even mid-stream.

Model output is untrusted. Every form below counts as a marker, so none can slip through:

    [1]   [1, 2]   [1;2]   [1-3] (a short range)   [^1] (footnote)   【1】 ［1］ (full-width)
    [7    an unclosed marker, at the end of the text or followed by anything but its closer

Anything that opens with `[`, `［` or `【`, optionally `^`, then a digit is a marker; the liberal
reading is deliberate: a stray "[7" left in an answer would read as a citation to a source the
reader was never shown. Text such as "[see below]" or "[]" is not a marker and is left alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator

# Character-class bodies, escaped ("[" and "-" mean themselves inside [...]).
_OPEN = re.escape("[［【")
_CLOSE = re.escape("]］】")
_SEP = re.escape(",;，；、")
_DASH = re.escape("-–")
_MAX_DIGITS = 6  # a longer "number" cannot name a shown source (and int() of a huge one is slow)
_MAX_RANGE = 20  # [1-3] expands; a wider "range" is read as its two ends
_MAX_ITEMS = 32  # items in one marker; the rest of a runaway list is plain text
_MAX_LEAD = 16  # spaces before a marker that go with it when it is removed (bounded: no O(n^2))

_ITEM = rf"\d+(?:[ \t]*[{_DASH}][ \t]*\d+)?"
MARKER = re.compile(
    rf"(?P<lead>[ \t]{{0,{_MAX_LEAD}}})[{_OPEN}]+\^?[ \t]*"
    rf"(?P<body>{_ITEM}(?:[ \t]*[{_SEP}][ \t]*{_ITEM}){{0,{_MAX_ITEMS - 1}}})"
    rf"(?:[ \t]*[{_CLOSE}])?"
)
# The end of a streamed text that a later delta could still turn into (part of) a marker: a run of
# spaces, then possibly an opener with nothing but digits, separators and spaces after it.
_UNFINISHED = re.compile(rf"[ \t]{{0,{_MAX_LEAD}}}(?:[{_OPEN}]+\^?[\d \t{_SEP}{_DASH}]*)?\Z")


def _strays_start(text: str) -> int:
    """Where the openers and carets at the end of `text` begin (with the spaces between them).
    A removed marker takes them along: "[ [0]7]" must not become "[7]", a marker the model never
    wrote, to a source it was never shown."""
    end = len(text)
    while True:
        k = end
        while k and text[k - 1] in " \t":
            k -= 1
        if not k or text[k - 1] not in "[［【^":
            return end
        end = k - 1


def _numbers(body: str) -> list[int]:
    """The source numbers a marker's body names, in order ([1-3] -> 1, 2, 3)."""
    out: list[int] = []
    for item in re.split(rf"[{_SEP}]", body):
        ends = [e.strip() for e in re.split(rf"[{_DASH}]", item)]
        values = [int(e) if len(e) <= _MAX_DIGITS else 0 for e in ends]  # 0 is never a source
        if len(values) == 2 and 0 < values[1] - values[0] <= _MAX_RANGE:
            out += range(values[0], values[1] + 1)
        else:
            out += values
    return out


def marker_numbers(text: str) -> list[int]:
    """Every number cited in `text`, in order of appearance (repeats included)."""
    return [n for m in MARKER.finditer(text) for n in _numbers(m.group("body"))]


def rewrite_markers(text: str, swap: Callable[[int], str]) -> str:
    """Rewrite every marker through `swap(number) -> marker text`; a marker whose numbers all
    swap to "" is removed with the spaces before it, so no gap is left before punctuation, and
    with the openers left just before it, so that no new marker forms."""

    out, last = [], 0
    for match in MARKER.finditer(text):
        prose = text[last : match.start()]
        new = "".join(swap(n) for n in dict.fromkeys(_numbers(match.group("body"))))
        out += [prose, match.group("lead"), new] if new else [prose[: _strays_start(prose)]]
        last = match.end()
    out.append(text[last:])
    return "".join(out)


def strip_markers(text: str, replacement: str = " ") -> str:
    """`text` without its citation markers."""
    return MARKER.sub(replacement, text)


class MarkerFilter:
    """Rewrites markers so that only valid source numbers remain, as canonical `[n]`; counts the
    numbers it removed. Fed a stream in any split, it yields exactly what `clean` gives whole."""

    def __init__(self, valid: Iterable[int]) -> None:
        self.valid = set(valid)
        self.invented = 0
        self._pending = ""

    def _swap(self, n: int) -> str:
        if n in self.valid:
            return f"[{n}]"
        self.invented += 1
        return ""

    def clean(self, text: str) -> str:
        """Fix a complete text in one go."""
        return rewrite_markers(text, self._swap)

    def feed(self, delta: str) -> str:
        """Text safe to show now. Held back: trailing spaces and an opener followed only by digits
        and separators ("[12, 1"), which the next delta may close; any other character ends it."""
        text = self._pending + delta
        # Openers just before the held-back part wait with it: should it turn out to be a marker
        # that is removed, they go with it, as in `rewrite_markers`.
        cut = _strays_start(text[: _UNFINISHED.search(text).start()])
        self._pending = text[cut:]
        return rewrite_markers(text[:cut], self._swap)

    def flush(self) -> str:
        """Whatever is still held back at the end of the stream."""
        text, self._pending = self._pending, ""
        return rewrite_markers(text, self._swap)

    def stream(self, deltas: Iterable[str]) -> Iterator[str]:
        for delta in deltas:
            out = self.feed(delta)
            if out:
                yield out
        rest = self.flush()
        if rest:
            yield rest
