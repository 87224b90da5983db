"""Redis stopped and restarted while Perspective clients send `suggestscore` feedback.

A real `moderation api` answers every call 200 throughout (the rows are stored before their
scoring task is sent); the tasks queued when Redis went, and those whose send failed while it
was gone, are sent again by the sweeper in `beat`, and every row ends up scored. The worker
names only `moderate` and `maintenance`: it takes the `feedback` queue because it takes
`moderate`.
"""

from __future__ import annotations

import os
import signal
import time

import httpx
import pytest
import redis
from sqlalchemy import func, select

from service.broker.contract import FEEDBACK_QUEUE
from service.db.engine import Database
from service.db.tables import PerspectiveFeedback, utcnow
from service.perspective.keys import create_key
from tests.support.fault_stack import (
    STARTUP_SECONDS,
    TEARDOWN_SECONDS,
    WORKER_START_SECONDS,
    FaultStack,
)
from tests.support.harness import START_SECONDS

BEFORE, DURING, AFTER = 4, 4, 4
ATTRIBUTES = ("TOXICITY", "INSULT")
ROWS = (BEFORE + DURING + AFTER) * len(ATTRIBUTES)
POSTING_SECONDS = 30
SCORED_SECONDS = 120


def scored_and_stored(db: Database) -> tuple[int, int]:
    with db.session() as session:
        stored = session.scalar(select(func.count()).select_from(PerspectiveFeedback)) or 0
        scored = (
            session.scalar(
                select(func.count())
                .select_from(PerspectiveFeedback)
                .where(PerspectiveFeedback.scores.is_not(None))
            )
            or 0
        )
    return scored, stored


@pytest.mark.timeout(
    STARTUP_SECONDS + POSTING_SECONDS + 2 * START_SECONDS + SCORED_SECONDS + TEARDOWN_SECONDS
)
def test_redis_restart_during_suggestscore_leaves_every_row_scored(make_fault_stack) -> None:  # type: ignore[no-untyped-def]
    stack: FaultStack = make_fault_stack()
    assert stack.redis is not None
    db = Database(stack.direct_database_url)
    key = create_key(db, name="coral", qps=1000, now=utcnow())
    beat = stack.start("beat", name="beat")
    worker = stack.start(
        "worker", "--concurrency", "1", "--queues", "moderate,maintenance", name="worker"
    )
    _api, base_url = stack.start_api()
    deadline = time.monotonic() + WORKER_START_SECONDS
    stack.wait_for_log(beat, "beat", "beat: Starting", deadline=deadline)
    stack.wait_for_log(worker, "worker", " ready.", deadline=deadline)
    broker = redis.Redis.from_url(stack.redis.url, socket_connect_timeout=1, socket_timeout=5)

    with httpx.Client(base_url=base_url, timeout=15) as client:

        def suggest(n: int) -> None:
            body = {
                "comment": {"text": f"Feedback number {n}: you are a clown."},
                "attributeScores": {name: {"summaryScore": {"value": 1}} for name in ATTRIBUTES},
                "clientToken": f"comment:{n}",
            }
            response = client.post(
                "/v1alpha1/comments:suggestscore", params={"key": key}, json=body
            )
            assert response.status_code == 200, (n, response.text)

        # The worker is paused so that these wait in Redis, to be lost with it.
        os.killpg(worker.pid, signal.SIGSTOP)
        try:
            for n in range(BEFORE):
                suggest(n)
            assert broker.llen(FEEDBACK_QUEUE) >= BEFORE - 1
            stack.redis.stop()
        finally:
            os.killpg(worker.pid, signal.SIGCONT)

        for n in range(BEFORE, BEFORE + DURING):
            suggest(n)

        stack.redis.start()
        assert broker.llen(FEEDBACK_QUEUE) == 0, "this Redis kept its queue: nothing to recover"
        for n in range(BEFORE + DURING, BEFORE + DURING + AFTER):
            suggest(n)

    deadline = time.monotonic() + SCORED_SECONDS
    while scored_and_stored(db) != (ROWS, ROWS):
        if time.monotonic() > deadline:
            raise AssertionError(f"scored, stored: {scored_and_stored(db)}\n{stack.logs()}")
        time.sleep(0.5)
    db.dispose()
    assert worker.poll() is None, stack.log("worker")[-3000:]
    assert "sweeper.feedback_resent" in stack.log("worker")
    failed_sends = stack.log("api").count('"event": "task.send_failed"')
    assert failed_sends == DURING, stack.log("api")[-3000:]
