"""PATCH /v1/comments/{comment_id} (the author's edit) and GET .../revisions."""

from __future__ import annotations

from datetime import timedelta

import structlog
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from service.authors.sanctions import erase_key
from service.broker.contract import MODERATE_TASK, moderate_item
from service.comments.edit import MAX_EDITS, Edited, check_editable_by, edit_comment
from service.comments.resources import CommentResource
from service.comments.revision_resources import Revisions
from service.comments.revisions import read_revisions
from service.comments.routes import (
    IDEMPOTENCY_KEY_PATTERN,
    PREFER,
    answer,
    read_idempotency_key,
)
from service.comments.schemas import EditComment
from service.http.auth import Principal
from service.http.body import read_json
from service.http.openapi import BEARER, Operation, Parameter, Reply, documented, problems
from service.http.services import Services, authenticate, services

log = structlog.get_logger(__name__)


@documented(
    Operation(
        "editComment",
        "Edit a comment: its author, within the edit window; the new text is moderated again",
        {
            202: Reply("Accepted: the new revision is pending a decision", CommentResource),
            200: Reply(
                "Decided within the wait, or an idempotent replay (the comment as it is now)",
                CommentResource,
            ),
        },
        problems(
            401,
            413,
            415,
            503,
            s400="Malformed request (malformed_json, invalid_idempotency_key)",
            s403="The author is banned (author_banned) or suspended (author_suspended, with "
            "until; see Retry-After)",
            s404="No such comment, or not yours: moderators included (not_found)",
            s409="Conflict (idempotency_conflict; version_conflict: `revision` is not the "
            "current one; edit_window_closed: past MODERATION_EDIT_WINDOW_SECONDS after "
            "posting, or edits are off; not_editable: rejected, deleted, hidden or with open "
            f"reports; edit_limit_reached: already edited {MAX_EDITS} times)",
            s422="A field is invalid (text_too_long, text_empty, text_invalid_characters, "
            "invalid_revision, ...)",
            s429="Too many comments and edits from this author (rate_limited); see Retry-After",
        ),
        body=EditComment,
        parameters=[
            PREFER,
            Parameter(
                "Idempotency-Key", "header", {"type": "string", "pattern": IDEMPOTENCY_KEY_PATTERN}
            ),
        ],
        security=BEARER,
        description="The edit stores the text as the next revision (`revision` + 1, `version` "
        "+ 1), makes the comment `pending` and moderates it again as a new comment, counted "
        "toward the author's flood limit; `comment.edited` announces it. A held comment may be "
        "edited: its moderator's lease is dropped, and a decision sent for the old version is "
        "refused (409). An Idempotency-Key is the comment's: the same key with the same body "
        "replays (200, `Idempotent-Replayed: true`, the comment as it is now), with another "
        "body it is 409 idempotency_conflict. Faults answer in this order: 401, 404, "
        "413/415/400, 422, the idempotent replay (or its 409), 403, 409 (version_conflict, "
        "edit_window_closed, not_editable, edit_limit_reached), 429.",
    )
)
async def patch_comment(request: Request) -> JSONResponse:
    """Answers in the contract's order: 401 → 404 (not the author's, before the body is read)
    → 413/415/400 → 422 → idempotent replay (200, or 409 idempotency_conflict) → 403
    author_banned / author_suspended → 409 version_conflict / edit_window_closed / not_editable /
    edit_limit_reached → 429 rate_limited. The edit counts toward the author's flood limit
    as a new comment does."""
    svc = services(request)
    principal = await authenticate(request)
    comment_id: str = request.path_params["comment_id"]
    await run_in_threadpool(check_editable_by, svc.db, principal=principal, comment_id=comment_id)
    body = await read_json(request, max_bytes=svc.settings.max_body_bytes)
    key = read_idempotency_key(request)
    edit = EditComment.parse(body)
    edited = await run_in_threadpool(_edit, svc, principal, comment_id, edit, key)
    structlog.contextvars.bind_contextvars(comment_id=comment_id)
    if not edited.created:
        log.info("comment.edit_replayed", revision=edited.revision)
        return await answer(
            request,
            edited.resource,
            principal_read=principal,
            headers={"Idempotent-Replayed": "true"},
            status_when_pending=200,
        )
    # After commit, as for a new comment; if Redis is down the sweeper sends it, pending.
    await run_in_threadpool(
        svc.producer.send, MODERATE_TASK, moderate_item(comment_id, edited.revision)
    )
    await svc.deliver(edited.event_ids)
    log.info("comment.edited", revision=edited.revision, version=edited.resource["version"])
    return await answer(request, edited.resource, principal_read=principal)


@documented(
    Operation(
        "listCommentRevisions",
        "Read every revision of a comment's text, oldest first: its author and moderators only",
        {200: Reply("The revisions; a comment never edited has one", Revisions)},
        problems(401, 404, 503),
        security=BEARER,
    )
)
async def get_revisions(request: Request) -> JSONResponse:
    svc = services(request)
    principal = await authenticate(request)
    resource = await run_in_threadpool(
        read_revisions, svc.db, principal=principal, comment_id=request.path_params["comment_id"]
    )
    return JSONResponse(resource)


def _edit(
    svc: Services, principal: Principal, comment_id: str, edit: EditComment, key: str | None
) -> Edited:
    """In the thread pool: the policy in force (its flood limit) may be re-read from its file."""
    policy = svc.policies.current()

    def admit(author_id: str) -> int:
        return svc.flood.retry_after(
            author_id,
            window_seconds=policy.flood_window_seconds,
            hard_limit=policy.flood_hard_limit,
        )

    return edit_comment(
        svc.db,
        principal=principal,
        comment_id=comment_id,
        edit=edit,
        idempotency_key=key,
        window=timedelta(seconds=svc.settings.edit_window_seconds),
        events=svc.settings.announced_events,
        admit=admit,
        erase_key=erase_key(svc.settings),
    )
