"""GET /moderate: the moderators' page. It holds no data, so it needs no token; everything it
shows comes from the API, fetched by its script with the moderator's Bearer token."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from service.http.openapi import Operation, Reply, documented

PACKAGE = Path(__file__).resolve().parent.parent
STATIC_DIR = PACKAGE / "static"
STATIC_PATH = "/static"
TEMPLATES = Jinja2Templates(directory=PACKAGE / "templates")


def static_files() -> StaticFiles:
    return StaticFiles(directory=STATIC_DIR)


@documented(
    Operation(
        "moderatorPage",
        "The moderators' web page (holds no data; sign in there with a token)",
        {200: Reply("HTML", media="text/html")},
    )
)
async def moderate(request: Request) -> Response:
    root = request.scope.get("root_path", "").rstrip("/")

    def asset(name: str) -> str:
        return f"{root}{STATIC_PATH}/{name}?v={_fingerprint(name)}"

    return TEMPLATES.TemplateResponse(
        request,
        "moderate.html",
        {"asset": asset, "api_base": root},
        headers={"Cache-Control": "no-cache"},
    )


@cache
def _fingerprint(name: str) -> str:
    """A digest of the asset, so a new release is never served from a stale browser cache."""
    return hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:12]
