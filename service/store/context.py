"""The reads behind a batch of automated decisions (workers/context.py): the comments, their
authors' recent comments and the settings that apply, one query each for the whole batch.

A worker decides several comments per task; asking these per comment was most of what it
spent outside the model.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from service.models import ArticleSettings, AuthorSettings, Comment
from service.store.comments import could_be_comment_id


class AuthorComment(NamedTuple):
    id: str
    created_at: datetime
    text: str | None


def list_comments_by_id(session: Session, *, comment_ids: Iterable[str]) -> dict[str, Comment]:
    """The named comments that exist, by id."""
    wanted = sorted({comment_id for comment_id in comment_ids if could_be_comment_id(comment_id)})
    if not wanted:
        return {}
    return {
        comment.id: comment
        for comment in session.scalars(select(Comment).where(Comment.id.in_(wanted)))
    }


def list_recent_comments_by_author(
    session: Session, *, windows: Mapping[str, tuple[datetime, datetime]], limit: int
) -> dict[str, list[AuthorComment]]:
    """Each author's comments posted within their window (`since`, `until`, both included),
    newest first (ties by id, as `list_author_texts_since` orders them), at most `limit` per
    author: a flooder's thousands of rows stop at the newest `limit`."""
    if not windows:
        return {}
    in_window = or_(
        *(
            and_(
                Comment.author_id == author_id,
                Comment.created_at >= since,
                Comment.created_at <= until,
            )
            for author_id, (since, until) in sorted(windows.items())
        )
    )
    newest_first = (Comment.created_at.desc(), Comment.id.desc())
    ranked = (
        select(
            Comment.author_id,
            Comment.id,
            Comment.created_at,
            Comment.text,
            func.row_number()
            .over(partition_by=Comment.author_id, order_by=newest_first)
            .label("rank"),
        )
        .where(in_window)
        .subquery()
    )
    rows = session.execute(
        select(ranked.c.author_id, ranked.c.id, ranked.c.created_at, ranked.c.text)
        .where(ranked.c.rank <= limit)
        .order_by(ranked.c.created_at.desc(), ranked.c.id.desc())
    )
    found: dict[str, list[AuthorComment]] = {author_id: [] for author_id in windows}
    for author_id, comment_id, created_at, text in rows:
        found[author_id].append(AuthorComment(comment_id, created_at, text))
    return found


def list_author_settings(
    session: Session, *, author_ids: Iterable[str]
) -> dict[str, AuthorSettings]:
    wanted = sorted(set(author_ids))
    if not wanted:
        return {}
    rows = session.scalars(select(AuthorSettings).where(AuthorSettings.author_id.in_(wanted)))
    return {row.author_id: row for row in rows}


def list_article_settings(
    session: Session, *, article_ids: Iterable[str]
) -> dict[str, ArticleSettings]:
    wanted = sorted(set(article_ids))
    if not wanted:
        return {}
    rows = session.scalars(select(ArticleSettings).where(ArticleSettings.article_id.in_(wanted)))
    return {row.article_id: row for row in rows}
