"""Errors as RFC 9457 problem documents (application/problem+json) that say what to fix."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from advisor.core.errors import (
    AccessError,
    AdvisorError,
    ConfigError,
    IngestError,
    InputError,
    LLMError,
    NotFoundError,
    StoreError,
)
from interfaces.api.schemas import CLIENT_FORM_PATTERN, CLIENT_PATTERN

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("advisor.api")


class Problem(BaseModel):
    """An RFC 9457 problem document; `detail` tells the caller what to change."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[dict[str, Any]] | None = Field(
        None, description="Each invalid field: where it is and what is wrong with it."
    )


class ApiProblem(Exception):
    """Raised by the API layer itself (auth, rate limit, timeout, unknown model)."""

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers or {}


def status_for(exc: AdvisorError) -> int:
    """The HTTP status of a domain error."""
    if isinstance(exc, AccessError):
        return 403
    if isinstance(exc, LLMError):
        return 502
    if isinstance(exc, StoreError):
        return 503
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, InputError | IngestError):
        return 422
    if isinstance(exc, ConfigError):
        return 400  # in a request: a client name that breaks the naming rule, a missing topic
    return 400


# Routes speaking OpenAI's protocol also get OpenAI's `error` member, so OpenAI clients show
# the message; the document stays a valid problem (RFC 9457 allows extension members).
_OPENAI_PATHS = ("/v1/chat/completions", "/v1/models")
_OPENAI_TYPES = {401: "authentication_error", 403: "permission_error", 404: "not_found_error",
                 429: "rate_limit_error"}  # fmt: skip


def problem_response(
    request: Request,
    status: int,
    detail: str,
    headers: dict[str, str] | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> JSONResponse:
    body = Problem(
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        instance=request.url.path,
        errors=errors,
    ).model_dump(exclude_none=True)
    if request.url.path.startswith(_OPENAI_PATHS):
        kind = _OPENAI_TYPES.get(status, "invalid_request_error" if status < 500 else "api_error")
        body["error"] = {"message": detail, "type": kind, "code": status}
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


CLIENT_RULE = (
    "a client name is 1-64 letters, digits, '-' or '_', starting with a letter or digit "
    "(for example acme-corp)"
)


def _message(err: dict[str, Any]) -> str:
    if err.get("type") == "string_pattern_mismatch":
        pattern = err.get("ctx", {}).get("pattern")
        if pattern == r"\S":
            return "must contain some text, not only spaces"
        if pattern in (CLIENT_PATTERN, CLIENT_FORM_PATTERN):
            return CLIENT_RULE
    return str(err.get("msg", ""))


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    # Field names and messages only: the rejected values are the caller's data (and may be huge).
    return [
        {"loc": ".".join(str(p) for p in err.get("loc", ())), "msg": _message(err)}
        for err in exc.errors()
    ]


TOO_LARGE = (
    "the request body is too large: send less (the server's limits are ADVISOR_API_MAX_BODY_KB "
    "for JSON and ADVISOR_API_MAX_UPLOAD_MB for uploads)"
)


class TooLargeAsProblem:
    """Starlette's body limit answers 413 in plain text before any handler runs: rewrite it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        rewriting = False

        async def send_problem(message: Message) -> None:
            nonlocal rewriting
            if message["type"] == "http.response.start" and message["status"] == 413:
                headers = dict(message.get("headers") or [])
                rewriting = headers.get(b"content-type", b"").startswith(b"text/plain")
            if not rewriting:
                return await send(message)
            if message["type"] == "http.response.start":
                return
            if message.get("more_body"):
                return
            body = Problem(
                title="Content Too Large", status=413, detail=TOO_LARGE, instance=scope["path"]
            ).model_dump_json(exclude_none=True)
            await send(
                {
                    "type": "http.response.start",
                    "status": 413,
                    "headers": [
                        (b"content-type", PROBLEM_JSON.encode()),
                        (b"content-length", str(len(body)).encode()),
                        (b"connection", b"close"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body.encode()})

        await self.app(scope, receive, send_problem)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route accepts on this request's path."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        path_regex = getattr(route, "path_regex", None)
        if path_regex is not None and path_regex.match(request.url.path):
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)


def install(app: FastAPI) -> None:
    """Every error the app can produce becomes a problem document."""
    app.add_middleware(TooLargeAsProblem)

    @app.exception_handler(AdvisorError)
    async def _domain(request: Request, exc: AdvisorError) -> JSONResponse:
        return problem_response(request, status_for(exc), str(exc))

    @app.exception_handler(ApiProblem)
    async def _api(request: Request, exc: ApiProblem) -> JSONResponse:
        return problem_response(request, exc.status, exc.detail, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(exc)
        where = ", ".join(f"{e['loc']}: {e['msg']}" for e in errors[:5])
        return problem_response(
            request, 422, f"the request is not valid: fix {where}", errors=errors
        )

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        hints = {
            404: f"no such route {request.url.path}: see /docs or /openapi.json for the routes",
            405: f"{request.method} is not allowed on {request.url.path}: see /openapi.json",
            413: TOO_LARGE,
        }
        if exc.status_code in hints and detail == HTTPStatus(exc.status_code).phrase:
            detail = hints[exc.status_code]
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            # Starlette lists the methods of the first route on the path; list them all.
            headers["Allow"] = ", ".join(allowed_methods(request))
        return problem_response(request, exc.status_code, detail, headers)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(
            request, 500, "the server failed on this request: see the server log and report it"
        )


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problem documents a route may return."""
    return {
        s: {"model": Problem, "content": {PROBLEM_JSON: {}}, "description": HTTPStatus(s).phrase}
        for s in statuses
    }
