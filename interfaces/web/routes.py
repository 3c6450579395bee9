"""The app's own HTTP routes, served beside Streamlit's by `st.App` (see app.py).

A Streamlit page cannot set a response header, so it cannot set an HttpOnly cookie. These routes
can: after a sign-in the page hands the browser a one-time code (random, 60 s, in this process's
memory only), and the browser trades it here for the session cookie. The cookie is signed, holds
only the opaque session id, and is HttpOnly, SameSite=Strict, Secure over HTTPS, with a Max-Age of
the session's remaining idle time (renewed by `touch` while the page is in use). Streamlit then
reads it from the WebSocket handshake (`st.context.cookies`) on every reload or new tab.

`/_advisor/file/<ticket>` serves a cited PDF inline, so the browser's viewer can open it at the
cited page (`#page=N`); the ticket was issued to one principal by the page and the service checks
access again (and audits the download) when it is used.
"""

from __future__ import annotations

import logging
import mimetypes
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from advisor.core.errors import AdvisorError
from advisor.core.principal import Principal
from advisor.core.settings import get_settings
from advisor.service.sessions import COOKIE_NAME, SessionStore

log = logging.getLogger("cto_advisor.app")
PREFIX = "_advisor"
HANDOFF_SECONDS = 60.0
TICKET_SECONDS = 3600.0

_lock = threading.Lock()
_handoffs: dict[str, tuple[str, float]] = {}  # code -> (session id, expiry)


@dataclass(frozen=True)
class Ticket:
    advisor: Any  # the page's Advisor: the service checks access again when the file is fetched
    principal: Principal
    source: str
    scope: str
    session_id: str | None  # with a cookie session, only that session's browser may use it
    expires: float


_tickets: dict[str, Ticket] = {}


def base_path() -> str:
    """The path the app is served under ("/" or "/advisor/"), from Streamlit's config."""
    from streamlit import config

    base = (config.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}/" if base else "/"


def issue_handoff(session_id: str) -> str:
    """A one-time code the browser trades for the session cookie within a minute."""
    code = secrets.token_urlsafe(32)
    now = time.time()
    with _lock:
        for old in [c for c, (_, exp) in _handoffs.items() if exp < now]:
            del _handoffs[old]
        _handoffs[code] = (session_id, now + HANDOFF_SECONDS)
    return code


def file_ticket(advisor, principal: Principal, source: str, scope: str, session_id: str | None):
    """A URL path that opens one cited file inline for this principal (for an hour)."""
    now = time.time()
    with _lock:
        for old in [t for t, v in _tickets.items() if v.expires < now]:
            del _tickets[old]
        ticket = secrets.token_urlsafe(24)
        _tickets[ticket] = Ticket(
            advisor, principal, source, scope, session_id, now + TICKET_SECONDS
        )
    return f"{base_path()}{PREFIX}/file/{ticket}"


def _same_origin(request: Request) -> bool:
    """State-changing requests only from our own page (no login CSRF from another site)."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin:
        return False
    host = request.headers.get("x-forwarded-host") or request.headers.get("host", "")
    return urlsplit(origin).netloc == host


def _secure(request: Request) -> bool:
    proto = request.headers.get("x-forwarded-proto", "").split(",")[0].strip()
    return request.url.scheme == "https" or proto == "https"


def _with_cookie(response: Response, request: Request, value: str, max_age: int) -> Response:
    response.set_cookie(
        COOKIE_NAME, value, max_age=max_age, path=base_path(), httponly=True,
        samesite="strict", secure=_secure(request),
    )  # fmt: skip
    return response


def _without_cookie(response: Response, request: Request) -> Response:
    response.delete_cookie(
        COOKIE_NAME, path=base_path(), httponly=True, samesite="strict", secure=_secure(request)
    )
    return response


def _store() -> SessionStore:
    return SessionStore(get_settings())


async def set_session(request: Request) -> Response:
    if not _same_origin(request):
        return JSONResponse({"detail": "not from this app's page"}, status_code=403)
    try:
        code = str((await request.json()).get("code", ""))
    except ValueError:
        code = ""
    with _lock:
        found = _handoffs.pop(code, None)
    if found is None or found[1] < time.time():
        return JSONResponse({"detail": "unknown or expired code: sign in again"}, 400)
    store = _store()
    session_id = found[0]
    remaining = int(store.remaining(session_id))
    if remaining <= 0:
        return JSONResponse({"detail": "the session has ended: sign in again"}, 400)
    return _with_cookie(
        Response(status_code=204), request, store.cookie_value(session_id), remaining
    )


async def touch_session(request: Request) -> Response:
    """Renew the cookie's Max-Age while the session is alive; drop the cookie once it is not."""
    if not _same_origin(request):
        return JSONResponse({"detail": "not from this app's page"}, status_code=403)
    store = _store()
    if COOKIE_NAME not in request.cookies:
        return Response(status_code=401)  # nothing to renew (and nothing to drop)
    session_id = store.from_cookie(request.cookies.get(COOKIE_NAME))
    try:
        store.principal(session_id)  # slides the session like any use of the page
    except AdvisorError:
        return _without_cookie(Response(status_code=401), request)
    remaining = int(store.remaining(session_id))
    return _with_cookie(
        Response(status_code=204), request, store.cookie_value(session_id), remaining
    )


async def clear_session(request: Request) -> Response:
    if not _same_origin(request):
        return JSONResponse({"detail": "not from this app's page"}, status_code=403)
    return _without_cookie(Response(status_code=204), request)


async def open_file(request: Request) -> Response:
    with _lock:
        ticket = _tickets.get(request.path_params["ticket"])
    missing = JSONResponse({"detail": "this link has expired: open the source again"}, 404)
    if ticket is None or ticket.expires < time.time():
        return missing
    if ticket.session_id is not None:
        store = _store()
        if store.from_cookie(request.cookies.get(COOKIE_NAME)) != ticket.session_id:
            return missing
        try:
            store.principal(ticket.session_id)
        except AdvisorError:
            return missing
    try:
        path = ticket.advisor.download(ticket.principal, ticket.source, ticket.scope)
    except AdvisorError as exc:
        return JSONResponse({"detail": str(exc)}, status_code=404)
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    inline = kind == "application/pdf"  # anything else is a download: never run as our origin
    return FileResponse(
        path,
        media_type=kind,
        filename=path.name,
        content_disposition_type="inline" if inline else "attachment",
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"},
    )


def routes() -> list[Route]:
    """The routes `st.App` serves beside Streamlit's own."""
    base = base_path()
    return [
        Route(f"{base}{PREFIX}/session", set_session, methods=["POST"]),
        Route(f"{base}{PREFIX}/session", clear_session, methods=["DELETE"]),
        Route(f"{base}{PREFIX}/session/touch", touch_session, methods=["POST"]),
        Route(f"{base}{PREFIX}/file/{{ticket}}", open_file, methods=["GET"]),
    ]
