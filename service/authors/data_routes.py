"""An author's data: GET /v1/moderation/authors/{author_id}/export and POST .../erase.
Moderators only."""

from __future__ import annotations

import re

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse

from service.authors.data_schemas import (
    AlreadyErased,
    AuthorExport,
    EraseRequest,
    ErasureResult,
)
from service.authors.erase import erase_author, forget_in_redis
from service.authors.erase_key import ERASE_KEY_ENV, require_erase_key
from service.authors.export import audit_export, export_chunks
from service.authors.paths import path_author_id
from service.db.tables import utcnow
from service.errors import FieldError
from service.http.body import read_json
from service.http.openapi import BEARER, Operation, Reply, documented, problems
from service.http.services import authenticate_moderator

INVALID_AUTHOR_ID = "invalid_author_id: the id is not 1-255 printable characters"
ERASE_INVALID = (
    f"{INVALID_AUTHOR_ID}; confirm_mismatch (confirm is not the author's id), required, "
    "invalid_type or unknown_field"
)
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


@documented(
    Operation(
        "exportAuthorData",
        "Everything stored about an author, as one JSON document streamed as a download: "
        "comments with every revision's text and their decisions, the reports they made, "
        "sanctions, notes (text only); no other reader's or moderator's identity. Audited.",
        {200: Reply("The document (Content-Disposition: attachment)", AuthorExport)},
        problems(401, 403, 503, s422=INVALID_AUTHOR_ID),
        security=BEARER,
    )
)
async def get_export(request: Request) -> StreamingResponse:
    svc, principal = await authenticate_moderator(request)
    author_id = path_author_id(request)
    now = utcnow()
    await run_in_threadpool(audit_export, svc.db, moderator=principal, author_id=author_id, now=now)
    filename = "author-" + (_UNSAFE_FILENAME.sub("_", author_id)[:100] or "_") + ".json"
    return StreamingResponse(
        export_chunks(svc.db, author_id=author_id, now=now),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


@documented(
    Operation(
        "eraseAuthor",
        'Erase an author, irreversibly: {"confirm": "<author_id>"}. Every text they wrote '
        "goes (comments, revisions, reports), their id is replaced by a random pseudonym "
        "wherever it is stored, stored webhook payloads are scrubbed; decisions, labels and "
        "the audit stay, and sanctions in force keep refusing the old id. Audited; webhook "
        "author.erased.",
        {
            200: Reply(
                'Erased, or {"already_erased": true} for an id erased before',
                ErasureResult,
                alternatives=(AlreadyErased,),
            )
        },
        problems(
            400,
            401,
            403,
            413,
            415,
            s422=ERASE_INVALID,
            s503=f"erase_key_missing ({ERASE_KEY_ENV} is not set), or the database is not "
            "answering (unavailable)",
        ),
        body=EraseRequest,
        security=BEARER,
    )
)
async def post_erase(request: Request) -> JSONResponse:
    svc, principal = await authenticate_moderator(request)
    author_id = path_author_id(request)
    body = EraseRequest.parse(await read_json(request, max_bytes=svc.settings.max_body_bytes))
    if body.confirm != author_id:
        detail = "confirm must be the author's id, exactly as in the URL."
        raise FieldError([{"field": "confirm", "code": "confirm_mismatch", "detail": detail}])
    key = require_erase_key(svc.settings)
    erased = await run_in_threadpool(
        erase_author,
        svc.db,
        moderator=principal,
        author_id=author_id,
        key=key,
        events=svc.settings.announced_events,
    )
    if erased.pseudonym is None:
        return JSONResponse({"already_erased": True})
    await run_in_threadpool(forget_in_redis, svc.redis, author_id=author_id)
    await svc.deliver(erased.webhook_event_ids)
    return JSONResponse(
        {
            "erased": True,
            "already_erased": erased.again,
            "pseudonym": erased.pseudonym,
            "counts": erased.counts,
        }
    )
