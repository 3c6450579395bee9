"""The question's specific subject (entities, years, versions, names), looked up in every chunk
the question may see; the asker's own name is not the subject."""

from __future__ import annotations

import pytest

from advisor.answering.abstention import absent_subject, absent_terms, specific_terms
from advisor.answering.rewrite import parse
from advisor.core.models import Passage
from advisor.retrieval.hybrid import Retrieval
from advisor.retrieval.lexical import LexicalIndex

TEXTS = [
    "The July 2026 dispatch outage cost £64,000 in SLA credits. In March the roadmap was set.",
    "We run Kubernetes 1.29 on EKS and Kafka on MSK.",
    "The Series B was raised in 2025.",
    "Gareth Pryce owns the Dispatch Classic MySQL database.",
    "Ledgerly runs Postgres 15 with 16 engineers on call. The Series A closed in November.",
    "Invoices are routed to billing before the ledger entry is written.",
]


@pytest.fixture(scope="module")
def retrieval():
    passages = [Passage(id=f"c{i}", text=t, source=f"d{i}.md") for i, t in enumerate(TEXTS)]
    index = LexicalIndex.build(passages)
    return Retrieval(query="", passages=passages, lexicon=index.doc_freq, index=index)


@pytest.mark.parametrize(
    ("question", "absent"),
    [
        ("Should we move off Nomad?", ["Nomad"]),
        ("What did the March 2025 outage cost us?", ["March 2025"]),  # both words exist, apart
        ("What did the July 2026 outage cost us?", []),
        ("When do we upgrade Kubernetes 1.29?", []),
        ("Should we upgrade to Kubernetes 1.31?", ["Kubernetes 1.31"]),
        ("How do we move the database off PostgreSQL 12?", ["PostgreSQL 12"]),
        ("What does Gareth Pryce own?", []),
        ("What does Marta Silva own?", ["Marta Silva"]),
        ("How does the Berlin office handle on-call?", ["Berlin"]),
        # Words of a name found in one chunk but apart are not the name.
        ("Should Ledgerly upgrade to Postgres 16?", ["Postgres 16"]),
        ("When was the Series A raised?", []),
        ("When will Ledgerly raise its Series C?", ["Series C"]),  # "C": a name's letter
        ("What did the November 2026 outage cost?", ["November 2026"]),
        # Names the tagger reads as common nouns: a capital inside the word or the sentence.
        ("Should we migrate the MySQL database to ScyllaDB?", ["ScyllaDB"]),
        ("Do we run CircleCI or Jenkins for the builds?", ["CircleCI", "Jenkins"]),
        # A name the stemmer turns into a word the documents use ("Routely" -> "rout", as in
        # "routed"; "Billingly" -> "bill") is still a name nothing mentions.
        ("Should we copy Routely's on-call rotation?", ["Routely"]),
        ("Does Billingly own the invoices?", ["Billingly"]),
        # An entity's descriptive words need not stand next to its name in the documents.
        ("What did the March outage cost?", []),
    ],
)
def test_the_specific_term_no_chunk_mentions_is_named(retrieval, question, absent):
    assert absent_subject(question, retrieval, parse) == absent


@pytest.mark.parametrize(
    "question",
    [
        "Zentrix, a proptech company, wants to know whether test and production should share "
        "one cloud account.",
        "As a healthtech startup called Medora, how should we run on-call?",
        "We're Acme, a fintech with eight engineers. How should we run on-call?",
    ],
)
def test_the_askers_own_name_is_not_the_subject(retrieval, question):
    assert absent_subject(question, retrieval, parse) == []


def test_the_clients_own_name_is_never_a_missing_subject():
    assert specific_terms("What should Haulwise do about on-call?", parse, ["haulwise"]) == []


def test_an_options_name_the_stemmer_changed_is_looked_up_as_written(retrieval):
    """The memo's and the decision table's check of an option reads the chunks its stemmed words
    are in: "Routely" is stemmed to "rout", which "routed" is too."""
    by_id = {p.id: p for p in retrieval.passages}

    def fetch(ids):
        return [by_id[i] for i in ids]

    option = "Copy Routely's two-person rotation"
    assert absent_terms(option, parse, retrieval.index, fetch=fetch) == ["Routely"]
    assert absent_terms("Copy Ledgerly's rotation", parse, retrieval.index, fetch=fetch) == []
