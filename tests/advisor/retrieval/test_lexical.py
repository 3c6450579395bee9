"""Lexical tokenising (the same for documents and queries) and the BM25 index built on it."""

from __future__ import annotations

import json

import pytest

from advisor.core.models import Passage
from advisor.retrieval.lexical import LexicalIndex, tokenize


def test_case_does_not_matter():
    assert tokenize("POSTGRES Postgres postgres") == ["postgr"] * 3


def test_stop_words_and_single_letters_are_dropped():
    assert tokenize("It is what it is, a b c") == ["what"]


def test_inflections_share_one_stem():
    assert tokenize("deploying deployed deploys") == ["deploy"] * 3
    assert tokenize("rollbacks") == tokenize("rollback")


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("We run Node.js", "node.j"),
        ("Upgrade to python3.11", "python3.11"),
        ("Pin version 3.11.4", "3.11.4"),
        ("Hire C++ engineers", "c++"),
        ("The C# services", "c#"),
        ("Nobody writes F#", "f#"),
        ("Move to k8s", "k8s"),
    ],
)
def test_technical_names_stay_one_term(text, term):
    assert term in tokenize(text)


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("CI/CD", ["ci", "cd"]),
        ("snake_case", ["snake", "case"]),
        ("on-call", ["call"]),  # "on" is a stop word
        ("GBP 109,000", ["gbp", "109", "000"]),
    ],
)
def test_slashes_underscores_hyphens_and_commas_split_words(text, terms):
    assert tokenize(text) == terms


def test_letters_of_any_script_are_words():
    assert tokenize("Zürich café") == ["zürich", "café"]
    assert tokenize("Jürgen Müller") == tokenize("JÜRGEN MÜLLER")


def test_full_width_and_compatibility_forms_read_as_plain_letters():
    assert tokenize("ＡＰＩ ﬁle") == tokenize("API file")


def test_documents_and_queries_meet_on_the_same_terms():
    index = LexicalIndex.build(
        [
            Passage(id="a", text="Our C++ services deploy nightly.", source="a.md"),
            Passage(id="b", text="The café in Zürich hosts offsites.", source="b.md"),
        ]
    )

    assert [cid for cid, _ in index.search("Who writes C++?", 5)] == ["a"]
    assert [cid for cid, _ in index.search("ZÜRICH CAFÉ", 5)] == ["b"]
    assert index.search("nothing relevant", 5) == []


def test_an_index_saved_by_another_tokenizer_is_refused(tmp_path):
    index = LexicalIndex.build([Passage(id="a", text="Deploy nightly.", source="a.md")])
    index.save(tmp_path / "idx")
    assert LexicalIndex.load(tmp_path / "idx").ids == ["a"]

    meta = json.loads((tmp_path / "idx" / "ids.json").read_text())
    (tmp_path / "idx" / "ids.json").write_text(json.dumps({**meta, "tokenizer": 1}))

    with pytest.raises(ValueError, match="another tokenizer"):
        LexicalIndex.load(tmp_path / "idx")
