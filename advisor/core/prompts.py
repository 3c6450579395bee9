"""Prompt templates live as files in `prompts/`: YAML front matter (description, inputs) + body."""

from __future__ import annotations

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
