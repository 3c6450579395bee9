"""Conflicts are scored by their documents AND the values read from them (issue 23)."""

from evals.assessment_eval import ConflictLabel, score_conflicts, value_matches

A, B = "clients/acme/notes.md", "clients/acme/deck.pptx"
LABELS = [
    ConflictLabel(docs=(A, B), values=("seven", "9"), measure="engineering headcount"),
    ConflictLabel(docs=(A, B), values=("4,200", "3,900"), measure="monthly hosting bill"),
]


def test_a_value_matches_as_written_whole_words_and_commas():
    assert value_matches("seven", "seven engineers")
    assert value_matches("4,200", "€4,200")
    assert value_matches("March 2027", "in March 2027")
    assert not value_matches("9", "19")
    assert not value_matches("4,200", "4,2000")
    assert not value_matches("", "9")


def test_a_wrong_flag_between_the_right_two_documents_is_wrong():
    right, found = score_conflicts(LABELS, [((B, A), ("14 days", "seven engineers"))])
    assert right == [False] and found == [False, False]


def test_each_labelled_conflict_between_the_same_documents_is_found_by_its_values():
    detections = [((B, A), ("9", "seven developers")), ((A, B), ("€4,200", "€3,900"))]
    right, found = score_conflicts(LABELS, detections)
    assert right == [True, True] and found == [True, True]
    # Values swapped between the documents are not what the documents say.
    right, found = score_conflicts(LABELS, [((A, B), ("9", "seven"))])
    assert right == [False] and found == [False, False]


def test_an_unresolved_detection_is_wrong():
    assert score_conflicts(LABELS, [((A,), ("seven", "9"))]) == ([False], [False, False])


def test_a_document_stating_a_value_several_ways_matches_any_of_them():
    label = ConflictLabel(docs=(A, B), values=(["3,000", "36,000"], "4,100"), measure="rent")
    assert score_conflicts([label], [((A, B), ("$36,000", "$4,100"))]) == ([True], [True])
    assert score_conflicts([label], [((A, B), ("$3,000", "$4,100"))]) == ([True], [True])
    assert score_conflicts([label], [((A, B), ("$4,100", "$3,000"))]) == ([False], [False])


def test_a_flag_citing_a_source_the_assessment_does_not_list_is_scored_wrong(tmp_path):
    """The citations-renumbered mutant cites n + 1, past the last source: scoring must say the
    flag is wrong, not crash (it did, and `make eval-mutants` stopped)."""
    from types import SimpleNamespace

    from evals.assessment_eval import ClientLabels, score_client

    def cite(n, source):
        return SimpleNamespace(n=n, root="", source=source)

    flag = SimpleNamespace(first=1, second=3, measure="headcount", first_value="seven",
                           second_value="9")  # fmt: skip
    assessment = SimpleNamespace(verdicts=[], citations=[cite(1, A), cite(2, B)], conflicts=[flag])

    items = score_client("acme", ClientLabels(verdicts={}, conflicts=LABELS[:1]), assessment,
                         tmp_path)  # fmt: skip

    assert [i["right"] for i in items if i["kind"] == "detected"] == [False]
    assert [i["found"] for i in items if i["kind"] == "labelled"] == [False]
