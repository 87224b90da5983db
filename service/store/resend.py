"""Which pending comments are due for another send of their task."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from service.db.tables import Comment

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

    def sent_before(sends: int) -> datetime:
        return now - timedelta(seconds=grace_seconds * 2 ** (sends - 1))

    due = or_(
        and_(Comment.enqueue_count <= 1, Comment.enqueued_at < sent_before(1)),
        *(
            and_(Comment.enqueue_count == sends, Comment.enqueued_at < sent_before(sends))
            for sends in range(2, BACKOFF_CAP_SENDS)
        ),
        and_(
            Comment.enqueue_count >= BACKOFF_CAP_SENDS,
            Comment.enqueued_at < sent_before(BACKOFF_CAP_SENDS),
        ),
    )
    rows = session.execute(
        select(Comment.id, Comment.revision)
        .where(Comment.status == "pending", due)
        .order_by(Comment.enqueued_at)
        .limit(limit)
    )
    return [(comment_id, revision) for comment_id, revision in rows]
