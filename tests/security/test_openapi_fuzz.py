"""Schemathesis, in-process against the ASGI app: for every operation in /openapi.json, inputs
generated from the document (valid ones, then invalid ones) get no 5xx, only the statuses the
document lists, and bodies that match their schemas. A mismatch is a bug in the app or in the
document; either way this fails until they agree again.

Generation is derandomized so that CI runs the same examples every time; a local run with
MODERATION_FUZZ_RANDOM=1 explores new ones.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from service.app import api_document
from service.db.tables import utcnow
from service.perspective.keys import create_key
from tests.support.api import ApiFactory
from tests.support.databases import BACKENDS
from tests.support.holds import database, hold

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

MAX_EXAMPLES = 25
FUZZ_ERASE_KEY = "fuzz-erase-key-that-is-long-enough-0123456789"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


# comments:analyze waits for a worker's scores, and no worker runs in this suite: its
# documented 503 UNAVAILABLE is then the right answer (the worker tests cover the scoring).
NEEDS_A_WORKER = {("POST", "/v1alpha1/comments:analyze")}


def unavailable_without_a_worker(ctx: Any, response: Any, case: Any) -> bool | None:
    if response.status_code == 503 and '"UNAVAILABLE"' in response.text:
        return None
    return not_a_server_error(ctx, response, case)


def without_lifespan(app: Any) -> Any:
    """The app as schemathesis sees it: the fixture's test client already started (and will
    stop) its lifespan, so schemathesis must not run another, which would close the services."""

    async def asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            raise RuntimeError("lifespan is run by the test's own client")
        await app(scope, receive, send)

    return asgi


def operations() -> list[tuple[str, str, GenerationMode]]:
    """Every operation with valid inputs; those that take any input, with invalid ones too."""
    found = []
    for path, item in api_document()["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            found.append((method.upper(), path, GenerationMode.POSITIVE))
            if operation.get("parameters") or operation.get("requestBody"):
                found.append((method.upper(), path, GenerationMode.NEGATIVE))
    return found


@pytest.mark.parametrize(("method", "path", "mode"), operations(), ids=str)
def test_operation_conforms_to_the_document(
    make_api: ApiFactory, method: str, path: str, mode: GenerationMode
) -> None:
    # With an erase key, a generated erase whose confirm matches its id really erases.
    api = make_api(analyze_timeout_seconds=0.2, erase_key=FUZZ_ERASE_KEY)
    held = hold(api, author="reader-1")  # something for the moderation routes to find
    key = create_key(database(api), name="fuzz", qps=10_000, now=utcnow())
    schema = schemathesis.openapi.from_asgi("/openapi.json", without_lifespan(api.client.app))
    operation = schema[path][method]
    headers = {
        **api.auth("editor-1", moderator=True),
        "X-Goog-Api-Key": key,
        "Prefer": "wait=0",  # a generated wait=10 would only make the run slow
    }
    checks = CHECKS
    if (method, path) in NEEDS_A_WORKER:
        checks = [unavailable_without_a_worker, *CHECKS[1:]]
    fixed: dict[str, Any] = {}
    if "{comment_id}" in path and mode is GenerationMode.POSITIVE:
        fixed["path_parameters"] = {"comment_id": held}

    @given(case=operation.as_strategy(generation_mode=mode, **fixed))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=not os.environ.get("MODERATION_FUZZ_RANDOM"),
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    def conforms(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=checks)

    try:
        conforms()
    finally:
        shutdown_lifespans()  # schemathesis keeps every app it has seen until the process exits
