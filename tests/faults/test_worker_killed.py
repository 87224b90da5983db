"""A worker SIGKILLed while it scores a comment: the comment is still decided, and once.

Scoring is made slow (a wider model, fp32, 512 tokens: over half a second of CPU per
comment), and the kill is aimed by the pool child's own CPU clock: once a child has spent a
fraction of a second on the one comment in flight, it is inside the model. Each test then
checks that this comment had no decision at the kill.

Comments are posted to a real `moderation api` process, as a news site would; it runs apart
from the workers, so its CPU never counts towards a child's.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import psutil
import pytest
import redis

from service.broker.contract import MAINTENANCE_QUEUE, MODERATE_QUEUE
from service.comments.accept import comment_status
from service.db.engine import Database
from service.db.tables import Comment
from tests.support.fault_stack import (
    SLOW_TEXT,
    STARTUP_SECONDS,
    TEARDOWN_SECONDS,
    WORKER_START_SECONDS,
    FaultStack,
)
from tests.support.queues import held_moderations

# Tokenizing and loading a comment cost a child a few milliseconds of CPU; scoring it, more
# than half a second (tests/support/fault_stack.py: SLOW_SHAPE). Past this much, the child is
# scoring.
SCORING_CPU_SECONDS = 0.15
AIM_SECONDS = 60
AFTER_THE_KILL = 3
QUIET_SECONDS = 0.3
QUIET_CPU_SECONDS = 0.01
GONE_SECONDS = 10
POSTING_SECONDS = 30
DECIDED_SECONDS = 150
# The waits after start-up: quiet children, the aim, the kill, the posts, the invariant.
AFTER_STARTUP_SECONDS = 2 * AIM_SECONDS + GONE_SECONDS + POSTING_SECONDS + DECIDED_SECONDS


def post_comments(stack: FaultStack, client: httpx.Client, first: int, count: int) -> list[str]:
    ids = []
    for n in range(first, first + count):
        response = client.post(
            "/v1/comments",
            json={"article_id": "live-blog", "text": f"{n} {SLOW_TEXT}"[:250]},
            headers=stack.auth(f"reader-{n}"),
        )
        assert response.status_code == 202, response.text
        ids.append(response.json()["id"])
    return ids


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


@contextmanager
def beat_paused(
    stack: FaultStack, beat: subprocess.Popen[bytes], children: list[psutil.Process]
) -> Iterator[None]:
    """Beat stopped and the maintenance tasks it queued while the model loaded all run: from
    here on, CPU a child spends is spent on the comment posted next."""
    os.killpg(beat.pid, signal.SIGSTOP)
    try:
        broker = broker_client(stack)
        deadline = time.monotonic() + AIM_SECONDS
        before = sum(cpu_seconds(child) for child in children)
        while True:
            time.sleep(QUIET_SECONDS)
            now = sum(cpu_seconds(child) for child in children)
            if now - before < QUIET_CPU_SECONDS and broker.llen(MAINTENANCE_QUEUE) == 0:
                break
            assert time.monotonic() < deadline, "the worker children never went quiet"
            before = now
        yield
    finally:
        os.killpg(beat.pid, signal.SIGCONT)


def scoring_child(children: list[psutil.Process], idle: list[float]) -> psutil.Process:
    """The child that has taken the comment in flight, once it is well into scoring it."""
    deadline = time.monotonic() + AIM_SECONDS
    while time.monotonic() < deadline:
        for child, before in zip(children, idle, strict=True):
            if cpu_seconds(child) - before >= SCORING_CPU_SECONDS:
                return child
        time.sleep(0.01)
    raise AssertionError("no worker child started scoring")


def wait_gone(process: psutil.Process) -> None:
    """Killed: reaped, or a zombie nobody reaps (its parent was killed too)."""
    deadline = time.monotonic() + GONE_SECONDS
    while time.monotonic() < deadline:
        try:
            if process.status() == psutil.STATUS_ZOMBIE:
                return
        except psutil.NoSuchProcess:
            return
        time.sleep(0.05)
    raise AssertionError(f"process {process.pid} outlived SIGKILL")


def wait_drained(broker: redis.Redis) -> None:
    """Until no moderate task waits in the queue or in a consumer's hands."""
    deadline = time.monotonic() + AIM_SECONDS
    while broker.llen(MODERATE_QUEUE) or held_moderations(broker):
        assert time.monotonic() < deadline, "the moderate queue never drained"
        time.sleep(0.1)


def assert_undecided(stack: FaultStack, comment_id: str) -> None:
    database = Database(stack.direct_database_url)
    try:
        status = comment_status(database, comment_id=comment_id)
    finally:
        database.dispose()
    assert status == "pending", f"the kill landed after the decision ({status})"


# The parent's log of its lost child waits up to one more worker start-up, and the queue's
# draining up to one more aim.
@pytest.mark.timeout(
    STARTUP_SECONDS + AFTER_STARTUP_SECONDS + WORKER_START_SECONDS + AIM_SECONDS + TEARDOWN_SECONDS
)
def test_pool_child_killed_while_scoring(make_fault_stack) -> None:  # type: ignore[no-untyped-def]
    stack: FaultStack = make_fault_stack(slow_scoring=True)
    beat = stack.start("beat", name="beat")
    worker = stack.start_worker_process(concurrency=2)
    _api, base_url = stack.start_api()
    children = [psutil.Process(pid) for pid in stack.loaded_children(worker, count=2)]
    with httpx.Client(base_url=base_url, timeout=15) as client:
        with beat_paused(stack, beat, children):
            idle = [cpu_seconds(child) for child in children]
            [in_flight] = post_comments(stack, client, 0, 1)
            victim = scoring_child(children, idle)
            os.kill(victim.pid, signal.SIGKILL)
        wait_gone(victim)
        assert_undecided(stack, in_flight)
        # The parent acknowledges the message (a killed batch is not put back for another
        # child to die on), counts a kill against the comment, and the sweeper re-sends it
        # alone (workers/killed.py).
        later = post_comments(stack, client, 1, AFTER_THE_KILL)
    stack.wait_for_log(worker, "worker", f"pid:{victim.pid} exited with 'signal 9 (SIGKILL)'")
    wait_drained(broker_client(stack))

    stack.assert_nothing_lost([in_flight, *later], timeout=DECIDED_SECONDS)
    assert worker.poll() is None, "the worker parent died with its child"
    # The parent noticed the lost child and counted a kill, unless the sweeper's re-send was
    # decided first (the parent can take seconds to notice under load): never two.
    assert '"cause": "WorkerLostError"' in stack.log("worker")
    assert kill_count(stack, in_flight) <= 1


@pytest.mark.timeout(STARTUP_SECONDS + AFTER_STARTUP_SECONDS + TEARDOWN_SECONDS)
def test_whole_worker_killed_while_scoring(make_fault_stack) -> None:  # type: ignore[no-untyped-def]
    """Two workers, as on two hosts; the one scoring the comment dies with its children."""
    stack: FaultStack = make_fault_stack(slow_scoring=True)
    beat = stack.start("beat", name="beat")
    workers = [
        stack.start("worker", "--concurrency", "1", name=name) for name in ("worker", "worker-b")
    ]
    _api, base_url = stack.start_api()
    # Started side by side: one start-up allowance for both.
    loading = time.monotonic() + WORKER_START_SECONDS
    children = [psutil.Process(stack.loaded_children(w, deadline=loading)[0]) for w in workers]
    with httpx.Client(base_url=base_url, timeout=15) as client:
        with beat_paused(stack, beat, children):
            idle = [cpu_seconds(child) for child in children]
            [in_flight] = post_comments(stack, client, 0, 1)
            victim = scoring_child(children, idle)
            doomed = workers[children.index(victim)]
            stack.stop(doomed, signal.SIGKILL)  # its process group: the parent and its child
        wait_gone(victim)
        assert_undecided(stack, in_flight)
        # The message it held stays unacknowledged in Redis until its visibility timeout (an
        # hour): within the test, only the sweeper's re-send can bring the comment back.
        assert held_moderations(broker_client(stack)).count(in_flight) == 1
        later = post_comments(stack, client, 1, AFTER_THE_KILL)

    stack.assert_nothing_lost([in_flight, *later], timeout=DECIDED_SECONDS)
    assert "sweeper.resent" in stack.log("worker") + stack.log("worker-b")


def kill_count(stack: FaultStack, comment_id: str) -> int:
    database = Database(stack.direct_database_url)
    try:
        with database.session() as session:
            comment = session.get(Comment, comment_id)
            assert comment is not None
            return comment.kill_count
    finally:
        database.dispose()


def broker_client(stack: FaultStack) -> redis.Redis:
    return redis.Redis.from_url(
        stack.settings.redis_url or "", socket_connect_timeout=1, socket_timeout=5
    )
