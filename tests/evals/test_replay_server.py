"""The replay server `make eval` runs as a process: recorded replies by content, 500 otherwise."""

import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest


def post(port: int, text: str) -> tuple[int, dict]:
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": text}]}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/chat/completions",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture
def server(tmp_path):
    replay = tmp_path / "replay.jsonl"
    replay.write_text(
        json.dumps({"when": ["Question: alpha", "Sources"], "reply": "Alpha [1]."}) + "\n"
        + json.dumps({"when": ["Question:"], "reply": "Anything else [9]."}) + "\n"
    )  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.openai_server", "--replay", str(replay), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],  # `-m tests.fakes...` from the repository root
    )
    line = process.stdout.readline()
    assert line.startswith("PORT="), line
    yield int(line.strip().removeprefix("PORT="))
    process.terminate()
    process.wait(timeout=10)


def test_the_first_matching_recording_answers_and_an_unknown_request_fails(server):
    status, reply = post(server, "Sources ... Question: alpha")
    assert status == 200 and reply["choices"][0]["message"]["content"] == "Alpha [1]."
    status, reply = post(server, "Question: beta")
    assert reply["choices"][0]["message"]["content"] == "Anything else [9]."
    status, reply = post(server, "a prompt nobody recorded")
    assert status == 500 and "no recorded reply" in reply["error"]["message"]
