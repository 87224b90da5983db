"""The audit sample's queue (GET /v1/moderation/queue?queue=sample) and its labels."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from service.http.auth import require_moderator
from service.http.body import read_json
from service.http.services import authenticate, services
from service.tuning.sampling import judge_sample, read_sample_queue
from service.tuning.schemas import parse_sample_judgement, parse_sample_query


def wants_other_queue(request: Request) -> bool:
    """True when the request names a queue other than the hold queue (the default)."""
    return request.query_params.get("queue", "held") != "held"


async def get_sample_queue(request: Request) -> JSONResponse:
    principal = await authenticate(request)
    require_moderator(principal)
    query = parse_sample_query(request.query_params)
    items, cursor = await run_in_threadpool(read_sample_queue, services(request).db, query=query)
    return JSONResponse({"items": items, "next": cursor})


async def post_sample_judgement(request: Request) -> JSONResponse:
    principal = await authenticate(request)
    require_moderator(principal)
    svc = services(request)
    body = await read_json(request, max_bytes=svc.settings.max_body_bytes)
    label, override = parse_sample_judgement(body)
    resource = await run_in_threadpool(
        judge_sample,
        svc.db,
        moderator=principal,
        comment_id=request.path_params["comment_id"],
        label=label,
        override=override,
    )
    return JSONResponse(resource)
