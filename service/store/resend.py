"""Which pending comments, and which unscored feedback rows, are due for another send of their
task."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import QueryableAttribute, Session

from service.db.tables import FEEDBACK_UNSCORED, Comment, PerspectiveFeedback

# The wait before a re-send doubles with each send, up to 64 grace periods (the 7th send on).
BACKOFF_CAP_SENDS = 7


def list_comments_due_for_resend(
    session: Session,
    *,
    now: datetime,
    grace_seconds: float,
    limit: int,
    after: tuple[datetime, str] | None = None,
) -> list[tuple[str, int, datetime]]:
    """(id, revision, last send) of pending comments whose last send is older than the grace
    period doubled once per earlier re-send, oldest send first (then by id), from just after
    `after` (a last send and id this returned).

    The backoff is part of the WHERE clause, not applied to the rows LIMIT let through: under a
    large backlog the oldest rows are those already re-sent and still waiting, and they would
    otherwise fill every batch and starve the comments that need their first re-send."""
    due = _due(Comment.enqueued_at, Comment.enqueue_count, now=now, grace_seconds=grace_seconds)
    query = select(Comment.id, Comment.revision, Comment.enqueued_at).where(
        Comment.status == "pending", due
    )
    if after is not None:
        sent, comment_id = after
        query = query.where(
            or_(
                Comment.enqueued_at > sent,
                and_(Comment.enqueued_at == sent, Comment.id > comment_id),
            )
        )
    rows = session.execute(query.order_by(Comment.enqueued_at, Comment.id).limit(limit))
    # `due` compares enqueued_at, so no row lacks one.
    return [(comment_id, revision, sent) for comment_id, revision, sent in rows if sent]


def iter_comments_due_for_resend(
    session: Session, *, now: datetime, grace_seconds: float, page: int = 1000
) -> Iterator[tuple[str, int]]:
    """(id, revision) of every comment list_comments_due_for_resend finds, read a page at a
    time: the sweeper skips those still queued, which can be most of a backlog."""
    after = None
    while True:
        rows = list_comments_due_for_resend(
            session, now=now, grace_seconds=grace_seconds, limit=page, after=after
        )
        for comment_id, revision, _sent in rows:
            yield comment_id, revision
        if len(rows) < page:
            return
        last_id, _revision, last_sent = rows[-1]
        after = (last_sent, last_id)


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
