"""Operating the pipeline: worker metrics, heartbeats in /readyz, graceful shutdown."""

from __future__ import annotations

import os
import signal
from datetime import datetime
from pathlib import Path

import httpx
import psutil
import pytest
import redis
from sqlalchemy import select

from service.comments.accept import comment_status
from service.db.engine import Database
from service.db.tables import Decision, utcnow
from service.version import package_version
from tests.support.checkpoints import CLEAN, build_checkpoint
from tests.support.databases import BACKENDS
from tests.support.fault_stack import SLOW_MAX_TOKENS, SLOW_SHAPE, SLOW_TEXT
from tests.support.invariant import assert_nothing_lost
from tests.support.metrics import API_ONLY, families, label_sets, sample
from tests.support.net import free_port
from tests.support.queues import held_moderations, queued_moderations
from tests.support.stack import wait_for


@pytest.mark.parametrize("backend", BACKENDS)
def test_worker_metrics_move_and_readyz_sees_the_worker(make_stack, backend: str) -> None:  # type: ignore[no-untyped-def]
    stack = make_stack(backend)
    port = free_port()
    worker = stack.start("worker", "--concurrency", "2", "--metrics-port", str(port), name="worker")
    stack.wait_for_worker(worker)
    with stack.client() as client:
        for n in range(3):
            response = client.post(
                "/v1/comments",
                json={"article_id": "a", "text": f"Metrics please {n}."},
                headers={**stack.auth(), "Prefer": "wait=10"},
            )
            assert response.json()["status"] == "approved"
        ready = client.get("/readyz").json()
    assert ready["status"] == "ok", ready
    assert ready["checks"]["workers"]["alive"] >= 1
    wait_for(lambda: len(stack.receiver.requests) == 3, what="three webhooks")

    def scrape() -> str:
        return httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text

    text = wait_for(
        lambda: (t := scrape()) and 'outcome="delivered"' in t and t, what="delivery metrics"
    )
    assert sample(text, "moderation_decisions_total", 'action="approve",by="policy"') == 3
    assert sample(text, "moderation_scoring_seconds_count") == 3
    assert sample(text, "moderation_decision_latency_seconds_count") == 3
    assert sample(text, "moderation_webhook_deliveries_total", 'outcome="delivered"') == 3
    assert sample(text, "moderation_decisions_total", 'action="hold",by="policy"') == 0
    assert sample(text, "moderation_webhook_deliveries_total", 'outcome="failed"') == 0
    assert sample(text, "moderation_build_info", f'version="{package_version()}"') == 1
    assert not API_ONLY & families(text).keys(), API_ONLY & families(text).keys()
    memory = label_sets(text, "moderation_process_resident_memory_bytes")
    assert {labels["process"] for labels in memory} == {"worker"}
    # The children that score yield the CPU to the API (MODERATION_WORKER_NICENESS, 10).
    parent = psutil.Process(worker.pid)
    assert parent.nice() == os.nice(0)
    assert [child.nice() for child in parent.children()] == [os.nice(0) + 10] * 2
    # The parent's RSS and each child's, one series per process.
    pids = {parent.pid, *(child.pid for child in parent.children())}
    assert {int(labels["pid"]) for labels in memory} == pids


@pytest.mark.parametrize("backend", BACKENDS)
def test_sigterm_during_a_task_finishes_or_requeues_it(  # type: ignore[no-untyped-def]
    make_stack, checkpoints: Path, backend: str
) -> None:
    """SIGTERM to the worker's main process, as `docker stop` sends it, while its child
    scores a comment: that comment is decided after the signal or is back in the queue, and
    a new worker decides every comment once, with no sweeper (no beat) to cover a loss."""
    slow = build_checkpoint(checkpoints, "unbiased", bias=CLEAN, shape=SLOW_SHAPE)
    stack = make_stack(
        backend,
        webhook_url=None,
        webhook_secret=None,
        model=str(slow.checkpoint),
        model_config_dir=str(slow.config_dir),
        quantize="none",
        max_tokens=SLOW_MAX_TOKENS,
    )
    worker = stack.start_worker()
    # This worker's own child, ready: a moderate task it receives now runs at once.
    wait_for(lambda: "worker.model_loaded" in stack.log("worker"), what="the model loaded")
    broker = redis.Redis.from_url(stack.settings.redis_url or "")
    with stack.client() as client:
        ids = [
            client.post(
                "/v1/comments",
                json={"article_id": "a", "text": f"{n} {SLOW_TEXT}"[:250]},
                headers=stack.auth(f"reader-{n}"),
            ).json()["id"]
            for n in range(3)
        ]
    database = Database(stack.settings.effective_database_url)
    try:
        # Received (held unacknowledged by the worker) and not yet decided: scoring one takes
        # about a second, each look here milliseconds.
        [in_flight, *_] = wait_for(
            lambda: [
                i
                for i in held_moderations(broker)
                if i in ids and comment_status(database, comment_id=i) == "pending"
            ],
            what="a moderate task held and not yet done",
        )
        signalled = utcnow()
        os.kill(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)
        assert worker.returncode == 0, stack.log("worker")[-2000:]

        held = [i for i in held_moderations(broker) if i in ids]
        assert held == [], "messages left unacknowledged until their visibility timeout"
        decided_at = decision_times(database, ids)
        if in_flight in decided_at:
            assert decided_at[in_flight] > signalled, "the task ended before the signal"
        # Whatever was not decided is back in the queue, once each.
        queued = [i for i in queued_moderations(broker) if i in ids]
        assert sorted(queued) == sorted(set(ids) - set(decided_at))
    finally:
        database.dispose()

    stack.start_worker()
    assert_nothing_lost(
        stack.settings.effective_database_url,
        ids,
        webhooks=False,
        logs=lambda: stack.log("worker")[-3000:],
    )


def decision_times(database: Database, comment_ids: list[str]) -> dict[str, datetime]:
    with database.session() as session:
        rows = session.execute(
            select(Decision.comment_id, Decision.at).where(
                Decision.comment_id.in_(comment_ids), Decision.by == "policy"
            )
        )
        return {row.comment_id: row.at for row in rows}
