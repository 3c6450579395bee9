"""Who is using the app: single-user mode, a local account, or an OIDC identity (`st.login`).

The principal comes only from a server-side session: a random session id kept in
`st.session_state` under a key no widget uses, looked up in the account store on every run (so an
expired session, a removed account or a changed role applies at once). Nothing a browser sends
(query parameters, widget values) can name the user, the role or the client.
"""

from __future__ import annotations

import streamlit as st

from advisor.core.errors import AccessError, AdvisorError
from advisor.core.principal import Principal
from advisor.core.settings import Settings
from advisor.service.accounts import AccountStore, check_exposure

SESSION_KEY = "_advisor_session"  # not a widget key: the browser cannot set it


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


def _start(accounts: AccountStore, email: str) -> None:
    """Begin a session: nothing of a previous user (chats, memos) survives into it."""
    token = accounts.start_session(email)
    st.session_state.clear()
    st.session_state[SESSION_KEY] = token


def sign_out(accounts: AccountStore) -> None:
    """End the session here and, for OIDC, Streamlit's identity cookie too."""
    accounts.end_session(st.session_state.get(SESSION_KEY))
    st.session_state.clear()
    if _oidc_email():
        st.logout()


def current_principal(settings: Settings) -> Principal:
    """The signed-in principal, or a sign-in form and `st.stop()`."""
    accounts = AccountStore(settings)
    try:
        check_exposure(st.get_option("server.address"), accounts)
    except AdvisorError as exc:
        st.error(str(exc), icon=":material/lock:")
        st.stop()
    if not accounts.exists():
        return Principal.local()  # single-user mode: the CTO on their own machine

    notice = None
    token = st.session_state.get(SESSION_KEY)
    if token:
        try:
            return accounts.principal_for_session(token)
        except AccessError as exc:
            notice = str(exc)
            st.session_state.clear()
            if _oidc_email():
                st.logout()  # an expired session must sign in at the provider again
                st.stop()

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
            st.stop()
        accounts.audit.record("login", principal, client=principal.client, via="oidc")
        _start(accounts, principal.user)
        return principal

    signin_form(accounts, notice)
    st.stop()


def signin_form(accounts: AccountStore, notice: str | None = None) -> None:
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
            _start(accounts, user.email)
            st.rerun()
    for provider in oidc_providers():
        st.button(
            f"Sign in with {provider or 'single sign-on'}",
            on_click=st.login,
            args=(provider,) if provider else (),
            icon=":material/key:",
            key=f"oidc-{provider or 'default'}",
        )


def account_panel(accounts_settings: Settings, principal: Principal) -> None:
    """Who is signed in, and the way out (nothing to show in single-user mode)."""
    if principal == Principal.local():
        return
    role = "CTO" if principal.is_cto else f"founder · {principal.client}"
    st.caption(f":material/person: {principal.user} ({role})")
    if st.button("Sign out", icon=":material/logout:", key="signout", width="stretch"):
        sign_out(AccountStore(accounts_settings))
        st.rerun()
