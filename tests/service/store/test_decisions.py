"""The database, not the worker, keeps one automated decision per revision of a comment."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from service.comments.decisions import AutomatedDecision, record_automated_decisions
from service.db.engine import Database
from service.db.tables import Comment, WebhookEvent, utcnow
from service.store.comments import (
    create_comment,
    find_comments_by_idempotency_keys,
    get_comment_or_none,
)
from service.store.decisions import (
    add_decision,
    decide_pending_comments,
    list_decisions,
    set_comment_status,
)
from tests.support.comments import stored_comment
from tests.support.databases import BACKENDS

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)


def pending_comment(db: Database) -> str:
    with db.session() as session:
        return stored_comment(session).id


def policy_decision(db: Database, comment_id: str, *, revision: int = 1) -> None:
    """What a first run of the task writes, leaving the comment pending, as a second run that
    is already past its status check finds it."""
    with db.session() as session:
        add_decision(
            session,
            comment_id=comment_id,
            revision=revision,
            now=utcnow(),
            by="policy",
            action="approve",
            reasons=[],
            scores={"toxicity": 0.01},
            policy_version="sha256:first",
            model="first-run",
        )


def decisions_of(db: Database, comment_id: str) -> list[tuple[str, str | None]]:
    with db.session() as session:
        return [(d.by, d.model) for d in list_decisions(session, comment_id=comment_id)]


def test_a_second_policy_decision_is_refused_by_the_database(db: Database) -> None:
    comment_id = pending_comment(db)
    policy_decision(db, comment_id)
    with pytest.raises(IntegrityError):
        policy_decision(db, comment_id)
    assert decisions_of(db, comment_id) == [("policy", "first-run")]


def test_one_policy_decision_per_revision(db: Database) -> None:
    """Each revision of an edited comment gets its own automated decision, and only one."""
    comment_id = pending_comment(db)
    policy_decision(db, comment_id)
    with db.session() as session:
        session.execute(update(Comment).where(Comment.id == comment_id).values(revision=2))
    policy_decision(db, comment_id, revision=2)
    with pytest.raises(IntegrityError):
        policy_decision(db, comment_id, revision=2)
    with pytest.raises(IntegrityError):
        policy_decision(db, comment_id, revision=1)
    with db.session() as session:
        rows = list_decisions(session, comment_id=comment_id)
    assert [(d.by, d.revision) for d in rows] == [("policy", 1), ("policy", 2)]


def test_a_decision_is_made_on_the_current_revision_unless_told(db: Database) -> None:
    """A moderator's or the reports' decision row names the revision the comment is at."""
    comment_id = pending_comment(db)
    with db.session() as session:
        session.execute(update(Comment).where(Comment.id == comment_id).values(revision=3))
        made = add_decision(
            session, comment_id=comment_id, now=utcnow(), by="moderator", action="approve"
        )
        assert made.revision == 3


def test_only_the_revision_still_pending_is_decided(db: Database) -> None:
    """The conditional UPDATE: a comment edited since the worker read it is left as it is."""
    edited, current = pending_comment(db), pending_comment(db)
    with db.session() as session:
        session.execute(update(Comment).where(Comment.id == edited).values(revision=2))
        changed = decide_pending_comments(
            session,
            outcomes=[(edited, 1, "approved", 0.1), (current, 1, "approved", 0.1)],
            now=utcnow(),
        )
    assert changed == {current}
    with db.session() as session:
        comment = get_comment_or_none(session, comment_id=edited)
        assert comment is not None
        assert (comment.status, comment.version, comment.revision) == ("pending", 1, 2)


def test_moderator_decisions_are_not_limited(db: Database) -> None:
    comment_id = pending_comment(db)
    policy_decision(db, comment_id)
    for action in ("reject", "approve"):
        with db.session() as session:
            add_decision(
                session, comment_id=comment_id, now=utcnow(), by="moderator", action=action
            )
    assert [by for by, _ in decisions_of(db, comment_id)] == ["policy", "moderator", "moderator"]


def test_a_task_that_runs_twice_stops_quietly(db: Database) -> None:
    comment_id = pending_comment(db)
    policy_decision(db, comment_id)
    recorded = record_automated_decisions(
        db,
        decisions=[
            AutomatedDecision(comment_id, "hold", [], {"toxicity": 0.99}, context={}, revision=1)
        ],
        policy_version="sha256:second",
        model="second-run",
        webhooks=True,
        now=utcnow(),
    )
    assert recorded == [None]
    assert decisions_of(db, comment_id) == [("policy", "first-run")]
    with db.session() as session:
        comment = get_comment_or_none(session, comment_id=comment_id)
        assert comment is not None
        # The whole transaction rolled back: no status change, no second announcement.
        assert (comment.status, comment.version) == ("pending", 1)
        assert session.scalar(select(func.count()).select_from(WebhookEvent)) == 0


def test_deciding_changes_only_the_comments_still_pending(db: Database) -> None:
    """One UPDATE for a batch: pending comments get their status, score and a new version;
    one a moderator decided first, and an id that names nothing, are left alone."""
    scored, unscored, decided = (pending_comment(db) for _ in range(3))
    with db.session() as session:
        set_comment_status(
            session, comment=session.get(Comment, decided), status="rejected", now=utcnow()
        )
    now = utcnow()
    with db.session() as session:
        changed = decide_pending_comments(
            session,
            outcomes=[
                (scored, 1, "held", 0.93),
                (unscored, 1, "approved", None),
                (decided, 1, "approved", 0.01),
                ("no-such-comment", 1, "approved", 0.01),
            ],
            now=now,
        )
    assert changed == {scored, unscored}
    with db.session() as session:
        rows = {c.id: c for c in session.scalars(select(Comment))}
    assert (rows[scored].status, rows[scored].max_score, rows[scored].version) == ("held", 0.93, 2)
    assert (rows[unscored].status, rows[unscored].max_score) == ("approved", None)
    assert rows[scored].decided_at == rows[unscored].decided_at == now
    assert (rows[decided].status, rows[decided].max_score, rows[decided].version) == (
        "rejected",
        None,
        2,
    )


def test_a_batch_without_scores_is_decided_too(db: Database) -> None:
    # Every score NULL: the CASE must still have the column's type (PostgreSQL would type a
    # CASE of NULLs as text and refuse it for a float column).
    ids = [pending_comment(db) for _ in range(2)]
    with db.session() as session:
        changed = decide_pending_comments(
            session, outcomes=[(i, 1, "approved", None) for i in ids], now=utcnow()
        )
    assert changed == set(ids)


def test_idempotency_keys_are_matched_as_pairs(db: Database) -> None:
    """The lookup asks every author of a batch for every key; only the pairs asked count."""
    with db.session() as session:
        for author, key in (("reader-a", "k-2"), ("reader-b", "k-1")):
            create_comment(
                session,
                article_id="a-1",
                parent_id=None,
                author_id=author,
                author_name=None,
                text="A comment",
                idempotency_key=key,
                body_hash=None,
                now=utcnow(),
            )
    with db.session() as session:
        crossed = find_comments_by_idempotency_keys(
            session, keys=[("reader-a", "k-1"), ("reader-b", "k-2")]
        )
        found = find_comments_by_idempotency_keys(
            session, keys=[("reader-a", "k-2"), ("reader-b", "k-2")]
        )
    assert crossed == {}
    assert list(found) == [("reader-a", "k-2")]
