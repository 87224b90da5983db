"""The `decided` hints: a batch's all in one message, and never an error for the worker."""

from __future__ import annotations

import asyncio
import socket
import time

import redis
from structlog.testing import capture_logs

from service.broker.contract import DECIDED_CHANNEL
from service.broker.notify import DecisionListener, publish_decided
from tests.support.aio import run as run_async

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
        while not received and time.monotonic() < deadline:
            message = pubsub.get_message(timeout=0.5)
            if message is not None:
                received.append(message["data"])
    assert received == [b"c-1 c-2 c-3"]
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


def test_the_listener_wakes_every_comment_of_a_batch(redis_server: str) -> None:
    """An API waiting on two comments of one batch's message is woken for both at once,
    not after a poll interval; a comment nobody waits on is ignored."""
    url = f"{redis_server}/{NOTIFY_REDIS_DB}"

    async def scenario() -> tuple[bool, bool]:
        listener = DecisionListener(url)
        listener.start()
        try:
            deadline = time.monotonic() + 5
            while not listener.connected and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            with listener.watch("c-1") as first, listener.watch("c-3") as third:
                client = redis.Redis.from_url(url)
                publish_decided(client, "c-1", "c-2", "c-3")
                client.close()
                await asyncio.wait_for(asyncio.gather(first.wait(), third.wait()), timeout=2)
                return first.is_set(), third.is_set()
        finally:
            await listener.stop()

    assert run_async(scenario()) == (True, True)
