"""The checked-in OpenAPI document is what the code generates (CI fails when it drifts)."""

from __future__ import annotations

import json

from interfaces.api.openapi import document
from tests.conftest import ROOT


def test_the_checked_in_openapi_document_is_current():
    checked_in = (ROOT / "docs" / "openapi.json").read_text(encoding="utf-8")
    assert document() == checked_in, "run `python -m interfaces.api.openapi` and commit the result"


def test_every_v1_route_needs_a_bearer_token_and_documents_its_problems():
    spec = json.loads(document())
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            if path == "/healthz":
                assert "security" not in op
                continue
            assert op["security"] == [{"HTTPBearer": []}], (method, path)
            assert "application/problem+json" in op["responses"]["401"]["content"], (method, path)
