"""Domain errors. Each message says what went wrong and how to fix it."""


class AdvisorError(Exception):
    """Base class: shown to the user as is, at the edge (CLI message or st.error)."""


class ConfigError(AdvisorError):
    """A setting is missing or invalid."""


class NotFoundError(ConfigError):
    """A client (or other named thing) the request names does not exist for this caller."""


class InputError(AdvisorError):
    """What the user typed cannot be used as it is."""


class StoreError(AdvisorError):
    """The vector store cannot be reached or is in an unexpected state."""


class EmbeddingMismatchError(StoreError):
    """The index was built with another embedding model than the one configured."""


class LLMError(AdvisorError):
    """The configured LLM endpoint failed (down, timed out, refused)."""


class IngestError(AdvisorError):
    """A file could not be ingested; the reason is user-facing."""


class AccessError(AdvisorError):
    """The caller's role does not allow this (another client, a write, an admin action)."""
