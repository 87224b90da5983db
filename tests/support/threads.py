"""Threads for the moderation tests: replies written by the store as the accept path writes
them, a minute apart so their order is the order they were made in."""

from __future__ import annotations

from datetime import datetime, timedelta

from service.db.tables import utcnow
from service.store.comments import create_comment
from tests.support.api import Api
from tests.support.holds import database


def reply(
    api: Api,
    parent_id: str | None,
    *,
    text: str = "So are you.",
    author: str = "reader-2",
    article: str = "news-1",
    at: datetime | None = None,
) -> str:
    with database(api).session() as session:
        comment = create_comment(
            session,
            article_id=article,
            parent_id=parent_id,
            author_id=author,
            author_name=None,
            text=text,
            idempotency_key=None,
            body_hash=None,
            now=at or utcnow(),
        )
        return comment.id


def chain(api: Api, length: int, *, article: str = "news-1") -> list[str]:
    """`length` comments each replying to the one before, root first, in one transaction."""
    start = utcnow() - timedelta(minutes=length)
    ids: list[str] = []
    with database(api).session() as session:
        for depth in range(length):
            comment = create_comment(
                session,
                article_id=article,
                parent_id=ids[-1] if ids else None,
                author_id=f"reader-{depth % 3}",
                author_name=None,
                text=f"Comment {depth}.",
                idempotency_key=None,
                body_hash=None,
                now=start + timedelta(minutes=depth),
            )
            ids.append(comment.id)
    return ids
