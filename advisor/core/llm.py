"""The one seam to a chat model: any OpenAI-compatible endpoint through LangChain's ChatOpenAI.

Nothing else in the product imports `openai` or `langchain_openai` for chat; retrieval and answering
only see `ChatModel.stream(messages)`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.utils.function_calling import convert_to_openai_function
from pydantic import BaseModel

from advisor.core.errors import ConfigError, LLMError
from advisor.core.settings import Settings

Message = tuple[str, str]  # (role, content) with role in system/user/assistant


class LLMOutputError(LLMError):
    """The endpoint answered, but not with output of the shape asked for."""


def response_format(schema: type[BaseModel]) -> dict:
    """The strict JSON-schema response format for `schema` (every field required, no others),
    given as a dict so that the client streams the reply's text without parsing it itself."""
    function = convert_to_openai_function(schema, strict=True)
    return {
        "type": "json_schema",
        "json_schema": {
            "name": function["name"],
            "description": function.get("description", ""),
            "schema": function["parameters"],
            "strict": True,
        },
    }


def _to_langchain(messages: Sequence[Message]) -> list[BaseMessage]:
    kinds = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}
    return [kinds[role](content=content) for role, content in messages]


def _explain(exc: Exception, settings: Settings) -> LLMError:
    """Turn an openai/httpx exception into a message that says what to do."""
    import openai

    where = settings.openai_base_url or "https://api.openai.com/v1"
    if isinstance(exc, openai.AuthenticationError):
        return LLMError(f"the LLM endpoint {where} refused the API key: check OPENAI_API_KEY")
    if isinstance(exc, openai.NotFoundError):
        return LLMError(
            f"model {settings.llm_model!r} was not found at {where}: set ADVISOR_LLM_MODEL "
            "to a model the endpoint serves"
        )
    if isinstance(exc, openai.RateLimitError):
        return LLMError(f"the LLM endpoint {where} is rate-limiting (429) after retries: try later")
    if isinstance(exc, openai.APITimeoutError):
        return LLMError(
            f"the LLM endpoint {where} did not answer within {settings.llm_timeout:g}s: "
            "raise ADVISOR_LLM_TIMEOUT or check the server"
        )
    if isinstance(exc, openai.APIConnectionError):
        return LLMError(
            f"cannot reach the LLM endpoint {where}: start the server or fix OPENAI_BASE_URL "
            "(or set ADVISOR_MODE=offline)"
        )
    if isinstance(exc, openai.APIStatusError):
        return LLMError(
            f"the LLM endpoint {where} failed with HTTP {exc.status_code} after retries"
        )
    if isinstance(exc, ValueError):  # json.JSONDecodeError from the client's parser
        return LLMError(
            f"the LLM endpoint {where} sent a reply that is not valid JSON: check that "
            "OPENAI_BASE_URL points at an OpenAI-compatible API"
        )
    return LLMError(f"the LLM call to {where} failed: {exc}")


def _cut(exc: Exception, settings: Settings, received: int) -> LLMError:
    """A reply that stopped part-way: the endpoint was reached, so say that, not 'unreachable'."""
    if isinstance(exc, ValueError):
        return _explain(exc, settings)
    import openai

    where = settings.openai_base_url or "https://api.openai.com/v1"
    if isinstance(exc, openai.APITimeoutError | TimeoutError):
        how = f"then sent nothing for {settings.llm_timeout:g}s"
    elif isinstance(exc, openai.LengthFinishReasonError):
        how = "then stopped at the model's output token limit"
    else:
        how = "then the connection dropped"
    return LLMError(f"the LLM endpoint {where} sent {received} characters of the reply, {how}")


def _faults() -> tuple[type[BaseException], ...]:
    """What a broken endpoint raises through the client: its own errors, a timeout, and the
    JSON parser's ValueError for a body that is not JSON (openai does not wrap that one)."""
    import openai

    return (openai.OpenAIError, TimeoutError, ValueError)


class ChatModel:
    """A chat model at an OpenAI-compatible endpoint, with timeouts and retries with backoff."""

    def __init__(self, settings: Settings) -> None:
        if not settings.llm_configured:
            raise ConfigError(
                "no LLM configured: set OPENAI_BASE_URL (and OPENAI_API_KEY) or run offline"
            )
        from langchain_openai import ChatOpenAI

        self.settings = settings
        self.name = settings.llm_model
        key = (
            settings.openai_api_key.get_secret_value() if settings.openai_api_key else "not-needed"
        )
        # openai's client retries 408/409/429/5xx and connection errors with exponential backoff.
        self._chat = ChatOpenAI(
            model=settings.llm_model,
            base_url=settings.openai_base_url,
            api_key=key,
            timeout=settings.llm_timeout,
            max_retries=settings.llm_max_retries,
            temperature=settings.llm_temperature,
        )

    def stream(
        self, messages: Sequence[Message], schema: type[BaseModel] | None = None
    ) -> Iterator[str]:
        """Text deltas as the model produces them; raises LLMError with the fix on failure.

        With `schema`, the request asks for structured output (a strict JSON-schema response
        format, as LangChain's `with_structured_output(method="json_schema")` sends it) and the
        deltas are the JSON's text: the caller parses it as it arrives and validates the whole.
        """
        options = {"response_format": response_format(schema)} if schema is not None else {}
        received = 0
        try:
            for chunk in self._chat.stream(_to_langchain(messages), **options):
                text = chunk.content if isinstance(chunk.content, str) else ""
                if text:
                    received += len(text)
                    yield text
        except _faults() as exc:
            if received:
                raise _cut(exc, self.settings, received) from exc
            raise _explain(exc, self.settings) from exc

    def complete(self, messages: Sequence[Message]) -> str:
        """The whole reply as one string (one non-streaming request)."""
        try:
            reply = self._chat.invoke(_to_langchain(messages))
        except _faults() as exc:
            raise _explain(exc, self.settings) from exc
        return reply.content if isinstance(reply.content, str) else ""


def load_chat_model(settings: Settings) -> ChatModel | None:
    """The configured chat model, or None in offline mode."""
    return ChatModel(settings) if settings.use_llm else None
