"""Which pending comments, and which unscored feedback rows, are due for another send of their
task."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import QueryableAttribute, Session

from service.db.tables import FEEDBACK_UNSCORED, Comment, PerspectiveFeedback

# The wait before a re-send doubles with each send, up to 64 grace periods (the 7th send on).
BACKOFF_CAP_SENDS = 7


def list_comments_due_for_resend(
    session: Session, *, now: datetime, grace_seconds: float, limit: int
) -> list[tuple[str, int]]:
    """(id, revision) of pending comments whose last send is older than the grace period
    doubled once per earlier re-send, oldest first.

    The backoff is part of the WHERE clause, not applied to the rows LIMIT let through: under a
    large backlog the oldest rows are those already re-sent and still waiting, and they would
    otherwise fill every batch and starve the comments that need their first re-send."""
    due = _due(Comment.enqueued_at, Comment.enqueue_count, now=now, grace_seconds=grace_seconds)
    rows = session.execute(
        select(Comment.id, Comment.revision)
        .where(Comment.status == "pending", due)
        .order_by(Comment.enqueued_at)
        .limit(limit)
    )
    return [(comment_id, revision) for comment_id, revision in rows]


def list_feedback_due_for_resend(
    session: Session, *, now: datetime, grace_seconds: float, limit: int
) -> list[list[int]]:
    """The row ids of up to `limit` suggestions (the rows one `suggestscore` stored, sent as
    one task so that their text is scored once) still unscored, with their text, and due by the
    same backoff as comments; oldest send first."""
    feedback = PerspectiveFeedback
    due = _due(feedback.enqueued_at, feedback.enqueue_count, now=now, grace_seconds=grace_seconds)
    suggestions = (
        select(feedback.key_name, feedback.created_at, func.min(feedback.enqueued_at).label("sent"))
        .where(FEEDBACK_UNSCORED, due)
        .group_by(feedback.key_name, feedback.created_at)
        .order_by(func.min(feedback.enqueued_at), feedback.key_name, feedback.created_at)
        .limit(limit)
        .subquery()
    )
    rows = session.execute(
        select(feedback.id, feedback.key_name, feedback.created_at)
        .join(
            suggestions,
            and_(
                feedback.key_name == suggestions.c.key_name,
                feedback.created_at == suggestions.c.created_at,
            ),
        )
        .where(FEEDBACK_UNSCORED)
        .order_by(suggestions.c.sent, feedback.key_name, feedback.created_at, feedback.id)
    )
    grouped: dict[tuple[str, datetime], list[int]] = {}
    for feedback_id, key_name, created_at in rows:
        grouped.setdefault((key_name, created_at), []).append(feedback_id)
    return list(grouped.values())


def _due(
    enqueued_at: QueryableAttribute[datetime | None],
    enqueue_count: QueryableAttribute[int],
    *,
    now: datetime,
    grace_seconds: float,
) -> ColumnElement[bool]:
    """Last sent longer ago than the grace period doubled once per earlier re-send."""

    def sent_before(sends: int) -> datetime:
        return now - timedelta(seconds=grace_seconds * 2 ** (sends - 1))

    return or_(
        and_(enqueue_count <= 1, enqueued_at < sent_before(1)),
        *(
            and_(enqueue_count == sends, enqueued_at < sent_before(sends))
            for sends in range(2, BACKOFF_CAP_SENDS)
        ),
        and_(enqueue_count >= BACKOFF_CAP_SENDS, enqueued_at < sent_before(BACKOFF_CAP_SENDS)),
    )
