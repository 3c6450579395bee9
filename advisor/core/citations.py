"""`[n]` markers: keep those that resolve to a numbered source, drop and count invented ones,
even while the text is still streaming."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

MARKER = re.compile(r"\[(\d{1,3}(?:\s*[,;]\s*\d{1,3})*)\]")
_OPEN_MAX = 16  # longest "[...]" we wait for before deciding it is not a marker


def marker_numbers(text: str) -> list[int]:
    """Every number cited in `text`, in order of appearance (repeats included)."""
    return [int(n) for m in MARKER.finditer(text) for n in re.split(r"[,;]", m.group(1))]


def strip_markers(text: str, replacement: str = " ") -> str:
    """`text` without its citation markers."""
    return MARKER.sub(replacement, text)


def renumber_markers(text: str, swap) -> str:
    """Rewrite every marker through `swap(old_number) -> new marker text` ("" drops it)."""

    def _one(match: re.Match) -> str:
        return "".join(swap(int(n)) for n in re.split(r"[,;]", match.group(1)))

    return MARKER.sub(_one, text)


class MarkerFilter:
    """Rewrites markers so that only valid source numbers remain; counts what it removed."""

    def __init__(self, valid: Iterable[int]) -> None:
        self.valid = set(valid)
        self.invented = 0
        self._pending = ""

    def _fix(self, match: re.Match) -> str:
        numbers = [int(n) for n in re.split(r"[,;]", match.group(1))]
        kept = [n for n in numbers if n in self.valid]
        self.invented += len(numbers) - len(kept)
        return "".join(f"[{n}]" for n in kept)

    def clean(self, text: str) -> str:
        """Fix a complete text in one go."""
        return re.sub(r"[ \t]+([.,;:])", r"\1", MARKER.sub(self._fix, text))

    def feed(self, delta: str) -> str:
        """Text safe to show now; an unfinished "[12" is held back until it closes."""
        text = self._pending + delta
        cut = text.rfind("[")
        if cut != -1 and "]" not in text[cut:] and len(text) - cut < _OPEN_MAX:
            self._pending, text = text[cut:], text[:cut]
        else:
            self._pending = ""
        return MARKER.sub(self._fix, text)

    def flush(self) -> str:
        """Whatever is still held back at the end of the stream."""
        text, self._pending = self._pending, ""
        return MARKER.sub(self._fix, text)

    def stream(self, deltas: Iterable[str]) -> Iterator[str]:
        for delta in deltas:
            out = self.feed(delta)
            if out:
                yield out
        rest = self.flush()
        if rest:
            yield rest
