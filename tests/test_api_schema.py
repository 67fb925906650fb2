"""Schemathesis against the running service: requests generated from /api/v1/openapi.json
(as the server serves it), sent over HTTP with valid keys; no 5xx and every answer (status,
content type, headers, body) as the document says.

Schemathesis is synchronous (requests under hypothesis): it runs in a thread while the
service answers on the test's event loop. max_examples bounds each operation; generated
bodies are valid and invalid alike (hypothesis's explicit and generate phases only).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import hypothesis
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.test_api import Api, api  # noqa: F401  (the fixture)
from vault.models import AuditEvent

MAX_EXAMPLES = 25
CHECKS: list[Callable[..., Any]] = [
    not_a_server_error, status_code_conformance, content_type_conformance,
    response_headers_conformance, response_schema_conformance,
]


def fuzz(base: str, keys: dict[str, str]) -> list[str]:
    """Run every operation; returns the operations tried (failures raise)."""
    schema = schemathesis.openapi.from_url(f"{base}/api/v1/openapi.json")
    tried = []
    for result in schema.get_all_operations():
        operation = result.ok()
        _fuzz_operation(operation, base, keys[operation.method.upper()])
        tried.append(f"{operation.method.upper()} {operation.path}")
    return tried


def _fuzz_operation(operation: Any, base: str, key: str) -> None:
    @hypothesis.settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
                         phases=[Phase.explicit, Phase.generate],
                         suppress_health_check=list(HealthCheck))
    @hypothesis.given(case=operation.as_strategy())
    def check(case: Any) -> None:
        response = case.call(base_url=base, headers={"Authorization": f"Bearer {key}"})
        case.validate_response(response, checks=CHECKS)

    check()


async def test_the_api_answers_as_its_openapi_document_says(api: Api) -> None:  # noqa: F811
    base = api.base.removesuffix("/api/v1")
    tried = await asyncio.to_thread(fuzz, base, {"POST": api.ingest, "GET": api.read})
    assert sorted(tried) == [
        "GET /api/v1/changes", "GET /api/v1/invoices/external/{source}/{external_id}",
        "GET /api/v1/invoices/{invoice_number}", "POST /api/v1/accounts",
        "POST /api/v1/contacts", "POST /api/v1/credit-notes", "POST /api/v1/invoices",
        "POST /api/v1/payments",
    ]
    calls = await AuditEvent.filter(action="vault.api.call").values_list("data", flat=True)
    statuses = {(data["method"], data["path"].split("/")[3], data["status"]) for data in calls}
    # Generated calls got through the key checks to the work itself: stored and refused.
    assert {("POST", "accounts", 201), ("POST", "invoices", 422), ("GET", "changes", 200)} <= (
        statuses)
