"""Verdicts per practice for one client: evidenced, partial, missing or contradicted, each with
the playbook passage [n] that states the practice and the client's evidence [m].

Offline, from the client's own documents only: every sentence of the client's chunks is compared
with the practice (MiniLM cosine). The thresholds below were calibrated on the tuning clients of
the labelled set evals/datasets/assessment.yaml with benchmarks/calibrate_assessment.py. With an
LLM, the model judges the same evidence and must answer in a pydantic-validated structure;
invalid output falls back to the offline verdicts.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field, ValidationError

from advisor.answering.answer import citation_for, scope_label, sources_block
from advisor.answering.extractive import split_sentences
from advisor.answering.facts import find_conflicts
from advisor.answering.support import (
    Requirement,
    Support,
    SupportScorer,
    requirements,
    split_claim,
)
from advisor.assessment.checklist import VERDICTS, Checklist, Practice, Verdict
from advisor.assessment.repo_checks import claims, measured, stack_conflicts
from advisor.core.errors import ConfigError, LLMError
from advisor.core.models import Citation, Passage
from advisor.core.sanitize import escape_md
from advisor.core.settings import PLAYBOOK_SCOPE

# Support scores (advisor/answering/support.py) chosen on the tuning client of
# evals/datasets/assessment.yaml only, by benchmarks/calibrate_assessment.py.
T_PARTIAL = 0.425  # below: the sentence is not about this practice
T_EVIDENCED = 0.45  # at or above: a sentence states the practice
T_CONTRADICTED = 0.7  # a sentence this supportive that says the opposite contradicts it
EVIDENCE_SENTENCES = 2
CONTEXT = 2  # sentences either side, in the same passage, that may state part of a practice


@dataclass
class _Sentence:
    passage: Passage
    text: str


class PracticeVerdict(BaseModel):
    area_id: str
    area: str
    practice_id: str
    practice: str
    verdict: Verdict
    reason: str
    playbook: int | None = None  # [n] of the playbook passage
    evidence: list[int] = Field(default_factory=list)  # [m] of the client's evidence
    quotes: list[str] = Field(default_factory=list, exclude=True)
    similarity: float = 0.0
    support: float = 0.0  # the deciding sentence's support score (advisor/answering/support.py)


class ConflictNote(BaseModel):
    first: int
    second: int
    first_value: str
    second_value: str
    first_sentence: str
    second_sentence: str
    measure: str = ""  # what the two values measure, in the documents' words
    first_source: str = ""
    second_source: str = ""

    def describe(self) -> str:
        """'team developers: nine developers in team-notes.md [3] vs 11 in headcount.csv [5]: ...'"""
        head = f"{self.measure}: " if self.measure else ""
        a = f" in {self.first_source}" if self.first_source else ""
        b = f" in {self.second_source}" if self.second_source else ""
        return (
            f"{head}{self.first_value}{a} [{self.first}] vs {self.second_value}{b} "
            f"[{self.second}]: \u201c{self.first_sentence}\u201d / \u201c{self.second_sentence}\u201d"
        )


class Assessment(BaseModel):
    client: str
    mode: Literal["offline", "llm"] = "offline"
    verdicts: list[PracticeVerdict]
    conflicts: list[ConflictNote] = Field(default_factory=list)
    citations: list[Citation] = Field(default_factory=list)
    warning: str | None = None

    def coverage(self) -> list[dict]:
        """Per area: practices by verdict and a coverage score (evidenced 1, partial 0.5)."""
        rows: dict[str, dict] = {}
        for v in self.verdicts:
            row = rows.setdefault(v.area_id, {"area": v.area, **{k: 0 for k in VERDICTS}})
            row[v.verdict] += 1
        for row in rows.values():
            total = sum(row[k] for k in VERDICTS)
            row["total"] = total
            row["coverage"] = round((row["evidenced"] + 0.5 * row["partial"]) / total, 3)
        return list(rows.values())

    def to_json_dict(self) -> dict:
        data = self.model_dump(mode="json")
        data["coverage"] = self.coverage()
        return data

    def to_markdown(self) -> str:
        lines = [f"# Practice assessment: {escape_md(self.client)}", ""]
        lines.append(
            f"_{len(self.verdicts)} practices, {self.mode} verdicts. Evidence comes only from "
            f"{escape_md(self.client)}'s documents; [n] numbers refer to the sources at the end._"
        )
        if self.warning:
            lines += ["", f"> **Warning:** {escape_md(self.warning)}"]
        lines += [
            "",
            "## Coverage by area",
            "",
            "| Area | Evidenced | Partial | Missing | Contradicted | Coverage |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for row in self.coverage():
            lines.append(
                f"| {escape_md(row['area'])} | {row['evidenced']} | {row['partial']} | {row['missing']} | "
                f"{row['contradicted']} | {row['coverage']:.0%} |"
            )
        area = None
        for v in self.verdicts:
            if v.area != area:
                area = v.area
                lines += ["", f"## {escape_md(area)}", ""]
            cites = "".join(f"[{n}]" for n in ([v.playbook] if v.playbook else []))
            ev = "".join(f"[{m}]" for m in v.evidence) or "none"
            support = f" (support {v.support:.2f})" if v.evidence else ""
            lines.append(
                f"- **{v.verdict}**: {escape_md(v.practice)} {cites}  \n  "
                f"{escape_md(v.reason)} Evidence: {ev}{support}"
            )
        if self.conflicts:
            lines += ["", "## Conflicting sources", ""]
            lines += [f"- {escape_md(c.describe())}" for c in self.conflicts]
        lines += ["", "## Sources", ""]
        for c in self.citations:
            lines.append(f"{c.n}. {escape_md(_source_line(c))}")
        return "\n".join(lines) + "\n"

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(
            [
                "area",
                "practice_id",
                "practice",
                "verdict",
                "reason",
                "playbook_source",
                "evidence_sources",
                "support",
            ]
        )
        by_n = {c.n: c for c in self.citations}
        for v in self.verdicts:
            writer.writerow(
                [
                    v.area,
                    v.practice_id,
                    v.practice,
                    v.verdict,
                    v.reason,
                    _source_line(by_n[v.playbook]) if v.playbook in by_n else "",
                    " | ".join(_source_line(by_n[m]) for m in v.evidence if m in by_n),
                    f"{v.support:.2f}" if v.evidence else "",
                ]
            )
        return out.getvalue()

    def to_docx(self) -> bytes:
        from docx import Document

        doc = Document()
        doc.add_heading(f"Practice assessment: {self.client}", level=0)
        doc.add_paragraph(
            f"{len(self.verdicts)} practices, {self.mode} verdicts, evidence from {self.client}'s "
            "documents only. Numbers in brackets refer to the sources at the end."
        )
        if self.warning:
            doc.add_paragraph(f"Warning: {self.warning}")
        doc.add_heading("Coverage by area", level=1)
        _docx_table(
            doc,
            ["Area", "Evidenced", "Partial", "Missing", "Contradicted", "Coverage"],
            [
                [row["area"], row["evidenced"], row["partial"], row["missing"],
                 row["contradicted"], f"{row['coverage']:.0%}"]
                for row in self.coverage()
            ],
        )  # fmt: skip
        doc.add_heading("Verdicts", level=1)
        _docx_table(
            doc,
            ["Area", "Practice", "Verdict", "Reason", "Sources"],
            [
                [v.area, v.practice, v.verdict, v.reason,
                 " ".join(([f"[{v.playbook}]"] if v.playbook else []) + [f"[{m}]" for m in v.evidence])]
                for v in self.verdicts
            ],
        )  # fmt: skip
        if self.conflicts:
            doc.add_heading("Conflicting sources", level=1)
            for c in self.conflicts:
                doc.add_paragraph(c.describe(), style="List Bullet")
        doc.add_heading("Sources", level=1)
        for c in self.citations:
            doc.add_paragraph(f"[{c.n}] {_source_line(c)}")
        buf = io.BytesIO()
        doc.save(buf)
        return buf.getvalue()


def _docx_table(doc, header: list[str], rows: list[list]) -> None:
    """A Word table: a header row, then one row per item (values shown as text)."""
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Light Grid Accent 1"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = text
    for values in rows:
        for cell, value in zip(table.add_row().cells, values, strict=True):
            cell.text = str(value)


def _source_line(c: Citation) -> str:
    where = " > ".join(x for x in (c.title, c.section) if x) or c.source
    if c.page:
        where += f", page {c.page}"
    if c.slide:
        where += f", slide {c.slide}"
    return f"{scope_label(c.scope)}: {where} ({c.source})"


class _Numbering:
    """Sources numbered by first use across the whole report."""

    def __init__(self) -> None:
        self.by_id: dict[str, int] = {}
        self.citations: list[Citation] = []

    def cite(self, passage: Passage, snippet: str | None = None) -> int:
        if passage.id not in self.by_id:
            n = len(self.citations) + 1
            self.by_id[passage.id] = n
            self.citations.append(citation_for(n, passage, snippet))
        return self.by_id[passage.id]


class Assessor:
    """Checks one client's documents against a checklist."""

    def __init__(self, store, embeddings, settings) -> None:
        self.store = store
        self.embeddings = embeddings
        self.settings = settings
        self._vectors: dict[str, np.ndarray] = {}  # playbook chunk vectors, embedded once

    def _embed(self, texts: list[str]) -> np.ndarray:
        embed = getattr(self.embeddings, "embed_sentences", self.embeddings.embed_documents)
        vectors = np.asarray(embed(texts), dtype=np.float32).reshape(len(texts), -1)
        return vectors / (np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-9)

    def evidence(self, checklist: Checklist, client: str):
        """(area, practice, client sentences, each sentence's support of it, practice vector) per practice,
        plus the client's chunks and the playbook chunks: what every verdict is judged from."""
        client_chunks = [p for p in self.store.chunks_in([client]) if p.scope == client]
        if not client_chunks:
            raise ConfigError(
                f"no documents for client {client!r}: index theirs with "
                f"`cto-advisor ingest PATH --client {client}`"
            )
        sentences = [
            _Sentence(p, s) for p in client_chunks for s in dict.fromkeys(split_sentences(p.text))
        ]
        scorer = SupportScorer(self.embeddings)
        texts = [s.text for s in sentences]
        contexts = []
        for k, s in enumerate(sentences):
            same = [
                sentences[j].text
                for j in range(max(0, k - CONTEXT), min(len(sentences), k + CONTEXT + 1))
                if j != k and sentences[j].passage is s.passage
            ]
            contexts.append(same)
        vectors = scorer._embed(texts) if sentences else np.zeros((0, 1))
        items = checklist.items()
        practice_vectors = self._embed([p.practice for _, p in items])
        rows = [
            (
                area,
                practice,
                sentences,
                scorer.score(
                    practice.practice, texts, vectors, practice_requirements(practice), contexts
                ),
                pv,
            )
            for (area, practice), pv in zip(items, practice_vectors, strict=True)
        ]
        return rows, client_chunks

    def assess(self, checklist: Checklist, client: str, model=None) -> Assessment:
        """Every practice of `checklist` judged from `client`'s documents only."""
        rows, client_chunks = self.evidence(checklist, client)
        playbook_chunks = [
            p for p in self.store.chunks_in([PLAYBOOK_SCOPE]) if p.scope == PLAYBOOK_SCOPE
        ]
        numbering = _Numbering()
        verdicts = []
        for area, practice, sentences, supports, pv in rows:
            verdict = measured(practice, client_chunks) or judge(practice, sentences, supports)
            anchor = self._playbook_passage(practice, playbook_chunks, pv)
            verdict_model = PracticeVerdict(
                area_id=area.id,
                area=area.name,
                practice_id=practice.id,
                practice=practice.practice,
                verdict=verdict.verdict,
                reason=verdict.reason,
                playbook=numbering.cite(anchor) if anchor else None,
                evidence=[numbering.cite(s.passage) for s in verdict.evidence],
                quotes=[s.text for s in verdict.evidence],
                similarity=round(verdict.similarity, 4),
                support=round(verdict.similarity, 4),
            )
            verdicts.append(verdict_model)
        assessment = Assessment(client=client, verdicts=verdicts)
        if model is not None:
            assessment = self._llm(model, checklist, assessment, numbering) or assessment
        conflicts = find_conflicts(claims(client_chunks), self.embeddings)
        conflicts += stack_conflicts(client_chunks)
        assessment.conflicts = [
            ConflictNote(
                first=numbering.cite(c.first),
                second=numbering.cite(c.second),
                first_value=c.first_value,
                second_value=c.second_value,
                first_sentence=c.first_sentence,
                second_sentence=c.second_sentence,
                measure=c.measure,
                first_source=c.first.source.rsplit("/", 1)[-1],
                second_source=c.second.source.rsplit("/", 1)[-1],
            )
            for c in conflicts
        ]
        assessment.citations = numbering.citations
        return assessment

    def _playbook_passage(self, practice: Practice, chunks: list[Passage], pv) -> Passage | None:
        """The playbook chunk the checklist links to (its file and section), best match first."""
        in_file = [p for p in chunks if practice.playbook and p.source.endswith(practice.playbook)]
        in_section = [
            p
            for p in in_file
            if practice.section
            and (p.section.split(" > ")[-1] == practice.section or practice.section in p.section)
        ]
        pool = in_section or in_file or chunks
        if not pool:
            return None
        missing = [p for p in pool if p.id not in self._vectors]
        if missing:
            for p, v in zip(missing, self._embed([p.context_text() for p in missing]), strict=True):
                self._vectors[p.id] = v
        sims = np.stack([self._vectors[p.id] for p in pool]) @ pv
        return pool[int(np.argmax(sims))]

    def _llm(
        self, model, checklist: Checklist, offline: Assessment, numbering
    ) -> Assessment | None:
        """The model's verdicts on the same evidence, or None (with a warning) when unusable."""
        from advisor.core.prompts import inert, load_prompt, new_boundary

        passages = {c.n: c for c in numbering.citations}
        lines = []
        for v in offline.verdicts:
            ev = ", ".join(f"[{m}]" for m in v.evidence) or "none found"
            lines.append(
                # A practice may be drafted from a playbook heading: document text, one line.
                f"- {inert(v.practice_id, one_line=True)}: {inert(v.practice, one_line=True)} "
                f"(playbook [{v.playbook}]; evidence {ev})"
            )
        sources = [
            Passage(
                id=str(n),
                text=c.snippet,
                source=c.source,
                title=c.title,
                section=c.section,
                page=c.page,
                slide=c.slide,
                scope=c.scope,
            )
            for n, c in sorted(passages.items())
        ]
        boundary = new_boundary()  # per request: no document can know it in advance
        prompt = load_prompt("assess").render(
            client=offline.client,
            practices="\n".join(lines),
            sources=sources_block(sources, boundary),
            boundary=boundary,
        )
        try:
            reply = model.complete([("system", load_prompt("system").render()), ("user", prompt)])
        except LLMError as exc:
            offline.warning = f"{exc}. These are offline verdicts instead."
            return None
        try:
            parsed = LLMVerdicts.model_validate_json(_json_block(reply))
        except (ValidationError, ValueError) as exc:
            offline.warning = (
                f"the model's verdicts were not valid ({type(exc).__name__}); these are "
                "offline verdicts instead"
            )
            return None
        by_id = {v.practice_id: v for v in parsed.verdicts}
        if set(by_id) != {v.practice_id for v in offline.verdicts}:
            offline.warning = "the model skipped or invented practices; these are offline verdicts"
            return None
        verdicts = []
        for v in offline.verdicts:
            got = by_id[v.practice_id]
            evidence = [
                m for m in got.evidence if m in passages and passages[m].scope != PLAYBOOK_SCOPE
            ]
            if got.verdict != "missing" and not evidence:
                evidence = v.evidence  # a verdict other than missing must cite the client
            verdicts.append(
                v.model_copy(
                    update={
                        "verdict": got.verdict,
                        "reason": got.reason.strip()[:300] or v.reason,
                        "evidence": [] if got.verdict == "missing" else evidence,
                    }
                )
            )
        return Assessment(client=offline.client, mode="llm", verdicts=verdicts)


class LLMVerdict(BaseModel):
    practice_id: str
    verdict: Verdict
    reason: str = Field(max_length=600)
    evidence: list[int] = Field(default_factory=list)


class LLMVerdicts(BaseModel):
    verdicts: list[LLMVerdict]


def _json_block(reply: str) -> str:
    start, end = reply.find("{"), reply.rfind("}")
    if start == -1 or end <= start:
        raise ValueError("no JSON object in the reply")
    json.loads(reply[start : end + 1])
    return reply[start : end + 1]


@dataclass
class Judgement:
    verdict: Verdict
    reason: str
    evidence: list[_Sentence]
    similarity: float  # the support score of the deciding sentence


@dataclass(frozen=True)
class Thresholds:
    """Support scores that turn into verdicts (chosen on the tuning client only)."""

    related: float = T_PARTIAL  # below: the sentence is not about this practice
    supports: float = T_EVIDENCED  # at or above: the sentence states the practice
    contradicts: float = T_CONTRADICTED  # a sentence this supportive that says the opposite


def practice_requirements(practice: Practice) -> list[Requirement]:
    """The practice's numbers: its checklist target when it has one, else what its sentence
    requires ("within five business days", "two approvals")."""
    if practice.target is not None:
        t = practice.target
        bound = t.max if t.max is not None else t.min
        parsed = requirements(f"{bound:g} {t.unit}")
        return [
            Requirement(r.value, r.unit, r.counted, t.max is not None, t.describe()) for r in parsed
        ]
    return requirements(split_claim(practice.practice)[0])


def judge(
    practice: Practice,
    sentences: Sequence[_Sentence],
    supports: Sequence[Support],
    thresholds: Thresholds | None = None,
) -> Judgement:
    """The offline verdict from each client sentence's support of the practice: a close
    sentence on the wrong side of the practice's numbers, saying the opposite, or stating the
    alternative the practice excludes contradicts it; one that states it evidences it; one that
    is only about it is partial."""
    t = thresholds or Thresholds()
    if not len(sentences):
        return Judgement("missing", "The client's documents say nothing about this.", [], 0.0)
    order = sorted(range(len(supports)), key=lambda i: -supports[i].score)
    best = supports[order[0]].score
    related = [i for i in order if supports[i].score >= t.related]
    top = [sentences[i] for i in related[:EVIDENCE_SENTENCES]]

    def lead(i: int) -> list[_Sentence]:
        return [sentences[i], *[s for s in top if s is not sentences[i]]][:EVIDENCE_SENTENCES]

    if not related:
        return Judgement(
            "missing", "Nothing in the client's documents addresses this practice.", [], best
        )
    for i in related:
        s = supports[i]
        if s.numbers == "disagree":
            need = ", ".join(r.describe() for r in practice_requirements(practice))
            return Judgement(
                "contradicted",
                f"The documents state {s.stated}; the practice asks for {need}: "
                f"\u201c{_short(s.sentence)}\u201d",
                lead(i),
                s.score,
            )
    for i in order:
        s = supports[i]
        if s.score < t.related:
            break
        if s.excluded >= t.contradicts and s.excluded > s.score and not s.plan:
            return Judgement(
                "contradicted",
                f"The documents describe what the practice rules out: \u201c{_short(s.sentence)}\u201d",
                lead(i),
                s.excluded,
            )
        if s.opposite and not s.plan and s.score >= t.contradicts:
            return Judgement(
                "contradicted",
                f"A closely matching statement says the opposite: \u201c{_short(s.sentence)}\u201d",
                lead(i),
                s.score,
            )
    stated = [i for i in related if not supports[i].plan]
    first = supports[stated[0] if stated else order[0]]
    if stated and first.score >= t.supports:
        best = first.score
        how = f" ({first.stated})" if first.numbers == "agree" else ""
        return Judgement(
            "evidenced",
            f"Stated in the documents{how}: \u201c{_short(first.sentence)}\u201d",
            top,
            best,
        )
    return Judgement(
        "partial",
        f"Related but not clearly in place: \u201c{_short(first.sentence)}\u201d",
        top,
        best,
    )


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " ..."
