"""Embedding runtimes compared: start-up, throughput and parity with the torch reference.

    python benchmarks/embedding_bench.py [--corpus DIR] [--short] [--repeat N]

The texts are the dev corpus's real chunks (parsed and chunked as ingest does, heading context
included: what ingest embeds). Each runtime runs in a fresh interpreter, so "start-up" is what a
CLI process pays: imports plus loading the model plus the first query. Throughput embeds every
chunk at the configured batch size. Parity is the cosine of each runtime's vectors with torch's.
The machine is shared: each measurement is repeated (--repeat) and the load average printed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpora" / "dev"
SHORT_CHUNKS = 120
RUNTIMES = {
    "torch fp32 (reference)": ("torch", None),
    "onnx fp32": ("onnx", "model.onnx"),
    "onnx optimised fp32": ("onnx", "model-opt.onnx"),
    "onnx optimised int8/channel": ("onnx", "model-int8.onnx"),
}


def chunk_texts(corpus: Path) -> list[str]:
    """The texts ingest would embed for `corpus` (parsed and chunked in this process)."""
    from advisor.core.embeddings import MiniLMEmbeddings
    from advisor.core.models import context_text
    from advisor.core.settings import Settings
    from ingest.files import discover, sniff
    from ingest.worker import init_worker, parse_and_chunk

    init_worker()
    budget = Settings().chunk_tokens
    texts = []
    for target in discover([corpus], data_dir=Settings().data_dir).targets:
        kind = sniff(target.path).kind
        if kind is None:
            continue
        outcome = parse_and_chunk(str(target.path), kind, MiniLMEmbeddings.name, budget)
        texts += [context_text(outcome.title, d.section, d.text) for d in outcome.drafts]
    return texts


def _phase(runtime: str, variant: str | None, texts_file: Path, out: Path) -> dict:
    """One runtime in this (fresh) process: start-up, then throughput over every text."""
    started = time.perf_counter()
    from advisor.core.runtime import configure_offline

    configure_offline()
    from advisor.core.settings import Settings

    settings = Settings(embedding_runtime=runtime)
    if runtime == "torch":
        from advisor.core.embeddings import TorchMiniLM

        model = TorchMiniLM(batch_size=settings.embedding_batch_size)
    else:
        from advisor.core.embeddings import OnnxMiniLM

        model = OnnxMiniLM(settings.onnx_dir, settings.embedding_batch_size, variant=variant)
    loaded = time.perf_counter()
    model.embed_query("How many engineers should an on-call rotation have?")
    first_query = time.perf_counter() - loaded
    texts = json.loads(texts_file.read_text())
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    vectors = model.embed_documents(texts)
    seconds = time.perf_counter() - t0
    import numpy as np

    np.save(out, np.asarray(vectors, dtype=np.float32))
    import resource

    return {
        "startup_s": loaded - started,
        "first_query_s": first_query,
        "seconds": seconds,
        "cpu_s": time.process_time() - cpu0,
        "chunks": len(texts),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "modules": sorted(m for m in ("torch", "transformers") if m in sys.modules),
    }


def _run(args: list[str]) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, cwd=ROOT, env=env
    )
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        raise SystemExit(f"phase {args} failed")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--short", action="store_true", help=f"first {SHORT_CHUNKS} chunks")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--limit", type=int, default=None, help="embed only the first N chunks")
    parser.add_argument("--phase", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        runtime, variant, texts_file, out = args.phase
        result = _phase(runtime, None if variant == "-" else variant, Path(texts_file), Path(out))
        print(json.dumps(result))
        return

    import numpy as np

    if args.short and not args.corpus.is_dir():
        args.corpus = ROOT / "data" / "playbooks"  # CI without the shared corpora
    if not args.corpus.is_dir():
        raise SystemExit(f"corpus not found: {args.corpus} (pass --corpus DIR)")
    texts = chunk_texts(args.corpus)
    if args.short:
        texts = texts[:SHORT_CHUNKS]
    total = len(texts)
    if args.limit:
        # Every k-th chunk, so the sample spans the corpus's files and lengths.
        texts = texts[:: max(1, total // args.limit)][: args.limit]
    print(f"load average before: {os.getloadavg()[0]:.1f} (2 shared cores: times are noisy)")
    with tempfile.TemporaryDirectory(prefix="embedding-bench-") as tmp:
        texts_file = Path(tmp) / "texts.json"
        texts_file.write_text(json.dumps(texts))
        results: dict[str, list[dict]] = {}
        vectors: dict[str, np.ndarray] = {}
        for _ in range(args.repeat):
            for name, (runtime, variant) in RUNTIMES.items():
                out = Path(tmp) / f"{runtime}-{variant}.npy"
                phase = [runtime, variant or "-", str(texts_file), str(out)]
                results.setdefault(name, []).append(_run(["--phase", *phase]))
                vectors[name] = np.load(out)
    reference = vectors["torch fp32 (reference)"]
    tokens = sum(len(t) for t in texts) / len(texts)
    print(f"{len(texts)} of {total} chunks of {args.corpus.name} (mean {tokens:.0f} characters)")
    header = (
        f"{'runtime':<30}{'start-up s':>11}{'1st query s':>12}{'chunks/s':>10}{'CPU s/100':>10}"
        f"{'peak MB':>9}{'cos min':>9}{'cos mean':>9}  imports"
    )
    print(header)
    print("-" * len(header))
    for name, runs in results.items():
        cos = (vectors[name] * reference).sum(axis=1)

        def best(key: str, runs=runs) -> float:
            return min(r[key] for r in runs)

        rate = max(r["chunks"] / r["seconds"] for r in runs)
        cpu = best("cpu_s") / runs[0]["chunks"] * 100
        print(
            f"{name:<30}{best('startup_s'):>11.2f}{best('first_query_s'):>12.3f}{rate:>10.1f}"
            f"{cpu:>10.2f}{best('peak_rss_mb'):>9.0f}{cos.min():>9.4f}{cos.mean():>9.4f}  "
            f"{','.join(runs[0]['modules']) or '-'}"
        )
    print(
        f"best of {args.repeat} runs each; load average after: {os.getloadavg()[0]:.1f}. "
        "start-up: imports + model load in a fresh process."
    )


if __name__ == "__main__":
    main()
