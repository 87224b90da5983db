"""The thread's queries: the recursive walk up to the root, its limit, and reply counts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from service.db.engine import Database
from service.db.tables import utcnow
from service.store.comments import create_comment, get_comment_or_none
from service.store.threads import count_replies, list_ancestors, list_replies
from tests.support.databases import BACKENDS

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)


def make_chain(db: Database, length: int) -> list[str]:
    start = utcnow() - timedelta(hours=1)
    ids: list[str] = []
    with db.session() as session:
        for depth in range(length):
            comment = create_comment(
                session,
                article_id="news-1",
                parent_id=ids[-1] if ids else None,
                author_id="reader-1",
                author_name=None,
                text=f"{depth}",
                idempotency_key=None,
                body_hash=None,
                now=start + timedelta(seconds=depth),
            )
            ids.append(comment.id)
    return ids


@pytest.mark.parametrize(
    ("limit", "listed", "truncated"),
    [(1, 1, True), (3, 3, True), (4, 4, False), (5, 4, False), (50, 4, False)],
)
def test_ancestors_are_the_nearest_up_to_the_limit(
    db: Database, limit: int, listed: int, truncated: bool
) -> None:
    made = make_chain(db, 5)
    with db.session() as session:
        leaf = get_comment_or_none(session, comment_id=made[-1])
        assert leaf is not None
        found = list_ancestors(session, comment=leaf, limit=limit)
        root = get_comment_or_none(session, comment_id=made[0])
        assert root is not None
        assert list_ancestors(session, comment=root, limit=limit).comments == []
    assert [comment.id for comment in found.comments] == made[-1 - listed : -1]
    assert found.truncated is truncated


def test_replies_and_their_counts(db: Database) -> None:
    made = make_chain(db, 3)
    with db.session() as session:
        assert count_replies(session, comment_ids=[*made, "no-such-comment"]) == {
            made[0]: 1,
            made[1]: 1,
            made[2]: 0,
            "no-such-comment": 0,
        }
        assert count_replies(session, comment_ids=[]) == {}
        (child,) = list_replies(session, parent_id=made[0], after=None, limit=10)
        assert child.id == made[1]
        after = (child.created_at, child.id)
        assert list_replies(session, parent_id=made[0], after=after, limit=10) == []
