"""Revisions of an edited comment: their rows, and the comment row moving to a new one."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service.db.tables import Comment, CommentRevision, HoldReason


def find_revision_by_idempotency_key(
    session: Session, *, comment_id: str, key: str
) -> CommentRevision | None:
    """The revision an edit of this comment made with this Idempotency-Key."""
    return session.scalars(
        select(CommentRevision).where(
            CommentRevision.comment_id == comment_id, CommentRevision.idempotency_key == key
        )
    ).one_or_none()


def list_revisions(session: Session, *, comment_id: str) -> list[CommentRevision]:
    """The comment's revision rows, oldest first: none for a comment never edited."""
    return list(
        session.scalars(
            select(CommentRevision)
            .where(CommentRevision.comment_id == comment_id)
            .order_by(CommentRevision.revision)
        )
    )


def revise_comment(
    session: Session,
    *,
    comment: Comment,
    text: str,
    idempotency_key: str | None,
    body_hash: str,
    now: datetime,
) -> None:
    """Store `text` as the comment's next revision and make the comment pending on it, as a
    new comment is: no decision time, score, lease or hold reasons of the revision before,
    and a fresh send count for the sweeper. The first edit also keeps the text as posted,
    as revision 1. The caller holds the comment's row lock."""
    if comment.revision == 1:
        session.add(
            CommentRevision(
                comment_id=comment.id,
                revision=1,
                text=comment.text,
                created_at=comment.created_at,
            )
        )
    session.add(
        CommentRevision(
            comment_id=comment.id,
            revision=comment.revision + 1,
            text=text,
            created_at=now,
            idempotency_key=idempotency_key,
            body_hash=body_hash,
        )
    )
    session.execute(delete(HoldReason).where(HoldReason.comment_id == comment.id))
    comment.text = text
    comment.revision += 1
    comment.version += 1
    comment.status = "pending"
    comment.decided_at = None
    comment.max_score = None
    comment.claimed_by = None
    comment.claimed_until = None
    # Optimistic, as for a new comment: the task is sent right after commit, and if that
    # send fails the sweeper finds the comment pending once the grace period has passed.
    comment.enqueued_at = now
    comment.enqueue_count = 1
    session.flush()
