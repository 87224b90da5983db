"""Article and author settings: GET and PUT /v1/articles/{id}/settings and
/v1/authors/{id}/settings (moderators write; anyone signed in reads an article's)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from service.flags import domain
from service.http.body import read_json
from service.http.services import authenticate, services


async def get_article_flags(request: Request) -> JSONResponse:
    await authenticate(request)
    resource = await run_in_threadpool(
        domain.read_article,
        services(request).db,
        article_id=request.path_params["article_id"],
    )
    return JSONResponse(resource)


async def put_article_flags(request: Request) -> JSONResponse:
    svc = services(request)
    principal = await authenticate(request)
    body = await read_json(request, max_bytes=svc.settings.max_body_bytes)
    flags = domain.parse_flags(body, domain.ARTICLE_FLAGS)
    resource = await run_in_threadpool(
        domain.write_article,
        svc.db,
        principal=principal,
        article_id=request.path_params["article_id"],
        flags=flags,
    )
    return JSONResponse(resource)


async def get_author_flags(request: Request) -> JSONResponse:
    principal = await authenticate(request)
    resource = await run_in_threadpool(
        domain.read_author,
        services(request).db,
        principal=principal,
        author_id=request.path_params["author_id"],
    )
    return JSONResponse(resource)


async def put_author_flags(request: Request) -> JSONResponse:
    svc = services(request)
    principal = await authenticate(request)
    body = await read_json(request, max_bytes=svc.settings.max_body_bytes)
    flags = domain.parse_flags(body, domain.AUTHOR_FLAGS)
    resource = await run_in_threadpool(
        domain.write_author,
        svc.db,
        principal=principal,
        author_id=request.path_params["author_id"],
        flags=flags,
    )
    return JSONResponse(resource)
