"""GET /v1/moderation/authors/{author_id} (the author record) and POST/GET …/notes:
moderators only. An author id is 1-255 printable characters (else 422 invalid_author_id); an
author nobody has seen is answered like any other, never 404."""

from __future__ import annotations

from datetime import datetime

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from service.authors.notes import read_notes, write_note
from service.authors.paths import path_author_id
from service.authors.resources import AuthorView, NoteList, NoteResource
from service.authors.schemas import (
    COMMENTS_PAGE,
    AuthorRecordParameters,
    NewNote,
    parse_record_query,
)
from service.authors.view import read_author_record
from service.http.body import read_json
from service.http.locale import ACCEPT_LANGUAGE, localised_response, request_locale
from service.http.openapi import BEARER, Operation, Reply, documented, problems
from service.http.services import Services, authenticate_moderator

INVALID_ID = "The author id is not 1-255 printable characters (invalid_author_id)"


@documented(
    Operation(
        "getAuthorRecord",
        f"One view of a reader: comments counted by status, trust, sanctions, notes, reports "
        f"made, and their comments of every status, newest first, {COMMENTS_PAGE} a page",
        {200: Reply("The author's record (empty for an author never seen)", AuthorView)},
        problems(
            401,
            403,
            503,
            s422=f"{INVALID_ID}, or the cursor is not one this API gave out for this author "
            "(invalid_cursor)",
        ),
        query=AuthorRecordParameters,
        parameters=[ACCEPT_LANGUAGE],
        security=BEARER,
    )
)
async def get_author(request: Request) -> JSONResponse:
    svc, _principal = await authenticate_moderator(request)
    author_id = path_author_id(request)
    before = parse_record_query(author_id, request.query_params)
    locale = request_locale(request)
    record = await run_in_threadpool(_record, svc, author_id, before, locale)
    return localised_response(request, record.model_dump(mode="json"))


@documented(
    Operation(
        "addAuthorNote",
        "Add a moderator's note on an author (append-only: notes are never changed or deleted)",
        {201: Reply("The note", NoteResource)},
        problems(
            400,
            401,
            403,
            413,
            415,
            503,
            s422=f"{INVALID_ID}, or the text is invalid (text_empty, text_too_long, "
            "text_invalid_characters, unknown_field, ...)",
        ),
        body=NewNote,
        security=BEARER,
    )
)
async def post_note(request: Request) -> JSONResponse:
    svc, moderator = await authenticate_moderator(request)
    author_id = path_author_id(request)
    body = await read_json(request, max_bytes=svc.settings.max_body_bytes)
    note = NewNote.parse(body)
    resource = await run_in_threadpool(
        write_note, svc.db, moderator_id=moderator.sub, author_id=author_id, note=note
    )
    return JSONResponse(resource.model_dump(mode="json"), status_code=201)


@documented(
    Operation(
        "listAuthorNotes",
        "Moderators' notes on an author, newest first",
        {200: Reply("The notes (none for an author never noted)", NoteList)},
        problems(401, 403, 503, s422=INVALID_ID),
        security=BEARER,
    )
)
async def get_notes(request: Request) -> JSONResponse:
    svc, _principal = await authenticate_moderator(request)
    author_id = path_author_id(request)
    notes = await run_in_threadpool(read_notes, svc.db, author_id=author_id)
    return JSONResponse(notes.model_dump(mode="json"))


def _record(
    svc: Services, author_id: str, before: tuple[datetime, str] | None, locale: str
) -> AuthorView:
    """In the thread pool: the policy in force may be re-read from its file."""
    return read_author_record(
        svc.db,
        author_id=author_id,
        before=before,
        author_settings=svc.policies.current().author,
        settings=svc.settings,
        locale=locale,
    )
