"""A real HTTP server on loopback that speaks the OpenAI chat-completions protocol.

It stands in for an external LLM endpoint (OpenAI, Ollama, vLLM, llama.cpp) at the protocol
boundary: the product's own code runs unchanged against it. Tests script its behaviour and read
back exactly what it received.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Reply = Callable[[dict], str]


def answering(*claims: str) -> Reply:
    """Replies as a model that follows the protocol asked of it: a request with a JSON-schema
    response format (our answer request) gets `claims` as the answer's direct-answer claims, any
    other request (the rewrite of a follow-up) gets them as plain text."""

    def reply(request: dict) -> str:
        if (request.get("response_format") or {}).get("type") == "json_schema":
            return json.dumps({"covered": True, "direct_answer": list(claims)})
        return " ".join(claims)

    return reply


class FakeOpenAI:
    """Start with `with FakeOpenAI() as server:`; `server.base_url` goes into OPENAI_BASE_URL."""

    def __init__(self, reply: Reply | str = "OK") -> None:
        self.reply: Reply = reply if callable(reply) else (lambda request, text=reply: text)
        self.requests: list[dict] = []  # JSON bodies of chat-completion requests, in order
        # ("status", 429), ("hang", s), ("malformed", 0), ("cut", characters sent), ("stall", s)
        self.failures: list[tuple[str, float | int]] = []
        self.chunk_delay = 0.0  # seconds between streamed pieces (a slow model)
        self.active = 0  # streams being sent right now, and the most at once
        self.max_active = 0
        self.disconnects = 0  # streams the client closed before the end
        self._count = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def fail_next(self, kind: str, value: float | int = 0) -> None:
        """Queue a failure for the next request.

        ("status", 500): an error status; ("hang", 5.0): no reply for that long; ("malformed", 0):
        a 200 whose body (or first stream event) is not JSON; ("cut", 40): a stream that sends
        that many characters of the reply, then drops the connection without finishing;
        ("stall", 5.0): a stream that sends half the reply, then nothing for that long;
        ("drip", 0.2): one stream that waits that long after each piece (a slow model, like
        `chunk_delay` for every stream); `disconnects` counts a client that closes it early.
        """
        self.failures.append((kind, value))

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if not self.path.endswith("/chat/completions"):
                    self._json(404, {"error": {"message": "not found", "type": "invalid_request"}})
                    return
                fake.requests.append(body)
                kind, value = fake.failures.pop(0) if fake.failures else ("", 0)
                if kind == "hang":
                    time.sleep(float(value))
                    return
                if kind == "status":
                    self._json(int(value), {"error": {"message": "scripted", "type": "server"}})
                    return
                if kind == "malformed":
                    self._malformed(bool(body.get("stream")))
                    return
                try:
                    text = fake.reply(body)
                except LookupError as exc:  # a scripted reply that has nothing for this request
                    self._json(500, {"error": {"message": str(exc), "type": "server"}})
                    return
                if body.get("stream"):
                    cut = {"cut": int(value), "stall": len(text) // 2}.get(kind)
                    self._stream(
                        body, text, cut, stall=float(value) if kind == "stall" else 0,
                        drip=float(value) if kind == "drip" else 0,
                    )  # fmt: skip
                else:
                    self._json(200, _completion(body, text))

            def _json(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("retry-after-ms", "10")  # keep client backoff short in tests
                self.end_headers()
                self.wfile.write(data)

            def _malformed(self, stream: bool) -> None:
                data = b'data: {"id": "chatcmpl-fake", "choices": [{"delta": {"con\n\n'
                if not stream:
                    data = b'{"id": "chatcmpl-fake", "choices": [{"message": '
                self.send_response(200)
                self.send_header(
                    "Content-Type", "text/event-stream" if stream else "application/json"
                )
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                self.wfile.flush()

            def _stream(
                self, body: dict, text: str, cut: int | None, stall: float = 0, drip: float = 0
            ) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                if cut is not None:  # a declared length the body never reaches: a cut stream
                    self.send_header("Content-Length", str(10 * len(text) + 10_000))
                self.end_headers()
                if cut is not None:
                    text = text[:cut]
                pieces = [text[i : i + 7] for i in range(0, len(text), 7)] or [""]
                with fake._count:
                    fake.active += 1
                    fake.max_active = max(fake.max_active, fake.active)
                try:
                    for i, piece in enumerate(pieces):
                        delta = {"content": piece} if i else {"role": "assistant", "content": piece}
                        self._event(_chunk(body, delta, None))
                        time.sleep(drip or fake.chunk_delay)
                except (BrokenPipeError, ConnectionResetError):
                    with fake._count:
                        fake.disconnects += 1
                    return
                finally:
                    with fake._count:
                        fake.active -= 1
                if cut is not None:
                    time.sleep(stall)
                    self.close_connection = True
                    return
                self._event(_chunk(body, {}, "stop"))
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

            def _event(self, payload: dict) -> None:
                self.wfile.write(b"data: " + json.dumps(payload).encode() + b"\n\n")
                self.wfile.flush()

        return Handler


def _completion(body: dict, text: str) -> dict:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": body.get("model", "fake"),
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def _chunk(body: dict, delta: dict, finish: str | None) -> dict:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": body.get("model", "fake"),
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def messages_text(request: dict) -> str:
    """Everything the model was sent, as one string."""
    return "\n".join(str(m.get("content", "")) for m in request.get("messages", []))


def fenced_block(text: str, label: str) -> str:
    """The content of the one `<<<LABEL tag` ... `LABEL tag>>>` fence in a prompt.

    The tag is read from the opening line, as a model would; the block ends only at the closing
    line with the same tag. Fails if the fence is missing or appears twice.
    """
    opening = re.findall(rf"^<<<{label} ([0-9a-f]{{16}})$", text, flags=re.M)
    assert len(opening) == 1, f"expected one {label} fence, found {len(opening)}"
    match = re.search(
        rf"^<<<{label} {opening[0]}\n(.*?)\n{label} {opening[0]}>>>$", text, re.S | re.M
    )
    assert match, f"the {label} fence is never closed"
    return match.group(1)


# -- replay: recorded replies served from a file, as a process for `make eval` ------------------


class Replay:
    """Recorded replies: JSONL lines `{"when": ["text", ...], "reply": "..."}`.

    A request gets the reply of the first line whose every `when` text occurs in what it was sent;
    an unmatched request gets HTTP 500 (the product then shows its own error path), so a change in
    the prompts is visible instead of silently answered.
    """

    def __init__(self, records: list[dict]) -> None:
        self.records = records
        self.unmatched: list[str] = []

    @classmethod
    def load(cls, path: str) -> Replay:
        with open(path, encoding="utf-8") as handle:
            return cls([json.loads(line) for line in handle if line.strip()])

    def __call__(self, request: dict) -> str:
        text = messages_text(request)
        for record in self.records:
            if all(when in text for when in record["when"]):
                return record["reply"]
        self.unmatched.append(text[-200:])
        raise LookupError("no recorded reply matches this request")


def main(argv: list[str] | None = None) -> None:
    """`python -m tests.fakes.openai_server --replay FILE --port 0`: prints `PORT=<n>`, serves."""
    import argparse
    import signal

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--replay", required=True, help="JSONL of recorded replies")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args(argv)
    server = FakeOpenAI(Replay.load(args.replay))
    if args.port:
        server._server.server_close()
        server._server = ThreadingHTTPServer(("127.0.0.1", args.port), server._handler())
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with server:
        print(f"PORT={server._server.server_address[1]}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()


if __name__ == "__main__":
    main()
