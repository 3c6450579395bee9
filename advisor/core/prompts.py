"""Prompt templates live as files in `prompts/`: YAML front matter (description, inputs) + body."""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

import yaml

from advisor.core.errors import ConfigError

if TYPE_CHECKING:
    from langchain_core.prompts import PromptTemplate

PROMPTS_PACKAGE = "prompts"  # the top-level prompts/ folder, installed as package data


@dataclass(frozen=True)
class Prompt:
    """A loaded template that knows which inputs it needs."""

    name: str
    description: str
    template: PromptTemplate  # imported when a prompt is loaded: ~0.3 s an offline `ask` skips

    def render(self, **inputs: str) -> str:
        """The prompt text with every declared input filled in."""
        return self.template.format(**inputs)


@cache
def load_prompt(name: str) -> Prompt:
    """Read and check `prompts/<name>.md` (front matter must list exactly its inputs)."""
    path = resources.files(PROMPTS_PACKAGE) / f"{name}.md"
    if not path.is_file():
        raise ConfigError(
            f"prompt file {name}.md is missing from the {PROMPTS_PACKAGE!r} package: reinstall "
            "cto-advisor (or restore prompts/ from the repository)"
        )
    from langchain_core.prompts import PromptTemplate

    text = path.read_text(encoding="utf-8")
    meta: dict = {}
    if text.startswith("---\n"):
        head, _, text = text[4:].partition("\n---\n")
        meta = yaml.safe_load(head) or {}
    template = PromptTemplate.from_template(text.strip() + "\n")
    declared = set(meta.get("inputs") or [])
    if declared != set(template.input_variables):
        raise ConfigError(
            f"prompt {path} declares inputs {sorted(declared)} but uses "
            f"{sorted(template.input_variables)}: make the front matter match the template"
        )
    return Prompt(name=name, description=str(meta.get("description", "")), template=template)


# -- untrusted text inside prompts -------------------------------------------------------------
# Document text (bodies, titles, headings, file names) and the conversation are data written by
# other people. They enter a prompt only inside a fence whose closing line carries a random tag
# drawn per request, so no text known in advance can close it; and they are made inert first.

FIELD_CHARS = 300  # a title, heading or file name longer than this is cut
_ANGLES = re.compile(r"[<>]{3,}")  # runs that look like our fence lines
_SPACE = re.compile(r"\s+")


def new_boundary() -> str:
    """A fresh random tag for one request's fences."""
    return secrets.token_hex(8)


def inert(text: object, one_line: bool = False) -> str:
    """`text` safe to place in a prompt: no control, zero-width or bidi characters, no fence-like
    runs of angle brackets; with `one_line`, newlines collapse (so a title cannot start a fake
    `SYSTEM:` line) and the length is capped."""
    text = "".join(
        ch
        for ch in str(text or "")
        if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Co", "Cs")
    )
    text = _ANGLES.sub(lambda m: " ".join(m.group()), text)
    if one_line:
        text = _SPACE.sub(" ", text).strip()
        if len(text) > FIELD_CHARS:
            text = text[:FIELD_CHARS] + " ..."
    return text


def fence(label: str, text: str, boundary: str) -> str:
    """`text` (made inert) between an opening and a closing line that carry `boundary`."""
    return f"<<<{label} {boundary}\n{inert(text)}\n{label} {boundary}>>>"
