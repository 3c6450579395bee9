"""Claim-level support: a claim counts only when the passage it cites states it."""

from advisor.core.models import Citation, Passage
from evals.support import (
    Evidence,
    PassageTexts,
    answer_claims,
    claim_support,
    support_share,
    supported,
)

ON_CALL = (
    "A rotation needs at least five engineers. Pay a stipend of $400 per week to PagerDuty users."
)
HOSTING = "Move off the PaaS when the bill passes $15,000 per month."


def chunk(source: str, text: str, section: str = "S") -> Passage:
    return Passage(id=source, text=text, source=source, root="/c", section=section, title="T")


def cite(n: int, source: str, section: str = "S") -> Citation:
    return Citation(n=n, source=source, root="/c", section=section)


PASSAGES = PassageTexts([chunk("oncall.md", ON_CALL), chunk("hosting.md", HOSTING)])
BY_N = {1: cite(1, "oncall.md"), 2: cite(2, "hosting.md")}


def test_a_quote_is_supported_and_a_changed_number_or_name_is_not():
    evidence = Evidence.of([ON_CALL])
    assert supported("A rotation needs at least five engineers.", evidence)
    assert supported("Rotations need five engineers at least.", evidence)  # stems, any order
    assert not supported("Pay a stipend of $300 per week.", evidence)  # the number differs
    assert not supported("Route pages to Opsgenie.", evidence)  # a name it never states
    assert not supported("Hire an SRE before the Series A closes.", evidence)


def test_whole_words_only():
    assert not supported("Use Java.", Evidence.of(["We use JavaScript."]))
    assert supported("We use Java.", Evidence.of(["We use Java (and Kotlin)."]))


def test_a_marker_cites_the_sentences_written_since_the_last_one():
    answer = (
        "*Offline mode: key points quoted.*\n\n**On-call** (Playbook)  \n"
        "A rotation needs at least five engineers. Pay a stipend of $400 per week. [1]\n\n"
        "Move off the PaaS [2]: when the bill passes $15,000 per month [2][1]. An uncited claim."
    )
    claims = answer_claims(answer)
    assert [n for _, n in claims] == [[1], [1], [2], [2, 1], []]
    assert claims[0][0] == "A rotation needs at least five engineers."
    assert claims[-1][0] == "An uncited claim."  # headings and the lead are not claims


def test_support_share_counts_uncited_and_miscited_claims_against_the_answer():
    right = "A rotation needs at least five engineers [1]. Move when the bill passes $15,000 [2]."
    assert support_share(right, list(BY_N.values()), PASSAGES) == 1.0
    swapped = "A rotation needs at least five engineers [2]. Move when the bill passes $15,000 [1]."
    assert support_share(swapped, list(BY_N.values()), PASSAGES) == 0.0
    stripped = "A rotation needs at least five engineers. Move when the bill passes $15,000."
    assert support_share(stripped, list(BY_N.values()), PASSAGES) == 0.0
    assert support_share("[1]", list(BY_N.values()), PASSAGES) is None


def test_a_citation_points_at_its_section_and_an_unknown_number_supports_nothing():
    texts = PassageTexts([chunk("doc.md", ON_CALL, "On-call"), chunk("doc.md", HOSTING, "Hosting")])
    claim = [("Move off the PaaS when the bill passes $15,000 per month.", [1])]
    assert claim_support(claim, {1: cite(1, "doc.md", "Hosting")}, texts) == [True]
    assert claim_support(claim, {1: cite(1, "doc.md", "On-call")}, texts) == [False]
    assert claim_support(claim, {}, texts) == [False]


def test_a_table_is_read_cell_by_cell_its_header_and_row_labels_state_nothing():
    answer = (
        "**The options side by side**\n"
        "| Option | For it | Against it |\n"
        "| --- | --- | --- |\n"
        "| Stay on the PaaS | Move off the PaaS when the bill passes $15,000 per month [2]. | — |\n"
        "| Hire | A rotation needs at least five engineers [1]. | It costs $900 a week. |\n"
    )
    claims = answer_claims(answer)
    assert claims == [
        ("Move off the PaaS when the bill passes $15,000 per month", [2]),
        ("A rotation needs at least five engineers", [1]),
        ("It costs $900 a week.", []),
    ]
    # Each cell is cited by its own marker only: the uncited cell is not covered by the next
    # row's marker, and nothing supports it.
    assert claim_support(claims, BY_N, PASSAGES) == [True, True, False]
