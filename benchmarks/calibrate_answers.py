"""Choose the offline answer's shaping thresholds on the tuning parts only.

Usage: python benchmarks/calibrate_answers.py [--shared ../shared/corpora] [--quick]

The constants (advisor/answering/answer.py):

- `LEAD_MIN`: how close (cosine plus term overlap, as `extractive.select` scores) a client's own
  sentence must be to the question to lead the answer, and a sentence of a decision's own search
  to stand beside the memo engine's guidance;
- `WATCH_MIN`: how close to the question a client risk must be to be said under "Watch out";
- `MIN_POINT_WORDS`: a risk line shorter than this is a heading, not a point.

Every tuning item of the answer sets (sample and near-topic over data/; dev-questions, dev-extra
and near-topic-dev over the dev corpus with --shared) is answered for each candidate, one
constant at a time (coordinate search from the priors, in the order above), and scored by the
eval's own scorer: key-fact recall, claim support (faithfulness) and false abstention. The
frozen test parts are never answered here.

The rule, fixed before the first run: the highest key-fact recall among the candidates whose
faithfulness is within 0.01 of the prior's and whose false abstention is no higher; a gain under
0.005 is a tie, and ties go to the prior (no change without evidence). Paste the winners into
answer.py. `--quick` answers only the items the constant can change (asked for a client).

The language check's two thresholds (advisor/answering/language.py) are not fitted: there is no
labelled question in another language to fit them on. They are checked here instead: every
English question of every tuning part must stay English (none flagged), and the script prints
how close the nearest came (the lowest share of English function words, and the highest
probability langdetect gave another language among those it was asked about).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from advisor.answering import answer as answer_module
from advisor.core.settings import Settings
from evals.dataset import load_dataset
from evals.evaluate import passage_texts
from evals.runner import run_items
from evals.scoring import aggregate, score_observation
from evals.splits import TUNING, select, verified_split
from evals.systems import OurSystem

K = 5
CANDIDATES = {
    "LEAD_MIN": (0.3, 0.35, 0.4, 0.45, 0.5),
    "WATCH_MIN": (0.2, 0.25, 0.3, 0.35, 0.4),
    "MIN_POINT_WORDS": (4, 6, 8),
}
FAITHFULNESS_SLACK = 0.01
TIE = 0.005


def load_sets(shared: Path | None, quick: bool):
    sets = [
        (Path("data"), Path("evals/datasets/sample.jsonl")),
        (Path("data"), Path("evals/datasets/near-topic.jsonl")),
    ]
    if shared is not None and (shared / "dev").is_dir():
        sets += [
            (shared / "dev", shared / "dev-questions.jsonl"),
            (shared / "dev", Path("evals/datasets/dev-extra.jsonl")),
            (shared / "dev", Path("evals/datasets/near-topic-dev.jsonl")),
        ]
    systems: dict[Path, tuple[OurSystem, object]] = {}
    loaded = []
    for corpus, dataset in sets:
        items = select(load_dataset(dataset, corpus), verified_split(dataset), TUNING)
        if quick:
            items = [i for i in items if i.client]
        if corpus not in systems:
            system = OurSystem(Settings(mode="offline"), corpus)
            system.prepare()
            systems[corpus] = (system, passage_texts(system))
        system, texts = systems[corpus]
        loaded.append((corpus.resolve(), items, system, texts))
    return loaded


def measure(loaded) -> dict[str, float]:
    entries = []
    for corpus, items, system, texts in loaded:
        for obs in run_items(system, items):
            entries.append(score_observation(obs, corpus, K, True, passages=texts))
    metrics, _, _ = aggregate(entries, K)
    return {
        "fact_recall": metrics["fact_recall"] or 0.0,
        "faithfulness": metrics["faithfulness"] or 0.0,
        "false_abstain_rate": metrics["false_abstain_rate"] or 0.0,
        "items": len(entries),
    }


def language_check(loaded) -> None:
    import re

    from advisor.answering import language
    from advisor.answering.abstention import _stop_words

    stop = _stop_words()
    questions = [q for _, items, _, _ in loaded for i in items for q in i.all_turns]
    flagged = [q for q in questions if language.not_english(q)]
    shares, probabilities = [], []
    for q in questions:
        words = re.findall(r"[^\W\d_]+", q.lower())
        if not words:
            continue
        share = sum(w in stop for w in words) / len(words)
        shares.append(share)
        if share < language.ENGLISH_FUNCTION_WORDS:
            guesses = language._detector()(q)
            other = [g.prob for g in guesses if g.lang != "en"]
            probabilities.append(max(other, default=0.0))
    print(
        f"language: {len(flagged)} of {len(questions)} English tuning questions flagged; lowest "
        f"function-word share {min(shares):.2f} (threshold {language.ENGLISH_FUNCTION_WORDS}); "
        f"{len(probabilities)} asked langdetect, highest other-language probability "
        f"{max(probabilities, default=0.0):.2f} (threshold {language.CONFIDENT})"
    )
    for q in flagged:
        print(f"  flagged: {q}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", type=Path, default=None)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    loaded = load_sets(args.shared, args.quick)
    print(f"{sum(len(i) for _, i, _, _ in loaded)} tuning items (test items are not answered)")
    language_check(loaded)
    cache: dict[tuple, dict[str, float]] = {}

    def run() -> dict[str, float]:
        key = tuple(getattr(answer_module, name) for name in CANDIDATES)
        if key not in cache:
            cache[key] = measure(loaded)
        return cache[key]

    for name, values in CANDIDATES.items():
        prior_value = getattr(answer_module, name)
        prior = run()
        results = []
        for value in values:
            setattr(answer_module, name, value)
            m = run()
            results.append((value, m))
            print(
                f"{name} = {value:<5} fact recall {m['fact_recall']:.3f}  faithfulness "
                f"{m['faithfulness']:.3f}  false abstention {m['false_abstain_rate']:.3f}"
            )
        eligible = [
            (v, m)
            for v, m in results
            if m["faithfulness"] >= prior["faithfulness"] - FAITHFULNESS_SLACK
            and m["false_abstain_rate"] <= prior["false_abstain_rate"]
        ]
        best_value, best = prior_value, prior
        for v, m in eligible:
            if m["fact_recall"] > best["fact_recall"] + TIE:
                best_value, best = v, m
        setattr(answer_module, name, best_value)
        print(f"chosen: {name} = {best_value} (prior {prior_value})\n")


if __name__ == "__main__":
    main()
