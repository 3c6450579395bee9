"""The passage-support scorer: a sentence supports a claim when it states it, in any words."""

from __future__ import annotations

import pytest

from advisor.answering.support import SupportScorer, requirements, split_claim

POSTMORTEM = "Every serious incident gets a blameless written postmortem within five business days."
PAGING = (
    "Alerts page the on-call engineer, so incidents are detected by monitoring rather than "
    "reported by customers."
)
POOL = [
    "The office moved to a new building in March.",
    "Lunch is provided on Fridays.",
    "The sales team closed four deals this quarter.",
    "Our API is written in Go.",
]


@pytest.fixture(scope="module")
def scorer(embeddings):
    return SupportScorer(embeddings)


def _by_sentence(scorer, claim, sentences):
    return {s.sentence: s for s in scorer.score(claim, [*sentences, *POOL])}


def test_a_practice_stated_in_other_words_scores_above_a_sentence_on_the_topic(scorer):
    stated = "The postmortem was published, blameless, five business days after resolution."
    topic = "The incident started at 05:40 and was resolved at 09:47."
    got = _by_sentence(scorer, POSTMORTEM, [stated, topic])
    assert got[stated].score > got[topic].score
    assert got[stated].numbers == "agree"
    assert max(got[p].score for p in POOL) < got[stated].score


def test_numbers_on_the_wrong_side_of_the_claim_disagree(scorer):
    late = "The postmortem was published eight business days after the incident."
    assert _by_sentence(scorer, POSTMORTEM, [late])[late].numbers == "disagree"
    one = "The pull request had one approval."
    got = _by_sentence(scorer, "Infrastructure changes need two approvals.", [one])
    assert got[one].numbers == "disagree" and got[one].stated == "one approval"


def test_requirements_read_their_direction_from_the_claim():
    [r] = requirements("The CI pipeline finishes in under 10 minutes.")
    assert (r.value, r.unit, r.at_most) == (10, "minute", True)
    [r] = requirements("The on-call rotation has at least five engineers.")
    assert (r.value, r.counted, r.at_most) == (5, "engineer", False)
    # a number in a condition is not required
    assert requirements("A manager is hired once the CTO has more than six reports.") == []


def test_the_alternative_a_claim_rules_out_is_found(scorer):
    asserted, excluded = split_claim(PAGING)
    assert excluded == "incidents reported by customers"
    assert "rather" not in asserted
    customer = "We learned about the outage from a customer who phoned support."
    monitoring = "Datadog paged the on-call engineer four minutes after errors began."
    got = _by_sentence(scorer, PAGING, [customer, monitoring])
    assert got[customer].excluded > got[customer].score
    assert got[monitoring].score > got[monitoring].excluded


def test_negation_and_plans_are_marked(scorer):
    got = _by_sentence(
        scorer,
        "Database migrations run with a lock timeout.",
        ["Migrations run without a lock timeout.", "Add a lock timeout to every migration."],
    )
    assert got["Migrations run without a lock timeout."].opposite
    assert got["Add a lock timeout to every migration."].plan


def test_the_opposite_is_read_per_clause_not_per_sentence(scorer):
    claim = "The release manager signs off every release and does not write its code."
    # Her own clause states what the claim rules out; the negation belongs to another clause.
    wrote = "The release manager also wrote the hotfix herself, so nobody signed off the release."
    # A negation elsewhere in the sentence does not flip a clause that agrees with the claim.
    agrees = "The release manager signs off every release; she writes no code, and nobody waits."
    got = _by_sentence(scorer, claim, [wrote, agrees])
    assert got[wrote].opposite
    assert not got[agrees].opposite


def test_a_negative_subject_or_verbless_line_says_the_opposite(scorer):
    claim = "Dashboards warn the support lead when refunds spike."
    got = _by_sentence(
        scorer,
        claim,
        ["Nothing warns the support lead when refunds spike.", "No refund dashboards."],
    )
    assert all(s.opposite for s in got.values() if s.sentence not in POOL)


def test_a_hyphenated_term_is_one_term_however_it_is_spaced(scorer):
    """ "on-call" is the claim's key term, not "on" and "call" (a spaCy stop word): the sentences
    that state it, hyphenated or spaced, cover it; one sharing only "call" does not."""
    assert scorer.terms("Invest in on-call first") == ["invest", "on-call"]
    stated = ["On-call is work and is paid as work.", "Each engineer is on call one week in five."]
    other = "Call the customer back within the hour."
    got = _by_sentence(scorer, "Invest in on-call first", [*stated, other])
    assert all(got[s].coverage > 0.5 for s in stated)
    assert got[other].coverage == 0.0
    assert min(got[s].score for s in stated) > got[other].score
