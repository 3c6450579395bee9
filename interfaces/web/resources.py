"""What the page shares across runs: the advisor (the model loads once), index counts, warm-up."""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import partial

import streamlit as st

from advisor.core.errors import AdvisorError
from advisor.core.principal import Principal
from advisor.core.settings import Settings
from advisor.service.facade import Advisor
from advisor.service.feedback import FeedbackRecord
from interfaces.web.routes import TICKET_SECONDS, file_ticket


@st.cache_resource(show_spinner=False)
def load_advisor(_settings: Settings, key: str) -> Advisor:
    """One Advisor per configuration and process: the embedding model loads once (~6 s)."""
    advisor = Advisor(_settings)
    advisor.store.count()  # open the index now, so the first question does not pay for it
    return advisor


@st.cache_resource(show_spinner=False)
def warm_scope(_advisor: Advisor, _principal: Principal, key: str, client: str | None) -> bool:
    """Build the scope's lexical index once, after the page is drawn, so answers come fast."""
    try:
        _advisor.retrieve(_principal, "warm up", client=client, k=1, record=False)
        _advisor.warm_up()  # spaCy's pipelines, once per process (cheap after the first)
    except AdvisorError:
        return False  # the page already shows what is wrong; the question will say it again
    return True


@st.cache_data(ttl=30, show_spinner=False)
def index_status(_advisor: Advisor, principal: Principal, data_dir: str) -> dict:
    """Index counts for the sidebar; cached briefly since a CLI ingest may change them."""
    return _advisor.status(principal)


def settings_key(settings: Settings) -> str:
    """What identifies a configuration for caching (the key itself is hashed, never shown)."""
    secret = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
    return f"{settings.model_dump_json()}|{hash(secret)}"


@dataclass(frozen=True)
class Viewer:
    """The advisor as this page's signed-in principal sees it (chats, feedback, files)."""

    advisor: Advisor
    principal: Principal
    session_id: str | None = None  # the cookie session, if any: file links are bound to it

    @property
    def store(self):
        return self.advisor.conversations

    def record(self, rec: FeedbackRecord) -> None:
        self.advisor.feedback(self.principal, rec)

    def file(self, citation):
        """A lazy download of a cited file, or None when this principal may not have it."""
        if not citation.root or not self.advisor.may_download(self.principal, citation.scope):
            return None
        return partial(self.fetch, citation.source, citation.scope)

    def fetch(self, source: str, scope: str) -> bytes:
        # Runs when the button is clicked: the service checks access again and audits it.
        return self.advisor.download(self.principal, source, scope).read_bytes()

    def open_link(self, citation) -> str | None:
        """A link that opens a cited PDF in the browser at its page, when this principal may."""
        if not citation.source.lower().endswith(".pdf") or self.file(citation) is None:
            return None
        tickets = st.session_state.setdefault("_advisor_tickets", {})
        key = (citation.source, citation.scope)
        if key not in tickets or tickets[key][1] < time.time():  # one per file and tab, renewed
            url = file_ticket(
                self.advisor, self.principal, citation.source, citation.scope, self.session_id
            )
            tickets[key] = (url, time.time() + TICKET_SECONDS / 2)
        return tickets[key][0] + (f"#page={citation.page}" if citation.page else "")
