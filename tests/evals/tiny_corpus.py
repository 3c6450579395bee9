"""A five-document corpus (two clients) and a dataset over it, shared by the eval tests."""

from __future__ import annotations

import json
from pathlib import Path

DOCS = {
    "playbooks/databases.md": "# Choosing a database\n\nStart every new SaaS product on managed "
    "Postgres. Add a second datastore only when Postgres measurably fails a requirement.\n",
    "playbooks/hiring.md": "# Hiring your first engineers\n\nYour first hires should be two "
    "senior generalists who can own a feature end to end, before any specialist.\n",
    "playbooks/incidents.md": "# Incident response\n\nDuring an outage one incident commander "
    "coordinates the response and communication; the commander does not fix things.\n",
    "clients/acme/roster.md": "# Acme on-call roster\n\nDana Whitfield is on call this week for "
    "Acme. Acme runs a Django monolith on Heroku.\n",
    "clients/globex/roster.md": "# Globex on-call roster\n\nPriya Nair is on call this week for "
    "Globex. Globex runs microservices on AWS EKS.\n",
    # Never indexed: hidden files and the product's own data dirs.
    ".hidden.md": "# Secret\n\nPriya Nair hidden note.\n",
    ".advisor/notes.md": "# Data dir\n\nPriya Nair cached.\n",
}

ITEMS = [
    {
        "id": "t-1",
        "question": "Which database should a new SaaS product start on?",
        "category": "stack",
        "answerable": True,
        "gold_sources": ["playbooks/databases.md"],
        "must_include": ["managed Postgres"],
    },
    {
        "id": "t-2",
        "question": "Who should our first engineering hires be?",
        "category": "staffing",
        "answerable": True,
        "gold_sources": ["playbooks/hiring.md"],
        "must_include": ["two senior generalists"],
    },
    {
        "id": "t-3",
        "question": "Who is on call this week?",
        "client": "acme",
        "category": "process",
        "answerable": True,
        "gold_sources": ["clients/acme/roster.md"],
        "must_include": ["Dana Whitfield"],
        "must_not_include": ["Priya Nair"],
        "notes": "isolation check",
    },
    {
        "id": "t-4",
        "turns": ["What should happen during an outage?", "Who coordinates the response?"],
        "category": "process",
        "answerable": True,
        "gold_sources": ["playbooks/incidents.md"],
        "must_include": ["incident commander"],
    },
    {
        "id": "t-5",
        "question": "What salary should we pay a staff engineer in Berlin?",
        "category": "staffing",
        "answerable": False,
        "gold_sources": [],
    },
]


def write_corpus(root: Path) -> Path:
    """Write the documents under root/corpus and return that folder."""
    corpus = root / "corpus"
    for rel, text in DOCS.items():
        path = corpus / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return corpus


def write_dataset(path: Path, items: list[dict] | None = None) -> Path:
    """Write the items (default: ITEMS) as JSONL."""
    path.write_text("".join(json.dumps(i) + "\n" for i in (items or ITEMS)), encoding="utf-8")
    return path
