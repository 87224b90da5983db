"""Persistence functions: keyword-only, named by verb, one session passed in."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from service.models import Comment, Decision, WebhookEvent


def new_comment_id() -> str:
    return str(uuid.uuid4())


def create_comment(
    session: Session,
    *,
    article_id: str,
    parent_id: str | None,
    author_id: str,
    author_name: str | None,
    text: str,
    idempotency_key: str | None,
    body_hash: str | None,
    now: datetime,
) -> Comment:
    comment = Comment(
        id=new_comment_id(),
        article_id=article_id,
        parent_id=parent_id,
        author_id=author_id,
        author_name=author_name,
        text=text,
        status="pending",
        version=1,
        created_at=now,
        # Optimistic: the task is sent right after commit; if that send fails, the sweeper
        # finds the comment still pending once the grace period has passed.
        enqueued_at=now,
        enqueue_count=1,
        idempotency_key=idempotency_key,
        body_hash=body_hash,
    )
    session.add(comment)
    session.flush()
    return comment


def get_comment_or_none(session: Session, *, comment_id: str) -> Comment | None:
    return session.get(Comment, comment_id)


def find_comment_by_idempotency_key(
    session: Session, *, author_id: str, key: str
) -> Comment | None:
    return session.scalars(
        select(Comment).where(Comment.author_id == author_id, Comment.idempotency_key == key)
    ).one_or_none()


def forget_idempotency_key(session: Session, *, comment_id: str) -> None:
    session.execute(update(Comment).where(Comment.id == comment_id).values(idempotency_key=None))


def parent_exists(session: Session, *, parent_id: str, article_id: str) -> bool:
    found = session.scalar(
        select(func.count())
        .select_from(Comment)
        .where(Comment.id == parent_id, Comment.article_id == article_id)
    )
    return bool(found)


def mark_enqueued(session: Session, *, comment_ids: Sequence[str], now: datetime) -> None:
    session.execute(
        update(Comment)
        .where(Comment.id.in_(comment_ids))
        .values(enqueued_at=now, enqueue_count=Comment.enqueue_count + 1)
    )


def list_pending_enqueued_before(
    session: Session, *, enqueued_before: datetime, limit: int
) -> list[tuple[str, datetime, int]]:
    """(id, last enqueued, times enqueued) of pending comments not sent since the cutoff."""
    rows = session.execute(
        select(Comment.id, Comment.enqueued_at, Comment.enqueue_count)
        .where(Comment.status == "pending", Comment.enqueued_at < enqueued_before)
        .order_by(Comment.enqueued_at)
        .limit(limit)
    )
    return [(row.id, row.enqueued_at, row.enqueue_count) for row in rows]


def count_pending_comments(session: Session) -> int:
    return session.scalar(
        select(func.count()).select_from(Comment).where(Comment.status == "pending")
    ) or 0


def list_decisions(session: Session, *, comment_id: str) -> list[Decision]:
    return list(
        session.scalars(
            select(Decision).where(Decision.comment_id == comment_id).order_by(Decision.id)
        )
    )


def add_decision(session: Session, *, comment_id: str, now: datetime, **fields: Any) -> Decision:
    decision = Decision(comment_id=comment_id, at=now, **fields)
    session.add(decision)
    session.flush()
    return decision


def set_comment_status(
    session: Session, *, comment: Comment, status: str, now: datetime
) -> None:
    comment.status = status
    comment.version += 1
    comment.decided_at = now
    session.flush()


def add_webhook_event(
    session: Session, *, comment_id: str, event_type: str, payload: dict[str, Any], now: datetime
) -> WebhookEvent:
    event = WebhookEvent(
        id="msg_" + uuid.uuid4().hex,
        comment_id=comment_id,
        type=event_type,
        payload=payload,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(event)
    session.flush()
    return event


def claim_webhook_event(
    session: Session, *, event_id: str, now: datetime, lock_until: datetime
) -> WebhookEvent | None:
    """Take the event for one delivery attempt; None if it is delivered, failed or taken."""
    claimed = session.execute(
        update(WebhookEvent)
        .where(
            WebhookEvent.id == event_id,
            WebhookEvent.status == "pending",
            or_(WebhookEvent.locked_until.is_(None), WebhookEvent.locked_until < now),
        )
        .values(locked_until=lock_until, attempts=WebhookEvent.attempts + 1)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
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


def delete_all(session: Session) -> None:
    """Empty every table (tests and `moderation` fixtures only)."""
    for model in (WebhookEvent, Decision, Comment):
        session.execute(delete(model))
