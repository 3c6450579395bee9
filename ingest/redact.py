"""The one secret masker: keys, tokens and passwords replaced before document text is stored or
embedded, and before a question, a comment or any field reaches the audit log or the feedback.

Detection is detect-secrets' (Yelp's maintained scanner, the plugins its `scan` uses); this
module only decides how much of a line to blank out and adds the two multi-line or
config-style cases its per-line plugins leave open: the body of a PEM private key, and
`password = value` written outside a config file.
"""

from __future__ import annotations

import re
from functools import lru_cache

REDACTED = "[REDACTED]"

# detect-secrets plugins that find secrets; IPPublicDetector finds addresses, not secrets.
_SKIP_PLUGINS = {"IPPublicDetector"}
# KeywordDetector reads `key = value` only in config-like files; a document quoting a config
# line is scanned as if it were one, then values that are plain words are let through.
_CONFIG_NAME = "document.yaml"
_NOT_SECRETS = {"true", "false", "null", "none", "yes", "no", "required", "optional", "redacted"}
_PEM_BLOCK = re.compile(
    r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----.*?"
    r"(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|\Z)",
    re.S,
)
# A plugin may report only a token's prefix (GitHub's `ghp`): the redaction runs to its end.
_TOKEN_TAIL = r"[A-Za-z0-9_\-+/=]*"
# Lines longer than this are scanned in windows, so one huge line costs linear time.
_WINDOW = 4096


@lru_cache(maxsize=1)
def _keyword_hint() -> re.Pattern:
    """detect-secrets' own keyword list: lines without one need no KeywordDetector pass."""
    from detect_secrets.plugins.keyword import DENYLIST

    return re.compile("|".join(DENYLIST), re.I)


# API keys detect-secrets has no plugin for: OpenAI-style `sk-`/`pk-`/`rk-` keys, and our own
# API tokens and session ids (advisor.service.accounts: `cta_`, `cts_`).
_TOKENS = (r"\b(?:sk|pk|rk)-[A-Za-z0-9_-]{16,}", r"\bct[as]_[A-Za-z0-9_-]{16,}")


@lru_cache(maxsize=1)
def _plugins() -> tuple:
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.plugins.base import RegexBasedDetector
    from detect_secrets.settings import default_settings

    class ApiTokenDetector(RegexBasedDetector):
        secret_type = "API token"
        denylist = [re.compile(pattern) for pattern in _TOKENS]

    with default_settings():
        return tuple(
            plugin()
            for plugin in get_mapping_from_secret_type_to_class().values()
            if plugin.__name__ not in _SKIP_PLUGINS
        ) + (ApiTokenDetector(),)


def _found(line: str) -> set[str]:
    """Secret values detect-secrets reports in one line."""
    values: set[str] = set()
    for plugin in _plugins():
        config_style = type(plugin).__name__ == "KeywordDetector"
        if config_style and not _keyword_hint().search(line):
            continue  # the detector's slowest pass, and it cannot match without a keyword
        name = _CONFIG_NAME if config_style else "document.txt"
        for hit in plugin.analyze_line(filename=name, line=line, line_number=1):
            value = (hit.secret_value or "").strip()
            if config_style and " " in value:
                # Prose after the keyword ("password: hunter2hunter2. How do we ..."): only a
                # first word that looks like a password (letters and digits or symbols) is one.
                value = value.split()[0].rstrip(".,;:!?)")
                if value.isalpha() or len(value) < 8:
                    continue
            if config_style and (value.lower() in _NOT_SECRETS or len(value) < 6):
                continue
            if len(value) >= 3:
                values.add(value)
    return values


def _redact_line(line: str) -> tuple[str, int]:
    found: set[str] = set()
    for start in range(0, max(len(line), 1), _WINDOW):
        # Windows overlap so a secret across a window edge is still seen whole.
        found |= _found(line[max(0, start - 256) : start + _WINDOW])
    count = 0
    for value in sorted(found, key=len, reverse=True):
        line, n = re.subn(re.escape(value) + _TOKEN_TAIL, REDACTED, line)
        count += bool(n)
    return line, count


def mask(text: str) -> str:
    """`text` with every secret replaced by [REDACTED] (the count left out)."""
    return redact(text)[0]


def redact(text: str) -> tuple[str, int]:
    """`text` with every secret replaced by [REDACTED], and how many secrets were replaced."""
    if not text:
        return text, 0
    text, count = _PEM_BLOCK.subn(REDACTED, text)
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line.strip():
            lines[i], n = _redact_line(line)
            count += n
    return "\n".join(lines), count
