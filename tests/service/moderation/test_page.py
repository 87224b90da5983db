"""GET /moderate and its assets: no data without a token, and the browser told to run only our
own script. What the page does in a browser is in tests/browser/."""

from __future__ import annotations

import re

import pytest

from service.http.headers import CONTENT_SECURITY_POLICY
from service.http.pages import STATIC_DIR
from tests.support.api import Api

SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}


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
    assert '<label for="token">Token</label>' in html
    assert ">Sign in</button>" in html
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts == [re.search(r'<script src="/static/moderate\.js\?v=\w+" defer>', html)[0]]  # type: ignore[index]
    assert "style=" not in html
    assert re.search(r"\son\w+=", html) is None


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("moderate.js", "text/javascript"),
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


def test_the_script_never_parses_html_or_puts_the_token_in_a_url() -> None:
    lines = (STATIC_DIR / "moderate.js").read_text().splitlines()
    script = "\n".join(line for line in lines if not line.strip().startswith("//"))
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script, sink
    assert "EventSource" not in script
    assert "localStorage" not in script
    assert re.search(r"[?&]token=", script) is None
    assert "Authorization: `Bearer ${token()}`" in script
