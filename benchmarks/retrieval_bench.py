"""Retrieval latency as the corpus grows: dense, BM25 and hybrid p50/p95 at 10k-300k chunks,
with the embedded store and with a `chroma run` server.

    python benchmarks/retrieval_bench.py [--sizes 10000,100000,300000] [--modes embedded,server]
                                         [--source DATA_DIR] [--short]

Method (synthetic corpora, stated in every output): the real chunks and MiniLM vectors of an
indexed corpus (--source: a data dir; default: the dev corpus is ingested first) are copied
until N chunks exist. Copy c>0 of a chunk gets the vector plus Gaussian noise (sigma 0.5 over
384 dimensions, re-normalised: cosine about 0.89 to the original) and the chunk's words in a
seeded random order (same vocabulary and lengths, so BM25 sees realistic term statistics).
Chunks are grouped 20 to a document; 1 document in 5 is a playbook, the rest belong to 40
clients. Each query is a dev-set question asked as a random client, so every search carries
the scope filter it has in the product. "HNSW" is Chroma's filtered query;
"exact" is the in-memory scan hybrid search uses by default (ADVISOR_DENSE_SEARCH=exact), timed
with its vectors loaded (the load, once per scope and generation, is reported apart). Hybrid
includes embedding the question (cache cleared) and reading the candidates' text;
BM25 is timed with its index already built (the build, paid once per scope set after each
ingest, is reported apart). The machine is shared: the load average is printed with each row.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "corpora"
CLIENTS = 40
DOC_CHUNKS = 20
SIGMA = 0.5


def _load_source(
    source: Path | None, corpus: Path, tmp: Path
) -> tuple[list[str], list[dict], np.ndarray]:
    """(texts, metadatas, vectors) of every chunk of an indexed corpus (`corpus` is ingested
    first unless `source` is a data dir that already holds one)."""
    from advisor.core.principal import Principal
    from advisor.core.settings import Settings
    from advisor.core.store import chroma_client
    from advisor.service.facade import Advisor

    if source is None:
        source = tmp / "source"
        print(f"ingesting {corpus} for the base chunks ...", file=sys.stderr)
        Advisor(Settings(data_dir=source)).ingest(Principal.local(), [corpus])
    settings = Settings(data_dir=source)
    col = chroma_client(settings).get_collection(settings.collection)
    res = col.get(include=["documents", "metadatas", "embeddings"])
    return list(res["documents"]), list(res["metadatas"]), np.asarray(res["embeddings"])


def _scope(doc: int) -> str:
    return "playbook" if doc % 5 == 0 else f"client-{doc % CLIENTS:02d}"


def _synthesise(store, texts, metas, vectors, n: int, seed: int = 7) -> float:
    """Fill `store` with n chunks built from the base chunks; returns seconds spent writing."""
    rng = np.random.default_rng(seed)
    shuffle = random.Random(seed)
    base = len(texts)
    step = max(1, min(store.client.get_max_batch_size(), 5000))
    written = 0.0
    for start in range(0, n, step):
        ids, docs, metadatas, embeddings = [], [], [], []
        for j in range(start, min(n, start + step)):
            i, copy = j % base, j // base
            vector = vectors[i]
            text = texts[i]
            if copy:
                vector = vector + rng.normal(0.0, SIGMA / np.sqrt(len(vector)), len(vector))
                vector = vector / np.linalg.norm(vector)
                words = text.split()
                shuffle.shuffle(words)
                text = " ".join(words)
            doc = j // DOC_CHUNKS
            meta = dict(metas[i])
            meta.update(
                doc_id=f"doc{doc:06d}",
                chunk_index=j % DOC_CHUNKS,
                scope=_scope(doc),
                source=f"synthetic/{doc:06d}-{meta.get('source', '')}",
            )
            ids.append(f"doc{doc:06d}:{j % DOC_CHUNKS}")
            docs.append(text)
            metadatas.append(meta)
            embeddings.append(vector.tolist())
        t0 = time.perf_counter()
        with store.writing():
            store.collection.add(
                ids=ids, documents=docs, metadatas=metadatas, embeddings=embeddings
            )
        written += time.perf_counter() - t0
        print(f"  {start + len(ids)}/{n} chunks written", file=sys.stderr)
    store.bump_generation()
    return written


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ms = np.asarray(samples) * 1000
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 95))


def _measure(settings, questions: list[str], rounds: int) -> dict:
    from advisor.core.embeddings import load_embeddings
    from advisor.core.principal import scopes_for
    from advisor.core.store import open_store
    from advisor.retrieval.hybrid import CANDIDATES, HybridRetriever

    embeddings = load_embeddings(settings)
    store = open_store(settings)
    retriever = HybridRetriever(store, embeddings, settings)
    rng = random.Random(11)
    asks = [(q, f"client-{rng.randrange(CLIENTS):02d}") for q in questions]
    # BM25 builds once per scope set and generation, and the exact index loads each scope's
    # vectors once per generation: time the first of each apart.
    t0 = time.perf_counter()
    retriever.lexical(scopes_for(asks[0][1]))
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    retriever.dense_index.search(embeddings.embed_query("warm"), scopes_for(asks[0][1]), 1)
    load = time.perf_counter() - t0
    for _, client in asks:
        retriever.lexical(scopes_for(client))
        retriever.dense_index.search(embeddings.embed_query("warm"), scopes_for(client), 1)
    vectors = {q: embeddings.embed_query(q) for q, _ in asks}
    dense, exact, lexical, hybrid = [], [], [], []
    for _ in range(rounds):
        for q, client in asks:
            scopes = scopes_for(client)
            t0 = time.perf_counter()
            store.dense_search(vectors[q], scopes, CANDIDATES)
            dense.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            retriever.dense_index.search(vectors[q], scopes, CANDIDATES)
            exact.append(time.perf_counter() - t0)
            index = retriever.lexical(scopes)
            t0 = time.perf_counter()
            index.search(q, CANDIDATES)
            lexical.append(time.perf_counter() - t0)
            embeddings._query_cache.clear()
            t0 = time.perf_counter()
            retriever.search(q, client=client, k=10)
            hybrid.append(time.perf_counter() - t0)
    return {
        "dense": _percentiles(dense),
        "exact": _percentiles(exact),
        "vectors_load_s": load,
        "vectors_mb": retriever.dense_index.nbytes / 2**20,
        "bm25": _percentiles(lexical),
        "hybrid": _percentiles(hybrid),
        "bm25_build_s": build,
        "samples": len(hybrid),
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


MARK = "zyxquorum"  # in the documents the ingest adds, and nowhere else
INGEST = """
import sys, numpy as np
from advisor.core.models import Chunk
from advisor.core.settings import Settings
from advisor.core.store import open_store
data_dir, collection, scope, texts = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
store = open_store(Settings(data_dir=data_dir, collection=collection))
rng = np.random.default_rng(5)
chunks, vectors = [], []
for d in range(3):
    for i, text in enumerate(texts):
        doc = f"ingested-{scope}-{d}"
        chunks.append(Chunk(id=f"{doc}:{i}", text=f"{text} {MARK}", source=f"new/{doc}.md",
                            root="/bench", doc_id=doc, title=f"New {d}", scope=scope,
                            sha256="x", chunk_index=i, mtime=1.0, file_type="md"))
        v = rng.normal(size=384)
        vectors.append((v / np.linalg.norm(v)).tolist())
store.upsert(chunks, vectors)
store.bump_generation([scope])
""".replace("MARK", repr(MARK))


def _after_ingest(settings, texts: list[str], question: str, inline: bool) -> dict:
    """The first question after another process's ingest, with the caches warm, for the client
    whose documents changed and for one whose did not, and how soon the new documents are
    found. `inline`: every cache rebuilt before the next answer (the behaviour before issue 25).
    """
    import subprocess

    from advisor.core.principal import Principal
    from advisor.core.refresh import REFRESHER
    from advisor.service.facade import Advisor

    limit = 10**12 if inline else settings.refresh_inline_chunks
    advisor = Advisor(settings.model_copy(update={"refresh_inline_chunks": limit}))
    local = Principal.local()
    changed, other = "client-01", "client-02"
    for client in (changed, other, changed):
        t0 = time.perf_counter()
        advisor.ask(local, question, client=client)
    out = {"warm": time.perf_counter() - t0}
    scope = changed
    subprocess.run(
        [sys.executable, "-c", INGEST, str(settings.data_dir), settings.collection, scope,
         *texts[:20]],
        check=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    ended = time.perf_counter()
    for name, client in (("changed", changed), ("other", other)):
        t0 = time.perf_counter()
        advisor.ask(local, question, client=client)
        out[name] = time.perf_counter() - t0
    REFRESHER.wait(timeout=600)
    # The marker alone: with the question's words too, at 100k chunks they outrank it (the new
    # chunks' vectors are random, so only BM25 can find them) and the probe said "not found"
    # of chunks that were indexed and retrievable.
    found = advisor.retrieve(local, MARK, client=changed, record=False)
    out["fresh_after"] = time.perf_counter() - ended
    out["found_new"] = any(MARK in p.text for p in found)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,300000")
    parser.add_argument("--modes", default="embedded,server")
    parser.add_argument("--source", type=Path, help="data dir of an indexed corpus to copy from")
    parser.add_argument("--corpus", type=Path, default=SHARED / "dev")
    parser.add_argument("--questions", type=Path, default=SHARED / "dev-questions.jsonl")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="build the stores here and keep them")
    parser.add_argument(
        "--no-after-ingest",
        dest="after_ingest",
        action="store_false",
        help="skip the first question after another process's ingest",
    )
    parser.add_argument(
        "--short", action="store_true", help="10k chunks from data/playbooks, embedded, 1 round"
    )
    args = parser.parse_args()
    if args.short:
        args.sizes, args.modes, args.rounds = "10000", "embedded", 1
        args.corpus = ROOT / "data" / "playbooks"
        if not args.questions.exists():
            args.questions = ROOT / "evals" / "datasets" / "sample.jsonl"

    from advisor.core.runtime import configure_offline

    configure_offline()
    from advisor.core.embeddings import MiniLMEmbeddings
    from advisor.core.settings import Settings
    from advisor.core.store import Store

    questions = [json.loads(line)["question"] for line in args.questions.read_text().splitlines()]
    questions = [q for q in questions if q][:40]
    with ExitStack() as stack:
        tmp = args.keep or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="rb-")))
        texts, metas, vectors = _load_source(args.source, args.corpus, tmp)
        print(
            f"base: {len(texts)} real chunks; {len(questions)} questions x {args.rounds} rounds; "
            f"copies: vector + N(0, {SIGMA}/sqrt(384)) noise, words shuffled; "
            f"{CLIENTS} clients, 1 doc in 5 a playbook"
        )
        header = (
            f"{'mode':<9}{'chunks':>8}{'write s':>9}{'HNSW p50/p95 ms':>18}"
            f"{'exact p50/p95 ms':>18}{'BM25 p50/p95 ms':>17}{'hybrid p50/p95 ms':>19}"
            f"{'BM25 build s':>13}{'vec load s':>11}{'vec MB':>7}{'RSS MB':>8}{'load':>6}"
        )
        print(header)
        print("-" * len(header))
        after_rows: list[str] = []
        for mode in args.modes.split(","):
            for n in [int(s) for s in args.sizes.split(",")]:
                data_dir = tmp / f"{mode}-{n}"
                overrides: dict = {"data_dir": data_dir, "collection": f"bench{n}"}
                server = None
                if mode == "server":
                    from tests.chroma_server import running_chroma

                    server = ExitStack()
                    port = server.enter_context(running_chroma(tmp / f"server-{n}"))
                    overrides.update(chroma_host="127.0.0.1", chroma_port=port)
                settings = Settings(**overrides)
                store = Store(settings, MiniLMEmbeddings.name, MiniLMEmbeddings.dimension)
                written = 0.0
                if store.count() < n:
                    written = _synthesise(store, texts, metas, vectors, n)
                r = _measure(settings, questions, args.rounds)
                if args.after_ingest:
                    texts_of = [t for t in texts[:200] if len(t) > 200]
                    for inline in (True, False):
                        r[("inline" if inline else "background")] = _after_ingest(
                            settings, texts_of, questions[0], inline
                        )
                if server is not None:
                    server.close()
                print(
                    f"{mode:<9}{n:>8}{written:>9.1f}"
                    f"{r['dense'][0]:>9.1f}/{r['dense'][1]:<8.1f}"
                    f"{r['exact'][0]:>9.1f}/{r['exact'][1]:<8.1f}"
                    f"{r['bm25'][0]:>8.1f}/{r['bm25'][1]:<8.1f}"
                    f"{r['hybrid'][0]:>9.1f}/{r['hybrid'][1]:<9.1f}"
                    f"{r['bm25_build_s']:>13.1f}{r['vectors_load_s']:>11.1f}"
                    f"{r['vectors_mb']:>7.0f}{r['rss_mb']:>8.0f}{os.getloadavg()[0]:>6.1f}",
                    flush=True,
                )
                for how in ("inline", "background") if args.after_ingest else ():
                    a = r[how]
                    after_rows.append(
                        f"{mode:<9}{n:>8}  {how:<11}{a['warm']:>9.2f}{a['changed']:>14.2f}"
                        f"{a['other']:>12.2f}{a['fresh_after']:>15.1f}"
                        f"{'yes' if a['found_new'] else 'NO':>11}{os.getloadavg()[0]:>6.1f}"
                    )
                    # Also now, so a long run that is stopped still told its smaller sizes.
                    print(f"  after an ingest: {after_rows[-1]}", file=sys.stderr, flush=True)
        if after_rows:
            print(
                "\nFirst question after another process's ingest (3 new documents of one "
                "client; caches warm; whole answers through the facade, seconds):"
            )
            print(
                f"{'mode':<9}{'chunks':>8}  {'rebuild':<11}{'warm s':>9}{'its client s':>14}"
                f"{'another s':>12}{'fresh after s':>15}{'new found':>11}{'load':>6}"
            )
            print("\n".join(after_rows))
    print("RSS: peak of this benchmark process (every size so far, embedded store in-process).")


if __name__ == "__main__":
    main()
