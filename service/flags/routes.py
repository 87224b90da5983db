"""Article and author settings: GET and PUT /v1/articles/{id}/settings and
/v1/authors/{id}/settings (moderators write; anyone signed in reads an article's)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from service.flags import domain
from service.flags.resources import ArticleFlagsResource, AuthorFlagsResource
from service.flags.schemas import NewArticleFlags, NewAuthorFlags
from service.http.body import read_json
from service.http.openapi import BEARER, Operation, Reply, documented, problems
from service.http.services import authenticate, services

# These routes' problems read as the comment route's do (the 0.1.0 document shares them).
NOT_ALLOWED = "Not allowed (forbidden, author_banned)"
INVALID = "A field is invalid (text_too_long, text_empty, text_invalid_characters, ...)"
WRITE_PROBLEMS = problems(
    401,
    413,
    415,
    503,
    s400="Malformed request (malformed_json, invalid_idempotency_key)",
    s403=NOT_ALLOWED,
    s422=INVALID,
)


@documented(
    Operation(
        "getArticleSettings",
        "Read an article's moderation settings",
        {200: Reply("The article's settings", ArticleFlagsResource)},
        problems(401, 503, s422=INVALID),
        security=BEARER,
    )
)
async def get_article_flags(request: Request) -> JSONResponse:
    await authenticate(request)
    resource = await run_in_threadpool(
        domain.read_article,
        services(request).db,
        article_id=request.path_params["article_id"],
    )
    return JSONResponse(resource.model_dump(mode="json"))


@documented(
    Operation(
        "putArticleSettings",
        "Set an article's moderation settings (moderators)",
        {200: Reply("The article's settings", ArticleFlagsResource)},
        WRITE_PROBLEMS,
        body=NewArticleFlags,
        security=BEARER,
    )
)
async def put_article_flags(request: Request) -> JSONResponse:
    svc = services(request)
    principal = await authenticate(request)
    body = await read_json(request, max_bytes=svc.settings.max_body_bytes)
    flags = NewArticleFlags.parse(body)
    resource = await run_in_threadpool(
        domain.write_article,
        svc.db,
        principal=principal,
        article_id=request.path_params["article_id"],
        flags=flags,
    )
    return JSONResponse(resource.model_dump(mode="json"))


@documented(
    Operation(
        "getAuthorSettings",
        "Read an author's moderation settings",
        {200: Reply("The author's settings", AuthorFlagsResource)},
        problems(401, 503, s403=NOT_ALLOWED, s422=INVALID),
        security=BEARER,
    )
)
async def get_author_flags(request: Request) -> JSONResponse:
    principal = await authenticate(request)
    resource = await run_in_threadpool(
        domain.read_author,
        services(request).db,
        principal=principal,
        author_id=request.path_params["author_id"],
    )
    return JSONResponse(resource.model_dump(mode="json"))


@documented(
    Operation(
        "putAuthorSettings",
        "Set an author's moderation settings (moderators)",
        {200: Reply("The author's settings", AuthorFlagsResource)},
        WRITE_PROBLEMS,
        body=NewAuthorFlags,
        security=BEARER,
    )
)
async def put_author_flags(request: Request) -> JSONResponse:
    svc = services(request)
    principal = await authenticate(request)
    body = await read_json(request, max_bytes=svc.settings.max_body_bytes)
    flags = NewAuthorFlags.parse(body)
    resource = await run_in_threadpool(
        domain.write_author,
        svc.db,
        principal=principal,
        author_id=request.path_params["author_id"],
        flags=flags,
    )
    return JSONResponse(resource.model_dump(mode="json"))
