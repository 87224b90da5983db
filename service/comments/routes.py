"""POST /v1/comments, and GET and DELETE /v1/comments/{id}."""

from __future__ import annotations

import re
from typing import Any

import structlog
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from service.comments.accept import read_comment
from service.comments.delete import delete_comment
from service.comments.resources import CommentResource
from service.comments.schemas import NewComment, parse_prefer_wait
from service.comments.waiting import wait_until_decided
from service.errors import ProblemError
from service.http.body import read_json
from service.http.locale import ACCEPT_LANGUAGE, localised_response
from service.http.metrics import COMMENTS_RECEIVED
from service.http.openapi import BEARER, Operation, Parameter, Reply, documented, problems
from service.http.services import authenticate, services
from service.moderation.thread_resources import CommentWithThread

log = structlog.get_logger(__name__)

MAX_WAIT_SECONDS = 10
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"
IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)
IDEMPOTENCY_KEY_SCHEMA = {"type": "string", "pattern": IDEMPOTENCY_KEY_PATTERN}
PREFER = Parameter(
    "Prefer",
    "header",
    {"type": "string"},
    f"`wait=N` (0-{MAX_WAIT_SECONDS}): answer once the comment is decided or N seconds pass.",
)


@documented(
    Operation(
        "createComment",
        "Submit a reader's comment for moderation",
        {
            202: Reply("Accepted and pending a decision", CommentResource),
            200: Reply("Decided within the wait, or an idempotent replay", CommentResource),
        },
        problems(
            401,
            413,
            415,
            503,
            s400="Malformed request (malformed_json, invalid_idempotency_key)",
            s403="Not allowed (forbidden, author_banned, or author_suspended with until; see "
            "Retry-After)",
            s409="Conflict (idempotency_conflict, article_closed)",
            s422="A field is invalid (text_too_long, text_empty, text_invalid_characters, ...)",
            s429="Too many comments from this author (rate_limited); see Retry-After",
        ),
        body=NewComment,
        parameters=[
            PREFER,
            Parameter(
                "Idempotency-Key", "header", {"type": "string", "pattern": IDEMPOTENCY_KEY_PATTERN}
            ),
            ACCEPT_LANGUAGE,
        ],
        security=BEARER,
    )
)
async def post_comment(request: Request) -> JSONResponse:
    """Every answer is counted: the exception handlers in `service.app` turn the database
    errors into 503 `unavailable` and anything else into 500 `internal_error`."""
    try:
        response = await _post_comment(request)
    except ProblemError as exc:
        COMMENTS_RECEIVED.labels(result=exc.code).inc()
        raise
    except (OperationalError, InterfaceError):
        COMMENTS_RECEIVED.labels(result="unavailable").inc()
        raise
    except Exception:
        COMMENTS_RECEIVED.labels(result="internal_error").inc()
        raise
    replayed = "idempotent-replayed" in response.headers
    COMMENTS_RECEIVED.labels(result="replayed" if replayed else "accepted").inc()
    return response


async def _post_comment(request: Request) -> JSONResponse:
    svc = services(request)
    principal = await authenticate(request)
    body = await read_json(request, max_bytes=svc.settings.max_body_bytes)
    key = read_idempotency_key(request)
    new = NewComment.parse(body)
    accepted = await svc.intake.accept(principal, new, key)
    comment_id = accepted.resource["id"]
    # Here, not in the batch's thread: the line carries this request's id.
    structlog.contextvars.bind_contextvars(comment_id=comment_id)
    if accepted.created:
        log.info("comment.accepted", article_id=new.article_id)
    else:
        log.info("comment.replayed")
    headers = {"Idempotent-Replayed": "true"} if not accepted.created else {}
    return await answer(request, accepted.resource, principal_read=principal, headers=headers)


@documented(
    Operation(
        "getComment",
        "Read a comment: its author and moderators only",
        {
            200: Reply(
                "The comment; a moderator reads it with its parent and replies_count",
                CommentResource,
                alternatives=(CommentWithThread,),
            )
        },
        problems(401, 404, 503),
        parameters=[PREFER, ACCEPT_LANGUAGE],
        security=BEARER,
    )
)
async def get_comment(request: Request) -> JSONResponse:
    svc = services(request)
    principal = await authenticate(request)
    resource = await run_in_threadpool(
        read_comment, svc.db, principal=principal, comment_id=request.path_params["comment_id"]
    )
    return await answer(request, resource, principal_read=principal, status_when_pending=200)


@documented(
    Operation(
        "deleteComment",
        "Delete a comment: its author only, banned or not",
        {
            204: Reply(
                "Deleted (or already deleted): the text of every revision is erased, open "
                "reports closed, and comment.deleted announced",
                media=None,
            )
        },
        problems(401, 404, 503),
        security=BEARER,
    )
)
async def delete_comment_route(request: Request) -> Response:
    svc = services(request)
    principal = await authenticate(request)
    event_ids = await run_in_threadpool(
        delete_comment,
        svc.db,
        principal=principal,
        comment_id=request.path_params["comment_id"],
        events=svc.settings.announced_events,
    )
    await svc.deliver(event_ids)
    return Response(status_code=204)


async def answer(
    request: Request,
    resource: dict[str, Any],
    *,
    principal_read: Any,
    headers: dict[str, str] | None = None,
    status_when_pending: int = 202,
) -> JSONResponse:
    svc = services(request)
    headers = dict(headers or {})
    headers["Location"] = f"/v1/comments/{resource['id']}"
    wait = parse_prefer_wait(request.headers.get("prefer"), maximum=MAX_WAIT_SECONDS)
    if wait is not None:
        headers["Preference-Applied"] = f"wait={wait}"
        if resource["status"] == "pending" and wait > 0:
            await wait_until_decided(svc, resource["id"], wait)
            resource = await run_in_threadpool(
                read_comment, svc.db, principal=principal_read, comment_id=resource["id"]
            )
    status = status_when_pending if resource["status"] == "pending" else 200
    return localised_response(request, resource, status_code=status, headers=headers)


def read_idempotency_key(request: Request) -> str | None:
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    if not IDEMPOTENCY_KEY.fullmatch(key):
        raise ProblemError(
            400,
            "invalid_idempotency_key",
            "Idempotency-Key must be 1-255 printable ASCII characters.",
        )
    return key
