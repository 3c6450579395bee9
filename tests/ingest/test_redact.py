"""Secrets in ordinary documents are replaced before anything is stored or embedded."""

from __future__ import annotations

import pytest

from ingest.redact import REDACTED, redact
from tests.ingest.hostile_corpus import (
    AWS_KEY_ID,
    CONFIG_SECRET,
    DB_PASSWORD,
    GITHUB_TOKEN,
    PRIVATE_KEY,
    SLACK_TOKEN,
)


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        (f"DATABASE_URL=postgres://admin:{DB_PASSWORD}@db.internal:5432/prod", DB_PASSWORD),
        (f"aws_access_key_id = {AWS_KEY_ID}", AWS_KEY_ID),
        (f"The bot token is {GITHUB_TOKEN}, rotate it monthly.", GITHUB_TOKEN),
        (f"slack: {SLACK_TOKEN}", SLACK_TOKEN),
        (f"api_key: {CONFIG_SECRET}", CONFIG_SECRET),
        ('password = "hunter2-staging-77"', "hunter2-staging-77"),
        ("stripe key sk_live_4eC39HqLyjWDarjtT1zdp7dc", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
    ],
)
def test_a_secret_in_a_line_is_redacted_and_the_line_keeps_its_sense(line, secret):
    text, count = redact(line)
    assert secret not in text
    assert REDACTED in text
    assert count == 1
    assert text.split(REDACTED)[0] == line.split(secret)[0]  # what precedes it is kept


def test_a_private_key_block_is_redacted_whole():
    text, count = redact(f"Before the key.\n{PRIVATE_KEY}After the key.")
    assert text == f"Before the key.\n{REDACTED}\nAfter the key."
    assert count == 1


@pytest.mark.parametrize(
    "prose",
    [
        "We hire two senior engineers next quarter and migrate billing to Postgres 16.",
        "Our password policy: rotate every 90 days and never share them over chat.",
        "secret: true",
        'See the "Engineering Ladder" document for the levels.',
    ],
)
def test_ordinary_prose_is_left_alone(prose):
    assert redact(prose) == (prose, 0)


def test_a_huge_line_is_scanned_in_linear_time():
    line = ("lorem ipsum dolor " * 20_000) + f" token {GITHUB_TOKEN} " + ("sit amet " * 20_000)
    text, count = redact(line)
    assert GITHUB_TOKEN not in text and count == 1
