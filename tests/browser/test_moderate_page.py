"""The moderators' page in a real browser: sign in, work the queue by keyboard and by mouse,
see the decisions in the API, and never run a reader's markup."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import Site

XSS_TEXT = (
    '<script>window.__xss=1</script> <img src=x onerror="window.__xss=2"> '
    "Thanks for nothing, idiot."
)
KOREAN_TEXT = "😡 이 기사 쓴 기자 진짜 멍청하네요. 사실 확인은 했나요?"
LABELS = ("severe_toxicity", "threat", "identity_attack", "sexual_explicit", "obscene")


def scores(**top: float) -> dict[str, float]:
    found = {label: 0.02 for label in LABELS} | {"insult": 0.05, "toxicity": 0.07}
    return found | top


def toxicity(label: str, score: float, words: str) -> dict[str, Any]:
    return {
        "kind": "toxicity",
        "rule": f"toxicity.{label}",
        "message": f"The model rates this comment {words} (score {score:.2f}; comments at 0.80 "
        "or above are held).",
        "label": label,
        "score": score,
        "threshold": 0.8,
    }


def span(text: str, part: str) -> dict[str, int]:
    """Code-point offsets, as the policy writes them."""
    start = text.index(part)
    return {"start": start, "end": start + len(part)}


def terms(text: str, part: str, *, language: str = "English") -> dict[str, Any]:
    return {
        "kind": "terms",
        "rule": "en-banned" if language == "English" else "ko-suspect",
        "message": f"Uses a word on the banned list ({language})."
        if language == "English"
        else f"Uses a word on the watch list ({language}): often abusive, so a moderator "
        "should check how it is used.",
        "spans": [span(text, part)],
    }


def seed(site: Site) -> dict[str, str]:
    for n in range(3):
        site.hold(f"Good point #{n}.", author="reader-17", reasons=[], scores={}, action="approve")
    made = {}
    text = "You're an idiot if you believe this. Typical lazy reporting from a paper with no shame."
    made["insult"] = site.hold(
        text,
        author="reader-17",
        reasons=[toxicity("insult", 0.93, "insulting"), terms(text, "idiot")],
        scores=scores(insult=0.93, toxicity=0.89, obscene=0.21),
        minutes_ago=42,
    )
    text = "Call me on 010-1234-5678 and I'll tell you what the minister really said."
    made["phone"] = site.hold(
        text,
        author="tipster-3",
        reasons=[
            {
                "kind": "personal_info",
                "rule": "personal_info.phone",
                "message": "Contains what looks like a phone number; readers' personal details "
                "are not published.",
                "spans": [span(text, "010-1234-5678")],
            }
        ],
        scores=scores(),
        minutes_ago=31,
    )
    text = "Great analysis! The full story is at http://cheap-deals.example/watch?id=7 today."
    made["link"] = site.hold(
        text,
        author="promo-bot",
        article="economy-rates-december",
        reasons=[
            {
                "kind": "links",
                "rule": "links",
                "message": "Links to cheap-deals.example, not on the list of allowed sites.",
                "spans": [span(text, "http://cheap-deals.example/watch?id=7")],
            }
        ],
        scores=scores(toxicity=0.11),
        minutes_ago=18,
    )
    made["xss"] = site.hold(
        XSS_TEXT,
        author="reader-99",
        reasons=[terms(XSS_TEXT, "idiot")],
        scores=scores(insult=0.64, toxicity=0.71),
        minutes_ago=9,
    )
    made["korean"] = site.hold(
        KOREAN_TEXT,
        author="reader-kr-5",
        article="society-seoul-housing",
        reasons=[terms(KOREAN_TEXT, "멍청", language="Korean")],
        scores=scores(),
        minutes_ago=3,
    )
    return made


def entries_of(page: Any) -> Any:
    return page.get_by_role("listbox", name="Waiting for review").get_by_role("option")


@dataclass
class Watched:
    page: Any
    console_errors: list[str] = field(default_factory=list)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def sign_in(self, token: str) -> None:
        self.page.get_by_label("Token").fill(token)
        self.page.get_by_role("button", name="Sign in").click()


@pytest.fixture
def browser_page(chromium: Any, site: Site) -> Iterator[Watched]:
    context = chromium.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    watched = Watched(page)
    page.on(
        "console",
        lambda message: (
            watched.console_errors.append(message.text) if message.type == "error" else None
        ),
    )
    page.on("pageerror", lambda error: watched.console_errors.append(str(error)))
    page.on("request", lambda request: watched.requests.append((request.url, request.headers)))
    page.goto(site.url + "/moderate")
    yield watched
    context.close()


def test_sign_in_then_approve_by_keyboard_and_reject_by_button(
    site: Site, browser_page: Watched, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    made = seed(site)
    page = browser_page.page
    token = site.token("mod-1")
    browser_page.sign_in(token)

    entries = entries_of(page)
    expect(entries).to_have_count(5)
    expect(page.locator("#counter")).to_have_text("5 comments left")
    expect(entries.first).to_have_attribute("aria-selected", "true")
    detail = page.locator("#detail")
    expect(detail.locator(".comment-text")).to_contain_text("You're an idiot")
    expect(detail.locator(".comment-text mark")).to_have_text(["idiot"])
    # The reasons in the server's words (it renders them again from their rule and evidence).
    held = site.api(f"/v1/comments/{made['insult']}")["decision"]["reasons"]
    expect(detail.locator(".reason-text")).to_have_text([reason["message"] for reason in held])
    expect(detail).to_contain_text("The model rates this comment")
    expect(detail).to_contain_text("Toxic language")
    expect(detail.locator(".score-row").first).to_contain_text("Insult")
    expect(detail.locator(".author")).to_contain_text("reader-17")
    expect(detail.locator(".count-approved")).to_have_text("3 approved")
    expect(detail.locator(".count-held")).to_have_text("1 held")
    expect(detail).to_contain_text("politics-2026-budget")
    page.screenshot(path=str(artifacts / "moderation-queue.png"))

    page.keyboard.press("j")
    expect(entries.nth(1)).to_have_attribute("aria-selected", "true")
    expect(entries.nth(1)).to_be_focused()
    page.keyboard.press("k")
    expect(entries.first).to_have_attribute("aria-selected", "true")

    page.keyboard.press("a")
    expect(entries).to_have_count(4)
    expect(page.locator("#counter")).to_have_text("4 comments left")
    approved = site.api(f"/v1/comments/{made['insult']}")
    assert approved["status"] == "approved"
    assert approved["review"]["moderator_id"] == "mod-1"

    entries_of(page).filter(has_text="Call me on").click()
    expect(detail.locator(".comment-text")).to_contain_text("Call me on")
    page.get_by_label("Reason").fill("Publishes a phone number.")
    page.get_by_role("button", name="Reject").click()
    expect(entries).to_have_count(3)
    rejected = site.api(f"/v1/comments/{made['phone']}")
    assert rejected["status"] == "rejected"
    assert rejected["review"]["reason"] == "Publishes a phone number."
    assert site.api("/v1/moderation/stats")["held"] == 3

    assert token not in page.url
    api_requests = [(url, headers) for url, headers in browser_page.requests if "/v1/" in url]
    assert api_requests
    for url, headers in api_requests:
        assert token not in url
        assert headers["authorization"] == f"Bearer {token}"
    assert browser_page.console_errors == []


def test_comment_text_is_shown_as_text_and_runs_nothing(site: Site, browser_page: Watched) -> None:
    from playwright.sync_api import expect

    seed(site)
    page = browser_page.page
    browser_page.sign_in(site.token())
    entry = entries_of(page).filter(has_text="window.__xss")
    expect(entry).to_have_count(1)
    entry.click()
    text = page.locator("#detail .comment-text")
    expect(text).to_have_text(XSS_TEXT)
    expect(text.locator("mark")).to_have_text(["idiot"])
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator("main img, main script").count() == 0

    entries_of(page).filter(has_text="기사").click()
    expect(text).to_have_text(KOREAN_TEXT)
    # the emoji is one code point but two UTF-16 units: the highlight must not drift
    expect(text.locator("mark")).to_have_text(["멍청"])
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert browser_page.console_errors == []


def test_new_holds_appear_without_a_reload(site: Site, browser_page: Watched) -> None:
    from playwright.sync_api import expect

    site.hold("First.", reasons=[toxicity("insult", 0.9, "insulting")], scores=scores(insult=0.9))
    page = browser_page.page
    browser_page.sign_in(site.token())
    expect(entries_of(page)).to_have_count(1)
    site.hold(
        "A new one arrives.",
        reasons=[toxicity("threat", 0.97, "threatening")],
        scores=scores(threat=0.97),
    )
    expect(entries_of(page)).to_have_count(2, timeout=20_000)
    expect(page.locator("#counter")).to_have_text("2 comments left")
    assert browser_page.console_errors == []


def test_sign_in_errors_help_and_sign_out(site: Site, browser_page: Watched) -> None:
    from playwright.sync_api import expect

    site.hold("Held.", reasons=[toxicity("insult", 0.9, "insulting")], scores=scores(insult=0.9))
    page = browser_page.page
    error = page.locator("#signin-error")
    browser_page.sign_in("not-a-token")
    expect(error).to_contain_text("not accepted")
    browser_page.sign_in(site.token("reader-1", moderator=False))
    expect(error).to_contain_text("moderator role")
    assert page.evaluate("sessionStorage.length") == 0

    browser_page.sign_in(site.token())
    expect(entries_of(page)).to_have_count(1)
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()

    page.reload()  # the token survives a reload of the tab, and only the tab
    expect(entries_of(page)).to_have_count(1)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Token")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('moderation.token')") is None
    # 401 from the API with a bad token is expected; nothing else may be logged
    assert all("401" in message or "403" in message for message in browser_page.console_errors)
