"""The database, not the worker, keeps one automated decision per comment."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from service import store
from service.db import Database
from service.decisions import record_automated_decision
from service.models import WebhookEvent, utcnow
from tests.conftest import BACKENDS
from tests.fixtures.comments import stored_comment

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)


def pending_comment(db: Database) -> str:
    with db.session() as session:
        return stored_comment(session).id


def policy_decision(db: Database, comment_id: str) -> None:
    """What a first run of the task writes, leaving the comment pending, as a second run that
    is already past its status check finds it."""
    with db.session() as session:
        store.add_decision(
            session,
            comment_id=comment_id,
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
        return [(d.by, d.model) for d in store.list_decisions(session, comment_id=comment_id)]


def test_a_second_policy_decision_is_refused_by_the_database(db: Database) -> None:
    comment_id = pending_comment(db)
    policy_decision(db, comment_id)
    with pytest.raises(IntegrityError):
        policy_decision(db, comment_id)
    assert decisions_of(db, comment_id) == [("policy", "first-run")]


def test_moderator_decisions_are_not_limited(db: Database) -> None:
    comment_id = pending_comment(db)
    policy_decision(db, comment_id)
    for action in ("reject", "approve"):
        with db.session() as session:
            store.add_decision(
                session, comment_id=comment_id, now=utcnow(), by="moderator", action=action
            )
    assert [by for by, _ in decisions_of(db, comment_id)] == ["policy", "moderator", "moderator"]


def test_a_task_that_runs_twice_stops_quietly(db: Database) -> None:
    comment_id = pending_comment(db)
    policy_decision(db, comment_id)
    recorded = record_automated_decision(
        db,
        comment_id=comment_id,
        action="hold",
        reasons=[],
        scores={"toxicity": 0.99},
        policy_version="sha256:second",
        model="second-run",
        context={},
        webhooks=True,
        now=utcnow(),
    )
    assert recorded is None
    assert decisions_of(db, comment_id) == [("policy", "first-run")]
    with db.session() as session:
        comment = store.get_comment_or_none(session, comment_id=comment_id)
        assert comment is not None
        # The whole transaction rolled back: no status change, no second announcement.
        assert (comment.status, comment.version) == ("pending", 1)
        assert session.scalar(select(func.count()).select_from(WebhookEvent)) == 0
