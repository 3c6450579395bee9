"""OpenAI's chat-completions protocol, so any OpenAI-compatible chat UI can use the advisor.

One model per scope the token may read: `cto-advisor/<client>` answers from that client's
documents and the playbooks, `cto-advisor/playbooks` from the playbooks alone. Citations are
appended to the reply as a numbered source list.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from functools import lru_cache
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints

from advisor.core.errors import AdvisorError
from advisor.core.models import Answer, Citation
from advisor.core.principal import Principal
from advisor.core.sanitize import markdown, one_line
from advisor.service.facade import AnswerStream
from interfaces.api.deps import Caller, Deadline, Shared, State, answer_of, run, stream_work
from interfaces.api.problems import ApiProblem, responses, status_for

router = APIRouter(prefix="/v1", tags=["openai-compatible"])
PREFIX = "cto-advisor/"
PLAYBOOKS_MODEL = PREFIX + "playbooks"
# Each event's data is a chat.completion.chunk as JSON, and the last one is `[DONE]`.
FINGERPRINT = "cto-advisor-1"
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


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    include_usage: StrictBool = False


class ChatRequest(BaseModel):
    # temperature, max_tokens, user... are accepted and ignored: answers come from the documents.
    model_config = ConfigDict(extra="allow")
    model: Annotated[str, StringConstraints(min_length=1, max_length=100)] = Field(
        ..., examples=[PLAYBOOKS_MODEL]
    )
    messages: Annotated[list[Message], Field(min_length=1, max_length=100)]
    stream: StrictBool = False
    stream_options: StreamOptions | None = Field(
        None, description="`include_usage: true` adds a last chunk with the token counts."
    )


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
    refusal: str | None = None


class Choice(BaseModel):
    index: int = 0
    message: ChoiceMessage
    logprobs: None = None
    finish_reason: Literal["stop"] = "stop"


class Usage(BaseModel):
    """Tokens counted with the MiniLM tokenizer (word pieces), as the index counts them; the
    model behind an LLM answer may count a little differently."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    system_fingerprint: str = FINGERPRINT
    choices: list[Choice]
    usage: Usage
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


def source_list(citations: list[Citation], allowed: frozenset[str] = frozenset()) -> str:
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
        line = f"[{c.n}] {c.source} ({scope})" + (f": {where}" if where else "")
        lines.append(markdown(one_line(line), allowed))  # names and titles: no Markdown tricks
    return "\n\nSources:\n" + "\n".join(lines)


@lru_cache(maxsize=1)
def _counter(embedding_model: str):
    from ingest.tokens import TokenCounter

    return TokenCounter(embedding_model)


def usage(st: State, messages: list[Message], content: str) -> Usage:
    count = _counter(st.advisor.settings.embedding_model).count
    prompt = sum(count(m.text()) for m in messages)
    completion = count(content)
    return Usage(
        prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion
    )


class Completion:
    """What every chunk of one streamed completion shares."""

    def __init__(self, st: State, body: ChatRequest, cid: str) -> None:
        self.st, self.body, self.cid = st, body, cid
        self.created = int(time.time())
        self.include_usage = bool(body.stream_options and body.stream_options.include_usage)

    def chunk(self, delta: dict | None, finish: str | None = None, **extra: Any) -> str:
        data: dict[str, Any] = {
            "id": self.cid,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.body.model,
            "system_fingerprint": FINGERPRINT,
            "choices": []
            if delta is None
            else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        if self.include_usage:
            data["usage"] = None
        data.update(extra)
        return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"

    def error(self, message: str, status: int) -> str:
        error = {"message": message, "type": "api_error", "code": status}
        return f"data: {json.dumps({'error': error})}\n\n" + self.chunk({}, "stop") + DONE

    def events(self, stream: AnswerStream) -> Iterator[str]:
        yield self.chunk({"role": "assistant", "content": ""})
        text = ""
        try:
            for piece in stream:
                text += piece
                yield self.chunk({"content": piece})
            answer: Answer = stream.answer
            if sources := source_list(answer.citations):
                text += sources
                yield self.chunk({"content": sources})
        except AdvisorError as exc:
            yield self.error(str(exc), status_for(exc))
            return
        finally:
            stream.close()  # closed early (timeout, client gone): the model's stream stops too
        yield self.chunk({}, "stop")
        if self.include_usage:
            used = usage(self.st, self.body.messages, text)
            yield self.chunk(None, usage=used.model_dump())
        yield DONE


DONE = "data: [DONE]\n\n"


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
    deadline = Deadline(st)

    def start() -> AnswerStream:
        client = client_for(st, principal, body.model)
        return st.advisor.ask_stream(principal, question, client=client, history=history)

    stream = await run(st, start, deadline=deadline)
    completion = Completion(st, body, "chatcmpl-" + stream.id)
    if body.stream:
        return StreamingResponse(
            stream_work(
                st,
                lambda _: completion.events(stream),
                deadline,
                lambda problem: completion.error(problem.detail, 504),
            ),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
    cancel = threading.Event()
    answer = await run(st, answer_of, stream, cancel, deadline=deadline, cancel=cancel)
    content = answer.answer + source_list(answer.citations)
    return ChatCompletion(
        id=completion.cid,
        created=completion.created,
        model=body.model,
        choices=[Choice(message=ChoiceMessage(content=content))],
        usage=usage(st, body.messages, content),
        citations=answer.citations,
    )
