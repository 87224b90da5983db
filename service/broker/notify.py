"""'A comment was decided' over Redis pub/sub, so `Prefer: wait` answers at once.

A message is only a hint to look again: the database is the truth, so a lost message
(or Redis being down) costs a poll interval, never a wrong answer.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Iterator

import redis
import redis.asyncio as aioredis
import structlog

from service.broker.contract import DECIDED_CHANNEL

log = structlog.get_logger(__name__)

RECONNECT_SECONDS = 1.0
STOP_SECONDS = 2.0


def publish_decided(client: redis.Redis | None, *comment_ids: str) -> None:
    """One message for a batch, its ids separated by spaces (ids have none); never raises.
    A message per comment cost the worker and every listening API a message's handling each."""
    if client is None or not comment_ids:
        return
    try:
        client.publish(DECIDED_CHANNEL, " ".join(comment_ids))
    except redis.RedisError as exc:
        log.warning(
            "notify.publish_failed", comment_ids=list(comment_ids), error=type(exc).__name__
        )


class DecisionListener:
    """One subscription per API process, fanned out to the requests that wait."""

    def __init__(self, redis_url: str | None) -> None:
        self._redis_url = redis_url
        self._waiters: dict[str, set[asyncio.Event]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.connected = False

    def start(self) -> None:
        if self._redis_url and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            # redis-py can swallow a cancellation inside listen(); the flag ends the loop
            # regardless, and shutdown never waits on Redis for long.
            self._stopping = True
            self._task.cancel()
            await asyncio.wait({self._task}, timeout=STOP_SECONDS)
            self._task = None

    @contextlib.contextmanager
    def watch(self, comment_id: str) -> Iterator[asyncio.Event]:
        event = asyncio.Event()
        self._waiters[comment_id].add(event)
        try:
            yield event
        finally:
            waiters = self._waiters.get(comment_id)
            if waiters is not None:
                waiters.discard(event)
                if not waiters:
                    del self._waiters[comment_id]

    async def _run(self) -> None:
        assert self._redis_url is not None
        while not self._stopping:
            try:
                client = aioredis.Redis.from_url(
                    self._redis_url, socket_connect_timeout=2, health_check_interval=10
                )
                async with client, client.pubsub() as pubsub:
                    await pubsub.subscribe(DECIDED_CHANNEL)
                    self.connected = True
                    async for message in pubsub.listen():
                        if self._stopping:
                            return
                        if message.get("type") == "message":
                            for comment_id in message["data"].decode().split():
                                self._wake(comment_id)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self.connected:
                    log.warning("notify.listener_lost", error=type(exc).__name__)
            self.connected = False
            self._wake_all()
            await asyncio.sleep(RECONNECT_SECONDS)

    def _wake(self, comment_id: str) -> None:
        for event in self._waiters.get(comment_id, ()):
            event.set()

    def _wake_all(self) -> None:
        for events in self._waiters.values():
            for event in events:
                event.set()
