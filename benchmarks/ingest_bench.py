"""Ingest benchmark: cold, warm and one-file-changed runs, against the naive LangChain recipe.

    python benchmarks/ingest_bench.py [--corpus DIR] [--short]

Each phase runs in a fresh subprocess, so peak memory (max RSS) is per phase and the warm run
pays its own process start-up like a real `cto-advisor ingest` would.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.rss import peak_rss  # noqa: E402  (after the path)

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpora" / "dev"
SHORT_FILES = 24


def _rss_mb(who: int) -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(who).ru_maxrss / 1024


def _phase_ours(corpus: Path, data_dir: Path, workers: int | None) -> dict:
    started = time.perf_counter()
    from advisor.core.runtime import configure_offline

    configure_offline()
    from advisor.core.principal import Principal
    from advisor.core.settings import Settings
    from advisor.service.facade import Advisor

    overrides = {"data_dir": data_dir}
    if workers is not None:
        overrides["parse_workers"] = workers
    settings = Settings(**overrides)
    advisor = Advisor(settings)
    store = advisor.store
    t0 = time.perf_counter()
    report = advisor.ingest(Principal.local(), [corpus])
    seconds = time.perf_counter() - t0
    return {
        "files": len(report.files),
        "chunks": store.count(),
        "written": report.embedded,
        "parsed": report.parsed,
        "counts": report.counts,
        "seconds": seconds,
        "process_seconds": time.perf_counter() - started,
        "stages": report.stage_seconds,
    }


def _phase_embed(data_dir: Path) -> dict:
    """Embedding alone: the texts a cold ingest embedded (read back from its index), through
    the same model and batch size, model load excluded."""
    from advisor.core.runtime import configure_offline

    configure_offline()
    from advisor.core.embeddings import load_embeddings
    from advisor.core.settings import PLAYBOOK_SCOPE, Settings
    from advisor.core.store import open_store

    settings = Settings(data_dir=data_dir)
    store = open_store(settings)
    scopes = sorted({str(r["scope"]) for r in store.source_stats()} | {PLAYBOOK_SCOPE})
    texts = [p.context_text() for p in store.chunks_in(scopes)]
    embeddings = load_embeddings(settings)
    embeddings.embed_documents(texts[:8])  # first run: graph set-up, not throughput
    t0 = time.perf_counter()
    step = 128  # the ingest's flush size
    for start in range(0, len(texts), step):
        embeddings.embed_documents(texts[start : start + step])
    seconds = time.perf_counter() - t0
    return {"files": 0, "chunks": len(texts), "written": len(texts), "parsed": 0,
            "seconds": seconds, "process_seconds": seconds}  # fmt: skip


def _phase_naive(corpus: Path, data_dir: Path) -> dict:
    started = time.perf_counter()
    from advisor.core.runtime import configure_offline

    configure_offline()
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from advisor.core.embeddings import load_embeddings
    from advisor.core.settings import Settings

    t0 = time.perf_counter()
    embeddings = load_embeddings(Settings(data_dir=data_dir))
    docs = [
        Document(p.read_text(errors="ignore"), metadata={"source": str(p.relative_to(corpus))})
        for p in sorted(corpus.rglob("*"))
        if p.is_file()
    ]
    chunks = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200).split_documents(
        docs
    )
    Chroma.from_documents(
        chunks,
        embedding=embeddings,
        persist_directory=str(data_dir / "naive"),
        collection_name="naive",
    )
    return {
        "files": len(docs),
        "chunks": len(chunks),
        "written": len(chunks),
        "parsed": len(docs),
        "seconds": time.perf_counter() - t0,
        "process_seconds": time.perf_counter() - started,
    }


def _run_phase(args: list[str]) -> dict:
    """Run one phase in a fresh interpreter and return its measurements, with the peak of its
    whole process tree's resident memory (parser processes are forked by a forkserver, so the
    phase's own rusage does not see them), sampled every 0.1 s."""
    proc = subprocess.Popen(
        [sys.executable, __file__, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    with peak_rss(proc.pid) as peak:
        stdout, stderr = proc.communicate()
    if proc.returncode != 0:
        sys.stderr.write(stderr)
        raise SystemExit(f"phase {args} failed with exit code {proc.returncode}")
    result = json.loads(stdout.strip().splitlines()[-1])
    result["peak_tree_mb"] = peak.mb
    return result


def _copy_corpus(src: Path, dest: Path, short: bool, copies: int = 1) -> Path:
    files = sorted(p for p in src.rglob("*") if p.is_file() and not p.name.startswith("."))
    if short:
        # A spread of small files, so the short run stays well under CI's time budget.
        files = sorted(files, key=lambda p: p.stat().st_size)[: SHORT_FILES * 2 : 2]
    for copy in range(copies):
        # Copies are real files in their own folders: parsed, chunked and embedded again.
        base = dest / f"copy{copy}" if copies > 1 else dest
        for path in files:
            target = base / path.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
    return dest


def _change_one_file(corpus: Path) -> Path:
    path = next(p for p in sorted(corpus.rglob("*.md")))
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("\n\n## Benchmark addendum\n\nThis paragraph was added to measure re-ingest.\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--short", action="store_true", help=f"only {SHORT_FILES} small files")
    parser.add_argument("--workers", type=int, default=None, help="override parse_workers")
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--copies", type=int, default=1, help="ingest N copies of the corpus")
    parser.add_argument("--phase", choices=["ours", "naive", "embed"], help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.phase:
        if args.phase == "ours":
            result = _phase_ours(args.corpus, args.data_dir, args.workers)
        elif args.phase == "embed":
            result = _phase_embed(args.data_dir)
        else:
            result = _phase_naive(args.corpus, args.data_dir)
        result["peak_rss_mb"] = round(_rss_mb(resource.RUSAGE_SELF), 1)
        print(json.dumps(result))
        return

    if not args.corpus.is_dir():
        raise SystemExit(f"corpus not found: {args.corpus} (pass --corpus DIR)")
    with tempfile.TemporaryDirectory(prefix="ingest-bench-") as tmp:
        tmp_path = Path(tmp)
        corpus = _copy_corpus(args.corpus, tmp_path / "corpus", args.short, args.copies)
        data_dir = tmp_path / "data"
        ours = ["--phase", "ours", "--corpus", str(corpus), "--data-dir", str(data_dir)]
        if args.workers is not None:
            ours += ["--workers", str(args.workers)]
        rows = [("cold ingest", _run_phase(ours))]
        embed = ["--phase", "embed", "--corpus", str(corpus), "--data-dir", str(data_dir)]
        rows.append(("embedding only (same chunks)", _run_phase(embed)))
        rows.append(("warm re-ingest", _run_phase(ours)))
        changed = _change_one_file(corpus)
        rows.append((f"1 changed ({changed.name})", _run_phase(ours)))
        if not args.skip_naive:
            naive = ["--phase", "naive", "--corpus", str(corpus), "--data-dir", str(tmp_path)]
            rows.append(("naive LangChain", _run_phase(naive)))

    size = sum(p.stat().st_size for p in args.corpus.rglob("*") if p.is_file())
    print(f"corpus: {args.corpus} ({'short subset' if args.short else f'{size / 1e6:.2f} MB'})")
    header = (
        f"{'phase':<34}{'files':>6}{'chunks':>8}{'written':>8}{'seconds':>9}{'chunks/s':>10}"
        f"{'process s':>11}{'peak MB':>9}{'tree MB':>9}"
    )
    print(header)
    print("-" * len(header))
    for name, r in rows:
        rate = r["written"] / r["seconds"] if r["seconds"] and r["written"] else 0.0
        print(
            f"{name:<34}{r['files']:>6}{r['chunks']:>8}{r['written']:>8}{r['seconds']:>9.2f}"
            f"{rate:>10.1f}{r['process_seconds']:>11.2f}{r['peak_rss_mb']:>9.0f}"
            f"{r['peak_tree_mb']:>9.0f}"
        )
    print(
        "seconds: the ingest call (cold includes loading MiniLM); process s: the whole phase "
        "after interpreter start; written: chunks embedded in that phase; peak MB: the "
        "phase's own process; tree MB: the peak sum over it and its parser processes."
    )
    cold, alone = rows[0][1], rows[1][1]
    if cold["seconds"] and alone["seconds"]:
        ratio = (cold["written"] / cold["seconds"]) / (alone["written"] / alone["seconds"])
        target = (
            "the target, at least 80% (within 25% of its time), is for the whole dev corpus: "
            "on this short subset the parsers' start-up dominates"
            if args.short
            else "target: at least 80%, i.e. within 25% of its time"
        )
        print(f"cold ingest runs at {ratio:.0%} of the embedding-only throughput ({target})")
    print(f"\n{'where the time went':<34}{'parse+chunk':>12}{'embed':>8}{'write':>8}{'other':>8}")
    for name, r in rows:
        stages = r.get("stages")
        if stages and r["written"]:
            other = r["seconds"] - stages["embed"] - stages["write"]
            print(
                f"{name:<34}{stages['parse+chunk']:>12.1f}{stages['embed']:>8.1f}"
                f"{stages['write']:>8.1f}{other:>8.1f}"
            )
    print(
        "parse+chunk is summed over parser processes; embed includes waiting for the model to "
        "load; other = wall time not spent embedding or writing (parsing the embedder waited "
        "for, discovery, hashing)."
    )


if __name__ == "__main__":
    main()
