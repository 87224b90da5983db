"""The audit sample's queue (GET /v1/moderation/queue?queue=sample) and its labels."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from service.http.auth import require_moderator
from service.http.body import read_json
from service.http.locale import localised_response
from service.http.openapi import BEARER, Operation, Reply, documented, problems
from service.http.services import authenticate, services
from service.tuning.resources import SampleLabelled
from service.tuning.sampling import judge_sample, read_sample_queue
from service.tuning.schemas import SampleLabel, parse_sample_query

# How the tuning routes' 422 reads in the contract (insights_routes.py says the same).
INVALID = (
    "A field or query parameter is invalid (invalid_label, invalid_since, "
    "invalid_target_precision, ...)"
)


async def get_sample_queue(request: Request) -> JSONResponse:
    """GET /v1/moderation/queue?queue=sample, for the queue route (service/moderation/routes.py,
    which documents it): a SampleQueuePage."""
    principal = await authenticate(request)
    require_moderator(principal)
    query = parse_sample_query(request.query_params)
    page = await run_in_threadpool(read_sample_queue, services(request).db, query=query)
    return localised_response(request, page.model_dump(mode="json"))


@documented(
    Operation(
        "labelSampledComment",
        "Mark a comment from the audit sample fine or not fine (it stays published; reject it "
        "through the decision route to take it down)",
        {200: Reply("The label is recorded", SampleLabelled)},
        problems(
            400,
            401,
            403,
            413,
            415,
            503,
            s404="The comment is not in the audit sample (not_found)",
            s409="Already labelled (already_labelled); send override: true to change the label",
            s422=INVALID,
        ),
        body=SampleLabel,
        security=BEARER,
    )
)
async def post_sample_judgement(request: Request) -> JSONResponse:
    principal = await authenticate(request)
    require_moderator(principal)
    svc = services(request)
    body = await read_json(request, max_bytes=svc.settings.max_body_bytes)
    label = SampleLabel.parse(body)
    resource = await run_in_threadpool(
        judge_sample,
        svc.db,
        moderator=principal,
        comment_id=request.path_params["comment_id"],
        label=label.label,
        override=label.override,
    )
    return JSONResponse(resource.model_dump(mode="json"))
