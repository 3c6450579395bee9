"""OpenAI's chat-completions protocol, so any OpenAI-compatible chat UI can use the advisor.

One model per scope the token may read: `cto-advisor/<client>` answers from that client's
documents and the playbooks, `cto-advisor/playbooks` from the playbooks alone. Citations are
appended to the reply as a numbered source list.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints

from advisor.core.errors import AdvisorError
from advisor.core.models import Answer, Citation
from advisor.core.principal import Principal
from advisor.service.facade import AnswerStream
from interfaces.api.deps import Caller, Shared, State, run
from interfaces.api.problems import ApiProblem, responses, status_for

router = APIRouter(prefix="/v1", tags=["openai-compatible"])
PREFIX = "cto-advisor/"
PLAYBOOKS_MODEL = PREFIX + "playbooks"
# Each event's data is a chat.completion.chunk as JSON, and the last one is `[DONE]`.
CHUNK_EVENT = {"type": "object", "properties": {"data": {"type": "string"}}, "required": ["data"]}


class TextPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")  # name, tool_calls... are accepted and ignored
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: (
        Annotated[str, StringConstraints(max_length=20000)]
        | Annotated[list[TextPart], Field(max_length=50)]
        | None
    ) = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "\n".join(p.text or "" for p in self.content if p.type == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    # temperature, max_tokens, user... are accepted and ignored: answers come from the documents.
    model_config = ConfigDict(extra="allow")
    model: Annotated[str, StringConstraints(min_length=1, max_length=100)] = Field(
        ..., examples=[PLAYBOOKS_MODEL]
    )
    messages: Annotated[list[Message], Field(min_length=1, max_length=100)]
    stream: StrictBool = False


class Model(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "cto-advisor"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[Model]


class ChoiceMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    index: int = 0
    message: ChoiceMessage
    finish_reason: Literal["stop"] = "stop"


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    citations: list[Citation] = Field(
        default_factory=list, description="The sources, also listed at the end of the content."
    )


def models_for(st: State, principal: Principal) -> list[str]:
    return [PREFIX + c for c in st.advisor.clients(principal)] + [PLAYBOOKS_MODEL]


def client_for(st: State, principal: Principal, model: str) -> str | None:
    """The client a model name stands for; 404 (listing this token's models) if none."""
    if model == PLAYBOOKS_MODEL:
        return None
    name = model.removeprefix(PREFIX)
    if model.startswith(PREFIX) and name:
        # A founder naming another client's model is refused by the service (AccessError).
        return st.advisor.scope(principal, name)[0]
    raise ApiProblem(
        404,
        f"no model {model!r}: use one of {', '.join(models_for(st, principal))} "
        "(GET /v1/models lists them)",
    )


def split(messages: list[Message]) -> tuple[str, list[dict[str, str]]]:
    """The last user message is the question; earlier user/assistant turns are the history."""
    turns = [(m.role, m.text()) for m in messages if m.role in ("user", "assistant")]
    if not turns or turns[-1][0] != "user" or not turns[-1][1].strip():
        raise ApiProblem(
            422, "the last message must be a non-empty user message: it is the question asked"
        )
    history = [{"role": role, "content": text} for role, text in turns[:-1]]
    return turns[-1][1], history


def source_list(citations: list[Citation]) -> str:
    """The numbered sources appended to a reply (empty when there are none)."""
    if not citations:
        return ""
    lines = []
    for c in citations:
        where = " > ".join(x for x in (c.title, c.section) if x)
        if c.page:
            where += f", p. {c.page}"
        if c.slide:
            where += f", slide {c.slide}"
        scope = "playbooks" if c.scope == "playbook" else c.scope
        lines.append(f"[{c.n}] {c.source} ({scope})" + (f": {where}" if where else ""))
    return "\n\nSources:\n" + "\n".join(lines)


def _chunk(cid: str, created: int, model: str, delta: dict, finish: str | None = None) -> str:
    body = {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


def chunks(cid: str, created: int, model: str, stream: AnswerStream) -> Iterator[str]:
    yield _chunk(cid, created, model, {"role": "assistant", "content": ""})
    try:
        for piece in stream:
            yield _chunk(cid, created, model, {"content": piece})
        answer: Answer = stream.answer
        if sources := source_list(answer.citations):
            yield _chunk(cid, created, model, {"content": sources})
    except AdvisorError as exc:
        error = {"message": str(exc), "type": "api_error", "code": status_for(exc)}
        yield f"data: {json.dumps({'error': error})}\n\n"
    yield _chunk(cid, created, model, {}, "stop")
    yield "data: [DONE]\n\n"


@router.get(
    "/models",
    response_model=ModelList,
    responses=responses(401, 429, 504),
    summary="One model per scope this token may read",
)
async def list_models(principal: Caller, st: Shared) -> ModelList:
    names = await run(st, models_for, st, principal)
    return ModelList(data=[Model(id=name) for name in names])


@router.post(
    "/chat/completions",
    response_model=ChatCompletion,
    responses={
        200: {
            "content": {"text/event-stream": {"schema": CHUNK_EVENT}},
            "description": "A chat completion, or chat.completion.chunk events with stream=true.",
        },
        **responses(400, 401, 403, 404, 413, 422, 429, 502, 504),
    },
    summary="OpenAI-compatible chat completion over the documents of the model's scope",
)
async def chat_completions(body: ChatRequest, principal: Caller, st: Shared) -> Any:
    question, history = split(body.messages)
    client = await run(st, client_for, st, principal, body.model)
    stream = await run(
        st, st.advisor.ask_stream, principal, question, client=client, history=history
    )
    cid, created = "chatcmpl-" + uuid.uuid4().hex, int(time.time())
    if body.stream:
        return StreamingResponse(
            chunks(cid, created, body.model, stream),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
    answer = await run(st, stream.result)
    content = answer.answer + source_list(answer.citations)
    return ChatCompletion(
        id=cid,
        created=created,
        model=body.model,
        choices=[Choice(message=ChoiceMessage(content=content))],
        citations=answer.citations,
    )
