"""The `decided` hints: a batch's all in one round trip, and never an error for the worker."""

from __future__ import annotations

import socket
import time

import redis
from structlog.testing import capture_logs

from service.notify import DECIDED_CHANNEL, publish_decided

# Pub/sub ignores the database number; this one keeps the client off the default database.
NOTIFY_REDIS_DB = 9


def test_a_batch_of_hints_reaches_a_subscriber(redis_server: str) -> None:
    client = redis.Redis.from_url(f"{redis_server}/{NOTIFY_REDIS_DB}")
    with client.pubsub(ignore_subscribe_messages=True) as pubsub:
        pubsub.subscribe(DECIDED_CHANNEL)
        pubsub.get_message(timeout=1)  # the subscription's confirmation
        publish_decided(client, "c-1", "c-2", "c-3")
        received: list[bytes] = []
        deadline = time.monotonic() + 5
        while len(received) < 3 and time.monotonic() < deadline:
            message = pubsub.get_message(timeout=0.5)
            if message is not None:
                received.append(message["data"])
    assert received == [b"c-1", b"c-2", b"c-3"]
    client.close()


def test_redis_down_is_logged_not_raised() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        port = sock.getsockname()[1]
        client = redis.Redis(port=port, db=NOTIFY_REDIS_DB, socket_connect_timeout=1)
        with capture_logs() as logs:
            publish_decided(client, "c-1", "c-2")
    assert [(e["event"], e["comment_ids"]) for e in logs] == [
        ("notify.publish_failed", ["c-1", "c-2"])
    ]
