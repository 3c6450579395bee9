"""The naive LangChain recipe, as a baseline over the same corpus and questions.

Every file's text is extracted the ordinary way, with unstructured's `partition` (the "fast"
strategy, the same extractor LangChain's unstructured loaders call) joined to plain text, so PDF,
DOCX and PPTX are read as well as Markdown; split with
`RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)`, embedded with our MiniLM into
a LangChain `Chroma` store, and searched densely. Its ranked list keeps at most as many chunks per
document as ours does (`MAX_PER_DOC`) over the same number of slots, so document-level recall and
nDCG compare the two at the same document depth. Its "answer" is the top 3 chunks joined together:
it never abstains and never cites, so citation metrics are not defined for it. It ignores the
conversation history. Client documents are scoped by a metadata filter exactly like ours.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

from advisor.core.models import Answer, Passage
from advisor.core.principal import scopes_for
from advisor.core.settings import Settings
from advisor.core.store import chroma_client, scope_filter
from advisor.retrieval.hybrid import MAX_PER_DOC
from evals.corpus import content_fingerprint, corpus_files, eval_data_dir

CHUNK_SIZE = 1000
CHUNK_OVERLAP = 200
ANSWER_CHUNKS = 3
CANDIDATE_FACTOR = 4  # chunks fetched per ranked slot before the per-document cap
COLLECTION = "naive"
RECIPE = "partition-fast"  # part of the cache key: a change of extraction means a rebuild
_DONE = "complete"


def extract_text(path: Path) -> str:
    """A file's text as unstructured's `partition` extracts it, elements joined by blank lines.

    A file unstructured cannot read is taken as UTF-8 text (what a recipe falls back to).
    """
    from ingest.parse import patch_spacy, skip_narrative_classifier

    patch_spacy()  # unstructured would download a spaCy model; use the installed one
    skip_narrative_classifier()  # speed only: element classes are not used, the text is the same
    from unstructured.partition.auto import partition

    try:
        elements = partition(filename=str(path), strategy="fast", languages=["eng"])
    except Exception:  # noqa: BLE001 (any extractor failure falls back to raw text)
        return path.read_text(encoding="utf-8", errors="ignore")
    return "\n\n".join(str(el) for el in elements if str(el).strip())


def load_documents(corpus: Path):
    """One LangChain Document per visible corpus file, with source/root/scope metadata."""
    from langchain_core.documents import Document

    root = str(corpus.resolve())
    return [
        Document(
            page_content=extract_text(corpus / rel),
            metadata={"source": rel, "root": root, "scope": scope},
        )
        for rel, scope in corpus_files(corpus)
    ]


def cap_per_document(docs, slots: int, per_doc: int = MAX_PER_DOC):
    """Rank order, at most `per_doc` chunks of one document, then filled from the rest (as ours)."""
    chosen, held_back, counts = [], [], {}
    for doc in docs:
        source = doc.metadata["source"]
        if counts.get(source, 0) < per_doc:
            chosen.append(doc)
            counts[source] = counts.get(source, 0) + 1
        else:
            held_back.append(doc)
        if len(chosen) == slots:
            return chosen
    return chosen + held_back[: slots - len(chosen)]


def split_documents(documents):
    """The recipe's chunks, with a stable id per chunk."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP)
    chunks = splitter.split_documents(documents)
    counters: dict[str, int] = {}
    for chunk in chunks:
        source = chunk.metadata["source"]
        chunk.id = f"{source}#{counters.setdefault(source, 0)}"
        counters[source] += 1
    return [c for c in chunks if c.page_content.strip()]


def _chroma_client(settings: Settings, path: Path):
    """The baseline's own collection, opened the one way every part of the product opens Chroma."""
    return chroma_client(settings.model_copy(update={"data_dir": path}))


class NaiveSystem:
    """Dense top-k over recursively split plain text; the top chunks stand in for an answer."""

    name = "naive"
    cites = False
    report_notes = [
        f"naive system: its answer is the top {ANSWER_CHUNKS} chunks verbatim (up to "
        f"{ANSWER_CHUNKS * CHUNK_SIZE} characters), which flatters fact_recall and "
        "must_not_include; it never abstains and ignores conversation history",
        f"naive system: text extracted with unstructured's partition; at most {MAX_PER_DOC} "
        "chunks per document in its ranked list, like ours",
    ]

    def __init__(self, settings: Settings, corpus: Path, embeddings=None, depth: int = 10) -> None:
        if embeddings is None:
            from advisor.core.embeddings import load_embeddings

            embeddings = load_embeddings(settings)
        self.settings = settings
        self.corpus = corpus.resolve()
        self.embeddings = embeddings
        self.depth = depth
        # Keyed by content too: the recipe has no manifest, so any change means a rebuild.
        self.index_dir = (
            eval_data_dir(settings, self.corpus)
            / "naive"
            / f"{RECIPE}-{content_fingerprint(self.corpus)}"
        )
        self.store = None

    def prepare(self) -> None:
        """Load the cached index for this exact corpus content, or build it."""
        from langchain_chroma import Chroma

        if not (self.index_dir / _DONE).exists():
            self._build()
        self.store = Chroma(
            collection_name=COLLECTION,
            embedding_function=self.embeddings,
            client=_chroma_client(self.settings, self.index_dir),
        )
        self.store.similarity_search("warm-up", k=1)  # so the first timed question is warm

    def _build(self) -> None:
        from langchain_chroma import Chroma

        # Indexes of earlier corpus contents are stale: drop them with the partial one.
        shutil.rmtree(self.index_dir.parent, ignore_errors=True)
        self.index_dir.mkdir(parents=True)
        chunks = split_documents(load_documents(self.corpus))
        if chunks:
            Chroma.from_documents(
                chunks,
                embedding=self.embeddings,
                ids=[c.id for c in chunks],
                collection_name=COLLECTION,
                client=_chroma_client(self.settings, self.index_dir),
            )
        (self.index_dir / _DONE).write_text("ok\n")

    def ask(
        self, question: str, client: str | None, history: Sequence[dict[str, str]] = ()
    ) -> Answer:
        """The top chunks for the last question alone, joined as the answer."""
        if self.store is None:
            self.prepare()
        candidates = self.store.similarity_search(
            question, k=self.depth * CANDIDATE_FACTOR, filter=scope_filter(scopes_for(client))
        )
        docs = cap_per_document(candidates, self.depth)
        passages = [
            Passage(
                id=str(doc.id or i),
                text=doc.page_content,
                source=doc.metadata["source"],
                root=doc.metadata["root"],
                scope=doc.metadata["scope"],
            )
            for i, doc in enumerate(docs)
        ]
        text = "\n\n".join(p.text for p in passages[:ANSWER_CHUNKS])
        return Answer(answer=text, abstained=False, mode="offline", passages=passages)
