"""Accepting a comment: the domain function behind POST /v1/comments."""

from __future__ import annotations

from datetime import timedelta

import pytest

from service.comments.accept import accept_comment
from service.comments.schemas import NewComment
from service.db.engine import Database
from service.db.tables import utcnow
from service.http.auth import Principal
from service.store.comments import create_comment

WINDOW = timedelta(hours=24)


# PostgreSQL: SQLite's one writer would block the racing insert instead of letting it win.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_retried_attempt_is_counted_once_by_the_flood_limit(database_url: str) -> None:
    db = Database(database_url)
    asked: list[str] = []

    def admit(author_id: str) -> int:
        asked.append(author_id)
        if len(asked) == 1:
            # Another request takes the same key while this attempt runs (its row is stale, so
            # the retry forgets it and goes on): the insert below hits the unique index.
            with db.session() as session:
                create_comment(
                    session,
                    article_id="a-1",
                    parent_id=None,
                    author_id=author_id,
                    author_name=None,
                    text="an old comment",
                    idempotency_key="key-1",
                    body_hash="other",
                    now=utcnow() - 2 * WINDOW,
                )
        return 0

    accepted = accept_comment(
        db,
        principal=Principal(sub="reader-1"),
        new=NewComment(article_id="a-1", text="hello", parent_id=None),
        idempotency_key="key-1",
        window=WINDOW,
        admit=admit,
    )
    assert accepted.created
    assert asked == ["reader-1"]
    db.dispose()
