"""The API server's own settings (ADVISOR_API_*), on top of the advisor's settings."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiSettings(BaseSettings):
    """Limits that protect the server and the people sharing it."""

    model_config = SettingsConfigDict(env_prefix="ADVISOR_API_", env_file=".env", extra="ignore")

    rate_limit: int = Field(
        120,
        ge=0,
        description="Requests per minute per token (a token bucket, bursts up to the same "
        "number); 0 turns the limit off.",
    )
    workers: int = Field(
        4,
        ge=1,
        description="Requests answered at once, streamed or not; more wait their turn. A "
        "request that timed out keeps its worker until its work has stopped. The model is "
        "CPU-bound, so more than a few only makes every answer slower.",
    )
    timeout: float = Field(
        120.0,
        gt=0,
        description="Seconds (waiting included) before a request is answered with 504, streamed "
        "or not (a stream then ends with an error event); its work is stopped.",
    )
    max_body_kb: int = Field(
        256, ge=1, description="Largest JSON request body, in KiB (questions, memos, feedback)."
    )
    max_upload_mb: float = Field(
        100.0, gt=0, description="Largest multipart upload to /v1/documents, in MiB (all files)."
    )
