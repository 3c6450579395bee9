"""Eval datasets: typed JSONL items, validated line by line before any work starts."""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from advisor.core.errors import AdvisorError

Category = Literal["stack", "staffing", "process"]


class DatasetError(AdvisorError):
    """The dataset file is missing or has malformed lines; the message lists each one."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.problems = problems
        listed = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"{path} is not a valid eval dataset:\n{listed}")


def _clean_source(source: str) -> str:
    """Gold sources compare as POSIX paths relative to the corpus root."""
    text = source.strip().replace("\\", "/")
    return str(PurePosixPath(text.removeprefix("./")))


class EvalItem(BaseModel):
    """One question (or conversation) with what a good answer must retrieve and say."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str = Field(min_length=1)
    question: str | None = None
    turns: list[str] | None = None
    client: str | None = None
    category: Category
    answerable: bool
    gold_sources: list[str] = Field(default_factory=list)
    must_include: list[str] = Field(default_factory=list)
    must_not_include: list[str] = Field(default_factory=list)

    @field_validator("question")
    @classmethod
    def _question_not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("question is empty")
        return value

    @field_validator("turns")
    @classmethod
    def _turns_not_blank(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and (not value or any(not t.strip() for t in value)):
            raise ValueError("turns must be a non-empty list of non-empty questions")
        return value

    @field_validator("client")
    @classmethod
    def _client_or_none(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @field_validator("gold_sources")
    @classmethod
    def _clean_gold(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(_clean_source(s) for s in value if s.strip()))

    @model_validator(mode="after")
    def _consistent(self) -> EvalItem:
        if (self.question is None) == (self.turns is None):
            raise ValueError("give exactly one of 'question' or 'turns'")
        if self.answerable and not self.gold_sources:
            raise ValueError("an answerable item needs at least one gold source")
        return self

    @property
    def all_turns(self) -> list[str]:
        """Every user turn in order; the last one is scored."""
        return list(self.turns) if self.turns is not None else [self.question or ""]

    @property
    def final_question(self) -> str:
        """The turn that is scored."""
        return self.all_turns[-1]


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


def parse_dataset(lines: list[str]) -> tuple[list[tuple[int, EvalItem]], list[str]]:
    """(line number, item) pairs from JSONL lines, plus one problem per bad line ("line N: ...")."""
    items: list[tuple[int, EvalItem]] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"line {number}: invalid JSON ({exc.msg} at column {exc.colno})")
            continue
        if not isinstance(data, dict):
            problems.append(f"line {number}: expected a JSON object")
            continue
        try:
            item = EvalItem.model_validate(data)
        except ValidationError as exc:
            problems.append(f"line {number}: {_describe(exc)}")
            continue
        if item.id in seen:
            first = seen[item.id]
            problems.append(f"line {number}: duplicate id {item.id!r} (first on line {first})")
            continue
        seen[item.id] = number
        items.append((number, item))
    if not items and not problems:
        problems.append("no items: the file is empty")
    return items, problems


def missing_gold_sources(items: list[tuple[int, EvalItem]], corpus: Path) -> list[str]:
    """Problems for gold sources that are not files in the corpus (the dataset does not fit it)."""
    problems = []
    for number, item in items:
        absent = [g for g in item.gold_sources if not (corpus / g).is_file()]
        if absent:
            listed = ", ".join(absent)
            problems.append(f"line {number}: gold source not found in the corpus: {listed}")
    return problems


def load_dataset(path: Path, corpus: Path | None = None) -> list[EvalItem]:
    """Every item of a JSONL dataset; raises DatasetError listing each malformed line.

    With `corpus`, each gold source must also be a file under it.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise DatasetError(path, [f"cannot read the file ({exc.strerror or exc})"]) from exc
    numbered, problems = parse_dataset(text.splitlines())
    if corpus is not None:
        problems += missing_gold_sources(numbered, corpus)
    if problems:
        raise DatasetError(path, problems)
    return [item for _, item in numbered]
