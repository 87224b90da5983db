"""POST /v1/moderation/authors/{author_id}/sanctions and DELETE …/sanctions/{sanction_id}:
moderators only."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from service.authors.paths import path_author_id
from service.authors.sanction_schemas import NewSanction, SanctionResource
from service.authors.sanctions import erase_key, lift_author_sanction, sanction_author
from service.db.tables import utcnow
from service.http.body import read_json
from service.http.openapi import BEARER, Operation, Reply, documented, problems
from service.http.services import authenticate_moderator

INVALID = (
    "A field is invalid (invalid_kind, invalid_reason_code, explanation_too_long, "
    "invalid_until, unknown_field, ...), until_required (a suspension without until), "
    "until_not_allowed (until on a warning or ban), until_in_past or until_too_far (over 365 "
    "days ahead); invalid_author_id"
)


@documented(
    Operation(
        "sanctionAuthor",
        "Warn, suspend (until a moment) or ban an author: audited and announced "
        "(author.warned, author.suspended, author.banned); a suspension refuses their new "
        "comments, reports and edits with 403 author_suspended until it lapses, a ban with 403 "
        "author_banned until lifted",
        {201: Reply("The sanction as imposed", SanctionResource)},
        problems(400, 401, 403, 413, 415, 503, s422=INVALID),
        body=NewSanction,
        security=BEARER,
    )
)
async def post_sanction(request: Request) -> JSONResponse:
    svc, moderator = await authenticate_moderator(request)
    author_id = path_author_id(request)
    body = await read_json(request, max_bytes=svc.settings.max_body_bytes)
    now = utcnow()
    wanted = NewSanction.parse(body).checked(now)
    sanctioned = await run_in_threadpool(
        sanction_author,
        svc.db,
        moderator=moderator,
        author_id=author_id,
        request=wanted,
        events=svc.settings.announced_events,
        key=erase_key(svc.settings),
        now=now,
    )
    await svc.deliver(sanctioned.event_ids)
    return JSONResponse(sanctioned.resource, status_code=201)


@documented(
    Operation(
        "liftAuthorSanction",
        "Lift a suspension or ban early: audited and announced (author.sanction_lifted)",
        {200: Reply("The sanction, lifted", SanctionResource)},
        problems(
            401,
            403,
            503,
            s404="The author has no such sanction (not_found)",
            s409="Not in force: a warning, a lapsed suspension or one lifted already "
            "(not_in_force)",
            s422="invalid_author_id",
        ),
        security=BEARER,
    )
)
async def delete_sanction(request: Request) -> JSONResponse:
    svc, moderator = await authenticate_moderator(request)
    author_id = path_author_id(request)
    lifted = await run_in_threadpool(
        lift_author_sanction,
        svc.db,
        moderator=moderator,
        author_id=author_id,
        sanction_id=request.path_params["sanction_id"],
        events=svc.settings.announced_events,
        key=erase_key(svc.settings),
    )
    await svc.deliver(lifted.event_ids)
    return JSONResponse(lifted.resource)
