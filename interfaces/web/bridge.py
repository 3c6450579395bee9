"""The few things the page does in the browser itself (Streamlit custom components, v2).

One bridge per page run: trades a sign-in code for the HttpOnly session cookie (or drops the
cookie) through our own routes, renews the cookie while the page is in use, opens and scrolls to a
source card when its `[n]` link is clicked, and keeps Send disabled while the question is blank,
saying so when a question reaches the length limit. And one small Copy button per answer.

Only our own constant code runs here: what the page passes in (`data`) is read as data, never
inserted as HTML.
"""

from __future__ import annotations

import secrets

import streamlit as st

BRIDGE_JS = r"""
export default function (component) {
  const { data } = component;
  const state = (window.__ctoAdvisor = window.__ctoAdvisor || { done: {}, touched: 0 });
  state.maxChars = data.maxChars;

  const session = data.session;
  if (session && !state.done[session.nonce]) {
    state.done[session.nonce] = true;
    const init = { method: session.op === "set" ? "POST" : "DELETE", credentials: "same-origin",
                   headers: { "Content-Type": "application/json" } };
    if (session.op === "set") init.body = JSON.stringify({ code: session.code });
    state.touched = Date.now();  // the cookie is new: no renewal racing it
    fetch(data.base + "_advisor/session", init).then((r) => {
      document.documentElement.dataset.advisorSession = session.op + ":" + r.status;
    });
  } else if (data.touch && Date.now() - state.touched > 5 * 60 * 1000) {
    state.touched = Date.now();
    fetch(data.base + "_advisor/session/touch", { method: "POST", credentials: "same-origin" });
  }
  if (state.installed) { sync(); return; }
  state.installed = true;

  const style = document.createElement("style");
  style.textContent = `
    .advisor-blank [data-testid="stChatInputSubmitButton"] { opacity: .35; cursor: not-allowed; }
    .advisor-limit { font-size: .8rem; opacity: .8; padding: .15rem .5rem 0; }
    .advisor-limit.over { color: var(--st-red-text-color, #c62828); opacity: 1; }
    [class*="st-key-src-"] summary { padding-top: .2rem; padding-bottom: .2rem; min-height: 0; }
    [class*="st-key-src-"] summary > span,
    [class*="st-key-src-"] summary > span > div { min-width: 0; overflow: hidden; }
    [class*="st-key-src-"] summary p { font-size: .875rem; white-space: nowrap;
                                       overflow: hidden; text-overflow: ellipsis; }
    @media (max-width: 640px) {  /* a phone: the whole width for the conversation */
      [data-testid="stChatMessageAvatarUser"],
      [data-testid="stChatMessageAvatarAssistant"] { display: none; }
      [data-testid="stChatMessage"] { padding-left: 0; padding-right: 0; }
      .advisor-clamp { max-height: 40vh; overflow: hidden;
                       mask-image: linear-gradient(180deg, #000 70%, transparent); }
    }
    .advisor-more { font: inherit; font-size: .875rem; background: none; border: none;
                    color: var(--st-primary-color, #2563eb); padding: .25rem 0; cursor: pointer; }
    @media (min-width: 641px) { .advisor-more { display: none; } }
    .advisor-flash details { outline: 2px solid var(--st-primary-color, #2563eb);
                             outline-offset: 2px; border-radius: .5rem; }
    .st-key-advisor-bridge { display: none; }
    .st-key-history button { justify-content: flex-start; min-height: 2rem; }
    .st-key-history button p { white-space: nowrap; overflow: hidden; text-overflow: ellipsis;
                               text-align: left; }
    .st-key-history [data-testid="stCaptionContainer"] { margin-top: .5rem; }
  `;
  document.head.appendChild(style);

  function openCard(id) {
    const card = document.querySelector(".st-key-" + CSS.escape(id));
    if (!card) return;
    const details = card.querySelector("details");
    if (details && !details.open) details.querySelector("summary")?.click();
    card.scrollIntoView({ behavior: "smooth", block: "center" });
    card.classList.add("advisor-flash");
    setTimeout(() => card.classList.remove("advisor-flash"), 1600);
  }
  document.addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest('a[href^="#src-"]');
    if (!link) return;
    event.preventDefault();
    openCard(link.getAttribute("href").slice(1));
  }, true);

  function blank(box) { const t = box.querySelector("textarea"); return !t || !t.value.trim(); }
  function sync() {
    for (const box of document.querySelectorAll('[data-testid="stChatInput"]')) {
      const area = box.querySelector("textarea");
      const button = box.querySelector('[data-testid="stChatInputSubmitButton"]');
      const empty = blank(box);
      box.classList.toggle("advisor-blank", empty);
      if (button && area && area.value !== "") button.disabled = empty;
      let note = box.parentElement.querySelector(".advisor-limit");
      const max = state.maxChars || 0, n = area ? area.value.length : 0;
      const refused = state.refused || 0;  // the length of a paste that did not fit
      if (max && (refused || n >= 0.8 * max)) {
        if (!note) {
          note = document.createElement("div");
          note.className = "advisor-limit";
          note.setAttribute("role", "status");
          box.parentElement.appendChild(note);
        }
        const limit = max.toLocaleString("en");
        note.classList.toggle("over", refused > 0 || n >= max);
        note.textContent = refused
          ? `Questions are limited to ${limit} characters; that text would make ${refused.toLocaleString("en")}, so it was not added. Shorten it, or ask in two parts.`
          : n >= max
            ? `Questions are limited to ${limit} characters: this one is at the limit.`
            : `${n.toLocaleString("en")} / ${limit} characters`;
      } else if (note) {
        note.remove();
      }
    }
  }
  // On a phone, a long answer shows its first lines and "Show full answer": the answer, its
  // collapsed sources and its buttons then fit on one screen.
  state.expanded = state.expanded || {};
  function clamp() {
    const phone = window.matchMedia("(max-width: 640px)").matches;
    for (const body of document.querySelectorAll('[class*="st-key-answer-"]')) {
      const id = [...body.classList].find((c) => c.startsWith("st-key-answer-"));
      let more = body.nextElementSibling;
      if (!more || !more.classList.contains("advisor-more")) {
        more = document.createElement("button");
        more.type = "button";
        more.className = "advisor-more";
        more.textContent = "Show full answer";
        more.onclick = () => { state.expanded[id] = true; clamp(); };
        body.after(more);
      }
      const long = body.scrollHeight > 0.4 * window.innerHeight;
      const clamped = phone && long && !state.expanded[id];
      body.classList.toggle("advisor-clamp", clamped);
      more.hidden = !clamped;
    }
  }
  let pending = null;
  new MutationObserver(() => {
    clearTimeout(pending);
    pending = setTimeout(clamp, 50);
  }).observe(document.body, { childList: true, subtree: true });
  window.addEventListener("resize", clamp);
  // Streamlit drops an edit that would pass the limit (a long paste) without a word: the input
  // event still sees the text it would have made, so say what happened.
  document.addEventListener("input", (event) => {
    const area = event.target;
    const mine = area instanceof HTMLTextAreaElement && area.closest('[data-testid="stChatInput"]');
    state.refused = mine && state.maxChars && area.value.length > state.maxChars
      ? area.value.length : 0;
    setTimeout(sync, 0);
  }, true);
  document.addEventListener("keydown", (event) => {
    const area = event.target;
    if (!(area instanceof HTMLTextAreaElement)) return;
    const box = area.closest('[data-testid="stChatInput"]');
    if (box && event.key === "Enter" && !event.shiftKey && !area.value.trim()) {
      event.preventDefault();
      event.stopPropagation();
    }
  }, true);
  document.addEventListener("click", (event) => {
    const button = event.target.closest &&
      event.target.closest('[data-testid="stChatInputSubmitButton"]');
    const box = button && button.closest('[data-testid="stChatInput"]');
    if (box && blank(box)) { event.preventDefault(); event.stopPropagation(); }
  }, true);
  sync();
}
"""

COPY_JS = r"""
export default function (component) {
  const { data, parentElement } = component;
  let button = parentElement.querySelector("button");
  if (!button) {
    button = document.createElement("button");
    button.type = "button";
    parentElement.appendChild(button);
  }
  button.textContent = "Copy";
  button.title = "Copy the answer with its numbered sources";
  button.setAttribute("aria-label", "Copy answer with sources");
  button.onclick = async () => {
    try {
      await navigator.clipboard.writeText(data.text);
    } catch (error) {  // no clipboard API (plain HTTP to another machine): the old way
      const area = document.createElement("textarea");
      area.value = data.text;
      document.body.appendChild(area);
      area.select();
      document.execCommand("copy");
      area.remove();
    }
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = "Copy"; }, 1500);
  };
}
"""

COPY_CSS = """
button { font: inherit; font-size: .875rem; color: var(--st-text-color); background: none;
         border: 1px solid transparent; border-radius: .5rem; padding: .25rem .6rem;
         cursor: pointer; }
button:hover { border-color: var(--st-border-color, rgba(128, 128, 128, .4)); }
"""

_bridge = st.components.v2.component("cto_advisor.bridge", js=BRIDGE_JS)
_copy = st.components.v2.component("cto_advisor.copy", js=COPY_JS, css=COPY_CSS)


def bridge(base: str, max_chars: int, touch: bool) -> None:
    """Mount the page's bridge; a pending cookie action (set after sign-in, clear after sign-out)
    is taken from the session state and done once."""
    session = st.session_state.pop("_advisor_cookie", None)
    if session is not None:
        session = {**session, "nonce": secrets.token_hex(8)}
    _bridge(
        data={"base": base, "maxChars": max_chars, "touch": touch, "session": session},
        key="advisor-bridge",
    )


def set_cookie_later(code: str) -> None:
    """After a sign-in: the next bridge trades `code` for the HttpOnly session cookie."""
    st.session_state["_advisor_cookie"] = {"op": "set", "code": code}


def clear_cookie_later() -> None:
    st.session_state["_advisor_cookie"] = {"op": "clear"}


def copy_button(text: str, key: str) -> None:
    """A Copy button that puts `text` on the clipboard (plain text, no page round trip)."""
    _copy(data={"text": text}, key=key, width="content")
