"""/v1/moderation/* and /v1/comments/{id}/history: moderators only."""

from __future__ import annotations

from typing import get_args

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from service.authors.sanctions import erase_key
from service.comments.resources import CommentResource
from service.errors import ProblemError
from service.http.body import read_json
from service.http.locale import ACCEPT_LANGUAGE, localised_response
from service.http.openapi import BEARER, Operation, Parameter, Reply, documented, problems
from service.http.services import authenticate_moderator
from service.moderation.records import comment_history, moderation_stats
from service.moderation.resources import (
    BanResult,
    BulkResults,
    History,
    ModerationStats,
    QueuePage,
)
from service.moderation.review import (
    ban_author,
    read_queue,
    review_comment,
    review_comments,
    unban_author,
)
from service.moderation.schemas import (
    CLAIM_SECONDS,
    MAX_BULK_ITEMS,
    QUEUE_KINDS,
    Ban,
    BulkDecisions,
    ModeratorDecision,
    QueueParameters,
    parse_queue_query,
    valid_author_id,
)
from service.tuning import sample_routes as samples
from service.tuning.resources import SampleQueuePage
from service.tuning.schemas import SampleQueueQuery

NOT_FOUND = "No such comment or author (not_found)"
REFUSED = (
    "Refused: already_decided (stale version or already reviewed), claimed (another "
    "moderator holds the lease), not_held (the policy has not decided it yet) or "
    "no_open_reports (keep on a comment no open report is about)"
)
INVALID = "A field or query parameter is invalid (invalid_limit, invalid_cursor, ...)"
DECISION_INVALID = (
    "A field is invalid (invalid_action, invalid_reason_code, explanation_too_long, ...), "
    "legal_ground_required (reason_code illegal without legal_ground), unknown_field "
    "(legal_ground without reason_code illegal) or reason_code_required (a reject without "
    "reason_code when MODERATION_REQUIRE_REASON_CODE is on)"
)
# `?queue=` picks the queue: the hold queue here, the audit sample the tuning feature's.
QUEUE = SampleQueueQuery.model_fields["queue"]
QUEUE_PARAMETER = Parameter(
    "queue",
    "query",
    {"enum": list(get_args(QUEUE.annotation)), "default": QUEUE.default},
    QUEUE.description,
)


@documented(
    Operation(
        "listHoldQueue",
        f"Held comments, oldest first by default (?queue=reported: reported comments, by when "
        f"they were reported, each with its open reports); ?claim=N leases N for "
        f"{CLAIM_SECONDS // 60} minutes",
        {
            200: Reply(
                "A page of held or reported comments, or of the audit sample",
                QueuePage,
                alternatives=(SampleQueuePage,),
            )
        },
        problems(401, 403, 503, s422=INVALID),
        query=QueueParameters,
        parameters=[QUEUE_PARAMETER, ACCEPT_LANGUAGE],
        security=BEARER,
    )
)
async def get_queue(request: Request) -> JSONResponse:
    if request.query_params.get("queue", "held") not in QUEUE_KINDS:
        return await samples.get_sample_queue(request)
    svc, moderator = await authenticate_moderator(request)
    query = parse_queue_query(request.query_params)
    page = await run_in_threadpool(read_queue, svc.db, moderator=moderator, query=query)
    return localised_response(request, page.model_dump(mode="json"))


@documented(
    Operation(
        "decideComment",
        "Approve or reject a held comment, keep or reject a reported one (or, with override, "
        "reverse a decision); keep and reject close the comment's open reports",
        {200: Reply("The comment as decided: status, review, version + 1", CommentResource)},
        problems(400, 401, 403, 413, 415, 503, s404=NOT_FOUND, s409=REFUSED, s422=DECISION_INVALID),
        body=ModeratorDecision,
        parameters=[ACCEPT_LANGUAGE],
        security=BEARER,
    )
)
async def post_decision(request: Request) -> JSONResponse:
    svc, moderator = await authenticate_moderator(request)
    body = await read_json(request, max_bytes=svc.settings.max_body_bytes)
    review = ModeratorDecision.parse(body).review(
        request.path_params["comment_id"], require_reason_code=svc.settings.require_reason_code
    )
    reviewed = await run_in_threadpool(
        review_comment,
        svc.db,
        moderator=moderator,
        review=review,
        events=svc.settings.announced_events,
    )
    await svc.deliver(reviewed.webhook_event_ids)
    return localised_response(request, reviewed.resource)


@documented(
    Operation(
        "decideComments",
        f"Up to {MAX_BULK_ITEMS} decisions, each applied or refused on its own (an item is "
        "refused with the code the single decision route would answer: already_decided, "
        "claimed, not_held, no_open_reports, reason_code_required, legal_ground_required, ...)",
        # 200 even when some (or all) items are refused: each result says its own status.
        {200: Reply("One result per item, in order", BulkResults)},
        problems(400, 401, 403, 413, 415, 503, s422=INVALID),
        body=BulkDecisions,
        security=BEARER,
    )
)
async def post_decisions(request: Request) -> JSONResponse:
    svc, moderator = await authenticate_moderator(request)
    body = await read_json(request, max_bytes=svc.settings.max_body_bytes)
    items = BulkDecisions.parse(body).decisions(
        require_reason_code=svc.settings.require_reason_code
    )
    outcome = await run_in_threadpool(
        review_comments,
        svc.db,
        moderator=moderator,
        items=items,
        events=svc.settings.announced_events,
    )
    await svc.deliver(outcome.webhook_event_ids)
    # An applied item has no code or detail, a refused one no comment_status or version.
    return JSONResponse(outcome.results.model_dump(mode="json", exclude_unset=True))


@documented(
    Operation(
        "banAuthor",
        "Refuse the author's new comments (403 author_banned), and optionally reject their "
        "held ones: a ban sanction, audited and announced (author.banned); a ban already in "
        "force is replaced by this one",
        {200: Reply("The author is banned", BanResult)},
        problems(400, 401, 403, 413, 415, 503, s404=NOT_FOUND, s422=INVALID),
        body=Ban,
        security=BEARER,
    )
)
async def post_ban(request: Request) -> JSONResponse:
    svc, moderator = await authenticate_moderator(request)
    author_id = _author_id(request)
    body = await read_json(request, max_bytes=svc.settings.max_body_bytes)
    ban = Ban.parse(body)
    banned = await run_in_threadpool(
        ban_author,
        svc.db,
        moderator=moderator,
        author_id=author_id,
        ban=ban,
        events=svc.settings.announced_events,
        key=erase_key(svc.settings),
    )
    await svc.deliver(banned.webhook_event_ids)
    return JSONResponse(banned.result.model_dump(mode="json"))


@documented(
    Operation(
        "unbanAuthor",
        "Lift the author's ban (no change if there is none): audited and announced "
        "(author.sanction_lifted)",
        {204: Reply("The author may post again", media=None)},
        problems(401, 403, 503, s404=NOT_FOUND),
        security=BEARER,
    )
)
async def delete_ban(request: Request) -> Response:
    svc, moderator = await authenticate_moderator(request)
    author_id = _author_id(request)
    lifted = await run_in_threadpool(
        unban_author,
        svc.db,
        moderator=moderator,
        author_id=author_id,
        events=svc.settings.announced_events,
    )
    await svc.deliver(lifted or [])
    return Response(status_code=204)


@documented(
    Operation(
        "commentHistory",
        "Every automated and human decision on a comment, oldest first",
        {200: Reply("The decisions", History)},
        problems(401, 403, 503, s404=NOT_FOUND),
        parameters=[ACCEPT_LANGUAGE],
        security=BEARER,
    )
)
async def get_history(request: Request) -> JSONResponse:
    svc, _moderator_principal = await authenticate_moderator(request)
    history = await run_in_threadpool(
        comment_history, svc.db, comment_id=request.path_params["comment_id"]
    )
    # A policy decision has its reasons, a moderator's its override: not both.
    return localised_response(request, history.model_dump(mode="json", exclude_unset=True))


@documented(
    Operation(
        "moderationStats",
        "Queue size and age, recent decisions, holds by reason",
        {200: Reply("The numbers, as of now", ModerationStats)},
        problems(401, 403, 503),
        security=BEARER,
    )
)
async def get_stats(request: Request) -> JSONResponse:
    svc, _moderator_principal = await authenticate_moderator(request)
    stats = await run_in_threadpool(moderation_stats, svc.db)
    return JSONResponse(stats.model_dump(mode="json"))


def _author_id(request: Request) -> str:
    author_id: str = request.path_params["author_id"]
    if not valid_author_id(author_id):
        raise ProblemError(404, "not_found", "No such author.")
    return author_id
