"""Stored XSS: readers' markup, script URLs, template syntax and bidi tricks held for review
are shown to moderators as the exact text they typed, in Debian's Chromium, and run nothing:
no dialog, no script, no element but our highlights, no request anywhere else, and the strict
Content-Security-Policy on every response the page loads.

Chromium is never downloaded: without /usr/bin/chromium these tests skip on a developer's
machine and fail when CI=true (tests/conftest.py's `chromium` fixture).
"""

from __future__ import annotations

from typing import Any

from service.http.headers import SECURITY_HEADERS
from service.http.pages import STATIC_DIR
from tests.support.browser import Site

PAYLOADS = [
    "<svg onload=\"window.__xss='svg'\">",
    "<svg><script>window.__xss='svg-script'</script></svg>",
    "<img src=x onerror=\"window.__xss='img'\"> pictures",
    '"><script>window.__xss="attr-break"</script>',
    "'><script>window.__xss='single-quote-break'</script>",
    "</p></li><script>window.__xss='close-tags'</script>",
    "javascript:window.__xss='url'",
    "<a href=\"javascript:window.__xss='link'\">read more</a>",
    "[read more](javascript:window.__xss='markdown')",
    "<iframe srcdoc=\"<script>parent.__xss='iframe'</script>\"></iframe>",
    "<meta http-equiv=refresh content=\"0;url=javascript:window.__xss='meta'\">",
    '<base href="https://evil.example/"><link rel=stylesheet href=//evil.example/x.css>',
    "<style>body{display:none}</style><title>owned</title>",
    "<details open ontoggle=\"window.__xss='toggle'\">",
    "<form action=https://evil.example><button>Approve</button></form>",
    "{{7*7}} ${7*7} <%= 7*7 %> #{7*7} {{constructor.constructor('window.__xss=1')()}}",
    "&lt;script&gt;window.__xss='entity'&lt;/script&gt; &amp; &#60;b&#62;",
    "evil\u202egnp.exe \u2067\u2066 isolates \u2069 and \u200f\u200e marks",
    "\u202e<script>window.__xss='rtl'</script>",
    "data:text/html;base64,PHNjcmlwdD53aW5kb3cuX194c3M9J2RhdGEnPC9zY3JpcHQ+",
]
HOSTILE_AUTHOR = "<img src=x onerror=\"window.__xss='author'\">"


def test_hostile_comment_text_is_shown_literally_and_runs_nothing(
    site: Site, chromium: Any
) -> None:
    from playwright.sync_api import expect

    assert all(len(payload) <= 250 for payload in PAYLOADS)
    for n, payload in enumerate(PAYLOADS):
        site.hold(
            payload,
            author=HOSTILE_AUTHOR if n == 0 else f"reader-{n}",
            reasons=[
                {
                    "kind": "terms",
                    "rule": "en-banned",
                    "message": "Uses a word on the banned list (English).",
                    "spans": [{"start": 0, "end": min(4, len(payload))}],
                }
            ],
            scores={"toxicity": 0.5, "insult": 0.4},
            minutes_ago=len(PAYLOADS) - n,
        )

    context = chromium.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    dialogs: list[str] = []
    errors: list[str] = []
    responses: list[Any] = []
    requests: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("response", lambda response: responses.append(response))
    page.on("request", lambda request: requests.append(request.url))
    try:
        page.goto(site.url + "/moderate")
        title = page.title()
        page.get_by_label("Token").fill(site.token("editor-1"))
        page.get_by_role("button", name="Sign in").click()
        entries = page.get_by_role("listbox", name="Waiting for review").get_by_role("option")
        expect(entries).to_have_count(len(PAYLOADS))

        text = page.locator("#detail .comment-text")
        for n, payload in enumerate(PAYLOADS):
            entries.nth(n).click()
            expect(text).to_have_text(payload, use_inner_text=False)
            assert text.evaluate("node => node.textContent") == payload
            assert text.locator(":not(mark)").count() == 0
            assert page.evaluate("typeof window.__xss") == "undefined", payload
        expect(page.locator("#detail .author")).to_contain_text("reader-")
        entries.nth(0).click()
        expect(page.locator("#detail .author")).to_contain_text(HOSTILE_AUTHOR)

        assert page.locator("#queue .entry-text :not(mark)").count() == 0
        assert (
            page.locator(
                "body script:not([src]), body iframe, body svg[onload], body style"
            ).count()
            == 0
        )
        assert page.locator("base, meta[http-equiv], form[action*='evil']").count() == 0
        assert page.locator("a[href^='javascript']").count() == 0
        assert page.title() == title
        assert page.url == site.url + "/moderate"
        assert page.evaluate("typeof window.__xss") == "undefined"
        ours = [
            (response.url, response.all_headers())
            for response in responses
            if response.url.startswith(site.url)
        ]
    finally:
        context.close()

    assert dialogs == []
    assert errors == []
    assert all(url.startswith(site.url) for url in requests), requests
    assert {url.split("?")[0].removeprefix(site.url) for url, _ in ours} >= {
        "/moderate",
        *(f"/static/{script.name}" for script in STATIC_DIR.glob("moderate*.js")),
        "/static/moderate.css",
        "/v1/moderation/queue",
    }
    for url, headers in ours:
        for name, value in SECURITY_HEADERS.items():
            assert headers.get(name.lower()) == value, (url, name)
