"""Answers are written by workers, not by the page: a reload, a new tab or another click does not
lose them, and Stop stops the worker itself.

A worker runs `Advisor.ask_stream` for one assistant message, keeps the text as it grows (any
page run showing that chat follows it), and writes the finished answer, the error, or what it had
when stopped, into the conversation store. Stopping closes the answer's stream, which closes the
request to the model. A message left "running" by a worker that no longer exists (the app was
restarted) is shown as interrupted.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from advisor.core.errors import AdvisorError, NotFoundError
from advisor.core.principal import Principal
from advisor.service.facade import Advisor

log = logging.getLogger("cto_advisor.app")
WORKERS = 4  # answers written at once; more wait their turn
KEEP_SECONDS = 600.0  # a finished worker stays known this long, for pages still following it

_pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="answer")
_lock = threading.Lock()
_jobs: dict[str, Job] = {}


@dataclass
class Job:
    message_id: str
    chat_id: str
    principal: Principal
    body: dict  # the assistant message as stored (question, history, client, status)
    store: object  # the ConversationStore the outcome is written to
    text: str = ""
    done: threading.Event = field(default_factory=threading.Event)
    cancel: threading.Event = field(default_factory=threading.Event)
    finished_at: float | None = None
    future: Future | None = None


def start(advisor: Advisor, principal: Principal, chat_id: str, message_id: str, body: dict) -> Job:
    """Queue the answer of one stored assistant message (its body names question and history)."""
    job = Job(message_id, chat_id, principal, dict(body), advisor.conversations)
    now = time.time()
    with _lock:
        for old in [
            k for k, j in _jobs.items() if j.finished_at and now - j.finished_at > KEEP_SECONDS
        ]:
            del _jobs[old]
        _jobs[message_id] = job
    job.future = _pool.submit(_run, advisor, job)
    return job


def find(message_id: str) -> Job | None:
    with _lock:
        return _jobs.get(message_id)


def stop(message_id: str) -> bool:
    """Ask a worker to stop (it closes the model's stream at its next piece); True if it ran."""
    job = find(message_id)
    if job is None or job.done.is_set():
        return False
    job.cancel.set()
    if job.future is not None and job.future.cancel():  # never started: finish it here
        _finish(job, {"status": "stopped", "text": ""})
    return True


def _run(advisor: Advisor, job: Job) -> None:
    body = job.body
    outcome: dict
    try:
        if job.cancel.is_set():
            outcome = {"status": "stopped", "text": ""}
        else:
            stream = advisor.ask_stream(
                job.principal, body["question"], client=body.get("client"),
                history=body.get("history", []),
            )  # fmt: skip
            pieces = iter(stream)
            for piece in pieces:
                job.text += piece
                if job.cancel.is_set():
                    pieces.close()  # GeneratorExit down to the HTTP stream: the request ends
                    break
            if job.cancel.is_set():
                outcome = {"status": "stopped", "text": job.text}
            else:
                answer = stream.answer
                # The service's answer id: a rating is accepted only for it, from this user.
                outcome = {"status": "done", "answer": dump_answer(answer), "answer_id": stream.id}
    except AdvisorError as exc:
        outcome = {"status": "error", "error": str(exc), "text": job.text}
    except Exception as exc:  # a bug must not lose the question; the log has the trace
        log.exception("answering failed")
        outcome = {
            "status": "error", "text": job.text,
            "error": f"Something went wrong ({type(exc).__name__}: {exc}). Try again; the "
            "server log has the details.",
        }  # fmt: skip
    _finish(job, outcome)


def _finish(job: Job, outcome: dict) -> None:
    job.body = {**job.body, **outcome}
    try:
        job.store.update(job.principal, job.chat_id, job.message_id, job.body)
    except NotFoundError:
        pass  # the chat was deleted while the answer was written
    except Exception:
        log.exception("saving an answer failed")
    finally:
        job.finished_at = time.time()
        job.done.set()


def dump_answer(answer) -> dict:
    """An Answer as the conversation store keeps it (its citations keep the file's root, which
    says whether the original can be offered; the download itself is checked again)."""
    data = answer.model_dump(mode="json")
    data["warning"] = answer.warning
    data["citations"] = [c.model_dump(mode="json") | {"root": c.root} for c in answer.citations]
    return data
