"""axe-core on every view of the moderators' pages, in English and in Korean: no violation of
serious or critical impact. /moderate: sign-in, the held queue with a comment open, the
shortcut help, a thread, an author's view, an edited comment's revisions, the Reported view
and an empty queue; /moderate/insights: sign-in, a refused sign-in, the report with nothing
in it and the report over seeded history (every panel, the shadow policy's too).

Two servers serve the module (one seeded, one empty) and one Chromium; each language is one
browser context, opened with the browser's language set as a Korean moderator's would be
(`locale="ko-KR"`: i18n.js reads navigator.languages). A failure lists every view's
violations with the rule and the nodes it was found at."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from service.comments.decisions import AutomatedDecision, record_automated_decisions
from service.db.tables import AuthorNote, Comment, utcnow
from service.store.comments import create_comment
from service.store.reports import add_report
from service.store.revisions import revise_comment
from service.store.sanctions import add_sanction
from tests.support.axe import Violation, audit, report
from tests.support.browser import Site, serve_site
from tests.support.insights_data import seed_month, seed_reports

BROWSER_LOCALES = {"en": "en-GB", "ko": "ko-KR"}
HELD_FOR = {"kind": "toxicity", "rule": "toxicity.hold", "message": "Toxicity 0.74"}
AUTHOR = "reader-77"
PARENT = "The council has published the budget at last."
REPLY = "Only an idiot would believe their figures."
EDITED = ("I disagree with the budget.", "I disagree with the whole budget, you clowns.")
REPORTED = "Buy cheap watches at deals.example, best prices."


def seed_queue(site: Site) -> None:
    """A held reply under a published comment (a thread), by an author with a note and a
    sanction; a held comment edited once (revisions); a published comment readers reported."""
    parent = site.hold(PARENT, author="reader-1", reasons=[], scores={}, action="approve")
    site.hold(REPLY, author=AUTHOR, parent=parent, reasons=[HELD_FOR], scores={"toxicity": 0.74})
    now = utcnow()
    with site.db.session() as session:
        session.add(
            AuthorNote(author_id=AUTHOR, moderator_id="mod-2", text="Second account.", at=now)
        )
        add_sanction(
            session,
            author_id=AUTHOR,
            kind="warning",
            created_by="mod-2",
            explanation="Insults other readers.",
            now=now - timedelta(days=2),
        )
        comment = create_comment(
            session,
            article_id="politics-2026-budget",
            parent_id=None,
            author_id="reader-3",
            author_name=None,
            text=EDITED[0],
            idempotency_key=None,
            body_hash=None,
            now=now - timedelta(minutes=30),
        )
        revise_comment(
            session,
            comment=comment,
            text=EDITED[1],
            idempotency_key="edit-1",
            body_hash=f"{1:064d}",
            now=now - timedelta(minutes=20),
        )
        edited_id, revision = comment.id, comment.revision
    record_automated_decisions(
        site.db,
        decisions=[
            AutomatedDecision(
                edited_id, "hold", [HELD_FOR], {"toxicity": 0.74}, context={}, revision=revision
            )
        ],
        policy_version="sha256:browser",
        model="unbiased",
        webhooks=False,
        now=now,
    )
    reported = site.hold(REPORTED, author="reader-4", reasons=[], scores={}, action="approve")
    with site.db.session() as session:
        for n, reason in enumerate(("spam", "spam", "offensive")):
            add_report(
                session,
                now=now - timedelta(minutes=10 - n),
                comment_id=reported,
                reporter_id=f"reader-{10 + n}",
                reason=reason,
                detail=None,
                counts_toward_hide=True,
            )
        row = session.get(Comment, reported)
        assert row is not None
        row.reported_at = now - timedelta(minutes=10)
        row.version += 1


@pytest.fixture(scope="module")
def busy_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with serve_site(tmp_path_factory.mktemp("busy")) as served:
        seed_queue(served)
        seed_month(served, days=10)
        seed_reports(served)
        yield served


@pytest.fixture(scope="module")
def quiet_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with serve_site(tmp_path_factory.mktemp("quiet")) as served:
        yield served


@dataclass
class Auditor:
    page: Any
    language: str
    violations: list[Violation] = field(default_factory=list)

    def check(self, view: str) -> None:
        """axe on the page as it is now; the page first shown in the language under test."""
        assert self.page.evaluate("document.documentElement.lang") == self.language, view
        self.violations += audit(self.page, f"{view}, {self.language}")


@contextmanager
def auditor(chromium: Any, language: str) -> Iterator[Auditor]:
    # bypass_csp: the pages' CSP (script-src 'self') would refuse the injected axe script.
    context = chromium.new_context(
        viewport={"width": 1366, "height": 900},
        locale=BROWSER_LOCALES[language],
        bypass_csp=True,
    )
    try:
        yield Auditor(context.new_page(), language)
    finally:
        context.close()


def sign_in(page: Any, token: str) -> None:
    page.locator("#token").fill(token)
    page.locator("#signin-form button[type=submit]").click()


@pytest.mark.parametrize("language", sorted(BROWSER_LOCALES))
def test_moderate_has_no_serious_violation(
    chromium: Any, busy_site: Site, quiet_site: Site, language: str
) -> None:
    from playwright.sync_api import expect

    with auditor(chromium, language) as axe:
        page = axe.page
        page.goto(quiet_site.url + "/moderate")
        expect(page.locator("#signin-form")).to_be_visible()
        axe.check("/moderate sign-in")
        sign_in(page, quiet_site.token("mod-1"))
        expect(page.locator("#empty")).to_be_visible()
        axe.check("/moderate empty queue")

        page.goto(busy_site.url + "/moderate")
        sign_in(page, busy_site.token("mod-1"))
        entries = page.locator("#queue [role=option]")
        reply = entries.filter(has_text=REPLY)
        reply.click()
        expect(reply).to_have_attribute("aria-selected", "true")
        expect(page.locator("#detail-body")).to_contain_text(REPLY)
        axe.check("/moderate held queue, a comment open")

        page.locator("#help-button").click()
        expect(page.locator("#help")).to_be_visible()
        axe.check("/moderate shortcut help")
        page.keyboard.press("Escape")
        expect(page.locator("#help")).to_be_hidden()

        page.locator("#open-thread").click()
        expect(page.locator("#thread-list")).to_contain_text(PARENT)
        expect(page.locator("#thread-list")).to_contain_text(REPLY)
        axe.check("/moderate thread open")
        page.keyboard.press("Escape")
        expect(page.locator("#thread")).to_be_hidden()

        page.locator("#open-author").click()
        expect(page.locator("#author-body")).to_contain_text("Second account.")
        axe.check("/moderate author view open")
        page.locator("#author-close").click()
        expect(page.locator("#author")).to_be_hidden()

        edited = entries.filter(has_text=EDITED[1])
        edited.click()
        expect(page.locator("#detail .revisions .diff")).to_be_visible()
        axe.check("/moderate revisions and diff")

        page.locator("#view-reported").click()
        expect(page.locator("#view-reported")).to_have_attribute("aria-selected", "true")
        reported = entries.filter(has_text=REPORTED)
        reported.click()
        expect(reported).to_have_attribute("aria-selected", "true")
        expect(page.locator("#detail-body")).to_contain_text(REPORTED)
        axe.check("/moderate reported view, a comment open")

    assert not axe.violations, report(axe.violations)


@pytest.mark.parametrize("language", sorted(BROWSER_LOCALES))
def test_insights_has_no_serious_violation(
    chromium: Any, busy_site: Site, quiet_site: Site, language: str
) -> None:
    from playwright.sync_api import expect

    with auditor(chromium, language) as axe:
        page = axe.page
        page.goto(quiet_site.url + "/moderate/insights")
        expect(page.locator("#signin-form")).to_be_visible()
        axe.check("/moderate/insights sign-in")
        sign_in(page, quiet_site.token("reader-1", moderator=False))
        expect(page.locator("#signin-error")).not_to_be_empty()
        axe.check("/moderate/insights sign-in refused")
        sign_in(page, quiet_site.token("mod-1"))
        expect(page.locator("#report")).to_have_attribute("data-loaded", "true")
        axe.check("/moderate/insights report, nothing in the window")

        page.goto(busy_site.url + "/moderate/insights")
        sign_in(page, busy_site.token("mod-1"))
        expect(page.locator("#report")).to_have_attribute("data-loaded", "true")
        expect(page.locator("#shadow-panel")).to_be_visible()
        expect(page.locator("#reports-body table")).to_have_count(2)
        axe.check("/moderate/insights report over ten days")

    assert not axe.violations, report(axe.violations)


def test_the_audit_names_the_view_rule_and_nodes(chromium: Any) -> None:
    """The audit itself: a page with a nameless button and a scrolling region out of the
    keyboard's reach gets both violations, each located; a minor one is not counted."""
    with auditor(chromium, "en") as axe:
        axe.page.set_content(
            '<html lang="en"><head><title>t</title></head><body><main><h1>t</h1>'
            '<button id="nameless"></button>'
            '<div id="pane" style="height:40px;overflow:auto">' + "<p>line</p>" * 20 + "</div>"
            "<table><tr><th></th><td>1</td></tr></table>"
            "</main></body></html>"
        )
        found = {violation.rule: violation for violation in audit(axe.page, "fixture")}
    assert set(found) == {"button-name", "scrollable-region-focusable"}
    assert found["button-name"].targets == ("#nameless",)
    assert found["scrollable-region-focusable"].targets == ("#pane",)
    assert str(found["button-name"]).startswith("[fixture] button-name (critical): ")
