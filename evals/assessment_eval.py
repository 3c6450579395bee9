"""The assessment task of `cto-advisor eval`: verdicts and conflicts scored against labels.

Metrics: verdict accuracy and macro-F1 over the four verdicts, conflict precision and recall
(a detected conflict is right when its two documents form a labelled pair), with bootstrap 95%
intervals over practices (verdicts) and detections (conflicts).
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ValidationError

from advisor.assessment.checklist import VERDICTS, Verdict
from advisor.core.errors import InputError
from advisor.core.settings import Settings
from evals.corpus import relative_source
from evals.systems import EVALUATOR, OurSystem

BOOTSTRAP = 1000


class ClientLabels(BaseModel):
    verdicts: dict[str, Verdict]
    conflicts: list[tuple[str, str]] = []
    # The assessment is split by client: thresholds are chosen on `tuning` clients only.
    split: Literal["tuning", "test"] = "test"


class AssessmentSet(BaseModel):
    checklist: str
    clients: dict[str, ClientLabels]


def load_assessment_set(path: Path) -> AssessmentSet:
    try:
        return AssessmentSet.model_validate(yaml.safe_load(Path(path).read_text("utf-8")))
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise InputError(f"cannot read the assessment labels {path}: {exc}") from exc


def macro_f1(pairs: list[tuple[str, str]]) -> float:
    """Mean F1 over the verdict classes that occur in the labels or the predictions."""
    classes = [c for c in VERDICTS if any(c in p for p in pairs)]
    scores = []
    for c in classes:
        tp = sum(1 for gold, got in pairs if gold == c and got == c)
        fp = sum(1 for gold, got in pairs if gold != c and got == c)
        fn = sum(1 for gold, got in pairs if gold == c and got != c)
        scores.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return sum(scores) / len(scores) if scores else float("nan")


def _ci(values: list, stat, seed: int = 7) -> list[float] | None:
    if not values:
        return None
    rng = random.Random(seed)
    draws = sorted(stat([rng.choice(values) for _ in values]) for _ in range(BOOTSTRAP))
    return [round(draws[int(0.025 * BOOTSTRAP)], 4), round(draws[int(0.975 * BOOTSTRAP) - 1], 4)]


def score(labels: AssessmentSet, results: dict, clients: list[str] | None = None) -> dict:
    """Metrics from {client: Assessment} against the labels (of `clients`, default all)."""
    pairs: list[tuple[str, str]] = []
    rows = []
    detected: list[bool] = []
    found_gold: list[bool] = []
    for client, gold in labels.clients.items():
        if clients is not None and client not in clients:
            continue
        assessment = results[client]
        got = {v.practice_id: v.verdict for v in assessment.verdicts}
        for practice, verdict in gold.verdicts.items():
            pairs.append((verdict, got.get(practice, "missing")))
            rows.append(
                {"client": client, "practice": practice, "gold": verdict, "got": got.get(practice)}
            )
        by_n = {c.n: c for c in assessment.citations}
        gold_pairs = {frozenset(p) for p in gold.conflicts}
        hits = set()
        for c in assessment.conflicts:
            docs = frozenset(
                relative_source(by_n[n].root, by_n[n].source, labels_corpus(results))
                for n in (c.first, c.second)
                if n in by_n
            )
            ok = docs in gold_pairs
            detected.append(ok)
            if ok:
                hits.add(docs)
        found_gold += [p in hits for p in gold_pairs]

    def accuracy(sample):
        return sum(g == p for g, p in sample) / len(sample)

    def mean(sample):
        return sum(sample) / len(sample) if sample else float("nan")

    metrics = {
        "verdict_accuracy": round(accuracy(pairs), 4),
        "verdict_macro_f1": round(macro_f1(pairs), 4),
        "conflict_precision": round(mean(detected), 4) if detected else 0.0,
        "conflict_recall": round(mean(found_gold), 4) if found_gold else float("nan"),
    }
    intervals = {
        "verdict_accuracy": _ci(pairs, accuracy),
        "verdict_macro_f1": _ci(pairs, macro_f1),
        "conflict_precision": _ci(detected, mean),
        "conflict_recall": _ci(found_gold, mean),
    }
    return {
        "metrics": metrics,
        "intervals": intervals,
        "rows": rows,
        "conflicts_detected": len(detected),
        "conflicts_labelled": len(found_gold),
    }


def labels_corpus(results: dict) -> Path:
    return results["__corpus__"]


def run(settings: Settings, corpus: Path, dataset: Path, embeddings=None) -> dict:
    """Index the corpus (cached), assess every labelled client, and score."""
    labels = load_assessment_set(dataset)
    checklist = (corpus / labels.checklist).resolve()
    system = OurSystem(settings.model_copy(update={"checklist": checklist}), corpus, embeddings)
    system.prepare()
    results: dict = {"__corpus__": corpus.resolve()}
    for client in labels.clients:
        results[client] = system.advisor.assess(EVALUATOR, client)
    report = score(labels, results)
    report["parts"] = {
        part: score(labels, results, [c for c, g in labels.clients.items() if g.split == part])
        | {"clients": [c for c, g in labels.clients.items() if g.split == part]}
        for part in ("tuning", "test")
        if any(g.split == part for g in labels.clients.values())
    }
    for part in report["parts"].values():
        part.pop("rows", None)
    report["config"] = {
        "corpus": str(corpus.resolve()),
        "dataset": str(dataset.resolve()),
        "task": "assessment",
        "checklist": str(checklist),
        "mode": results[next(iter(labels.clients))].mode,
    }
    return report


def write(report: dict, out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / "report.json", out_dir / "report.md"
    json_path.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    lines = ["# Assessment eval", "", "| metric | value | 95% CI |", "| --- | ---: | --- |"]
    for name, value in report["metrics"].items():
        ci = report["intervals"].get(name)
        lines.append(f"| {name} | {value:.3f} | {ci if ci else 'n/a'} |")
    lines += ["", "| client | practice | gold | got |", "| --- | --- | --- | --- |"]
    lines += [
        f"| {r['client']} | {r['practice']} | {r['gold']} | {r['got']} |"
        for r in report["rows"]
        if r["gold"] != r["got"]
    ]
    md_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return json_path, md_path
