"""Offline follow-up rewriting: a follow-up carries the conversation's topic, nothing else does."""

from advisor.answering.rewrite import looks_like_followup, standalone_offline, topic_phrases


def history(*questions):
    turns = []
    for q in questions:
        turns += [{"role": "user", "content": q}, {"role": "assistant", "content": "An answer."}]
    return turns


def test_a_real_follow_up_is_asked_with_the_topic_of_the_conversation():
    past = history("Database migrations keep breaking our deploys. Is there a safer pattern?")
    query = standalone_offline("What's the first step of it?", past)
    assert query.startswith("What's the first step of it?")
    assert "Database migrations" in query


def test_a_topic_switch_is_not_glued_to_the_previous_question():
    past = history("What's a sensible upper limit on how big a pull request should be?")
    question = "How often should we test restoring our database backups, and who owns that?"
    assert standalone_offline(question, past) == question


def test_a_long_self_contained_question_is_never_rewritten():
    past = history("How should managers run annual performance reviews?")
    question = "Is it worth adopting Kafka for our event pipeline?"
    assert not looks_like_followup(question)
    assert standalone_offline(question, past) == question


def test_a_three_turn_chain_keeps_the_first_topic():
    past = history("Tell me about Dispatch Classic.", "What database does it run on?")
    query = standalone_offline("And how big is that database?", past)
    assert "Dispatch Classic" in query and "database" in query


def test_the_topic_restarts_at_the_last_self_contained_question():
    past = history(
        "How should we define incident severity levels?",
        "What's the AWS cost target for 2027?",
    )
    phrases = topic_phrases(past)
    assert any("AWS" in p for p in phrases)
    assert not any("severity" in p for p in phrases)


def test_numerals_and_relative_pronouns_are_not_references_back():
    assert not looks_like_followup("Should our sprints be one week or two weeks long?")
    assert not looks_like_followup(
        "We're about to sign with a vendor that will hold our production data; "
        "how do we avoid getting locked in?"
    )


def test_without_a_history_nothing_changes():
    assert standalone_offline("How long should that take?", []) == "How long should that take?"
