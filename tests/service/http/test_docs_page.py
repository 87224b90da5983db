"""GET /docs: the HTTP contract rendered for integrators by Swagger UI, vendored under
/static/docs/ with its licence. Public, and the one route with its own Content-Security-Policy
(a fresh style nonce per response); every other route keeps today's. What the page does in a
browser is in tests/browser/test_docs_page.py."""

from __future__ import annotations

import re
from typing import Any

from starlette.testclient import TestClient

from service.http.docs import RENDERER_VERSION, content_security_policy
from service.http.headers import CONTENT_SECURITY_POLICY
from service.http.pages import STATIC_DIR

NONCE = re.compile(r"'nonce-([A-Za-z0-9_-]{22,})'")


def nonce_of(response: Any) -> str:
    found = NONCE.search(response.headers["content-security-policy"])
    assert found is not None, response.headers["content-security-policy"]
    return found[1]


def test_the_page_needs_no_token(api: Any) -> None:
    response = api.client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    html = response.text
    assert "For integrators" in html
    assert 'data-spec-url="/openapi.json"' in html
    # no inline script, no inline style, no handler attribute: the policy would block them
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert len(scripts) == 2
    for tag in scripts:
        assert re.fullmatch(r'<script src="/static/[\w/.-]+\?v=\w+" defer>', tag), tag
    assert "<style" not in html
    assert "style=" not in html
    assert re.search(r"\son\w+=", html) is None


def test_the_policy_is_todays_plus_a_fresh_style_nonce(api: Any) -> None:
    first, second = api.client.get("/docs"), api.client.get("/docs")
    nonces = nonce_of(first), nonce_of(second)
    assert nonces[0] != nonces[1]
    for response, nonce in zip((first, second), nonces, strict=True):
        policy = response.headers["content-security-policy"]
        assert policy == content_security_policy(nonce)
        assert policy == (
            "default-src 'none'; script-src 'self'; "
            f"style-src 'self' 'nonce-{nonce}'; connect-src 'self'; img-src 'self' data:; "
            "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
        )
        assert "unsafe-inline" not in policy
        assert "unsafe-eval" not in policy
        # the nonce is in the page it was sent with, and only that page
        assert response.text.count(f'nonce="{nonce}"') == 2
        other = nonces[1] if nonce == nonces[0] else nonces[0]
        assert other not in response.text


def test_other_routes_keep_todays_policy(api: Any) -> None:
    for path in ("/moderate", "/moderate/insights", "/healthz", "/openapi.json", "/nowhere"):
        response = api.client.get(path)
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY, path
    asset = api.client.get("/static/docs/swagger-ui-bundle.js")
    assert asset.headers["content-security-policy"] == CONTENT_SECURITY_POLICY


def test_the_renderer_and_its_licence_are_served_from_here(api: Any) -> None:
    html = api.client.get("/docs").text
    urls = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert {url.split("?")[0] for url in urls} == {
        "/static/favicon.svg",
        "/static/docs.css",
        "/static/docs.js",
        "/static/docs/swagger-ui.css",
        "/static/docs/swagger-ui-bundle.js",
        "/static/docs/LICENSE",
        "/static/docs/NOTICE",
        "/static/docs/swagger-ui-bundle.js.LICENSE.txt",
    }
    assert re.search(r"https?://", html) is None  # nothing from a CDN
    for url in urls:
        response = api.client.get(url)
        assert response.status_code == 200, url
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY, url
    licence = re.search(r'<a href="(/static/docs/LICENSE\?v=\w+)">Apache-2.0 licence</a>', html)
    assert licence is not None
    text = api.client.get(licence[1]).text
    assert "Apache License" in text
    assert "Version 2.0" in text


def test_the_vendored_files_are_the_ones_the_readme_names() -> None:
    import hashlib

    readme = (STATIC_DIR / "docs" / "README.md").read_text()
    assert f"/package/swagger-ui-dist) **{RENDERER_VERSION}**" in readme
    assert f"npm pack swagger-ui-dist@{RENDERER_VERSION}" in readme
    for name in (
        "swagger-ui-bundle.js",
        "swagger-ui.css",
        "swagger-ui-bundle.js.LICENSE.txt",
        "LICENSE",
        "NOTICE",
    ):
        digest = hashlib.sha256((STATIC_DIR / "docs" / name).read_bytes()).hexdigest()
        assert f"| `{name}` |" in readme
        assert digest in readme, name


def test_behind_a_path_prefix_the_page_points_under_it(api: Any) -> None:
    client = TestClient(api.client.app, root_path="/comments")
    html = client.get("/comments/docs").text
    assert 'data-spec-url="/comments/openapi.json"' in html
    assert re.search(r'src="/comments/static/docs/swagger-ui-bundle\.js\?v=\w+"', html)
    assert re.search(r'href="/comments/static/docs/LICENSE\?v=\w+"', html)
