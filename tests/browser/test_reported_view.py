"""The moderators' page's Reported view in Chromium: readers' reports by reason, the legal
notice, the parent above a reply, a code picked by a digit key, the thread decided from its own
buttons, and the reported queue cleared with the keyboard alone. One server and one signed-in
page serve the whole module; each test reloads the page and seeds the comments it works on."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from service.db.tables import Comment, Decision, Report, utcnow
from service.store.decisions import add_decision, set_comment_status
from service.store.reports import add_report, close_open_reports
from tests.support.browser import Site, moderator_page, serve_site

REPLY_XSS = '<img src=x onerror="window.__xss=1"> So are you, idiot.'


@dataclass(frozen=True)
class Reported:
    """A published comment and the readers' reports it got: (reporter, reason, detail)."""

    text: str
    author: str
    reports: list[tuple[str, str, str | None]]
    parent: str | None = None
    hidden: bool = False
    notice: bool = False


def publish(site: Site, text: str, *, author: str, parent: str | None = None) -> str:
    return site.hold(text, author=author, reasons=[], scores={}, action="approve", parent=parent)


def report(site: Site, comment: Reported, *, minutes_ago: float) -> str:
    """The comment published, then reported, as the report intake leaves it: open report rows,
    `reported_at` set, and for a hidden one the status and the decision row by reports."""
    comment_id = publish(site, comment.text, author=comment.author, parent=comment.parent)
    at = utcnow() - timedelta(minutes=minutes_ago)
    with site.db.session() as session:
        for n, (reporter, reason, detail) in enumerate(comment.reports):
            notice = reason == "illegal"
            add_report(
                session,
                now=at + timedelta(seconds=n),
                comment_id=comment_id,
                reporter_id=reporter,
                reason=reason,
                detail=detail,
                legal_ground="Defamation (Criminal Code § 186)" if notice else None,
                explanation="It says the mayor took bribes; she was never charged."
                if notice
                else None,
                good_faith=True if notice else None,
                counts_toward_hide=True,
            )
        row = session.get(Comment, comment_id)
        assert row is not None
        row.reported_at = at
        row.version += 1
        if comment.hidden:
            set_comment_status(session, comment=row, status="hidden", now=at)
            add_decision(
                session,
                comment_id=comment_id,
                now=at,
                by="reports",
                action="hide",
                reasons=[
                    {
                        "kind": "reports",
                        "rule": "reports.hide_after",
                        "message": f"Hidden after {len(comment.reports)} readers reported it.",
                        "count": len(comment.reports),
                        "hide_after": len(comment.reports),
                    }
                ],
                scores={},
                context={},
            )
    return comment_id


def status_of(site: Site, comment_id: str) -> tuple[str, Any]:
    with site.db.session() as session:
        row = session.get(Comment, comment_id)
        assert row is not None
        return row.status, row.reported_at


def reports_of(site: Site, comment_id: str) -> list[str]:
    with site.db.session() as session:
        return list(session.scalars(select(Report.status).where(Report.comment_id == comment_id)))


def last_decision(site: Site, comment_id: str) -> Decision:
    with site.db.session() as session:
        decision = session.scalars(
            select(Decision).where(Decision.comment_id == comment_id).order_by(Decision.id.desc())
        ).first()
        assert decision is not None
        session.expunge(decision)
        return decision


@dataclass
class Moderator:
    site: Site
    page: Any
    console_errors: list[str] = field(default_factory=list)

    def open(self, view: str = "Reported") -> Any:
        """The page afresh (the token and view survive a reload of the tab) on `view`."""
        from playwright.sync_api import expect

        self.page.reload()
        tab = self.page.get_by_role("tab", name=view)
        if tab.get_attribute("aria-selected") != "true":
            self.page.keyboard.press("v")
        expect(tab).to_have_attribute("aria-selected", "true")
        return self.entries(view)

    def entries(self, view: str = "Reported") -> Any:
        name = "Reported by readers" if view == "Reported" else "Waiting for review"
        return self.page.get_by_role("listbox", name=name).get_by_role("option")

    def select_by_keyboard(self, text: str, view: str = "Reported") -> None:
        """Press j until the entry with `text` is selected: the keyboard alone."""
        from playwright.sync_api import expect

        entries = self.entries(view)
        expect(entries.first).to_be_visible()
        texts = entries.all_inner_texts()
        matches = [n for n, entry in enumerate(texts) if text in entry]
        assert matches, (text, texts)
        for _ in range(len(texts)):
            self.page.keyboard.press("k")
        for _ in range(matches[0]):
            self.page.keyboard.press("j")
        expect(entries.nth(matches[0])).to_have_attribute("aria-selected", "true")


@pytest.fixture(scope="module")
def reported_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with serve_site(tmp_path_factory.mktemp("reported")) as served:
        yield served


@pytest.fixture(scope="module")
def moderator(chromium: Any, reported_site: Site) -> Iterator[Moderator]:
    errors: list[str] = []
    with moderator_page(chromium, reported_site, errors) as page:
        yield Moderator(reported_site, page, errors)


def test_reported_items_show_counts_notice_and_parent(
    moderator: Moderator, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    site, page = moderator.site, moderator.page
    story = publish(site, "The mayor's new budget cuts the libraries by half.", author="reader-1")
    reply = report(
        site,
        Reported(
            REPLY_XSS,
            author="reader-2",
            parent=story,
            reports=[
                ("reporter-a", "harassment", "A personal attack on the first commenter."),
                ("reporter-b", "offensive", None),
                ("reporter-c", "offensive", None),
            ],
        ),
        minutes_ago=30,
    )
    notice = report(
        site,
        Reported(
            "Everyone knows the mayor takes bribes from the developers.",
            author="reader-3",
            notice=True,
            hidden=True,
            reports=[("reporter-d", "illegal", None), ("reporter-e", "abusive", "Lies.")],
        ),
        minutes_ago=20,
    )

    entries = moderator.open()
    replied = entries.filter(has_text="So are you")
    expect(replied).to_contain_text("3 reports")
    expect(replied.locator(".report-reason")).to_have_text(["Offensive 2", "Harassment 1"])
    hidden = entries.filter(has_text="takes bribes")
    expect(hidden.locator(".report-hidden")).to_have_text("Hidden")
    expect(hidden.locator(".report-legal")).to_have_text("Legal notice")

    moderator.select_by_keyboard("So are you")
    detail = page.locator("#detail")
    parent = detail.locator(".parent")
    expect(parent).to_contain_text("In reply to")
    expect(parent.locator(".parent-text")).to_have_text(
        "The mayor's new budget cuts the libraries by half."
    )
    # the parent sits above the comment itself, and the reply's markup is only text
    assert detail.evaluate(
        "node => node.querySelector('.parent').compareDocumentPosition("
        "node.querySelector('.comment-text')) === Node.DOCUMENT_POSITION_FOLLOWING"
    )
    expect(detail.locator(".comment-text")).to_have_text(REPLY_XSS)
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator("main img").count() == 0
    facet = detail.locator(".reports")
    expect(facet.locator(".report-summary")).to_contain_text("3 reports")
    expect(facet.locator(".report-summary")).to_contain_text("reporter-a")
    expect(facet.locator(".report-count")).to_have_text(["2 Offensive", "1 Harassment"])
    expect(facet.locator(".report-details")).to_contain_text(
        "A personal attack on the first commenter."
    )

    moderator.select_by_keyboard("takes bribes")
    expect(detail.locator(".reports")).to_contain_text("Hidden from readers until you decide")
    legal = detail.locator(".legal-notice")
    expect(legal).to_contain_text("Defamation (Criminal Code § 186)")
    expect(legal).to_contain_text("she was never charged")
    expect(legal).to_contain_text("Declared by the reporter")
    page.screenshot(path=str(artifacts / "moderation-reported.png"))

    # looking decides nothing
    assert status_of(site, reply)[0] == "approved"
    assert status_of(site, notice)[0] == "hidden"
    assert moderator.console_errors == []


def test_thread_decides_replies_from_their_own_buttons(
    moderator: Moderator, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    site, page = moderator.site, moderator.page
    root = publish(site, "Who pays for the new tram line?", author="reader-10")
    parent = report(
        site,
        Reported(
            "The taxpayers, as always. Wake up.",
            author="reader-11",
            parent=root,
            reports=[("reporter-f", "other", None)],
        ),
        minutes_ago=5,
    )
    held_reply = site.hold(
        "You are a moron.", author="reader-12", reasons=[], scores={}, parent=parent
    )
    published_reply = publish(
        site, "Buy followers at spam.example", author="reader-13", parent=parent
    )

    # the hold queue shows the parent above a held reply too
    moderator.open("Held")
    moderator.select_by_keyboard("You are a moron.", view="Held")
    expect(page.locator("#detail .parent-text")).to_have_text("The taxpayers, as always. Wake up.")

    moderator.open()
    moderator.select_by_keyboard("Wake up")
    page.keyboard.press("t")
    dialog = page.get_by_role("dialog", name="Thread")
    expect(dialog).to_be_visible()
    entries = dialog.locator(".thread-entry")
    expect(entries).to_have_count(4)
    expect(entries.nth(0)).to_contain_text("Earlier")
    expect(entries.nth(0)).to_contain_text("Who pays for the new tram line?")
    expect(entries.nth(1)).to_contain_text("This comment")
    expect(entries.nth(1)).to_contain_text("The taxpayers")
    held = entries.filter(has_text="You are a moron.")
    expect(held).to_contain_text("Held")
    published = entries.filter(has_text="Buy followers")
    expect(published).to_contain_text("Published")

    # a code picked with a digit key goes with a rejection decided in the thread
    page.keyboard.press("5")
    expect(dialog.locator("#thread-code")).to_contain_text("Spam")
    published.get_by_role("button", name="Reject").focus()
    page.keyboard.press("Enter")
    expect(published).to_contain_text("Rejected")
    assert status_of(site, published_reply)[0] == "rejected"
    decision = last_decision(site, published_reply)
    assert (decision.action, decision.reason_code) == ("reject", "spam")

    held.get_by_role("button", name="Approve").click()
    expect(held).to_contain_text("Published")
    expect(dialog.locator("#thread-status")).to_contain_text("Approved")
    assert status_of(site, held_reply)[0] == "approved"
    page.screenshot(path=str(artifacts / "moderation-thread.png"))

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    # the reported comment itself is still to be decided, and still selected
    expect(page.locator("#detail .comment-text")).to_have_text("The taxpayers, as always. Wake up.")
    assert status_of(site, parent)[0] == "approved"
    assert moderator.console_errors == []


def test_long_thread_pages_its_replies_and_keeps_the_place(moderator: Moderator) -> None:
    from playwright.sync_api import expect

    site, page = moderator.site, moderator.page
    busy = report(
        site,
        Reported(
            "A thread with many answers.",
            author="reader-40",
            reports=[("reporter-m", "spam", None)],
        ),
        minutes_ago=2,
    )
    replies = [
        publish(site, f"Answer number {n}.", author=f"reader-{41 + n}", parent=busy)
        for n in range(21)
    ]

    moderator.open()
    moderator.select_by_keyboard("A thread with many answers.")
    page.keyboard.press("t")
    dialog = page.get_by_role("dialog", name="Thread")
    entries = dialog.locator(".thread-entry")
    expect(entries).to_have_count(21)  # this comment and a first page of 20 replies
    more = dialog.get_by_role("button", name="More replies")
    more.focus()
    page.keyboard.press("Enter")
    expect(entries).to_have_count(22)
    expect(more).to_be_hidden()
    last = entries.filter(has_text="Answer number 20.")
    last.get_by_role("button", name="Reject").click()
    expect(last).to_contain_text("Rejected")
    expect(entries).to_have_count(22)  # reloaded with as many replies as were on show
    expect(last.get_by_role("button", name="Approve")).to_be_focused()
    assert status_of(site, replies[-1])[0] == "rejected"
    page.keyboard.press("t")
    expect(dialog).to_be_hidden()
    assert moderator.console_errors == []


def test_conflicts_are_said_in_words(moderator: Moderator) -> None:
    from playwright.sync_api import expect

    site, page = moderator.site, moderator.page
    closed = report(
        site,
        Reported(
            "Closed behind your back.", author="reader-20", reports=[("reporter-g", "spam", None)]
        ),
        minutes_ago=1,
    )
    moderator.open()
    moderator.select_by_keyboard("Closed behind your back.")
    with site.db.session() as session:  # another moderator's keep, as far as the reports go
        close_open_reports(
            session, comment_id=closed, outcome="dismissed", moderator_id="mod-2", now=utcnow()
        )
        row = session.get(Comment, closed)
        assert row is not None
        row.reported_at = None
    page.keyboard.press("a")
    expect(page.locator("#notice")).to_contain_text("no open reports any more")
    expect(moderator.entries().filter(has_text="Closed behind your back.")).to_have_count(0)

    uncoded = report(
        site,
        Reported(
            "Rejected without a code?", author="reader-21", reports=[("reporter-h", "spam", None)]
        ),
        minutes_ago=1,
    )
    site.settings.require_reason_code = True
    try:
        moderator.open()
        moderator.select_by_keyboard("Rejected without a code?")
        page.keyboard.press("r")
        expect(page.locator("#notice")).to_contain_text("needs a code")
        expect(moderator.entries().filter(has_text="Rejected without a code?")).to_have_count(1)
        page.keyboard.press("7")
        page.keyboard.press("r")
        expect(moderator.entries().filter(has_text="Rejected without a code?")).to_have_count(0)
    finally:
        site.settings.require_reason_code = False
    assert last_decision(site, uncoded).reason_code == "off_topic"
    assert moderator.console_errors == [] or all(
        "409" in message or "422" in message for message in moderator.console_errors
    )
    moderator.console_errors.clear()


def test_keyboard_alone_clears_the_reported_queue(moderator: Moderator) -> None:
    """A coded rejection, a hidden comment kept, an illegal-content rejection with its legal
    ground, then whatever else is reported kept: keys only, until the queue is empty."""
    from playwright.sync_api import expect

    site, page = moderator.site, moderator.page
    story = publish(site, "Rents rose 12% this year in the city centre.", author="reader-30")
    coded = report(
        site,
        Reported(
            "Only an idiot would rent there, like you.",
            author="reader-31",
            parent=story,
            reports=[
                ("reporter-i", "harassment", "Insults the first commenter."),
                ("reporter-j", "offensive", None),
            ],
        ),
        minutes_ago=50,
    )
    hidden = report(
        site,
        Reported(
            "The landlords' lobby wrote this law.",
            author="reader-32",
            hidden=True,
            reports=[("reporter-k", "other", None)],
        ),
        minutes_ago=40,
    )
    illegal = report(
        site,
        Reported(
            "Someone should burn their offices down.",
            author="reader-33",
            notice=True,
            reports=[("reporter-l", "illegal", None)],
        ),
        minutes_ago=30,
    )
    entries = moderator.open()

    # 3 (harassment), then r: rejected with that code, its reports upheld
    moderator.select_by_keyboard("Only an idiot")
    expect(page.locator("#detail .parent-text")).to_have_text(
        "Rents rose 12% this year in the city centre."
    )
    page.keyboard.press("3")
    expect(page.locator("#codes [aria-pressed='true']")).to_have_text("3 Harassment")
    count = entries.count()
    page.keyboard.press("r")
    expect(entries).to_have_count(count - 1)
    assert status_of(site, coded) == ("rejected", None)
    assert reports_of(site, coded) == ["upheld"] * 2
    decision = last_decision(site, coded)
    assert (decision.by, decision.action, decision.reason_code) == (
        "moderator",
        "reject",
        "harassment",
    )

    # a: kept, and a hidden comment is published again
    moderator.select_by_keyboard("landlords' lobby")
    expect(page.locator("#approve")).to_contain_text("Keep")
    page.keyboard.press("a")
    expect(entries).to_have_count(count - 2)
    assert status_of(site, hidden) == ("approved", None)
    assert reports_of(site, hidden) == ["dismissed"]
    assert last_decision(site, hidden).action == "keep"

    # 8 (illegal): r asks for the legal ground, Enter sends it
    moderator.select_by_keyboard("burn their offices")
    expect(page.locator("#detail .legal-notice")).to_contain_text("Defamation")
    page.keyboard.press("8")
    legal = page.get_by_label("Legal ground")
    expect(legal).to_be_visible()
    page.keyboard.press("r")
    expect(legal).to_be_focused()
    page.keyboard.type("Incitement (Criminal Code § 130)")
    page.keyboard.press("Enter")
    expect(entries).to_have_count(count - 3)
    decision = last_decision(site, illegal)
    assert (decision.action, decision.reason_code, decision.legal_ground) == (
        "reject",
        "illegal",
        "Incitement (Criminal Code § 130)",
    )
    assert reports_of(site, illegal) == ["upheld"]

    # whatever the other tests left: kept, one a at a time, focus staying on the list
    for left in range(count - 3, 0, -1):
        expect(entries).to_have_count(left)
        page.keyboard.press("a")
    expect(page.locator("#empty")).to_be_visible()
    expect(page.locator("#empty")).to_contain_text("No reported comments")
    with site.db.session() as session:
        assert (
            session.scalars(select(Comment.id).where(Comment.reported_at.is_not(None))).all() == []
        )
        assert session.scalars(select(Report.id).where(Report.status == "open")).all() == []

    page.keyboard.press("v")
    expect(page.get_by_role("tab", name="Held")).to_have_attribute("aria-selected", "true")
    assert moderator.console_errors == []
