"""Who is using the app: single-user mode, a local account, or an OIDC identity (`st.login`).

The principal comes only from a server-side session (advisor/service/sessions.py), looked up on
every run: its id is kept in `st.session_state` under a key no widget uses, and in the browser in
an HttpOnly signed cookie set by our own route (interfaces/web/routes.py), so a reload or a new tab
finds it again. Nothing else a browser sends (query parameters, widget values) can name the user,
the role or the client. OIDC sign-in keeps Streamlit's own identity cookie; a server-side session
is started for it too, so that `users remove` and `forget` end it.

Single-user mode (the CTO on their own machine, no accounts) is served only while accounts never
existed in the data directory, the app is bound to loopback, and the page is reached directly
from this machine: not through a proxy, whatever the bind address says.
"""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

from advisor.core.errors import AccessError, AdvisorError, ConfigError
from advisor.core.principal import Principal
from advisor.core.settings import Settings
from advisor.service.accounts import AccountStore, check_exposure, is_loopback
from advisor.service.sessions import COOKIE_NAME, SessionStore, sign_in_required
from interfaces.web.bridge import clear_cookie_later, set_cookie_later
from interfaces.web.routes import issue_handoff
from interfaces.web.text import inert

SESSION_KEY = "_advisor_session"  # not a widget key: the browser cannot set it
STALE_COOKIE = "_advisor_stale_cookie"  # the cookie this tab signed out of (still in its headers)
WATCH_SECONDS = 10  # an open tab notices a session ended elsewhere within this long
PROXY_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip", "x-forwarded-host")


def oidc_providers() -> list[str | None]:
    """The OIDC providers configured in `.streamlit/secrets.toml` ([auth] or [auth.NAME])."""
    try:
        auth = st.secrets.get("auth")
    except (FileNotFoundError, OSError):
        return []
    if not auth:
        return []
    named = [name for name, value in auth.items() if hasattr(value, "get") and "client_id" in value]
    return named or ([None] if "client_id" in auth else [])


def _oidc_email() -> str | None:
    """The email of a user signed in through `st.login`, when OIDC is configured."""
    if not oidc_providers() or st.user.get("is_logged_in") is not True:
        return None
    if st.user.get("email_verified") is not True:
        return None  # an address the provider did not verify (or did not say) could be anyone's
    return st.user.get("email") or None


def client_address() -> str:
    """Where a sign-in comes from (sign-ins are throttled per source): the browser's address,
    or behind a TLS proxy on this machine the address it forwards (X-Forwarded-For's last
    entry, the one the proxy itself added; only a local peer may speak for a client)."""
    try:
        ip = st.context.ip_address  # None for a peer on this machine (a proxy, or local use)
        forwarded = st.context.headers.get("X-Forwarded-For", "")
    except Exception:  # noqa: BLE001 - no browser connection (tests, bare mode)
        return "local"
    ip = ip if isinstance(ip, str) else None
    forwarded = forwarded if isinstance(forwarded, str) else ""
    if ip is None and forwarded:
        return forwarded.split(",")[-1].strip()[:100] or "local"
    return ip or "local"


def check_single_user(settings: Settings, accounts: AccountStore) -> None:
    """Refuse single-user mode to anyone who is not on this machine, bind address aside."""
    check_exposure(st.get_option("server.address"), accounts)
    raw = st.context.headers
    headers = {str(k).casefold() for k in raw} if hasattr(raw, "keys") else set()
    via_proxy = sorted(h for h in PROXY_HEADERS if h in headers)
    remote = st.context.ip_address
    remote = remote if isinstance(remote, str) else None  # unknown (a test harness, a socket)
    if via_proxy or (remote and not is_loopback(remote)):
        raise ConfigError(
            "this page was reached through a proxy or from another machine "
            f"({', '.join(via_proxy) or remote}), but there are no accounts, so anyone could "
            "read every client's documents. Create one first: `cto-advisor users add "
            "you@example.com --role cto` (then one per founder with --role founder --client NAME)"
        )


def _start(sessions: SessionStore, email: str, via: str) -> str:
    """Begin a session: nothing of a previous user (chats, memos) survives into it."""
    session_id = sessions.start(email, via=via)
    st.session_state.clear()
    st.session_state[SESSION_KEY] = session_id
    return session_id


def sign_out(settings: Settings) -> None:
    """End the session here (every tab using it sees so), drop the cookie, and OIDC's too."""
    sessions = SessionStore(settings)
    sessions.end(st.session_state.get(SESSION_KEY))
    stale = st.context.cookies.get(COOKIE_NAME)
    st.session_state.clear()
    st.session_state[STALE_COOKIE] = stale
    st.query_params.clear()  # the next person at this browser does not start in this chat
    clear_cookie_later()
    if _oidc_email():
        st.logout()


def _cookie_session(sessions: SessionStore) -> str | None:
    value = st.context.cookies.get(COOKIE_NAME)
    if not value or value == st.session_state.get(STALE_COOKIE):
        return None
    return sessions.from_cookie(value)


def current_principal(settings: Settings) -> Principal | None:
    """The signed-in principal; None once the page shows the sign-in form or why nothing is
    shown (the caller then mounts the bridge, which may still have a cookie to drop, and stops)."""
    accounts = AccountStore(settings)
    try:
        if not sign_in_required(settings, accounts):
            check_single_user(settings, accounts)
            return Principal.local()  # single-user mode: the CTO on their own machine
    except AdvisorError as exc:
        if st.session_state.pop(SESSION_KEY, None):
            clear_cookie_later()
        st.error(str(exc), icon=":material/lock:")
        return None

    sessions = SessionStore(settings, accounts)
    notice = None
    session_id = st.session_state.get(SESSION_KEY) or _cookie_session(sessions)
    if session_id:
        try:
            principal = sessions.principal(session_id)
        except AccessError as exc:
            notice = str(exc)
            stale = st.context.cookies.get(COOKIE_NAME)
            st.session_state.clear()
            st.session_state[STALE_COOKIE] = stale
            if stale:
                clear_cookie_later()
            if _oidc_email():
                st.logout()  # an ended session must sign in at the provider again
                st.stop()
        else:
            st.session_state[SESSION_KEY] = session_id
            return principal

    email = _oidc_email()
    if not email and oidc_providers() and st.user.get("is_logged_in") is True:
        st.error(
            "Your sign-in provider did not confirm that you own this email address "
            "(email_verified), so it cannot sign you in here: verify the address with the "
            "provider, or sign in with your password.",
            icon=":material/lock:",
        )
    if email:
        try:
            principal = accounts.principal_for_email(email)
        except AccessError as exc:
            st.error(str(exc), icon=":material/lock:")
            st.button("Sign out", on_click=st.logout, key="signout-oidc")
            return None
        accounts.audit.record("login", principal, client=principal.client, via="oidc")
        _start(sessions, principal.user, via="oidc")  # Streamlit's cookie carries it on reload
        return principal

    signin_form(accounts, sessions, notice)
    return None


def signin_form(accounts: AccountStore, sessions: SessionStore, notice: str | None) -> None:
    """The sign-in page: email and password, plus a button per OIDC provider."""
    st.title("CTO Advisor")
    st.caption("Sign in to see your documents.")
    if notice:
        st.info(notice, icon=":material/schedule:")
    with st.form("signin", clear_on_submit=True, border=True):
        email = st.text_input("Email", key="signin-email", autocomplete="username")
        password = st.text_input(
            "Password", type="password", key="signin-password", autocomplete="current-password"
        )
        submitted = st.form_submit_button("Sign in", type="primary", icon=":material/login:")
    if submitted:
        try:
            user = accounts.login(email, password, via="app", source=client_address())
        except AdvisorError as exc:
            st.error(str(exc), icon=":material/lock:")
        else:
            session_id = _start(sessions, user.email, via="password")
            set_cookie_later(issue_handoff(session_id))  # a reload or a new tab stays signed in
            st.rerun()
    for provider in oidc_providers():
        st.button(
            f"Sign in with {provider or 'single sign-on'}",
            on_click=st.login,
            args=(provider,) if provider else (),
            icon=":material/key:",
            key=f"oidc-{provider or 'default'}",
        )


def account_panel(settings: Settings, principal: Principal) -> None:
    """Who is signed in, and the way out (nothing to show in single-user mode)."""
    if principal == Principal.local():
        return
    role = "CTO" if principal.is_cto else f"founder · {principal.client}"
    st.caption(f":material/person: {inert(principal.user)} ({inert(role)})")
    if st.button("Sign out", icon=":material/logout:", key="signout", width="stretch"):
        sign_out(settings)
        st.rerun()


@st.fragment(run_every=timedelta(seconds=WATCH_SECONDS))
def session_watch(settings: Settings, signed_in: bool) -> None:
    """Re-check, every few seconds, that this tab may still show what it shows: a session ended
    elsewhere (another tab, `users remove`, a new password, `forget`), or accounts appearing or
    vanishing, redraws the whole page at once instead of at the next click."""
    accounts = AccountStore(settings)
    try:
        if signed_in:
            SessionStore(settings, accounts).principal(st.session_state.get(SESSION_KEY), use=False)
        elif sign_in_required(settings, accounts):
            raise AccessError("accounts now exist")
    except AdvisorError:
        st.rerun(scope="app")
