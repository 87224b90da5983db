"""Authors' references and erasures: `author_refs` (how the audit names an author) and
`erasures` (who was erased, by HMAC of their old id)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from service.db.tables import AuthorNote, AuthorRef, Comment, Erasure, Report


def author_ref(session: Session, *, author_id: str, now: datetime) -> str:
    """The author's audit reference, made on first use (concurrent first uses agree)."""
    ref = session.scalar(select(AuthorRef.ref).where(AuthorRef.author_id == author_id))
    if ref is not None:
        return ref
    values = {"author_id": author_id, "ref": uuid.uuid4().hex, "created_at": now}
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(insert(AuthorRef).values(**values).on_conflict_do_nothing())
    ref = session.scalar(select(AuthorRef.ref).where(AuthorRef.author_id == author_id))
    assert ref is not None  # inserted above, or by the transaction that won the race
    return ref


def get_erasure_or_none(session: Session, *, author_hmac: str) -> Erasure | None:
    return session.get(Erasure, author_hmac)


# The author's record (GET /v1/moderation/authors/{id}): each read is one statement, however
# many comments, reports or notes the author has.


@dataclass(frozen=True)
class CommentTally:
    """An author's comments: how many of each status, the first and the last posted."""

    by_status: dict[str, int]
    first_at: datetime | None
    last_at: datetime | None


def tally_author_comments(session: Session, *, author_id: str) -> CommentTally:
    rows = session.execute(
        select(
            Comment.status, func.count(), func.min(Comment.created_at), func.max(Comment.created_at)
        )
        .where(Comment.author_id == author_id)
        .group_by(Comment.status)
    ).all()
    # MIN and MAX take the column's type: the moments come back in UTC, as the column's do.
    return CommentTally(
        by_status={status: int(count) for status, count, _, _ in rows},
        first_at=min((row[2] for row in rows), default=None),
        last_at=max((row[3] for row in rows), default=None),
    )


def count_reports_by_status(session: Session, *, reporter_id: str) -> dict[str, int]:
    """The reports the author made, by status (open, upheld, dismissed)."""
    rows = session.execute(
        select(Report.status, func.count())
        .where(Report.reporter_id == reporter_id)
        .group_by(Report.status)
    )
    return {status: int(count) for status, count in rows}


def list_author_comments(
    session: Session, *, author_id: str, before: tuple[datetime, str] | None, limit: int
) -> list[Comment]:
    """The author's comments of every status, newest first (ties by id), strictly before
    `before` (the created_at and id of the last one of the previous page) when given."""
    conditions = [Comment.author_id == author_id]
    if before is not None:
        created_at, comment_id = before
        conditions.append(
            or_(
                Comment.created_at < created_at,
                and_(Comment.created_at == created_at, Comment.id < comment_id),
            )
        )
    return list(
        session.scalars(
            select(Comment)
            .where(*conditions)
            .order_by(Comment.created_at.desc(), Comment.id.desc())
            .limit(limit)
        )
    )


def add_note(
    session: Session, *, author_id: str, moderator_id: str, text: str, now: datetime
) -> AuthorNote:
    note = AuthorNote(author_id=author_id, moderator_id=moderator_id, text=text, at=now)
    session.add(note)
    session.flush()
    return note


def list_notes(session: Session, *, author_id: str) -> list[AuthorNote]:
    """The notes on the author, newest first (ties: the later written first)."""
    return list(
        session.scalars(
            select(AuthorNote)
            .where(AuthorNote.author_id == author_id)
            .order_by(AuthorNote.at.desc(), AuthorNote.id.desc())
        )
    )
