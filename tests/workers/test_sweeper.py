"""The sweeper re-sends what the broker lost, and only that: a backlog still queued is left
alone, whether its messages name one comment each or a batch, and so are comments in a live
worker's hands; comments backing off from earlier re-sends don't crowd out those due now. The
same for `suggestscore` feedback, in its own queue, except what is scored or has lost its text.

Real Redis (a private `redis-server`, so the `moderate` queue holds exactly what a test put
there) and both databases.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import redis
from sqlalchemy import select, update

from service.broker import backlog as backlog_module
from service.broker.contract import (
    FEEDBACK_QUEUE,
    MODERATE_QUEUE,
    MODERATE_TASK,
    SCORE_FEEDBACK_TASK,
    UNACKED_INDEX_KEY,
    moderate_item,
)
from service.broker.producer import TaskProducer
from service.db.engine import Database
from service.db.tables import Comment, PerspectiveFeedback, utcnow
from service.settings import Settings
from service.store.comments import create_comment
from service.store.perspective import (
    add_perspective_feedback,
    count_unscored_suggestions,
    create_perspective_key,
    erase_feedback_text_before,
    get_perspective_key_or_none,
)
from service.store.resend import list_comments_due_for_resend, list_feedback_due_for_resend
from tests.support.databases import BACKENDS
from tests.support.harness import PrivateRedis
from tests.support.queues import moderation_items
from workers.sweeper import sweep_all, sweep_feedback, sweep_pending

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

GRACE = 60.0


@pytest.fixture
def broker_url(private_redis: PrivateRedis) -> str:
    return private_redis.url


@pytest.fixture
def producer(database_url: str, broker_url: str, tmp_path: Path) -> Iterator[TaskProducer]:
    values = {"database_url": database_url, "redis_url": broker_url, "var_dir": tmp_path / "var"}
    made = TaskProducer(Settings(**values))  # type: ignore[arg-type]
    yield made
    made.close()


def seed(db: Database, count: int, *, sent_ago: float, sends: int = 1) -> list[str]:
    """`count` pending comments, each last sent `sent_ago` grace periods ago, `sends` times."""
    sent_at = utcnow() - timedelta(seconds=GRACE * sent_ago)
    ids = []
    with db.session() as session:
        for n in range(count):
            comment = create_comment(
                session,
                article_id="breaking-news",
                parent_id=None,
                author_id=f"reader-{n}",
                author_name=None,
                text=f"Comment {n}",
                idempotency_key=None,
                body_hash=None,
                # Apart by a millisecond each, so "oldest first" has one answer.
                now=sent_at + timedelta(milliseconds=n),
            )
            ids.append(comment.id)
        session.execute(update(Comment).where(Comment.id.in_(ids)).values(enqueue_count=sends))
    return ids


def queue(producer: TaskProducer, comment_ids: list[str]) -> None:
    for comment_id in comment_ids:
        assert producer.send(MODERATE_TASK, comment_id)


def queue_batches(producer: TaskProducer, comment_ids: list[str], *, size: int = 32) -> None:
    """One message per `size` comments at revision 1, as a batch POST sends them."""
    for start in range(0, len(comment_ids), size):
        items = [moderate_item(cid, 1) for cid in comment_ids[start : start + size]]
        assert producer.send(MODERATE_TASK, *items)


def queued_items(broker_url: str) -> list[str]:
    broker = redis.Redis.from_url(broker_url)
    return moderation_items(json.loads(raw) for raw in broker.lrange(MODERATE_QUEUE, 0, -1))


@contextmanager
def worker_holding(producer: TaskProducer, messages: int) -> Iterator[redis.Redis]:
    """A consumer that took `messages` from the moderate queue and holds them unacknowledged, as
    a worker does while it scores them (kombu's Redis transport itself keeps the record); the
    messages go back to the queue when it disconnects."""
    with producer.app.connection_for_read() as connection:
        channel = connection.channel()
        for _ in range(messages):
            assert channel.basic_get(MODERATE_QUEUE, no_ack=False) is not None
        yield redis.Redis.from_url(producer.app.conf.broker_url)
        channel.close()


def queue_length(broker_url: str) -> int:
    return int(redis.Redis.from_url(broker_url).llen(MODERATE_QUEUE))


def sends_of(db: Database) -> dict[str, tuple[int, datetime | None]]:
    with db.session() as session:
        rows = session.execute(select(Comment.id, Comment.enqueue_count, Comment.enqueued_at))
        return {row.id: (row.enqueue_count, row.enqueued_at) for row in rows}


def test_a_backlog_still_in_the_queue_is_not_sent_again(
    db: Database, producer: TaskProducer, broker_url: str
) -> None:
    """A spike slower to drain than the grace period: every comment is past it, every
    message still waits its turn."""
    backlog = seed(db, 30, sent_ago=5)
    queue(producer, backlog)
    before = sends_of(db)

    assert sweep_pending(db, producer, grace_seconds=GRACE) == 0
    assert queue_length(broker_url) == 30
    assert sends_of(db) == before


def test_a_queue_redis_lost_is_sent_again_once(
    db: Database, producer: TaskProducer, broker_url: str
) -> None:
    ids = seed(db, 30, sent_ago=5)
    with db.session() as session:
        session.execute(update(Comment).where(Comment.id == ids[0]).values(revision=3))

    assert sweep_pending(db, producer, grace_seconds=GRACE) == 30
    assert queue_length(broker_url) == 30
    # Each names the comment at the revision pending now.
    broker = redis.Redis.from_url(broker_url)
    sent = moderation_items(json.loads(raw) for raw in broker.lrange(MODERATE_QUEUE, 0, -1))
    assert sorted(sent) == sorted([f"{ids[0]}@3", *(f"{cid}@1" for cid in ids[1:])])
    assert {count for count, _ in sends_of(db).values()} == {2}
    # Sent again and queued now: the next sweeps leave them be, however old they are.
    assert sweep_pending(db, producer, grace_seconds=0) == 0
    assert queue_length(broker_url) == 30


def test_only_as_many_as_the_queue_is_missing_are_sent(
    db: Database, producer: TaskProducer, broker_url: str
) -> None:
    """Five messages lost (to a worker killed holding them, say) among a queued backlog: five
    re-sends, the oldest pending comments, not the thousand the batch allows."""
    lost = seed(db, 5, sent_ago=10)
    waiting = seed(db, 25, sent_ago=5)
    queue(producer, waiting)

    assert sweep_pending(db, producer, grace_seconds=GRACE) == 5
    assert queue_length(broker_url) == 30
    sends = sends_of(db)
    assert {comment_id for comment_id, (count, _) in sends.items() if count == 2} == set(lost)


def test_a_backlog_of_batches_older_than_the_grace_gets_no_copies(
    db: Database, producer: TaskProducer, broker_url: str
) -> None:
    """Three messages name 96 comments: compared with the pending count, they would have
    passed for 93 lost comments."""
    backlog = seed(db, 96, sent_ago=5)
    queue_batches(producer, backlog)
    before = sends_of(db)

    assert sweep_pending(db, producer, grace_seconds=GRACE) == 0
    assert queue_length(broker_url) == 3
    assert sends_of(db) == before


def test_comments_lost_among_queued_batches_are_exactly_those_sent_again(
    db: Database, producer: TaskProducer, broker_url: str
) -> None:
    older = seed(db, 40, sent_ago=6)
    lost = seed(db, 5, sent_ago=5)
    newer = seed(db, 40, sent_ago=4)
    queue_batches(producer, older)
    queue_batches(producer, newer)

    assert sweep_pending(db, producer, grace_seconds=GRACE) == 5
    # Every pending comment named once now.
    assert sorted(queued_items(broker_url)) == sorted(f"{cid}@1" for cid in older + lost + newer)
    sends = sends_of(db)
    assert {comment_id for comment_id, (count, _) in sends.items() if count == 2} == set(lost)
    assert sweep_pending(db, producer, grace_seconds=0) == 0


def test_a_message_for_a_revision_since_edited_does_not_stand_for_the_new_one(
    db: Database, producer: TaskProducer, broker_url: str
) -> None:
    """The worker drops a result for text the author has since replaced: a message naming
    revision 1 leaves revision 2 unscored."""
    [edited, unchanged] = seed(db, 2, sent_ago=5)
    queue_batches(producer, [edited, unchanged])
    with db.session() as session:
        session.execute(update(Comment).where(Comment.id == edited).values(revision=2))

    assert sweep_pending(db, producer, grace_seconds=GRACE) == 1
    assert queued_items(broker_url)[0] == f"{edited}@2"  # the newest message


def test_comments_a_worker_is_scoring_are_left_alone_until_it_has_held_them_past_the_grace(
    db: Database, producer: TaskProducer, broker_url: str
) -> None:
    batch = seed(db, 32, sent_ago=5)
    queue_batches(producer, batch)

    with worker_holding(producer, 1) as broker:
        assert queue_length(broker_url) == 0
        assert sweep_pending(db, producer, grace_seconds=GRACE) == 0
        # Still unacknowledged a grace period later: its worker was killed, and kombu would
        # restore the message only after its visibility timeout, an hour.
        [(tag, delivered)] = broker.zrange(UNACKED_INDEX_KEY, 0, -1, withscores=True)
        broker.zadd(UNACKED_INDEX_KEY, {tag: delivered - 2 * GRACE})
        assert sweep_pending(db, producer, grace_seconds=GRACE) == 32
        assert sorted(queued_items(broker_url)) == sorted(f"{cid}@1" for cid in batch)


def test_past_the_messages_read_only_as_many_as_the_queue_falls_short_are_sent(
    db: Database, producer: TaskProducer, broker_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A queue too long to read whole: the unread messages, the oldest, may name any pending
    comment, so what is missing is estimated from the comments the read ones name. Smaller
    bounds stand in for a queue of over 10,000 messages."""
    monkeypatch.setattr(backlog_module, "PAGE_MESSAGES", 1)
    monkeypatch.setattr(backlog_module, "MAX_MESSAGES", 2)
    lost = seed(db, 3, sent_ago=9)
    batches = seed(db, 32, sent_ago=5)
    queue_batches(producer, batches, size=8)

    # 35 pending, 4 messages of 8: 3 missing, and the oldest due that no read message names
    # are the 3 lost.
    assert sweep_pending(db, producer, grace_seconds=GRACE) == 3
    sends = sends_of(db)
    assert {comment_id for comment_id, (count, _) in sends.items() if count == 2} == set(lost)


def test_backoff_is_applied_before_the_batch_limit(
    db: Database, producer: TaskProducer, broker_url: str
) -> None:
    """Older comments still backing off from earlier re-sends fill the first rows: they must
    not take the batch from those due now."""
    backing_off = seed(db, 10, sent_ago=5, sends=4)  # due again only after 8 grace periods
    due = seed(db, 3, sent_ago=2)

    assert sweep_pending(db, producer, grace_seconds=GRACE, limit=5) == 3
    sends = sends_of(db)
    assert {comment_id for comment_id, (count, _) in sends.items() if count == 2} == set(due)
    assert all(sends[comment_id][0] == 4 for comment_id in backing_off)
    assert queue_length(broker_url) == 3


# (sends so far, last sent this many grace periods ago, due for another)
BACKOFF = [
    (1, 0.9, False),
    (1, 1.1, True),
    (2, 1.9, False),
    (2, 2.1, True),
    (4, 7.9, False),
    (4, 8.1, True),
    (7, 63.0, False),
    (7, 65.0, True),
    (12, 63.0, False),
    (12, 65.0, True),
]


def test_each_re_send_doubles_the_wait_up_to_64_grace_periods(db: Database) -> None:
    expected = {}
    for sends, sent_ago, is_due in BACKOFF:
        [comment_id] = seed(db, 1, sent_ago=sent_ago, sends=sends)
        expected[comment_id] = is_due
    with db.session() as session:
        due = list_comments_due_for_resend(session, now=utcnow(), grace_seconds=GRACE, limit=100)
    assert {(comment_id, revision) for comment_id, revision, _sent in due} == {
        (comment_id, 1) for comment_id, is_due in expected.items() if is_due
    }


# Feedback: each `suggestscore` stores a row per attribute and sends one task naming them all.


def suggest(
    db: Database, attributes: int, *, sent_ago: float, sends: int = 1, key: str = "coral"
) -> list[int]:
    """One suggestion's rows (`attributes` of them, one text), sent `sends` times, the last
    `sent_ago` grace periods ago."""
    at = utcnow() - timedelta(seconds=GRACE * sent_ago)
    with db.session() as session:
        if get_perspective_key_or_none(session, name=key) is None:
            create_perspective_key(session, name=key, key_hash=key.ljust(64, "0"), qps=10, now=at)
        rows = [
            add_perspective_feedback(
                session,
                key_name=key,
                attribute=f"ATTRIBUTE_{n}",
                value=1.0,
                text="You are a clown.",
                community_id=None,
                client_token=None,
                now=at,
            )
            for n in range(attributes)
        ]
        ids = [row.id for row in rows]
        session.execute(
            update(PerspectiveFeedback)
            .where(PerspectiveFeedback.id.in_(ids))
            .values(enqueue_count=sends)
        )
    return ids


def feedback_tasks(broker_url: str) -> list[list[int]]:
    """The row ids each `score_feedback` message in the feedback queue names, oldest first."""
    broker = redis.Redis.from_url(broker_url)
    found = []
    for raw in reversed(broker.lrange(FEEDBACK_QUEUE, 0, -1)):
        message = json.loads(raw)
        assert message["headers"]["task"] == SCORE_FEEDBACK_TASK
        args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        found.append(args[0])
    return found


def feedback_sends(db: Database) -> dict[int, int]:
    with db.session() as session:
        rows = session.execute(select(PerspectiveFeedback.id, PerspectiveFeedback.enqueue_count))
        return {row.id: row.enqueue_count for row in rows}


def test_feedback_whose_task_was_lost_is_sent_again_once_per_suggestion(
    db: Database, producer: TaskProducer, broker_url: str
) -> None:
    first = suggest(db, 3, sent_ago=5)
    second = suggest(db, 1, sent_ago=3)
    recent = suggest(db, 2, sent_ago=0.5)
    assert producer.send(SCORE_FEEDBACK_TASK, recent)

    assert sweep_feedback(db, producer, grace_seconds=GRACE) == 2
    # One task per suggestion, naming every row of it: its text is scored once.
    assert feedback_tasks(broker_url) == [recent, first, second]
    assert feedback_sends(db) == {**dict.fromkeys(first + second, 2), **dict.fromkeys(recent, 1)}
    # Comments' queue is left alone, and feedback never counts as a queued comment.
    assert queue_length(broker_url) == 0
    # Queued now: however old, nothing is sent again while the messages wait.
    assert sweep_feedback(db, producer, grace_seconds=0) == 0
    assert len(feedback_tasks(broker_url)) == 3


def test_a_feedback_backlog_still_in_its_queue_is_not_sent_again(
    db: Database, producer: TaskProducer, broker_url: str
) -> None:
    backlog = [suggest(db, 2, sent_ago=5) for _ in range(4)]
    for ids in backlog:
        assert producer.send(SCORE_FEEDBACK_TASK, ids)
    lost = suggest(db, 2, sent_ago=9)

    # Four queued, five owed: one missing, the oldest send.
    assert sweep_feedback(db, producer, grace_seconds=GRACE) == 1
    assert feedback_tasks(broker_url) == [*backlog, lost]


def test_scored_feedback_and_feedback_retention_erased_are_owed_nothing(
    db: Database, producer: TaskProducer, broker_url: str
) -> None:
    scored = suggest(db, 2, sent_ago=5)
    suggest(db, 2, sent_ago=5)  # its text erased below, unscored
    with db.session() as session:
        session.execute(
            update(PerspectiveFeedback)
            .where(PerspectiveFeedback.id.in_(scored))
            .values(scores={"toxicity": 0.9})
        )
        erase_feedback_text_before(session, before=utcnow(), limit=100)
        assert count_unscored_suggestions(session) == 0
    assert sweep_feedback(db, producer, grace_seconds=GRACE) == 0
    assert feedback_tasks(broker_url) == []
    assert set(feedback_sends(db).values()) == {1}


def test_feedback_backs_off_as_comments_do(db: Database) -> None:
    expected = []
    for n, (sends, sent_ago, is_due) in enumerate(BACKOFF):
        # A key each: suggestions sent at the same time by one key are one to the sweeper.
        ids = suggest(db, 2, sent_ago=sent_ago, sends=sends, key=f"coral-{n}")
        if is_due:
            expected.append(ids)
    with db.session() as session:
        due = list_feedback_due_for_resend(session, now=utcnow(), grace_seconds=GRACE, limit=100)
    assert sorted(due) == sorted(expected)


def test_one_sweep_covers_comments_and_feedback_each_in_its_own_queue(
    db: Database, producer: TaskProducer, broker_url: str
) -> None:
    [comment_id] = seed(db, 1, sent_ago=5)
    feedback = suggest(db, 2, sent_ago=5)

    assert sweep_all(db, producer, grace_seconds=GRACE) == 2
    broker = redis.Redis.from_url(broker_url)
    sent = moderation_items(json.loads(raw) for raw in broker.lrange(MODERATE_QUEUE, 0, -1))
    assert sent == [f"{comment_id}@1"]
    assert feedback_tasks(broker_url) == [feedback]
