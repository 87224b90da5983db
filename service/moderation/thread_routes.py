"""GET /v1/moderation/comments/{comment_id}/thread: moderators only."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from service.http.auth import require_moderator
from service.http.locale import ACCEPT_LANGUAGE, localised_response
from service.http.openapi import BEARER, Operation, Reply, documented, problems
from service.http.services import authenticate, services
from service.moderation.thread import read_thread
from service.moderation.thread_resources import MAX_ANCESTORS, Thread
from service.moderation.thread_schemas import ThreadParameters, parse_thread_query


@documented(
    Operation(
        "commentThread",
        f"A comment's ancestors (the nearest {MAX_ANCESTORS}) and its direct replies, paged",
        {200: Reply("The comment and its thread, each with the version a decision needs", Thread)},
        problems(
            401,
            403,
            503,
            s404="No such comment (not_found)",
            s422="A query parameter is invalid (invalid_limit, invalid_cursor)",
        ),
        query=ThreadParameters,
        parameters=[ACCEPT_LANGUAGE],
        security=BEARER,
    )
)
async def get_thread(request: Request) -> JSONResponse:
    require_moderator(await authenticate(request))
    query = parse_thread_query(request.path_params["comment_id"], request.query_params)
    thread = await run_in_threadpool(read_thread, services(request).db, query=query)
    return localised_response(request, thread.model_dump(mode="json"))
