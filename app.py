"""CTO Advisor in the browser: a thin Streamlit view over `advisor.service.Advisor`.

Run with `streamlit run app.py`. All logic lives in `advisor/`; this file only lays it out.
"""

from __future__ import annotations

import logging
import mimetypes
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import streamlit as st

from advisor.core.clients import client_name
from advisor.core.errors import AdvisorError
from advisor.core.principal import Principal, scopes_for, visible
from advisor.core.sanitize import code_span
from advisor.core.settings import PLAYBOOK_SCOPE, Settings, get_settings
from advisor.memo.draft import escape_md, location, neutralize_md, scope_label
from advisor.service.facade import Advisor
from advisor.service.feedback import FeedbackRecord
from advisor.service.uploads import SUPPORTED_SUFFIXES
from interfaces.web.signin import account_panel, current_principal

log = logging.getLogger("cto_advisor.app")
PLAYBOOKS_ONLY = "Playbooks only"
NEW_CLIENT = "New client…"
EXAMPLES = {
    None: [
        "Who should our first three engineering hires be?",
        "When should we build rather than buy?",
        "What does a sensible on-call rotation look like for a small team?",
    ],
    "client": [
        "What caused our last outage, and what should we change?",
        "Should we move off our current hosting now or after the next raise?",
        "Who should our next two hires be?",
    ],
}
STATUS_ICONS = {
    "indexed": ":material/check_circle:",
    "unchanged": ":material/radio_button_checked:",
    "skipped": ":material/skip_next:",
    "failed": ":material/error:",
    "refused": ":material/block:",
    "removed": ":material/delete:",
}

# A local icon: a `:material/...:` or emoji icon is fetched from a font or emoji host on every visit.
ICON = Path(__file__).parent / "interfaces" / "web" / "static" / "icon.png"
st.set_page_config(page_title="CTO Advisor", page_icon=str(ICON), layout="centered")


# -- resources -----------------------------------------------------------------------------------


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
    """The advisor as this page's signed-in principal sees it (feedback, files)."""

    advisor: Advisor
    principal: Principal

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


def pick_example(question: str) -> None:
    st.session_state["pending"] = question


# -- state ---------------------------------------------------------------------------------------


def scope_key(client: str | None) -> str:
    return client or PLAYBOOK_SCOPE


def chat(client: str | None) -> list[dict]:
    """The conversation of this scope; each scope keeps its own so nothing crosses clients."""
    return st.session_state.setdefault("chats", {}).setdefault(scope_key(client), [])


def new_chat(client: str | None) -> None:
    st.session_state.setdefault("chats", {})[scope_key(client)] = []
    st.session_state.setdefault("memos", {}).pop(scope_key(client), None)


def history_of(messages: list[dict]) -> list[dict[str, str]]:
    """The conversation as the advisor takes it: answered turns only, errors left out."""
    out = []
    for m in messages:
        if m["role"] == "user":
            out.append({"role": "user", "content": m["content"]})
        elif "answer" in m:
            out.append({"role": "assistant", "content": m["answer"].answer})
    return out


def save_feedback(viewer: Viewer, msg: dict) -> None:
    """Widget callback: store the thumbs (and comment) of one answer."""
    value = st.session_state.get(f"fb-{msg['id']}")
    if value is None:
        return
    msg["rating"] = value
    msg["comment"] = st.session_state.get(f"fbc-{msg['id']}", msg.get("comment", ""))
    answer = msg["answer"]
    viewer.record(
        FeedbackRecord(
            answer_id=msg["id"],
            rating="up" if value == 1 else "down",
            comment=msg["comment"] or "",
            question=msg["question"],
            history=msg["history"],
            client=msg["client"],
            answer=answer.answer,
            abstained=answer.abstained,
            mode=answer.mode,
            sources=[c.source for c in answer.citations],
        )
    )


# -- rendering -----------------------------------------------------------------------------------


def render_sources(msg: dict, viewer: Viewer, expanded: bool) -> None:
    # The final scope gate, once more at the screen: only this chat's client and the playbooks.
    citations = visible(msg["answer"].citations, scopes_for(msg.get("client")), "ui sources")
    if not citations:
        return
    label = f"Sources ({len(citations)})"
    with st.expander(label, icon=":material/menu_book:", expanded=expanded):
        for c in citations:
            with st.container(border=True, key=f"src-{msg['id']}-{c.n}"):
                with st.container(horizontal=True, vertical_alignment="center"):
                    st.markdown(f"**[{c.n}] {escape_md(c.title or c.source)}**")
                    color = "blue" if c.scope == PLAYBOOK_SCOPE else "green"
                    st.badge(scope_label(c.scope), color=color)
                where = location(c)
                age = c.age_days()
                when = "" if age is None else f" · modified {age} day{'s' if age != 1 else ''} ago"
                st.caption(escape_md(f"{where} · {c.source}" if where else c.source) + when)
                st.markdown(f"> {escape_md(c.snippet)}")
                data = viewer.file(c)
                if data is not None:
                    name = c.source.rsplit("/", 1)[-1]
                    st.download_button(
                        "Download file",
                        data=data,
                        file_name=name,
                        mime=mimetypes.guess_type(name)[0] or "application/octet-stream",
                        key=f"dl-{msg['id']}-{c.n}",
                        icon=":material/download:",
                        type="tertiary",
                        on_click="ignore",
                    )


def render_feedback(msg: dict, viewer: Viewer) -> None:
    key = f"fb-{msg['id']}"
    # `default` restores the thumbs after the widget was cleaned up (e.g. another scope shown).
    st.feedback(
        "thumbs",
        key=key,
        default=None if key in st.session_state else msg.get("rating"),
        on_change=save_feedback,
        args=(viewer, msg),
    )
    if msg.get("rating") is not None:
        st.text_input(
            "Comment (optional)",
            key=f"fbc-{msg['id']}",
            value="" if f"fbc-{msg['id']}" in st.session_state else msg.get("comment", ""),
            placeholder="What was wrong or missing? Which document should it have used?",
            on_change=save_feedback,
            args=(viewer, msg),
        )
        st.caption("Thanks: your feedback is saved.")


def render_answer(msg: dict, viewer: Viewer, latest: bool, with_text: bool = True) -> None:
    answer = msg["answer"]
    if with_text:
        st.markdown(neutralize_md(answer.answer))
    if answer.warning:
        st.warning(neutralize_md(answer.warning), icon=":material/warning:")
    render_sources(msg, viewer, expanded=latest)  # older answers fold their sources away
    render_feedback(msg, viewer)


def render_message(msg: dict, viewer: Viewer, latest: bool = False) -> None:
    with st.chat_message(msg["role"]):
        if msg["role"] == "user":
            st.markdown(escape_md(msg["content"]))
        elif "error" in msg:
            st.error(neutralize_md(msg["error"]), icon=":material/error:")
        else:
            render_answer(msg, viewer, latest)


def empty_state(client: str | None, status: dict) -> None:
    if not status["documents"]:
        st.info(
            "Nothing is indexed yet. Add documents under **Add documents** in the sidebar, or "
            "run `cto-advisor ingest data/playbooks` and reload.",
            icon=":material/info:",
        )
    who = f"**{escape_md(client)}**'s documents and your playbooks" if client else "your playbooks"
    st.markdown(
        f"Ask a question in plain words. Answers come from {who}, and every claim is cited "
        "with a numbered source you can open."
    )
    st.caption("Try one of these:")
    for q in EXAMPLES["client" if client else None]:
        st.button(q, key=f"ex-{q}", on_click=pick_example, args=(q,))


def ask(
    advisor: Advisor, principal: Principal, viewer: Viewer, client: str | None, question: str
) -> None:
    """Stream one answer into the chat and keep it in the conversation."""
    messages = chat(client)
    history = history_of(messages)
    messages.append({"role": "user", "content": question})
    render_message(messages[-1], viewer)
    msg = {"id": uuid.uuid4().hex, "role": "assistant", "question": question}
    msg |= {"client": client, "history": history}
    with st.chat_message("assistant"):
        try:
            stream = advisor.ask_stream(principal, question, client=client, history=history)
            msg["id"] = stream.id  # the service's answer id: feedback is checked against it
            st.write_stream(neutralize_md(delta) for delta in stream)
            msg["answer"] = stream.answer
        except AdvisorError as exc:
            msg["error"] = str(exc)
        except Exception as exc:  # a bug must not take the page down; the log has the trace
            log.exception("answering failed")
            msg["error"] = f"Something went wrong ({type(exc).__name__}: {exc}). Try again; the "
            msg["error"] += "server log has the details."
        messages.append(msg)
        if "error" in msg:
            st.error(neutralize_md(msg["error"]), icon=":material/error:")
        else:
            render_answer(msg, viewer, latest=True, with_text=False)


# -- sidebar -------------------------------------------------------------------------------------


def scope_selector(clients: list[str]) -> str | None:
    if st.session_state.get("pending_client") in clients:
        st.session_state["client"] = st.session_state.pop("pending_client")
    if st.session_state.get("client") not in [PLAYBOOKS_ONLY, *clients]:
        st.session_state["client"] = PLAYBOOKS_ONLY
    choice = st.selectbox(
        "Client",
        [PLAYBOOKS_ONLY, *clients],
        key="client",
        help="Every question sees the playbooks plus this client's documents, never another's.",
    )
    return None if choice == PLAYBOOKS_ONLY else choice


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
                index_status.clear()
                st.rerun()
        for r in st.session_state.get("upload_results", []):
            st.markdown(f"{STATUS_ICONS.get(r.status, '')} {escape_md(r.name)}: {r.status}")
            if r.reason:
                st.caption(escape_md(r.reason))
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
        st.caption(escape_md(st.session_state["repo_result"]))


def run_upload(advisor: Advisor, principal: Principal, files, dest: str | None) -> list:
    bar = st.progress(0.0, text=f"Indexing {len(files)} file(s)…")
    done: list = []

    def on_file(result) -> None:
        done.append(result)
        bar.progress(len(done) / len(files), text=f"{escape_md(result.name)}: {result.status}")

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
            st.markdown(f"- {escape_md(s['title'] or s['source'])}  \n  {code_span(s['source'])}")


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
    st.markdown(f"Answers go to: **{escape_md(settings.answer_destination)}**")
    if principal.is_cto:
        st.caption(f"Data directory: {code_span(settings.data_dir.resolve())}")
    if dotenv := settings.dotenv_settings():
        st.warning(
            f"Settings loaded from {code_span(Path('.env').resolve())} (the folder the app was started "
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


DOWNLOADS = {
    "md": ("Markdown", "text/markdown"),
    "docx": (
        "Word (.docx)",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    "csv": ("CSV", "text/csv"),
}


def download_row(files: dict[str, bytes | str], slug: str, key: str) -> None:
    """One download button per prepared file, serving exactly the bytes built with the draft."""
    with st.container(horizontal=True):
        for kind, data in files.items():
            label, mime = DOWNLOADS[kind]
            st.download_button(
                label, data, f"{slug}.{kind}", mime, icon=":material/download:",
                on_click="ignore", key=f"{key}-{kind}",
            )  # fmt: skip


# -- memo ----------------------------------------------------------------------------------------


@contextmanager
def errors_shown(task: str) -> Iterator[None]:
    """Show a domain error's message (it says what to fix); log a bug's trace and say so. Neither
    takes the page down. `task` names the step in the message ("Drafting failed (...)")."""
    try:
        yield
    except AdvisorError as exc:
        st.error(neutralize_md(str(exc)), icon=":material/error:")
    except Exception as exc:
        log.exception("%s failed", task.lower())
        st.error(neutralize_md(f"{task} failed ({type(exc).__name__}: {exc}); see the server log."))


def memo_panel(advisor: Advisor, principal: Principal, client: str | None) -> None:
    history = history_of(chat(client))
    st.markdown(
        "A structured memo with every point cited: the client's situation, what the playbooks "
        "recommend, the options side by side (benefits, costs, risks), risks, next steps and "
        "the open questions the documents do not settle. Ready to send as Markdown or Word."
    )
    topic = st.text_input(
        "Topic",
        key="memo-topic",
        placeholder="e.g. Should we hire an SRE or invest in on-call first?",
        help='Name the choice ("X or Y", "whether to X", "build vs buy") to compare '
        "the options side by side. Leave empty to write the memo about the conversation.",
    )
    use_chat = st.checkbox(
        f"Use this conversation ({len(history)} messages)",
        value=bool(history),
        disabled=not history,
    )
    memos = st.session_state.setdefault("memos", {})  # one per scope, like the chats
    if st.button("Draft memo", type="primary", icon=":material/edit_note:", key="draft-memo"):
        with st.spinner("Drafting the memo…"), errors_shown("Drafting"):
            memo = advisor.memo(
                principal, topic, client=client, history=history if use_chat else []
            )
            # The exact bytes the download buttons serve, built once per draft.
            files = {"md": memo.to_markdown(), "docx": memo.to_docx()}
            memos[scope_key(client)] = (memo, files)
    if scope_key(client) not in memos:
        return
    memo, files = memos[scope_key(client)]
    if memo.warning:
        st.warning(neutralize_md(memo.warning), icon=":material/warning:")
    download_row(files, memo.slug(), "memo")
    with st.container(border=True):
        st.markdown(memo.to_markdown(level=3))  # the preview sits under the page's own title


# -- assessment ----------------------------------------------------------------------------------

VERDICT_COLORS = {
    "evidenced": "#2e7d32",
    "partial": "#f9a825",
    "missing": "#9e9e9e",
    "contradicted": "#c62828",
}
VERDICT_BADGES = {
    "evidenced": ":green-badge[evidenced]",
    "partial": ":orange-badge[partial]",
    "missing": ":gray-badge[missing]",
    "contradicted": ":red-badge[contradicted]",
}


def coverage_chart(assessment):
    """Practices per area, stacked by verdict (Altair, which Streamlit ships)."""
    import altair as alt
    import pandas as pd

    rows = [
        {"area": row["area"], "verdict": verdict, "practices": row[verdict]}
        for row in assessment.coverage()
        for verdict in VERDICT_COLORS
        if row[verdict]
    ]
    scale = alt.Scale(domain=list(VERDICT_COLORS), range=list(VERDICT_COLORS.values()))
    return (
        alt.Chart(pd.DataFrame(rows))
        .mark_bar()
        .encode(
            y=alt.Y("area:N", title=None, sort=None),
            x=alt.X("practices:Q", title="Practices", axis=alt.Axis(tickMinStep=1)),
            color=alt.Color("verdict:N", scale=scale, legend=alt.Legend(orient="bottom")),
            tooltip=["area", "verdict", "practices"],
        )
    )


def assessment_panel(advisor: Advisor, principal: Principal, client: str | None) -> None:
    if not client:
        st.info(
            "An assessment checks one client's documents against your practice checklist: "
            "choose a client in the sidebar.",
            icon=":material/fact_check:",
        )
        return
    st.markdown(
        f"Which of your checklist's practices **{escape_md(client)}** already has, which are "
        "missing, and where its own documents disagree. Every verdict cites the playbook and "
        "the client's evidence."
    )
    results = st.session_state.setdefault("assessments", {})
    if st.button("Run assessment", type="primary", icon=":material/fact_check:", key="assess"):
        with (
            st.spinner("Reading the client's documents against the checklist…"),
            errors_shown("Assessment"),
        ):
            assessment = advisor.assess(principal, client)
            results[scope_key(client)] = (
                assessment,
                {"md": assessment.to_markdown(), "docx": assessment.to_docx(),
                 "csv": assessment.to_csv()},
            )  # fmt: skip
    if scope_key(client) not in results:
        return
    assessment, files = results[scope_key(client)]
    if assessment.warning:
        st.warning(neutralize_md(assessment.warning), icon=":material/warning:")
    counts = {v: sum(1 for x in assessment.verdicts if x.verdict == v) for v in VERDICT_COLORS}
    for col, (verdict, count) in zip(st.columns(4), counts.items(), strict=True):
        col.metric(verdict.capitalize(), count)
    st.altair_chart(coverage_chart(assessment), width="stretch")
    by_n = {c.n: c for c in assessment.citations}
    area = None
    for v in assessment.verdicts:
        if v.area != area:
            area = v.area
            st.subheader(area, divider="gray")
        with st.expander(f"{v.verdict.upper()} · {escape_md(v.practice)}"):
            st.markdown(f"{VERDICT_BADGES[v.verdict]} {escape_md(v.reason)}")
            for n in ([v.playbook] if v.playbook else []) + v.evidence:
                c = by_n.get(n)
                if c is None:
                    continue
                st.markdown(
                    f"**[{n}]** {scope_label(c.scope)} · {escape_md(c.title or c.source)} "
                    f"· {escape_md(location(c))}"
                )
                st.caption(escape_md(c.snippet))
    if assessment.conflicts:
        st.subheader("Conflicting sources", divider="red")
        for c in assessment.conflicts:
            st.markdown(f"- {escape_md(c.describe())}")
    download_row(files, f"assessment-{client}", "assess")


# -- page ----------------------------------------------------------------------------------------


def main() -> None:
    settings = get_settings()
    # Single-user mode on loopback with no accounts, else a signed-in session (or the sign-in form).
    principal = current_principal(settings)
    st.title("CTO Advisor")  # drawn first, so the page shows up while the model loads
    scope_line = st.empty()
    with st.spinner("Loading the embedding model and the index…"):
        try:
            advisor = load_advisor(settings, settings_key(settings))
            status = index_status(advisor, principal, str(settings.data_dir))
        except AdvisorError as exc:
            st.error(neutralize_md(str(exc)), icon=":material/error:")
            st.stop()
    viewer = Viewer(advisor, principal)

    with st.sidebar:
        st.header(":material/tune: Workspace", divider="blue")
        account_panel(settings, principal)
        if principal.is_cto:
            client = scope_selector(status["clients"])
        else:  # a founder has one client: no selector, and the service enforces it regardless
            client = principal.client
            st.markdown(f"**Client:** {escape_md(client or '')}")
        st.button(
            "New chat", icon=":material/add_comment:", on_click=new_chat, args=(client,),
            width="stretch",
        )  # fmt: skip
        upload_panel(advisor, principal, client, status["clients"])
        status_panel(status, client)
        mode_panel(settings, principal)

    scope = f"**{escape_md(client)}** documents + playbooks" if client else "**Playbooks only**"
    where = settings.answer_destination if settings.use_llm else "offline answers"
    scope_line.caption(f"Scope: {scope} · {escape_md(where)}")
    chat_tab, memo_tab, assess_tab = st.tabs(
        ["Chat", "Recommendation memo", "Assessment"], key="view", on_change="rerun"
    )
    if memo_tab.open:
        with memo_tab:
            memo_panel(advisor, principal, client)
        return
    if assess_tab.open:
        with assess_tab:
            assessment_panel(advisor, principal, client)
        return
    messages = chat(client)
    question = st.chat_input("Ask about hiring, architecture, process…")
    question = question or st.session_state.pop("pending", None)
    with chat_tab:
        if not messages and not question:
            empty_state(client, status)
        for i, msg in enumerate(messages):
            render_message(msg, viewer, latest=i == len(messages) - 1 and not question)
        if question and question.strip():
            ask(advisor, principal, viewer, client, question.strip())
    if status["chunks"]:
        warm_scope(advisor, principal, settings_key(settings), client)


main()
