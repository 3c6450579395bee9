"""Reading a memo topic: the options it asks to choose between, and its search text."""

from __future__ import annotations

import pytest

from advisor.memo.topic import clean_topic, find_options, focus


@pytest.mark.parametrize(
    ("topic", "options"),
    [
        ("Should Haulwise hire an SRE or invest in on-call first?",
         ["Hire an SRE", "Invest in on-call first"]),
        ("Should we hire an SRE or a platform engineer?", ["Hire an SRE", "Hire a platform engineer"]),
        ("Build vs buy our KYC checks", ["Build our KYC checks", "Buy our KYC checks"]),
        ("Should Ledgerly build vs buy its KYC checks?", ["Build its KYC checks", "Buy its KYC checks"]),
        ("Whether to adopt Kubernetes", ["Adopt Kubernetes", "Do not adopt Kubernetes yet"]),
        ("Should Ledgerly move off Heroku?", ["Move off Heroku", "Stay on Heroku"]),
        ("Monolith or microservices for a seed-stage startup?", ["Monolith", "Microservices"]),
        ("Should we use Postgres, MongoDB or DynamoDB?",
         ["Use Postgres", "Use MongoDB", "Use DynamoDB"]),
        ("Do we need to hire a VP of Engineering?",
         ["Hire a VP of Engineering", "Do not hire a VP of Engineering yet"]),
        ("Should we host on our own servers or in the public cloud?",
         ["Host on our own servers", "Host in the public cloud"]),
        ("Should we alert on every error or only on user-facing failures?",
         ["Alert on every error", "Only on user-facing failures"]),
        ("Should the new API be written in Kotlin, Elixir or Rust?",
         ["Be written in Kotlin", "Be written in Elixir", "Be written in Rust"]),
        ("Should every deploy need a second reviewer?",
         ["Need a second reviewer", "Do not need a second reviewer yet"]),
        ("How should we run on-call for a small team?", []),
        ("Code review practice for a small team", []),
    ],
)  # fmt: skip
def test_options_are_read_from_the_way_a_choice_is_phrased(topic, options):
    assert find_options(topic) == options


def test_search_text_keeps_a_subject_that_is_not_a_name():
    assert focus("Should every deploy need a second reviewer?") == (
        "every deploy need a second reviewer"
    )


def test_search_text_drops_timing():
    assert focus("Should we migrate the billing database now?") == "migrate the billing database"
    assert focus("Should we rotate the keys first?") == "rotate the keys"


def test_search_text_drops_the_client_name_and_spells_out_shorthand():
    assert focus("Should Haulwise hire an SRE or invest in on-call first?", "haulwise") == (
        "hire an SRE site reliability engineer or invest in on-call"
    )
    assert focus("Is Acme's k8s cluster worth it?", "acme") == "Is Kubernetes cluster worth it"


def test_an_empty_topic_falls_back_to_the_last_question_asked():
    assert clean_topic("Draft a memo on   hiring order") == "Hiring order"
    assert clean_topic("  ", ["how big should PRs be?"]) == "How big should PRs be?"
