"""Article and author settings rows."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from service.models import ArticleSettings, AuthorSettings


def get_article_settings_or_none(session: Session, *, article_id: str) -> ArticleSettings | None:
    return session.get(ArticleSettings, article_id)


# Built once: it runs for every batch the API accepts.
_CLOSED = select(ArticleSettings.article_id).where(
    ArticleSettings.article_id.in_(bindparam("ids", expanding=True)),
    ArticleSettings.closed.is_(True),
)


def list_closed_articles(session: Session, *, article_ids: Iterable[str]) -> set[str]:
    wanted = sorted(set(article_ids))
    if not wanted:
        return set()
    return set(session.scalars(_CLOSED, {"ids": wanted}))


def put_article_settings(
    session: Session,
    *,
    article_id: str,
    premoderated: bool,
    closed: bool,
    by: str,
    now: datetime,
) -> ArticleSettings:
    row = session.get(ArticleSettings, article_id) or ArticleSettings(article_id=article_id)
    row.premoderated, row.closed, row.updated_by, row.updated_at = premoderated, closed, by, now
    session.add(row)
    session.flush()
    return row


def get_author_settings_or_none(session: Session, *, author_id: str) -> AuthorSettings | None:
    return session.get(AuthorSettings, author_id)


def put_author_settings(
    session: Session,
    *,
    author_id: str,
    always_hold: bool,
    trusted: bool,
    by: str,
    now: datetime,
) -> AuthorSettings:
    row = session.get(AuthorSettings, author_id) or AuthorSettings(author_id=author_id)
    row.always_hold, row.trusted, row.updated_by, row.updated_at = always_hold, trusted, by, now
    session.add(row)
    session.flush()
    return row
