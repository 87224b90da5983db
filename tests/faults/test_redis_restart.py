"""Redis stopped and restarted while comments arrive.

The API keeps answering 202 (the comment is durable before it is queued), the worker and beat
reconnect by themselves, and nothing is lost, though Redis comes back empty: the messages
queued in it are gone and the sweeper must send them again.
"""

from __future__ import annotations

import os
import signal
import time

import redis

from service.queue import MODERATE_QUEUE
from tests.faults.conftest import FaultStack

BEFORE, DURING, AFTER = 10, 15, 10
STALL_SECONDS = 2


def test_redis_restart_loses_queued_messages_and_nothing_else(make_fault_stack) -> None:  # type: ignore[no-untyped-def]
    stack: FaultStack = make_fault_stack()
    assert stack.redis is not None
    worker = stack.start_connected().worker
    broker = redis.Redis.from_url(stack.redis.url, socket_connect_timeout=1)
    answered: list[str] = []

    with stack.client() as client:

        def post(n: int) -> None:
            response = client.post(
                "/v1/comments",
                json={"article_id": "election-night", "text": f"Comment number {n} on the count."},
                headers=stack.auth(f"reader-{n}"),
            )
            assert response.status_code == 202, (n, response.text)
            answered.append(response.json()["id"])

        # The worker is paused so that these wait in Redis, to be lost with it (its pending
        # BRPOP may still take one, which is lost all the same).
        os.killpg(worker.pid, signal.SIGSTOP)
        try:
            for n in range(BEFORE):
                post(n)
            assert broker.llen(MODERATE_QUEUE) >= BEFORE - 1
            stack.redis.stop()
        finally:
            os.killpg(worker.pid, signal.SIGCONT)

        outage_began = time.monotonic()
        for n in range(BEFORE, BEFORE + DURING):
            post(n)
        # Each send fails at once and is left to the sweeper: no request waits on Redis
        # (kombu's connection retries used to hold every POST for 2 s).
        assert time.monotonic() - outage_began < DURING * STALL_SECONDS / 2
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["status"] == "degraded"
        assert ready.json()["checks"]["redis"]["status"] == "down"

        stack.redis.start()
        assert broker.llen(MODERATE_QUEUE) == 0, "this Redis kept its queue: nothing to recover"
        for n in range(BEFORE + DURING, BEFORE + DURING + AFTER):
            post(n)
            time.sleep(0.05)

    stack.assert_nothing_lost(answered, timeout=120)
    assert worker.poll() is None, stack.log("worker")[-3000:]
    assert "sweeper.resent" in stack.log("worker")
