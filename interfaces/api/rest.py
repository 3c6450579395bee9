"""The REST routes under /v1: every call runs as the bearer token's principal, through the facade."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Response, UploadFile
from fastapi.responses import StreamingResponse

from advisor.core.clients import client_name
from advisor.core.errors import AdvisorError
from advisor.core.principal import Principal
from advisor.core.sanitize import clean_model
from advisor.service.facade import AnswerStream
from advisor.service.feedback import FeedbackRecord
from interfaces.api import schemas as s
from interfaces.api.deps import Caller, Deadline, Shared, State, answer_of, run, stream_work
from interfaces.api.problems import Problem, responses, status_for

router = APIRouter(prefix="/v1")
# Uploads get their own (larger) body limit, set when create_app includes this router.
uploads = APIRouter(prefix="/v1")
AUTH = (401, 403, 422, 429, 504)
BODY = (*AUTH, 413)
# One Server-Sent Event, as OpenAPI 3.2 describes them; `data` is a JSON document.
SSE_EVENT = {
    "type": "object",
    "properties": {
        "event": {"type": "string", "enum": ["delta", "citations", "done", "error"]},
        "data": {"type": "string", "contentMediaType": "application/json"},
    },
    "required": ["event", "data"],
}
MAX_FILES = 20  # per upload request (also the multipart parser's limit)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def history(conversation: list[s.Turn]) -> list[dict[str, str]]:
    return [turn.model_dump() for turn in conversation]


def sse(event: str, data: object) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def ask_events(answer_id: str, stream: AnswerStream, client: str | None) -> Iterator[str]:
    """`delta` events with the text, then `citations`, then `done` with the whole answer.

    A failure after the stream has started cannot change the status: it becomes an `error`
    event carrying the same problem document a non-streamed request would get.
    """
    try:
        for piece in stream:
            yield sse("delta", {"text": piece})
        answer = stream.answer
    except AdvisorError as exc:
        status = status_for(exc)
        yield sse("error", Problem(title="error", status=status, detail=str(exc)).model_dump())
        return
    finally:
        stream.close()  # closed early (timeout, client gone): the model's stream stops too
    citations = [c.model_dump(mode="json") for c in answer.citations]
    yield sse("citations", {"citations": citations})
    yield sse("done", _ask_response(answer_id, answer, client).model_dump(mode="json"))


def _ask_response(answer_id: str, answer, client: str | None) -> s.AskResponse:
    """The JSON body of an answer, for /v1/ask and the stream's closing `done` event."""
    return s.AskResponse(
        id=answer_id,
        answer=answer.answer,
        abstained=answer.abstained,
        mode=answer.mode,
        client=client,
        citations=answer.citations,
        conflicts=answer.conflicts,
        stale=answer.stale,
    )


def _client(st: State, principal: Principal, client: str | None) -> str | None:
    """The client a request acts on, refused (403/404) if this principal may not use it."""
    return st.advisor.scope(principal, client)[0]


def _named(principal: Principal, client: str | None) -> str | None:
    """The canonical client name, once the facade has checked it (no second index read)."""
    return principal.resolve_client(client_name(client) if client else None)


@router.post(
    "/ask",
    response_model=s.AskResponse,
    responses={
        200: {
            "content": {
                "text/event-stream": {
                    "schema": SSE_EVENT,
                    "example": 'event: delta\ndata: {"text": "..."}\n\n',
                }
            },
            "description": "The answer as JSON, or as Server-Sent Events with `stream: true`.",
        },
        **responses(*BODY, 400, 404, 502),
    },
    summary="Ask a question; a cited answer (or an honest abstention)",
)
async def ask(body: s.AskRequest, principal: Caller, st: Shared):
    deadline = Deadline(st)
    stream = await run(
        st,
        st.advisor.ask_stream,
        principal,
        body.question,
        client=body.client,
        history=history(body.conversation),
        deadline=deadline,
    )
    client = _named(principal, body.client)
    if body.stream:

        def timed_out(problem) -> str:
            return sse(
                "error",
                Problem(title="Gateway Timeout", status=504, detail=problem.detail).model_dump(),
            )

        return StreamingResponse(
            stream_work(st, lambda _: ask_events(stream.id, stream, client), deadline, timed_out),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
    cancel = threading.Event()
    answer = await run(st, answer_of, stream, cancel, deadline=deadline, cancel=cancel)
    return _ask_response(stream.id, answer, client)


@router.post(
    "/search",
    response_model=s.SearchResponse,
    responses=responses(*BODY, 400, 404),
    summary="The passages that best match a query (no answer)",
)
async def search(body: s.SearchRequest, principal: Caller, st: Shared) -> s.SearchResponse:
    found = await run(st, st.advisor.retrieve, principal, body.query, client=body.client, k=body.k)
    client = _named(principal, body.client)
    passages = [clean_model(s.PassageOut.model_validate(p.model_dump())) for p in found]
    return s.SearchResponse(client=client, passages=passages)


@router.post(
    "/memos",
    responses={
        200: {
            "content": {"text/markdown": {"schema": {"type": "string"}}, DOCX: {}},
            "description": "The memo as Markdown, or as a Word document with format=docx.",
        },
        **responses(*BODY, 400, 404, 502),
    },
    response_class=Response,
    summary="Draft a cited recommendation memo",
)
async def memos(body: s.MemoRequest, principal: Caller, st: Shared) -> Response:
    memo = await run(
        st,
        st.advisor.memo,
        principal,
        body.topic,
        client=body.client,
        history=history(body.conversation),
    )
    disposition = (
        f'attachment; filename="{memo.slug()}.{"docx" if body.format == "docx" else "md"}"'
    )
    if body.format == "docx":
        data = await run(st, memo.to_docx)
        return Response(data, media_type=DOCX, headers={"Content-Disposition": disposition})
    return Response(
        memo.to_markdown(),
        media_type="text/markdown; charset=utf-8",
        headers={"Content-Disposition": disposition},
    )


@router.get(
    "/clients",
    response_model=s.ClientsResponse,
    responses=responses(401, 429, 504),
    summary="The clients this token may see",
)
async def clients(principal: Caller, st: Shared) -> s.ClientsResponse:
    return s.ClientsResponse(clients=await run(st, st.advisor.clients, principal))


@router.get(
    "/documents",
    response_model=s.DocumentsResponse,
    responses=responses(*AUTH, 400, 404),
    summary="The indexed documents this token may see (optionally one client's)",
)
async def documents(
    principal: Caller,
    st: Shared,
    client: Annotated[str | None, Query(max_length=64, pattern=s.CLIENT_PATTERN)] = None,
):
    client = await run(st, _client, st, principal, client)
    rows = await run(st, st.advisor.documents, principal, client)
    return s.DocumentsResponse(documents=[s.DocumentOut.model_validate(r) for r in rows])


@router.get(
    "/status",
    responses=responses(401, 429, 504),
    summary="Counts and settings, as `cto-advisor status --json` shows them",
)
async def status(principal: Caller, st: Shared) -> dict:
    return await run(st, st.advisor.status, principal)


@uploads.post(
    "/documents",
    response_model=s.UploadResponse,
    responses=responses(*AUTH, 400, 404, 413),
    summary="Upload files into a scope this token may write; one result per file",
)
async def upload(
    principal: Caller,
    st: Shared,
    files: Annotated[
        list[UploadFile],
        File(min_length=1, max_length=MAX_FILES, description="The documents to add."),
    ],
    client: Annotated[
        str | None,
        Form(
            max_length=64,
            pattern=s.CLIENT_FORM_PATTERN,
            description="Empty or left out: the playbooks (CTO only); a founder's own client is used.",
        ),
    ] = None,
) -> s.UploadResponse:
    pairs = [(f.filename or "", await f.read()) for f in files]
    client = _named(principal, client or None)  # a founder's uploads go to their own client
    results = await run(st, st.advisor.upload, principal, pairs, client)
    return s.UploadResponse(
        client=client, results=[s.UploadResultOut.model_validate(r.__dict__) for r in results]
    )


@router.post(
    "/feedback",
    response_model=s.FeedbackResponse,
    status_code=201,
    responses=responses(*BODY, 400, 404),
    summary="Rate an answer (thumbs up/down, with an optional comment)",
)
async def feedback(body: s.FeedbackRequest, principal: Caller, st: Shared) -> s.FeedbackResponse:
    record = FeedbackRecord(
        answer_id=body.answer_id,
        rating=body.rating,
        comment=body.comment,
        question=body.question,
        history=history(body.conversation),
        client=body.client,
        answer=body.answer,
        sources=body.sources,
    )
    saved = await run(st, st.advisor.feedback, principal, record)
    return s.FeedbackResponse(answer_id=saved.answer_id, rating=saved.rating, client=saved.client)
