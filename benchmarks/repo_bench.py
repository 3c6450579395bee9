"""Repository ingest benchmark: a generated repository of 10k commits and 5k files (git
fast-import, fixed seed), ingested cold, then again after 10 new commits.

    python benchmarks/repo_bench.py [--commits N] [--files N] [--short]

Each phase runs in a fresh process (`cto-advisor ingest-repo`, as a user runs it), so its time
includes start-up and its peak memory is its own process tree (parsers, git, blame included).
--short (CI) uses 1,000 commits and 500 files.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.rss import peak_rss  # noqa: E402  (after the path)

AUTHORS = [(f"Engineer {i:02d}", f"engineer{i:02d}@example.com") for i in range(25)]
COMPONENTS = [f"service-{i:02d}" for i in range(20)] + ["docs", "infra", "web"]


def generate(path: Path, commits: int, files: int, seed: int = 24) -> None:
    """A repository with `commits` commits over ~2 years touching `files` files (one stream to
    `git fast-import`: generating 10k commits one `git commit` at a time would take minutes)."""
    rnd = random.Random(seed)
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    paths = []
    for i in range(files):
        comp = rnd.choice(COMPONENTS)
        ext = {"docs": ".md", "infra": ".tf", "web": ".ts"}.get(
            comp, rnd.choice([".py", ".py", ".go"])
        )
        paths.append(f"{comp}/pkg{rnd.randrange(8)}/file_{i:05d}{ext}")
    paths += [f"{comp}/README.md" for comp in COMPONENTS]  # components, not folders of packages
    paths += ["README.md", "docker-compose.yml", ".github/workflows/ci.yml", "Procfile"]
    content: dict[str, list[str]] = {}
    t0 = 1_735_689_600  # 1 Jan 2025
    step = (2 * 365 * 86400) // max(1, commits)
    stream: list[bytes] = []
    for c in range(commits):
        weights = [1 / (i + 1) for i in range(len(AUTHORS))]  # a few authors do most of the work
        name, email = rnd.choices(AUTHORS, weights)[0]
        when = t0 + c * step
        message = f"change {c}\n".encode()
        head = (
            f"commit refs/heads/main\nmark :{c + 1}\n"
            f"author {name} <{email}> {when} +0000\ncommitter {name} <{email}> {when} +0000\n"
            f"data {len(message)}\n"
        ).encode()
        stream += [head, message]
        if c:
            stream.append(f"from :{c}\n".encode())
        touched = paths if c == 0 else rnd.sample(paths[:files], rnd.randint(1, 4))
        for p in touched:
            lines = content.setdefault(p, _header(p))
            for _ in range(rnd.randint(1, 6)):
                lines.insert(rnd.randrange(1, len(lines) + 1), f"# c{c} {rnd.random():.8f}")
            data = ("\n".join(lines) + "\n").encode()
            stream.append(f"M 100644 inline {p}\ndata {len(data)}\n".encode() + data + b"\n")
    subprocess.run(
        ["git", "-C", str(path), "fast-import", "--quiet"], input=b"".join(stream), check=True
    )
    subprocess.run(["git", "-C", str(path), "checkout", "-q", "main"], check=True)


def _header(path: str) -> list[str]:
    if path == "docker-compose.yml":
        return ["services:", "  db:", "    image: postgres:16"]
    if path.endswith(".yml"):
        return ["on: [pull_request]", "jobs: {}"]
    if path == "Procfile":
        return ["web: gunicorn app"]
    if path.endswith(".md"):
        return [f"# {path}", "", "Notes about this part of the system."]
    return [f"# {path}"]


def add_commits(path: Path, n: int) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "Engineer 01", "GIT_AUTHOR_EMAIL": "engineer01@example.com",
           "GIT_COMMITTER_NAME": "Engineer 01", "GIT_COMMITTER_EMAIL": "engineer01@example.com"}  # fmt: skip
    for i in range(n):
        target = path / COMPONENTS[i % 20] / "pkg0" / f"new_{i}.py"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(f"# new {i}\nvalue = {i}\n")
        when = f"{1_798_761_600 + i * 3600} +0000"  # 1 Jan 2027
        subprocess.run(["git", "-C", str(path), "add", "-A"], check=True)
        subprocess.run(["git", "-C", str(path), "commit", "-q", "-m", f"new {i}"], check=True,
                       env={**env, "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when})  # fmt: skip


def phase(url: str, data_dir: Path) -> dict:
    env = {**os.environ, "ADVISOR_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"}
    cmd = [
        str(Path(sys.executable).parent / "cto-advisor"),
        "ingest-repo",
        url,
        "--client",
        "bench",
        "--json",
    ]
    started = time.perf_counter()
    with peak_rss() as peak:
        done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"ingest-repo failed: {done.stderr[-2000:]}")
    report = json.loads(done.stdout)
    return {
        "seconds": round(time.perf_counter() - started, 1),
        "peak_rss_mb": round(peak.mb),
        "new_commits": report["new_commits"],
        "files": report["files"],
        "chunks_written": report["chunks"],
        "stages": report["stage_seconds"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commits", type=int, default=10_000)
    parser.add_argument("--files", type=int, default=5_000)
    parser.add_argument("--short", action="store_true", help="1,000 commits, 500 files (CI)")
    args = parser.parse_args()
    commits, files = (1_000, 500) if args.short else (args.commits, args.files)
    with tempfile.TemporaryDirectory(prefix="repo-bench-") as tmp:
        repo = Path(tmp) / "generated"
        t = time.perf_counter()
        generate(repo, commits, files)
        print(f"generated {commits} commits, {files} files in {time.perf_counter() - t:.1f}s")
        url = f"file://{repo}"
        cold = phase(url, Path(tmp) / "data")
        print(f"cold ingest: {json.dumps(cold)}")
        add_commits(repo, 10)
        warm = phase(url, Path(tmp) / "data")
        print(f"after 10 new commits: {json.dumps(warm)}")
        same = phase(url, Path(tmp) / "data")
        print(f"nothing new: {json.dumps(same)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
