"""The webhook outbox: an attempt is claimed only when it is due."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from service.db.engine import Database
from service.db.tables import utcnow
from service.store.webhooks import add_webhook_events, claim_webhook_event
from tests.support.comments import stored_comment
from tests.support.databases import BACKENDS

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)


def event_due_at(db: Database, due: datetime) -> str:
    with db.session() as session:
        comment = stored_comment(session)
        (event,) = add_webhook_events(
            session,
            event_type="comment.decided",
            payloads=[(comment.id, {"type": "comment.decided"})],
            now=utcnow(),
        )
        event.next_attempt_at = due
        return event.id


def claim(db: Database, event_id: str, now: datetime) -> int | None:
    """The claimed attempt's number, or None."""
    with db.session() as session:
        event = claim_webhook_event(
            session, event_id=event_id, now=now, lock_until=now + timedelta(seconds=120)
        )
        return None if event is None else event.attempts


def test_an_event_waiting_out_its_backoff_cannot_be_claimed(db: Database) -> None:
    now = utcnow()
    event_id = event_due_at(db, now + timedelta(seconds=40))
    assert claim(db, event_id, now) is None
    assert claim(db, event_id, now + timedelta(seconds=39)) is None
    assert claim(db, event_id, now + timedelta(seconds=40)) == 1


def test_a_claimed_event_is_not_claimed_again_until_its_lock_expires(db: Database) -> None:
    now = utcnow()
    event_id = event_due_at(db, now)
    assert claim(db, event_id, now) == 1
    assert claim(db, event_id, now + timedelta(seconds=60)) is None
    assert claim(db, event_id, now + timedelta(seconds=121)) == 2
