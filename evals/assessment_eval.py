"""The assessment task of `cto-advisor eval --task assessment`: verdicts and conflicts scored
against labels.

Metrics: verdict accuracy and macro-F1 over the four verdicts (per labelled practice), conflict
precision (per detection: right when its two documents and the value it read from each are a
labelled conflict's, so a wrong flag between the right two documents is wrong) and recall (per
labelled conflict), and scope leaks (an assessment citing a document its client does not own, by the
corpus layout on disk). Intervals, parts and gates are every task's (`evals.parts`); the split is
by client (leave-one-client-out): a client's labels are all tuning or all frozen test.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from advisor.assessment.checklist import VERDICTS, Verdict
from advisor.core.errors import InputError
from advisor.core.settings import Settings
from evals import stats
from evals.corpus import relative_source
from evals.metrics import contains_phrase, words
from evals.scoring import outside_scope
from evals.splits import Split
from evals.systems import EVALUATOR, OurSystem

CODE = {v: i for i, v in enumerate(VERDICTS)}


class ConflictLabel(BaseModel):
    """Two documents stating different values for one measure: each document's value as it is
    written there (its number and, where it helps, its unit words), in the order of `docs`."""

    docs: tuple[str, str]
    values: tuple[str | list[str], str | list[str]]  # a list: the document states it several ways
    measure: str  # what the two values measure, for the reader of the labels and the report

    def key(self) -> str:
        return f"{_pair(*self.docs)} | {self.measure}"


class ClientLabels(BaseModel):
    verdicts: dict[str, Verdict]
    conflicts: list[ConflictLabel] = []


class AssessmentSet(BaseModel):
    checklist: str
    clients: dict[str, ClientLabels]


def load_assessment_set(path: Path) -> AssessmentSet:
    try:
        return AssessmentSet.model_validate(yaml.safe_load(Path(path).read_text("utf-8")))
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise InputError(f"cannot read the assessment labels {path}: {exc}") from exc


def _kind(kind: str, read):
    return lambda e: read(e) if e["kind"] == kind else None


def assessment_metrics() -> list[stats.Metric]:
    """How each assessment metric is read from the report's items."""
    return [
        stats.Metric("verdict_accuracy", _kind("verdict", lambda e: float(e["gold"] == e["got"]))),
        stats.Metric(
            "verdict_macro_f1",
            _kind("verdict", lambda e: (CODE[e["gold"]], CODE[e["got"]])),
            stats.macro_f1(len(VERDICTS)),
        ),
        stats.Metric(
            "conflict_precision", _kind("detected", lambda e: float(e["right"])), paired=False
        ),
        stats.Metric("conflict_recall", _kind("labelled", lambda e: float(e["found"]))),
        stats.Metric(
            "scope_leaks",
            _kind("client", lambda e: float(bool(e["scope_leaks"]))),
            stats.total,
            higher_is_better=False,
        ),
    ]


def _pair(a: str, b: str) -> str:
    return " | ".join(sorted((a, b)))


def value_matches(labelled: str, detected: str) -> bool:
    """Whether a detected value is the labelled one: the label's words, in order and whole, are
    among the detected value's ("fourteen" in "fourteen engineers", "9,150" in "£9,150")."""
    return contains_phrase(words(detected), labelled)


def _alternatives(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def matches(label: ConflictLabel, docs: tuple[str, str], values: tuple[str, str]) -> bool:
    """A detection (its two documents and the value read from each) is this labelled conflict."""
    if len(docs) != 2:
        return False
    for order in ((0, 1), (1, 0)):
        if (label.docs[order[0]], label.docs[order[1]]) == docs and all(
            any(value_matches(w, v) for w in _alternatives(label.values[k]))
            for k, v in zip(order, values, strict=True)
        ):
            return True
    return False


def score_conflicts(
    labels: list[ConflictLabel], detections: list[tuple[tuple[str, ...], tuple[str, str]]]
) -> tuple[list[bool], list[bool]]:
    """(per detection: is it a labelled conflict?, per label: was it detected?) for detections
    given as (their documents, the value read from each)."""
    right, found = [], set()
    for docs, values in detections:
        hit = {k for k, label in enumerate(labels) if matches(label, docs, values)}
        right.append(bool(hit))
        found |= hit
    return right, [k in found for k in range(len(labels))]


def score_client(client: str, gold: ClientLabels, assessment, corpus: Path) -> list[dict]:
    """The report's items for one client's assessment: one per labelled practice, per labelled
    conflict, per detected conflict, and one for the client's citations."""
    got = {v.practice_id: v.verdict for v in assessment.verdicts}
    by_n = {c.n: relative_source(c.root, c.source, corpus) for c in assessment.citations}
    items: list[dict[str, Any]] = [
        {
            "id": f"{client}/{practice}",
            "unit": client,
            "kind": "verdict",
            "gold": verdict,
            "got": got.get(practice, "missing"),
        }
        for practice, verdict in gold.verdicts.items()
    ]
    detections, names = [], []
    for c in assessment.conflicts:
        docs = tuple(by_n[n] for n in (c.first, c.second) if n in by_n)
        detections.append((docs, (c.first_value, c.second_value)))
        # A flag citing a source the assessment does not list has no pair: it is scored wrong.
        names.append(
            f"{_pair(*docs)} | {c.measure}: {c.first_value} vs {c.second_value}"
            if len(docs) == 2
            else "(unresolved)"
        )
    right, found = score_conflicts(gold.conflicts, detections)
    items += [
        {
            "id": f"{client}/labelled/{label.key()}",
            "unit": client,
            "kind": "labelled",
            "found": hit,
        }
        for label, hit in zip(gold.conflicts, found, strict=True)
    ]
    items += [
        {"id": f"{client}/detected/{name}", "unit": client, "kind": "detected", "right": ok}
        for name, ok in zip(names, right, strict=True)
    ]
    items.append(
        {
            "id": f"{client}/citations",
            "unit": client,
            "kind": "client",
            "scope_leaks": outside_scope(list(by_n.values()), client),
        }
    )
    return items


def run(
    settings: Settings,
    corpus: Path,
    dataset: Path,
    split: Split | None = None,
    embeddings=None,
    system: OurSystem | None = None,
    intervals: bool = True,
) -> dict:
    """Index the corpus (cached, or use `system`'s), assess every labelled client, and score."""
    from evals.parts import summarize

    corpus = corpus.resolve()  # the index stores resolved roots (a symlinked corpus too)
    labels = load_assessment_set(dataset)
    checklist = (corpus / labels.checklist).resolve()
    if system is None:
        system = OurSystem(settings, corpus, embeddings)
        system.prepare()
    if Path(system.settings.checklist).resolve() != checklist:
        raise InputError(
            f"{dataset} labels the checklist {checklist}, but the corpus's is "
            f"{system.settings.checklist}: name the corpus's checklist.yaml in the labels"
        )
    started = time.time()
    items, mode = [], "offline"
    for client, gold in labels.clients.items():
        assessment = system.advisor.assess(EVALUATOR, client)
        mode = assessment.mode
        items += score_client(client, gold, assessment, corpus.resolve())
    metrics = {
        m.name: (None if (v := m.value(items)) is None else round(v, 4))
        for m in assessment_metrics()
    }
    return {
        "task": "assessment",
        "metrics": metrics,
        **summarize(items, assessment_metrics(), split, intervals),
        "items": items,
        "config": {
            "task": "assessment",
            "corpus": str(corpus.resolve()),
            "dataset": str(dataset.resolve()),
            "dataset_name": dataset.stem,
            "system": "ours",
            "checklist": str(checklist),
            "mode": mode,
            "run_seconds": round(time.time() - started, 1),
        },
    }


def write(report: dict, out_dir: Path, baseline: dict | None = None) -> tuple[Path, Path]:
    from evals.report import metrics_markdown

    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / "report.json", out_dir / "report.md"
    json_path.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    test = set(report.get("split", {}).get("test_units", []))
    lines = [
        "# Assessment eval",
        "",
        f"Split by client: test (frozen) = {', '.join(sorted(test)) or 'none'}.",
        "",
        metrics_markdown(report, baseline),
        "",
        "| client | practice | gold | got |",
        "| --- | --- | --- | --- |",
    ]
    lines += [
        f"| {r['unit']} | {r['id'].split('/', 1)[1]} | {r['gold']} | {r['got']} |"
        for r in report["items"]
        if r["kind"] == "verdict" and r["gold"] != r["got"]
    ]
    md_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return json_path, md_path
