"""The webhook outbox."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, func, or_, select, update
from sqlalchemy.orm import Session

from service.db.tables import WebhookEvent


def add_webhook_events(
    session: Session,
    *,
    event_type: str,
    payloads: Sequence[tuple[str | None, dict[str, Any]]],
    now: datetime,
    author_id: str | None = None,
) -> list[WebhookEvent]:
    """One event per (comment_id, payload), in the order given, written by one flush; an
    author's event names no comment but the author."""
    events = [
        WebhookEvent(
            id="msg_" + uuid.uuid4().hex,
            comment_id=comment_id,
            author_id=author_id,
            type=event_type,
            payload=payload,
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        for comment_id, payload in payloads
    ]
    session.add_all(events)
    session.flush()
    return events


def claim_webhook_event(
    session: Session, *, event_id: str, now: datetime, lock_until: datetime
) -> WebhookEvent | None:
    """Take the event for one delivery attempt; None if it is delivered, failed, taken or not
    yet due.

    Due matters: a retry is both a countdown task and a row the relay finds once due, so an
    early copy must not skip the backoff.
    """
    # An UPDATE's result is a CursorResult; Session.execute is typed to return any Result.
    claimed = cast(
        "CursorResult[Any]",
        session.execute(
            update(WebhookEvent)
            .where(
                WebhookEvent.id == event_id,
                WebhookEvent.status == "pending",
                WebhookEvent.next_attempt_at <= now,
                or_(WebhookEvent.locked_until.is_(None), WebhookEvent.locked_until < now),
            )
            .values(locked_until=lock_until, attempts=WebhookEvent.attempts + 1)
        ),
    )
    if claimed.rowcount != 1:
        return None
    return session.get(WebhookEvent, event_id, populate_existing=True)


def list_due_webhook_events(session: Session, *, now: datetime, limit: int) -> list[str]:
    return list(
        session.scalars(
            select(WebhookEvent.id)
            .where(
                WebhookEvent.status == "pending",
                WebhookEvent.next_attempt_at <= now,
                or_(WebhookEvent.locked_until.is_(None), WebhookEvent.locked_until < now),
            )
            .order_by(WebhookEvent.next_attempt_at)
            .limit(limit)
        )
    )


def get_webhook_event_or_none(session: Session, *, event_id: str) -> WebhookEvent | None:
    return session.get(WebhookEvent, event_id)


def list_failed_webhook_events(session: Session, *, limit: int) -> list[WebhookEvent]:
    return list(
        session.scalars(
            select(WebhookEvent)
            .where(WebhookEvent.status == "failed")
            .order_by(WebhookEvent.created_at)
            .limit(limit)
        )
    )


def count_failed_webhook_events(session: Session) -> int:
    """Events given up on and not redelivered (`moderation webhooks redeliver` resets them)."""
    return (
        session.scalar(
            select(func.count()).select_from(WebhookEvent).where(WebhookEvent.status == "failed")
        )
        or 0
    )
