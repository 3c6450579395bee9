"""Mutation testing of the eval gates: break the system on purpose and watch the gates fail.

    python -m evals.mutants [--replay-url URL] [--only NAME ...] [--json FILE]

Each mutant is a deliberate fault (the system never abstains, cites the wrong source, lets another
client's documents in, ...). It is installed for the length of a run through the seam below, in
this process only: it replaces a function of the product or rewrites what the facade returns,
and restores it afterwards. Nothing here is a setting, an environment variable or an option a
user can reach; the product has no knowledge of it.

For every mutant the runner evaluates the datasets whose gates read what it breaks, on the cached
eval indexes (`make eval` builds them), applies each dataset's gates exactly as `cto-advisor eval`
does (hard bounds, and noise-or-margin against the checked-in baseline for both parts), and
prints a mutant x gated-metric table. It exits 1 unless every mutant is caught by at least one
gate and every gated metric catches at least one mutant: a gate no fault can trip measures
nothing. The clean system passing the same gates is `make eval`'s job (`make test` runs it
first), so every failure here is the mutant's.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import random
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evals.corpus import CLIENTS_DIR
from evals.splits import verified_split

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path("../shared/corpora")
SLOW_SECONDS = 5.5  # above every dataset's latency bound
SLOW_SHARE = 5  # one question in this many hangs


@dataclass(frozen=True)
class Dataset:
    """A gated eval dataset: its task, corpus and file, and whether it runs against a model."""

    name: str
    task: str  # answers | memo | assessment
    corpus: Path
    path: Path
    llm: bool = False


def datasets(shared: Path = SHARED) -> dict[str, Dataset]:
    data, dev = ROOT / "data", shared / "dev"
    found = [
        Dataset("sample", "answers", data, ROOT / "evals/datasets/sample.jsonl"),
        Dataset("llm-replay", "answers", data, ROOT / "evals/datasets/llm-replay.jsonl", True),
        Dataset("memos", "memo", data, ROOT / "evals/datasets/memos.jsonl"),
        Dataset("assessment", "assessment", data, ROOT / "evals/datasets/assessment.yaml"),
        Dataset("dev-questions", "answers", dev, shared / "dev-questions.jsonl"),
        Dataset("dev-extra", "answers", dev, ROOT / "evals/datasets/dev-extra.jsonl"),
        Dataset("memos-dev", "memo", dev, ROOT / "evals/datasets/memos-dev.jsonl"),
    ]
    return {d.name: d for d in found if d.corpus.is_dir() and d.path.is_file()}


# -- the seam -------------------------------------------------------------------------------------


@contextlib.contextmanager
def replaced(owner: Any, name: str, make: Callable[[Any], Any]) -> Iterator[None]:
    """`owner.name` replaced by `make(original)` for the block."""
    original = getattr(owner, name)
    setattr(owner, name, make(original))
    try:
        yield
    finally:
        setattr(owner, name, original)


@contextlib.contextmanager
def replaced_everywhere(original: Callable, replacement: Callable) -> Iterator[None]:
    """Every module of the product that imported `original` by name sees `replacement`."""
    holders = [
        module
        for name, module in list(sys.modules.items())
        if name.split(".")[0] in ("advisor", "ingest")
        and getattr(module, original.__name__, None) is original
    ]
    for module in holders:
        setattr(module, original.__name__, replacement)
    try:
        yield
    finally:
        # A module first imported during the block bound the replacement: restore it too.
        for module in list(sys.modules.values()):
            if getattr(module, original.__name__, None) is replacement:
                setattr(module, original.__name__, original)


def _facade():
    from advisor.service.facade import Advisor

    return Advisor


def _returned(method: str, rewrite: Callable[[Any], None]):
    """What the facade's `method` (ask, memo, assess) returns is rewritten in place by `rewrite`."""

    def make(original):
        def mutated(self, *args, **kwargs):
            result = original(self, *args, **kwargs)
            rewrite(result)
            return result

        return mutated

    return replaced(_facade(), method, make)


def _answers_rewritten(change: Callable[[str], str]):
    """The facade's answers come back with their text changed (citations left as they were)."""
    return _returned("ask", lambda answer: setattr(answer, "answer", change(answer.answer)))


def _memos_rewritten(rewrite: Callable[[Any], None]):
    return _returned("memo", rewrite)


def _each_memo_text(change: Callable[[str], str]) -> Callable[[Any], None]:
    def rewrite(memo) -> None:
        memo.sections = {k: [change(p) for p in v] for k, v in memo.sections.items()}
        for row in memo.options:
            for column in ("benefits", "costs", "risks"):
                setattr(row, column, change(getattr(row, column)))

    return rewrite


def _assessments_rewritten(rewrite: Callable[[Any], None]):
    return _returned("assess", rewrite)


# -- the faults -----------------------------------------------------------------------------------


def strip_citations(text: str) -> str:
    from advisor.core.citations import strip_markers

    return strip_markers(text, "")


def renumber_citations(text: str) -> str:
    """Every [n] becomes [n + 1]: each claim cites its neighbour's source, the last one nothing."""
    from advisor.core.citations import rewrite_markers

    return rewrite_markers(text, lambda n: f"[{n + 1}]")


def drop_half_the_sentences(text: str) -> str:
    """Every second sentence of each paragraph is dropped (a marker standing alone is kept)."""
    from advisor.core.citations import strip_markers
    from advisor.core.sentences import sentences

    out = []
    for paragraph in text.split("\n\n"):
        kept = [
            s
            for i, s in enumerate(sentences(paragraph))
            if i % 2 == 0 or not strip_markers(s, "").strip(" .")
        ]
        out.append(" ".join(kept))
    return "\n\n".join(out)


@contextlib.contextmanager
def never_abstain():
    from advisor.answering import answer

    # The answerer abstains on weak evidence and on a specific subject no document mentions:
    # both are switched off.
    with (
        replaced(
            answer, "evidence_is_weak", lambda _: lambda retrieval, **_: not retrieval.passages
        ),
        replaced(answer, "absent_subject", lambda _: lambda *args, **kwargs: []),
    ):
        yield


@contextlib.contextmanager
def always_abstain():
    from advisor.answering import answer

    with replaced(answer, "evidence_is_weak", lambda _: lambda retrieval, **_: True):
        yield


def _ranking(reorder: Callable[[list], list]):
    from advisor.retrieval.hybrid import HybridRetriever

    def make(search):
        def mutated(self, *args, **kwargs):
            retrieval = search(self, *args, **kwargs)
            retrieval.passages = reorder(list(retrieval.passages))
            return retrieval

        return mutated

    return replaced(HybridRetriever, "search", make)


def _shuffle_below_top(passages: list) -> list:
    rest = passages[1:]
    random.Random(len(passages)).shuffle(rest)
    return passages[:1] + rest


def client_scopes(shared: Path = SHARED) -> list[str]:
    """Every client of the eval corpora, from their folders."""
    folders = {d.corpus / CLIENTS_DIR for d in datasets(shared).values()}
    return sorted({c.name for f in folders if f.is_dir() for c in f.iterdir() if c.is_dir()})


@contextlib.contextmanager
def scope_widened():
    """Every client filter admits every client: `scopes_for` gives all scopes wherever the
    product asks (the final gates included), and while assessing, the store's scope filter
    answers any scope with every chunk, labelled as the scope asked for (so a check that trusts
    the label is fooled; the eval's check reads the folder on disk)."""
    from advisor.core import principal
    from advisor.core.settings import PLAYBOOK_SCOPE
    from advisor.core.store import Store

    every = [PLAYBOOK_SCOPE, *client_scopes()]

    def unfiltered(chunks_in):
        def mutated(self, scopes):
            chunks = chunks_in(self, every)
            return [c.model_copy(update={"scope": scopes[0]}) for c in chunks] if scopes else chunks

        return mutated

    def make(assess):
        def mutated(self, *args, **kwargs):
            with replaced(Store, "chunks_in", unfiltered):
                return assess(self, *args, **kwargs)

        return mutated

    facade = _facade()  # imported first, so that it is among the modules the block rebinds
    widen = replaced_everywhere(principal.scopes_for, lambda client: list(every))
    with widen, replaced(facade, "assess", make):
        yield


def _memo_options_emptied(memo) -> None:
    from advisor.memo.model import OptionRow

    memo.options = [OptionRow(option=row.option) for row in memo.options]


def _verdicts_missing(assessment) -> None:
    for v in assessment.verdicts:
        v.verdict, v.evidence = "missing", []


def _renumber_assessment(assessment) -> None:
    for c in assessment.conflicts:
        c.first, c.second = c.first + 1, c.second + 1
    for v in assessment.verdicts:
        v.evidence = [m + 1 for m in v.evidence]


@contextlib.contextmanager
def hung_requests():
    """One question in five hangs in retrieval for longer than any latency bound."""
    from advisor.retrieval.hybrid import HybridRetriever

    def make(search):
        def mutated(self, query, *args, **kwargs):
            if hashlib.sha256(query.encode()).digest()[0] % SLOW_SHARE == 0:
                time.sleep(SLOW_SECONDS)
            return search(self, query, *args, **kwargs)

        return mutated

    with replaced(HybridRetriever, "search", make):
        yield


@contextlib.contextmanager
def _together(*patches):
    with contextlib.ExitStack() as stack:
        for p in patches:
            stack.enter_context(p)
        yield


@dataclass(frozen=True)
class Mutant:
    name: str
    fault: str
    datasets: tuple[str, ...]
    install: Callable[[], contextlib.AbstractContextManager]


ANSWER_SETS = ("dev-questions", "dev-extra", "llm-replay")
MUTANTS = [
    Mutant("never-abstain", "answers whatever the evidence", ANSWER_SETS, never_abstain),
    Mutant("always-abstain", "abstains on every question", ("dev-questions",), always_abstain),
    Mutant(
        "ranking-reversed",
        "the ranked passages in reverse order",
        ("dev-questions", "llm-replay"),
        lambda: _ranking(lambda p: p[::-1]),
    ),
    Mutant(
        "ranking-shuffled",
        "the ranked passages shuffled below the top one",
        ("dev-questions",),
        lambda: _ranking(_shuffle_below_top),
    ),
    Mutant(
        "citations-stripped",
        "every [n] removed from answers and memos",
        ("dev-questions", "llm-replay", "memos-dev"),
        lambda: _together(
            _answers_rewritten(strip_citations), _memos_rewritten(_each_memo_text(strip_citations))
        ),
    ),
    Mutant(
        "citations-renumbered",
        "every [n] cites n + 1 (answers, memos, assessment)",
        ("dev-questions", "llm-replay", "memos", "assessment"),
        lambda: _together(
            _answers_rewritten(renumber_citations),
            _memos_rewritten(_each_memo_text(renumber_citations)),
            _assessments_rewritten(_renumber_assessment),
        ),
    ),
    Mutant(
        "scope-widened",
        "the client scope filter admits every client",
        ("sample", "llm-replay", "memos", "assessment"),
        scope_widened,
    ),
    Mutant(
        "half-the-sentences",
        "every second sentence of answers and memos dropped",
        ("dev-questions", "llm-replay", "memos-dev"),
        lambda: _together(
            _answers_rewritten(drop_half_the_sentences),
            _memos_rewritten(_each_memo_text(drop_half_the_sentences)),
        ),
    ),
    Mutant(
        "memo-options-emptied",
        "the memo's options table has no cells",
        ("memos", "memos-dev"),
        lambda: _memos_rewritten(_memo_options_emptied),
    ),
    Mutant(
        "verdicts-missing",
        "every assessment verdict is 'missing'",
        ("assessment",),
        lambda: _assessments_rewritten(_verdicts_missing),
    ),
    Mutant("hung-requests", "one question in five hangs 5.5 s", ("dev-extra",), hung_requests),
]


# -- running and judging --------------------------------------------------------------------------


@dataclass
class Runner:
    """Runs datasets with their gates, keeping one loaded system per corpus and mode."""

    replay_url: str | None = None
    shared: Path = SHARED
    systems: dict[tuple[Path, bool], Any] = field(default_factory=dict)

    def settings(self, llm: bool):
        from advisor.core.settings import Settings

        if not llm:
            return Settings(mode="offline")
        if not self.replay_url:
            raise SystemExit("the llm-replay dataset needs --replay-url (see make eval-mutants)")
        return Settings(mode="auto", openai_base_url=self.replay_url, openai_api_key="replay")

    def system(self, dataset: Dataset):
        from evals.systems import OurSystem

        key = (dataset.corpus.resolve(), dataset.llm)
        if key not in self.systems:
            system = OurSystem(self.settings(dataset.llm), dataset.corpus)
            system.prepare()  # the cached index: nothing to ingest after `make eval`
            self.systems[key] = system
        return self.systems[key]

    def run(self, dataset: Dataset) -> tuple[dict, list]:
        """The report of one dataset and the metrics its gates read."""
        split = verified_split(dataset.path)
        system = self.system(dataset)
        if dataset.task == "memo":
            from evals.memo_eval import evaluate_memos, memo_metrics

            report = evaluate_memos(
                system.settings, dataset.corpus, dataset.path, split, system=system, intervals=False
            )
            return report, memo_metrics()
        if dataset.task == "assessment":
            from evals.assessment_eval import assessment_metrics, run

            report = run(
                system.settings, dataset.corpus, dataset.path, split, system=system, intervals=False
            )
            return report, assessment_metrics()
        from evals.dataset import load_dataset
        from evals.evaluate import evaluate
        from evals.scoring import answer_metrics

        items = load_dataset(dataset.path, dataset.corpus)
        config = {"dataset_name": dataset.name, "system": "ours", "k": 5}
        report = evaluate(
            system, items, dataset.corpus.resolve(), 5, config, split=split, intervals=False
        )
        return report, answer_metrics(5)

    def failures(self, dataset: Dataset) -> set[str]:
        """The gated metrics of `dataset` that fail now, by the same rule as `cto-advisor eval`."""
        from evals.parts import gate
        from evals.report import load_baseline
        from evals.thresholds import DEFAULT_PATH, load_gates

        report, metrics = self.run(dataset)
        gates = load_gates(DEFAULT_PATH, dataset.name)
        base = load_baseline(gates.baseline)["items"] if gates.baseline else None
        found, _ = gate(report, metrics, gates, verified_split(dataset.path), base)
        return {f.metric for f in found}


def gated(names: Sequence[str]) -> dict[str, set[str]]:
    """{dataset: the metrics its gates read}: hard bounds, and baseline-tested metrics."""
    from evals.thresholds import DEFAULT_PATH, load_gates

    out = {}
    for name in names:
        gates = load_gates(DEFAULT_PATH, name)
        out[name] = {t.metric for t in gates.thresholds} | set(gates.margins)
    return out


@dataclass
class Table:
    """caught[mutant][metric] = the datasets whose gate on `metric` failed under `mutant`."""

    mutants: list[str]
    metrics: list[str]
    caught: dict[str, dict[str, list[str]]]
    ran: dict[str, set[str]]  # mutant -> metrics some dataset it ran gates

    def problems(self) -> list[str]:
        """What the table fails on: a mutant no gate caught, a gated metric that caught none."""
        out = [
            f"mutant {m} was caught by no gate"
            for m in self.mutants
            if not any(self.caught[m].values())
        ]
        out += [
            f"gated metric {g} caught no mutant"
            for g in self.metrics
            if not any(self.caught[m].get(g) for m in self.mutants)
        ]
        return out

    def render(self) -> str:
        """A Markdown table: a cell names the datasets whose gate failed ("." survived, "-" not
        run against that metric)."""
        short = {
            "dev-questions": "dev",
            "dev-extra": "dev-x",
            "llm-replay": "llm",
            "memos-dev": "memos-dev",
        }
        header = ["mutant", *self.metrics]
        rows = []
        for m in self.mutants:
            cells = [m]
            for g in self.metrics:
                hit = self.caught[m].get(g)
                cells.append(
                    "X " + ",".join(short.get(d, d) for d in hit)
                    if hit
                    else "."
                    if g in self.ran[m]
                    else "-"
                )
            rows.append(cells)
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m evals.mutants", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--replay-url", help="the loopback replay server for the llm-replay set")
    parser.add_argument("--shared", type=Path, default=SHARED, help="the shared corpora folder")
    parser.add_argument("--only", nargs="*", help="run these mutants only")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--md", type=Path, help="also write the table here (Markdown)")
    args = parser.parse_args(argv)
    available = datasets(args.shared)
    chosen = [m for m in MUTANTS if not args.only or m.name in args.only]
    runner = Runner(args.replay_url, args.shared)
    needed = sorted({d for m in chosen for d in m.datasets if d in available})
    reads = gated(needed)
    caught: dict[str, dict[str, list[str]]] = {}
    ran: dict[str, set[str]] = {}
    started = time.time()
    for mutant in chosen:
        caught[mutant.name], ran[mutant.name] = {}, set()
        begun = time.time()
        with mutant.install():
            for name in mutant.datasets:
                if name not in available:
                    print(f"{mutant.name}: {name} not here, skipped", file=sys.stderr)
                    continue
                ran[mutant.name] |= reads[name]
                for metric in sorted(runner.failures(available[name]) & reads[name]):
                    caught[mutant.name].setdefault(metric, []).append(name)
        print(
            f"{mutant.name}: {time.time() - begun:.0f} s, caught by {sorted(caught[mutant.name]) or 'nothing'}",
            file=sys.stderr,
        )
    metrics = sorted({g for name in needed for g in reads[name]})
    table = Table([m.name for m in chosen], metrics, caught, ran)
    print(table.render())
    print(
        f"\n{len(chosen)} mutants x {len(metrics)} gated metrics in {time.time() - started:.0f} s"
    )
    if args.md:
        args.md.parent.mkdir(parents=True, exist_ok=True)
        args.md.write_text(table.render() + "\n")
    if args.json:
        args.json.write_text(json.dumps({"caught": caught, "metrics": metrics}, indent=1) + "\n")
    problems = table.problems()
    for line in problems:
        print(f"FAILED: {line}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
