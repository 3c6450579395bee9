"""Load on `POST /v1/ask`: concurrent API clients against a real `cto-advisor serve`, offline,
on the sample index (data/).

    python benchmarks/api_load.py [--clients 20] [--seconds 60] [--short]

Each simulated client has its own token (CTOs and founders of both sample clients, so the scope
checks are part of the cost) and asks the sample questions in a loop, one request at a time.
Prints requests per second, p50/p95 latency, errors (target 0), and the server's peak memory
(RSS of the server process, sampled with psutil every 0.2 s). The index is built once under
ADVISOR_DATA_DIR/bench/api (incremental afterwards).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from advisor.core.principal import Principal
from advisor.core.settings import Settings
from advisor.service.accounts import AccountStore
from advisor.service.facade import Advisor

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.rss import peak_rss  # noqa: E402  (after the path)
from tests.chroma_server import free_port, stop_process  # noqa: E402
from tests.processes import CLI  # noqa: E402

DATA = ROOT / "data"
QUESTIONS = ROOT / "evals" / "datasets" / "sample.jsonl"
PASSWORD = "bench-password-not-secret"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def build_index(data_dir: Path) -> list[str]:
    """Index data/ (playbooks + each client) into `data_dir`; returns the client names."""
    advisor = Advisor(Settings(data_dir=data_dir, mode="offline"))
    local = Principal.local()
    advisor.ingest(local, [DATA / "playbooks"])
    clients = sorted(p.name for p in (DATA / "clients").iterdir() if p.is_dir())
    for client in clients:
        advisor.ingest(local, [DATA / "clients" / client], client=client)
    return clients


def make_tokens(data_dir: Path, clients: list[str], n: int) -> list[tuple[str, str | None]]:
    """n (token, founder's client or None for a CTO) pairs: half CTOs, half founders."""
    store = AccountStore(Settings(data_dir=data_dir))
    if not store.exists():
        store.add_user("cto@bench.example", "cto", None, PASSWORD)
        for client in clients:
            store.add_user(f"founder@{client}.example", "founder", client, PASSWORD)
    out = []
    for i in range(n):
        client = None if i % 2 == 0 else clients[(i // 2) % len(clients)]
        email = f"founder@{client}.example" if client else "cto@bench.example"
        out.append((store.create_token(email, f"bench-{i}"), client))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--short", action="store_true", help="10 s instead of 60 (for CI)")
    args = parser.parse_args()
    seconds = 10.0 if args.short else args.seconds

    base = Path(os.environ.get("ADVISOR_DATA_DIR", "data/.advisor")).resolve()
    data_dir = base / "bench" / "api"
    t0 = time.perf_counter()
    clients = build_index(data_dir)
    tokens = make_tokens(data_dir, clients, args.clients)
    print(f"index of {DATA} ready in {time.perf_counter() - t0:.1f} s ({', '.join(clients)})")

    items = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line.strip()]
    questions = [(i.get("question") or i["turns"][-1], i.get("client")) for i in items]

    port = free_port()
    env = os.environ | {
        "ADVISOR_DATA_DIR": str(data_dir),
        "ADVISOR_MODE": "offline",
        "PYTHONPATH": os.environ.get("PYTHONPATH", str(ROOT)),
    }
    server = subprocess.Popen(
        [*CLI, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        with peak_rss(server.pid, every=0.2) as peak:
            started = time.perf_counter()
            while True:  # ready when /healthz answers (the model is loaded before it does)
                try:
                    if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if server.poll() is not None:
                    sys.exit(f"the server exited: {server.stderr.read()[-2000:]}")
                time.sleep(0.2)
            print(f"server up (model loaded) in {time.perf_counter() - started:.1f} s")

            latencies: list[float] = []
            errors: dict[str, int] = {}
            lock = threading.Lock()
            deadline = time.perf_counter() + seconds

            def worker(i: int) -> None:
                token, own = tokens[i]
                mine = [(q, c) for q, c in questions if own is None or c in (None, own)]
                n = i
                with httpx.Client(base_url=url, timeout=120) as http:
                    while time.perf_counter() < deadline:
                        question, client = mine[n % len(mine)]
                        n += args.clients
                        t = time.perf_counter()
                        try:
                            r = http.post(
                                "/v1/ask",
                                json={"question": question, "client": client},
                                headers={"Authorization": f"Bearer {token}"},
                            )
                            ok, why = r.status_code == 200, str(r.status_code)
                        except httpx.HTTPError as exc:
                            ok, why = False, type(exc).__name__
                        with lock:
                            if ok:
                                latencies.append((time.perf_counter() - t) * 1000)
                            else:
                                errors[why] = errors.get(why, 0) + 1

            begin = time.perf_counter()
            with ThreadPoolExecutor(args.clients) as pool:
                list(pool.map(worker, range(args.clients)))
            elapsed = time.perf_counter() - begin
    finally:
        stop_process(server, timeout=30)

    done = len(latencies)
    print(f"{args.clients} concurrent clients for {seconds:g} s against POST /v1/ask (offline)")
    print(f"requests {done} ok, errors {sum(errors.values())} {errors or ''}")
    print(f"throughput {done / elapsed:.2f} requests/s")
    if latencies:
        print(
            f"latency ms: p50 {percentile(latencies, 0.5):.0f}  p95 {percentile(latencies, 0.95):.0f}"
            f"  max {max(latencies):.0f}"
        )
    print(f"server peak RSS {peak.mb:.0f} MB (psutil, sampled every 0.2 s)")
    print(f"target 0 errors: {'meets' if not errors else 'MISSES'}")
    if errors:
        sys.exit(1)


if __name__ == "__main__":
    main()
