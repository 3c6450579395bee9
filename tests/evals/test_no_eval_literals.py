"""No rule written from an eval item: product code must not carry the items' words.

Every string literal (docstrings and regular-expression sources included) and every comment in
advisor/, ingest/ and the prompts is scanned for:

- the key facts of every dataset (`must_include`, `must_not_include`, memo `key_facts`): a phrase
  of two or more words anywhere, case-insensitive; a single word when it is specific enough to
  be a fitted rule: five letters or more, or a number; a capitalised single word (a name, an
  acronym: "PagerDuty", "ADOPT") only in its own case, so the verb "adopt" is not the radar ring;
- topic and question phrases: any run of five words of a memo topic or a question;
- gold sentences: any run of seven words of a text gold document of any item (what the memo
  once quoted to build its anaphor rule).

Regular expressions are read as words: `only (two|one)` holds "only two". Matching is by whole
words (`evals.metrics.words`). A hit fails with the file, line and phrase; the fix is a general
mechanism, or an example written for the code instead of copied from an eval item.
"""

from __future__ import annotations

import io
import json
import re
import tokenize
from functools import cache
from pathlib import Path

import yaml

from evals.memo_eval import SECTION_KEYS
from evals.metrics import words
from tests.conftest import ROOT, SAMPLE_DATA, SHARED

SCANNED = [ROOT / "advisor", ROOT / "ingest"]
PROMPTS = ROOT / "prompts"
TOPIC_WORDS = 5
GOLD_WORDS = 7
TEXT_SUFFIXES = {".md", ".erb", ".html", ".csv", ".txt", ".json"}
_RAW_WORD = re.compile(r"[^\W_]+")  # words in their own case
_REGEX_SYNTAX = re.compile(r"\(\?[:=!<>]*|\\[bBsSdDwW]|[()|?*+^$\[\]{}]")


def _datasets(shared: Path | None) -> list[tuple[Path, Path]]:
    """(dataset, its corpus) for every JSONL dataset we can read here."""
    out = [(p, SAMPLE_DATA) for p in sorted((ROOT / "evals/datasets").glob("*.jsonl"))]
    if shared is not None:
        out = [(p, shared / "dev" if "dev" in p.stem else c) for p, c in out]
        out.append((shared / "dev-questions.jsonl", shared / "dev"))
    return out


@cache
def _items(shared: Path | None) -> list[tuple[dict, Path]]:
    found = []
    for path, corpus in _datasets(shared):
        for line in path.read_text("utf-8").splitlines():
            if line.strip():
                found.append((json.loads(line), corpus))
    return found


def _facts(shared) -> set[str]:
    facts = set()
    for item, _ in _items(shared):
        for key in ("must_include", "must_not_include", "key_facts"):
            facts.update(item.get(key) or [])
    return facts


def _runs(text: str, n: int) -> set[str]:
    w = words(text)
    return {" ".join(w[i : i + n]) for i in range(len(w) - n + 1)}


def _topic_phrases(shared) -> set[str]:
    out = set()
    for item, _ in _items(shared):
        for text in [item.get("topic"), item.get("question"), *(item.get("turns") or [])]:
            if text:
                out |= _runs(text, TOPIC_WORDS)
    return out


def _gold_sentences(shared) -> set[str]:
    docs = set()
    for item, corpus in _items(shared):
        paths = list(item.get("gold_sources") or []) + list(item.get("related") or [])
        for section in SECTION_KEYS.values():
            paths += (item.get("gold") or {}).get(section, [])
        docs |= {corpus / p for p in paths if Path(p).suffix in TEXT_SUFFIXES}
    return {
        run for doc in docs if doc.is_file() for run in _runs(doc.read_text("utf-8"), GOLD_WORDS)
    }


def _literals() -> list[tuple[str, int, str]]:
    """(file, line, text) of every string literal and comment, and every prompt line."""
    out = []
    for folder in SCANNED:
        for path in sorted(folder.rglob("*.py")):
            source = path.read_text("utf-8")
            for tok in tokenize.generate_tokens(io.StringIO(source).readline):
                if tok.type in (tokenize.STRING, tokenize.COMMENT) or tok.type == getattr(
                    tokenize, "FSTRING_MIDDLE", -1
                ):
                    out.append((str(path.relative_to(ROOT)), tok.start[0], tok.string))
    for path in sorted(PROMPTS.glob("*.md")):
        for n, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
            out.append((str(path.relative_to(ROOT)), n, line))
    return out


def _as_words(literal: str) -> str:
    """A literal as " word word ... ", regular-expression syntax read as word breaks."""
    return f" {' '.join(words(_REGEX_SYNTAX.sub(' ', literal)))} "


def _specific_word(fact: str) -> bool:
    return len(words(fact)) == 1 and (len(fact) >= 5 or any(c.isdigit() for c in fact))


# Words that are product vocabulary, not a fitted rule, with where and why they appear.
VOCABULARY = {
    "Heroku": "ingest/repo/stack.py: a hosting platform the repository stack detector recognises",
}


def hits(literals, facts, phrases) -> list[str]:
    """Printable hits of facts and phrases (runs of words) in the literals."""
    out = []
    multi = {f for f in facts if len(words(f)) > 1}
    cased = {f for f in facts if _specific_word(f) and any(c.isupper() for c in f)}
    single = {f.casefold() for f in facts if _specific_word(f)} - {c.casefold() for c in cased}
    lengths = {len(p.split()) for p in phrases}
    for where, line, text in literals:
        plain = _REGEX_SYNTAX.sub(" ", text)
        flat = " " + " ".join(words(plain)) + " "
        raw = " " + " ".join(_RAW_WORD.findall(plain)) + " "
        found = [p for p in multi if f" {' '.join(words(p))} " in flat]
        found += [f for f in single if f" {f} " in flat]
        found += [f for f in cased if f" {f} " in raw]
        runs = set().union(*(_runs(plain, n) for n in lengths)) if lengths else set()
        found += sorted(runs & phrases)
        out += [f"{where}:{line}: {p!r}" for p in sorted(set(found))]
    return out


def test_the_scan_finds_a_fitted_rule_in_code():
    literals = [
        ("x.py", 1, r'r"\b(risks?|muted|only (two|one)\b)"'),
        ("x.py", 2, "# quoted from the playbook: if it is none of those things, ignore it"),
        ("x.py", 3, '"We adopt tools slowly."'),
        ("x.py", 4, '"Route alerts to PagerDuty."'),
    ]
    facts = {"muted", "only two engineers", "only two", "ADOPT", "PagerDuty", "Go"}
    gold = _runs("If it is none of those things, ignore it and move on.", GOLD_WORDS)
    found = hits(literals, facts, gold)
    assert "x.py:1: 'muted'" in found and "x.py:1: 'only two'" in found
    assert any(h.startswith("x.py:2:") for h in found)
    assert "x.py:4: 'PagerDuty'" in found
    assert not any(h.startswith("x.py:3:") for h in found), "the verb is not the ring ADOPT"


def test_product_code_carries_no_key_fact_topic_or_gold_sentence_of_any_dataset():
    # Without the shared corpora, our own datasets are still scanned (their gold documents too).
    shared = SHARED if (SHARED / "dev-questions.jsonl").is_file() else None
    facts = _facts(shared) - set(VOCABULARY)
    phrases = _topic_phrases(shared) | _gold_sentences(shared)
    labels = yaml.safe_load((ROOT / "evals/datasets/assessment.yaml").read_text("utf-8"))
    assert facts and phrases and labels["clients"]
    found = hits(_literals(), facts, phrases)
    assert not found, "eval items written into product code:\n" + "\n".join(found)
