"""/docs in Debian's Chromium: Swagger UI, served by the app itself, renders the service's
/openapi.json under the page's Content-Security-Policy without one violation, and loads
nothing from anywhere but the service."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import Site

# Registered before navigation, so it sees violations from the first byte of the page on.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push({
    directive: event.violatedDirective,
    blocked: event.blockedURI,
    source: event.sourceFile,
    line: event.lineNumber,
    sample: event.sample,
  });
});
"""


@dataclass
class Watched:
    page: Any
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    requested: list[str] = field(default_factory=list)

    def violations(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.page.evaluate("window.__cspViolations")
        return found


@pytest.fixture
def docs_page(chromium: Any, site: Site) -> Iterator[Watched]:
    context = chromium.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    watched = Watched(page)
    page.add_init_script(RECORD_VIOLATIONS)
    page.on(
        "console",
        lambda message: (
            watched.console_errors.append(message.text) if message.type == "error" else None
        ),
    )
    page.on("pageerror", lambda error: watched.console_errors.append(str(error)))
    page.on("request", lambda request: watched.requested.append(request.url))
    page.on(
        "requestfailed",
        lambda request: watched.failed_requests.append(f"{request.url}: {request.failure}"),
    )
    page.on(
        "response",
        lambda response: (
            watched.failed_requests.append(f"{response.url}: {response.status}")
            if response.status >= 400
            else None
        ),
    )
    page.goto(site.url + "/docs")
    yield watched
    context.close()


def test_the_contract_renders_without_a_policy_violation(
    site: Site, docs_page: Watched, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    page = docs_page.page
    expect(page.get_by_role("heading", name="Comment moderation HTTP API")).to_be_visible()
    licence = page.get_by_role("link", name="Apache-2.0 licence")
    expect(licence).to_have_attribute("href", re.compile(r"^/static/docs/LICENSE\?v=\w+$"))

    # Swagger UI's operation row: a method badge and the path, one element each
    create = page.locator(".opblock-post").filter(
        has=page.locator(".opblock-summary-path", has_text=re.compile(r"^/v1/comments$"))
    )
    expect(create).to_have_count(1, timeout=15_000)
    expect(create.locator(".opblock-summary-method")).to_have_text("POST")
    expect(create).to_contain_text("Submit a reader's comment for moderation")

    # open it, so the request body, its schema and the highlighted examples render too
    create.locator(".opblock-summary").click()
    expect(create.locator(".opblock-body")).to_contain_text("Request body")
    create.get_by_text("Schema", exact=True).first.click()
    expect(create.locator(".model-box").first).to_contain_text("NewComment")
    expect(create.locator(".responses-wrapper")).to_contain_text("202")
    page.screenshot(path=str(artifacts / "docs.png"))

    violations = docs_page.violations()
    assert violations == [], f"Content-Security-Policy violations on /docs: {violations}"
    assert docs_page.console_errors == []
    assert docs_page.failed_requests == []
    elsewhere = [url for url in docs_page.requested if not url.startswith(site.url + "/")]
    assert elsewhere == []
    assert site.url + "/openapi.json" in docs_page.requested
    assert not page.get_by_role("button", name="Try it out").count()  # read-only
