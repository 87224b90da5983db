"""A Korean moderator on /moderate in Chromium with the ko-KR locale: the page in Korean
(lang="ko"), the reasons in Korean from the server (the page asks with Accept-Language), every
shortcut working while a Korean keyboard layout or input method is on, and the language switch.

Playwright's keyboard can't switch layouts, so the keys are sent through the DevTools protocol
(Input.dispatchKeyEvent) as a Korean 2-set layout sends them: the j key types "ㅓ" with the code
KeyJ; under an input method a key arrives as "Process" with its code only."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from policy import load_policy
from tests.support.browser import Site
from tests.support.policies import SHIPPED, evaluate

HANGUL = re.compile(r"[\uac00-\ud7a3]")
# A Korean 2-set (두벌식) layout's character on each shortcut key, and the key's code.
KOREAN_KEYS = {
    "j": ("ㅓ", "KeyJ", 74),
    "k": ("ㅏ", "KeyK", 75),
    "a": ("ㅁ", "KeyA", 65),
    "r": ("ㄱ", "KeyR", 82),
    "t": ("ㅅ", "KeyT", 84),
    "u": ("ㅕ", "KeyU", 85),
    "v": ("ㅍ", "KeyV", 86),
}
HELD: tuple[tuple[str, str, dict[str, float]], ...] = (
    ("You're an idiot if you believe this.", "reader-17", {"insult": 0.93, "toxicity": 0.89}),
    ("Call me on 010-1234-5678 for the real story.", "tipster-3", {}),
    ("What a stupid, stupid article.", "reader-17", {"insult": 0.86}),
)


class Keys:
    """Key presses as a Korean layout (or, with `ime`, a Korean input method) sends them."""

    def __init__(self, page: Any) -> None:
        self.cdp = page.context.new_cdp_session(page)

    def press(self, shortcut: str, *, ime: bool = False) -> None:
        if shortcut == "?":
            self._send(key="?", code="Slash", text="?", vk=191, modifiers=8)  # Shift
            return
        if shortcut.isdigit():
            self._send(key=shortcut, code=f"Digit{shortcut}", text=shortcut, vk=48 + int(shortcut))
            return
        character, code, vk = KOREAN_KEYS[shortcut]
        if ime:
            self._send(key="Process", code=code, text="", vk=229)
        else:
            self._send(key=character, code=code, text=character, vk=vk)

    def _send(self, *, key: str, code: str, text: str, vk: int, modifiers: int = 0) -> None:
        event = {
            "key": key,
            "code": code,
            "windowsVirtualKeyCode": vk,
            "nativeVirtualKeyCode": vk,
            "modifiers": modifiers,
        }
        down = (
            {"type": "keyDown", "text": text, **event} if text else {"type": "rawKeyDown", **event}
        )
        self.cdp.send("Input.dispatchKeyEvent", down)
        self.cdp.send("Input.dispatchKeyEvent", {"type": "keyUp", **event})


def seed(site: Site) -> dict[str, str]:
    """Held comments with the reasons the shipped policy gives them (so the server can word
    them again in another language), by text."""
    policy = load_policy(SHIPPED)
    made = {}
    for minutes, (text, author, scores) in enumerate(HELD):
        decision = evaluate(policy, text, scores)
        assert decision.action == "hold", text
        made[text] = site.hold(
            text,
            author=author,
            reasons=[reason.to_dict() for reason in decision.reasons],
            scores=scores,
            minutes_ago=30 - minutes,
        )
    return made


def reason_messages(site: Site, comment_id: str, language: str) -> list[str]:
    response = httpx.get(
        f"{site.url}/v1/comments/{comment_id}",
        headers={
            "Authorization": f"Bearer {site.token('mod-1')}",
            "Accept-Language": language,
        },
        timeout=10,
    )
    response.raise_for_status()
    return [reason["message"] for reason in response.json()["decision"]["reasons"]]


@pytest.fixture
def korean_page(chromium: Any, site: Site) -> Iterator[tuple[Any, list[str], list[str]]]:
    context = chromium.new_context(locale="ko-KR", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    languages: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "request",
        lambda request: (
            languages.append(request.headers.get("accept-language", ""))
            if "/v1/" in request.url
            else None
        ),
    )
    page.goto(site.url + "/moderate")
    yield page, errors, languages
    context.close()


def test_a_korean_moderator_works_the_queue_in_korean_with_the_keyboard(
    site: Site, korean_page: tuple[Any, list[str], list[str]], artifacts: Path
) -> None:
    from playwright.sync_api import expect

    made = seed(site)
    page, errors, languages = korean_page
    keys = Keys(page)
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    expect(page.get_by_role("heading", name="관리하려면 로그인하세요")).to_be_visible()
    page.get_by_label("토큰").fill(site.token("mod-1"))
    page.get_by_role("button", name="로그인").click()

    entries = page.get_by_role("listbox", name="검토 대기 중").get_by_role("option")
    expect(entries).to_have_count(3)
    expect(page.locator("#counter")).to_have_text("남은 댓글 3개")
    expect(page.get_by_role("tab", name="보류")).to_have_attribute("aria-selected", "true")
    detail = page.locator("#detail")
    expect(detail.locator(".comment-text")).to_have_text(HELD[0][0])
    expect(detail.get_by_role("heading", name="보류된 이유")).to_be_visible()
    # The reasons as the server words them in Korean, not the English they were stored in.
    first = made[HELD[0][0]]
    korean = reason_messages(site, first, "ko")
    assert all(HANGUL.search(message) for message in korean), korean
    assert korean != reason_messages(site, first, "en")
    expect(detail.locator(".reason-text")).to_have_text(korean)
    assert languages and set(languages) == {"ko"}
    page.screenshot(path=str(artifacts / "moderation-queue-korean.png"))

    keys.press("j")
    expect(entries.nth(1)).to_have_attribute("aria-selected", "true")
    expect(entries.nth(1)).to_be_focused()
    keys.press("k", ime=True)
    expect(entries.first).to_have_attribute("aria-selected", "true")
    keys.press("j")

    keys.press("?")
    help_dialog = page.get_by_role("dialog", name="단축키")
    expect(help_dialog).to_be_visible()
    expect(help_dialog).to_contain_text("다음 댓글")
    keys.press("?")
    expect(help_dialog).to_be_hidden()

    keys.press("t")
    thread = page.get_by_role("dialog", name="스레드")
    expect(thread).to_be_visible()
    expect(thread.locator(".thread-current")).to_contain_text("이 댓글")
    keys.press("t", ime=True)
    expect(thread).to_be_hidden()

    keys.press("u")
    author = page.get_by_role("complementary", name="작성자 tipster-3")
    expect(author).to_be_visible()
    keys.press("u", ime=True)
    expect(author).to_be_hidden()

    keys.press("v")
    expect(page.get_by_role("tab", name="신고됨")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#empty")).to_contain_text("기다리는 신고 댓글이 없습니다")
    keys.press("v", ime=True)
    expect(page.get_by_role("tab", name="보류")).to_have_attribute("aria-selected", "true")
    expect(entries).to_have_count(3)

    # The phone number comment (the second): a code by digit, then rejected with ㄱ.
    page.locator("#entry-" + made[HELD[1][0]]).click()
    keys.press("6")
    expect(page.locator("#codes [aria-pressed='true']")).to_have_text("6 개인 정보")
    keys.press("r")
    expect(entries).to_have_count(2)
    expect(page.locator("#notice")).to_have_text("거부했습니다(개인 정보).")
    rejected = site.api(f"/v1/comments/{made[HELD[1][0]]}")
    assert rejected["status"] == "rejected"
    assert rejected["review"]["reason_code"] == "personal_info"

    page.locator("#entry-" + first).click()
    keys.press("a", ime=True)
    expect(entries).to_have_count(1)
    expect(page.locator("#notice")).to_have_text("승인했습니다. 곧 게시됩니다.")
    assert site.api(f"/v1/comments/{first}")["status"] == "approved"
    keys.press("r")  # the last one, selected after the approval, rejected without a code
    expect(page.locator("#empty")).to_be_visible()
    assert site.api(f"/v1/comments/{made[HELD[2][0]]}")["status"] == "rejected"
    assert errors == []


def test_the_language_switch_changes_the_page_and_the_reasons_and_back(
    site: Site, korean_page: tuple[Any, list[str], list[str]]
) -> None:
    from playwright.sync_api import expect

    made = seed(site)
    page, errors, languages = korean_page
    page.get_by_label("토큰").fill(site.token("mod-1"))
    page.get_by_label("토큰").press("Enter")
    detail = page.locator("#detail")
    expect(detail.locator(".comment-text")).to_have_text(HELD[0][0])

    switch = page.get_by_label("언어")
    expect(switch.locator("option")).to_have_text(["English", "한국어"])
    expect(switch).to_have_value("ko")
    languages.clear()
    switch.select_option(label="English")  # reloads the page; the sign-in lasts in the tab
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("listbox", name="Waiting for review")).to_be_visible()
    expect(page.locator("#counter")).to_have_text("3 comments left")
    english = reason_messages(site, made[HELD[0][0]], "en")
    expect(detail.locator(".reason-text")).to_have_text(english)
    assert languages and set(languages) == {"en"}
    assert page.evaluate("localStorage.getItem('moderation.locale')") == "en"

    page.get_by_label("Language").select_option(label="한국어")
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    expect(page.get_by_role("listbox", name="검토 대기 중")).to_be_visible()
    expect(detail.locator(".reason-text")).to_have_text(
        reason_messages(site, made[HELD[0][0]], "ko")
    )
    assert errors == []
