"""What an author's data export reads: their comments, each with its revisions and decisions,
the reports they made, their sanctions and the notes about them.

Each list is read a page at a time, oldest first, after a keyset cursor (`after`, the last
row's sort key): the export streams one page while the next one is read, and holds no
transaction open while the client reads (on SQLite, a transaction holds the write lock).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TypeVar

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from service.db.tables import AuthorNote, Comment, CommentRevision, Decision, Report, Sanction

Cursor = tuple[datetime, str]
"""The last row's (time, id), as text: rows come after it."""


Row = TypeVar("Row", Comment, Report, Sanction)


def _page(
    session: Session,
    model: type[Row],
    condition: ColumnElement[bool],
    *,
    after: Cursor | None,
    limit: int,
) -> list[Row]:
    """Rows matching `condition` after the cursor, by (created_at, id)."""
    query = select(model).where(condition)
    if after is not None:
        query = query.where(
            or_(
                model.created_at > after[0],
                and_(model.created_at == after[0], model.id > after[1]),
            )
        )
    return list(session.scalars(query.order_by(model.created_at, model.id).limit(limit)))


def list_comments_page(
    session: Session, *, author_id: str, after: Cursor | None, limit: int
) -> list[Comment]:
    return _page(session, Comment, Comment.author_id == author_id, after=after, limit=limit)


def list_revisions_of(
    session: Session, *, comment_ids: Sequence[str]
) -> dict[str, list[CommentRevision]]:
    """Each comment's revision rows, oldest first (none for a comment never edited)."""
    found: dict[str, list[CommentRevision]] = {}
    if comment_ids:
        rows = session.scalars(
            select(CommentRevision)
            .where(CommentRevision.comment_id.in_(comment_ids))
            .order_by(CommentRevision.comment_id, CommentRevision.revision)
        )
        for row in rows:
            found.setdefault(row.comment_id, []).append(row)
    return found


def list_decisions_of(session: Session, *, comment_ids: Sequence[str]) -> dict[str, list[Decision]]:
    """Each comment's decisions, oldest first."""
    found: dict[str, list[Decision]] = {}
    if comment_ids:
        rows = session.scalars(
            select(Decision)
            .where(Decision.comment_id.in_(comment_ids))
            .order_by(Decision.comment_id, Decision.at, Decision.id)
        )
        for row in rows:
            found.setdefault(row.comment_id, []).append(row)
    return found


def list_reports_page(
    session: Session, *, reporter_id: str, after: Cursor | None, limit: int
) -> list[Report]:
    return _page(session, Report, Report.reporter_id == reporter_id, after=after, limit=limit)


def list_sanctions_page(
    session: Session, *, author_id: str, after: Cursor | None, limit: int
) -> list[Sanction]:
    return _page(session, Sanction, Sanction.author_id == author_id, after=after, limit=limit)


def list_notes_page(
    session: Session, *, author_id: str, after: int | None, limit: int
) -> list[AuthorNote]:
    """Notes in the order they were written (their ids only grow)."""
    query = select(AuthorNote).where(AuthorNote.author_id == author_id)
    if after is not None:
        query = query.where(AuthorNote.id > after)
    return list(session.scalars(query.order_by(AuthorNote.id).limit(limit)))
