"""Is a question in English? The documents are; a question in another language gets a note and the
best attempt instead of a refusal written in English (langdetect, seeded for repeatable results,
plus the share of English function words, which keeps short technical questions English)."""

from __future__ import annotations

import re
import threading
from functools import cache

FOREIGN_NOTE = (
    "*Your question does not seem to be in English. The documents are in English, so this is "
    "the best match I found in them; asking in English will usually find more.*"
)
# Not fitted: no labelled question in another language exists to fit them on. Checked by
# benchmarks/calibrate_answers.py on every English tuning question (62): none is flagged; the
# lowest function-word share is 0.14, the one question under 0.2 got langdetect probability 0 for
# another language. They err towards English: a wrong note costs more than a missed one.
MIN_LETTERS = 12  # shorter questions are too little text to tell a language by
CONFIDENT = 0.9  # the detector's probability that the question is in another language
ENGLISH_FUNCTION_WORDS = 0.2  # share of words that are English stop words, at or above: English
_LOCK = threading.Lock()


@cache
def _detector():
    from langdetect import DetectorFactory

    DetectorFactory.seed = 0  # langdetect samples at random: seeded, the same answer every time
    from langdetect import detect_langs

    return detect_langs


def not_english(question: str) -> bool:
    """True when the question is confidently in another language than English."""
    words = re.findall(r"[^\W\d_]+", question.lower())
    if sum(len(w) for w in words) < MIN_LETTERS:
        return False
    from advisor.answering.abstention import _stop_words

    stop = _stop_words()
    if sum(w in stop for w in words) / len(words) >= ENGLISH_FUNCTION_WORDS:
        return False
    from langdetect.lang_detect_exception import LangDetectException

    try:
        with _LOCK:
            guesses = _detector()(question)
    except LangDetectException:
        return False
    best = guesses[0] if guesses else None
    return bool(best and best.lang != "en" and best.prob >= CONFIDENT)
