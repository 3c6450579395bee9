"""The one client-name rule, shared by the CLI, the app, the API and ingestion."""

from __future__ import annotations

import re

from advisor.core.errors import ConfigError
from advisor.core.settings import PLAYBOOK_SCOPE

_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


def client_name(name: str) -> str:
    """The canonical (lower-case) form of a client name, or ConfigError with the rule.

    Names are compared case-insensitively ("Acme" and "acme" are one client), so the stored form
    is lower case; the whole string must match (a trailing newline is not a name).
    """
    canonical = name.strip().casefold() if isinstance(name, str) else ""
    if canonical == PLAYBOOK_SCOPE:
        raise ConfigError(
            f"{PLAYBOOK_SCOPE!r} is reserved for the shared playbooks: leave out --client to "
            "ingest playbooks, or pick another client name"
        )
    if not _NAME.fullmatch(canonical) or canonical != name.strip().casefold() or "\n" in name:
        raise ConfigError(
            f"invalid client name {name!r}: use 1-64 letters, digits, '-' or '_', starting "
            "with a letter or digit (for example acme-corp)"
        )
    return canonical
