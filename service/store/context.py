"""The reads behind a batch of automated decisions (workers/context.py): the comments, their
authors' recent comments and the settings that apply, one query each for the whole batch.

A worker decides several comments per task; asking these per comment was most of what it
spent outside the model.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import BindParameter, and_, bindparam, func, select
from sqlalchemy.orm import Session

from service.db.tables import ArticleFlags, AuthorFlags, Comment, CommentRevision
from service.store.comments import could_be_comment_id


class AuthorComment(NamedTuple):
    id: str
    created_at: datetime
    text: str | None


class PendingRow(NamedTuple):
    """What moderating a comment reads of it."""

    id: str
    article_id: str
    author_id: str
    text: str | None
    status: str
    revision: int
    created_at: datetime
    # When the current revision was made, for an edited comment (None for one never edited).
    revised_at: datetime | None


# The statements of the worker's every batch, built once: SQLAlchemy spends more building and
# keying a statement than the database spends running one of these.
_COMMENTS = Comment.__table__
# Comment, author and article ids: each a list of strings, expanded into IN (...).
_IDS: BindParameter[str] = bindparam("ids", expanding=True)
_COMMENTS_BY_ID = select(Comment).where(Comment.id.in_(_IDS))
_REVISIONS = CommentRevision.__table__
_PENDING_BY_ID = (
    select(
        *(_COMMENTS.c[field] for field in PendingRow._fields if field != "revised_at"),
        _REVISIONS.c.created_at.label("revised_at"),
    )
    .select_from(
        _COMMENTS.outerjoin(
            _REVISIONS,
            and_(
                _REVISIONS.c.comment_id == _COMMENTS.c.id,
                _REVISIONS.c.revision == _COMMENTS.c.revision,
            ),
        )
    )
    .where(_COMMENTS.c.id.in_(_IDS))
)
_NEWEST_FIRST = (_COMMENTS.c.created_at.desc(), _COMMENTS.c.id.desc())
_RANKED = (
    select(
        _COMMENTS.c.author_id,
        _COMMENTS.c.id,
        _COMMENTS.c.created_at,
        _COMMENTS.c.text,
        func.row_number()
        .over(partition_by=_COMMENTS.c.author_id, order_by=_NEWEST_FIRST)
        .label("rank"),
    )
    .where(_COMMENTS.c.author_id.in_(_IDS))
    .where(_COMMENTS.c.created_at >= bindparam("since"))
    .where(_COMMENTS.c.created_at <= bindparam("until"))
    .subquery()
)
_RECENT_BY_AUTHOR = (
    select(_RANKED.c.author_id, _RANKED.c.id, _RANKED.c.created_at, _RANKED.c.text)
    .where(_RANKED.c.rank <= bindparam("limit"))
    .order_by(_RANKED.c.created_at.desc(), _RANKED.c.id.desc())
)
_AUTHOR_SETTINGS = select(AuthorFlags).where(AuthorFlags.author_id.in_(_IDS))
_ARTICLE_SETTINGS = select(ArticleFlags).where(ArticleFlags.article_id.in_(_IDS))


def _valid_ids(comment_ids: Iterable[str]) -> list[str]:
    return sorted({comment_id for comment_id in comment_ids if could_be_comment_id(comment_id)})


def list_comments_by_id(session: Session, *, comment_ids: Iterable[str]) -> dict[str, Comment]:
    """The named comments that exist, by id."""
    wanted = _valid_ids(comment_ids)
    if not wanted:
        return {}
    return {comment.id: comment for comment in session.scalars(_COMMENTS_BY_ID, {"ids": wanted})}


def list_pending_rows(session: Session, *, comment_ids: Iterable[str]) -> dict[str, PendingRow]:
    """`list_comments_by_id`, as plain rows of what moderation reads."""
    wanted = _valid_ids(comment_ids)
    if not wanted:
        return {}
    return {
        row.id: PendingRow._make(row) for row in session.execute(_PENDING_BY_ID, {"ids": wanted})
    }


def list_recent_comments_by_author(
    session: Session, *, windows: Mapping[str, tuple[datetime, datetime]], limit: int
) -> dict[str, list[AuthorComment]]:
    """Each author's comments posted within the windows' span (the earliest `since` to the
    latest `until`, both included), newest first (ties by id, as `list_author_texts_since`
    orders them), at most `limit` per author: a flooder's thousands of rows stop at the newest
    `limit`. One span for all keeps the statement the same whatever the batch; a batch's
    windows differ by the seconds between its comments, and callers filter by their own."""
    if not windows:
        return {}
    rows = session.execute(
        _RECENT_BY_AUTHOR,
        {
            "ids": sorted(windows),
            "since": min(since for since, _ in windows.values()),
            "until": max(until for _, until in windows.values()),
            "limit": limit,
        },
    )
    found: dict[str, list[AuthorComment]] = {author_id: [] for author_id in windows}
    for author_id, comment_id, created_at, text in rows:
        found[author_id].append(AuthorComment(comment_id, created_at, text))
    return found


def list_author_flags(session: Session, *, author_ids: Iterable[str]) -> dict[str, AuthorFlags]:
    wanted = sorted(set(author_ids))
    if not wanted:
        return {}
    return {row.author_id: row for row in session.scalars(_AUTHOR_SETTINGS, {"ids": wanted})}


def list_article_flags(session: Session, *, article_ids: Iterable[str]) -> dict[str, ArticleFlags]:
    wanted = sorted(set(article_ids))
    if not wanted:
        return {}
    return {row.article_id: row for row in session.scalars(_ARTICLE_SETTINGS, {"ids": wanted})}
