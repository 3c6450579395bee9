"""Request and response bodies of the REST API (the OpenAPI document is generated from these)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StringConstraints

from advisor.core.models import Citation

# A value must say something: whitespace-only text is refused with the field named.
Text = Annotated[str, StringConstraints(min_length=1, max_length=8000, pattern=r"\S")]
# The one client-name rule (advisor.core.clients), stated in the schema so that callers see it.
CLIENT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
# In a form, an empty field is the same as a missing one (HTML forms send empty fields).
CLIENT_FORM_PATTERN = r"^([A-Za-z0-9][A-Za-z0-9_-]{0,63})?$"
ClientName = Annotated[
    str | None,
    Field(
        None,
        max_length=64,
        pattern=CLIENT_PATTERN,
        description="The client to act on (a founder's own client is used whatever is sent); "
        "leave out for the playbooks only.",
        examples=["acme"],
    ),
]


def json_integer(value: object) -> object:
    """A JSON number only: "6" or true are not counts (pydantic's lax mode would take them)."""
    if isinstance(value, bool | str):
        raise ValueError("must be a JSON integer, not a string or a boolean")
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Turn(Strict):
    role: Literal["user", "assistant"]
    content: Annotated[str, StringConstraints(max_length=20000)]


Conversation = Annotated[
    list[Turn],
    Field(
        default_factory=list, max_length=50, description="The conversation so far, oldest first."
    ),
]


class AskRequest(Strict):
    question: Text = Field(..., examples=["Who carries the pager this week?"])
    client: ClientName
    conversation: Conversation
    stream: StrictBool = Field(
        False,
        description="Stream Server-Sent Events: `delta` events (text), then `citations`, "
        "then `done` (the whole answer).",
    )


class AskResponse(BaseModel):
    id: str = Field(..., description="Refer to this answer in POST /v1/feedback.")
    answer: str
    abstained: bool
    mode: Literal["offline", "llm"]
    client: str | None
    citations: list[Citation]
    conflicts: list[str] = Field(
        default_factory=list,
        description="Cited documents that disagree on a fact, as `ask --json`.",
    )
    stale: list[str] = Field(default_factory=list, description="Cited documents past their age.")


class SearchRequest(Strict):
    query: Text
    client: ClientName
    k: Annotated[int, BeforeValidator(json_integer)] = Field(
        6, ge=1, le=50, description="How many passages."
    )


class PassageOut(BaseModel):
    id: str
    text: str
    source: str
    title: str = ""
    section: str = ""
    page: int | None = None
    slide: int | None = None
    scope: str
    score: float


class SearchResponse(BaseModel):
    client: str | None
    passages: list[PassageOut]


class MemoRequest(Strict):
    topic: Text = Field(..., examples=["Should we hire a second on-call engineer?"])
    client: ClientName
    conversation: Conversation
    format: Literal["markdown", "docx"] = "markdown"


class ClientsResponse(BaseModel):
    clients: list[str]


class DocumentOut(BaseModel):
    source: str
    scope: str
    title: str | None = None
    chunks: int
    pages: int | None = None


class DocumentsResponse(BaseModel):
    documents: list[DocumentOut]


class UploadResultOut(BaseModel):
    name: str
    status: Literal["indexed", "unchanged", "skipped", "failed", "refused"]
    reason: str = ""
    chunks: int | None = None


class UploadResponse(BaseModel):
    client: str | None
    results: list[UploadResultOut]


class FeedbackRequest(Strict):
    answer_id: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    rating: Literal["up", "down"]
    comment: Annotated[str, StringConstraints(max_length=4000)] = ""
    question: Text
    client: ClientName
    conversation: Conversation
    answer: Annotated[str, StringConstraints(max_length=40000)] = ""
    sources: list[Annotated[str, StringConstraints(max_length=500)]] = Field(
        default_factory=list, max_length=50
    )


class FeedbackResponse(BaseModel):
    answer_id: str
    rating: Literal["up", "down"]
    client: str | None


class Health(BaseModel):
    status: Literal["ok"] = "ok"
