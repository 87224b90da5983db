"""The moderators' page's view of an author in Chromium: `u` opens it beside the selected comment
with the author's comments counted by status, their sanction and the moderators' notes; a note
added through its form appears in it and in the comment's details; a warning given from it shows
in the history; the author's texts stay text; `u` and Esc close it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from service.db.tables import AuthorNote, Comment, Sanction, utcnow
from service.store.decisions import add_decision, set_comment_status
from service.store.sanctions import add_sanction
from tests.support.browser import Site, moderator_page, serve_site

AUTHOR = "reader-77"
HOSTILE = "<img src=x onerror=alert(1)> You people never learn."
HELD_FOR = {"kind": "toxicity", "rule": "toxicity.hold", "message": "Toxicity 0.74"}
OLD_NOTE = "Second account of reader-12, same wording. <b>Watch</b> the budget threads."


def seed(site: Site) -> str:
    """AUTHOR's comments: two published, one rejected by a moderator, one held (the hostile one,
    returned); an older note, a lapsed warning and a suspension in force. Another author's held
    comment too, older, so the queue has two."""
    site.hold(
        "Someone else's held comment.",
        author="reader-78",
        reasons=[HELD_FOR],
        scores={"toxicity": 0.6},
        minutes_ago=90,
    )
    for n in range(2):
        site.hold(
            f"Published comment {n}.",
            author=AUTHOR,
            reasons=[],
            scores={},
            action="approve",
            minutes_ago=80 - n,
        )
    rejected = site.hold(
        "You are all idiots.",
        author=AUTHOR,
        reasons=[HELD_FOR],
        scores={"toxicity": 0.9},
        minutes_ago=70,
    )
    now = utcnow()
    with site.db.session() as session:
        row = session.get(Comment, rejected)
        assert row is not None
        add_decision(
            session,
            comment_id=rejected,
            now=now,
            by="moderator",
            action="reject",
            moderator_id="mod-2",
            reason_code="abusive",
            reasons=[],
            scores={},
            context={},
        )
        set_comment_status(session, comment=row, status="rejected", now=now)
        session.add(
            AuthorNote(
                author_id=AUTHOR, moderator_id="mod-2", text=OLD_NOTE, at=now - timedelta(days=1)
            )
        )
        add_sanction(
            session,
            author_id=AUTHOR,
            kind="warning",
            created_by="mod-2",
            explanation="Insults other readers.",
            now=now - timedelta(days=2),
        )
        add_sanction(
            session,
            author_id=AUTHOR,
            kind="suspension",
            created_by="mod-2",
            explanation="Abuse after a warning.",
            until=now + timedelta(days=3),
            now=now - timedelta(hours=1),
        )
    return site.hold(
        HOSTILE, author=AUTHOR, reasons=[HELD_FOR], scores={"toxicity": 0.74}, minutes_ago=60
    )


@pytest.fixture
def author_site(tmp_path: Path) -> Iterator[Site]:
    with serve_site(tmp_path) as served:
        yield served


def test_u_shows_the_author_beside_the_comment(
    chromium: Any, author_site: Site, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    site = author_site
    seed(site)
    errors: list[str] = []
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:  # an alert(1) that ran would open one
        dialogs.append(dialog.message)
        dialog.dismiss()

    with moderator_page(chromium, site, errors) as page:
        page.on("dialog", on_dialog)
        entries = page.get_by_role("listbox", name="Waiting for review").get_by_role("option")
        expect(entries).to_have_count(2)
        hostile = entries.filter(has_text="You people never learn.")
        hostile.click()
        expect(hostile).to_have_attribute("aria-selected", "true")
        detail = page.locator("#detail")
        expect(detail.locator(".comment-text")).to_have_text(HOSTILE)
        # the author's latest note, in the comment's details, before the view is opened
        expect(detail.locator(".author-detail")).to_contain_text(OLD_NOTE)
        expect(detail.locator(".author-detail")).to_contain_text("Suspension")

        page.keyboard.press("u")
        pane = page.get_by_role("complementary", name=f"Author {AUTHOR}")
        expect(pane).to_be_visible()
        counts = pane.locator(".author-count")
        expect(counts).to_have_text(
            [
                "0 Pending",
                "2 Published",
                "1 Held",
                "1 Rejected",
                "0 Hidden by reports",
                "0 Deleted by its author",
            ]
        )
        current = pane.locator(".author-sanction-current")
        expect(current).to_contain_text("Suspension")
        expect(current).to_contain_text("In force")
        expect(current).to_contain_text("Abuse after a warning.")
        expect(pane.locator(".author-notes .author-note-text")).to_have_text([OLD_NOTE])
        expect(pane.locator(".author-note-count")).to_have_text("0 / 2000")
        expect(pane.locator(".author-precision")).to_contain_text("Precision")
        recent = pane.locator(".author-comment")
        expect(recent).to_have_count(4)
        expect(recent.filter(has_text="You are all idiots.")).to_contain_text("Rejected")
        # every text the author wrote is text, in the view as in the details
        expect(recent.filter(has_text="never learn").locator(".author-comment-text")).to_have_text(
            HOSTILE
        )
        assert page.locator("main img").count() == 0
        assert page.locator("#author b").count() == 0

        # a note added through the form: newest first, and in the details too
        note = pane.get_by_label("Add a note")
        note.fill("Apologised by email; <script>x</script> keep an eye on it.")
        expect(pane.locator(".author-note-count")).to_have_text("58 / 2000")
        pane.get_by_role("button", name="Add note").click()
        expect(pane.locator(".author-notes .author-note-text")).to_have_text(
            ["Apologised by email; <script>x</script> keep an eye on it.", OLD_NOTE]
        )
        expect(pane.get_by_role("status")).to_contain_text("Note added.")
        expect(note).to_have_value("")
        expect(detail.locator(".author-detail .author-note-text").first).to_have_text(
            "Apologised by email; <script>x</script> keep an eye on it."
        )

        # a warning given from the view is in its history
        pane.get_by_role("button", name="Warn").click()
        expect(pane.get_by_role("status")).to_contain_text(f"{AUTHOR} was warned.")
        history = pane.locator(".author-history")
        expect(history).to_contain_text("History (3 sanctions)")
        page.screenshot(path=str(artifacts / "moderation-author.png"))

        # u again closes it, focus back on the comment; Esc closes it too
        page.keyboard.press("u")
        expect(pane).to_be_hidden()
        expect(hostile).to_be_focused()
        page.keyboard.press("u")
        expect(pane).to_be_visible()
        # it follows the selection to another author
        page.keyboard.press("k")
        expect(page.get_by_role("complementary", name="Author reader-78")).to_be_visible()
        page.keyboard.press("Escape")
        expect(page.locator("#author")).to_be_hidden()

    with site.db.session() as session:
        kinds = session.scalars(select(Sanction.kind).where(Sanction.author_id == AUTHOR)).all()
        notes = session.scalars(
            select(AuthorNote.moderator_id).where(AuthorNote.author_id == AUTHOR)
        ).all()
    assert sorted(kinds) == ["suspension", "warning", "warning"]
    assert sorted(notes) == ["mod-1", "mod-2"]
    assert dialogs == []
    assert errors == []
