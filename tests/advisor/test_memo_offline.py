"""What an offline memo may quote: documents about the topic, claims rather than pointers."""

from __future__ import annotations

from advisor.core.models import Passage
from advisor.memo.evidence import Evidence, candidate_sentences
from advisor.memo.model import OptionRow
from advisor.memo.offline import DOCUMENT_WINDOW, focused_documents, verdict


def passage(doc: str, scope: str = "playbook") -> Passage:
    return Passage(id=f"{doc}#0", text="text", source=f"{doc}.md", scope=scope, doc_id=doc)


def test_a_playbook_far_below_the_best_matching_one_is_not_quoted():
    evidence = Evidence(passages=[passage("on-call"), passage("hiring"), passage("stack")])
    fit = {"on-call": 0.6, "hiring": 0.6 - DOCUMENT_WINDOW / 2, "stack": 0.6 - 2 * DOCUMENT_WINDOW}
    assert focused_documents(evidence, fit) == {"on-call", "hiring"}


def test_the_clients_own_documents_are_its_situation_however_loosely_they_match():
    evidence = Evidence(passages=[passage("playbook"), passage("roster", scope="acme")])
    assert focused_documents(evidence, {"playbook": 0.7, "roster": 0.2}) == {"playbook", "roster"}


def test_sentences_that_only_send_the_reader_elsewhere_are_not_claims():
    text = (
        "The incident page has further information on when to page an engineer. "
        "Help us make this section better by opening an issue in the tracker. "
        "Page a human only when the problem needs action within the hour. "
        "A hosted flag service is cheaper than building one (see the build vs buy playbook)."
    )
    assert [s for s, _ in candidate_sentences(text)] == [
        "Page a human only when the problem needs action within the hour.",
        "A hosted flag service is cheaper than building one (see the build vs buy playbook).",
    ]


def test_every_sentence_is_its_own_candidate():
    text = (
        "Every schema change ships in its own deploy, ahead of the code that needs it. "
        "This keeps a rollback from ever meeting a column it does not know. "
        "Migrations run with a statement timeout of fifteen minutes at most."
    )
    assert [s for s, _ in candidate_sentences(text)] == [
        "Every schema change ships in its own deploy, ahead of the code that needs it.",
        "This keeps a rollback from ever meeting a column it does not know.",
        "Migrations run with a statement timeout of fifteen minutes at most.",
    ]


def test_an_action_item_is_an_imperative_or_a_dated_line():
    from advisor.memo.offline import _CUE_RES, _imperative

    assert _imperative("Rotate the signing keys before the audit.")
    assert _imperative("Add a lock timeout to every migration.")
    assert not _imperative("The team rotates the signing keys every quarter.")
    assert not _imperative("Keys were rotated last year.")
    assert _CUE_RES["actions"].search("Publish the runbook (Sam Lee, 2030-01-15).")


def test_the_verdict_says_which_options_the_documents_can_weigh_and_that_they_do_not_decide():
    known = OptionRow(option="Grow the rotation", costs="Pay a stipend [2].", risks="Burnout [3].")
    unknown = OptionRow(option="Adopt Nomad")
    silent = OptionRow(option="Keep it as it is")

    said = verdict([unknown, known], [["Nomad"], []])
    assert "mentions 'Nomad'" in said and '"Adopt Nomad" cannot be weighed' in said
    assert 'the costs and risks of "Grow the rotation"' in said
    assert "not whether it beats the alternative" in said, "one documented option is no verdict"

    both = verdict([known, known.model_copy(update={"option": "Shrink it"})], [[], []])
    assert "do not settle the choice" in both and "Nomad" not in both
    none = verdict([silent, unknown], [[], ["Nomad"]])
    assert 'say nothing of the benefits, costs or risks of "Keep it as it is"' in none
    assert none.endswith("The documents do not decide this choice.")
    assert verdict([known], [[]]) == "", "no choice, no verdict"


def test_an_option_cell_needs_a_sentence_that_supports_the_option(embeddings):
    """A sentence retrieved for an option because it shares the decision's topic (a hiring
    plan's line for "grow the rotation") is no cell of it; one stating the option is."""
    from advisor.answering.support import SupportScorer
    from advisor.memo.evidence import embed_sentences
    from advisor.memo.offline import OPTION_SUPPORT, option_support

    texts = [
        "A rotation needs at least five engineers. Grow the rotation before anyone is on call "
        "more than one week in five.",
        "Director of Platform (Q1 2027) to own infrastructure, cost and reliability.",
        "The board approved a new office lease for the Manchester team in March.",
    ]
    passages = [
        Passage(id=f"p{i}", text=t, source=f"d{i}.md", scope="playbook", doc_id=f"d{i}")
        for i, t in enumerate(texts)
    ]
    evidence = Evidence(passages=passages, parts={"option:0": [0, 1, 2]})
    embed_sentences(evidence, embeddings)
    got = option_support(evidence, "option:0", "Grow our on-call rotation to five engineers",
                         SupportScorer(embeddings))  # fmt: skip
    stating = got["A rotation needs at least five engineers."]
    assert stating >= OPTION_SUPPORT
    hiring = got["Director of Platform (Q1 2027) to own infrastructure, cost and reliability."]
    assert hiring < stating / 2  # near the gate, far below what states the option
    office = got["The board approved a new office lease for the Manchester team in March."]
    assert office < OPTION_SUPPORT
