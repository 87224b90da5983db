"""Article and author flag rows (the `article_settings` and `author_settings` tables)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from service.db.tables import ArticleFlags, AuthorFlags


def get_article_flags_or_none(session: Session, *, article_id: str) -> ArticleFlags | None:
    return session.get(ArticleFlags, article_id)


# Built once: it runs for every batch the API accepts.
_CLOSED = select(ArticleFlags.article_id).where(
    ArticleFlags.article_id.in_(bindparam("ids", expanding=True)),
    ArticleFlags.closed.is_(True),
)


def list_closed_articles(session: Session, *, article_ids: Iterable[str]) -> set[str]:
    wanted = sorted(set(article_ids))
    if not wanted:
        return set()
    return set(session.scalars(_CLOSED, {"ids": wanted}))


def put_article_flags(
    session: Session,
    *,
    article_id: str,
    premoderated: bool,
    closed: bool,
    by: str,
    now: datetime,
) -> ArticleFlags:
    row = session.get(ArticleFlags, article_id) or ArticleFlags(article_id=article_id)
    row.premoderated, row.closed, row.updated_by, row.updated_at = premoderated, closed, by, now
    session.add(row)
    session.flush()
    return row


def get_author_flags_or_none(session: Session, *, author_id: str) -> AuthorFlags | None:
    return session.get(AuthorFlags, author_id)


def put_author_flags(
    session: Session,
    *,
    author_id: str,
    always_hold: bool,
    trusted: bool,
    by: str,
    now: datetime,
) -> AuthorFlags:
    row = session.get(AuthorFlags, author_id) or AuthorFlags(author_id=author_id)
    row.always_hold, row.trusted, row.updated_by, row.updated_at = always_hold, trusted, by, now
    session.add(row)
    session.flush()
    return row
