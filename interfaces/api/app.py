"""The FastAPI application: REST under /v1, the OpenAI-compatible routes, and /healthz."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI

from advisor.core.errors import AdvisorError
from advisor.core.settings import Settings
from advisor.service.accounts import AccountStore
from advisor.service.facade import Advisor
from interfaces.api import openai_compat, problems, rest
from interfaces.api.config import ApiSettings
from interfaces.api.deps import State
from interfaces.api.schemas import Health

DESCRIPTION = """Cited answers over client documents and CTO playbooks, for other tools.

Every call needs `Authorization: Bearer <token>` (create one with
`cto-advisor tokens create EMAIL`) and runs as that user: a founder sees only their own client
and the playbooks, whatever the request names. Errors are `application/problem+json`
(RFC 9457) documents whose `detail` says what to fix.
"""


log = logging.getLogger("advisor.api")


def warm(advisor: Advisor) -> None:
    """Load the model and open the index before the first request, not during twenty of them."""
    try:
        advisor.warm_up()
    except AdvisorError as exc:  # a damaged index: said in one line, and again per request
        log.error("the index cannot be used yet: %s", exc)
    except Exception:  # the first request reports the same problem with its fix
        log.exception("warm-up failed; requests will report why")


def create_app(
    settings: Settings | None = None,
    api: ApiSettings | None = None,
    advisor: Advisor | None = None,
) -> FastAPI:
    """The API over one index (`settings.data_dir`); `advisor` lets tests share a loaded model."""
    settings = settings or (advisor.settings if advisor else Settings())
    api = api or ApiSettings()
    state = State(advisor or Advisor(settings), AccountStore(settings), api)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await anyio.to_thread.run_sync(warm, state.advisor)
        yield

    app = FastAPI(
        lifespan=lifespan,
        title="CTO Advisor API",
        version="1",
        description=DESCRIPTION,
        form_limits={"max_files": rest.MAX_FILES, "max_fields": 10},
    )
    app.state.advisor_state = state
    problems.install(app)
    # Limits per router (not app-wide) so that the 413 passes through the problem rewriter.
    json_limit = api.max_body_kb * 1024
    app.include_router(rest.router, tags=["advisor"], max_body_size=json_limit)
    app.include_router(
        rest.uploads, tags=["advisor"], max_body_size=int(api.max_upload_mb * 1024 * 1024)
    )
    app.include_router(openai_compat.router, max_body_size=json_limit)

    @app.get("/healthz", response_model=Health, tags=["health"], summary="Liveness (no token)")
    async def healthz() -> Health:
        return Health()

    return app
