"""The insights page in Debian's Chromium: a month of seeded history drawn as SVG charts from
our own script only (strict CSP, no other origin), with no console errors; a screenshot is
saved to test-artifacts/insights.png for people to look at."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import policy
from service.db.tables import utcnow
from service.http.auth import Principal
from service.moderation.review import review_comment
from service.moderation.schemas import Review
from service.settings import DEFAULT_POLICY
from service.store.comments import create_comment
from service.store.reports import add_report, close_open_reports
from service.store.tuning import add_shadow_decisions, lock_audit_sample_or_none
from service.tuning.sampling import judge_sample
from tests.support.browser import Site
from tests.support.tuning_history import record_policy_decision

MODERATOR = Principal("mod-1", roles=frozenset({"moderator"}))
DAYS = 30
TEXTS = (
    "The council should publish the full budget before the vote.",
    "This is the worst take I have read all year, honestly.",
    "Great reporting, thank you for following up on this.",
    "People like you are the reason this country is a mess.",
    "Source for the figures in paragraph three, please?",
    "Typical of this paper to leave out the other side.",
)


def clamp(value: float) -> float:
    return round(min(max(value, 0.001), 0.999), 3)


def seed_month(site: Site) -> dict[str, int]:
    """A month of comments decided by the shipped policy, judged by moderators who are slower
    at weekends; a tenth of approvals sampled and labelled; a shadow policy on the last week."""
    rng = random.Random(2026)
    current = policy.load_policy(DEFAULT_POLICY)
    now = utcnow()
    counts = {"comments": 0, "held": 0}
    for day in range(DAYS, 0, -1):
        for n in range(rng.randint(9, 16)):
            at = now - timedelta(days=day) + timedelta(hours=rng.uniform(7, 23))
            harmful = rng.random() < 0.3
            scores = {
                "toxicity": clamp((0.7 if harmful else 0.28) + rng.gauss(0, 0.18)),
                "insult": clamp((0.62 if harmful else 0.22) + rng.gauss(0, 0.2)),
                "threat": clamp((0.25 if harmful else 0.03) + rng.gauss(0, 0.12)),
                "obscene": clamp((0.45 if harmful else 0.12) + rng.gauss(0, 0.18)),
            }
            text = TEXTS[(day + n) % len(TEXTS)]
            if rng.random() < 0.06:
                text += " More at http://deals.example/x"
            context = policy.Context(
                author={"approved": 3, "rejected": 0, "held": 0},
                article={"premoderated": False},
                flood_count=1,
                language="en",
            )
            decision = current.evaluate(
                policy.Comment(text=text, author_id=f"reader-{n}", article_id="news-1"),
                scores,
                context,
            )
            with site.db.session() as session:
                comment_id = create_comment(
                    session,
                    article_id="news-1",
                    parent_id=None,
                    author_id=f"reader-{n}",
                    author_name=None,
                    text=text,
                    idempotency_key=None,
                    body_hash=None,
                    now=at,
                ).id
            record_policy_decision(
                site.db,
                comment_id=comment_id,
                decision=decision,
                scores=scores,
                context=context,
                policy_version=current.version,
                now=at,
                audit_sample_rate=0.1,
            )
            counts["comments"] += 1
            if day <= 7:
                with site.db.session() as session:
                    add_shadow_decisions(
                        session,
                        policy_version="sha256:shadow-candidate",
                        decisions=[
                            (
                                comment_id,
                                1,
                                "hold" if scores["insult"] >= 0.6 else decision.action,
                                [],
                            )
                        ],
                        now=at,
                    )
            if decision.action == "hold":
                counts["held"] += 1
                weekend = (now - timedelta(days=day)).weekday() >= 5
                delay = timedelta(hours=rng.uniform(8, 40) if weekend else rng.uniform(0.2, 6))
                waiting = day <= 2 and rng.random() < 0.6
                if not waiting and at + delay < now:
                    review_comment(
                        site.db,
                        moderator=MODERATOR,
                        review=Review(
                            comment_id,
                            # moderators let some through the model scores high (quotes, irony)
                            "reject" if harmful and rng.random() < 0.85 else "approve",
                            2,
                            None,
                            False,
                        ),
                        events=frozenset(),
                        now=at + delay,
                    )
            else:
                with site.db.session() as session:
                    sampled = lock_audit_sample_or_none(session, comment_id=comment_id)
                if sampled is not None and day > 2:
                    judge_sample(
                        site.db,
                        moderator=MODERATOR,
                        comment_id=comment_id,
                        label="not_fine" if harmful else "fine",
                        override=False,
                        now=at + timedelta(hours=2),
                    )
    return counts


# (reporters and their reasons, outcome) of three reported comments
REPORTED = (
    ([("reader-7", "spam"), ("reader-8", "spam"), ("reader-9", "offensive")], "upheld"),
    ([("reader-7", "spam"), ("reader-8", "harassment")], "dismissed"),
    ([("reader-7", "hate_speech")], None),
)


def seed_reports(site: Site) -> None:
    """Published comments reported by readers; a moderator upheld or dismissed the reports
    of the first two, the third's are still open."""
    now = utcnow()
    for index, (reports, outcome) in enumerate(REPORTED):
        with site.db.session() as session:
            comment_id = create_comment(
                session,
                article_id="news-1",
                parent_id=None,
                author_id=f"author-{index}",
                author_name=None,
                text=TEXTS[index],
                idempotency_key=None,
                body_hash=None,
                now=now - timedelta(days=3),
            ).id
            for reporter, reason in reports:
                add_report(
                    session,
                    now=now - timedelta(days=2),
                    comment_id=comment_id,
                    reporter_id=reporter,
                    reason=reason,
                    counts_toward_hide=True,
                )
            if outcome is not None:
                close_open_reports(
                    session,
                    comment_id=comment_id,
                    outcome=outcome,
                    moderator_id="mod-1",
                    now=now - timedelta(days=1),
                )


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
