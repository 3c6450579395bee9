"""The CTO's practice checklist: a YAML file of areas and practices, each tied to a playbook passage."""

from __future__ import annotations

import re
from collections import OrderedDict
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from advisor.core.errors import ConfigError
from advisor.core.models import Passage

_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")


class Target(BaseModel):
    """A measurable bound: a client document stating `unit` on the wrong side contradicts it."""

    min: float | None = None
    max: float | None = None
    unit: str

    @model_validator(mode="after")
    def _one_bound(self) -> Target:
        if (self.min is None) == (self.max is None):
            raise ValueError("a target has exactly one of min or max")
        return self

    def violated_by(self, value: float) -> bool:
        return (self.min is not None and value < self.min) or (
            self.max is not None and value > self.max
        )

    def describe(self) -> str:
        return (
            f"at least {self.min:g} {self.unit}"
            if self.min is not None
            else (f"at most {self.max:g} {self.unit}")
        )


class Practice(BaseModel):
    id: str
    practice: str = Field(min_length=8)
    playbook: str = ""
    section: str = ""
    target: Target | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _ID.fullmatch(value):
            raise ValueError("ids use lower-case letters, digits and '-'")
        return value


class Area(BaseModel):
    id: str
    name: str
    practices: list[Practice] = Field(min_length=1)


class Checklist(BaseModel):
    areas: list[Area] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Checklist:
        seen: set[str] = set()
        for area in self.areas:
            for p in area.practices:
                key = f"{area.id}/{p.id}"
                if key in seen:
                    raise ValueError(f"practice {key} appears twice")
                seen.add(key)
        return self

    def items(self) -> list[tuple[Area, Practice]]:
        return [(a, p) for a in self.areas for p in a.practices]


def load_checklist(path: Path) -> Checklist:
    """Read and validate a checklist file; errors name the file and the fix."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(
            f"no checklist at {path}: set ADVISOR_CHECKLIST to your checklist file, or draft one "
            "with `cto-advisor checklist draft --out checklist.yaml`"
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return Checklist.model_validate(data)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML ({exc}): fix the file and retry") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise ConfigError(
            f"{path}: {where}: {first['msg']} (see the checklist format in the README)"
        ) from exc


def draft_checklist(playbook_passages: list[Passage]) -> str:
    """A checklist proposed from the playbooks' sections (one practice per section) as YAML.

    The CTO edits it: each practice's sentence is the section's first sentence, which is usually
    the rule it states; areas are the playbooks.
    """
    from advisor.answering.extractive import split_sentences

    by_doc: OrderedDict[str, OrderedDict[str, Passage]] = OrderedDict()
    for p in sorted(playbook_passages, key=lambda p: (p.source, p.chunk_index or 0)):
        sections = by_doc.setdefault(p.source, OrderedDict())
        heading = p.section.split(" > ")[-1] if p.section else ""
        if heading and heading != p.title and heading not in sections:
            sections[heading] = p
    areas = []
    for source, sections in by_doc.items():
        practices = []
        for heading, passage in sections.items():
            sentences = split_sentences(passage.text)
            if not sentences:
                continue
            practices.append(
                {
                    "id": _slug(heading),
                    "practice": sentences[0],
                    "playbook": source,
                    "section": heading,
                }
            )
        if practices:
            title = next(iter(sections.values())).title or Path(source).stem
            areas.append({"id": _slug(Path(source).stem), "name": title, "practices": practices})
    header = (
        "# Drafted by `cto-advisor checklist draft` from the indexed playbooks: one practice per\n"
        "# section. Keep the practices you check for, reword each as one plain sentence, add\n"
        "# `target: {min|max: N, unit: WORD}` where a number decides it, then save it as your\n"
        "# checklist (ADVISOR_CHECKLIST).\n"
    )
    return header + yaml.safe_dump({"areas": areas}, sort_keys=False, allow_unicode=True, width=100)


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:64]
    return slug or "practice"


Verdict = Literal["evidenced", "partial", "missing", "contradicted"]
VERDICTS: tuple[Verdict, ...] = ("evidenced", "partial", "missing", "contradicted")
