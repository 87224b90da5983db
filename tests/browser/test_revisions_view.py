"""The moderators' page in Chromium on comments their authors changed: an edited held comment
shows what its edit changed, word by word, and its earlier revisions on demand, its texts never
becoming markup; a deleted comment shows as deleted by its author, with no text and nothing to
decide. One server and one signed-in page serve the whole module."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from service.comments.decisions import AutomatedDecision, record_automated_decisions
from service.comments.delete import delete_comment
from service.db.tables import Comment, utcnow
from service.http.auth import Principal
from service.store.comments import create_comment
from service.store.reports import add_report
from service.store.revisions import revise_comment
from tests.support.browser import Site, moderator_page, serve_site

HOSTILE_BEFORE = "Nice <b>article</b>, thanks."
HOSTILE_AFTER = '<img src=x onerror="window.__xss=1"> Nice <script>window.__xss=2</script> thanks.'
HELD_FOR = {"kind": "toxicity", "rule": "toxicity.hold", "message": "Toxicity 0.71"}


def edited(site: Site, texts: list[str], *, author: str) -> str:
    """A comment posted as `texts[0]`, edited into each later text in turn, and held by the
    policy on its last revision."""
    start = utcnow() - timedelta(minutes=30)
    with site.db.session() as session:
        comment = create_comment(
            session,
            article_id="politics-2026-budget",
            parent_id=None,
            author_id=author,
            author_name=None,
            text=texts[0],
            idempotency_key=None,
            body_hash=None,
            now=start,
        )
        for n, text in enumerate(texts[1:], start=1):
            revise_comment(
                session,
                comment=comment,
                text=text,
                idempotency_key=f"edit-{n}",
                body_hash=f"{n:064d}",
                now=start + timedelta(minutes=5 * n),
            )
        comment_id, revision = comment.id, comment.revision
    (recorded,) = record_automated_decisions(
        site.db,
        decisions=[
            AutomatedDecision(
                comment_id, "hold", [HELD_FOR], {"toxicity": 0.71}, context={}, revision=revision
            )
        ],
        policy_version="sha256:browser",
        model="unbiased",
        webhooks=False,
        now=utcnow(),
    )
    assert recorded is not None
    return comment_id


def deleted_by_author(site: Site, comment_id: str, *, author: str) -> None:
    delete_comment(
        site.db, principal=Principal(sub=author), comment_id=comment_id, events=frozenset()
    )


def status_of(site: Site, comment_id: str) -> str:
    with site.db.session() as session:
        row = session.get(Comment, comment_id)
        assert row is not None
        return row.status


@dataclass
class Moderator:
    site: Site
    page: Any
    console_errors: list[str] = field(default_factory=list)

    def open(self, view: str = "Held") -> Any:
        """The page afresh (the token and view survive a reload of the tab) on `view`."""
        from playwright.sync_api import expect

        self.page.reload()
        tab = self.page.get_by_role("tab", name=view)
        if tab.get_attribute("aria-selected") != "true":
            self.page.keyboard.press("v")
        expect(tab).to_have_attribute("aria-selected", "true")
        name = "Reported by readers" if view == "Reported" else "Waiting for review"
        return self.page.get_by_role("listbox", name=name).get_by_role("option")

    def select(self, entries: Any, text: str) -> None:
        from playwright.sync_api import expect

        entry = entries.filter(has_text=text)
        entry.click()
        expect(entry).to_have_attribute("aria-selected", "true")

    def marked(self, tag: str) -> list[str]:
        """The texts of the diff's <ins> or <del> marks, as the page has them."""
        texts: list[str] = self.page.locator(f"#detail .diff {tag}").evaluate_all(
            "nodes => nodes.map(node => node.textContent)"
        )
        return texts


@pytest.fixture(scope="module")
def revisions_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with serve_site(tmp_path_factory.mktemp("revisions")) as served:
        yield served


@pytest.fixture(scope="module")
def moderator(chromium: Any, revisions_site: Site) -> Iterator[Moderator]:
    errors: list[str] = []
    with moderator_page(chromium, revisions_site, errors) as page:
        yield Moderator(revisions_site, page, errors)


def test_edited_comment_shows_what_changed_and_earlier_revisions(
    moderator: Moderator, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    site, page = moderator.site, moderator.page
    comment_id = edited(
        site,
        [
            "The council approved the budget on Monday.",
            "The council rejected the budget on Monday.",
            "The council rejected the whole budget on Tuesday.",
        ],
        author="reader-1",
    )
    site.hold("Never edited, just rude.", author="reader-2", reasons=[HELD_FOR], scores={})

    entries = moderator.open()
    expect(entries.filter(has_text="whole budget").locator(".badge.edited")).to_have_text("Edited")
    expect(entries.filter(has_text="Never edited").locator(".badge.edited")).to_have_count(0)

    moderator.select(entries, "Never edited")
    detail = page.locator("#detail")
    expect(detail.locator(".comment-text")).to_have_text("Never edited, just rude.")
    expect(detail.locator(".revisions")).to_have_count(0)

    moderator.select(entries, "whole budget")
    revisions = detail.locator(".revisions")
    expect(revisions.get_by_role("heading")).to_have_text("Edited: revision 3 of 3")
    expect(detail.locator(".comment-text").first).to_have_text(
        "The council rejected the whole budget on Tuesday."
    )
    expect(revisions.locator(".diff")).to_have_text(
        "The council rejected the whole budget on Monday.Tuesday."
    )
    assert moderator.marked("ins") == ["whole ", "Tuesday."]
    assert moderator.marked("del") == ["Monday."]
    page.screenshot(path=str(artifacts / "moderation-revisions.png"))

    picker = revisions.get_by_label("Show")
    expect(picker.locator("option")).to_have_text(
        ["Revision 3 (current)", "Revision 2", "Revision 1 (as posted)"]
    )
    picker.select_option("2")
    expect(revisions.get_by_role("heading")).to_have_text("Edited: revision 2 of 3")
    expect(revisions.locator(".revision-note")).to_contain_text("Changes from revision 1")
    assert moderator.marked("del") == ["approved"]
    assert moderator.marked("ins") == ["rejected"]

    picker.select_option("1")
    expect(revisions.get_by_role("heading")).to_have_text("Edited: revision 1 of 3")
    expect(revisions.locator(".revision-note")).to_contain_text("As first posted")
    expect(revisions.locator(".comment-text")).to_have_text(
        "The council approved the budget on Monday."
    )
    expect(revisions.locator("ins, del")).to_have_count(0)

    # the decision goes to the current revision, sent with the version the edits left
    entries.filter(has_text="whole budget").focus()
    page.keyboard.press("a")
    expect(entries.filter(has_text="whole budget")).to_have_count(0)
    assert status_of(site, comment_id) == "approved"
    assert moderator.console_errors == []


def test_hostile_revisions_stay_text(moderator: Moderator) -> None:
    from playwright.sync_api import expect

    page = moderator.page
    edited(moderator.site, [HOSTILE_BEFORE, HOSTILE_AFTER], author="reader-3")
    entries = moderator.open()
    moderator.select(entries, "onerror")

    revisions = page.locator("#detail .revisions")
    expect(revisions.get_by_role("heading")).to_have_text("Edited: revision 2 of 2")
    # The heading names the revision before the revisions have loaded: wait for the diff.
    expect(revisions.locator(".diff ins")).to_have_count(2)
    assert moderator.marked("ins") == [
        '<img src=x onerror="window.__xss=1"> ',
        "<script>window.__xss=2</script>",
    ]
    assert moderator.marked("del") == ["<b>article</b>,"]
    revisions.get_by_label("Show").select_option("1")
    expect(revisions.locator(".comment-text")).to_have_text(HOSTILE_BEFORE)

    assert page.locator("main img, main script, main b").count() == 0
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert moderator.console_errors == []


def test_deleted_comments_show_as_deleted_with_nothing_to_decide(
    moderator: Moderator, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    site, page = moderator.site, moderator.page
    # a held reply whose parent its author deleted
    gone_parent = site.hold(
        "Rents rose again.", author="reader-4", reasons=[], scores={}, action="approve"
    )
    held_reply = site.hold(
        "So what, idiot.", author="reader-5", reasons=[HELD_FOR], scores={}, parent=gone_parent
    )
    deleted_by_author(site, gone_parent, author="reader-4")
    # a reported comment with a reply its author deleted, and one still published
    reported = site.hold(
        "The tram is a waste of money.", author="reader-6", reasons=[], scores={}, action="approve"
    )
    with site.db.session() as session:
        add_report(
            session,
            now=utcnow(),
            comment_id=reported,
            reporter_id="reporter-a",
            reason="spam",
            detail=None,
            legal_ground=None,
            explanation=None,
            good_faith=None,
            counts_toward_hide=True,
        )
        row = session.get(Comment, reported)
        assert row is not None
        row.reported_at = utcnow()
        row.version += 1
    gone_reply = site.hold(
        "I regret this reply.",
        author="reader-7",
        reasons=[],
        scores={},
        action="approve",
        parent=reported,
    )
    site.hold(
        "It is not.", author="reader-8", reasons=[], scores={}, action="approve", parent=reported
    )
    deleted_by_author(site, gone_reply, author="reader-7")

    entries = moderator.open()
    moderator.select(entries, "So what, idiot.")
    parent = page.locator("#detail .parent")
    expect(parent.locator(".status-deleted")).to_have_text("Deleted by its author")
    expect(parent.locator(".parent-text")).to_have_count(0)
    # deleted while the moderator looks at it: the decision is refused, in words
    deleted_by_author(site, held_reply, author="reader-5")
    page.keyboard.press("a")
    expect(page.locator("#notice")).to_contain_text("Its author deleted that comment")
    expect(entries.filter(has_text="So what, idiot.")).to_have_count(0)
    assert status_of(site, held_reply) == "deleted"
    assert all("409" in message for message in moderator.console_errors)
    moderator.console_errors.clear()

    entries = moderator.open("Reported")
    moderator.select(entries, "waste of money")
    page.keyboard.press("t")
    dialog = page.get_by_role("dialog", name="Thread")
    replies = dialog.locator(".thread-entry")
    expect(replies).to_have_count(3)
    gone = replies.filter(has=page.locator(".status-deleted"))
    expect(gone).to_have_count(1)
    expect(gone.locator(".status-deleted")).to_have_text("Deleted by its author")
    expect(gone.locator(".thread-text")).to_have_count(0)
    expect(gone.get_by_role("button")).to_have_count(0)
    kept = replies.filter(has_text="It is not.")
    expect(kept.get_by_role("button", name="Reject")).to_be_visible()
    page.screenshot(path=str(artifacts / "moderation-deleted-reply.png"))
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert moderator.console_errors == []
