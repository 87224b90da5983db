"""Redis stopped and restarted while comments arrive.

A real `moderation api` process answers every POST 202 throughout (the comment is durable
before it is queued), over one keep-alive connection, so its queue connection lives across
the outage as in production; the worker and beat reconnect by themselves, and nothing is
lost, though Redis comes back empty: the messages queued in it are gone and the sweeper must
send them again.
"""

from __future__ import annotations

import os
import signal
import time

import httpx
import pytest
import redis

from service.broker.contract import MODERATE_QUEUE
from tests.support.fault_stack import STARTUP_SECONDS, TEARDOWN_SECONDS, FaultStack
from tests.support.harness import START_SECONDS

BEFORE, DURING, AFTER = 10, 15, 10
STALL_SECONDS = 2
POSTING_SECONDS = 30
DECIDED_SECONDS = 120


@pytest.mark.timeout(
    STARTUP_SECONDS + POSTING_SECONDS + 2 * START_SECONDS + DECIDED_SECONDS + TEARDOWN_SECONDS
)
def test_redis_restart_loses_queued_messages_and_nothing_else(make_fault_stack) -> None:  # type: ignore[no-untyped-def]
    stack: FaultStack = make_fault_stack()
    assert stack.redis is not None
    started = stack.start_connected(api=True)
    worker = started.worker
    broker = redis.Redis.from_url(stack.redis.url, socket_connect_timeout=1, socket_timeout=5)
    answered: list[str] = []

    with httpx.Client(base_url=started.base_url, timeout=15) as client:

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
        assert client.get("/readyz").json()["checks"]["redis"]["status"] == "ok"

    stack.assert_nothing_lost(answered, timeout=DECIDED_SECONDS)
    assert worker.poll() is None, stack.log("worker")[-3000:]
    assert started.api is not None and started.api.poll() is None, stack.log("api")[-3000:]
    assert "sweeper.resent" in stack.log("worker")
    # Only the sends made while Redis was down failed: the API's queue connection, dead
    # since the restart, was made again for the first send after it.
    failed_sends = stack.log("api").count('"event": "task.send_failed"')
    assert failed_sends == DURING, stack.log("api")[-3000:]
