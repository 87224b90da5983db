"""The pages the app serves (/moderate, /moderate/insights, /docs): templates rendered with
autoescaping, and static assets whose URLs carry a digest of their content.

The pages hold no data, so they need no token; what they show comes from the API, fetched by
their scripts."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

PACKAGE = Path(__file__).resolve().parent.parent
STATIC_DIR = PACKAGE / "static"
STATIC_PATH = "/static"
TEMPLATES = Jinja2Templates(directory=PACKAGE / "templates")
LOCALES_DIR = PACKAGE / "locales"
# The languages the pages are written in; the first is the fallback for a missing message.
PAGE_LOCALES = ("en", "ko")


def static_files() -> StaticFiles:
    return StaticFiles(directory=STATIC_DIR)


def render_page(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    catalogue: str | None = None,
) -> Response:
    """`template` with `asset(name)` (a static file's URL) and `api_base` (where the API is,
    behind any root path), plus `context`; not cached by default (`no-cache`).

    `catalogue`: the page's message catalogue (`service/locales/<catalogue>.<locale>.json`,
    merged over `common.<locale>.json`), given to the template as `catalogues`, for
    `<script type="application/json" id="catalogues">{{ catalogues | tojson }}</script>`,
    which `static/i18n.js` reads. The page picks the language in the browser."""
    root = request.scope.get("root_path", "").rstrip("/")

    def asset(name: str) -> str:
        return f"{root}{STATIC_PATH}/{name}?v={fingerprint(name)}"

    return TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "asset": asset,
            "api_base": root,
            "catalogues": page_catalogues(catalogue) if catalogue else {},
            **(context or {}),
        },
        headers={"Cache-Control": "no-cache", **(headers or {})},
    )


@cache
def fingerprint(name: str) -> str:
    """A digest of the asset, so a new release is never served from a stale browser cache."""
    return hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:12]


@cache
def page_catalogues(page: str) -> dict[str, dict[str, Any]]:
    """Every shipped language's messages for `page`: the page's own over the common ones."""
    return {
        locale: {**_catalogue(f"common.{locale}"), **_catalogue(f"{page}.{locale}")}
        for locale in PAGE_LOCALES
    }


def _catalogue(name: str) -> dict[str, Any]:
    path = LOCALES_DIR / f"{name}.json"
    if not path.exists():
        return {}
    messages: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return messages
