"""Verdicts per practice for one client: evidenced, partial, missing or contradicted, each with
the playbook passage [n] that states the practice and the client's evidence [m].

Offline, from the client's own documents only: every sentence of the client's chunks is compared
with the practice (MiniLM cosine). The thresholds below were calibrated on the labelled set
evals/datasets/assessment.yaml with benchmarks/calibrate_assessment.py (which also reports
leave-one-client-out accuracy). With an LLM, the model judges the same evidence and must answer
in a pydantic-validated structure; invalid output falls back to the offline verdicts.
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
from advisor.assessment.checklist import VERDICTS, Checklist, Practice, Verdict
from advisor.assessment.facts import find_conflicts, negated, quantities
from advisor.assessment.repo_checks import claims, measured, stack_conflicts
from advisor.core.errors import ConfigError, LLMError
from advisor.core.models import Citation, Passage
from advisor.core.settings import PLAYBOOK_SCOPE

# Calibrated on evals/datasets/assessment.yaml (benchmarks/calibrate_assessment.py).
T_PARTIAL = 0.425  # below: nothing in the client's documents is about this practice
T_EVIDENCED = 0.45  # at or above: a sentence states the practice nearly as the playbook does
T_CONTRADICTED = 0.45  # a sentence this close with the opposite polarity contradicts it
EVIDENCE_SENTENCES = 2


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


class ConflictNote(BaseModel):
    first: int
    second: int
    first_value: str
    second_value: str
    first_sentence: str
    second_sentence: str

    def describe(self) -> str:
        return (
            f"{self.first_value} [{self.first}] vs {self.second_value} [{self.second}]: "
            f"\u201c{self.first_sentence}\u201d / \u201c{self.second_sentence}\u201d"
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
        lines = [f"# Practice assessment: {self.client}", ""]
        lines.append(
            f"_{len(self.verdicts)} practices, {self.mode} verdicts. Evidence comes only from "
            f"{self.client}'s documents; [n] numbers refer to the sources at the end._"
        )
        if self.warning:
            lines += ["", f"> **Warning:** {self.warning}"]
        lines += [
            "",
            "## Coverage by area",
            "",
            "| Area | Evidenced | Partial | Missing | Contradicted | Coverage |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for row in self.coverage():
            lines.append(
                f"| {row['area']} | {row['evidenced']} | {row['partial']} | {row['missing']} | "
                f"{row['contradicted']} | {row['coverage']:.0%} |"
            )
        area = None
        for v in self.verdicts:
            if v.area != area:
                area = v.area
                lines += ["", f"## {area}", ""]
            cites = "".join(f"[{n}]" for n in ([v.playbook] if v.playbook else []))
            ev = "".join(f"[{m}]" for m in v.evidence) or "none"
            lines.append(f"- **{v.verdict}**: {v.practice} {cites}  \n  {v.reason} Evidence: {ev}")
        if self.conflicts:
            lines += ["", "## Conflicting sources", ""]
            lines += [f"- {c.describe()}" for c in self.conflicts]
        lines += ["", "## Sources", ""]
        for c in self.citations:
            lines.append(f"{c.n}. {_source_line(c)}")
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
        """(area, practice, client sentences, similarity of each to the practice) per practice,
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
        vectors = self._embed([s.text for s in sentences]) if sentences else np.zeros((0, 1))
        items = checklist.items()
        practice_vectors = self._embed([p.practice for _, p in items])
        rows = [
            (area, practice, sentences, vectors @ pv if len(sentences) else np.zeros(0), pv)
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
        for area, practice, sentences, sims, pv in rows:
            verdict = measured(practice, client_chunks) or judge(practice, sentences, sims)
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
    similarity: float


def judge(
    practice: Practice,
    sentences: Sequence[_Sentence],
    sims: np.ndarray,
    t_partial: float = T_PARTIAL,
    t_evidenced: float = T_EVIDENCED,
    t_contradicted: float = T_CONTRADICTED,
) -> Judgement:
    """The offline rule: similarity decides covered or not; a stated number on the wrong side of
    the practice's target, or the opposite polarity in a close sentence, is a contradiction."""
    if not len(sentences):
        return Judgement("missing", "The client's documents say nothing about this.", [], 0.0)
    order = np.argsort(-sims)
    best = float(sims[order[0]])
    top = [sentences[i] for i in order[:EVIDENCE_SENTENCES] if sims[i] >= t_partial]
    if best < t_partial:
        return Judgement(
            "missing", "Nothing in the client's documents addresses this practice.", [], best
        )
    if practice.target is not None:
        units = [practice.target.unit]
        for i in order:
            if sims[i] < t_partial:
                break
            stated = quantities(sentences[i].text, units)
            if stated:
                q = stated[0]
                if practice.target.violated_by(q.value):
                    return Judgement(
                        "contradicted",
                        f"The documents state {q.text}; the playbook asks for "
                        f"{practice.target.describe()}.",
                        [sentences[i], *[s for s in top if s is not sentences[i]]][
                            :EVIDENCE_SENTENCES
                        ],
                        float(sims[i]),
                    )
                return Judgement(
                    "evidenced",
                    f"The documents state {q.text}, which meets {practice.target.describe()}.",
                    [sentences[i], *[s for s in top if s is not sentences[i]]][:EVIDENCE_SENTENCES],
                    float(sims[i]),
                )
    lead = sentences[order[0]]
    if best >= t_contradicted and negated(lead.text) != negated(practice.practice):
        return Judgement(
            "contradicted",
            f"A closely matching statement says the opposite: \u201c{_short(lead.text)}\u201d",
            top,
            best,
        )
    if best >= t_evidenced:
        return Judgement(
            "evidenced", f"Stated in the documents: \u201c{_short(lead.text)}\u201d", top, best
        )
    return Judgement(
        "partial", f"Related but not clearly in place: \u201c{_short(lead.text)}\u201d", top, best
    )


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " ..."
