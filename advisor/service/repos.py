"""Client repositories at the service layer: who may add one, and who may see authors' emails.

Author names reach the index (they are the facts: "who knows billing"), author emails never do:
they stay in the client's repository state, and only a CTO is shown them; a founder of the
client sees them masked, whatever route asks.
"""

from __future__ import annotations

from typing import Any

from advisor.core.principal import Principal
from advisor.core.settings import Settings


def mask_email(email: str) -> str:
    """ "sam.lee@example.com" -> "s•••@example.com" (the domain says which company)."""
    local, at, domain = (email or "").partition("@")
    if not at:
        return "•••" if email else ""
    return f"{local[:1]}•••@{domain}"


def repositories(settings: Settings, principal: Principal, client: str) -> list[dict[str, Any]]:
    """The client's indexed repositories with their authors (emails for a CTO only)."""
    from ingest.repo import repos_dir
    from ingest.repo.state import RepoState

    path = repos_dir(settings, client) / "state.sqlite"
    if not path.is_file():
        return []
    out = []
    with RepoState(path) as state:
        for repo in state.repos():
            authors: dict[str, dict[str, Any]] = {}
            for _sha, name, email, when, merge, _tests in state.commits(repo["key"]):
                row = authors.setdefault(
                    name, {"name": name, "emails": set(), "commits": 0, "last": 0}
                )
                row["emails"].add(email)
                row["commits"] += 0 if merge else 1
                row["last"] = max(row["last"], when)
            people = []
            for row in sorted(authors.values(), key=lambda r: (-r["commits"], r["name"])):
                emails = sorted(e for e in row["emails"] if e)
                if not principal.is_cto:
                    emails = sorted({mask_email(e) for e in emails})
                people.append({**row, "emails": emails})
            out.append(
                {
                    "name": repo["name"],
                    "location": repo["location"] if principal.is_cto else "",
                    "branch": repo["branch"],
                    "head": repo["head"],
                    "updated": repo["updated"],
                    "authors": people,
                }
            )
    return out
