"""GET /moderate and its assets: no data without a token, and the browser told to run only our
own script. What the page does in a browser is in tests/browser/."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from service.http.headers import CONTENT_SECURITY_POLICY
from service.http.pages import PAGE_LOCALES, STATIC_DIR, fingerprint
from tests.support.api import Api

SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}
# The page's scripts: classic deferred scripts, run in the order the template lists them,
# after i18n.js (the messages, which every one of them uses).
SCRIPTS = sorted(STATIC_DIR.glob("moderate*.js"))
I18N = "i18n.js"


def assert_security_headers(response) -> None:  # type: ignore[no-untyped-def]
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value, name


def test_the_csp_is_the_strict_one() -> None:
    assert CONTENT_SECURITY_POLICY == (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )


def test_the_page_needs_no_token_and_holds_no_data(api: Api) -> None:
    response = api.client.get("/moderate")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert_security_headers(response)
    html = response.text
    assert re.search(r'<label for="token"[^>]*>Token</label>', html)
    assert ">Sign in</button>" in html
    tags = re.findall(r"<script\b[^>]*>", html)
    names = re.findall(r'<script src="/static/([\w-]+\.js)\?v=\w+" defer>', html)
    # The messages first (data, not code: the CSP's script-src does not run it), then the
    # script that reads them, then the page's own.
    assert tags == [
        '<script type="application/json" id="catalogues">',
        *(f'<script src="/static/{name}?v={fingerprint(name)}" defer>' for name in names),
    ]
    assert names[0] == I18N
    assert sorted(names[1:]) == [script.name for script in SCRIPTS]
    assert names[-1] == "moderate.js"  # it starts the page, so every part must be there first
    embedded = re.search(r'<script type="application/json" id="catalogues">(.*?)</script>', html)
    assert embedded is not None
    catalogues = json.loads(embedded[1])
    assert sorted(catalogues) == sorted(PAGE_LOCALES)
    assert catalogues["ko"]["signin.token"] == "토큰"
    assert "style=" not in html
    assert re.search(r"\son\w+=", html) is None


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        *((script.name, "text/javascript") for script in SCRIPTS),
        (I18N, "text/javascript"),
        ("moderate.css", "text/css"),
        ("favicon.svg", "image/svg+xml"),
    ],
)
def test_assets_are_served_with_the_same_headers(api: Api, name: str, media_type: str) -> None:
    page = api.client.get("/moderate").text
    url = re.search(rf'"(/static/{re.escape(name)}\?v=\w+)"', page)
    assert url is not None
    response = api.client.get(url[1])
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media_type)
    assert_security_headers(response)


def test_api_responses_and_errors_carry_the_headers_too(api: Api) -> None:
    assert_security_headers(api.client.get("/healthz"))
    assert_security_headers(api.client.get("/v1/moderation/queue"))
    assert_security_headers(api.client.get("/static/missing.js"))


@pytest.mark.parametrize("path", [*SCRIPTS, STATIC_DIR / I18N], ids=lambda path: path.name)
def test_the_scripts_never_parse_html_or_put_the_token_in_a_url(path: Path) -> None:
    lines = path.read_text().splitlines()
    script = "\n".join(line for line in lines if not line.strip().startswith("//"))
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script, sink
    assert "EventSource" not in script
    # The token stays in sessionStorage; only i18n.js keeps something (the language) for good.
    assert "localStorage" not in script or path.name == I18N
    assert "token" not in script or path.name != I18N
    assert re.search(r"[?&]token=", script) is None
    assert script.lstrip().startswith('"use strict";')


def test_the_token_travels_only_in_the_authorization_header() -> None:
    scripts = "\n".join(path.read_text() for path in SCRIPTS)
    assert scripts.count("Authorization:") == 1
    assert "Authorization: `Bearer ${token()}`" in scripts
