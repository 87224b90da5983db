"""/v1/moderation/* and /v1/comments/{id}/history: moderators only."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from service.broker.contract import DELIVER_WEBHOOK_TASK
from service.errors import ProblemError
from service.http.auth import Principal, require_moderator
from service.http.body import read_json
from service.http.services import Services, authenticate, services
from service.moderation.records import comment_history, moderation_stats
from service.moderation.review import (
    ban_author,
    read_queue,
    review_comment,
    review_comments,
    unban_author,
)
from service.moderation.schemas import (
    parse_ban,
    parse_bulk_reviews,
    parse_queue_query,
    parse_review,
    valid_author_id,
)
from service.tuning import sample_routes as samples


async def get_queue(request: Request) -> JSONResponse:
    if samples.wants_other_queue(request):
        return await samples.get_sample_queue(request)
    svc, moderator = await _moderator(request)
    query = parse_queue_query(request.query_params)
    page = await run_in_threadpool(read_queue, svc.db, moderator=moderator, query=query)
    return JSONResponse({"items": page.items, "next": page.next})


async def post_decision(request: Request) -> JSONResponse:
    svc, moderator = await _moderator(request)
    body = await read_json(request, max_bytes=svc.settings.max_body_bytes)
    review = parse_review(body, comment_id=request.path_params["comment_id"])
    reviewed = await run_in_threadpool(
        review_comment, svc.db, moderator=moderator, review=review, webhooks=_webhooks(svc)
    )
    await _deliver(svc, reviewed.webhook_event_ids)
    return JSONResponse(reviewed.resource)


async def post_decisions(request: Request) -> JSONResponse:
    svc, moderator = await _moderator(request)
    body = await read_json(request, max_bytes=svc.settings.max_body_bytes)
    items = parse_bulk_reviews(body)
    outcome = await run_in_threadpool(
        review_comments, svc.db, moderator=moderator, items=items, webhooks=_webhooks(svc)
    )
    await _deliver(svc, outcome.webhook_event_ids)
    return JSONResponse({"results": outcome.results})


async def post_ban(request: Request) -> JSONResponse:
    svc, moderator = await _moderator(request)
    author_id = _author_id(request)
    body = await read_json(request, max_bytes=svc.settings.max_body_bytes)
    ban = parse_ban(body)
    banned = await run_in_threadpool(
        ban_author,
        svc.db,
        moderator=moderator,
        author_id=author_id,
        ban=ban,
        webhooks=_webhooks(svc),
    )
    await _deliver(svc, banned.webhook_event_ids)
    return JSONResponse(banned.resource)


async def delete_ban(request: Request) -> Response:
    svc, moderator = await _moderator(request)
    author_id = _author_id(request)
    await run_in_threadpool(unban_author, svc.db, moderator=moderator, author_id=author_id)
    return Response(status_code=204)


async def get_history(request: Request) -> JSONResponse:
    svc, _moderator_principal = await _moderator(request)
    items = await run_in_threadpool(
        comment_history, svc.db, comment_id=request.path_params["comment_id"]
    )
    return JSONResponse({"items": items})


async def get_stats(request: Request) -> JSONResponse:
    svc, _moderator_principal = await _moderator(request)
    return JSONResponse(await run_in_threadpool(moderation_stats, svc.db))


async def _moderator(request: Request) -> tuple[Services, Principal]:
    principal = await authenticate(request)
    require_moderator(principal)
    return services(request), principal


def _author_id(request: Request) -> str:
    author_id: str = request.path_params["author_id"]
    if not valid_author_id(author_id):
        raise ProblemError(404, "not_found", "No such author.")
    return author_id


def _webhooks(svc: Services) -> bool:
    return svc.settings.webhook_url is not None


async def _deliver(svc: Services, event_ids: list[str]) -> None:
    for event_id in event_ids:
        await run_in_threadpool(svc.producer.send, DELIVER_WEBHOOK_TASK, event_id)
