"""Missing key terms: found by spaCy's tagger, which is loaded only when a question has a word
no visible document contains (loading it was the largest part of a one-shot `ask`)."""

from __future__ import annotations

from advisor.answering import abstention
from advisor.retrieval.lexical import tokenize

DOCS = "Engineers on call carry the pager. Rotation size: five engineers per on-call rotation."


def _lexicon(text: str) -> dict[str, int]:
    return dict.fromkeys(tokenize(text), 1)


def test_a_question_whose_words_the_documents_all_contain_has_no_missing_terms():
    question = "How many engineers should be in the on-call rotation?"
    assert abstention._every_word_known(question, _lexicon(DOCS + " should"))
    assert abstention.missing_key_terms(question, _lexicon(DOCS + " should")) == []


def test_an_unknown_noun_is_still_found_by_the_tagger():
    question = "Should our engineers move the pager to Snowflake or BigQuery?"
    assert not abstention._every_word_known(question, _lexicon(DOCS))
    assert abstention.missing_key_terms(question, _lexicon(DOCS)) == ["Snowflake", "BigQuery"]


def test_a_word_known_only_inside_a_longer_token_still_counts_as_unknown():
    # "node.js" is one term to the documents; the question's "node" alone is not known.
    lexicon = _lexicon("We deploy node.js services, version 20.")
    assert not abstention._every_word_known("Which node version?", lexicon)
