"""Abstention decisions on a real index: strong, weak, missing-term and client-name questions."""

from __future__ import annotations

import pytest

from advisor.answering.abstention import (
    Evidence,
    asked_part,
    covered_probability,
    evidence,
    evidence_is_weak,
    idf,
    missing_share,
    term_weights,
)
from advisor.core.settings import Settings
from advisor.service.facade import Advisor


@pytest.fixture(scope="module")
def search(two_clients_index, embeddings):
    advisor = Advisor(Settings(data_dir=two_clients_index), embeddings=embeddings)
    return lambda question, client=None: advisor.retriever.search(question, client=client, k=10)


def test_rarer_terms_weigh_more_and_a_term_in_no_document_weighs_most():
    assert idf(0, 100) > idf(1, 100) > idf(50, 100)
    lexicon = {"rotat": 2, "engin": 40}
    weights = term_weights("rotation engineers Initech", lexicon, 50)
    assert weights["initech"] > weights["rotat"] > weights["engin"]
    assert 0 < missing_share(weights, lexicon) < 1


def test_a_strong_question_is_answered(search):
    retrieval = search("How many engineers does an on-call rotation need?")
    assert not evidence_is_weak(retrieval)
    assert evidence(retrieval).coverage > 0.5


def test_an_unrelated_question_is_refused(search):
    assert evidence_is_weak(search("What is a good recipe for sourdough bread with rye flour?"))


def test_a_question_about_terms_no_document_mentions_is_refused(search):
    retrieval = search("Should we choose Snowflake or BigQuery as our data warehouse?")
    assert evidence(retrieval).missing > 0.5
    assert evidence_is_weak(retrieval)


def test_naming_the_client_company_and_industry_does_not_cause_a_refusal(search):
    plain = search("How many engineers does an on-call rotation need?")
    framed = search(
        "We're Initech, a fintech with eight engineers. How many engineers does an on-call "
        "rotation need?"
    )
    # The statement naming the asker is context: its unknown words are not missing evidence.
    assert evidence(framed).missing == evidence(plain).missing
    assert not evidence_is_weak(framed)


def test_only_the_sentences_that_ask_count_for_missing_terms():
    message = "We're Initech, a fintech with eight engineers. How big should a rotation be?"
    assert asked_part(message) == "How big should a rotation be?"
    assert asked_part("How fast? (on-call rotation)") == "How fast? (on-call rotation)"
    assert asked_part("Tell me about on-call.") == "Tell me about on-call."


def test_more_evidence_never_lowers_the_modelled_probability():
    weak = Evidence(top_dense=0.3, margin=0.05, coverage=0.3, missing=0.5, agreement=0.2)
    strong = Evidence(top_dense=0.6, margin=0.3, coverage=0.9, missing=0.0, agreement=0.8)
    assert covered_probability(strong) > covered_probability(weak)
