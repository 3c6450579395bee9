"""BM25 over the chunks a question may see, persisted per scope set and index generation."""

from __future__ import annotations

import json
import os
import re
import shutil
import unicodedata
from functools import cache
from pathlib import Path

import numpy as np

from advisor.core.models import Passage
from advisor.core.runtime import imports_hidden

# A word is letters and digits of any script, joined by "." "+" "#" (node.js, python3.11, 3.11.4),
# and may end in "++" or "#" (c++, c#, f#).
_TOKEN = re.compile(r"[^\W_]+(?:[.+#][^\W_]+)*(?:\+\+|#)?")
# Saved with each index; an index built by another tokenizer is rebuilt rather than searched.
TOKENIZER_VERSION = 2


@cache
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


@cache
def _stopwords() -> frozenset[str]:
    return frozenset(_bm25s().stopwords.STOPWORDS_EN)


def _bm25s():
    """bm25s without numba: it imports numba (about 0.4 s) whenever installed, for a backend
    we do not use (the default numpy one scores a query over 100k chunks in milliseconds)."""
    with imports_hidden("numba"):
        import bm25s
    return bm25s


def tokenize(text: str) -> list[str]:
    """Case-folded, stop-word-free, stemmed terms (the same for documents and queries);
    full-width and compatibility forms are read as their plain letters (NFKC)."""
    stop = _stopwords()
    text = unicodedata.normalize("NFKC", text).casefold()
    words = [w for w in _TOKEN.findall(text) if w not in stop and len(w) > 1]
    return _stemmer().stemWords(words)


class LexicalIndex:
    """A BM25 index over a fixed list of passages."""

    def __init__(self, ids: list[str], bm25, doc_freq: dict[str, int]) -> None:
        self.ids = ids
        self.bm25 = bm25
        self.doc_freq = doc_freq

    @classmethod
    def build(cls, passages: list[Passage]) -> LexicalIndex:
        bm25s = _bm25s()

        corpus = [tokenize(p.context_text()) for p in passages]
        bm25 = bm25s.BM25(k1=1.2, b=0.75)
        if passages:
            bm25.index(corpus, show_progress=False)
        doc_freq: dict[str, int] = {}
        for terms in corpus:
            for term in set(terms):
                doc_freq[term] = doc_freq.get(term, 0) + 1
        return cls([p.id for p in passages], bm25, doc_freq)

    def __len__(self) -> int:
        return len(self.ids)

    def search(self, query: str, n: int) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) for the best `n` chunks with a positive score."""
        terms = [t for t in tokenize(query) if t in self.doc_freq]
        if not terms or not self.ids:
            return []
        scores = self.bm25.get_scores(terms)
        top = np.argsort(-scores)[:n]
        return [(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]

    def chunks_with(self, terms: list[str]) -> set[int]:
        """Positions (in `ids`) of the chunks that contain every one of `terms` (stemmed as
        `tokenize` stems them): BM25's own postings, read from its term-by-chunk score matrix."""
        if not self.ids or not terms:
            return set()
        vocab = self.bm25.vocab_dict
        scores = self.bm25.scores
        found: set[int] | None = None
        for term in dict.fromkeys(terms):
            j = vocab.get(term)
            if j is None:
                return set()
            start, end = scores["indptr"][j], scores["indptr"][j + 1]
            rows = set(scores["indices"][start:end].tolist())
            found = rows if found is None else found & rows
            if not found:
                return set()
        return found or set()

    def save(self, path: Path) -> None:
        # Named by its writer: a half-saved copy of a killed process is recognised and removed.
        tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if self.ids:
            self.bm25.save(str(tmp / "bm25"))
        meta = {"ids": self.ids, "df": self.doc_freq, "tokenizer": TOKENIZER_VERSION}
        (tmp / "ids.json").write_text(json.dumps(meta))
        shutil.rmtree(path, ignore_errors=True)
        tmp.rename(path)  # a reader never sees a half-written index

    @classmethod
    def load(cls, path: Path) -> LexicalIndex:
        bm25s = _bm25s()

        data = json.loads((path / "ids.json").read_text())
        if data.get("tokenizer") != TOKENIZER_VERSION:
            raise ValueError(f"{path} was built by another tokenizer")
        bm25 = bm25s.BM25.load(str(path / "bm25")) if data["ids"] else bm25s.BM25()
        return cls(data["ids"], bm25, data["df"])
