"""GET /docs: the HTTP contract for integrators, /openapi.json rendered by Swagger UI vendored
under service/static/docs/ (its licence beside it; no CDN). Public like /moderate: the page
holds no data.

This response alone sets its own Content-Security-Policy (SecurityHeadersMiddleware only fills
in a header a route has not set): today's policy, plus a fresh nonce in `style-src` for the
page's stylesheets and `data:` in `img-src` for the icons Swagger UI's stylesheet embeds.
Scripts stay 'self' only; no 'unsafe-inline', no 'unsafe-eval'."""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from service.http.headers import CONTENT_SECURITY_POLICY
from service.http.openapi import Operation, Reply, documented
from service.http.pages import render_page

RENDERER_VERSION = "5.36.0"  # swagger-ui-dist; see service/static/docs/README.md


def content_security_policy(nonce: str) -> str:
    """Today's policy with two additions, directive by directive, so it follows that policy."""
    directives: dict[str, str] = {}
    for part in CONTENT_SECURITY_POLICY.split(";"):
        name, _, sources = part.strip().partition(" ")
        directives[name] = sources
    directives["style-src"] += f" 'nonce-{nonce}'"
    directives["img-src"] += " data:"
    return "; ".join(f"{name} {sources}" for name, sources in directives.items())


@documented(Operation("openapi", "This document", {200: Reply("OpenAPI 3.1", media=None)}))
async def openapi(request: Request) -> JSONResponse:
    """The document `create_app` generated once from the route table and the models."""
    return JSONResponse(request.app.state.openapi)


@documented(
    Operation(
        "integratorDocs",
        "This document as a page for integrators (Swagger UI, served from here)",
        {200: Reply("HTML", media="text/html")},
    )
)
async def docs(request: Request) -> Response:
    root = request.scope.get("root_path", "").rstrip("/")
    nonce = secrets.token_urlsafe(16)
    return render_page(
        request,
        "docs.html",
        {
            "nonce": nonce,
            "spec_url": f"{root}/openapi.json",
            "renderer_version": RENDERER_VERSION,
        },
        # no-store: a page carrying a nonce is never served twice, from any cache
        headers={
            "Cache-Control": "no-store",
            "Content-Security-Policy": content_security_policy(nonce),
        },
    )
