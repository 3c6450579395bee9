"""The sidebar's panels: the client selector, uploads, the index and the answer mode."""

from __future__ import annotations

import time
from pathlib import Path

import streamlit as st

from advisor.core.clients import client_name
from advisor.core.principal import Principal
from advisor.core.settings import PLAYBOOK_SCOPE, Settings
from advisor.service.conversations import Chat
from advisor.service.facade import Advisor
from advisor.service.uploads import SUPPORTED_SUFFIXES
from interfaces.web.chat import open_chat, scope_key
from interfaces.web.common import errors_shown
from interfaces.web.resources import index_status
from interfaces.web.text import code, inert

PLAYBOOKS_ONLY = "Playbooks only"
NEW_CLIENT = "New client…"
STATUS_ICONS = {
    "indexed": ":material/check_circle:",
    "unchanged": ":material/radio_button_checked:",
    "skipped": ":material/skip_next:",
    "failed": ":material/error:",
    "refused": ":material/block:",
    "removed": ":material/delete:",
}


def scope_selector(clients: list[str], chat: Chat | None) -> str | None:
    """The CTO's client picker. An open chat decides it (its link names no client); else the
    `client` in the URL, so a reload or a new tab shows the same client."""
    if st.session_state.get("pending_client") in [PLAYBOOKS_ONLY, *clients]:  # after an upload
        st.session_state["client"] = st.session_state.pop("pending_client")
        if chat is None or (chat.client or PLAYBOOKS_ONLY) != st.session_state["client"]:
            _client_changed()
    elif chat is not None:
        st.session_state["client"] = chat.client or PLAYBOOKS_ONLY
    elif "client" not in st.session_state:
        st.session_state["client"] = st.query_params.get("client", PLAYBOOKS_ONLY)
    if st.session_state.get("client") not in [PLAYBOOKS_ONLY, *clients]:
        st.session_state["client"] = PLAYBOOKS_ONLY
    choice = st.selectbox(
        "Client",
        [PLAYBOOKS_ONLY, *clients],
        key="client",
        on_change=_client_changed,
        help="Every question sees the playbooks plus this client's documents, never another's.",
    )
    return None if choice == PLAYBOOKS_ONLY else choice


def _client_changed() -> None:
    """Another client: a new chat (that client's history lists its old ones), in the URL too."""
    open_chat(None)
    client = st.session_state.get("client")
    if client and client != PLAYBOOKS_ONLY:
        st.query_params["client"] = client
    else:
        st.query_params.pop("client", None)


def founder_note(settings: Settings, client: str | None) -> None:
    """The answer mode in plain words, for a founder (the CTO sees the index and mode panels)."""
    if settings.use_llm:
        how = (
            f"your question and those passages go to the language model at "
            f"{inert(settings.llm_host)} to write the answer"
        )
    else:
        how = "nothing leaves this server"
    st.caption(
        f":material/verified_user: Answers are drawn only from {inert(client or '')}'s "
        f"documents and your CTO's playbooks; {how}."
    )


def upload_panel(
    advisor: Advisor, principal: Principal, client: str | None, clients: list[str]
) -> None:
    settings = advisor.settings
    with st.expander("Add documents", icon=":material/upload_file:"):
        # Only scopes this principal may write (the service refuses the others anyway).
        targets = [PLAYBOOK_SCOPE, *clients, NEW_CLIENT] if principal.is_cto else [client]
        target = st.selectbox(
            "Add to",
            targets,
            index=targets.index(scope_key(client)),
            format_func=lambda t: "Playbooks (all clients)" if t == PLAYBOOK_SCOPE else t,
            key=f"target-{scope_key(client)}",
        )
        name = st.text_input("Client name", placeholder="e.g. acme") if target == NEW_CLIENT else ""
        files = st.file_uploader(
            "Files",
            type=[s.lstrip(".") for s in SUPPORTED_SUFFIXES],
            accept_multiple_files=True,
            max_upload_size=max(1, round(settings.max_file_mb)),
            key=f"uploader-{st.session_state.get('uploads', 0)}",
        )
        clicked = st.button(
            "Index files", type="primary", disabled=not files, icon=":material/add:", key="index"
        )
        if clicked:
            with errors_shown("Indexing"):
                dest = None if target == PLAYBOOK_SCOPE else target
                dest = client_name(name) if target == NEW_CLIENT else dest
                st.session_state["upload_results"] = run_upload(advisor, principal, files, dest)
                st.session_state["uploads"] = st.session_state.get("uploads", 0) + 1
                st.session_state["pending_client"] = dest or PLAYBOOKS_ONLY
                if scope_key(dest) != scope_key(client):
                    open_chat(None)  # the chat open now belongs to the other scope
                index_status.clear()
                st.rerun()
        for r in st.session_state.get("upload_results", []):
            st.markdown(f"{STATUS_ICONS.get(r.status, '')} {inert(r.name)}: {r.status}")
            if r.reason:
                st.caption(inert(r.reason))
        if principal.is_cto and target not in (PLAYBOOK_SCOPE, NEW_CLIENT):
            repo_input(advisor, principal, target)


def repo_input(advisor: Advisor, principal: Principal, client: str) -> None:
    """A client's code repository (a path or clone URL on this machine): CTO only."""
    location = st.text_input(
        "Code repository", placeholder="/path/to/repo or https://host/org/repo.git",
        key=f"repo-{client}", help="Indexes its docs, stack, who knows what and how they ship.",
    )  # fmt: skip
    if st.button("Index repository", disabled=not location.strip(), key=f"repo-go-{client}"):
        with errors_shown("Indexing the repository"), st.spinner("Reading the repository…"):
            r = advisor.ingest_repo(principal, location.strip(), client)
            st.session_state["repo_result"] = (
                f"{r.repository} at {r.head[:7]}: {r.new_commits} new commits, "
                f"{len(r.indexed)} documents written, {r.unchanged} unchanged"
            )
            index_status.clear()
    if st.session_state.get("repo_result"):
        st.caption(inert(st.session_state["repo_result"]))


def run_upload(advisor: Advisor, principal: Principal, files, dest: str | None) -> list:
    bar = st.progress(0.0, text=f"Indexing {len(files)} file(s)…")
    done: list = []

    def on_file(result) -> None:
        done.append(result)
        bar.progress(len(done) / len(files), text=f"{inert(result.name)}: {result.status}")

    return advisor.upload(principal, [(f.name, f.getvalue()) for f in files], dest, on_file)


def status_panel(status: dict, client: str | None) -> None:
    st.subheader("Index", divider="gray")
    left, right = st.columns(2)
    left.metric("Documents", status["documents"])
    right.metric("Chunks", status["chunks"])
    last = status.get("last_ingest")
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(last)) if last else "never"
    st.caption(f"Last ingest: {when}  \nEmbeddings: `{status['embedding_model']}`")
    in_scope = [s for s in status["sources"] if s["scope"] in (PLAYBOOK_SCOPE, client)]
    with st.expander(f"Documents in scope ({len(in_scope)})"):
        for s in in_scope:
            st.markdown(f"- {inert(s['title'] or s['source'])}  \n  {code(s['source'])}")


def mode_panel(settings: Settings, principal: Principal) -> None:
    st.subheader("Answer mode", divider="gray")
    if settings.use_llm:
        st.markdown(":green-badge[LLM]")
    else:
        st.markdown(":gray-badge[Offline · extractive]")
        st.caption(
            "No LLM configured: answers quote the most relevant sentences of your documents."
        )
    # Always on screen: where questions and document excerpts are sent, and which index is used.
    st.markdown(f"Answers go to: **{inert(settings.answer_destination)}**")
    if principal.is_cto:
        st.caption(f"Data directory: {code(settings.data_dir.resolve())}")
    if dotenv := settings.dotenv_settings():
        st.warning(
            f"Settings loaded from {code(Path('.env').resolve())} (the folder the app was started "
            f"from): {', '.join(dotenv)}. Check that this is where you want documents to go.",
            icon=":material/warning:",
        )
    with st.expander("How to switch"):
        st.markdown("Point the app at any OpenAI-compatible endpoint, then restart it:")
        st.code(
            "export OPENAI_BASE_URL=http://localhost:11434/v1  # Ollama, vLLM, llama.cpp…\n"
            "export OPENAI_API_KEY=sk-...                      # if the endpoint needs one\n"
            "export ADVISOR_LLM_MODEL=llama3.1\n"
            "streamlit run app.py",
            language="bash",
        )
        st.caption("`ADVISOR_MODE=offline` forces offline answers even when an LLM is set.")
