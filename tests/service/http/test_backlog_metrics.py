"""The backlog on /metrics in comments: those the queued messages name (a message names one or a
batch), and those pending past the sweeper's grace period, counted from when their current text
was posted or edited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from service.broker.contract import MODERATE_TASK, moderate_item
from service.broker.producer import TaskProducer
from service.db.engine import Database
from service.db.tables import Comment, utcnow
from service.store.comments import get_comment_or_none
from service.store.revisions import revise_comment
from tests.support.api import Api
from tests.support.databases import BACKENDS
from tests.support.metrics import sample

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)


def post(api: Api, count: int) -> list[str]:
    ids = []
    for n in range(count):
        response = api.post_comment({"article_id": "a", "text": f"comment {n}"})
        assert response.status_code == 202
        ids.append(response.json()["id"])
    return ids


def test_queued_comments_count_every_comment_a_message_names(api: Api) -> None:
    post(api, 2)
    producer = TaskProducer(api.settings)
    try:
        assert producer.send(MODERATE_TASK, *(moderate_item(f"c-{n}", 1) for n in range(32)))
    finally:
        producer.close()

    text = api.client.get("/metrics").text
    assert sample(text, "moderation_queue_depth") == 3
    assert sample(text, "moderation_queued_comments") == 34


def test_overdue_comments_are_those_pending_past_the_grace_on_their_current_text(
    api: Api,
) -> None:
    # The fourth, posted just now, is pending but not overdue.
    old, edited_since, decided, _recent = post(api, 4)
    long_ago = utcnow() - timedelta(seconds=2 * api.settings.sweep_grace_seconds)
    db = Database(api.settings.database_url)
    try:
        with db.session() as session:
            aged = [old, edited_since, decided]
            session.execute(update(Comment).where(Comment.id.in_(aged)).values(created_at=long_ago))
            session.execute(update(Comment).where(Comment.id == decided).values(status="approved"))
            comment = get_comment_or_none(session, comment_id=edited_since)
            assert comment is not None
            revise_comment(
                session,
                comment=comment,
                text="edited just now",
                idempotency_key=None,
                body_hash="0" * 64,
                now=utcnow(),
            )
    finally:
        db.dispose()

    text = api.client.get("/metrics").text
    assert sample(text, "moderation_pending_comments") == 3
    assert sample(text, "moderation_pending_overdue_comments") == 1
