"""What every route shares: the bearer token's principal, its rate limit, and the timeout."""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any, TypeVar

import anyio
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from advisor.core.errors import AccessError
from advisor.core.principal import Principal
from advisor.service.accounts import AccountStore
from advisor.service.facade import Advisor
from interfaces.api.config import ApiSettings
from interfaces.api.problems import ApiProblem

T = TypeVar("T")
bearer = HTTPBearer(
    auto_error=False,
    description="An API token from `cto-advisor tokens create EMAIL`.",
)


class RateLimiter:
    """A token bucket per API token: `per_minute` requests a minute, bursts up to the same."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens left, last refill)
        self._lock = threading.Lock()

    def check(self, key: str) -> None:
        """Spend one request for `key`, or raise 429 with the seconds to wait."""
        if self.per_minute <= 0:
            return
        rate = self.per_minute / 60.0
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - last) * rate)
            if tokens < 1.0:
                wait = max(1, int((1.0 - tokens) / rate + 0.999))
                self._buckets[key] = (tokens, now)
                raise ApiProblem(
                    429,
                    f"rate limit of {self.per_minute} requests per minute for this token reached: "
                    f"retry in {wait} s (the server sets it with ADVISOR_API_RATE_LIMIT)",
                    {"Retry-After": str(wait)},
                )
            self._buckets[key] = (tokens - 1.0, now)


class State:
    """What create_app builds once and the routes share."""

    def __init__(self, advisor: Advisor, accounts: AccountStore, api: ApiSettings) -> None:
        self.advisor = advisor
        self.accounts = accounts
        self.api = api
        self.limiter = RateLimiter(api.rate_limit)
        # Exactly `workers` threads do the service work of every route, streamed or not. A
        # request that times out or is cancelled keeps its thread until its work has stopped,
        # so the cap holds for work, not just for waiting requests.
        self.workers = ThreadPoolExecutor(api.workers, thread_name_prefix="advisor-api")


def state(request: Request) -> State:
    return request.app.state.advisor_state


def authenticated(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The principal of the bearer token, after its rate limit; 401 when there is none."""
    challenge = {"WWW-Authenticate": 'Bearer realm="cto-advisor"'}
    if credentials is None:
        raise ApiProblem(
            401,
            "no API token: send `Authorization: Bearer <token>` (create one with "
            "`cto-advisor tokens create EMAIL`)",
            challenge,
        )
    st = state(request)
    try:
        principal = st.accounts.principal_for_token(credentials.credentials)
    except AccessError as exc:
        raise ApiProblem(401, str(exc), challenge) from exc
    st.limiter.check(hashlib.sha256(credentials.credentials.encode()).hexdigest())
    return principal


Caller = Annotated[Principal, Depends(authenticated)]
Shared = Annotated[State, Depends(state)]


class Deadline:
    """One request's time budget (ADVISOR_API_TIMEOUT), waiting for a worker included."""

    def __init__(self, st: State) -> None:
        self.seconds = st.api.timeout
        self.end = time.monotonic() + st.api.timeout

    def left(self) -> float:
        return max(0.0, self.end - time.monotonic())

    def problem(self) -> ApiProblem:
        return ApiProblem(
            504,
            f"the request took longer than {self.seconds:g} s: ask something narrower, or "
            "raise ADVISOR_API_TIMEOUT on the server",
        )


async def run(
    st: State,
    fn: Callable[..., T],
    *args: Any,
    deadline: Deadline | None = None,
    cancel: threading.Event | None = None,
    **kwargs: Any,
) -> T:
    """Run blocking service work on a worker thread; 504 when the deadline passes.

    A request still waiting for a worker never starts; one that is running is asked to stop
    (`cancel`, checked by the answer loop between pieces) and keeps its worker until it has.
    """
    deadline = deadline or Deadline(st)
    future = st.workers.submit(fn, *args, **kwargs)
    try:
        with anyio.fail_after(deadline.left()):
            return await asyncio.wrap_future(future)
    except TimeoutError as exc:
        raise deadline.problem() from exc
    finally:
        if not future.done():
            future.cancel()  # not started yet: it never will
            if cancel is not None:
                cancel.set()


def answer_of(stream, cancel: threading.Event):
    """The whole answer of an AnswerStream, stopping early when `cancel` is set."""
    try:
        for _ in stream:
            if cancel.is_set():
                return None
        return stream.answer
    finally:
        stream.close()


async def stream_work(
    st: State,
    produce: Callable[[threading.Event], Iterator[str]],
    deadline: Deadline,
    on_timeout: Callable[[ApiProblem], str],
) -> AsyncIterator[str]:
    """Server-sent events produced on a worker thread, under the same cap and deadline as any
    request. When the deadline passes or the client goes away, the producer is told to stop
    (it closes the answer, and with it the model's stream) and the events end with
    `on_timeout`'s."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
    cancel = threading.Event()

    def drive() -> None:
        events = produce(cancel)
        try:
            for event in events:
                if cancel.is_set():
                    break
                loop.call_soon_threadsafe(queue.put_nowait, ("event", event))
        except BaseException as exc:  # noqa: BLE001 - handed to the request, which re-raises
            loop.call_soon_threadsafe(queue.put_nowait, ("error", exc))
        finally:
            events.close()
            loop.call_soon_threadsafe(queue.put_nowait, ("end", None))

    future = st.workers.submit(drive)
    try:
        while True:
            item = None
            with anyio.move_on_after(deadline.left()):
                item = await queue.get()
            if item is None:  # no cancel scope is open across a yield: the deadline is per wait
                yield on_timeout(deadline.problem())
                break
            kind, value = item
            if kind == "end":
                break
            if kind == "error":
                raise value
            yield value
    finally:
        cancel.set()
        future.cancel()
