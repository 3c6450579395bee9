"""Typed settings from environment variables and an optional .env file."""

import os
import re
import sys
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PLAYBOOK_SCOPE = "playbook"
DEFAULT_EMBEDDING_MODEL = "all-MiniLM-L6-v2"


class Settings(BaseSettings):
    """Everything configurable. Variable names are a contract other tools rely on."""

    model_config = SettingsConfigDict(
        env_prefix="ADVISOR_",
        env_file=".env",
        extra="ignore",
        populate_by_name=True,
    )

    data_dir: Path = Field(
        Path("data/.advisor"), description="Where the index, manifest and app state live."
    )
    chroma_host: str | None = Field(
        None, description="Use a Chroma server (chromadb.HttpClient) at this host."
    )
    chroma_port: int = Field(8000, description="Port of the Chroma server.")
    collection: str = Field("cto_advisor", description="Chroma collection name.")

    embedding_model: str = Field(
        DEFAULT_EMBEDDING_MODEL,
        description="'all-MiniLM-L6-v2' (packaged, offline) or 'openai:<model>' for an "
        "OpenAI-compatible embeddings endpoint.",
    )
    embedding_batch_size: int = Field(
        8,
        description="Texts per MiniLM forward pass. Small batches cost nothing in ingest "
        "throughput on CPU and cut answer latency (p95 415 -> 284 ms at 64 -> 8 on the dev set).",
    )

    embedding_runtime: Literal["onnx", "torch"] = Field(
        "onnx",
        description="How the packaged MiniLM runs: 'onnx' (ONNX Runtime, exported at install "
        "time; no torch import, ~2 s faster start) or 'torch' (the reference implementation).",
    )
    onnx_dir: Path = Field(
        Path(sys.prefix) / "share" / "cto-advisor" / "minilm-onnx",
        description="Where `make install` (python -m advisor.core.onnx_export) puts MiniLM's "
        "ONNX graphs: inside the environment, since they are derived from an installed package.",
    )

    onnx_variant: Literal["model.onnx", "model-opt.onnx", "model-int8.onnx"] = Field(
        "model-opt.onnx",
        description="Which exported graph runs (benchmarks/embedding_bench.py compares them).",
    )

    dense_search: Literal["exact", "hnsw"] = Field(
        "exact",
        description="'exact': each visible scope's vectors are held in memory and scanned "
        "exactly (about 2 ms per 20k chunks; 1.5 KB of RAM per chunk of the scopes asked "
        "about). 'hnsw': Chroma's filtered approximate query (no extra memory; 83 ms p95 at "
        "100k chunks on 2 cores). See docs/benchmarks.md.",
    )

    openai_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("OPENAI_API_KEY", "openai_api_key")
    )
    openai_base_url: str | None = Field(
        None, validation_alias=AliasChoices("OPENAI_BASE_URL", "openai_base_url")
    )
    llm_model: str = Field("gpt-4o-mini", description="Chat model name at the endpoint.")
    llm_timeout: float = Field(60.0, description="Seconds before an LLM request is abandoned.")
    llm_max_retries: int = Field(2, description="Retries with backoff on 429/5xx/connection.")
    llm_temperature: float = Field(0.1)
    mode: Literal["auto", "offline"] = Field(
        "auto", description="auto: use the LLM when one is configured, else offline."
    )

    max_file_mb: float = Field(50.0, description="Files larger than this are skipped.")
    chunk_tokens: int = Field(
        220, description="Target chunk size in model tokens (MiniLM's window is 256)."
    )
    parse_workers: int = Field(2, description="Processes that parse files in parallel.")
    parse_timeout: float = Field(
        180.0, description="Seconds one file may take to parse before it is stopped and skipped."
    )
    parse_memory_mb: int = Field(
        1024, description="Memory (MB) a parser process may add while parsing one file."
    )
    max_uncompressed_mb: float = Field(
        200.0, description="Office files (docx/pptx/xlsx) expanding past this are refused."
    )
    chunk_max_chars: int = Field(
        2000, description="Hard cap on a chunk's characters, whatever its token count."
    )
    ingest_lock_wait: float = Field(
        600.0, description="Seconds an ingest waits for another one on the same data dir."
    )

    refresh_inline_chunks: int = Field(
        20_000,
        description="After the index changes, a BM25 index or vector matrix of fewer chunks is "
        "rebuilt before the next answer; a bigger one keeps answering while its successor is "
        "built in the background.",
    )

    top_k: int = Field(6, description="Passages given to the answer.")

    checklist: Path = Field(
        Path("data/checklist.yaml"),
        description="The CTO's practice checklist (YAML) used by `assess`.",
    )
    stale_after_days: int = Field(
        365, description="Answers resting on a document older than this (days) say so."
    )
    session_minutes: float = Field(
        720,
        description="An app session ends after this many minutes without use (sliding: each "
        "visit extends it); the browser keeps it across reloads and restarts until then.",
    )
    session_max_days: float = Field(
        7, description="However active, an app session ends this many days after sign-in."
    )
    require_accounts: bool = Field(
        False,
        description="Never run the app in single-user mode: without readable accounts it shows "
        "nothing. Once an account has been created this holds anyway (accounts.required).",
    )
    max_question_chars: int = Field(
        2000, description="Longest question (characters) the app and the API accept."
    )
    login_max_failures: int = Field(
        5, description="Wrong passwords in a row before an account is locked."
    )
    login_lock_minutes: float = Field(
        15, description="How long an account stays locked after too many wrong passwords."
    )
    allowed_link_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Origins (https://wiki.example.com) whose links and images answers may "
        "keep; every other image becomes its alt text, every other link its text. Comma-separated.",
    )
    founders_may_download_playbooks: bool = Field(
        False,
        description="Let founders download the CTO's playbook files (they always see the cited "
        "passages).",
    )

    @field_validator("allowed_link_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value):
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @property
    def link_origins(self) -> frozenset[str]:
        """The allowed origins, normalised (scheme://host[:port])."""
        from advisor.core.sanitize import allowed_origins

        return allowed_origins(self.allowed_link_origins)

    @property
    def llm_configured(self) -> bool:
        """True when an OpenAI-compatible endpoint or key is set."""
        return bool(self.openai_base_url or self.openai_api_key)

    @property
    def use_llm(self) -> bool:
        """Whether answers come from the LLM (else the offline extractive path)."""
        if self.mode == "offline":
            return False
        return self.llm_configured

    @property
    def answer_destination(self) -> str:
        """Where answers are computed: "offline", or the LLM endpoint's host (never the key)."""
        if not self.use_llm:
            return "offline (nothing leaves this machine)"
        return f"LLM at {self.llm_host} (model {self.llm_model})"

    @property
    def llm_host(self) -> str:
        """The LLM endpoint's host (never the key), e.g. 'localhost:11434'."""
        from urllib.parse import urlparse

        return urlparse(self.openai_base_url or "https://api.openai.com/v1").netloc or str(
            self.openai_base_url
        )

    def dotenv_settings(self) -> list[str]:
        """Names of the settings that came from a `.env` file in the working directory (where
        the app or CLI was started), not from the environment. Such a file can switch answers to
        a remote endpoint without anyone noticing, so status and the app name them."""
        path = Path(".env")
        try:
            text = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
        except OSError:
            return []
        found = []
        for line in text.splitlines():
            m = re.match(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=", line)
            if not m:
                continue
            name = m.group(1).upper()
            ours = name.startswith("ADVISOR_") or name in ("OPENAI_API_KEY", "OPENAI_BASE_URL")
            if ours and name not in os.environ and name not in found:
                found.append(name)
        return found

    @property
    def derived_dirs(self) -> list[Path]:
        """Everything derived from indexed documents; `reset` deletes them all.

        lexical/: BM25 indexes (keyed by collection id and generation as well). evals/: the
        eval suite's own indexes, baselines and judge verdicts, which quote document text.
        sentences/: the offline answer's sentence vectors (advisor.service.sentence_vectors).
        """
        return [self.data_dir / "lexical", self.data_dir / "evals", self.data_dir / "sentences"]

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def manifest_collection(self) -> str:
        """With a Chroma server, the manifest is this collection beside the chunks'."""
        return f"{self.collection}-manifest"

    @property
    def manifest_path(self) -> Path:
        return self.data_dir / "manifest.sqlite"


def get_settings(**overrides) -> Settings:
    """Settings from the environment, with explicit overrides (tests, CLI flags)."""
    return Settings(**overrides)
