"""Offline sentence selection: how passages split into sentences, and which sentences are quoted."""

from __future__ import annotations

import pytest

from advisor.answering.extractive import (
    BUDGETS,
    MAX_WORDS,
    Sentence,
    group_by_passage,
    select,
    split_sentences,
)
from advisor.core.models import Passage

# -- splitting --------------------------------------------------------------------------------


def test_a_full_stop_before_a_capital_ends_a_sentence():
    assert split_sentences("Start on managed Postgres. Add Redis only when needed.") == [
        "Start on managed Postgres.",
        "Add Redis only when needed.",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Pick a boring stack, i.e. the one your team already knows well.",
        "Budget 3.5 engineer-days a month for dependency upgrades.",
        "Run Node.js 20 or later, e.g. on Fargate, per the U.S. team's guide.",
    ],
)
def test_no_split_inside_abbreviations_or_decimals(text):
    assert split_sentences(text) == [text]


def test_an_opening_bracket_or_quote_starts_the_next_sentence():
    # spaCy's sentencizer alone would leave "(" at the end of the first sentence.
    assert split_sentences(
        'Keep CI under ten minutes. (Parallelise the tests.) "Flaky" tests are bugs.'
    ) == [
        "Keep CI under ten minutes.",
        "(Parallelise the tests.)",
        '"Flaky" tests are bugs.',
    ]


def test_bullets_and_numbering_are_removed():
    text = "- Ship to production daily.\n* Review within one day.\n2. Measure the lead time.\n"
    text += "b) Hire seniors before juniors.\n• Keep the pager quiet at night."

    assert split_sentences(text) == [
        "Ship to production daily.",
        "Review within one day.",
        "Measure the lead time.",
        "Hire seniors before juniors.",
        "Keep the pager quiet at night.",
    ]


def test_short_items_join_the_line_that_introduces_them():
    assert split_sentences("Our backend languages are:\n- Java\n- Python\n- Ruby") == [
        "Our backend languages are: Java, Python, Ruby"
    ]


def test_a_run_of_short_items_becomes_one_line():
    assert split_sentences("Postgres\nRedis\nKafka\n\nWe run all three on AWS.") == [
        "Postgres, Redis, Kafka",
        "We run all three on AWS.",
    ]


def test_a_lone_short_line_is_a_heading_not_a_point():
    assert split_sentences("Deploy cadence\nWe deploy every working day from main.") == [
        "We deploy every working day from main."
    ]


def test_fragments_are_left_out():
    assert split_sentences("Yes. No. We deploy every working day from main.") == [
        "We deploy every working day from main."
    ]


@pytest.mark.parametrize(
    "code",
    ['config = {"retries": 3, "timeout": [5, 10]};', '<div class="x"><b>hi</b></div>', "x = 1;"],
)
def test_code_and_markup_are_left_out(code):
    assert split_sentences(f"{code}\nKeep configuration in environment variables.") == [
        "Keep configuration in environment variables."
    ]


def test_a_very_long_sentence_is_cut_at_a_word():
    sentence = "We keep " + "very " * 120 + "long notes."

    (out,) = split_sentences(sentence)

    assert len(out) <= 404 and out.endswith(" ...") and " very ..." in out


def test_whitespace_inside_a_sentence_is_collapsed():
    assert split_sentences("We  deploy\tevery   day.") == ["We deploy every day."]


# -- choosing ---------------------------------------------------------------------------------

QUESTION = "Which database should a new SaaS product start on?"
ON_TOPIC = "Start every new SaaS product on managed Postgres."
OFF_TOPIC = "The cafeteria serves lasagne on Fridays. Office plants are watered every Tuesday."


def passage(text: str, n: int = 0) -> Passage:
    return Passage(id=f"p{n}", text=text, source=f"doc{n}.md", score=1.0)


def test_an_off_topic_sentence_is_never_quoted_even_when_nothing_else_is_left(embeddings):
    assert select(QUESTION, [passage(OFF_TOPIC)], embeddings) == []


def test_the_relevant_sentence_is_quoted_and_the_off_topic_one_is_not(embeddings):
    chosen = select(QUESTION, [passage(f"{OFF_TOPIC} {ON_TOPIC}")], embeddings)

    assert [s.text for s in chosen] == [ON_TOPIC]


def test_a_sentence_said_twice_is_quoted_once(embeddings):
    chosen = select(QUESTION, [passage(ON_TOPIC, 0), passage(ON_TOPIC, 1)], embeddings)

    assert [(s.text, s.passage) for s in chosen] == [(ON_TOPIC, 0)]


def test_passages_ranked_beyond_the_budgets_are_not_quoted(embeddings):
    filler = [passage("Our team uses Jira for tickets and Slack for chat.", n) for n in range(3)]
    late = passage(ON_TOPIC, 3)
    ranks = list(range(len(BUDGETS) + 1))

    chosen = select(QUESTION, [*filler, late], embeddings, ranks)

    assert all(s.passage != 3 for s in chosen)


def test_the_top_passage_stays_within_its_word_budget(embeddings):
    sentences = [
        f"Postgres option {n} for a new SaaS database is a managed instance with backups enabled."
        for n in range(20)
    ]

    chosen = select(QUESTION, [passage(" ".join(sentences))], embeddings)

    words = sum(len(s.text.split()) for s in chosen)
    assert chosen and words <= BUDGETS[0] <= MAX_WORDS


def test_groups_follow_passage_order_and_document_order_within():
    picked = [Sentence("c", 1, 5), Sentence("a", 0, 2), Sentence("b", 1, 0), Sentence("d", 0, 1)]

    groups = group_by_passage(picked)

    assert [(i, [s.text for s in group]) for i, group in groups] == [
        (0, ["d", "a"]),
        (1, ["b", "c"]),
    ]
