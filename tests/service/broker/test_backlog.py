"""The comments the queued `moderate` messages name, read from the messages themselves: one
message names a comment or a whole batch, so counting messages would not do.

Real Redis (a private `redis-server`) and kombu's real filesystem transport; the messages are
those TaskProducer sends.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from service.broker import backlog
from service.broker.contract import (
    DELIVER_WEBHOOK_TASK,
    LEGACY_MODERATE_QUEUE,
    LEGACY_MODERATE_TASK,
    MODERATE_QUEUE,
    MODERATE_TASK,
    moderate_item,
)
from service.broker.producer import BacklogUnreadable, TaskProducer
from service.settings import Settings
from tests.support.harness import PrivateRedis


def make_producer(tmp_path: Path, **broker: str) -> TaskProducer:
    values = {"database_url": f"sqlite:///{tmp_path / 'unused.db'}", "var_dir": tmp_path / "var"}
    return TaskProducer(Settings(**values, **broker))  # type: ignore[arg-type]


@pytest.fixture
def producer(private_redis: PrivateRedis, tmp_path: Path) -> Iterator[TaskProducer]:
    made = make_producer(tmp_path, redis_url=private_redis.url)
    yield made
    made.close()


@pytest.fixture
def client(private_redis: PrivateRedis) -> redis.Redis:
    return redis.Redis.from_url(private_redis.url)


def send_batches(producer: TaskProducer, sizes: list[int]) -> list[str]:
    """A message per size, naming that many comments; every item sent, in order."""
    sent = []
    for number, size in enumerate(sizes):
        items = [moderate_item(f"comment-{number}-{n}", 1) for n in range(size)]
        assert producer.send(MODERATE_TASK, *items)
        sent.extend(items)
    return sent


def test_batches_count_as_the_comments_they_name(
    producer: TaskProducer, client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pages smaller than the queue, so that reading takes several.
    monkeypatch.setattr(backlog, "PAGE_MESSAGES", 2)
    sent = send_batches(producer, [32, 1, 7, 32, 3])
    # What isn't a moderate task, or can't be read, names no comment.
    client.lpush(MODERATE_QUEUE, b"not json", json.dumps({"headers": {"task": "other"}}))

    queued = backlog.read_queued_comments(client)
    assert (queued.comments, queued.messages, queued.complete) == (75, 7, True)
    assert queued.items == frozenset(sent)


def test_the_previous_releases_queue_and_task_name_count_too(
    producer: TaskProducer, client: redis.Redis
) -> None:
    """During an upgrade an API of the previous release still sends `moderate` to `moderate`:
    the sweeper must not re-send what waits there, and autoscaling must count it."""
    new = send_batches(producer, [2])
    old = [moderate_item("legacy-1", 1), moderate_item("legacy-2", 1)]
    producer.app.send_task(
        LEGACY_MODERATE_TASK,
        args=old,
        queue=LEGACY_MODERATE_QUEUE,
        routing_key=LEGACY_MODERATE_QUEUE,
        exchange="",
    )
    assert client.llen(LEGACY_MODERATE_QUEUE) == 1

    queued = backlog.read_queued_comments(client)
    assert (queued.comments, queued.messages, queued.complete) == (4, 2, True)
    assert queued.items == frozenset([*new, *old])
    assert backlog.moderate_queue_length(client) == 2


def test_an_empty_queue_names_nothing(client: redis.Redis) -> None:
    queued = backlog.read_queued_comments(client)
    assert (queued.comments, queued.messages, queued.items) == (0, 0, frozenset())


def test_past_the_messages_read_the_count_is_estimated(
    producer: TaskProducer, client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Smaller bounds stand in for a queue of over MAX_MESSAGES (10,000) messages."""
    monkeypatch.setattr(backlog, "PAGE_MESSAGES", 2)
    monkeypatch.setattr(backlog, "MAX_MESSAGES", 4)
    send_batches(producer, [1, 1, 8, 8, 8, 8])

    queued = backlog.read_queued_comments(client)
    # The newest four read, 32 comments: six messages are estimated to name 48.
    assert (queued.read, queued.messages, queued.complete) == (4, 6, False)
    assert queued.comments == 48
    assert len(queued.items) == 32


def test_a_consumer_holding_a_message_holds_its_comments(
    producer: TaskProducer, client: redis.Redis
) -> None:
    sent = send_batches(producer, [5])
    with producer.app.connection_for_read() as connection:
        channel = connection.channel()
        assert channel.basic_get(MODERATE_QUEUE, no_ack=False) is not None
        taken = producer.moderate_backlog(held_since=0)
        assert taken.queued.comments == 0
        assert taken.held == frozenset(sent)
        assert taken.names("comment-0-0", 1)
        assert not taken.names("comment-0-0", 2)
        [(_tag, delivered)] = client.zrange(backlog.UNACKED_INDEX_KEY, 0, -1, withscores=True)
        assert producer.moderate_backlog(held_since=delivered + 1).held == frozenset()
        channel.close()


def test_the_filesystem_broker_is_read_from_its_files(tmp_path: Path) -> None:
    """`make run` without Redis: kombu's filesystem transport, a file per message."""
    producer = make_producer(tmp_path, broker_url="filesystem://")
    try:
        sent = send_batches(producer, [3, 32])
        assert producer.send(DELIVER_WEBHOOK_TASK, "event-1")
        found = producer.moderate_backlog(held_since=0)
    finally:
        producer.close()
    assert (found.queued.comments, found.queued.messages, found.queued.complete) == (35, 2, True)
    assert found.queued.items == frozenset(sent)
    assert found.held == frozenset()


def test_a_transport_that_hides_its_queue_says_so(tmp_path: Path) -> None:
    """kombu's in-memory transport: no Redis client is made for it, and the sweeper is told
    the backlog can't be read (it then re-sends whatever is overdue)."""
    producer = make_producer(tmp_path, redis_url="", broker_url="memory://")
    try:
        assert producer.send(MODERATE_TASK, moderate_item("c-1", 1))
        with pytest.raises(BacklogUnreadable, match="memory"):
            producer.moderate_backlog(held_since=0)
    finally:
        producer.close()
