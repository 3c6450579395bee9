"""What every route shares: the bearer token's principal, its rate limit, and the timeout."""

from __future__ import annotations

import functools
import hashlib
import threading
import time
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import anyio
import anyio.to_thread
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
        self.workers = anyio.CapacityLimiter(api.workers)


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


async def run(st: State, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run blocking service work in a worker thread, answering 504 after the API timeout.

    The thread cannot be killed; it finishes in the background and its result is dropped.
    """
    try:
        with anyio.fail_after(st.api.timeout):
            return await anyio.to_thread.run_sync(
                functools.partial(fn, *args, **kwargs),
                abandon_on_cancel=True,
                limiter=st.workers,
            )
    except TimeoutError as exc:
        raise ApiProblem(
            504,
            f"the request took longer than {st.api.timeout:g} s: ask something narrower, or "
            "raise ADVISOR_API_TIMEOUT on the server",
        ) from exc
