"""Property-based fuzzing from the checked-in OpenAPI document (schemathesis): whatever is sent,
the API answers with its documented shapes, bad input gets a 4xx problem document, and nothing
is a 5xx.

Bounded for CI: a few examples per operation, positive and negative, no shrinking. The schema is
loaded at import (schemathesis' lazy `from_fixture` does not work with pytest 9), and requests go
to the module's app through a forwarding ASGI callable that a fixture points at it.
"""

from __future__ import annotations

import pytest
import schemathesis
from schemathesis import GenerationMode
from schemathesis.config._checks import NegativeDataRejectionConfig
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.api.conftest import bearer
from tests.conftest import ROOT

FUZZ_EXAMPLES = 8


class Forward:
    """An ASGI app that forwards to `target` (set by the fixture below)."""

    target = None

    async def __call__(self, scope, receive, send):
        await self.target(scope, receive, send)


FORWARD = Forward()
schema = schemathesis.openapi.from_path(str(ROOT / "docs" / "openapi.json"))
schema.app = FORWARD
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
    max_examples=FUZZ_EXAMPLES,
    no_shrink=True,
    deterministic=True,
)
# A body over the size limit is rejected too (413), before it is even parsed.
schema.config.checks.negative_data_rejection = NegativeDataRejectionConfig(
    expected_statuses=[*NegativeDataRejectionConfig._DEFAULT_EXPECTED_STATUSES, "413"]
)


@pytest.fixture(scope="module", autouse=True)
def fuzzed_app(advisor):
    from interfaces.api.app import create_app
    from interfaces.api.config import ApiSettings

    FORWARD.target = create_app(advisor=advisor, api=ApiSettings(rate_limit=0, max_upload_mb=1))
    yield
    FORWARD.target = None


@pytest.mark.slow
@schema.parametrize()
def test_any_input_gets_a_documented_answer_and_never_a_server_error(case, tokens):
    # A chat needs a user message last (it is the question): a rule the schema cannot state,
    # so schema-valid chats without one are rightly refused with 422.
    chat = case.operation.path == "/v1/chat/completions"
    response = case.call_and_validate(
        headers=bearer(tokens.cto), excluded_checks=[positive_data_acceptance] if chat else None
    )
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == ["application/problem+json"]
        problem = response.json()
        assert problem["status"] == response.status_code and problem["detail"]
