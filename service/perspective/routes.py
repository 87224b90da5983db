"""POST /v1alpha1/comments:analyze and :suggestscore, Perspective's routes and error shape.

Every answer on these routes, errors included, is what Perspective would send: Google's
`{"error": {"code", "message", "status"}}` rather than this API's problem+json, since a
Perspective client reads nothing else. `PerspectiveError` reaches the client through the
app's exception handler; a database that stops answering is Google's 503 here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps

import structlog
from prometheus_client import Counter
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from service.broker.contract import SCORE_FEEDBACK_TASK
from service.db.tables import utcnow
from service.http.openapi import Operation, Reply, documented, problems
from service.http.services import services
from service.perspective.analysis import request_scores
from service.perspective.analyze import (
    MAX_BODY_BYTES,
    decode_body,
    labels_of_model,
    parse_analyze_request,
    parse_suggestion,
    record_suggestion,
    render_analysis,
    render_suggestion,
)
from service.perspective.errors import PerspectiveError, invalid, unavailable
from service.perspective.keys import KeyGrant, QuotaGate, authenticate_key
from service.perspective.resources import (
    AnalyzeCommentResponse,
    GoogleError,
    SuggestCommentScoreResponse,
)
from service.perspective.routing import attribute_labels, registry_outputs, route_request
from service.perspective.schemas import AnalyzeCommentRequest, SuggestCommentScoreRequest
from service.process_metrics import start_at_zero

log = structlog.get_logger(__name__)

PREFIX = "/v1alpha1/"
REQUESTS = Counter(
    "moderation_perspective_requests_total",
    "Perspective-compatible requests by method and answer (ok, or Google's status)",
    ["method", "result"],
)
start_at_zero(
    REQUESTS,
    method=("analyze", "suggestscore"),
    result=(
        "ok",
        "INVALID_ARGUMENT",
        "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED",
        "UNAVAILABLE",
        "INTERNAL",
    ),
)

Endpoint = Callable[[Request], Awaitable[JSONResponse]]

# Either way of sending the key: `?key=` as Google documents it, or its client libraries' header.
KEY: tuple[dict[str, list[str]], ...] = ({"perspectiveKey": []}, {"perspectiveKeyHeader": []})
PROBLEMS = problems(
    s400="INVALID_ARGUMENT: malformed JSON, empty or too long comment, unknown attribute, "
    "language not supported by attribute, payload over the limit",
    s403="PERMISSION_DENIED: missing, unknown or revoked key",
    s429="RESOURCE_EXHAUSTED: over the key's queries-per-second quota",
    s503="UNAVAILABLE: no worker answered in time, Redis or the database is down",
)
BODY = f"JSON, at most {MAX_BODY_BYTES} bytes."
ANSWER = "As Perspective answers"


def _perspective_route(method: str) -> Callable[[Endpoint], Endpoint]:
    """Count each answer, and keep every failure in Google's shape."""

    def decorate(endpoint: Endpoint) -> Endpoint:
        @wraps(endpoint)
        async def run(request: Request) -> JSONResponse:
            try:
                response = await endpoint(request)
            except PerspectiveError as exc:
                REQUESTS.labels(method=method, result=exc.status).inc()
                raise
            except SQLAlchemyError as exc:
                REQUESTS.labels(method=method, result="UNAVAILABLE").inc()
                log.error("database.unavailable", error=type(exc).__name__)
                raise unavailable("The database is not answering; retry shortly.") from exc
            except Exception as exc:
                REQUESTS.labels(method=method, result="INTERNAL").inc()
                log.exception("perspective.unexpected_error", error=type(exc).__name__)
                raise PerspectiveError(500, "INTERNAL", "Internal error encountered.") from exc
            REQUESTS.labels(method=method, result="ok").inc()
            return response

        return run

    return decorate


@documented(
    Operation(
        "perspectiveAnalyze",
        "Score a comment, Perspective-compatible (synchronous, nothing stored)",
        {200: Reply(ANSWER, AnalyzeCommentResponse)},
        PROBLEMS,
        body=AnalyzeCommentRequest,
        security=KEY,
        problem_model=GoogleError,
        description="Google Perspective's `comments:analyze`, scored by the model the policy "
        "routes the comment's language to (the first of `languages` a model reads, or the "
        "detected one). See docs/perspective.md for what differs.",
        body_description=BODY,
    )
)
@_perspective_route("analyze")
async def analyze(request: Request) -> JSONResponse:
    svc = services(request)
    grant = await _authenticate(request)
    await run_in_threadpool(QuotaGate(svc.redis).check, grant)
    body = decode_body(await _read_body(request))
    policy = svc.policies.current()
    labels = attribute_labels(policy, registry_outputs(svc.settings), body)
    parsed = parse_analyze_request(body, labels=labels)
    route = route_request(policy, parsed)
    result = await request_scores(svc.settings, svc.producer, parsed, route)
    return JSONResponse(render_analysis(parsed, result))


@documented(
    Operation(
        "perspectiveSuggestScore",
        "Send feedback on a comment's scores, Perspective-compatible (stored with its text)",
        {200: Reply(ANSWER, SuggestCommentScoreResponse)},
        PROBLEMS,
        body=SuggestCommentScoreRequest,
        security=KEY,
        problem_model=GoogleError,
        description="Google Perspective's `comments:suggestscore`: stored as a labelled "
        "example in `perspective_feedback`, one row per attribute, then scored by a worker so "
        "that it counts in the per-label evidence of `GET /v1/moderation/insights`.",
        body_description=BODY,
    )
)
@_perspective_route("suggestscore")
async def suggest_score(request: Request) -> JSONResponse:
    svc = services(request)
    grant = await _authenticate(request)
    # One quota per key, whichever method spends it: feedback is a request like any other.
    await run_in_threadpool(QuotaGate(svc.redis).check, grant)
    labels = labels_of_model(svc.settings.model)
    suggestion = parse_suggestion(decode_body(await _read_body(request)), labels=labels)
    feedback_ids = await run_in_threadpool(
        record_suggestion, svc.db, key_name=grant.name, suggestion=suggestion, now=utcnow()
    )
    # After the commit, so the worker finds the rows. A lost send leaves them unscored until
    # the sweeper sends it again (workers/sweeper.py): the client's answer doesn't wait on it.
    await run_in_threadpool(svc.producer.send, SCORE_FEEDBACK_TASK, feedback_ids)
    return JSONResponse(await run_in_threadpool(render_suggestion, suggestion))


async def _authenticate(request: Request) -> KeyGrant:
    key = request.query_params.get("key") or request.headers.get("x-goog-api-key")
    return await run_in_threadpool(authenticate_key, services(request).db, key)


async def _read_body(request: Request) -> bytes:
    """The body, refused past MAX_BODY_BYTES as Google refuses an oversized payload."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _too_large()
    chunks: list[bytes] = []
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > MAX_BODY_BYTES:
            raise _too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large() -> PerspectiveError:
    return invalid(f"Request payload size exceeds the limit: {MAX_BODY_BYTES} bytes.")


async def handle_perspective_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PerspectiveError)
    return exc.response()


def http_error(status_code: int) -> JSONResponse:
    """Routing errors under /v1alpha1/ (404, 405) in Google's shape, for the app's handler."""
    if status_code == 404:
        error = PerspectiveError(404, "NOT_FOUND", "The requested URL was not found.")
    else:
        message = "Only POST is allowed here." if status_code == 405 else "Bad request."
        error = PerspectiveError(status_code, "INVALID_ARGUMENT", message)
    return error.response()
