"""The insights page in Debian's Chromium: a month of seeded history drawn as SVG charts from
our own script only (strict CSP, no other origin), with no console errors; a screenshot is
saved to test-artifacts/insights.png for people to look at."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import Site
from tests.support.insights_data import seed_month, seed_reports


@dataclass
class Watched:
    page: Any
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def sign_in(self, token: str) -> None:
        self.page.get_by_label("Token").fill(token)
        self.page.get_by_role("button", name="Sign in").click()


@pytest.fixture
def insights_page(chromium: Any, site: Site) -> Iterator[Watched]:
    context = chromium.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    watched = Watched(page)
    page.on(
        "console",
        lambda message: (
            watched.console_errors.append(message.text) if message.type == "error" else None
        ),
    )
    page.on("pageerror", lambda error: watched.console_errors.append(str(error)))
    page.on("request", lambda request: watched.requests.append(request.url))
    yield watched
    context.close()


def test_the_charts_render_from_our_own_script(
    site: Site, insights_page: Watched, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    counts = seed_month(site)
    page = insights_page.page
    response = page.goto(site.url + "/moderate/insights")
    assert response is not None and response.ok
    assert "script-src 'self'" in response.headers["content-security-policy"]
    insights_page.sign_in(site.token("mod-1"))

    report = page.locator("#report")
    expect(report).to_have_attribute("data-loaded", "true")
    expect(page.locator("#tiles .tile")).to_have_count(5)
    expect(page.locator("#tiles")).to_contain_text("Judged comments")

    cards = page.locator(".label-card")
    expect(cards.first).to_be_visible()
    insult = page.locator(".label-card[data-label='insult']")
    expect(insult.locator("svg.chart")).to_have_count(2)
    expect(insult.locator("rect.bar-rejected").first).to_be_attached()
    expect(insult.locator("rect.bar-approved").first).to_be_attached()
    expect(insult.locator("line.threshold")).to_have_count(2)
    expect(insult.locator("text.threshold-label")).to_have_text("holds ≥ 0.80")
    expect(insult.locator("path.line-precision")).to_have_count(1)
    expect(insult).to_contain_text("holds at 0.80")

    rules = page.locator("#rule-chart g.rule-row")
    expect(rules.first).to_be_visible()
    expect(page.locator("#rule-chart g.rule-row[data-rule='toxicity.toxicity']")).to_contain_text(
        "overturned"
    )
    assert page.locator("#rule-chart rect.bar-overturned").count() >= 1

    expect(page.locator("#volume-chart rect.bar-holds").first).to_be_attached()
    expect(page.locator("#volume-chart path.line-reviewed")).to_have_count(1)
    expect(page.locator("#age-chart path.line-age")).to_have_count(1)
    expect(page.locator("#shadow-panel")).to_be_visible()
    expect(page.locator("#shadow-panel table.confusion td.agree")).to_have_count(2)

    api = site.api("/v1/moderation/insights")
    held = sum(point["holds"] for point in api["volume"]["series"])
    assert held == counts["held"]
    expect(page.locator("#tiles .tile").nth(1)).to_contain_text(f"{held:,}")

    page.screenshot(path=str(artifacts / "insights.png"), full_page=True)

    origins = {url.split("/", 3)[2] for url in insights_page.requests}
    assert origins == {site.url.split("/", 3)[2]}
    assert insights_page.console_errors == []

    # another window and target refetch and redraw
    page.locator("#since").select_option("7d")
    expect(page.locator("#as-of")).to_contain_text("since")
    page.locator("#target").fill("0.6")
    page.locator("#target").dispatch_event("change")
    expect(insult.locator("text.suggested-label")).to_contain_text("60% precision")
    assert insights_page.console_errors == []


def test_sign_in_needs_the_moderator_role_and_the_token_is_shared_with_the_queue(
    site: Site, insights_page: Watched
) -> None:
    from playwright.sync_api import expect

    page = insights_page.page
    page.goto(site.url + "/moderate/insights")
    insights_page.sign_in(site.token("reader-1", moderator=False))
    expect(page.locator("#signin-error")).to_contain_text("moderator role")
    assert page.evaluate("sessionStorage.length") == 0

    insights_page.sign_in(site.token("mod-1"))
    expect(page.locator("#report")).to_have_attribute("data-loaded", "true")
    expect(page.locator("#label-charts")).to_contain_text("No scored comments")
    expect(page.locator("#rule-chart")).to_contain_text("No holds in this window.")
    expect(page.locator("#reports-body")).to_contain_text("No reports in this window.")
    page.get_by_role("link", name="Hold queue").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.get_by_role("link", name="Insights").click() if page.get_by_role(
        "link", name="Insights"
    ).count() else page.goto(site.url + "/moderate/insights")
    expect(page.locator("#report")).to_have_attribute("data-loaded", "true")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Token")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('moderation.token')") is None
    assert all("403" in message for message in insights_page.console_errors)


def test_report_precision_by_reason_and_by_reporter(
    site: Site, insights_page: Watched, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    seed_reports(site)
    page = insights_page.page
    page.goto(site.url + "/moderate/insights")
    insights_page.sign_in(site.token("mod-1"))
    expect(page.locator("#report")).to_have_attribute("data-loaded", "true")

    body = page.locator("#reports-body")
    expect(body.locator(".reports-total")).to_have_text(
        "6 reports by 3 readers: 3 upheld, 2 dismissed, 1 open · precision 60%"
    )
    reasons = body.locator("table[data-table='reason'] tbody tr")
    # in the reasons' list order
    assert [row.get_attribute("data-key") for row in reasons.all()] == [
        "offensive",
        "harassment",
        "hate_speech",
        "spam",
    ]
    cells = [cell.strip() for cell in reasons.nth(3).locator("th, td").all_inner_texts()]
    assert cells == ["Spam", "3", "2", "1", "0", "67%"]
    open_only = reasons.nth(2).locator("td.precision")
    expect(open_only).to_have_text("\u2013")  # an en dash: nothing closed yet

    reporters = body.locator("table[data-table='reporter_id'] tbody tr")
    assert [row.get_attribute("data-key") for row in reporters.all()] == [
        "reader-7",
        "reader-8",
        "reader-9",
    ]
    cells = [cell.strip() for cell in reporters.first.locator("th, td").all_inner_texts()]
    assert cells == ["reader-7", "3", "1", "1", "1", "50%"]
    expect(body.locator("caption").last).to_have_text("The 3 readers who reported most")
    body.screenshot(path=str(artifacts / "insights-reports.png"))
    assert insights_page.console_errors == []


# English words of the page's own messages: none may be left on the Korean page.
ENGLISH_WORDS = ("judged", "reviewed", "rejected", "approved", "precision", "overturned", "report")


def test_a_korean_browser_gets_the_page_in_korean_and_can_switch(
    chromium: Any, site: Site, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    seed_month(site, days=7)
    seed_reports(site)
    context = chromium.new_context(viewport={"width": 1440, "height": 900}, locale="ko-KR")
    page = context.new_page()
    languages: list[str] = []
    page.on(
        "request",
        lambda request: (
            languages.append(request.headers.get("accept-language", ""))
            if "/v1/" in request.url
            else None
        ),
    )
    try:
        page.goto(site.url + "/moderate/insights")
        expect(page.locator("html")).to_have_attribute("lang", "ko")
        expect(page).to_have_title("정책 분석 · 댓글 검토")
        page.get_by_label("토큰").fill(site.token("mod-1"))
        page.get_by_role("button", name="로그인").click()
        expect(page.locator("#report")).to_have_attribute("data-loaded", "true")
        expect(page.get_by_role("heading", level=1)).to_have_text("정책 분석")
        expect(page.locator("#tiles")).to_contain_text("판정된 댓글")
        expect(page.locator("#as-of")).to_contain_text("년")
        expect(page.locator("#reports-body .reports-total")).to_have_text(
            "독자 3명의 신고 6건: 유지 3, 기각 2, 미처리 1 · 정밀도 60%"
        )
        reasons = page.locator("#reports-body table[data-table='reason'] tbody th")
        expect(reasons).to_have_text(["불쾌함", "괴롭힘", "혐오 발언", "스팸"])
        expect(page.locator(".label-card[data-label='insult'] h3")).to_have_text("모욕")
        shown = page.locator("body").inner_text() + " ".join(
            page.locator("svg.chart").evaluate_all(
                "charts => charts.map(chart => chart.getAttribute('aria-label'))"
            )
        )
        assert [word for word in ENGLISH_WORDS if word in shown.lower()] == []
        assert languages and set(languages) == {"ko"}
        page.screenshot(path=str(artifacts / "insights-ko.png"), full_page=True)

        switch = page.get_by_label("언어")
        expect(switch.locator("option")).to_have_text(["English", "한국어"])
        expect(switch).to_have_value("ko")
        switch.select_option("en")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.locator("#report")).to_have_attribute("data-loaded", "true")
        expect(page.get_by_role("heading", level=1)).to_have_text("Policy insights")
        expect(page.locator("#tiles")).to_contain_text("Judged comments")
        page.get_by_label("Language").select_option("ko")
        expect(page.locator("html")).to_have_attribute("lang", "ko")
        expect(page.get_by_role("heading", level=1)).to_have_text("정책 분석")
    finally:
        context.close()
