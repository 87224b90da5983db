"""Retention erases the text of old decided comments and nothing else."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest

from service.comments.decisions import AutomatedDecision, record_automated_decisions
from service.db.engine import Database
from service.db.tables import (
    Comment,
    CommentRevision,
    Decision,
    PerspectiveFeedback,
    Report,
    WebhookEvent,
    utcnow,
)
from service.retention import purge_expired_text
from service.store.comments import create_comment
from service.store.perspective import (
    add_perspective_feedback,
    create_perspective_key,
    set_feedback_scores,
)
from service.store.reports import add_report
from tests.support.databases import BACKENDS
from tests.support.paths import REPO


def seed(db: Database, text: str, action: str | None, *, age_days: float) -> str:
    now = utcnow() - timedelta(days=age_days)
    with db.session() as session:
        comment = create_comment(
            session,
            article_id="a",
            parent_id=None,
            author_id="reader-1",
            author_name=None,
            text=text,
            idempotency_key=None,
            body_hash=None,
            now=now,
        )
        comment_id = comment.id
    if action is not None:
        record_automated_decisions(
            db,
            decisions=[
                AutomatedDecision(comment_id, action, [], {"toxicity": 0.1}, context={}, revision=1)
            ],
            policy_version="sha256:x",
            model="m",
            webhooks=True,
            now=now,
        )
        with db.session() as session:
            for event in session.query(WebhookEvent).filter_by(comment_id=comment_id):
                event.status = "delivered"
    return comment_id


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_purge_erases_only_old_decided_text(database_url: str) -> None:
    db = Database(database_url)
    old_approved = seed(db, "old and approved, phone 010-1234-5678", "approve", age_days=91)
    old_held = seed(db, "old and still held", "hold", age_days=91)
    recent = seed(db, "recent and approved", "approve", age_days=1)
    pending = seed(db, "old but never decided", None, age_days=200)

    assert purge_expired_text(db, retention_days=90) == 1

    with db.session() as session:
        texts = {c.id: c.text for c in session.query(Comment)}
        assert texts[old_approved] is None
        assert texts[old_held] and texts[recent] and texts[pending]
        assert session.query(Decision).filter_by(comment_id=old_approved).count() == 1
        event = session.query(WebhookEvent).filter_by(comment_id=old_approved).one()
        assert event.payload["data"]["text"] is None
        assert event.payload["data"]["status"] == "approved"
    assert purge_expired_text(db, retention_days=90) == 0
    db.dispose()


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_purge_command(database_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = Database(database_url)
    seed(db, "two days old", "approve", age_days=2)
    db.dispose()
    env = {
        "MODERATION_DATABASE_URL": database_url,
        "MODERATION_VAR_DIR": str(tmp_path),
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "-m", "workers", "purge", "--days", "1"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "erased the text of 1 comment(s)" in result.stderr


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_purge_erases_old_feedback_text_and_keeps_its_label(database_url: str) -> None:
    db = Database(database_url)
    now = utcnow()
    with db.session() as session:
        create_perspective_key(session, name="coral", key_hash="0" * 64, qps=10, now=now)
        for age_days, text in ((91, "old feedback, mail me at a@b.example"), (1, "recent")):
            row = add_perspective_feedback(
                session,
                key_name="coral",
                attribute="TOXICITY",
                value=1.0,
                text=text,
                community_id=None,
                client_token=None,
                now=now - timedelta(days=age_days),
            )
            set_feedback_scores(session, feedback=row, scores={"toxicity": 0.9})

    try:
        purge_expired_text(db, retention_days=90)

        with db.session() as session:
            rows = session.query(PerspectiveFeedback).order_by(PerspectiveFeedback.created_at)
            kept = [(row.text, row.value, row.scores) for row in rows]
        assert kept == [(None, 1.0, {"toxicity": 0.9}), ("recent", 1.0, {"toxicity": 0.9})]
    finally:
        db.dispose()


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_purge_erases_the_words_of_old_closed_reports_and_keeps_their_outcome(
    database_url: str,
) -> None:
    db = Database(database_url)
    now = utcnow()
    comment_id = seed(db, "a published comment", "approve", age_days=100)
    # Its open report keeps its text (and its reports keep theirs) until a moderator closes
    # it; only the reports closed long ago lose their words.
    cases = [
        ("reader-2", "upheld", 91, "his phone is 010-1234-5678"),
        ("reader-3", "dismissed", 1, "recently closed"),
        ("reader-4", "open", None, "still open, the moderator reads it"),
    ]
    with db.session() as session:
        for reporter, status, closed_days_ago, detail in cases:
            report = add_report(
                session,
                now=now - timedelta(days=95),
                comment_id=comment_id,
                reporter_id=reporter,
                reason="illegal",
                detail=detail,
                legal_ground="Telecommunications Act s. 1",
                explanation=f"why: {detail}",
                good_faith=True,
                counts_toward_hide=True,
            )
            report.status = status
            if closed_days_ago is not None:
                report.resolved_at = now - timedelta(days=closed_days_ago)
    try:
        assert purge_expired_text(db, retention_days=90) == 0
        with db.session() as session:
            comment = session.get(Comment, comment_id)
            assert comment is not None and comment.text == "a published comment"
            rows = session.query(Report).order_by(Report.reporter_id)
            kept = [(r.status, r.reason, r.legal_ground, r.detail, r.explanation) for r in rows]
        assert kept == [
            ("upheld", "illegal", "Telecommunications Act s. 1", None, None),
            (
                "dismissed",
                "illegal",
                "Telecommunications Act s. 1",
                "recently closed",
                "why: recently closed",
            ),
            (
                "open",
                "illegal",
                "Telecommunications Act s. 1",
                "still open, the moderator reads it",
                "why: still open, the moderator reads it",
            ),
        ]
    finally:
        db.dispose()


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_what_follows_a_comments_text_is_erased_with_it(database_url: str) -> None:
    """Its revisions' texts and the words of its reports, however recently closed, go when
    retention erases the comment's text; a comment with an open report keeps its text and
    its reports keep theirs, and so does a recent comment."""
    db = Database(database_url)
    now = utcnow()
    old = seed(db, "old, edited, reported: call 010-1234-5678", "approve", age_days=91)
    still_reported = seed(db, "old, and reported again", "approve", age_days=91)
    recent = seed(db, "recent and approved", "approve", age_days=1)
    reports = {
        old: ("upheld", "dismissed"),
        still_reported: ("dismissed", "open"),
        recent: ("dismissed", "open"),
    }
    with db.session() as session:
        for comment_id, statuses in reports.items():
            for revision in (1, 2):
                session.add(
                    CommentRevision(
                        comment_id=comment_id,
                        revision=revision,
                        text=f"revision {revision}",
                        created_at=now - timedelta(days=95),
                    )
                )
            for reporter, status in zip(("reader-2", "reader-3"), statuses, strict=True):
                report = add_report(
                    session,
                    now=now - timedelta(days=2),
                    comment_id=comment_id,
                    reporter_id=reporter,
                    reason="illegal",
                    detail="it quotes the comment",
                    legal_ground="Telecommunications Act s. 1",
                    explanation="why it is illegal",
                    good_faith=True,
                    counts_toward_hide=False,
                )
                report.status = status
                report.resolved_at = None if status == "open" else now - timedelta(days=1)
    try:
        assert purge_expired_text(db, retention_days=90) == 1
        with db.session() as session:
            texts = {row.id: row.text for row in session.query(Comment)}
            revisions = {
                (row.comment_id, row.revision): row.text for row in session.query(CommentRevision)
            }
            kept = {
                (row.comment_id, row.reporter_id): (row.status, row.legal_ground, row.detail)
                for row in session.query(Report)
            }
        assert texts[old] is None and texts[still_reported] and texts[recent]
        assert revisions == {
            **{(old, revision): None for revision in (1, 2)},
            **{(still_reported, revision): f"revision {revision}" for revision in (1, 2)},
            **{(recent, revision): f"revision {revision}" for revision in (1, 2)},
        }
        ground, words = "Telecommunications Act s. 1", "it quotes the comment"
        assert kept == {
            (old, "reader-2"): ("upheld", ground, None),
            (old, "reader-3"): ("dismissed", ground, None),
            (still_reported, "reader-2"): ("dismissed", ground, words),
            (still_reported, "reader-3"): ("open", ground, words),
            (recent, "reader-2"): ("dismissed", ground, words),
            (recent, "reader-3"): ("open", ground, words),
        }
    finally:
        db.dispose()
